#!/bin/sh
# @@TITLE@@: a self-extracting installer made by condoit (`doit installer`)
# PLAT:           @@PLATFORM@@
# PAYLOAD_SHA256: @@PAYLOAD_SHA256@@
#
# Needs a POSIX shell and coreutils (tail, head, sha256sum, mktemp). Run it with `sh`:
#   sh @@FILENAME@@ -h
set -eu

INSTALLER_NAME=@@NAME@@
INSTALLER_VER=@@VERSION@@
INSTALLER_PLAT=@@PLATFORM@@
INSTALLER_TYPE=SH
export INSTALLER_NAME INSTALLER_VER INSTALLER_PLAT INSTALLER_TYPE
HEADER_SIZE=@@HEADER_SIZE@@
PAYLOAD_SHA256=@@PAYLOAD_SHA256@@
PLACEHOLDER=@@PLACEHOLDER@@
MAX_PREFIX=@@MAX_PREFIX@@
# the uncompressed files in front of the payload: name and size, in order
BOOT_FILES=@@BOOT_FILES@@
BOOT_SIZE=@@BOOT_SIZE@@
INITIALIZE_DEFAULT=@@INITIALIZE@@
DEFAULT_PREFIX=@@DEFAULT_PREFIX@@
case "$DEFAULT_PREFIX" in "~"*) DEFAULT_PREFIX="${HOME:-/root}${DEFAULT_PREFIX#"~"}" ;; esac

THIS_PATH=$0
case "$THIS_PATH" in /*) ;; *) THIS_PATH="$(pwd)/$THIS_PATH" ;; esac

usage() {
    cat <<USAGE
usage: $0 [options]

Installs ${INSTALLER_NAME} ${INSTALLER_VER} (${INSTALLER_PLAT}).

-b           run in batch mode (no questions: the license is accepted, the prefix is
             the default or -p's, the shell profile is left alone)
-h           print this help message and exit
-p PREFIX    install prefix, defaults to ${DEFAULT_PREFIX}, at most ${MAX_PREFIX} characters, no spaces
-u           update an existing installation (also finishes an interrupted one)
USAGE
}

fail() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

BATCH=0
UPDATE=0
PREFIX=$DEFAULT_PREFIX
while getopts "bhp:u" opt; do
    case "$opt" in
        b) BATCH=1 ;;
        h) usage; exit 2 ;;
        p) PREFIX=$OPTARG ;;
        u) UPDATE=1 ;;
        *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; fail "unexpected argument: $1"; }

for tool in tail head sha256sum mktemp cut; do
    command -v "$tool" >/dev/null 2>&1 || fail "this installer needs '$tool' (coreutils)"
done
case "$(uname -m)" in
    aarch64|arm64) ;;
    *) printf 'WARNING: this installer is for %s; this machine is %s: its programs need an emulator (qemu)\n' \
           "$INSTALLER_PLAT" "$(uname -m)" >&2 ;;
esac

# -- nothing is written before the payload is known to be intact ----------------------------
printf 'Checking the installer (sha256) ...\n'
found=$(tail -c +$((HEADER_SIZE + 1)) "$THIS_PATH" | sha256sum | cut -d ' ' -f 1)
if [ "$found" != "$PAYLOAD_SHA256" ]; then
    fail "the installer is damaged (payload sha256 $found, expected $PAYLOAD_SHA256): download it again"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/${INSTALLER_NAME}.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
offset=$HEADER_SIZE
while read -r name size; do
    [ -n "$name" ] || continue
    case "$name" in */*) mkdir -p "$TMP/${name%/*}" ;; esac
    tail -c +$((offset + 1)) "$THIS_PATH" | head -c "$size" > "$TMP/$name"
    offset=$((offset + size))
done <<BOOT
$BOOT_FILES
BOOT
chmod +x "$TMP/condoit-unpack"

