#!/bin/bash
set -ex

# src/tramp.c of 3.4.4 calls open_temp_exec_file() (defined in closures.c) without a
# prototype: gcc 12 warns, clang 16 and later (zig cc, the default toolchain) make an
# implicit function declaration an error. The call is right (it returns int), so keep it a
# warning.
CFLAGS="${CFLAGS} -Wno-error=implicit-function-declaration"
export CFLAGS

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
