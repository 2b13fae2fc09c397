#!/usr/bin/env bash
# Runs each libFuzzer target of quarry-fuzz for FUZZ_SECONDS and prints, per
# target, the inputs executed and the crashes found. Crashing inputs are saved
# under Fuzz/crashes/<target>/; move each into Fuzz/regressions/<target>/ once
# fixed, where the test suite replays it (FuzzRegressionTests).
#
#   scripts/fuzz.sh [TARGET...]        (default: text json jsonl protocol query reply)
#   FUZZ_SECONDS=300 scripts/fuzz.sh query
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
scratch=${FUZZ_SCRATCH:-.build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(text json jsonl protocol query reply)

swift build -c debug --product quarry-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --scratch-path "$scratch" >&2
binary="$scratch/debug/quarry-fuzz"

summary=()
for target in "${targets[@]}"; do
    work="$scratch/fuzz-corpus/$target"   # grows across runs; the committed seeds stay small
    crashes="Fuzz/crashes/$target"
    mkdir -p "$work" "$crashes"
    log="$scratch/fuzz-$target.log"
    echo "fuzzing $target for $seconds s (log: $log)" >&2
    # Fork mode keeps going after a crash, so one run counts them all. The query
    # target indexes Corpus/ when it starts, which fork mode would redo for every
    # job: it runs in one process and stops at its first crash.
    fork=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    [ "$target" != query ] || fork=()
    QUARRY_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$binary" "${fork[@]}" \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" "Fuzz/seeds/$target" >"$log" 2>&1 || true
    if [ ${#fork[@]} -gt 0 ]; then
        # Fork-mode status lines: "#EXECS: cov: … oom/timeout/crash: O/T/C time: …".
        last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)
        executions=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
        found=$(sed -nE 's|.*oom/timeout/crash: ([0-9]+)/([0-9]+)/([0-9]+).*|\3 crashes, \2 timeouts, \1 out-of-memory|p' <<<"$last")
    else
        executions=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$log" | tail -1)
        [ -n "$executions" ] || executions=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
        crashed=$(grep -cE 'ERROR: (libFuzzer|AddressSanitizer)' "$log" || true)
        found="$crashed crashes (a crash stops this target's run)"
    fi
    saved=$(find "$crashes" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    line="$target: ${executions:-0} executions in $seconds s, ${found:-0 crashes}; $saved inputs in $crashes"
    summary+=("$line")
    echo "$line" >&2
done
echo
echo "fuzzing summary (${seconds} s per target):"
printf '  %s\n' "${summary[@]}"