ask_yes_no() {  # question default -> 0 for yes
    while :; do
        printf '%s [yes|no]\n[%s] >>> ' "$1" "$2"
        read -r answer || answer=no
        [ -n "$answer" ] || answer=$2
        case "$answer" in
            [Yy]|[Yy][Ee][Ss]) return 0 ;;
            [Nn]|[Nn][Oo]) return 1 ;;
            *) printf "Please answer 'yes' or 'no'\n" ;;
        esac
    done
}

if [ "$BATCH" = 0 ]; then
    printf '\n'
    cat "$TMP/welcome.txt"
    if [ -s "$TMP/license.txt" ]; then
        printf '\nPlease read the license agreement; press ENTER to continue\n>>> '
        read -r _ || true
        cat "$TMP/license.txt"
        printf '\n'
        if ! ask_yes_no "Do you accept the license terms?" no; then
            printf 'The license agreement was not accepted: nothing was installed.\n'
            exit 2
        fi
    fi
    printf '\n%s will now be installed into this location:\n  %s\n\n' "$INSTALLER_NAME" "$PREFIX"
    printf '  - Press ENTER to confirm the location\n  - Press CTRL-C to abort the installation\n'
    printf '  - Or specify a different location below\n\n[%s] >>> ' "$PREFIX"
    read -r answer || answer=
    if [ -n "$answer" ]; then
        case "$answer" in "~"*) answer="${HOME:-/root}${answer#"~"}" ;; esac
        PREFIX=$answer
    fi
fi

# -- the prefix ------------------------------------------------------------------------------
check_prefix() {
    case "$PREFIX" in
        *[[:space:]]*) fail "the prefix '$PREFIX' contains a space: conda packages cannot be installed there; choose a path without spaces" ;;
        "") fail "the prefix is empty" ;;
    esac
    if [ "${#PREFIX}" -gt "$MAX_PREFIX" ]; then
        fail "the prefix '$PREFIX' is ${#PREFIX} characters long; the packages' binaries have room for $MAX_PREFIX: choose a shorter path"
    fi
}
case "$PREFIX" in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac
check_prefix
if [ -e "$PREFIX" ] || [ -L "$PREFIX" ]; then
    [ -d "$PREFIX" ] || fail "'$PREFIX' exists and is not a directory"
    if [ "$UPDATE" = 0 ] && [ -n "$(ls -A "$PREFIX")" ]; then
        fail "the directory '$PREFIX' already exists and is not empty; to update the installation in it (or finish an interrupted one), use -u"
    fi
fi
mkdir -p "$PREFIX" || fail "cannot create the directory '$PREFIX'"
PREFIX=$(cd "$PREFIX" && pwd)
check_prefix
export PREFIX

# -- install: files first, records last (a prefix without conda-meta/history is not complete) -
STATE="$PREFIX/.condoit-install"
rm -rf "$STATE"
if [ -f "$PREFIX/conda-meta/history" ] && [ ! -f "$PREFIX/.condoit-history.old" ]; then
    mv "$PREFIX/conda-meta/history" "$PREFIX/.condoit-history.old"
fi
if [ -s "$TMP/pre_install.sh" ]; then
    printf 'Running the pre-install script ...\n'
    sh "$TMP/pre_install.sh" || fail "the pre-install script failed"
fi
printf 'Unpacking the packages into %s ...\n' "$PREFIX"
tail -c +$((HEADER_SIZE + BOOT_SIZE + 1)) "$THIS_PATH" \
    | LD_LIBRARY_PATH="$TMP/lib" "$TMP/condoit-unpack" "$PLACEHOLDER" "$PREFIX" \
    || fail "unpacking failed; run the installer again with -u to finish"
[ -f "$STATE/history" ] || fail "the payload did not unpack completely; run the installer again with -u"

if [ -s "$STATE/pyc-files" ] && [ -x "$PREFIX/bin/python" ]; then
    printf 'Compiling the Python modules of noarch packages ...\n'
    "$PREFIX/bin/python" -Wi -m compileall -q -i "$STATE/pyc-files" >/dev/null 2>&1 \
        || printf 'WARNING: some Python modules did not compile (they still work)\n' >&2
fi

