#!/bin/bash
set -ex

# --build and --host always: with qemu in binfmt_misc, autoconf would otherwise run the
# aarch64 test programs, see them succeed and conclude it is not cross compiling.
./configure \
  --prefix="${PREFIX}" \
  --build="${BUILD}" \
  --host="${HOST}" \
  --disable-static \
  --disable-doc \
  --disable-nls
make -j"${CPU_COUNT}"
make install

rm -f "${PREFIX}"/lib/liblzma.la
