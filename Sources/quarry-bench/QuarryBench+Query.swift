#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import CQuarryLinux
import Foundation
import NIOPosix
import QuarryClient
import QuarryCore
import QuarryProtocol
import XapianKit

extension QuarryBench {
    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the fixed query mix in-process (the floor) and against a real daemon.",
            discussion: """
                The mix (96 queries; docs/PERFORMANCE.md lists it) is derived from the index
                itself, deterministically: 24 single words from the frequent, middle and rare
                bands of the unprefixed vocabulary, 16 ANDs of 2-3 words, 16 phrases of 2-3
                words read from stored documents, 16 by: filters over the most active authors
                (half with a word), 12 trailing wildcards and 12 words with author and type
                facets. Every query asks for 10 hits with snippets, as `quarry search` does.

                In-process: one thread per client up to the core count, each with its own
                Searcher, no socket. Daemon: `quarry serve` (the binary next to this one) is
                started as a child on a private socket; the bench waits for its "serving" log
                line, then drives it through QuarryClient with 1, 8 and 64 concurrent clients,
                one connection each, every client closed-loop (next query once the answer is in).
                With both modes and 1 client, an interleaved run follows: one client passes
                through the mix in-process and through the daemon by turns (a whole pass at a
                time, ABBA), so the two medians compare the same seconds of the machine.
                Latencies are exact percentiles of sorted arrays.
                """)

        @Option(help: ArgumentHelp("Index to query (built by `quarry-bench index` or `quarry index`).", valueName: "path"))
        var index: String

        @Option(help: ArgumentHelp("Concurrent clients, comma-separated.", valueName: "list"))
        var clients = "1,8,64"

        @Option(help: ArgumentHelp("Seconds each mode runs (default 10, unless --requests is given).", valueName: "s"))
        var duration: Double?

        @Option(help: ArgumentHelp("Queries each mode runs, instead of a duration.", valueName: "n"))
        var requests: Int?

        @Option(help: ArgumentHelp("Use this query mix (JSON written by --mix-out) instead of deriving one.", valueName: "file"))
        var mix: String?

        @Option(help: ArgumentHelp("Write the query mix as JSON here, for the peers to run the same queries.", valueName: "file"))
        var mixOut: String?

        @Option(help: ArgumentHelp("The `quarry` binary to start as the daemon. Default: the one next to quarry-bench.", valueName: "path"))
        var quarry: String?

        @Option(help: ArgumentHelp("Searcher threads of the daemon. Default: the number of cores.", valueName: "n"))
        var daemonThreads: Int?

        @Option(help: ArgumentHelp("Drive the daemon already serving this socket instead of starting one (e.g. to run the bench under valgrind, which cannot start children).", valueName: "path"))
        var socket: String?

        @Flag(help: "Skip the daemon (in-process only).")
        var noDaemon = false

        @Flag(help: "Skip the in-process runs (daemon only).")
        var noInProcess = false

        @Flag(help: "Run the daemon clients' tasks on Swift's global pool instead of their connection's thread (a hand-over between threads each way, as a caller that ignores QuarryClient.executor pays).")
        var clientsOnPool = false

        @Flag(help: "Print the report as JSON.")
        var json = false

        func validate() throws {
            let list = clients.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw ValidationError("--clients must be a comma-separated list of positive numbers, such as 1,8,64")
            }
            if let duration { guard duration > 0, duration.isFinite else { throw ValidationError("--duration must be above 0") } }
            if let requests { guard requests >= 1 else { throw ValidationError("--requests must be at least 1") } }
            if duration != nil && requests != nil { throw ValidationError("give --duration or --requests, not both") }
        }

        func run() throws {
            let clientCounts = clients.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let budget: RunBudget = requests.map { .requests($0) } ?? .seconds(duration ?? 10)
            let (index, mix, mixOut, quarry, daemonThreads, socket) = (index, mix, mixOut, quarry, daemonThreads, socket)
            let (inProcess, daemon, clientsOnPool) = (!noInProcess, !noDaemon, clientsOnPool)
            do {
                let result = try waitFor { () async throws(BenchError) in
                    try await QueryBenchmark.run(
                        index: index, clients: clientCounts, budget: budget, mixPath: mix, mixOut: mixOut,
                        quarryPath: quarry, daemonThreads: daemonThreads, socket: socket, inProcess: inProcess, daemon: daemon,
                        clientsOnPool: clientsOnPool)
                }
                if json {
                    try printJSON(result)
                } else {
                    print(result.text)
                }
            } catch let error as BenchError {
                report(error)
                throw ExitCode.failure
            }
        }
    }
}

