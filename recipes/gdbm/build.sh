#!/bin/bash
set -ex

# The version string would carry the build's __DATE__/__TIME__ (refused by the
# toolchain's -Werror=date-time: packages must be reproducible): left out.
sed -i 's/defined(__DATE__) && defined(__TIME__)/0/' src/version.c

# --enable-libgdbm-compat: the ndbm/dbm interfaces (ndbm.h, dbm.h) CPython's _dbm uses.
# Without readline and NLS: gdbmtool reads plain lines, no message catalogs to install.
./configure \
  --prefix="${PREFIX}" \
  --build="${BUILD}" \
  --host="${HOST}" \
  --enable-libgdbm-compat \
  --disable-static \
  --disable-nls \
  --without-readline

make -j"${CPU_COUNT}"
make install

rm -f "${PREFIX}"/lib/*.la
