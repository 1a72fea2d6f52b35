#!/bin/bash
set -ex

# CPython 3.11, conda-forge's layout: shared libpython, no bundled pip (its own package),
# the stack's libraries for every optional module. No --enable-optimizations / LTO: PGO runs
# the test suite (under qemu when cross compiling) and LTO doubles the link time, too slow
# on the machines this builds on.
VER=${PKG_VERSION%.*}

# setup.py (the modules 3.11 still builds with it) finds headers and libraries only in
# the -I/-L directories of CPPFLAGS/LDFLAGS when cross compiling, not in -isystem ones.
export CPPFLAGS="${CPPFLAGS} -I${PREFIX}/include"
export LDFLAGS="${LDFLAGS} -L${PREFIX}/lib"

args=(
  --prefix="${PREFIX}"
  --build="${BUILD}"
  --host="${HOST}"
  --enable-shared
  --without-static-libpython
  --enable-ipv6
  --with-ensurepip=no
  --with-tzpath="${PREFIX}/share/zoneinfo:/usr/share/zoneinfo"
  --with-computed-gotos
  --with-system-ffi
  --with-openssl="${PREFIX}"
  --enable-loadable-sqlite-extensions
  --disable-test-modules
)
# expat: the stack's when it is in the host prefix, else CPython's bundled copy
if [[ -f "${PREFIX}/include/expat.h" ]]; then
  args+=(--with-system-expat)
fi

if [[ "${CONDA_BUILD_CROSS_COMPILATION}" == "1" ]]; then
  # configure cannot run target programs (it is told it cross compiles, see --build):
  # answer the run-time checks for Linux/glibc on aarch64
  export ac_cv_file__dev_ptmx=yes
  export ac_cv_file__dev_ptc=no
  export ac_cv_buggy_getaddrinfo=no
  export ac_cv_little_endian_double=yes
  export ac_cv_aligned_required=no
  args+=(--with-build-python="${BUILD_PREFIX}/bin/python${VER}")
fi

# The build date in sys.version: the source's epoch, spelt as __DATE__/__TIME__ would be
# (zig cc refuses those macros: -Werror=date-time, they make builds unreproducible).
sed -i -e "s|#define DATE __DATE__|#define DATE \"$(date -u -d "@${SOURCE_DATE_EPOCH}" '+%b %e %Y')\"|" \
       -e "s|#define TIME __TIME__|#define TIME \"$(date -u -d "@${SOURCE_DATE_EPOCH}" '+%T')\"|" \
       Modules/getbuildinfo.c

# libpython's soname: `-Wl,-h<name>` is GNU ld's short spelling, which zig cc refuses
# (unsupported linker arg); `-soname` works with both linkers.
# zig cc also cannot link a library from shared libraries alone (libpython3.so, the
# stable-ABI stub that only needs libpython3.11): it gets an empty object.
sed -i -e 's/-Wl,-h/-Wl,-soname,/g' \
       -e 's/-o $@ -Wl,-soname,$@ $^$/-o $@ -Wl,-soname,$@ Modules\/_empty.o $^/' Makefile.pre.in
: > Modules/_empty.c

./configure "${args[@]}"

${CC} ${CFLAGS} -c -o Modules/_empty.o Modules/_empty.c
make -j"${CPU_COUNT}"
# stdlib .pyc compiled by PYTHON_FOR_BUILD (the build-platform python when cross compiling);
# checked-hash pycs stay valid when the installer rewrites file times or a text file's prefix
# serial: the engine's MAKEFLAGS=-j2 let `make install` relink libpython while a parallel
# job ran ./python from it (a Bus error in one native build)
make -j1 install COMPILEALL_OPTS="-j${CPU_COUNT} --invalidation-mode=checked-hash"

# No module may be missing silently: setup.py and Modules/Setup.stdlib only print the
# ones they could not build. A module counts when it is a shared library in lib-dynload
# or built into libpython (Modules/config.c lists those).
dynload="${PREFIX}/lib/python${VER}/lib-dynload"
expected=(_ssl _hashlib _sqlite3 zlib _bz2 _lzma _ctypes readline _curses _curses_panel _decimal
          _uuid pyexpat _elementtree _blake2 _sha3 _json _socket select _posixsubprocess
          _multiprocessing math cmath array _struct binascii unicodedata _datetime _pickle)
if [[ -f "${PREFIX}/include/gdbm.h" ]]; then
  expected+=(_gdbm)
fi
missing=()
for mod in "${expected[@]}"; do
  compgen -G "${dynload}/${mod}.cpython-*.so" > /dev/null || grep -q "PyInit_${mod}(" Modules/config.c \
    || missing+=("${mod}")
done
if (( ${#missing[@]} )); then
  echo "python: extension modules not built: ${missing[*]} (see 'necessary bits' in the build log)" >&2
  exit 1
fi

ln -sf "python${VER}" "${PREFIX}/bin/python"
ln -sf "python${VER}-config" "${PREFIX}/bin/python-config"

# the test suite (tens of MB) goes, as in conda-forge's package
rm -rf "${PREFIX}/lib/python${VER}/test"

# _sysconfigdata and the config Makefile: nothing of the build machine. The compilers are
# plain names already (the wrappers a later build has on its PATH); the build python's
# path and the work tree's prefix maps (-ffile-prefix-map=<work tree>=...) go, the work
# tree (abs_srcdir ...) becomes the path the debug info names for it.
for f in "${PREFIX}"/lib/python${VER}/_sysconfigdata_*.py "${PREFIX}"/lib/python${VER}/config-${VER}-*/Makefile; do
  sed -i -E -e "s|${BUILD_PREFIX}/bin/||g" -e "s# ?-f(file|debug)-prefix-map=[^ '\"]*##g" \
      -e "s|${SRC_DIR}|/usr/local/src/conda/python-${PKG_VERSION}|g" "$f"
done
if grep -l "${BUILD_PREFIX}\|${SRC_DIR}" "${PREFIX}"/lib/python${VER}/_sysconfigdata_*.py; then
  echo "python: _sysconfigdata still names the build machine's paths" >&2
  exit 1
fi