/// How long each mode runs.
enum RunBudget: Sendable {
    case seconds(Double)
    case requests(Int)

    var description: String {
        switch self {
        case .seconds(let value): "\(figure(value)) s per mode"
        case .requests(let value): "\(value) queries per mode"
        }
    }
}

// MARK: the query mix

/// One query of the mix, in a form every engine can translate: `query` is
/// Xapian QueryParser text (what Quarry and python-xapian run); the FTS5 peer
/// builds its own MATCH expression from `kind`, `words`, `author` and `prefix`.
struct MixQuery: Codable, Sendable, Equatable {
    /// `word`, `and`, `phrase`, `by`, `wildcard` or `facet`.
    var kind: String
    var query: String
    var words: [String]
    /// Normalised author name (lower-case, white space folded) for `by`.
    var author: String?
    /// The stem before `*` for `wildcard`.
    var prefix: String?
    /// `author` and/or `type` for `facet`.
    var facets: [String]
}

struct QueryMix: Codable, Sendable {
    var version = 1
    /// What the words were drawn from.
    var source: String
    var queries: [MixQuery]

    var kinds: [String: Int] { queries.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 } }

    static func load(_ path: String) throws(BenchError) -> QueryMix {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError("cannot read the query mix '\(path)'")
        }
        do {
            return try JSONDecoder().decode(QueryMix.self, from: data)
        } catch {
            throw BenchError("'\(path)' is not a query mix written by --mix-out: \(error)")
        }
    }

    func write(_ path: String) throws(BenchError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            try (try encoder.encode(self) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path))
        } catch {
            throw BenchError("cannot write the query mix to '\(path)': \(error.localizedDescription)")
        }
    }

    /// Derives the mix from what the index holds. Same index, same mix: terms are
    /// ranked by (document frequency descending, term ascending) and documents
    /// are read at fixed fractions of the document count.
    static func derive(index: String) throws(BenchError) -> QueryMix {
        do {
            return try deriveThrowing(index: index)
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError("cannot derive a query mix from the index at '\(index)': \(error)")
        }
    }

    private static func deriveThrowing(index: String) throws -> QueryMix {
        let database = try Database(path: index)
        // Unprefixed terms are lower case; reading them letter by letter skips
        // the millions of id, stem and boolean terms.
        var vocabulary: [TermCount] = []
        for letter in UInt8(ascii: "a")...UInt8(ascii: "z") {
            for term in try database.allTerms(prefix: String(UnicodeScalar(letter)))
            where (3...12).contains(term.term.utf8.count) && term.term.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) {
                vocabulary.append(term)
            }
        }
        vocabulary.sort { $0.count != $1.count ? $0.count > $1.count : $0.term < $1.term }
        guard vocabulary.count >= 40 else {
            throw BenchError("the index at '\(index)' has only \(vocabulary.count) distinct words; index a larger corpus (quarry-bench generate --articles 100 or more)")
        }
        let words = vocabulary.map(\.term)
        let n = words.count
        // Bands by rank: the very top are function words ("the", "of").
        let frequent = Band(words, from: n / 200 + 5, to: n / 20 + 20)
        let middle = Band(words, from: n / 20 + 20, to: n * 3 / 10 + 40)
        let rare = Band(words, from: n * 3 / 10 + 40, to: n * 8 / 10 + 60)

        var queries: [MixQuery] = []
        func add(_ kind: String, _ query: String, _ words: [String], author: String? = nil, prefix: String? = nil, facets: [String] = []) {
            queries.append(MixQuery(kind: kind, query: query, words: words, author: author, prefix: prefix, facets: facets))
        }
        // 24 single words: 8 frequent, 8 middle, 8 rare.
        for band in [frequent, middle, rare] {
            for k in 0..<8 {
                let word = band.pick(k, of: 8)
                add("word", word, [word])
            }
        }
        // 16 ANDs: frequent+middle, middle+middle, frequent+frequent+middle, frequent+middle+rare.
        for k in 0..<16 {
            let chosen: [String]
            switch k % 4 {
            case 0: chosen = [frequent.pick(k, of: 16, shift: 1), middle.pick(k, of: 16, shift: 2)]
            case 1: chosen = [middle.pick(k, of: 16, shift: 3), middle.pick(k, of: 16, shift: 7)]
            case 2: chosen = [frequent.pick(k, of: 16, shift: 2), frequent.pick(k, of: 16, shift: 5), middle.pick(k, of: 16, shift: 4)]
            default: chosen = [frequent.pick(k, of: 16, shift: 3), middle.pick(k, of: 16, shift: 5), rare.pick(k, of: 16, shift: 1)]
            }
            add("and", chosen.joined(separator: " "), chosen)
        }
        // 16 phrases of 2 or 3 words, read from stored documents.
        let known = Set(words)
        let documentCount = Int(try database.documentCount)
        var phrases: [[String]] = []
        var probe = 0
        while phrases.count < 16 && probe < 64 && documentCount > 0 {
            let docid = DocumentID(1 + (probe * documentCount) / 64)
            probe += 1
            guard let document = try? database.document(docid),
                  let record = try? DocumentRecord(stored: try document.data()) else { continue }
            let text: String
            switch record {
            case .article(let article): text = article.paragraphs.first ?? article.title
            case .comment(let comment): text = comment.text
            }
            let length = phrases.count % 2 == 0 ? 2 : 3
            if let phrase = Self.phrase(in: text, length: length, known: known) { phrases.append(phrase) }
        }
        for phrase in phrases { add("phrase", "\"" + phrase.joined(separator: " ") + "\"", phrase) }
        // 16 by: filters over the most active authors, half with a word.
        let authors = try database.allTerms(prefix: IndexSchema.Prefix.authorExact)
            .filter { !$0.term.contains("\"") }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.term < $1.term }
            .map { String($0.term.dropFirst(IndexSchema.Prefix.authorExact.count)) }
        if !authors.isEmpty {
            let pool = Array(authors.prefix(200))
            for k in 0..<16 {
                let author = pool[(k * pool.count) / 16]
                if k % 2 == 0 {
                    add("by", "by:\"\(author)\"", [], author: author)
                } else {
                    let word = frequent.pick(k, of: 16, shift: 6)
                    add("by", "\(word) by:\"\(author)\"", [word], author: author)
                }
            }
        }
        // 12 wildcards: 3 letters of frequent words, 4 of middle ones.
        var stems = Set<String>()
        var k = 0
        while stems.count < 12 && k < 200 {
            let word = k % 2 == 0 ? frequent.pick(k, of: 24) : middle.pick(k, of: 24)
            let stem = String(word.prefix(k % 2 == 0 ? 3 : 4))
            if stem.count >= 3, stems.insert(stem).inserted { add("wildcard", stem + "*", [], prefix: stem) }
            k += 1
        }
        // 12 words with author and type facets.
        for k in 0..<12 {
            let word = k % 2 == 0 ? frequent.pick(k, of: 12, shift: 4) : middle.pick(k, of: 12, shift: 6)
            add("facet", word, [word], facets: ["author", "type"])
        }
        return QueryMix(source: "index \(index): \(n) words, \(authors.count) authors, \(documentCount) documents", queries: queries)
    }

    /// `length` consecutive known words from the middle of `text`.
    private static func phrase(in text: String, length: Int, known: Set<String>) -> [String]? {
        let tokens = text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
        guard tokens.count >= length else { return nil }
        let start = tokens.count / 3
        for offset in 0..<tokens.count {
            let from = (start + offset) % tokens.count
            guard from + length <= tokens.count else { continue }
            let candidate = Array(tokens[from..<(from + length)])
            if candidate.allSatisfy(known.contains) { return candidate }
        }
        return nil
    }

    /// A slice of the ranked vocabulary.
    private struct Band {
        let words: ArraySlice<String>

        init(_ all: [String], from: Int, to: Int) {
            let lower = min(from, all.count - 1)
            let upper = max(lower + 1, min(to, all.count))
            words = all[lower..<upper]
        }

        /// Item `k` of `count` spread evenly over the band, moved by `shift`.
        func pick(_ k: Int, of count: Int, shift: Int = 0) -> String {
            let step = max(1, words.count / max(1, count))
            return words[words.startIndex + (k * step + shift * 7) % words.count]
        }
    }
}

