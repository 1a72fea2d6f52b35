#!/bin/bash
set -ex

# The release tarball holds the library at its top; the tag archive (Debian's .orig)
# holds the whole repository, the library in expat/. CMake builds both (the tag archive
# has no configure script). No documentation (its man page needs docbook2x), no tests.
[ -f expat/CMakeLists.txt ] && cd expat

cmake -S . -B build ${CMAKE_ARGS} \
  -DEXPAT_SHARED_LIBS=ON \
  -DEXPAT_BUILD_TOOLS=ON \
  -DEXPAT_BUILD_EXAMPLES=OFF \
  -DEXPAT_BUILD_TESTS=OFF \
  -DEXPAT_BUILD_DOCS=OFF \
  -DEXPAT_BUILD_FUZZERS=OFF \
  -DCMAKE_INSTALL_SO_NO_EXE=0   # Debian's cmake would install libexpat.so.1.* without x bits
cmake --build build -j"${CPU_COUNT}"
cmake --install build

rm -rf "${PREFIX}/share/doc"
