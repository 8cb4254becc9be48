# cacher — build, test, demo, bench. `make test` is the one command CI runs (via .ci/run):
# it installs and starts everything the tests need (see tests/run.sh and tests/bed/README.md).

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

PREFIX ?= /usr/local

.PHONY: install all build release test test-garage test-unit lint demo bench static dist clean-bed

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

## The full suite: lint, unit tests, SigV4 vectors, then the integration suite against
## s3s-fs and moto, installed and started by tests/bed/bed.sh.
test:
	bash tests/run.sh

## Opt-in: the integration suite against Garage (built from crates.io the first time, ~20 min).
test-garage:
	bash tests/bed/garage.sh install
	CACHER_TEST_SERVERS=garage bash tests/run.sh

## Unit tests and SigV4 vectors only (no servers).
test-unit:
	$(CARGO) test --workspace --lib --bins
	$(CARGO) test -p sigv4

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

demo:
	bash tests/demo.sh

## Benchmarks against the tools users run today (asserts nothing about time).
bench:
	bash bench/run.sh

## A fully static, stripped x86_64 musl binary: target/x86_64-unknown-linux-musl/release/cacher
static:
	bash scripts/static.sh amd64

## $(PREFIX)/bin/cacher, and $(PREFIX)/bin/cache -> cacher (Semaphore's cache CLI mode).
install:
	cargo build --release --locked -p cacher
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 target/release/cacher $(DESTDIR)$(PREFIX)/bin/cacher
	ln -sf cacher $(DESTDIR)$(PREFIX)/bin/cache

## dist/cacher-linux-amd64, dist/cacher-linux-arm64 and dist/checksums.txt
dist:
	bash scripts/dist.sh

clean-bed:
	bash tests/bed/bed.sh stop || true
