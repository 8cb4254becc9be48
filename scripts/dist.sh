#!/usr/bin/env bash
# Release artifacts: dist/cacher-linux-amd64, dist/cacher-linux-arm64 and dist/checksums.txt
# (sha256sum format, relative names: `cd dist && sha256sum -c checksums.txt`).
# Builds both with scripts/static.sh (which installs the toolchain pieces it needs), then
# checks what a user will check: the checksums, `cacher version`'s target, and that the arm64
# binary computes arm64 keys (under qemu-aarch64).
set -euo pipefail

die() {
    echo "dist.sh: $*" >&2
    exit 1
}

cd "$(dirname "$0")/.."
if [ -z "${CACHER_COMMIT:-}" ]; then
    CACHER_COMMIT=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
fi
export CACHER_COMMIT
target_dir=${CARGO_TARGET_DIR:-target}

rm -rf dist
mkdir dist
for arch in amd64 arm64; do
    case $arch in
    amd64) triple=x86_64-unknown-linux-musl ;;
    arm64) triple=aarch64-unknown-linux-musl ;;
    esac
    bash scripts/static.sh "$arch" >/dev/null || die "scripts/static.sh $arch failed"
    cp "$target_dir/$triple/release/cacher" "dist/cacher-linux-$arch"
done

(cd dist && sha256sum cacher-linux-amd64 cacher-linux-arm64 >checksums.txt)
(cd dist && sha256sum --quiet -c checksums.txt) || die "dist/checksums.txt does not verify"

check() { # check ARCH EXPECTED COMMAND...
    local arch=$1 want=$2 out
    shift 2
    out=$("$@" 2>&1) || die "'$*' failed: $out"
    [[ $out == *"$want"* ]] || die "'$*' printed '$out', expected '$want'"
    echo "dist.sh: $arch: $* -> $out" >&2
}
check amd64 "linux-amd64" dist/cacher-linux-amd64 version
check amd64 "commit $CACHER_COMMIT" dist/cacher-linux-amd64 version
check amd64 "bin/cacher-linux-amd64" dist/cacher-linux-amd64 key bin/cacher --arch-suffix
check arm64 "linux-arm64" qemu-aarch64 dist/cacher-linux-arm64 version
check arm64 "commit $CACHER_COMMIT" qemu-aarch64 dist/cacher-linux-arm64 version
out=$(qemu-aarch64 dist/cacher-linux-arm64 key bin/cacher --arch-suffix 2>&1) ||
    die "'qemu-aarch64 dist/cacher-linux-arm64 key bin/cacher --arch-suffix' failed: $out"
[ "$out" = "bin/cacher-linux-arm64" ] ||
    die "arm64 'cacher key bin/cacher --arch-suffix' printed '$out', expected 'bin/cacher-linux-arm64'"
echo "dist.sh: arm64: key bin/cacher --arch-suffix -> $out" >&2

echo "dist.sh: ok:" >&2
(cd dist && for f in cacher-linux-amd64 cacher-linux-arm64; do printf '  %-20s %9d bytes\n' "$f" "$(stat -c %s "$f")"; done) >&2
sed 's/^/  /' dist/checksums.txt >&2
