#!/usr/bin/env bash
# Test bed for cacher's integration tests: installs and runs real S3 servers on loopback.
#
#   bed.sh install      build/install s3s-fs and a moto venv under $BED_HOME (cached, idempotent)
#   bed.sh start        (re)start both servers, create buckets/users, write the env files
#   bed.sh stop         stop the servers this bed started (safe to call twice)
#   bed.sh env SERVER   print the path of SERVER's env file (s3s-fs | moto)
#
# BED_HOME = ${CACHER_TESTBED_HOME:-$HOME/.cache/cacher-testbed}  (installs; outside the checkout)
# BED_RUN  = ${BED_RUN:-<repo>/target/testbed}                     (logs, data, pids, env files)
# See README.md next to this file.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BED_HOME=${CACHER_TESTBED_HOME:-$HOME/.cache/cacher-testbed}
BED_RUN=${BED_RUN:-$REPO/target/testbed}
BED_PYTHON=${BED_PYTHON:-python3}          # the interpreter the moto venv is made from
START_TIMEOUT=${BED_START_TIMEOUT:-60}     # seconds to wait for a server to listen
INSTALL_WAIT=${BED_INSTALL_WAIT:-3600}     # seconds to wait for someone else's s3s-fs build

S3S_VERSION=0.14.1       # 0.15+ needs Rust 1.96
MOTO_VERSION=5.2.5
BOTO3_VERSION=1.44.5
BUCKET=cacher-test
REGION=us-east-1

S3S_BIN=$BED_HOME/bin/s3s-fs
VENV=$BED_HOME/venv
VENV_PY=$VENV/bin/python
VENV_MARK=$VENV/.cacher-bed   # written last by a successful venv install
PIDS=$BED_RUN/pids

say() { printf 'bed: %s\n' "$*"; }
die() { printf 'bed: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# ---------------------------------------------------------------- install

s3s_ok() { [[ -x $S3S_BIN ]] && [[ $("$S3S_BIN" --version 2>/dev/null) == "s3s-fs $S3S_VERSION" ]]; }

# A `cargo install s3s-fs ... --root $BED_HOME` not started by us (another checkout, a
# pre-warm job). Read-only look-up; we never signal it.
foreign_s3s_build() { pgrep -f "cargo install s3s-fs.*--root $BED_HOME" >/dev/null 2>&1; }

install_s3s() {
  local t0 log=$BED_HOME/s3s-install.log waited=0
  t0=$(now)
  if s3s_ok; then say "s3s-fs $S3S_VERSION: already installed ($(since "$t0"))"; return; fi
  while foreign_s3s_build && ! s3s_ok; do
    ((waited % 60 == 0)) && say "s3s-fs: another build into $BED_HOME is running (log $log); waiting"
    ((waited >= INSTALL_WAIT)) && die "s3s-fs: gave up waiting ${INSTALL_WAIT}s for the other build"
    sleep 5; waited=$((waited + 5))
  done
  if s3s_ok; then say "s3s-fs $S3S_VERSION: installed by another build ($(since "$t0"))"; return; fi
  command -v cargo >/dev/null || die "cargo not found (needed to build s3s-fs)"
  say "s3s-fs $S3S_VERSION: building with cargo install (~6 min on 2 cores; log $log)"
  # Own target dir: an interrupted build resumes next time; removed after success.
  if ! CARGO_TARGET_DIR=$BED_HOME/cargo-target \
      cargo install s3s-fs --version "$S3S_VERSION" --features binary --locked \
        --root "$BED_HOME" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "s3s-fs: cargo install failed (full log: $log)"
  fi
  rm -rf "$BED_HOME/cargo-target"
  s3s_ok || die "s3s-fs: cargo install succeeded but $S3S_BIN --version is not $S3S_VERSION"
  say "s3s-fs $S3S_VERSION: installed ($(since "$t0"))"
}

moto_ok() {
  [[ -f $VENV_MARK && -x $VENV/bin/moto_server ]] &&
    "$VENV_PY" -c "import moto, boto3, flask, werkzeug; assert moto.__version__ == '$MOTO_VERSION'" 2>/dev/null
}

install_moto() {
  local t0 log=$BED_HOME/moto-install.log
  t0=$(now)
  if moto_ok; then say "moto $MOTO_VERSION: already installed ($(since "$t0"))"; return; fi
  command -v "$BED_PYTHON" >/dev/null || die "$BED_PYTHON not found (needed for moto)"
  say "moto $MOTO_VERSION: creating venv $VENV (log $log)"
  rm -rf "$VENV"
  {
    "$BED_PYTHON" -m venv "$VENV" &&
      "$VENV_PY" -m pip install --disable-pip-version-check --no-input \
        "moto[server]==$MOTO_VERSION" "boto3==$BOTO3_VERSION"
  } >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "moto: venv/pip install failed (full log: $log)"; }
  echo "moto==$MOTO_VERSION boto3==$BOTO3_VERSION" >"$VENV_MARK"
  moto_ok || die "moto: installed but not importable with $VENV_PY (log $log)"
  say "moto $MOTO_VERSION: installed ($(since "$t0"))"
}