extension MixQuery {
    var request: SearchRequest {
        SearchRequest(query: query, limit: 10, facets: facets.compactMap(FacetField.init(rawValue:)))
    }
}

// MARK: results

/// One mode at one concurrency.
struct ModeResult: Codable, Sendable {
    /// `in-process` or `daemon`.
    var mode: String
    var clients: Int
    /// Threads doing the work: in-process threads, or the daemon's searcher threads.
    var threads: Int
    var queries: Int
    var errors: Int
    var seconds: Double
    var queriesPerSecond: Double
    var latency: LatencySummary
    /// Median per kind of query, milliseconds.
    var medianByKind: [String: Double]
    /// Each kind's share of the time spent answering (0...1): what throughput
    /// would gain from making that kind cheaper, which the medians do not say.
    var shareByKind: [String: Double]?
    var firstError: String?
}

struct QueryReport: Codable, Sendable {
    var index: String
    var documents: Int
    var cores: Int
    var budget: String
    var mixSource: String
    var mixKinds: [String: Int]
    var results: [ModeResult]

    func result(_ mode: String, clients: Int) -> ModeResult? {
        results.first { $0.mode == mode && $0.clients == clients }
    }

    var text: String {
        var table = TextTable(["mode", "clients", "threads", "queries", "errors", "q/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms"])
        for result in results {
            table.add([result.mode, "\(result.clients)", "\(result.threads)", "\(result.queries)", "\(result.errors)",
                       figure(result.queriesPerSecond), figure(result.latency.p50Ms), figure(result.latency.p99Ms),
                       figure(result.latency.p999Ms), figure(result.latency.maxMs)])
        }
        let kinds = mixKinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var lines = [
            "index:   \(index) (\(documents) documents), \(cores) cores, \(budget)",
            "mix:     \(mixKinds.values.reduce(0, +)) queries: \(kinds)",
            "",
            table.render(),
        ]
        for result in results where result.clients == 1 {
            guard let shares = result.shareByKind else { continue }
            let byShare = shares.sorted { $0.value > $1.value }.map { "\($0.key) \(Int(($0.value * 100).rounded())) %" }
            lines.append("time by kind, \(result.mode), 1 client: \(byShare.joined(separator: ", "))")
        }
        let errors = results.compactMap { $0.firstError.map { "  \($0)" } }
        if !errors.isEmpty { lines += ["", "errors:"] + errors }
        return lines.joined(separator: "\n")
    }
}

