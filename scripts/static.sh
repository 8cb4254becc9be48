#!/usr/bin/env bash
# Builds a fully static, stripped `cacher` for Linux ARCH (amd64 | arm64) with Rust's musl
# target, checks it (static, runs, reports its target and commit, fits the size budget) and
# prints its path and size. Installs what it needs when it is missing and we are root:
# the rustup target, Debian's musl-tools (amd64) or gcc-aarch64-linux-gnu + qemu-user (arm64).
#
#   bash scripts/static.sh amd64   # target/x86_64-unknown-linux-musl/release/cacher
#   bash scripts/static.sh arm64   # target/aarch64-unknown-linux-musl/release/cacher
#
# CACHER_COMMIT (default: `git rev-parse --short=7 HEAD`) is baked in for `cacher version`.
# CACHER_SIZE_BUDGET (default 3 MiB = 3145728 bytes) is the most the binary may weigh.
# Size-related build settings live in Cargo.toml's [profile.release*] and .cargo/config.toml,
# each with the measurement that justifies it, so `cargo build --release --target ...` by hand
# gives the same binary as this script.
set -euo pipefail

die() {
    echo "static.sh: $*" >&2
    exit 1
}

arch=${1:-}
case $arch in
amd64) triple=x86_64-unknown-linux-musl ;;
arm64) triple=aarch64-unknown-linux-musl ;;
*) die "usage: bash scripts/static.sh amd64|arm64 (got '${arch}')" ;;
esac

cd "$(dirname "$0")/.."
budget=${CACHER_SIZE_BUDGET:-3145728}

# ---- toolchain -------------------------------------------------------------------------
apt_updated=
have() { [[ $1 == /* ]] && [ -e "$1" ] || command -v "$1" >/dev/null 2>&1; }
need_pkg() { # need_pkg COMMAND|/ABSOLUTE/FILE DEBIAN_PACKAGE
    have "$1" && return 0
    [ "$(id -u)" = 0 ] || die "'$1' is missing: install Debian's $2 (apt-get install -y $2) or run as root"
    command -v apt-get >/dev/null 2>&1 || die "'$1' is missing and there is no apt-get to install $2"
    echo "static.sh: installing $2 (for $1)" >&2
    local log
    log=$(mktemp)
    if [ -z "$apt_updated" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 ||
            { tail -n 20 "$log" >&2; die "apt-get update failed"; }
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; die "apt-get install $2 failed"; }
    rm -f "$log"
    have "$1" || die "installed $2 but '$1' is still missing"
}

command -v cargo >/dev/null 2>&1 || die "cargo is not on PATH (install Rust with rustup)"
if ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
    command -v rustup >/dev/null 2>&1 || die "Rust target $triple is missing and there is no rustup to add it"
    echo "static.sh: adding Rust target $triple" >&2
    rustup target add "$triple" >&2 || die "rustup target add $triple failed"
fi
need_pkg file file

case $arch in
amd64)
    need_pkg musl-gcc musl-tools
    # ring's and zstd's C, compiled against musl's headers.
    export CC_x86_64_unknown_linux_musl=musl-gcc
    run=()
    ;;
arm64)
    need_pkg aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
    need_pkg qemu-aarch64 qemu-user
    # The cross gcc's C headers (a Recommends of gcc-aarch64-linux-gnu, so absent after
    # --no-install-recommends). Without them ring's C finds the host's glibc headers and fails.
    [ -e /usr/aarch64-linux-gnu/include/stdint.h ] || need_pkg /usr/aarch64-linux-gnu/include/stdint.h libc6-dev-arm64-cross
    # Debian has no aarch64 musl-gcc; its cross gcc compiles the C parts and drives the link,
    # and Rust's self-contained musl (crt objects + libc.a) makes the binary static.
    export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
    export AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
    run=(qemu-aarch64)
    ;;
esac

# ---- build -----------------------------------------------------------------------------
if [ -z "${CACHER_COMMIT:-}" ]; then
    CACHER_COMMIT=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
fi
export CACHER_COMMIT

start=$(date +%s)
cargo build --release --locked --target "$triple" -p cacher ||
    die "cargo build --release --target $triple failed (see above)"
echo "static.sh: built $triple in $(($(date +%s) - start)) s" >&2

# Respect CARGO_TARGET_DIR / build.target-dir if set.
target_dir=${CARGO_TARGET_DIR:-target}
bin=$target_dir/$triple/release/cacher
[ -x "$bin" ] || die "cargo reported success but $bin is missing"

# ---- checks ----------------------------------------------------------------------------
desc=$(file -b "$bin")
# musl targets link static-pie by default, which file(1) reports as "static-pie linked".
case $desc in
*"statically linked"* | *"static-pie linked"*) ;;
*) die "$bin is not static: file says: $desc" ;;
esac
case $arch in
amd64) [[ $desc == *x86-64* ]] || die "$bin is not an x86-64 binary: file says: $desc" ;;
arm64) [[ $desc == *aarch64* || $desc == *"ARM aarch64"* ]] || die "$bin is not an aarch64 binary: file says: $desc" ;;
esac
[[ $desc == *"not stripped"* ]] && die "$bin is not stripped: file says: $desc"

if [ "$arch" = amd64 ]; then
    # ldd exits 1 and prints "not a dynamic executable" (glibc) for a static binary.
    ldd_out=$(ldd "$bin" 2>&1 || true)
    case $ldd_out in
    *"not a dynamic executable"* | *"statically linked"*) ;;
    *) die "ldd finds dynamic dependencies in $bin: $(echo "$ldd_out" | tr '\n' ' ')" ;;
    esac
fi

version=$("${run[@]}" "$bin" version 2>&1) || die "'${run[*]:+${run[*]} }$bin version' failed: $version"
case $version in
*"linux-$arch"*"commit $CACHER_COMMIT"*) ;;
*) die "'cacher version' printed '$version', expected linux-$arch and commit $CACHER_COMMIT" ;;
esac

size=$(stat -c %s "$bin")
if [ "$size" -gt "$budget" ]; then
    die "$bin is $size bytes, over the budget of $budget bytes"
fi

echo "static.sh: ok: $bin: $size bytes (budget $budget); $version; $desc" >&2
echo "$bin $size"