while read -r name version build_number; do
    script="$PREFIX/bin/.$name-post-link.sh"
    [ -f "$script" ] || continue
    printf 'Running the post-link script of %s ...\n' "$name"
    PKG_NAME=$name PKG_VERSION=$version PKG_BUILDNUM=$build_number \
        sh "$script" >> "$PREFIX/.messages.txt" 2>&1 \
        || fail "the post-link script of $name failed (see $PREFIX/.messages.txt)"
done < "$STATE/post-link"

record_files() {  # the "files" of a conda-meta record written one per line (indented JSON);
    # a name with an escape (backslash) is not printed: left in place, never taken for another
    sed -n '/^ *"files": \[$/,/^ *\],\{0,1\}$/s/^ *"\([^"\\]*\)",\{0,1\}$/\1/p' "$1"
}

remove_replaced_files() {  # -u: files of a package version being replaced that no package keeps
    if ! command -v sed >/dev/null 2>&1 || ! command -v grep >/dev/null 2>&1; then
        printf 'WARNING: without sed and grep, files of the replaced package versions are left in place\n' >&2
        return 0
    fi
    keep="$STATE/kept-files" gone="$STATE/replaced-files" names=" "
    : > "$keep"
    : > "$gone"
    for new in "$STATE"/conda-meta/*.json; do
        [ -e "$new" ] || continue
        record_files "$new" >> "$keep"
        dist=${new##*/}
        dist=${dist%.json}
        names="$names${dist%-*-*} "
    done
    for old in "$PREFIX"/conda-meta/*.json; do
        [ -e "$old" ] || continue
        dist=${old##*/}
        dist=${dist%.json}
        case "$names" in
            *" ${dist%-*-*} "*) [ -e "$STATE/conda-meta/$dist.json" ] || { record_files "$old" >> "$gone"; continue; } ;;
        esac
        record_files "$old" >> "$keep"     # the same build, or a package this installer does not hold
    done
    grep -vxF -f "$keep" "$gone" | while IFS= read -r path; do
        rm -f "$PREFIX/$path"
        dir=${path%/*}
        while [ "$dir" != "$path" ] && rmdir "$PREFIX/$dir" 2>/dev/null; do
            path=$dir
            dir=${dir%/*}
        done
    done
}

mkdir -p "$PREFIX/conda-meta"
[ "$UPDATE" = 0 ] || remove_replaced_files
for new in "$STATE"/conda-meta/*.json; do
    [ -e "$new" ] || continue
    dist=${new##*/}
    name=${dist%.json}
    name=${name%-*-*}
    for old in "$PREFIX"/conda-meta/*.json; do
        [ -e "$old" ] || continue
        was=${old##*/}
        was=${was%.json}
        [ "${was%-*-*}" != "$name" ] || [ "$old" = "$PREFIX/conda-meta/$dist" ] || rm -f "$old"
    done
    mv -f "$new" "$PREFIX/conda-meta/$dist"
done

if [ -s "$TMP/post_install.sh" ]; then
    printf 'Running the post-install script ...\n'
    sh "$TMP/post_install.sh" || fail "the post-install script failed"
fi

{
    [ ! -f "$PREFIX/.condoit-history.old" ] || cat "$PREFIX/.condoit-history.old"
    printf '==> %s <==\n' "$(date '+%Y-%m-%d %H:%M:%S')"
    cat "$STATE/history"
} > "$PREFIX/conda-meta/history.partial"
mv -f "$PREFIX/conda-meta/history.partial" "$PREFIX/conda-meta/history"
rm -f "$PREFIX/.condoit-history.old"
rm -rf "$STATE"

if [ "$BATCH" = 0 ]; then
    if ask_yes_no "Do you wish to add $PREFIX/bin to PATH in ~/.bashrc?" "$INITIALIZE_DEFAULT"; then
        printf '\n# added by the %s installer\nexport PATH="%s/bin:$PATH"\n' "$INSTALLER_NAME" "$PREFIX" >> "${HOME:-/root}/.bashrc"
        printf 'Added to %s\n' "${HOME:-/root}/.bashrc"
    fi
fi
printf '\n'
cat "$TMP/conclusion.txt"
exit 0
@@END_HEADER@@