/// Latencies and failures gathered by one worker.
struct WorkerSamples: Sendable {
    var latencies: [Double] = []
    var kinds: [String] = []
    var errors = 0
    var firstError: String?

    mutating func answered(_ query: MixQuery, in seconds: Double) {
        latencies.append(seconds)
        kinds.append(query.kind)
    }

    mutating func failed(_ query: MixQuery, _ error: String) {
        errors += 1
        if firstError == nil { firstError = "\(query.query): \(error)" }
    }
}

func combine(_ mode: String, clients: Int, threads: Int, seconds elapsed: Double, _ workers: [WorkerSamples]) -> ModeResult {
    let latencies = workers.flatMap(\.latencies)
    var byKind: [String: [Double]] = [:]
    for worker in workers {
        for (latency, kind) in zip(worker.latencies, worker.kinds) { byKind[kind, default: []].append(latency) }
    }
    let errors = workers.reduce(0) { $0 + $1.errors }
    return ModeResult(
        mode: mode, clients: clients, threads: threads, queries: latencies.count + errors, errors: errors, seconds: elapsed,
        queriesPerSecond: elapsed > 0 ? Double(latencies.count) / elapsed : 0, latency: LatencySummary(seconds: latencies),
        medianByKind: byKind.mapValues { LatencySummary(seconds: $0).p50Ms },
        shareByKind: byKind.mapValues { $0.reduce(0, +) / max(latencies.reduce(0, +), .leastNonzeroMagnitude) },
        firstError: workers.compactMap(\.firstError).first)
}

