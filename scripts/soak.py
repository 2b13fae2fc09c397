#!/usr/bin/env python3
"""Soak test: the daemon under mixed load from many clients while an indexer writes.

Generates a corpus (quarry-bench generate), indexes it, starts `quarry serve`
and `quarry index --watch`, then for --seconds: --clients threads keep one
connection each and send a mix of search (with facets, collapse, sorting,
paging), get, similar, suggest, duplicates, stats and ping, while a writer adds
articles, appends comments and deletes the articles it added. Every
--interval seconds it prints requests served, errors, p50/p99/max latency and
the daemon's RSS; at the end a summary, and exit status 1 if any request
failed or the daemon's RSS grew more than --rss-growth-mib after warm-up.

    scripts/soak.py --bin .build/release --seconds 600     (make soak SOAK_SECONDS=600)

Only the standard library; traffic goes to a Unix socket in a temporary directory.
"""
import argparse, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def wait_for_line(stream, needle, timeout, log):
    """Reads `stream` (a process's stderr) until a line contains `needle`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = stream.readline()
        if not line:
            raise SystemExit(f"soak: the process ended before printing {needle!r}:\n{''.join(log)}")
        log.append(line)
        if needle in line:
            return
    raise SystemExit(f"soak: no {needle!r} within {timeout} s")

def drain(stream, log):
    for line in stream:
        log.append(line)

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []      # this interval, seconds
        self.requests = 0        # all intervals
        self.errors = 0
        self.error_samples = []
        self.by_method = {}

    def record(self, method, seconds, error):
        with self.lock:
            self.latencies.append(seconds)
            self.requests += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1
            if error is not None:
                self.errors += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{method}: {error}")

    def take_interval(self):
        with self.lock:
            taken, self.latencies = self.latencies, []
            return taken

def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]

QUERIES = ["sanctions", "climate OR energy", '"prime minister"', "budget -tax", "elect*", "title:report",
           "type:comment government", "policy NEAR reform", "market AND (rates OR inflation)", "health",
           "accounts:2..", "published:2020-01-01..2030-12-31", "diplomcy", "school teachers", "court ruling"]

def client(number, path, stop, stats, ids):
    rng = random.Random(number)
    sock = None
    buffer = b""
    request_id = 0
    while not stop.is_set():
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(30)
            sock.connect(path)
            buffer = b""
        request_id += 1
        roll = rng.random()
        if roll < 0.55:
            method = "search"
            params = {"query": rng.choice(QUERIES), "limit": rng.choice([5, 10, 20]), "offset": rng.choice([0, 0, 10])}
            if rng.random() < 0.3: params["facets"] = ["author", "type"]
            if rng.random() < 0.2: params["collapse"] = True
            if rng.random() < 0.2: params["sort"] = rng.choice(["date", "date-asc"])
            if rng.random() < 0.1: params["correct"] = True
        elif roll < 0.70:
            method, params = "get", {"id": rng.choice(ids)}
        elif roll < 0.78:
            method, params = "similar", {"id": rng.choice(ids), "limit": 5}
        elif roll < 0.85:
            method, params = "suggest", {"query": rng.choice(QUERIES)}
        elif roll < 0.90:
            method, params = "duplicates", {"limit": 5, "near": rng.random() < 0.5}
        elif roll < 0.95:
            method, params = "stats", None
        else:
            method, params = "ping", None
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        start = time.perf_counter()
        error = None
        try:
            sock.sendall(json.dumps(message).encode() + b"\n")
            while b"\n" not in buffer:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    raise ConnectionError("the daemon closed the connection")
                buffer += chunk
            line, buffer = buffer.split(b"\n", 1)
            reply = json.loads(line)
            if reply.get("id") != request_id:
                error = f"reply id {reply.get('id')} for request {request_id}"
            elif "error" in reply:
                error = reply["error"]
        except Exception as failure:  # a broken connection is an error too; reconnect
            error = repr(failure)
            sock.close()
            sock = None
        stats.record(method, time.perf_counter() - start, error)
        # Some clients reconnect now and then, as short-lived programs would.
        if sock is not None and number % 4 == 0 and rng.random() < 0.02:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()

def writer(corpus, stop, counters, rng):
    """Adds articles, appends comments to them, deletes some: what a growing corpus does."""
    added = []
    sequence = 0
    while not stop.wait(0.25):
        roll = rng.random()
        if roll < 0.5 or not added:
            sequence += 1
            name = f"soak/article-{sequence}.txt"
            path = os.path.join(corpus, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = path + ".tmp"   # written aside and renamed in, as an editor would
            with open(temporary, "w") as out:
                out.write(f"Soak article {sequence} on budget policy\nA paragraph about sanctions and climate {sequence}.\n"
                          f"2 Comments\nReader {sequence % 7}\nFirst comment {sequence}\nReader {sequence % 5}\nSecond comment {sequence}\n")
            os.rename(temporary, path)
            added.append((path, 2))
            counters["added"] += 1
        elif roll < 0.85:
            index = rng.randrange(len(added))
            path, comments = added[index]
            comments += 1
            with open(path) as source:
                lines = source.read().split("\n")
            header = next(i for i, line in enumerate(lines) if line.endswith("Comments"))
            lines[header] = f"{comments} Comments"
            text = "\n".join(line for line in lines if line) + f"\nReader {comments}\nAnother comment {comments}\n"
            with open(path, "w") as out:
                out.write(text)
            added[index] = (path, comments)
            counters["appended"] += 1
        else:
            path, _ = added.pop(rng.randrange(len(added)))
            os.remove(path)
            counters["deleted"] += 1

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=".build/release", help="directory holding quarry and quarry-bench")
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--interval", type=int, default=30)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2, help="daemon searcher threads")
    parser.add_argument("--rss-growth-mib", type=int, default=64, help="allowed RSS growth after the first interval")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    options = parser.parse_args()
    quarry = os.path.join(options.bin, "quarry")
    bench = os.path.join(options.bin, "quarry-bench")
    for tool in (quarry, bench):
        if not os.access(tool, os.X_OK):
            raise SystemExit(f"soak: {tool} is missing; build it (make soak builds release binaries)")

    work = tempfile.mkdtemp(prefix="quarry-soak-")
    corpus, index, sock_path = os.path.join(work, "corpus"), os.path.join(work, "index"), os.path.join(work, "q.sock")
    processes = []
    try:
        print(f"soak: generating {options.articles} articles in {work}", flush=True)
        subprocess.run([bench, "generate", "--articles", str(options.articles), "--seed", "11", "--out", corpus],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([quarry, "index", corpus, "--index", index, "--quiet"], check=True, stdout=subprocess.DEVNULL)
        # The ids every client may ask for: generated articles, never deleted.
        ids = []
        for root, _, files in os.walk(corpus):
            ids += [os.path.relpath(os.path.join(root, name), corpus)[:-4] for name in files if name.endswith(".txt")]

        daemon_log, watch_log = [], []
        daemon = subprocess.Popen([quarry, "serve", "--index", index, "--socket", sock_path, "--log-level", "info",
                                   "--threads", str(options.threads)], stderr=subprocess.PIPE, text=True)
        processes.append(daemon)
        wait_for_line(daemon.stderr, "serving", 60, daemon_log)
        threading.Thread(target=drain, args=(daemon.stderr, daemon_log), daemon=True).start()
        watch = subprocess.Popen([quarry, "index", corpus, "--index", index, "--watch", "--quiet"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        processes.append(watch)
        wait_for_line(watch.stderr, "watching", 120, watch_log)
        threading.Thread(target=drain, args=(watch.stderr, watch_log), daemon=True).start()

        stats, stop = Stats(), threading.Event()
        counters = {"added": 0, "appended": 0, "deleted": 0}
        start_rss = rss_kib(daemon.pid)
        threads = [threading.Thread(target=client, args=(n, sock_path, stop, stats, ids)) for n in range(options.clients)]
        threads.append(threading.Thread(target=writer, args=(corpus, stop, counters, random.Random(5))))
        for thread in threads:
            thread.start()
        print(f"soak: {options.clients} clients and a writer for {options.seconds} s; daemon pid {daemon.pid}, RSS {start_rss} KiB",
              flush=True)
        print(f"{'time':>6} {'requests':>9} {'req/s':>7} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'RSS KiB':>8} "
              f"{'files +/~/-':>12}", flush=True)
        began = time.time()
        warm_rss = None
        p99s = []
        served_before = 0
        while True:
            remaining = began + options.seconds - time.time()
            if remaining <= 0:
                break
            time.sleep(min(options.interval, remaining))
            elapsed = time.time() - began
            latencies = sorted(stats.take_interval())
            rss = rss_kib(daemon.pid)
            if warm_rss is None:
                warm_rss = rss
            served = stats.requests
            p99 = percentile(latencies, 0.99) * 1000
            p99s.append(p99)
            print(f"{elapsed:6.0f} {served:9d} {(served - served_before) / options.interval:7.0f} {stats.errors:6d} "
                  f"{percentile(latencies, 0.5) * 1000:7.1f} {p99:7.1f} {(latencies[-1] if latencies else 0) * 1000:7.1f} {rss:8d} "
                  f"{counters['added']:>4}/{counters['appended']}/{counters['deleted']}", flush=True)
            served_before = served
            if daemon.poll() is not None:
                print("soak: the daemon died", flush=True)
                break
        stop.set()
        for thread in threads:
            thread.join()
        end_rss = rss_kib(daemon.pid) if daemon.poll() is None else 0
        watch.send_signal(signal.SIGTERM)
        watch_status = watch.wait(60)
        daemon.send_signal(signal.SIGTERM)
        daemon_status = daemon.wait(60)
        growth = (end_rss - (warm_rss or start_rss)) / 1024
        print()
        print(f"soak summary: {options.seconds} s, {options.clients} clients, {stats.requests} requests "
              f"({stats.requests / options.seconds:.0f}/s), {stats.errors} errors")
        print(f"  by method: {json.dumps(dict(sorted(stats.by_method.items())))}")
        print(f"  p99 per {options.interval} s interval (ms): min {min(p99s or [0]):.1f}, max {max(p99s or [0]):.1f}")
        print(f"  daemon RSS: {start_rss} KiB at start, {warm_rss} KiB after the first interval, {end_rss} KiB at the end "
              f"({growth:+.1f} MiB after warm-up)")
        print(f"  writer: {counters['added']} articles added, {counters['appended']} appended to, {counters['deleted']} deleted; "
              f"watch exited {watch_status}, daemon exited {daemon_status}")
        for sample in stats.error_samples:
            print(f"  error: {sample}")
        failed = stats.errors > 0 or growth > options.rss_growth_mib or daemon_status != 0 or watch_status != 0
        if failed:
            print("soak: FAILED" + ("" if stats.errors == 0 else f" ({stats.errors} errors)"))
            print("".join(daemon_log[-20:]), file=sys.stderr)
            print("".join(watch_log[-20:]), file=sys.stderr)
        return 1 if failed else 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
