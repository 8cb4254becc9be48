#!/usr/bin/env bash
# `make demo`: shows cacher working end to end on this machine, with nothing but loopback.
# Builds cacher, starts the local s3s-fs test server (installed by the test bed if needed),
# serves a file over a local HTTP server, then runs `cacher download KEY DEST --url URL` twice
# (a miss that fetches and seeds the cache, then a hit) and `cacher list`.
set -euo pipefail
cd "$(dirname "$0")/.."
export BED_RUN=${BED_RUN:-$PWD/target/demo-bed}

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

cargo build --release --quiet
CACHER=$PWD/target/release/cacher
bash tests/bed/bed.sh install >/dev/null
bash tests/bed/bed.sh start >/dev/null
work=$(mktemp -d)
http_pid=
cleanup() {
  [[ -n $http_pid ]] && kill "$http_pid" 2>/dev/null || true
  bash tests/bed/bed.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The server's settings, as a CI job would have them.
set -a; . "$(bash tests/bed/bed.sh env s3s-fs)"; set +a
export CACHER_ENDPOINT=$CACHER_TEST_ENDPOINT CACHER_REGION=$CACHER_TEST_REGION \
  CACHER_BUCKET=$CACHER_TEST_BUCKET CACHER_S3_KEY_ID=$CACHER_TEST_KEY_ID \
  CACHER_S3_SECRET=$CACHER_TEST_SECRET CACHER_PREFIX=demo-$$

# A "toolchain tarball" on a local HTTP server.
mkdir -p "$work/www"
head -c 5000000 /dev/urandom > "$work/www/tool-1.0.tar.gz"
sum=$(sha256sum "$work/www/tool-1.0.tar.gz" | cut -d' ' -f1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
http_pid=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done

say "cacher download tool/tool-1.0.tar.gz $work/out/tool.tar.gz --url http://127.0.0.1:$port/tool-1.0.tar.gz --sha256 ${sum:0:12}…   # first run: miss"
"$CACHER" download tool/tool-1.0.tar.gz "$work/out/tool.tar.gz" --url "http://127.0.0.1:$port/tool-1.0.tar.gz" --sha256 "$sum"
echo "exit $?"
rm -f "$work/out/tool.tar.gz"
say "cacher download tool/tool-1.0.tar.gz $work/out/tool.tar.gz --url …   # second run: hit, the URL is not touched"
kill "$http_pid"; http_pid=
"$CACHER" download tool/tool-1.0.tar.gz "$work/out/tool.tar.gz" --url "http://127.0.0.1:$port/tool-1.0.tar.gz" --sha256 "$sum"
echo "exit $?"
say "sha256sum $work/out/tool.tar.gz"
sha256sum "$work/out/tool.tar.gz"
say "cacher list --recursive --human"
"$CACHER" list --recursive --human
say "cacher exists tool/missing.tar.gz"
"$CACHER" exists tool/missing.tar.gz && echo "exit 0" || echo "exit $?"
