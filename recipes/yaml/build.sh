#!/bin/bash
set -ex

# The tag archive has no configure (upstream's ./bootstrap needs autoconf, automake and
# libtool) and its CMake build makes an unversioned libyaml.so. The library is eight C
# files: compiled here directly, named as the autotools build names it (libtool
# -release 0 -version-info 2:9:0: libyaml-0.so.2.0.9, soname libyaml-0.so.2), the names
# conda-forge's and Debian's packages have.
major=0 minor=2 patch=5
soname=libyaml-0.so.2
defines=(-DYAML_VERSION_MAJOR=${major} -DYAML_VERSION_MINOR=${minor} -DYAML_VERSION_PATCH=${patch}
         -DYAML_VERSION_STRING="\"${major}.${minor}.${patch}\"")

mkdir -p build
for src in src/*.c; do
  ${CC} ${CPPFLAGS} ${CFLAGS} -fPIC "${defines[@]}" -Iinclude -c "${src}" -o "build/$(basename "${src%.c}").o" &
done
wait
${CC} ${CFLAGS} ${LDFLAGS} -shared -Wl,-soname,${soname} -o build/${soname}.0.9 build/*.o

install -d "${PREFIX}/lib/pkgconfig" "${PREFIX}/include"
install -m 755 build/${soname}.0.9 "${PREFIX}/lib/"
ln -sf ${soname}.0.9 "${PREFIX}/lib/${soname}"
ln -sf ${soname}.0.9 "${PREFIX}/lib/libyaml.so"
install -m 644 include/yaml.h "${PREFIX}/include/"
sed -e "s|@prefix@|${PREFIX}|" -e 's|@exec_prefix@|${prefix}|' \
    -e 's|@includedir@|${prefix}/include|' -e 's|@libdir@|${exec_prefix}/lib|' \
    -e "s|@PACKAGE_VERSION@|${major}.${minor}.${patch}|" yaml-0.1.pc.in > "${PREFIX}/lib/pkgconfig/yaml-0.1.pc"
