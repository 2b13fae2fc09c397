#!/usr/bin/env bash
# The query paths in a release build, the build users run: optimised code
# frees temporaries sooner than a debug build, and `quarry search --collapse`
# once crashed only there (docs/RELIABILITY.md). Indexes Corpus/, runs the
# benchmark's query modes briefly, then compares the daemon (columns built)
# with `quarry search` (none) over the mix under five request variants.
# Usage: scripts/release-check.sh BIN_DIR   (holding quarry and quarry-bench)
set -euo pipefail
bin=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/quarry-release-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$bin/quarry" index Corpus --index "$work/index" --quiet
"$bin/quarry-bench" query --index "$work/index" --clients 1,8 --requests 200 --mix-out "$work/mix.json" --json >"$work/query.json"
python3 - "$work/query.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
failed = [f"{r['mode']} at {r['clients']}: {r['errors']} failed ({r.get('firstError')})" for r in results if r["errors"]]
print(f"quarry-bench query: {len(results)} modes, {sum(r['queries'] for r in results)} queries, {len(failed)} modes with failures")
sys.exit("\n".join(failed) if failed else 0)
PY
python3 Benchmarks/daemon_answers_match.py --quarry "$bin/quarry" --index "$work/index" --mix "$work/mix.json"