// MARK: running

enum QueryBenchmark {
    static func run(
        index: String, clients: [Int], budget: RunBudget, mixPath: String?, mixOut: String?, quarryPath: String?,
        daemonThreads: Int?, socket: String? = nil, inProcess: Bool, daemon: Bool, clientsOnPool: Bool = false
    ) async throws(BenchError) -> QueryReport {
        guard FileManager.default.fileExists(atPath: index) else {
            throw BenchError("no index at '\(index)'; build one with 'quarry-bench index --corpus DIR --index \(index)'")
        }
        let mix: QueryMix
        if let mixPath { mix = try QueryMix.load(mixPath) } else { mix = try QueryMix.derive(index: index) }
        guard !mix.queries.isEmpty else { throw BenchError("the query mix is empty") }
        if let mixOut { try mix.write(mixOut) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let documents: Int
        do {
            documents = try Searcher(indexPath: index).stats().documents
        } catch {
            throw BenchError("cannot open the index at '\(index)': \(error.message)")
        }

        var results: [ModeResult] = []
        if inProcess {
            // One thread per client up to the core count: more threads than cores only queue.
            for threads in Array(Set(clients.map { min($0, cores) })).sorted() {
                note("in-process, \(threads) thread\(threads == 1 ? "" : "s")…")
                results.append(try await InProcessRunner.run(index: index, mix: mix, threads: threads, budget: budget))
            }
        }
        // Each client count, then (with both modes at 1 client) the interleaved run.
        let interleaved = inProcess && clients.contains(1)
        func daemonModes(socket: String, serverThreads: Int, label: String) async throws(BenchError) -> [ModeResult] {
            var modes: [ModeResult] = []
            for count in clients {
                note("\(label), \(count) client\(count == 1 ? "" : "s")…")
                modes.append(try await DaemonRunner.run(socket: socket, mix: mix, clients: count, serverThreads: serverThreads,
                                                        budget: budget, onPool: clientsOnPool))
            }
            if interleaved {
                note("in-process and \(label), interleaved…")
                modes += try await InterleavedRunner.run(index: index, socket: socket, mix: mix, serverThreads: serverThreads,
                                                         budget: budget)
            }
            return modes
        }
        if daemon, let socket {
            // Someone else's daemon: its thread count is not ours to know.
            results += try await daemonModes(socket: socket, serverThreads: daemonThreads ?? 0, label: "daemon at \(socket)")
        } else if daemon {
            let binary = quarryPath ?? executableDirectory() + "/quarry"
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                throw BenchError("no 'quarry' binary at '\(binary)'; build it (swift build -c release) or give --quarry PATH")
            }
            let threads = daemonThreads ?? cores
            let server = try await DaemonProcess.start(quarry: binary, index: index, threads: threads)
            do {
                results += try await daemonModes(socket: server.socketPath, serverThreads: threads, label: "daemon")
            } catch {
                let state = server.process.isRunning
                    ? "the daemon is still running"
                    : "the daemon exited with status \(server.process.terminationStatus)"
                let socketThere = FileManager.default.fileExists(atPath: server.socketPath)
                server.stop()
                throw BenchError("""
                    \(error.message)
                    (\(state); its socket \(socketThere ? "is" : "is not") at \(server.socketPath)); its log ends with:
                    \(server.log.suffix(3000))
                    """)
            }
            let status = server.stop()
            if status != 0 { note("note: the daemon exited with status \(status):\n\(server.log.suffix(2000))") }
        }
        return QueryReport(index: index, documents: documents, cores: cores, budget: budget.description,
                           mixSource: mix.source, mixKinds: mix.kinds, results: results)
    }
}

