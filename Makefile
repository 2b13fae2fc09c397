# Quarry: `make run` builds, indexes Corpus/ and serves it; `make test` runs every test.
SWIFT    ?= swift
INDEX    ?= .quarry/index
SOCKET   ?= .quarry/quarry.sock
QUERY    ?= diplomacy

.PHONY: deps test-deps build run test release-check test-long fuzz sanitize sanitize-address sanitize-thread soak bench bench-quick clean

# Installs Xapian's development package only where it is missing.
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists xapian-core; then \
		echo "installing libxapian-dev"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libxapian-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build -c release --product quarry

run: build
	@mkdir -p $(dir $(INDEX))
	.build/release/quarry index Corpus --index $(INDEX)
	.build/release/quarry search "$(QUERY)" --index $(INDEX) --limit 3
	.build/release/quarry serve --index $(INDEX) --socket $(SOCKET)

# The tests also drive Xapian's own network tools (remote shards, replication);
# the release check is partly Python.
test-deps: deps
	@if ! command -v xapian-tcpsrv >/dev/null 2>&1; then \
		echo "installing xapian-tools for the shard tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y xapian-tools; \
	fi
	@if ! command -v python3 >/dev/null 2>&1; then \
		echo "installing python3 for the release check"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3; \
	fi

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) release-check

# The query paths once more in a release build (scripts/release-check.sh): the tests
# run a debug build, and some lifetime bugs show only in optimised code.
release-check: test-deps
	$(SWIFT) build -c release --scratch-path .build-release --product quarry
	$(SWIFT) build -c release --scratch-path .build-release --product quarry-bench
	scripts/release-check.sh .build-release/release

# The tests that take minutes in a debug build (a 100,000-comment article, a 100 MB file).
test-long: deps
	$(SWIFT) build --build-tests
	QUARRY_LONG_TESTS=1 $(SWIFT) test --skip-build --filter IndexFaultTests

# libFuzzer over the corpus readers, the request parser and the query path
# (FUZZ_SECONDS each; FUZZ_TARGETS to choose). Prints executions and crashes per target.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= text json jsonl protocol query reply
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

# The whole test suite under AddressSanitizer, then ThreadSanitizer (.build-asan, .build-tsan;
# one after the other, never both at once). Reports from every process, the quarry binaries the
# tests start included, are collected and fail the run (scripts/sanitize.sh). A sanitized build
# runs several times slower, so the tests' time limits and latency bounds are scaled by
# SANITIZE_TIME_SCALE (QUARRY_TEST_TIME_SCALE, read in Tests/QuarryEndToEndTests/Support.swift).
SANITIZE_TIME_SCALE ?= 10
sanitize: test-deps
	$(MAKE) sanitize-address; address=$$?; $(MAKE) sanitize-thread && test $$address -eq 0

sanitize-address: test-deps
	SWIFT=$(SWIFT) QUARRY_TEST_TIME_SCALE=$(SANITIZE_TIME_SCALE) scripts/sanitize.sh address

sanitize-thread: test-deps
	SWIFT=$(SWIFT) QUARRY_TEST_TIME_SCALE=$(SANITIZE_TIME_SCALE) scripts/sanitize.sh thread

# The daemon under mixed load from SOAK_CLIENTS clients while `quarry index --watch` writes
# (release build; docs/RELIABILITY.md).
SOAK_SECONDS ?= 600
SOAK_CLIENTS ?= 16
soak: deps
	$(SWIFT) build -c release --scratch-path .build-soak
	scripts/soak.py --bin .build-soak/release --seconds $(SOAK_SECONDS) --clients $(SOAK_CLIENTS)

# Quarry against python3-xapian and SQLite FTS5 on a generated corpus, one table
# (docs/PERFORMANCE.md); installs python3-xapian if missing. ARTICLES=100000 for the big run.
ARTICLES ?= 10000
bench: deps
	Benchmarks/compare.sh --articles $(ARTICLES)

# The same on a tiny corpus in a few seconds: checks that the benchmark works, not a timing.
bench-quick: deps
	Benchmarks/compare.sh --quick

clean:
	rm -rf .build .quarry
