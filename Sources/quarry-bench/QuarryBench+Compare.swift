import ArgumentParser
import Foundation

extension QuarryBench {
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a corpus, benchmark Quarry and its peers on it back to back, print one table.",
            discussion: """
                Steps, each in its own process so that peak memory is each one's own:
                  1. quarry-bench generate (in this process) into WORK/corpus, seeded;
                  2. quarry-bench index  → WORK/quarry-index;
                  3. quarry-bench query  (in-process and daemon; writes WORK/mix.json);
                  4. Benchmarks/peers/xapian_peer.py index + query (python3-xapian, same mix);
                  5. Benchmarks/peers/fts5_peer.py index + query (SQLite FTS5, same mix).
                The peers run on /usr/bin/python3 (where Debian's python3-xapian lives);
                Benchmarks/compare.sh installs it when missing. A peer that cannot run is
                reported as n/a and the rest goes on. --quick runs everything on a tiny
                corpus in a few seconds: it checks that the benchmark works, not a timing.
                """)

        @Option(help: ArgumentHelp("Articles to generate (default 10000; 300 with --quick).", valueName: "n"))
        var articles: Int?

        @Option(help: ArgumentHelp("Seed of the corpus generator.", valueName: "s"))
        var seed: UInt64 = 1

        @Option(help: ArgumentHelp("Benchmark an existing corpus instead of generating one.", valueName: "dir"))
        var corpus: String?

        @Option(help: ArgumentHelp("Working directory (created; default a new one under /tmp, removed unless --keep).", valueName: "dir"))
        var work: String?

        @Option(help: ArgumentHelp("Concurrent daemon clients, comma-separated.", valueName: "list"))
        var clients = "1,8,64"

        @Option(help: ArgumentHelp("Seconds each query mode runs (default 10).", valueName: "s"))
        var duration: Double?

        @Option(help: ArgumentHelp("Queries each query mode runs, instead of a duration (--quick: 150).", valueName: "n"))
        var requests: Int?

        @Option(help: ArgumentHelp("Python with python3-xapian.", valueName: "path"))
        var python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

        @Option(help: ArgumentHelp("Directory of the peer scripts. Default: Benchmarks/peers of this checkout.", valueName: "dir"))
        var peers: String?

        @Flag(help: "A tiny corpus and few queries: a few seconds, for CI.")
        var quick = false

        @Flag(help: "Skip the Python peers.")
        var noPeers = false

        @Flag(help: "Keep the working directory.")
        var keep = false

        @Flag(help: "Print everything measured as JSON instead of the table.")
        var json = false

        @Option(help: ArgumentHelp("Shards Quarry indexes into in parallel (default: one per core).", valueName: "n"))
        var shards: Int?

        @Flag(help: "Keep the shards apart instead of merging them into one database at the end.")
        var noMerge = false

        @Flag(help: "Skip Quarry's second indexing run, without near-duplicate detection (the fields the peers write).")
        var noSameFields = false

        @Option(help: ArgumentHelp("Also write everything measured as JSON to this file.", valueName: "file"))
        var save: String?

        @Option(help: ArgumentHelp("Run nothing: print the table of a report saved with --save or --json.", valueName: "file"))
        var render: String?

        func validate() throws {
            if let articles { guard articles >= 1 else { throw ValidationError("--articles must be at least 1") } }
            if duration != nil && requests != nil { throw ValidationError("give --duration or --requests, not both") }
        }

        func run() throws {
            do {
                let result: CompareReport
                if let render {
                    result = try CompareReport.load(render)
                } else {
                    result = try CompareRun(options: self).run()
                }
                if let save {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                    do {
                        try encoder.encode(result).write(to: URL(fileURLWithPath: save))
                    } catch {
                        throw BenchError("cannot write the report to '\(save)': \(error.localizedDescription)")
                    }
                }
                if json {
                    try printJSON(result)
                } else {
                    print(result.table)
                }
            } catch let error as BenchError {
                report(error)
                throw ExitCode.failure
            }
        }
    }
}

