#!/usr/bin/python3
"""Checks that a daemon whose searchers have built their columns (facet
columns, the length column) answers exactly what `quarry search` answers
without them: every query of a benchmark mix under five request variants,
compared byte for byte as JSON.

The daemon builds its columns once searches have paid for them, so the mix
first runs through it a few times untimed. A one-off `quarry search --index`
never builds any. Run against a release build: that is what users run.

    swift build -c release --scratch-path .build-bench
    Benchmarks/daemon_answers_match.py --quarry .build-bench/release/quarry --index I --mix MIX.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading

VARIANTS = [
    [],
    ["--limit", "50", "--offset", "7"],
    ["--sort", "date"],
    ["--collapse"],
    ["--check-at-least", "100000"],
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarry", required=True, help="the quarry binary")
    parser.add_argument("--index", required=True)
    parser.add_argument("--mix", required=True, help="mix.json written by quarry-bench query --mix-out")
    parser.add_argument("--warm-rounds", type=int, default=3)
    args = parser.parse_args()

    queries = json.load(open(args.mix))["queries"]
    socket_path = os.path.join(tempfile.mkdtemp(prefix="quarry-answers-"), "quarry.sock")
    daemon = subprocess.Popen(
        [args.quarry, "serve", "--index", args.index, "--socket", socket_path, "--threads", "2", "--log-level", "info"],
        stderr=subprocess.PIPE, text=True)
    # Ready when it logs that it is serving.
    for line in daemon.stderr:
        if "serving" in line:
            break
    else:
        sys.exit("quarry serve exited before serving")
    # Keep reading its log so a full pipe never blocks it.
    threading.Thread(target=lambda: [None for _ in daemon.stderr], daemon=True).start()

    def search(query, variant, where):
        command = [args.quarry, "search", "--json", query["query"], *variant, *where]
        if query["facets"]:
            command += ["--facets", ",".join(query["facets"])]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    try:
        for _ in range(args.warm_rounds):
            for query in queries:
                search(query, [], ["--socket", socket_path])
        compared, differing = 0, []
        for variant in VARIANTS:
            for query in queries:
                without = search(query, variant, ["--index", args.index])
                through = search(query, variant, ["--socket", socket_path])
                compared += 1
                if without != through:
                    differing.append((query["kind"], query["query"], variant))
    finally:
        daemon.terminate()
        daemon.wait()

    print(f"{compared} requests compared, {len(differing)} differ")
    for kind, query, variant in differing[:20]:
        print(f"  {kind}: {query!r} {' '.join(variant)}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
