#!/bin/bash
set -ex

# Two source layouts: the amalgamation tarball (upstream's, conda-forge's: sqlite3.c and
# shell.c at the top) and the full source tree (Debian's repack), which makes them with
# the build machine's compiler (lemon, mkkeywordhash...) and tclsh.
if [ ! -f sqlite3.c ]; then
  command -v tclsh >/dev/null || { echo "sqlite: the full source tree needs tclsh on the build machine (apt-get install tcl)"; exit 1; }
  mkdir -p amalgamation && pushd amalgamation
  ../configure --build="${BUILD}" --host="${HOST}" --disable-tcl --disable-readline \
    BUILD_CC="${CC_FOR_BUILD:-cc}" BUILD_CFLAGS="-O2"
  make -j"${CPU_COUNT}" sqlite3.c shell.c sqlite3.h
  cp sqlite3.c shell.c sqlite3.h ../
  cp ../src/sqlite3ext.h ../
  popd
fi

# conda-forge's feature set (and the autoconf tarball's defaults): what CPython's sqlite3
# module can use (column metadata, loadable extensions, FTS, JSON, R*Tree, math).
features=(
  -DSQLITE_THREADSAFE=1
  -DSQLITE_ENABLE_COLUMN_METADATA=1
  -DSQLITE_ENABLE_UNLOCK_NOTIFY=1
  -DSQLITE_ENABLE_DBSTAT_VTAB=1
  -DSQLITE_ENABLE_FTS3=1
  -DSQLITE_ENABLE_FTS3_PARENTHESIS=1
  -DSQLITE_ENABLE_FTS3_TOKENIZER=1
  -DSQLITE_ENABLE_FTS4=1
  -DSQLITE_ENABLE_FTS5=1
  -DSQLITE_ENABLE_RTREE=1
  -DSQLITE_ENABLE_GEOPOLY=1
  -DSQLITE_ENABLE_MATH_FUNCTIONS=1
  -DSQLITE_SECURE_DELETE=1
  -DSQLITE_MAX_VARIABLE_NUMBER=250000
  -DSQLITE_MAX_EXPR_DEPTH=10000
  -DHAVE_USLEEP=1
  -DHAVE_FDATASYNC=1
  -DHAVE_LOCALTIME_R=1
  -DHAVE_GMTIME_R=1
)
version=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' sqlite3.h)
soname=libsqlite3.so.0
real=${soname}.8.6      # libtool's name for the library (-version-info 8:6:0)

${CC} ${CPPFLAGS} ${CFLAGS} -fPIC "${features[@]}" -c sqlite3.c -o sqlite3.o
${CC} ${CFLAGS} ${LDFLAGS} -shared -Wl,-soname,${soname} -o ${real} sqlite3.o -lm -ldl -lpthread

# the shell: readline (ncurses' libtinfow through libreadline) and zlib (.archive, zipfile)
${CC} ${CPPFLAGS} ${CFLAGS} "${features[@]}" -DHAVE_READLINE=1 -DSQLITE_HAVE_ZLIB=1 \
  -o sqlite3 shell.c ${LDFLAGS} ./${real} -lreadline -lz -lm -ldl -lpthread

install -d "${PREFIX}/bin" "${PREFIX}/lib/pkgconfig" "${PREFIX}/include" "${PREFIX}/share/man/man1"
install -m 755 sqlite3 "${PREFIX}/bin/"
install -m 755 ${real} "${PREFIX}/lib/"
ln -sf ${real} "${PREFIX}/lib/${soname}"
ln -sf ${real} "${PREFIX}/lib/libsqlite3.so"
install -m 644 sqlite3.h sqlite3ext.h "${PREFIX}/include/"
install -m 644 sqlite3.1 "${PREFIX}/share/man/man1/"
sed -e "s|@prefix@|${PREFIX}|" -e 's|@exec_prefix@|${prefix}|' \
    -e 's|@libdir@|${exec_prefix}/lib|' -e 's|@includedir@|${prefix}/include|' \
    -e "s|@PACKAGE_VERSION@|${version}|" -e 's|@LIBS@|-lm -ldl -lpthread|' \
    sqlite3.pc.in > "${PREFIX}/lib/pkgconfig/sqlite3.pc"