/// What a peer's `index` printed.
struct PeerIndexReport: Codable, Sendable {
    var engine: String
    var version: String
    var documents: Int
    var wallSeconds: Double
    var documentsPerSecond: Double
    var inputMBPerSecond: Double
    var peakRSSBytes: Int64
    var indexBytes: Int64
    var userSeconds: Double?
    var systemSeconds: Double?

    /// Documents per second of CPU (user + system): steadier than wall time on a busy machine.
    var documentsPerCPUSecond: Double? {
        guard let user = userSeconds, let system = systemSeconds, user + system > 0 else { return nil }
        return Double(documents) / (user + system)
    }
}

/// What a peer's `query` printed: results shaped like quarry-bench's.
struct PeerQueryReport: Codable, Sendable {
    var engine: String
    var documents: Int
    var results: [ModeResult]

    /// The most favourable in-process figure: the peer at its best thread count.
    var best: ModeResult? { results.max { $0.queriesPerSecond < $1.queriesPerSecond } }
    func threads(_ count: Int) -> ModeResult? { results.first { $0.threads == count } }
}

/// One issue-6 target, checked.
struct TargetCheck: Codable, Sendable {
    var target: String
    var measured: String
    /// nil when a figure it needs is missing.
    var met: Bool?
}

struct CompareReport: Codable, Sendable {
    var articles: Int
    var seed: UInt64?
    var corpus: String
    var cores: Int
    var quick: Bool
    var quarryIndex: IndexReport
    /// The same corpus indexed by Quarry without near-duplicate detection: the
    /// fields the peers write (nil when skipped, and in older reports).
    var quarrySameFieldsIndex: IndexReport?
    var quarryQuery: QueryReport
    var xapianIndex: PeerIndexReport?
    var xapianQuery: PeerQueryReport?
    var fts5Index: PeerIndexReport?
    var fts5Query: PeerQueryReport?
    var notes: [String]
    var targets: [TargetCheck]

