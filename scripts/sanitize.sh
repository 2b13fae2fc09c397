#!/usr/bin/env bash
# Runs the whole test suite under one sanitizer (`make sanitize` runs both, one
# after the other). Every process's reports go to files: the test runner's, and
# those of each `quarry` the end-to-end tests start, whose stderr the tests
# capture and would otherwise throw away. The run fails on a failed test or on
# any report, and prints the reports.
#
#   scripts/sanitize.sh address|thread
#
# The build goes to .build-asan or .build-tsan, the reports to
# <that>/sanitizer-reports/report.<pid>. A sanitized build runs several times
# slower, so the tests' time limits and latency bounds are scaled by
# QUARRY_TEST_TIME_SCALE (10 unless set; Tests/QuarryEndToEndTests/Support.swift).
set -uo pipefail
cd "$(dirname "$0")/.."
swift=${SWIFT:-swift}
case ${1:-} in
    address)
        scratch=.build-asan
        variable=ASAN_OPTIONS
        # LeakSanitizer is off: the Swift runtime and Foundation keep caches at exit that it reports.
        options="detect_leaks=0"
        ;;
    thread)
        scratch=.build-tsan
        variable=TSAN_OPTIONS
        options="suppressions=$PWD/scripts/tsan.supp halt_on_error=0"
        ;;
    *)
        echo "usage: $0 address|thread" >&2
        exit 2
        ;;
esac

reports=$PWD/$scratch/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
start=$(date +%s)
env QUARRY_TEST_TIME_SCALE="${QUARRY_TEST_TIME_SCALE:-10}" "$variable=$options log_path=$reports/report" \
    "$swift" test --sanitize="$1" --scratch-path "$scratch"
status=$?
count=0
for file in "$reports"/report.*; do
    [ -f "$file" ] || continue
    count=$((count + 1))
    echo "==== $file"
    cat "$file"
done
echo "$1 sanitizer: swift test exited with $status; $count report file(s) in $reports; $(($(date +%s) - start)) s"
[ "$status" -eq 0 ] && [ "$count" -eq 0 ]
