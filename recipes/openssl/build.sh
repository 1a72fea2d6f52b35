#!/bin/bash
# OpenSSL 3: libraries, the openssl program, engines and the provider modules, the ssl/
# directory with openssl.cnf -- no tests, no documentation (make build_sw / install_sw).
set -ex

# Configure target from the conda platform we build for (HOST as a fallback).
case "${target_platform:-}" in
  linux-aarch64) os_target=linux-aarch64 ;;
  linux-64)      os_target=linux-x86_64 ;;
  linux-ppc64le) os_target=linux-ppc64le ;;
  *)
    case "${HOST}" in
      aarch64-*linux*)     os_target=linux-aarch64 ;;
      x86_64-*linux*)      os_target=linux-x86_64 ;;
      powerpc64le-*linux*) os_target=linux-ppc64le ;;
      *) echo "openssl recipe: no Configure target for ${target_platform:-?} / ${HOST}" >&2; exit 1 ;;
    esac ;;
esac

# CC, AR, RANLIB, CFLAGS, CPPFLAGS and LDFLAGS come from the environment. CC is already the
# cross compiler (aarch64-linux-gnu-gcc), so no --cross-compile-prefix (it would double the
# prefix). CFLAGS from the environment replace OpenSSL's default "-O3 -Wall": they must
# carry the optimisation (-O2); the target adds -pthread -Wa,--noexecstack itself.
perl ./Configure "${os_target}" \
  --prefix="${PREFIX}" \
  --openssldir="${PREFIX}/ssl" \
  --libdir=lib \
  shared \
  threads \
  no-tests \
  no-zlib

make -j"${CPU_COUNT}" build_sw
make install_sw install_ssldirs

# conda-forge ships the shared libraries only.
rm -f "${PREFIX}/lib/libcrypto.a" "${PREFIX}/lib/libssl.a"

# install_ssldirs makes ssl/certs (the default CApath) and ssl/private empty: conda packages
# carry files, not empty directories, so keep each with a .keep file.
touch "${PREFIX}/ssl/certs/.keep" "${PREFIX}/ssl/private/.keep"
