#!/usr/bin/env bash
# Prepare a Debian 12 (x86_64) machine to build condoit's linux-aarch64 stack.
#
# Run as root. Idempotent: a second run checks everything and changes nothing
# (about a second). Steps:
#   1. turn on deb-src entries (sources are fetched with `apt-get source --download-only`
#      because these machines reach no upstream server), then apt-get update + install the
#      cross toolchain, qemu-user and the build tools -- skipped when all are present;
#   2. mount binfmt_misc, register qemu-aarch64, give qemu the guest sysroot
#      (/etc/qemu-binfmt/aarch64 -> /usr/aarch64-linux-gnu): kernel state, so a fresh
#      machine (or container) needs it again;
#   3. `pip install -e '.[test]'` from the repository root -- skipped when the editable
#      install is in place and every requirement is satisfied;
#   4. check that an aarch64 hello-world built with aarch64-linux-gnu-gcc runs directly;
#   5. fill Zig's cache (the default toolchain's glibc stubs, crt files and libc++ for
#      aarch64-linux-gnu.2.17, in ~/.cache/condoit/zig): ~75 s once per machine, then ~1 s,
#      and a zig-built C++ hello-world that must run directly too.
#
# Environment: PYTHON (default python3), CONDOIT_SETUP_FORCE=1 (redo apt and pip anyway).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
FORCE="${CONDOIT_SETUP_FORCE:-0}"
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  # cross toolchain and emulation (design.md section 4)
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu binutils-aarch64-linux-gnu
  qemu-user qemu-user-binfmt binfmt-support patchelf
  # build machine tools used by the recipes' build.sh and by the fetchers
  gcc g++ make perl m4 pkg-config file patch cmake
  # the compiler cache in front of zig (tasks/toolchain.py: unchanged sources are not recompiled)
  ccache
  # sqlite's full source tree (Debian's repack) makes its amalgamation with tclsh
  tcl
  git mercurial subversion zstd xz-utils bzip2
  # `doit report` draws the recipe graph with dot
  graphviz
)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and registers binfmt_misc)"
[ "$(uname -m)" = x86_64 ] || say "warning: written for an x86_64 build machine, this is $(uname -m)"

# --- 1. apt: deb-src, update, install -----------------------------------------------------
need_update=0
if [ -f /etc/apt/sources.list.d/debian.sources ] \
   && grep -q '^Types: deb$' /etc/apt/sources.list.d/debian.sources; then
  sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
  say "enabled deb-src in /etc/apt/sources.list.d/debian.sources"
  need_update=1
fi
if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list \
   && ! grep -q '^deb-src ' /etc/apt/sources.list; then
  # one-line format (older images): add a deb-src twin of every deb line
  sed -i -e 's/^deb \(.*\)$/deb \1\ndeb-src \1/' /etc/apt/sources.list
  say "enabled deb-src in /etc/apt/sources.list"
  need_update=1
fi
# deb-src turned on earlier but never fetched: the source indexes are missing
if ! compgen -G '/var/lib/apt/lists/*_Sources*' >/dev/null; then
  need_update=1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ "$FORCE" = 1 ] && { missing=("${PACKAGES[@]}"); need_update=1; }

if [ "$need_update" = 1 ] || [ "${#missing[@]}" -gt 0 ]; then
  say "apt-get update"
  apt-get update -qq || die "apt-get update failed"
fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing: ${missing[*]}"
  log="$(mktemp)"
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; die "apt-get install failed for: ${missing[*]}"
  fi
  rm -f "$log"
else
  say "apt packages: all ${#PACKAGES[@]} present"
fi

# --- 2. binfmt_misc + qemu-aarch64 + guest sysroot ------------------------------------------
BINFMT=/proc/sys/fs/binfmt_misc
if [ ! -e "$BINFMT/register" ]; then
  mount -t binfmt_misc binfmt_misc "$BINFMT" \
    || die "cannot mount binfmt_misc on $BINFMT (a container needs --privileged or the host to mount it)"
  say "mounted binfmt_misc"
