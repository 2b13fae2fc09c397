#!/usr/bin/env python3
"""A Quarry daemon client using only Python's standard library.

    from quarry_client import QuarryClient
    with QuarryClient("/run/user/1000/quarry/quarry.sock") as quarry:
        page = quarry.search("sanctions", type="comment", limit=5)
        for hit in page["hits"]:
            print(hit["rank"], hit["id"], hit["title"])

From the shell:

    python3 quarry_client.py --socket PATH search "sanctions" --limit 5
    python3 quarry_client.py --socket PATH get world/north-korea-military-delegation-russia
    python3 quarry_client.py --socket PATH stats

The protocol (docs/PROTOCOL.md) is JSON-RPC 2.0, one JSON object per line.
Replies come back in request order, so `call_many` sends a whole batch before
reading any reply (pipelining).
"""
import argparse
import itertools
import json
import socket
import sys


class QuarryError(Exception):
    """The daemon answered with a JSON-RPC error."""

    def __init__(self, error):
        super().__init__(f"{error.get('message')} ({error.get('code')})")
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")


class QuarryClient:
    def __init__(self, socket_path, timeout=30.0):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(socket_path)
        self._reader = self._sock.makefile("rb")
        self._ids = itertools.count(1)

    def close(self):
        self._reader.close()
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call_many(self, calls):
        """Sends every (method, params) pair, then reads the replies in order.
        Returns a list of results, or QuarryError instances for failed calls."""
        ids = []
        lines = []
        for method, params in calls:
            request_id = next(self._ids)
            ids.append(request_id)
            request = {"jsonrpc": "2.0", "id": request_id, "method": method}
            if params is not None:
                request["params"] = params
            lines.append(json.dumps(request, ensure_ascii=False).encode("utf-8") + b"\n")
        self._sock.sendall(b"".join(lines))
        results = []
        for request_id in ids:
            line = self._reader.readline()
            if not line:
                raise ConnectionError("the daemon closed the connection")
            reply = json.loads(line)
            if reply.get("id") != request_id:
                raise ConnectionError(f"reply for {reply.get('id')!r}, expected {request_id}")
            results.append(QuarryError(reply["error"]) if "error" in reply else reply["result"])
        return results

    def call(self, method, params=None):
        (result,) = self.call_many([(method, params)])
        if isinstance(result, QuarryError):
            raise result
        return result

    def search(self, query, **options):
        """Options as in docs/PROTOCOL.md: type, author, limit, offset, sort,
        collapse, facets, checkAtLeast, correct."""
        return self.call("search", {"query": query, **options})

    def get(self, document_id):
        return self.call("get", {"id": document_id})

    def stats(self):
        return self.call("stats")

    def ping(self):
        return self.call("ping")

    def suggest(self, query):
        return self.call("suggest", {"query": query})


def main(argv=None):
    parser = argparse.ArgumentParser(description="Query a running `quarry serve`.")
    parser.add_argument("--socket", required=True, help="the daemon's socket path")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--offset", type=int, default=0)
    search.add_argument("--type", choices=["article", "comment"])
    search.add_argument("--author")
    get = commands.add_parser("get")
    get.add_argument("id")
    commands.add_parser("stats")
    commands.add_parser("ping")
    args = parser.parse_args(argv)

    try:
        with QuarryClient(args.socket) as quarry:
            if args.command == "search":
                options = {"limit": args.limit, "offset": args.offset}
                if args.type:
                    options["type"] = args.type
                if args.author:
                    options["author"] = args.author
                page = quarry.search(args.query, **options)
                for hit in page["hits"]:
                    print(f'{hit["rank"]}\t{hit["kind"]}\t{hit["id"]}\t{hit["title"]}')
                print(f'{len(page["hits"])} of about {page["total"]} (revision {page["revision"]})')
            elif args.command == "get":
                print(json.dumps(quarry.get(args.id), indent=2, ensure_ascii=False))
            elif args.command == "stats":
                print(json.dumps(quarry.stats(), indent=2))
            else:
                print(json.dumps(quarry.ping()))
    except QuarryError as error:
        print(f"quarry: {error.message}", file=sys.stderr)
        return 2 if error.code in (-32001, -32602) else 1
    except OSError as error:
        print(f"quarry: cannot talk to the daemon at {args.socket}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