    static func load(_ path: String) throws(BenchError) -> CompareReport {
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("cannot read '\(path)'") }
        do {
            return try JSONDecoder().decode(CompareReport.self, from: data)
        } catch {
            throw BenchError("'\(path)' is not a report saved by quarry-bench compare --save or --json: \(error)")
        }
    }

    var table: String {
        let mib = 1048576.0
        var table = TextTable(["", "Quarry", "python-xapian", "SQLite FTS5", "Quarry/xapian", "Quarry/FTS5"])
        func row(_ name: String, _ quarry: Double?, _ xapian: Double?, _ fts5: Double?, ratios: Bool = true) {
            table.add([name, figure(quarry), figure(xapian), figure(fts5),
                       ratios ? ratio(quarry, xapian) : "", ratios ? ratio(quarry, fts5) : ""])
        }
        let index = quarryIndex
        row("indexing documents/s (Quarry: \(index.shards ?? 1) shard\(index.shards ?? 1 == 1 ? "" : "s")\(index.merged == true ? ", merged" : ""))", index.documentsPerSecond, xapianIndex?.documentsPerSecond, fts5Index?.documentsPerSecond)
        row("indexing documents per CPU-second", index.documentsPerCPUSecond, xapianIndex?.documentsPerCPUSecond,
            fts5Index?.documentsPerCPUSecond)
        row("indexing MB/s of input", index.inputMBPerSecond, xapianIndex?.inputMBPerSecond, fts5Index?.inputMBPerSecond)
        row("indexing wall s", index.wallSeconds, xapianIndex?.wallSeconds, fts5Index?.wallSeconds)
        row("indexer peak RSS MiB", Double(index.peakRSSBytes) / mib, xapianIndex.map { Double($0.peakRSSBytes) / mib },
            fts5Index.map { Double($0.peakRSSBytes) / mib })
        row("index size MiB", Double(index.indexBytes) / mib, xapianIndex.map { Double($0.indexBytes) / mib },
            fts5Index.map { Double($0.indexBytes) / mib })
        if let same = quarrySameFieldsIndex {
            let name = "--no-near-duplicates (the peers' fields):"
            row("\(name) documents/s", same.documentsPerSecond, xapianIndex?.documentsPerSecond, fts5Index?.documentsPerSecond)
            row("\(name) documents per CPU-second", same.documentsPerCPUSecond, xapianIndex?.documentsPerCPUSecond,
                fts5Index?.documentsPerCPUSecond)
            row("\(name) wall s", same.wallSeconds, xapianIndex?.wallSeconds, fts5Index?.wallSeconds)
            row("\(name) peak RSS MiB", Double(same.peakRSSBytes) / mib, xapianIndex.map { Double($0.peakRSSBytes) / mib },
                fts5Index.map { Double($0.peakRSSBytes) / mib })
            row("\(name) index size MiB", Double(same.indexBytes) / mib, xapianIndex.map { Double($0.indexBytes) / mib },
                fts5Index.map { Double($0.indexBytes) / mib })
        }
        let inProcess = quarryQuery.results.filter { $0.mode == "in-process" }
        for result in inProcess {
            let label = "\(result.threads) thread\(result.threads == 1 ? "" : "s")"
            row("in-process q/s, \(label)", result.queriesPerSecond,
                xapianQuery?.threads(result.threads)?.queriesPerSecond, fts5Query?.threads(result.threads)?.queriesPerSecond)
            row("in-process p50 ms, \(label)", result.latency.p50Ms,
                xapianQuery?.threads(result.threads)?.latency.p50Ms, fts5Query?.threads(result.threads)?.latency.p50Ms)
            row("in-process p99 ms, \(label)", result.latency.p99Ms,
                xapianQuery?.threads(result.threads)?.latency.p99Ms, fts5Query?.threads(result.threads)?.latency.p99Ms)
        }
        for result in quarryQuery.results where result.mode == "daemon" {
            let label = "\(result.clients) client\(result.clients == 1 ? "" : "s")"
            row("daemon q/s, \(label) (peers: best in-process)", result.queriesPerSecond,
                xapianQuery?.best?.queriesPerSecond, fts5Query?.best?.queriesPerSecond)
            row("daemon p50 ms, \(label)", result.latency.p50Ms, nil, nil, ratios: false)
            row("daemon p99 ms, \(label)", result.latency.p99Ms, nil, nil, ratios: false)
            row("daemon p99.9 ms, \(label)", result.latency.p999Ms, nil, nil, ratios: false)
        }
        if let local = quarryQuery.result(InterleavedRunner.inProcessMode, clients: 1),
           let remote = quarryQuery.result(InterleavedRunner.daemonMode, clients: 1) {
            row("interleaved p50 ms, in-process", local.latency.p50Ms, nil, nil, ratios: false)
            row("interleaved p50 ms, daemon", remote.latency.p50Ms, nil, nil, ratios: false)
        }
        let errors = quarryQuery.results.reduce(0) { $0 + $1.errors }
            + (xapianQuery?.results.reduce(0) { $0 + $1.errors } ?? 0) + (fts5Query?.results.reduce(0) { $0 + $1.errors } ?? 0)
        func failed(_ results: [ModeResult]?) -> String { results.map { "\($0.reduce(0) { $0 + $1.errors })" } ?? "n/a" }
        table.add(["failed queries (all modes)", failed(quarryQuery.results), failed(xapianQuery?.results),
                   failed(fts5Query?.results), "", ""])

        var lines = [
            "corpus:  \(corpus): \(articles) articles, \(index.documents) documents (\(index.articles) articles + \(index.comments) comments), \(String(format: "%.1f", Double(index.inputBytes) / 1e6)) MB"
                + (seed.map { ", seed \($0)" } ?? ""),
            "machine: \(cores) cores; queries: \(quarryQuery.budget), mix of \(quarryQuery.mixKinds.values.reduce(0, +)) (\(quarryQuery.mixKinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")))",
            "",
            table.render(),
            "",
            "targets (issue 6):",
        ]
        for target in targets {
            let verdict = target.met.map { $0 ? "met" : "NOT met" } ?? "n/a"
            lines.append("  \(target.target): \(target.measured) — \(verdict)")
        }
        if errors > 0 { lines.append("  note: \(errors) queries failed; see --json for the first error of each mode") }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n")
    }
}