cmd_install() {
  mkdir -p "$BED_HOME"
  # One installer at a time per BED_HOME (parallel `make test` in two checkouts).
  exec 9>"$BED_HOME/install.lock"
  flock 9
  install_s3s
  install_moto
  exec 9>&-
}

# ---------------------------------------------------------------- start / stop

# Random credentials shaped like AWS ones: AKIA + 16 [A-Z0-9]; a 40-char base64 secret that
# always contains '/' and '+' (they must survive SigV4 and any quoting on the way).
rand_key_id() { printf 'AKIA%s' "$(head -c 2000 /dev/urandom | LC_ALL=C tr -dc 'A-Z0-9' | head -c 16)"; }
rand_secret() {
  local s
  s=$(head -c 30 /dev/urandom | base64 -w0)
  printf '%s/%s+%s' "${s:0:10}" "${s:11:14}" "${s:26:14}"
}

free_port() {
  "$VENV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# launch NAME PORT CMD...: start CMD in the background, log to $BED_RUN/NAME.log, record its pid.
launch() {
  local name=$1 port=$2; shift 2
  "$@" </dev/null >"$BED_RUN/$name.log" 2>&1 &
  echo "$name $! $port" >>"$PIDS"
}

pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$PIDS"; }

# wait_listening NAME PORT: until PORT accepts connections, or the process died, or timeout.
wait_listening() {
  local name=$1 port=$2 pid deadline
  pid=$(pid_of "$name")
  deadline=$(($(date +%s) + START_TIMEOUT))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$BED_RUN/$name.log" >&2
      die "$name exited during start-up (log $BED_RUN/$name.log)"
    fi
    if (($(date +%s) >= deadline)); then
      tail -n 20 "$BED_RUN/$name.log" >&2
      die "$name did not listen on 127.0.0.1:$port within ${START_TIMEOUT}s (log $BED_RUN/$name.log)"
    fi
    sleep 0.1
  done
}

# write_env FILE NAME=VALUE...: shell `export` lines, values single-quoted.
write_env() {
  local file=$1 kv; shift
  : >"$file.tmp"
  chmod 600 "$file.tmp"
  for kv in "$@"; do
    [[ ${kv#*=} != *"'"* ]] || die "unexpected quote in ${kv%%=*}"
    printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}" >>"$file.tmp"
  done
  mv "$file.tmp" "$file"
}

# check ENVFILE: put/get/list/delete, wrong secret -> 403, missing bucket, limited user if any.
check() {
  (
    set -a
    # shellcheck disable=SC1090
    . "$1"
    "$VENV_PY" -B "$HERE/check.py"
  ) >>"$BED_RUN/check.log" 2>&1 || { tail -n 20 "$BED_RUN/check.log" >&2; die "check of $1 failed (log $BED_RUN/check.log)"; }
}

cmd_start() {
  local t0 s3s_port moto_port s3s_key s3s_secret no_bucket data moto_creds
  t0=$(now)
  s3s_ok && moto_ok || die "servers not installed; run: $0 install"
  cmd_stop quiet
  mkdir -p "$BED_RUN"
  rm -rf "$BED_RUN/s3s-fs-data" "$BED_RUN"/*.log "$BED_RUN"/*.env
  # If start fails half-way, stop whatever it started.
  trap 'rc=$?; ((rc == 0)) || cmd_stop quiet; exit $rc' EXIT

  no_bucket=cacher-test-missing-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')

  # s3s-fs: a bucket is a directory under the root (mkdir is enough; checked by check.py).
  data=$BED_RUN/s3s-fs-data
  mkdir -p "$data/$BUCKET"
  s3s_key=$(rand_key_id)
  s3s_secret=$(rand_secret)
  s3s_port=$(free_port)
  launch s3s-fs "$s3s_port" "$S3S_BIN" --host 127.0.0.1 --port "$s3s_port" \
    --access-key "$s3s_key" --secret-key "$s3s_secret" "$data"

  moto_port=$(free_port)
  while [[ $moto_port == "$s3s_port" ]]; do moto_port=$(free_port); done
  # moto uses botocore inside the server: a caller's AWS_PROFILE naming a missing profile makes
  # every signature check fail with HTTP 500. Keep the caller's AWS settings away from it.
  launch moto "$moto_port" env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port"

  wait_listening s3s-fs "$s3s_port"
  wait_listening moto "$moto_port"
  say "servers listening: s3s-fs :$s3s_port, moto :$moto_port ($(since "$t0"))"

  write_env "$BED_RUN/s3s-fs.env" \
    CACHER_TEST_SERVER=s3s-fs \
    CACHER_TEST_ENDPOINT="http://127.0.0.1:$s3s_port" \
    CACHER_TEST_REGION=$REGION \
    CACHER_TEST_BUCKET=$BUCKET \
    CACHER_TEST_NO_BUCKET="$no_bucket" \
    CACHER_TEST_KEY_ID="$s3s_key" \
    CACHER_TEST_SECRET="$s3s_secret"

  # moto: users, policies, bucket through its own API, then switch auth on (see moto_setup.py).
  moto_creds=$("$VENV_PY" -B "$HERE/moto_setup.py" "http://127.0.0.1:$moto_port" "$REGION" "$BUCKET" \
    2>>"$BED_RUN/moto-setup.log") || {
    tail -n 20 "$BED_RUN/moto-setup.log" >&2
    die "moto set-up failed (log $BED_RUN/moto-setup.log)"
  }
  # $moto_creds is NAME=VALUE words without spaces: split on purpose.
  # shellcheck disable=SC2086
  write_env "$BED_RUN/moto.env" \
    CACHER_TEST_SERVER=moto \
    CACHER_TEST_ENDPOINT="http://127.0.0.1:$moto_port" \
    CACHER_TEST_REGION=$REGION \
    CACHER_TEST_BUCKET=$BUCKET \
    CACHER_TEST_NO_BUCKET="$no_bucket" \
    $moto_creds

  check "$BED_RUN/s3s-fs.env"
  check "$BED_RUN/moto.env"
  trap - EXIT
  say "started and verified in $(since "$t0"); env files: $BED_RUN/s3s-fs.env $BED_RUN/moto.env"
}

# alive PID: exists and is not a zombie (our servers get re-parented; their reaper may be slow).
alive() { [[ -r /proc/$1/stat ]] && [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

cmd_stop() {
  local quiet=${1:-} name pid port cmdline live=() i
  if [[ ! -f $PIDS ]]; then
    [[ -n $quiet ]] || say "nothing to stop"
    return 0
  fi
  while read -r name pid port; do
    [[ $pid =~ ^[0-9]+$ ]] || continue
    # Only signal the process if it is still the one we started (pids get reused).
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    case $name in
      s3s-fs) [[ $cmdline == "$S3S_BIN "* ]] || continue ;;
      moto) [[ $cmdline == *"$VENV/bin/moto_server "* ]] || continue ;;
      *) continue ;;
    esac
    kill -TERM "$pid" 2>/dev/null && live+=("$pid")
    [[ -n $quiet ]] || say "stopping $name (pid $pid, port $port)"
  done <"$PIDS"
  for ((i = 0; i < 100; i++)); do   # up to 10 s for a clean exit
    local still=()
    for pid in "${live[@]}"; do alive "$pid" && still+=("$pid"); done
    live=("${still[@]}")
    ((${#live[@]} == 0)) && break
    sleep 0.1
  done
  for pid in "${live[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # Our own children (start's background jobs) can be reaped; others just vanish.
  wait 2>/dev/null || true
  rm -f "$PIDS" "$BED_RUN/s3s-fs.env" "$BED_RUN/moto.env"
}

cmd_env() {
  local server=${1:-}
  case $server in
    s3s-fs | moto) ;;
    *) die "usage: $0 env s3s-fs|moto" ;;
  esac
  [[ -f $BED_RUN/$server.env ]] || die "$BED_RUN/$server.env missing; run: $0 start"
  echo "$BED_RUN/$server.env"
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env "${2:-}" ;;
  *) die "usage: $0 install | start | stop | env s3s-fs|moto" ;;
esac
