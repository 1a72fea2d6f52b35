#!/bin/bash
# bzip2 has no configure: drive its two Makefiles with the toolchain from the environment.
# The static library and the programs come from Makefile, the shared library from
# Makefile-libbz2_so (the objects are shared between the two, hence -fPIC for both).
set -ex

CFLAGS="${CFLAGS} -Wall -Winline -D_FILE_OFFSET_BITS=64 -fPIC"
vars=(CC="${CC}" AR="${AR}" RANLIB="${RANLIB}" CFLAGS="${CFLAGS}" LDFLAGS="${LDFLAGS}")

# `make` alone would also run the self-test (`make test`); install needs only these.
make -j"${CPU_COUNT}" "${vars[@]}" libbz2.a bzip2 bzip2recover
make "${vars[@]}" PREFIX="${PREFIX}" install

make -j"${CPU_COUNT}" -f Makefile-libbz2_so "${vars[@]}"
cp -P libbz2.so.1.0.[0-9]* libbz2.so.1.0 "${PREFIX}/lib/"
ln -sf "$(basename libbz2.so.1.0.[0-9]*)" "${PREFIX}/lib/libbz2.so"

# The Makefile links bzegrep/bzfgrep/bzless/bzcmp with absolute symlinks into the build
# prefix and puts manual pages in $PREFIX/man: make the links relative, use share/man.
cd "${PREFIX}/bin"
for link in bzegrep bzfgrep bzless bzcmp; do
  target="$(readlink "${link}")"
  ln -sf "$(basename "${target}")" "${link}"
done
cd "${PREFIX}"
if [ -d man ]; then
  mkdir -p share
  rm -rf share/man
  mv man share/man
fi
