#!/usr/bin/python3
"""The daemon's latency seen by a plain Python client (json.loads, no Swift):
one connection, closed loop, the benchmark's query mix, median in ms.

quarry-bench measures the daemon through QuarryClient, whose JSONDecoder is
part of each figure; this tells the daemon's share from the client's.

    quarry serve --index I --socket S --threads 2 &
    Benchmarks/peers/raw_client_latency.py --socket S --mix MIX.json --seconds 8
"""
import argparse
import json
import socket
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--mix", required=True, help="mix.json written by quarry-bench query --mix-out")
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()

    queries = json.load(open(args.mix))["queries"]
    connection = socket.socket(socket.AF_UNIX)
    connection.connect(args.socket)
    stream = connection.makefile("rwb")

    def search(number, query):
        params = {"query": query["query"], "limit": 10}
        if query.get("facets"):
            params["facets"] = query["facets"]
        request = {"jsonrpc": "2.0", "id": number, "method": "search", "params": params}
        stream.write((json.dumps(request) + "\n").encode())
        stream.flush()
        reply = json.loads(stream.readline())
        if "result" not in reply:
            raise SystemExit(f"query {query['query']!r} failed: {reply}")

    for number, query in enumerate(queries):  # warm-up pass, untimed
        search(number, query)
    latencies = []
    end = time.time() + args.seconds
    while time.time() < end:
        query = queries[len(latencies) % len(queries)]
        start = time.perf_counter()
        search(len(latencies), query)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    print(f"{len(latencies)} searches, p50 {latencies[len(latencies) // 2] * 1000:.3f} ms")


if __name__ == "__main__":
    main()