/// Threads that each own a Searcher and run the mix with no socket in between.
enum InProcessRunner {
    static func run(index: String, mix: QueryMix, threads: Int, budget: RunBudget) async throws(BenchError) -> ModeResult {
        // Shared by the threads, as the daemon's threads share theirs.
        let columns = SearchColumns()
        // Warm up once (page cache, first open), untimed.
        do {
            let searcher = try Searcher(indexPath: index, columns: columns)
            for query in mix.queries { _ = try? searcher.search(query.request) }
        } catch {
            throw BenchError("cannot open the index at '\(index)': \(error.message)")
        }
        let box = ResultBox(expected: threads)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline: ContinuousClock.Instant? = if case .seconds(let value) = budget { start + .seconds(value) } else { nil }
        let quota: Int = if case .requests(let value) = budget { (value + threads - 1) / threads } else { .max }
        let queries = mix.queries
        let workers: [WorkerSamples] = await withCheckedContinuation { continuation in
            box.onComplete = { continuation.resume(returning: $0) }
            for number in 0..<threads {
                let thread = Thread {
                    // Named from the thread itself, as the daemon's are (SearcherPool.start).
                    cq_name_this_thread("bench-search-\(number)")
                    var samples = WorkerSamples()
                    do throws(QuarryError) {
                        let searcher = try Searcher(indexPath: index, columns: columns)
                        var position = (number * 37) % queries.count
                        var done = 0
                        while done < quota {
                            if let deadline, clock.now >= deadline { break }
                            let query = queries[position]
                            position = (position + 1) % queries.count
                            let begin = clock.now
                            do throws(QuarryError) {
                                _ = try searcher.search(query.request)
                                samples.answered(query, in: seconds(clock.now - begin))
                            } catch {
                                samples.failed(query, error.message)
                            }
                            done += 1
                        }
                    } catch {
                        samples.errors += 1
                        samples.firstError = "cannot open the index: \(error.message)"
                    }
                    box.deliver(samples)
                }
                thread.start()
            }
        }
        return combine("in-process", clients: threads, threads: threads, seconds: seconds(clock.now - start), workers)
    }
}

/// Collects what each thread found and hands the lot over once all are in.
final class ResultBox: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private let expected: Int
    private var collected: [WorkerSamples] = []
    private var completion: (([WorkerSamples]) -> Void)?

    init(expected: Int) { self.expected = expected }

    var onComplete: (([WorkerSamples]) -> Void)? {
        get { lock.withLock { completion } }
        set { lock.withLock { completion = newValue } }
    }

    func deliver(_ samples: WorkerSamples) {
        let finished: (([WorkerSamples]) -> Void, [WorkerSamples])? = lock.withLock {
            collected.append(samples)
            guard collected.count == expected, let completion else { return nil }
            return (completion, collected)
        }
        if let finished { finished.0(finished.1) }
    }
}

/// Clients on real connections to the daemon, each closed-loop.
enum DaemonRunner {
    static func run(
        socket: String, mix: QueryMix, clients: Int, serverThreads: Int, budget: RunBudget, onPool: Bool
    ) async throws(BenchError) -> ModeResult {
        // The clients' sockets share one event-loop thread, as many clients of
        // one process would. Their tasks run there too (QuarryClient.executor),
        // unless `onPool`: then each call crosses to that thread and back.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var connections: [QuarryClient] = []
        for _ in 0..<clients {
            do {
                connections.append(try await QuarryClient.connect(socketPath: socket, group: group))
            } catch {
                for connection in connections { await connection.close() }
                try? await group.shutdownGracefully()
                throw BenchError("cannot connect client \(connections.count + 1) of \(clients): \(error)")
            }
        }
        // Warm-up pass on the first connection, untimed.
        for query in mix.queries { _ = try? await connections[0].search(query.request) }

        let clock = ContinuousClock()
        let start = clock.now
        let deadline: ContinuousClock.Instant? = if case .seconds(let value) = budget { start + .seconds(value) } else { nil }
        let quota: Int = if case .requests(let value) = budget { (value + clients - 1) / clients } else { .max }
        let queries = mix.queries
        let workers = await withTaskGroup(of: WorkerSamples.self) { group in
            for (number, client) in connections.enumerated() {
                group.addTask(executorPreference: onPool ? nil : client.executor) {
                    var samples = WorkerSamples()
                    var position = (number * 37) % queries.count
                    var done = 0
                    while done < quota {
                        if let deadline, clock.now >= deadline { break }
                        let query = queries[position]
                        position = (position + 1) % queries.count
                        let begin = clock.now
                        do {
                            _ = try await client.search(query.request)
                            samples.answered(query, in: seconds(clock.now - begin))
                        } catch {
                            samples.failed(query, "\(error)")
                        }
                        done += 1
                    }
                    return samples
                }
            }
            var all: [WorkerSamples] = []
            for await samples in group { all.append(samples) }
            return all
        }
        let elapsed = seconds(clock.now - start)
        for connection in connections { await connection.close() }
        try? await group.shutdownGracefully()
        return combine("daemon", clients: clients, threads: serverThreads, seconds: elapsed, workers)
    }
}

