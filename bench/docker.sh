#!/usr/bin/env bash
# The docker row of `make bench` (issue 5): a locally built ~200 MB image (FROM scratch, four
# 50 MiB files of random bytes, so compression cannot flatter anyone), moved through the bucket
# by `cacher docker upload` / `cacher docker download` and by what users script today:
#   docker save IMG | zstd -T0 | aws s3 cp - s3://B/K      and
#   aws s3 cp s3://B/K - | zstd -d | docker load
# Each side by side in the same run, median wall time of BENCH_REPS (>= 3) runs; the image is
# removed before every download so each one really loads. Prints one markdown table on stdout.
# Asserts nothing about time.
#
#   bash bench/docker.sh ENV_FILE CACHER AWS      (ENV_FILE: a test-bed env file, tests/bed)
#
# Needs a docker engine (`docker info`); bench/run.sh starts tests/bed/docker.sh when it can.
set -euo pipefail
env_file=$1 cacher=$2 aws=$3
reps=${BENCH_REPS:-3}
# shellcheck disable=SC1090
. "$env_file"
export AWS_ACCESS_KEY_ID=$CACHER_TEST_KEY_ID AWS_SECRET_ACCESS_KEY=$CACHER_TEST_SECRET
export AWS_DEFAULT_REGION=$CACHER_TEST_REGION AWS_EC2_METADATA_DISABLED=true
export CACHER_ENDPOINT=$CACHER_TEST_ENDPOINT CACHER_BUCKET=$CACHER_TEST_BUCKET
export CACHER_REGION=$CACHER_TEST_REGION CACHER_S3_KEY_ID=$CACHER_TEST_KEY_ID
export CACHER_S3_SECRET=$CACHER_TEST_SECRET
prefix=bench-docker-$$
image=cacher-bench-image:$$
work=$(mktemp -d)
cleanup() {
  docker rmi -f "$image" >/dev/null 2>&1 || true
  "$cacher" -q delete --recursive "$prefix/" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/ctx"
for i in 1 2 3 4; do head -c $((50 << 20)) /dev/urandom >"$work/ctx/blob$i"; done
printf 'FROM scratch\nCOPY . /data\n' >"$work/ctx/Dockerfile"
docker build -q -t "$image" "$work/ctx" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image")

# t NAME CMD: wall seconds of CMD (a bash -c string), appended to $work/NAME.
t() {
  local name=$1 start end
  shift
  start=$(date +%s.%N)
  bash -c "$1" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; echo "bench/docker.sh: failed: $1" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' >>"$work/$name"
}
ep=$CACHER_TEST_ENDPOINT b=$CACHER_TEST_BUCKET
for ((r = 1; r <= reps; r++)); do
  t cacher-up "'$cacher' -q docker upload '$prefix/c$r' '$image' --force"
  t aws-up "docker save '$image' | zstd -q -T0 -3 | '$aws' --endpoint-url '$ep' s3 cp --only-show-errors - 's3://$b/$prefix/a$r'"
  docker rmi -f "$image" >/dev/null
  t cacher-down "'$cacher' -q docker download '$prefix/c$r' '$image'"
  docker rmi -f "$image" >/dev/null
  t aws-down "'$aws' --endpoint-url '$ep' s3 cp --only-show-errors 's3://$b/$prefix/a$r' - | zstd -q -d | docker load"
done

median() { sort -n "$work/$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
row() { # row WHAT TOOL FILE BASE
  local m base
  m=$(median "$3")
  base=$(median "$4")
  awk -v srv="$CACHER_TEST_SERVER" -v what="$1" -v tool="$2" -v reps="$reps" -v size="$size" \
    -v m="$m" -v base="$base" \
    'BEGIN { printf "| %s | %s | %s | %d | %.0f | %.2f | %.2f |\n", srv, what, tool, reps, size / 1e6 / m, base / m, m }' 
}
echo
echo "Docker image of $((size / 1000000)) MB (four 50 MiB random files, FROM scratch), on $CACHER_TEST_SERVER; median of $reps."
echo
echo '| server | what | tool | runs | MB/s | × aws | wall s |'
echo '|---|---|---|---:|---:|---:|---:|'
row "image upload" "**cacher docker upload**" cacher-up aws-up
row "image upload" "docker save \| zstd -T0 \| aws s3 cp -" aws-up aws-up
row "image download" "**cacher docker download**" cacher-down aws-down
row "image download" "aws s3 cp - \| zstd -d \| docker load" aws-down aws-down
