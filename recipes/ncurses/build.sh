#!/bin/bash
# ncurses the conda-forge way: wide-character libraries (libncursesw, libtinfow ... with
# non-wide symlinks for the plain names), a separate libtinfo, the terminfo database,
# headers in $PREFIX/include with include/ncurses and include/ncursesw views of them.
set -ex

# --build/--host: always (binfmt_misc). When cross compiling, configure builds its helper
#   programs (make_hash, make_keys) with the build machine's cc and compiles the terminfo
#   database with the build machine's tic when there is one (else the new one, via qemu).
# --disable-stripping: install would run the build machine's strip on target binaries.
# --disable-pkg-ldflags: keep our LDFLAGS (rpath to the build prefix) out of the .pc files.
./configure \
  --prefix="${PREFIX}" \
  --build="${BUILD}" \
  --host="${HOST}" \
  --without-debug \
  --without-ada \
  --without-manpages \
  --without-tests \
  --with-shared \
  --with-termlib \
  --enable-widec \
  --enable-termcap \
  --enable-symlinks \
  --disable-overwrite \
  --disable-stripping \
  --enable-pc-files \
  --disable-pkg-ldflags \
  --with-pkg-config-libdir="${PREFIX}/lib/pkgconfig"
make -j"${CPU_COUNT}"
make install

# Plain (non-wide) names for the libraries and pkg-config files, as links to the wide ones.
cd "${PREFIX}/lib"
# (libncurses++w is static only, like conda-forge's: no libstdc++ needed at run time.)
for lib in ncurses ncurses++ form panel menu tinfo; do
  for file in "lib${lib}w.so" "lib${lib}w.a" "pkgconfig/${lib}w.pc"; do
    if [ -e "${file}" ]; then
      ln -sf "$(basename "${file}")" "${file/${lib}w./${lib}.}"
    fi
  done
done
# Headers: the real files in include/, include/ncursesw and include/ncurses link to them
# (the .pc files already give both -I.../include/ncursesw and -I.../include).
cd "${PREFIX}/include"
mkdir -p ncurses
for header in ncursesw/*.h; do
  header="$(basename "${header}")"
  mv "ncursesw/${header}" "${header}"
  ln -sf "../${header}" "ncursesw/${header}"
  ln -sf "../${header}" "ncurses/${header}"
done

# The wide pkg-config file must name libtinfow (readline and python link through it).
grep '^Libs:' "${PREFIX}/lib/pkgconfig/ncursesw.pc" | grep -q -- '-ltinfow'
