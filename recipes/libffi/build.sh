#!/bin/bash
set -ex

# --build and --host always (binfmt_misc would make autoconf think it is not cross
# compiling); --disable-multi-os-directory keeps the library in lib/, not lib/../lib64.
./configure \
  --prefix="${PREFIX}" \
  --build="${BUILD}" \
  --host="${HOST}" \
  --disable-static \
  --disable-docs \
  --disable-multi-os-directory
make -j"${CPU_COUNT}"
make install

rm -f "${PREFIX}"/lib/libffi.la
