#!/usr/bin/env bash
# One command: build quarry and quarry-bench in release mode, install the peers'
# needs (python3-xapian, only if missing), then generate a seeded corpus and run
# Quarry's index and query benchmarks and both peers on it back to back.
#
#   Benchmarks/compare.sh                      # 10,000 articles
#   Benchmarks/compare.sh --articles 100000    # any quarry-bench compare option
#   Benchmarks/compare.sh --quick              # a few seconds, tiny corpus
#
# SCRATCH (default .build-bench) is the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-.build-bench}"
Benchmarks/peers/run.sh --install-only
swift build -c release --scratch-path "$SCRATCH" --product quarry >&2
swift build -c release --scratch-path "$SCRATCH" --product quarry-bench >&2
exec "$SCRATCH/release/quarry-bench" compare --peers Benchmarks/peers "$@"
