#!/usr/bin/env bash
# `make bench`: cacher versus what users run today, side by side, on loopback S3 servers.
#
# Builds target/release/cacher, starts s3s-fs through the test bed (and Garage when a `garage`
# binary is on PATH or in ~/.cache/cacher-testbed/bin), then measures, each tool in the same
# run and in rotating order, median of BENCH_REPS (>= 3) runs:
#   1. a random file of BENCH_FILE_MB MiB: cacher upload/download, aws s3 cp, curl --aws-sigv4
#   2. a generated tree of BENCH_TREE_MB MB of small files: cacher dir upload/download,
#      tar | zstd -3 -T0 | aws s3 cp -  and back into a fresh directory (+ curl and local refs)
#   3. the cache-hit check: cacher exists, aws s3api head-object, curl -I (BENCH_EXISTS_REPS)
#   4. a ~200 MB docker image: cacher docker upload/download vs docker save | zstd | aws s3 cp
#      and back (bench/docker.sh; BENCH_DOCKER=0 skips it; starts tests/bed/docker.sh if needed)
# and prints one markdown table, also written to target/bench/results.md (raw runs:
# target/bench/raw.jsonl). It asserts nothing about time. Everything it creates (inputs,
# restored trees, bucket objects, server data) is removed at exit.
#
# Knobs: BENCH_QUICK=1 (256 MiB file, 150 MB tree), BENCH_FILE_MB (1024), BENCH_TREE_MB (600),
# BENCH_REPS (3), BENCH_EXISTS_REPS (20), BENCH_LOCAL_REFS=0 (skip the no-S3 tar/zstd rows),
# BENCH_GARAGE=0 (skip Garage), BENCH_CACHER_ENV="CACHER_CONCURRENCY=8 ..." (try settings),
# BENCH_KEEP=1 (keep the server logs in target/bench-bed).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
HERE=$REPO/bench

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  FILE_MB=${BENCH_FILE_MB:-256}; TREE_MB=${BENCH_TREE_MB:-150}
else
  FILE_MB=${BENCH_FILE_MB:-1024}; TREE_MB=${BENCH_TREE_MB:-600}
fi
REPS=${BENCH_REPS:-3}
EXISTS_REPS=${BENCH_EXISTS_REPS:-20}
((REPS >= 1)) || die "BENCH_REPS must be >= 1"
((REPS >= 3)) || say "warning: BENCH_REPS=$REPS: fewer than 3 runs per tool, medians are weak"

BED_HOME=${CACHER_TESTBED_HOME:-$HOME/.cache/cacher-testbed}
export BED_RUN=$REPO/target/bench-bed
OUT=$REPO/target/bench
mkdir -p "$OUT"

# ---------------------------------------------------------------- tools

command -v python3 >/dev/null || die "python3 is needed (the test bed needs it too)"
command -v curl >/dev/null || die "curl is needed"
for t in tar cmp diff; do command -v $t >/dev/null || die "$t is needed"; done

apt_install() {  # apt_install PACKAGE: only as root, only when missing
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "installing $1 with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null; }
  else
    die "$1 is missing: install it (e.g. sudo apt-get install -y $1)"
  fi
}
command -v zstd >/dev/null || apt_install zstd

AWS=$(command -v aws || true)
if [[ -z $AWS ]]; then
  venv=$BED_HOME/awscli-venv
  if [[ ! -x $venv/bin/aws ]]; then
    say "aws cli not found: installing awscli (v1) into $venv"
    mkdir -p "$BED_HOME"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check awscli >"$BED_HOME/awscli-install.log" 2>&1 ||
      { tail -20 "$BED_HOME/awscli-install.log" >&2; die "pip install awscli failed"; }
  fi
  AWS=$venv/bin/aws
fi

GARAGE_BIN=
if [[ ${BENCH_GARAGE:-1} != 0 ]]; then
  if [[ -x $BED_HOME/bin/garage ]]; then GARAGE_BIN=$BED_HOME/bin/garage
  elif command -v garage >/dev/null; then GARAGE_BIN=$(command -v garage)
  fi
fi

# ---------------------------------------------------------------- build

say "building cacher (cargo build --release -p cacher)"
cargo build --release -p cacher --quiet
CACHER=$REPO/target/release/cacher

# ---------------------------------------------------------------- servers, clean-up

