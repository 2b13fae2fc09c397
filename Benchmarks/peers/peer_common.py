"""What the two peers share: the corpus reader, the query mix, timing and JSON.

The reader follows Quarry's text format rules (docs/FORMAT.md) for the files
`quarry-bench generate` writes: UTF-8 (a BOM dropped, bad bytes replaced),
LF / CRLF / CR line ends, blank lines skipped, the title on the first line,
the comments header the last `N Comment(s)` line followed by exactly N
author/text pairs (else the first such line). Only `.txt` files are read; the
JSON formats are not (the generator writes none).
"""

import argparse
import json
import math
import os
import resource
import sys
import threading
import time
import unicodedata

HEADER_WORDS = ("comment", "comments")


def corpus_files(root):
    """(relative path, absolute path) of every .txt file, in path order, hidden entries skipped."""
    found = []
    for directory, subdirectories, names in os.walk(root, followlinks=True):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in names:
            if name.startswith(".") or not name.endswith(".txt"):
                continue
            absolute = os.path.join(directory, name)
            found.append((os.path.relpath(absolute, root).replace(os.sep, "/"), absolute))
    found.sort()
    return found


def header_count(line):
    parts = line.split()
    if len(parts) != 2 or parts[1].lower() not in HEADER_WORDS:
        return None
    try:
        count = int(parts[0])
    except ValueError:
        return None
    return count if count >= 0 else None


def read_article(data, article_id):
    """(title, paragraphs, [(author, text)]) or None for an empty file."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.replace(b"\x00", b"").decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return None
    title, rest = lines[0], lines[1:]
    candidates = [(position, count) for position, line in enumerate(rest)
                  if (count := header_count(line)) is not None]
    header = None
    for position, count in reversed(candidates):
        if len(rest) - position - 1 == 2 * count:
            header = position
            break
    if header is None and candidates:
        header = candidates[0][0]
    if header is None:
        return title, rest, []
    pairs = rest[header + 1:]
    comments = [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)]
    return title, rest[:header], comments


def normalised_author(name):
    """Lower-cased, white space folded: what Quarry's by: compares."""
    return " ".join(name.lower().split())


def normalise_comment(text):
    """Quarry's CommentFingerprint.normalise: NFKC, lower case, letters and
    digits kept, white space and dashes fold to one space, other marks dropped."""
    folded = unicodedata.normalize("NFKC", text).lower()
    out = []
    pending = False
    for ch in folded:
        category = unicodedata.category(ch)
        if ch.isalpha() or ch.isnumeric():
            if pending and out:
                out.append(" ")
            pending = False
            out.append(ch)
        elif ch.isspace() or category == "Pd":
            pending = True
        elif category == "Mn":
            out.append(ch)
    return "".join(out)