/// One client that runs the mix through its own Searcher and through the
/// daemon by turns, a whole pass at a time (so each side's caches stay its
/// own), in the order ABBA. The two medians then come from the same seconds
/// of a shared machine whose speed drifts by tens of percent from one run to
/// the next: runs one after the other put the daemon's median anywhere from
/// 0.9× to 1.5× the in-process one (docs/PERFORMANCE.md, ninth session).
enum InterleavedRunner {
    static let inProcessMode = "in-process, interleaved"
    static let daemonMode = "daemon, interleaved"

    static func run(
        index: String, socket: String, mix: QueryMix, serverThreads: Int, budget: RunBudget
    ) async throws(BenchError) -> [ModeResult] {
        let local: QueueSearcher
        do {
            local = try QueueSearcher(index: index)
        } catch {
            throw BenchError("cannot open the index at '\(index)': \(error.message)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client: QuarryClient
        do {
            client = try await QuarryClient.connect(socketPath: socket, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw BenchError("cannot connect to the daemon: \(error)")
        }
        let queries = mix.queries
        let task = Task(executorPreference: client.executor) { () async -> ([WorkerSamples], Double) in
            // Warm-up pass of both, untimed.
            for query in queries {
                _ = await local.search(query.request)
                _ = try? await client.search(query.request)
            }
            let clock = ContinuousClock()
            let start = clock.now
            let deadline: ContinuousClock.Instant? = if case .seconds(let value) = budget { start + .seconds(value) } else { nil }
            let quota: Int = if case .requests(let value) = budget { value } else { .max }
            // In-process, then daemon.
            var samples = [WorkerSamples(), WorkerSamples()]
            // Groups of queries, each run in-process then through the daemon, or
            // the other way round every other group: ABBA. A group is the whole
            // mix, or less when a request budget would not reach both sides.
            let block = if case .requests(let value) = budget { max(1, min(queries.count, (value + 3) / 4)) } else { queries.count }
            var done = 0
            var group = 0
            timed: while true {
                for daemonTurn in group % 2 == 0 ? [false, true] : [true, false] {
                    for offset in 0..<block {
                        if done >= quota { break timed }
                        if let deadline, clock.now >= deadline { break timed }
                        let query = queries[(group * block + offset) % queries.count]
                        if daemonTurn {
                            let begin = clock.now
                            do {
                                _ = try await client.search(query.request)
                                samples[1].answered(query, in: seconds(clock.now - begin))
                            } catch {
                                samples[1].failed(query, "\(error)")
                            }
                        } else {
                            switch await local.search(query.request) {
                            case .success(let took): samples[0].answered(query, in: took)
                            case .failure(let error): samples[0].failed(query, error.message)
                            }
                        }
                        done += 1
                    }
                }
                group += 1
            }
            return (samples, seconds(clock.now - start))
        }
        let (samples, elapsed) = await task.value
        await client.close()
        try? await group.shutdownGracefully()
        return [combine(inProcessMode, clients: 1, threads: 1, seconds: elapsed, [samples[0]]),
                combine(daemonMode, clients: 1, threads: serverThreads, seconds: elapsed, [samples[1]])]
    }
}

/// A Searcher on a serial queue of its own: a search blocks, so it runs
/// neither on an event loop nor on Swift's cooperative pool. Each search is
/// timed on the queue, without the hand-over to it and back.
final class QueueSearcher: @unchecked Sendable {
    // @unchecked: `searcher` is only used on `queue`, one search at a time.
    private let queue = DispatchQueue(label: "quarry-bench.interleaved-searcher")
    private let searcher: Searcher

    init(index: String) throws(QuarryError) {
        searcher = try Searcher(indexPath: index)
    }

    /// The seconds `request` took, or why it failed.
    func search(_ request: SearchRequest) async -> Result<Double, QuarryError> {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                let clock = ContinuousClock()
                let begin = clock.now
                do throws(QuarryError) {
                    _ = try searcher.search(request)
                    continuation.resume(returning: .success(seconds(clock.now - begin)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }
}

/// `quarry serve` as a child process on a private socket.
final class DaemonProcess: @unchecked Sendable {
    // @unchecked: `logText`, `ended` and `waiter` are guarded by `condition`; the rest is immutable.
    let process = Process()
    let socketPath: String
    private let directory: String
    private let condition = NSCondition()
    private var logText = ""
    private var ended = false
    private var waiter: CheckedContinuation<Void, any Error>?

    private init(socketPath: String, directory: String) {
        self.socketPath = socketPath
        self.directory = directory
    }

    /// Starts the daemon and returns once it logs "serving" (its readiness
    /// signal); fails if it exits first, or says nothing of the sort within a minute.
    static func start(quarry: String, index: String, threads: Int) async throws(BenchError) -> DaemonProcess {
        let directory = try makeShortTemporaryDirectory("quarry-bench")
        let daemon = DaemonProcess(socketPath: directory + "/q.sock", directory: directory)
        daemon.process.executableURL = URL(fileURLWithPath: quarry)
        daemon.process.arguments = ["serve", "--index", index, "--socket", daemon.socketPath, "--threads", "\(threads)",
                                    "--log-level", "info", "--max-connections", "1024"]
        let err = Pipe()
        daemon.process.standardError = err
        daemon.process.standardOutput = FileHandle.nullDevice
        daemon.process.standardInput = FileHandle.nullDevice
        do {
            try daemon.process.run()
        } catch {
            throw BenchError("cannot start '\(quarry) serve': \(error.localizedDescription)")
        }
        let handle = err.fileHandleForReading
        let reader = Thread { [daemon] in
            while true {
                let chunk = handle.availableData
                daemon.received(chunk)
                if chunk.isEmpty { return }
            }
        }
        reader.start()
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                daemon.condition.withLock { daemon.waiter = continuation }
                // Settles at once if the line (or the end of stderr) came before the waiter.
                daemon.received(nil)
                DispatchQueue.global().asyncAfter(deadline: .now() + 60) { [daemon] in
                    daemon.settle(.failure(BenchError("the daemon did not log 'serving' within 60 s:\n\(daemon.log)")))
                }
            }
        } catch {
            daemon.stop()
            throw (error as? BenchError) ?? BenchError("\(error)")
        }
        return daemon
    }

    /// A chunk of stderr; an empty one is its end; nil only re-checks.
    private func received(_ chunk: Data?) {
        let outcome: Result<Void, BenchError>? = condition.withLock {
            if let chunk {
                if chunk.isEmpty { ended = true } else { logText += String(decoding: chunk, as: UTF8.self) }
            }
            if logText.contains("serving") { return .success(()) }
            if ended { return .failure(BenchError("the daemon exited before it was ready:\n\(logText)")) }
            return nil
        }
        if let outcome { settle(outcome) }
    }

    /// Resumes whoever waits for readiness, once.
    private func settle(_ outcome: Result<Void, BenchError>) {
        let continuation: CheckedContinuation<Void, any Error>? = condition.withLock {
            defer { waiter = nil }
            return waiter
        }
        switch outcome {
        case .success: continuation?.resume()
        case .failure(let error): continuation?.resume(throwing: error)
        }
    }

    var log: String { condition.withLock { logText } }

    /// SIGTERM, then the exit status; removes the private directory.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
        return process.terminationStatus
    }
}
