#!/bin/bash
set -ex

# --build and --host always (binfmt_misc would make autoconf think it is not cross
# compiling). Cross compiling, configure guesses a few run-time checks (it warns).
./configure \
  --prefix="${PREFIX}" \
  --build="${BUILD}" \
  --host="${HOST}" \
  --disable-static \
  --with-curses

# Link libreadline against the terminfo library of the ncurses in $PREFIX (like Debian:
# readline needs only the termcap functions), so users need not add -ltinfow themselves.
# ncurses' libtinfo is the wide one (libtinfow, libtinfo.so is a link to it).
make -j"${CPU_COUNT}" SHLIB_LIBS="-L${PREFIX}/lib -ltinfow"
make install SHLIB_LIBS="-L${PREFIX}/lib -ltinfow"

# Keep the package lean: the examples and HTML/text docs go, info and man pages stay.
rm -rf "${PREFIX}/share/doc/readline"
rmdir "${PREFIX}/share/doc" 2>/dev/null || true
