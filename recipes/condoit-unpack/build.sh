#!/bin/bash
set -ex
mkdir -p "${PREFIX}/bin"
${CC} ${CFLAGS} ${CPPFLAGS} -I"${PREFIX}/include" -o "${PREFIX}/bin/condoit-unpack" unpack.c \
  ${LDFLAGS} -L"${PREFIX}/lib" -llzma