fi
if ! grep -qx enabled "$BINFMT/qemu-aarch64" 2>/dev/null; then
  if [ -e "$BINFMT/qemu-aarch64" ]; then
    echo 1 > "$BINFMT/qemu-aarch64"            # registered but disabled
  elif [ -x /lib/systemd/systemd-binfmt ] && [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    /lib/systemd/systemd-binfmt /usr/lib/binfmt.d/qemu-aarch64.conf
  else
    update-binfmts --enable qemu-aarch64
  fi
  grep -qx enabled "$BINFMT/qemu-aarch64" 2>/dev/null || die "qemu-aarch64 is not registered in binfmt_misc"
  say "registered qemu-aarch64 in binfmt_misc"
fi
SYSROOT=/usr/aarch64-linux-gnu
if [ "$(readlink /etc/qemu-binfmt/aarch64 2>/dev/null || true)" != "$SYSROOT" ]; then
  [ -d "$SYSROOT/lib" ] || die "$SYSROOT/lib is missing (libc6-arm64-cross not installed?)"
  mkdir -p /etc/qemu-binfmt
  if [ -e /etc/qemu-binfmt/aarch64 ] && [ ! -L /etc/qemu-binfmt/aarch64 ]; then
    die "/etc/qemu-binfmt/aarch64 exists and is not a symlink; expected -> $SYSROOT"
  fi
  ln -sfn "$SYSROOT" /etc/qemu-binfmt/aarch64
  say "guest sysroot: /etc/qemu-binfmt/aarch64 -> $SYSROOT"
fi

# --- 3. the project itself -------------------------------------------------------------------
# Quick check: condoit is installed editable from this checkout and every requirement of
# pyproject.toml (dependencies + the 'test' extra) is satisfied. Any doubt -> run pip.
pip_ok() {
  # -I: no current directory on sys.path (a stray condoit.egg-info there would answer)
  "$PYTHON" -I - "$ROOT" <<'EOF' 2>/dev/null
import json, sys, tomllib
from importlib import metadata
from pathlib import Path
from packaging.requirements import Requirement
root = Path(sys.argv[1])
dist = metadata.distribution("condoit")
url = json.loads(dist.read_text("direct_url.json") or "{}")
assert url.get("dir_info", {}).get("editable"), "not editable"
assert Path(url["url"].removeprefix("file://")).resolve() == root.resolve(), "other checkout"
project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
    req = Requirement(spec)
    assert req.specifier.contains(metadata.version(req.name), prereleases=True), spec
EOF
}
if [ "$FORCE" = 1 ] || ! pip_ok; then
  say "pip install -e '.[test]' ($("$PYTHON" --version 2>&1))"
  (cd "$ROOT" && "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore -e '.[test]') \
    || die "pip install -e '.[test]' failed"
else
  say "python package: condoit installed editable from $ROOT, requirements satisfied"
fi

# --- 4. proof: an aarch64 executable runs directly ---------------------------------------------
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '#include <stdio.h>\nint main(void){puts("hello from aarch64");return 0;}\n' > "$tmp/hello.c"
aarch64-linux-gnu-gcc -O2 -o "$tmp/hello" "$tmp/hello.c" || die "aarch64-linux-gnu-gcc cannot build a hello-world"
if ! out="$("$tmp/hello" 2>&1)" || [ "$out" != "hello from aarch64" ]; then
  die "an aarch64 hello-world does not run directly (binfmt_misc/qemu-aarch64/sysroot): ${out:-no output}"
fi
say "ok: aarch64 hello-world runs through binfmt_misc + qemu-aarch64"

# --- 5. the zig toolchain: its cache, and a C++ program it built runs ------------------------------
(cd "$ROOT" && "$PYTHON" -m tasks.toolchain warm --run) | sed 's/^/setup: /' \
  || die "zig cannot build for the target (python -m tasks.toolchain warm)"

# --- 6. the engine's bytecode, once: every doit call imports ~100 modules of tasks/, and with
# PYTHONDONTWRITEBYTECODE set Python would compile them all again on each call (~0.2 s CPU).
# Python reads these files whatever that variable says, and ignores them once a source changes.
"$PYTHON" -m compileall -q "$ROOT/tasks" >/dev/null || die "python -m compileall tasks failed"
say "ok: the engine's bytecode is compiled (tasks/__pycache__)"
# ... and the methods @dataclass writes for its ~90 classes (~25 ms of every doit call otherwise)
(cd "$ROOT" && "$PYTHON" -m tasks.dataclass_code) | sed 's/^/setup: /' \
  || die "python -m tasks.dataclass_code failed"
