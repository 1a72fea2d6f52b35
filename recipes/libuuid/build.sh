#!/bin/bash
set -ex

# util-linux builds everything by default: only libuuid here (conda-forge's libuuid).
# No NLS (the library has no messages), no bash completion, no systemd/udev probes.
./configure \
  --prefix="${PREFIX}" \
  --build="${BUILD}" \
  --host="${HOST}" \
  --disable-all-programs \
  --enable-libuuid \
  --disable-static \
  --disable-nls \
  --disable-bash-completion \
  --disable-makeinstall-chown \
  --disable-makeinstall-setuid \
  --without-python \
  --without-systemd \
  --without-udev \
  --without-readline \
  --without-ncursesw \
  --without-tinfo

make -j"${CPU_COUNT}"
make install

rm -f "${PREFIX}"/lib/*.la
# what util-linux installs even for a library-only build: docs, a page for its programs
rm -rf "${PREFIX}/share/doc" "${PREFIX}/share/man/man5"