WORK=
SERVERS=()        # "name envfile pid" for each server started
PREFIX=bench-$(date +%Y%m%d-%H%M%S)-$$
status=failed
cleanup() {
  local rc=$? s name env pid
  trap - EXIT INT TERM
  for s in "${SERVERS[@]}"; do
    read -r name env pid <<<"$s"
    python3 "$HERE/bench.py" cleanup --env-file "$env" --aws "$AWS" --prefix "$PREFIX" ||
      say "warning: could not clean s3://…/$PREFIX/ on $name"
  done
  if [[ -n $GARAGE_BIN ]]; then
    CACHER_TESTBED_HOME=$GARAGE_HOME bash tests/bed/garage.sh stop >/dev/null 2>&1 || true
  fi
  bash tests/bed/bed.sh stop >/dev/null 2>&1 || true
  [[ -n $WORK ]] && rm -rf "$WORK"
  if [[ $status == ok && ${BENCH_KEEP:-0} != 1 ]]; then
    rm -rf "$BED_RUN"
  else
    rm -rf "$BED_RUN/s3s-fs-data" "$BED_RUN/garage/data" "$BED_RUN/garage/meta"
    [[ $status == ok ]] || say "server logs kept in $BED_RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting s3s-fs (test bed, BED_RUN=$BED_RUN)"
bash tests/bed/bed.sh install >&2
bash tests/bed/bed.sh start >&2
S3S_ENV=$(bash tests/bed/bed.sh env s3s-fs)
S3S_PID=$(awk '$1 == "s3s-fs" { print $2 }' "$BED_RUN/pids")
SERVERS+=("s3s-fs $S3S_ENV $S3S_PID")

GARAGE_HOME=$BED_HOME
GARAGE_NOTE=
if [[ -n $GARAGE_BIN ]]; then
  if [[ $GARAGE_BIN != "$BED_HOME/bin/garage" ]]; then
    # garage.sh runs $CACHER_TESTBED_HOME/bin/garage: point a private home at the one on PATH.
    GARAGE_HOME=$BED_RUN/garage-home
    mkdir -p "$GARAGE_HOME/bin"
    ln -sf "$GARAGE_BIN" "$GARAGE_HOME/bin/garage"
  fi
  say "starting Garage ($GARAGE_BIN)"
  CACHER_TESTBED_HOME=$GARAGE_HOME bash tests/bed/garage.sh start >&2
  SERVERS+=("garage $BED_RUN/garage.env $(cat "$BED_RUN/garage/pid")")
  GARAGE_NOTE="Garage: $("$GARAGE_BIN" --version 2>/dev/null | head -1)"
else
  GARAGE_NOTE="Garage: skipped (no garage binary on PATH or in $BED_HOME/bin; \`make test-garage\` builds one)"
  [[ ${BENCH_GARAGE:-1} == 0 ]] && GARAGE_NOTE="Garage: skipped (BENCH_GARAGE=0)"
  say "$GARAGE_NOTE"
fi

# ---------------------------------------------------------------- inputs

WORK=$(mktemp -d "$OUT/work.XXXXXX")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average $LOAD_START; writing a ${FILE_MB} MiB random file and a ${TREE_MB} MB tree"
head -c $((FILE_MB << 20)) /dev/urandom >"$WORK/file.bin"
TREE_SUMMARY=$(python3 "$HERE/gentree.py" "$WORK/tree" "$TREE_MB" 42)
TREE_BYTES=$(awk '{ print $(NF-1) }' <<<"$TREE_SUMMARY")
say "tree: $TREE_SUMMARY"

# ---------------------------------------------------------------- measure

RAW=$OUT/raw.jsonl
: >"$RAW"
T0=$(date +%s)
for s in "${SERVERS[@]}"; do
  read -r name env pid <<<"$s"
  python3 "$HERE/bench.py" measure --server "$name" --env-file "$env" --server-pid "$pid" \
    --raw "$RAW" --work "$WORK" --prefix "$PREFIX" --cacher "$CACHER" --aws "$AWS" \
    --file "$WORK/file.bin" --tree "$WORK/tree" --tree-bytes "$TREE_BYTES" \
    --reps "$REPS" --exists-reps "$EXISTS_REPS" --local-refs "${BENCH_LOCAL_REFS:-1}" \
    --cacher-env "${BENCH_CACHER_ENV:-}"
done
T1=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

sizes=""
for s in "${SERVERS[@]}"; do
  read -r name _ _ <<<"$s"
  sizes+="${sizes:+; }$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(", ".join(f"{k} {v/1e6:.0f} MB" for k, v in d.items()))' "$WORK/$name.sizes.json")"
done
dirty=
git diff --quiet HEAD -- 2>/dev/null || dirty=" (built from a working tree with uncommitted changes)"
export M_NPROC=$(nproc) M_CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) \
  M_RAM=$(free -g | awk '/Mem:/ {print $2}') M_LOAD_START="$LOAD_START" M_LOAD_END="$LOAD_END" \
  M_CACHER="$("$CACHER" --version 2>&1 | head -1)$dirty" M_CACHER_ENV="${BENCH_CACHER_ENV:-}" \
  M_AWS="$("$AWS" --version 2>&1 | head -1)" M_CURL="$(curl --version | head -1 | cut -d' ' -f1-2)" \
  M_ZSTD="$(zstd --version | sed 's/.*v\([0-9.]*\).*/zstd \1/')" M_TAR="$(tar --version | head -1)" \
  M_S3S="$("$BED_HOME/bin/s3s-fs" --version)" M_GARAGE="$GARAGE_NOTE" M_FILE_MB=$FILE_MB \
  M_TREE="$TREE_SUMMARY" M_SIZES="$sizes" M_REPS=$REPS M_EXISTS_REPS=$EXISTS_REPS M_SECS=$((T1 - T0))
python3 "$HERE/bench.py" meta --out "$OUT/meta.json"
python3 "$HERE/bench.py" report --raw "$RAW" --meta "$OUT/meta.json" --out "$OUT/results.md"

# ---------------------------------------------------------------- docker row (issue 5)
if [[ ${BENCH_DOCKER:-1} != 0 ]]; then
  docker_env=
  if ! docker info >/dev/null 2>&1; then
    bash tests/bed/docker.sh start >&2 && docker_env=$BED_RUN/docker.env || true
  fi
  if ( [[ -z $docker_env ]] || . "$docker_env"; docker info >/dev/null 2>&1 ); then
    say "docker row: a ~200 MB image through cacher and through docker save | zstd | aws"
    ( [[ -z $docker_env ]] || . "$docker_env"; bash "$HERE/docker.sh" "$S3S_ENV" "$CACHER" "$AWS" ) >>"$OUT/results.md"
  else
    printf '\nDocker row: skipped (no docker engine could be reached or started).\n' >>"$OUT/results.md"
  fi
  [[ -z $docker_env ]] || bash tests/bed/docker.sh stop >/dev/null 2>&1 || true
fi

say "table written to target/bench/results.md (raw runs: target/bench/raw.jsonl)"
status=ok
