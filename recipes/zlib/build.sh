#!/bin/bash
set -ex

# zlib's configure is not autoconf: it takes the compiler from CC/AR/RANLIB (no --host).
# Its shared-library probe links a one-function object with zlib.map, which lld refuses
# (symbols of the map undefined) unless LDFLAGS' --undefined-version is there: LDSHARED
# is zlib's own default command plus LDFLAGS. --shared: conda-forge ships no libz.a.
export LDSHARED="${CC} -shared -Wl,-soname,libz.so.1,--version-script,zlib.map ${LDFLAGS}"
./configure --prefix="${PREFIX}" --shared || { cat configure.log; exit 1; }
grep -q "^SHAREDLIBV *= *libz.so" Makefile || { echo "zlib configure fell back to static only"; cat configure.log; exit 1; }
make -j"${CPU_COUNT}" shared
make install

rm -f "${PREFIX}/lib/libz.a"
