#!/usr/bin/env bash
# Garage for `make test-garage` (opt-in: the build takes ~20 min on 2 cores the first time).
#
#   garage.sh install   cargo install garage (cached under $BED_HOME like s3s-fs)
#   garage.sh start     a single node on loopback (region "garage"), bucket + key, env file
#   garage.sh stop      stop the node this script started
#
# Writes $BED_RUN/garage.env with the CACHER_TEST_* variables of tests/bed/README.md.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BED_HOME=${CACHER_TESTBED_HOME:-$HOME/.cache/cacher-testbed}
BED_RUN=${BED_RUN:-$REPO/target/testbed}
GARAGE_VERSION=2.5.0
GARAGE=$BED_HOME/bin/garage
RUN=$BED_RUN/garage
say() { printf 'garage-bed: %s\n' "$*"; }
die() { printf 'garage-bed: error: %s\n' "$*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

install() {
  if [[ -x $GARAGE ]] && "$GARAGE" --version 2>/dev/null | grep -q "$GARAGE_VERSION"; then
    say "garage $GARAGE_VERSION: already installed"; return
  fi
  say "garage $GARAGE_VERSION: building (about 20 min on 2 cores; log $BED_HOME/garage-install.log)"
  # lmdb only: no sqlite, no metrics stack, to keep the build short.
  CARGO_TARGET_DIR=$BED_HOME/garage-target cargo install garage --version "$GARAGE_VERSION" --locked \
    --no-default-features --features bundled-libs,lmdb --root "$BED_HOME" >"$BED_HOME/garage-install.log" 2>&1 \
    || die "cargo install garage failed (see $BED_HOME/garage-install.log)"
  rm -rf "$BED_HOME/garage-target"
}

g() { "$GARAGE" -c "$RUN/garage.toml" "$@"; }

start() {
  [[ -x $GARAGE ]] || die "garage is not installed: run '$0 install' first"
  stop >/dev/null 2>&1 || true
  rm -rf "$RUN"; mkdir -p "$RUN/meta" "$RUN/data"
  local s3 rpc admin secret
  s3=$(free_port); rpc=$(free_port); admin=$(free_port)
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cat >"$RUN/garage.toml" <<TOML
metadata_dir = "$RUN/meta"
data_dir = "$RUN/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin"
TOML
  chmod 600 "$RUN/garage.toml"
  g server >"$RUN/garage.log" 2>&1 &
  echo $! >"$RUN/pid"
  for _ in $(seq 100); do g status >/dev/null 2>&1 && break; sleep 0.2; done
  g status >/dev/null 2>&1 || die "garage did not start (see $RUN/garage.log)"
  local node
  node=$(g node id -q 2>/dev/null | cut -d@ -f1)
  g layout assign -z dc1 -c 1G "$node" >/dev/null
  g layout apply --version 1 >/dev/null
  g bucket create cacher-test >/dev/null
  local out id key
  out=$(g key create cacher-test-key)
  id=$(printf '%s\n' "$out" | awk -F': *' 'tolower($1) ~ /key id/ {print $2; exit}')
  key=$(printf '%s\n' "$out" | awk -F': *' 'tolower($1) ~ /secret key/ {print $2; exit}')
  [[ -n $id && -n $key ]] || die "could not read the key from: $out"
  g bucket allow --read --write --owner cacher-test --key cacher-test-key >/dev/null
  umask 077
  cat >"$BED_RUN/garage.env" <<ENV
export CACHER_TEST_SERVER=garage
export CACHER_TEST_ENDPOINT=http://127.0.0.1:$s3
export CACHER_TEST_REGION=garage
export CACHER_TEST_BUCKET=cacher-test
export CACHER_TEST_NO_BUCKET=cacher-no-such-bucket
export CACHER_TEST_KEY_ID=$id
export CACHER_TEST_SECRET=$key
ENV
  say "garage on 127.0.0.1:$s3 (env $BED_RUN/garage.env)"
}

stop() {
  [[ -f $RUN/pid ]] || return 0
  local pid; pid=$(cat "$RUN/pid")
  if [[ $(cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ') == *garage* ]]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$RUN/pid"
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