struct CompareRun {
    let options: QuarryBench.Compare

    func run() throws(BenchError) -> CompareReport {
        let o = options
        let articles = o.articles ?? (o.quick ? 300 : 10_000)
        let budgetArguments: [String] = if let requests = o.requests {
            ["--requests", "\(requests)"]
        } else if let duration = o.duration {
            ["--duration", "\(duration)"]
        } else if o.quick {
            ["--requests", "150"]
        } else {
            ["--duration", "10"]
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let work: String
        if let given = o.work {
            do {
                try FileManager.default.createDirectory(atPath: given, withIntermediateDirectories: true)
            } catch {
                throw BenchError("cannot create the working directory '\(given)': \(error.localizedDescription)")
            }
            work = given
        } else {
            work = try makeShortTemporaryDirectory("quarry-compare")
        }
        defer {
            if !o.keep && o.work == nil { try? FileManager.default.removeItem(atPath: work) }
        }
        let bench = executableDirectory() + "/quarry-bench"
        var notes: [String] = []

        // 1. The corpus.
        let corpus: String
        if let given = o.corpus {
            corpus = given
        } else {
            corpus = work + "/corpus"
            try? FileManager.default.removeItem(atPath: corpus)
            note("generating \(articles) articles (seed \(o.seed)) into \(corpus)…")
            let groups = max(1, articles / 200)
            let settings = CorpusGenerator.Settings(
                articles: articles, seed: o.seed, duplicateGroups: groups, nearDuplicates: groups / 2,
                commentScale: 1, maxParagraphs: 8)
            do {
                _ = try CorpusGenerator(settings).write(to: corpus)
            } catch {
                throw BenchError("generating the corpus failed: \(error.message)")
            }
        }

        // 2. and 3. Quarry.
        /// `quarry-bench index` in a child process, so its peak RSS is the indexer's own.
        func indexQuarry(_ path: String, _ extra: [String]) throws(BenchError) -> IndexReport {
            try decodeChild(
                "quarry-bench index" + extra.map { " " + $0 }.joined(),
                runChild(bench, ["index", "--corpus", corpus, "--index", path, "--force", "--json",
                                 "--shards", String(o.shards ?? cores)] + (o.noMerge ? [] : ["--merge"]) + extra,
                         echoStderr: true))
        }
        note("Quarry: indexing…")
        let quarryIndex = try indexQuarry(work + "/quarry-index", [])
        note("Quarry: \(figure(quarryIndex.documentsPerSecond)) documents/s")
        var quarrySameFieldsIndex: IndexReport?
        if !o.noSameFields {
            note("Quarry without near-duplicate detection (the peers' fields): indexing…")
            let path = work + "/quarry-index-same-fields"
            quarrySameFieldsIndex = try indexQuarry(path, ["--no-near-duplicates"])
            // Only its figures are wanted; at a million articles it is gigabytes.
            if !o.keep { try? FileManager.default.removeItem(atPath: path) }
            note("Quarry without near-duplicates: \(figure(quarrySameFieldsIndex?.documentsPerSecond)) documents/s")
        }
        note("Quarry: querying…")
        let mix = work + "/mix.json"
        let quarryQuery: QueryReport = try decodeChild(
            "quarry-bench query",
            runChild(bench, ["query", "--index", work + "/quarry-index", "--clients", o.clients, "--mix-out", mix, "--json"]
                     + budgetArguments, echoStderr: true))

        // 4. and 5. The peers.
        var xapianIndex: PeerIndexReport?
        var xapianQuery: PeerQueryReport?
        var fts5Index: PeerIndexReport?
        var fts5Query: PeerQueryReport?
        if o.noPeers {
            notes.append("peers skipped (--no-peers)")
        } else if let peers = o.peers ?? Self.findPeers() {
            let threads = Array(Set([1, cores])).sorted().map(String.init).joined(separator: ",")
            /// One peer: index the corpus into `database`, then run the mix on it.
            func both(_ name: String, _ script: String, _ database: String) -> (PeerIndexReport?, PeerQueryReport?) {
                note("\(name): indexing…")
                let built: PeerIndexReport? = peer("\(name) index", o.python,
                    [peers + "/" + script, "index", "--corpus", corpus, "--db", work + "/" + database, "--json"], &notes)
                guard built != nil else { return (nil, nil) }
                let queried: PeerQueryReport? = peer("\(name) query", o.python,
                    [peers + "/" + script, "query", "--db", work + "/" + database, "--mix", mix, "--threads", threads, "--json"]
                    + budgetArguments, &notes)
                return (built, queried)
            }
            if (try? runChild(o.python, ["-c", "import xapian"]))?.status == 0 {
                (xapianIndex, xapianQuery) = both("python-xapian", "xapian_peer.py", "xapian-db")
            } else {
                notes.append("python-xapian skipped: '\(o.python)' cannot import xapian (Benchmarks/peers/run.sh --install-only installs python3-xapian)")
            }
            (fts5Index, fts5Query) = both("SQLite FTS5", "fts5_peer.py", "fts5.db")
        } else {
            notes.append("peers skipped: no Benchmarks/peers directory found; give --peers DIR")
        }
        if xapianIndex.map({ $0.documents != quarryIndex.documents }) == true {
            notes.append("python-xapian indexed \(xapianIndex?.documents ?? 0) documents, Quarry \(quarryIndex.documents)")
        }
        if fts5Index.map({ $0.documents != quarryIndex.documents }) == true {
            notes.append("FTS5 indexed \(fts5Index?.documents ?? 0) documents, Quarry \(quarryIndex.documents)")
        }
        if o.work == nil && !o.keep { notes.append("working directory removed (--keep or --work DIR keeps it)") }

        return CompareReport(
            articles: o.corpus == nil ? articles : quarryIndex.articles, seed: o.corpus == nil ? o.seed : nil,
            corpus: corpus, cores: cores, quick: o.quick,
            quarryIndex: quarryIndex, quarrySameFieldsIndex: quarrySameFieldsIndex, quarryQuery: quarryQuery,
            xapianIndex: xapianIndex, xapianQuery: xapianQuery, fts5Index: fts5Index, fts5Query: fts5Query, notes: notes,
            targets: Self.targets(quarryIndex, quarryQuery, xapianIndex, xapianQuery, sameFields: quarrySameFieldsIndex))
    }

    static func targets(_ index: IndexReport, _ query: QueryReport, _ xapianIndex: PeerIndexReport?,
                        _ xapianQuery: PeerQueryReport?, sameFields: IndexReport? = nil) -> [TargetCheck] {
        var checks: [TargetCheck] = []
        if let xapian = xapianIndex, xapian.documentsPerSecond > 0 {
            let value = index.documentsPerSecond / xapian.documentsPerSecond
            checks.append(TargetCheck(target: "indexing ≥ 1.5× python-xapian documents/s",
                                      measured: String(format: "%.2f×", value), met: value >= 1.5))
            // The peers find no near-duplicates: the like-for-like figure, reported beside the default's, never instead of it.
            if let sameFields {
                let value = sameFields.documentsPerSecond / xapian.documentsPerSecond
                checks.append(TargetCheck(target: "  the same, with the peers' fields (Quarry --no-near-duplicates)",
                                          measured: String(format: "%.2f×", value), met: value >= 1.5))
            }
        } else {
            checks.append(TargetCheck(target: "indexing ≥ 1.5× python-xapian documents/s", measured: "no python-xapian figure", met: nil))
        }
        let daemon8 = query.result("daemon", clients: 8)
        if let daemon8, let python = xapianQuery?.best, python.queriesPerSecond > 0 {
            let value = daemon8.queriesPerSecond / python.queriesPerSecond
            checks.append(TargetCheck(
                target: "daemon q/s at 8 clients ≥ 2× python-xapian in-process (its best: \(python.threads) thread\(python.threads == 1 ? "" : "s"))",
                measured: String(format: "%.2f×", value), met: value >= 2))
        } else {
            checks.append(TargetCheck(target: "daemon q/s at 8 clients ≥ 2× python-xapian in-process",
                                      measured: "needs the daemon at 8 clients and python-xapian", met: nil))
        }
        // Judged on the interleaved run: the daemon's and the floor's medians
        // from the same seconds. The separate runs' ratio is shown beside it.
        let separate = query.result("daemon", clients: 1).flatMap { daemon in
            query.result("in-process", clients: 1).map { (daemon, $0) }
        }
        if let local = query.result(InterleavedRunner.inProcessMode, clients: 1),
           let remote = query.result(InterleavedRunner.daemonMode, clients: 1), local.latency.p50Ms > 0 {
            let value = remote.latency.p50Ms / local.latency.p50Ms
            var measured = String(format: "%.2f× (%.3f ms vs %.3f ms, interleaved)", value, remote.latency.p50Ms, local.latency.p50Ms)
            if let (daemon, floor) = separate, floor.latency.p50Ms > 0 {
                measured += String(format: "; %.2f× in separate runs", daemon.latency.p50Ms / floor.latency.p50Ms)
            }
            checks.append(TargetCheck(target: "daemon median (1 client) ≤ 1.3× Quarry in-process median (1 thread)",
                                      measured: measured, met: value <= 1.3))
        } else {
            checks.append(TargetCheck(target: "daemon median ≤ 1.3× Quarry in-process median",
                                      measured: "needs the interleaved run (daemon and in-process at 1 client)", met: nil))
        }
        let mib = Double(index.peakRSSBytes) / 1048576
        checks.append(TargetCheck(target: "indexer peak memory < 1 GiB", measured: String(format: "%.0f MiB", mib),
                                  met: index.peakRSSBytes < 1 << 30))
        return checks
    }

    /// Runs a peer script; a failure becomes a note and nil, not the end of the run.
    private func peer<T: Decodable>(_ name: String, _ python: String, _ arguments: [String], _ notes: inout [String]) -> T? {
        do {
            return try decodeChild(name, try runChild(python, arguments, echoStderr: true))
        } catch {
            notes.append("\(name) failed: \(error.message)")
            return nil
        }
    }

    /// Benchmarks/peers: beside the checkout this binary was built in.
    static func findPeers() -> String? {
        if let path = ProcessInfo.processInfo.environment["QUARRY_BENCH_PEERS"], !path.isEmpty { return path }
        var candidates: [URL] = []
        var directory = URL(fileURLWithPath: executableDirectory())
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent("Benchmarks/peers"))
            directory.deleteLastPathComponent()
        }
        // Sources/quarry-bench/this file → the checkout's root.
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/peers"))
        return candidates.map(\.path).first { FileManager.default.fileExists(atPath: $0 + "/xapian_peer.py") }
    }
}

/// The JSON a child printed on stdout, or an error quoting its stderr.
func decodeChild<T: Decodable>(_ name: String, _ output: ChildOutput) throws(BenchError) -> T {
    guard output.status == 0 else {
        throw BenchError("\(name) exited with status \(output.status):\n\(output.stderr.suffix(3000))")
    }
    do {
        return try JSONDecoder().decode(T.self, from: output.stdout)
    } catch {
        throw BenchError("\(name) printed something other than its JSON report (\(error)):\n\(String(decoding: output.stdout.prefix(2000), as: UTF8.self))")
    }
}
