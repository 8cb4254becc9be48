#!/usr/bin/env bash
# `make test`: everything the suite needs, installed and started here, then every test.
#  1. lint (rustfmt, clippy -D warnings)
#  2. unit tests of every crate, and the SigV4 test-vector suite
#  3. the test bed: s3s-fs and moto installed (cached under ~/.cache/cacher-testbed) and started;
#     a docker engine and a loopback registry (tests/bed/docker.sh) for the docker tests;
#     stunnel4 + openssl for the HTTPS tests; the static release binary (scripts/static.sh,
#     which adds the musl target and musl-tools) for the empty-container test
#  4. the integration suite (tests/it) once per server, with that server's CACHER_TEST_* env
# The servers this script started are stopped on exit, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s\n' "$*"; }

step "lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "unit tests and SigV4 vectors"
cargo test --workspace --lib --bins --tests --exclude cacher
cargo test -p cacher --lib --bins

step "test bed: install"
bash tests/bed/bed.sh install
bash tests/bed/tools.sh stunnel4 openssl

step "static release binary (for the empty-container test)"
static_bin=$(bash scripts/static.sh amd64 | cut -d' ' -f1)
export CACHER_TEST_STATIC_BIN=$PWD/$static_bin

trap 'bash tests/bed/docker.sh stop || true; bash tests/bed/bed.sh stop || true' EXIT
step "test bed: start"
bash tests/bed/bed.sh start
# `make test-garage` (CACHER_TEST_SERVERS=garage): started after bed.sh, which resets the run
# directory the env files live in.
if [[ " ${CACHER_TEST_SERVERS:-} " == *" garage "* ]]; then
  trap 'bash tests/bed/garage.sh stop || true; bash tests/bed/docker.sh stop || true; bash tests/bed/bed.sh stop || true' EXIT
  step "test bed: Garage"
  bash tests/bed/garage.sh start
fi
step "test bed: docker engine and registry"
# Without them the docker tests fail (one line each, saying why); the rest still runs.
bash tests/bed/docker.sh start || echo "the docker bed did not start: the docker tests will fail" >&2
docker_env=${BED_RUN:-target/testbed}/docker.env

# Build the integration binary once, outside the per-server runs.
cargo test -p cacher --test it --no-run

failed=()
for server in ${CACHER_TEST_SERVERS:-s3s-fs moto}; do
  step "integration tests against $server"
  # Garage comes from `make test-garage` (tests/bed/garage.sh), the others from bed.sh.
  if [[ $server == garage ]]; then
    envfile=${BED_RUN:-target/testbed}/garage.env
  else
    envfile=$(bash tests/bed/bed.sh env "$server")
  fi
  if ! ( set -a; . "$envfile"; if [[ -f $docker_env ]]; then . "$docker_env"; fi; set +a; cargo test -p cacher --test it -- --test-threads "${CACHER_TEST_THREADS:-4}" ); then
    failed+=("$server")
  fi
done

if ((${#failed[@]})); then
  echo "integration tests failed against: ${failed[*]}" >&2
  exit 1
fi
echo "all suites passed"