def load_mix(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["queries"]


def latency_summary(samples):
    """Same rule as quarry-bench: the smallest sample at or above the fraction."""
    ordered = sorted(samples)
    n = len(ordered)

    def at(fraction):
        if not n:
            return 0.0
        rank = math.ceil(fraction * n)
        return ordered[min(n - 1, max(0, rank - 1))] * 1000

    return {
        "count": n,
        "meanMs": (sum(ordered) / n * 1000) if n else 0.0,
        "p50Ms": at(0.50),
        "p99Ms": at(0.99),
        "p999Ms": at(0.999),
        "maxMs": (ordered[-1] * 1000) if n else 0.0,
    }


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def tree_size(path):
    total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            full = os.path.join(directory, name)
            if os.path.isfile(full) and not os.path.islink(full):
                total += os.path.getsize(full)
    return total


class IndexClock:
    """Wall and CPU time of an indexing run, and the report both peers print."""

    def __init__(self, engine, version, files):
        self.engine, self.version, self.files = engine, version, files
        self.input = input_bytes(files)
        self.cpu = cpu_seconds()
        self.start = time.perf_counter()

    def report(self, articles, comments, index_bytes, **extra):
        wall = time.perf_counter() - self.start
        cpu = cpu_seconds()
        documents = articles + comments
        result = {
            "engine": self.engine,
            "version": self.version,
            "python": sys.version.split()[0],
            "files": len(self.files),
            "articles": articles,
            "comments": comments,
            "documents": documents,
            "inputBytes": self.input,
            "wallSeconds": wall,
            "userSeconds": cpu[0] - self.cpu[0],
            "systemSeconds": cpu[1] - self.cpu[1],
            "documentsPerSecond": documents / wall if wall > 0 else 0.0,
            "inputMBPerSecond": self.input / 1e6 / wall if wall > 0 else 0.0,
            "peakRSSBytes": peak_rss_bytes(),
            "indexBytes": index_bytes,
        }
        result.update(extra)
        return result


def input_bytes(files):
    return sum(os.path.getsize(absolute) for _, absolute in files)


def run_clients(make_worker, queries, threads, duration=None, requests=None):
    """Runs `threads` closed-loop workers over the mix; returns a mode result
    shaped like quarry-bench's. make_worker() is called on each thread and
    returns run(query) -> None (raising on failure)."""
    quota = -(-requests // threads) if requests else None
    results = [None] * threads
    start_gate = threading.Barrier(threads + 1)

    def body(number):
        run = make_worker()
        latencies, kinds, errors, first_error = [], [], 0, None
        position = (number * 37) % len(queries)
        start_gate.wait()
        deadline = time.perf_counter() + duration if duration else None
        done = 0
        while quota is None or done < quota:
            if deadline is not None and time.perf_counter() >= deadline:
                break
            query = queries[position]
            position = (position + 1) % len(queries)
            begin = time.perf_counter()
            try:
                run(query)
                latencies.append(time.perf_counter() - begin)
                kinds.append(query["kind"])
            except Exception as error:  # a peer's failure is counted and shown, not fatal
                errors += 1
                if first_error is None:
                    first_error = "%s: %s" % (query["query"], error)
            done += 1
        results[number] = (latencies, kinds, errors, first_error)

    workers = [threading.Thread(target=body, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    start_gate.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    latencies = [x for r in results for x in r[0]]
    by_kind = {}
    for r in results:
        for latency, kind in zip(r[0], r[1]):
            by_kind.setdefault(kind, []).append(latency)
    errors = sum(r[2] for r in results)
    first = next((r[3] for r in results if r[3]), None)
    result = {
        "mode": "in-process",
        "clients": threads,
        "threads": threads,
        "queries": len(latencies) + errors,
        "errors": errors,
        "seconds": elapsed,
        "queriesPerSecond": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "latency": latency_summary(latencies),
        "medianByKind": {kind: latency_summary(values)["p50Ms"] for kind, values in by_kind.items()},
        "shareByKind": {kind: sum(values) / (sum(latencies) or 1.0) for kind, values in by_kind.items()},
    }
    if first:
        result["firstError"] = first
    return result


def emit(report, as_json):
    if as_json:
        json.dump(report, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        for key, value in sorted(report.items()):
            print("%s: %s" % (key, value))


def parse_threads(text):
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(v < 1 for v in values):
        raise SystemExit("--threads must be a comma-separated list of positive numbers")
    return values


def run_queries(engine, make_searcher, path, mix_path, thread_counts, duration, requests):
    """Warms up with one pass over the mix, then runs it at each thread count."""
    queries = load_mix(mix_path)
    if not queries:
        raise SystemExit("%s: the query mix '%s' is empty" % (engine, mix_path))
    warm = make_searcher(path)
    for item in queries:
        warm(item)
    results = []
    for threads in thread_counts:
        sys.stderr.write("%s in-process, %d thread%s...\n" % (engine, threads, "" if threads == 1 else "s"))
        results.append(run_clients(lambda: make_searcher(path), queries, threads, duration, requests))
    return results


def main(name, doc, index, query):
    """The peers' command line: `index` and `query`, JSON or key: value output."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    index_command = commands.add_parser("index", help="index a corpus directory")
    index_command.add_argument("--corpus", required=True)
    index_command.add_argument("--db", required=True)
    index_command.add_argument("--json", action="store_true")
    query_command = commands.add_parser("query", help="run the query mix in-process")
    query_command.add_argument("--db", required=True)
    query_command.add_argument("--mix", required=True, help="query mix JSON from quarry-bench query --mix-out")
    query_command.add_argument("--threads", default="1")
    budget = query_command.add_mutually_exclusive_group()
    budget.add_argument("--duration", type=float)
    budget.add_argument("--requests", type=int)
    query_command.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    if arguments.command == "index":
        if not os.path.isdir(arguments.corpus):
            raise SystemExit("%s: no corpus directory at '%s'" % (name, arguments.corpus))
        emit(index(arguments.corpus, arguments.db), arguments.json)
    else:
        duration = arguments.duration if arguments.duration or arguments.requests else 10.0
        emit(query(arguments.db, arguments.mix, parse_threads(arguments.threads), duration, arguments.requests),
             arguments.json)
