#!/usr/bin/env bash
# Installs what the peers need (python3-xapian for /usr/bin/python3, only if it
# is missing) and runs both peers on one corpus with one query mix.
#
#   Benchmarks/peers/run.sh --install-only
#   Benchmarks/peers/run.sh CORPUS WORKDIR MIX.json [--duration S | --requests N] [--threads 1,2]
#
# MIX.json comes from `quarry-bench query --index … --mix-out MIX.json`, so the
# peers run exactly Quarry's queries. Reports land in WORKDIR as
# xapian-index.json, xapian-query.json, fts5-index.json, fts5-query.json.
# The product never depends on any of this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"

install_peers() {
    if ! "$PYTHON" -c 'import xapian' 2>/dev/null; then
        echo "run.sh: installing python3-xapian for $PYTHON" >&2
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y python3-xapian
    fi
    "$PYTHON" -c 'import sqlite3; sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")' \
        || { echo "run.sh: $PYTHON's sqlite3 has no FTS5" >&2; exit 1; }
}

install_peers
if [[ "${1:-}" == "--install-only" ]]; then
    exit 0
fi
if [[ $# -lt 3 ]]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
corpus="$1"; work="$2"; mix="$3"; shift 3
mkdir -p "$work"
"$PYTHON" "$here/xapian_peer.py" index --corpus "$corpus" --db "$work/xapian-db" --json > "$work/xapian-index.json"
"$PYTHON" "$here/xapian_peer.py" query --db "$work/xapian-db" --mix "$mix" --json "$@" > "$work/xapian-query.json"
"$PYTHON" "$here/fts5_peer.py" index --corpus "$corpus" --db "$work/fts5.db" --json > "$work/fts5-index.json"
"$PYTHON" "$here/fts5_peer.py" query --db "$work/fts5.db" --mix "$mix" --json "$@" > "$work/fts5-query.json"
echo "run.sh: reports in $work" >&2
