import Foundation
import Logging
import QuarryCore
import QuarryProtocol
import QuarryServer

/// What one fuzz input is fed to. Each target is a code path that reads
/// untrusted bytes: a corpus file, a request line, a user's query. Whatever
/// the input, the path must return (a value or an error value), never trap.
enum FuzzTarget: String, CaseIterable {
    /// A `.txt` article: `CorpusFormat.text.read`.
    case text
    /// A `.json` article object.
    case json
    /// A `.jsonl` file, one article object per line.
    case jsonl
    /// A request line: `RequestParser.parse`, then the limits a searcher
    /// checks; a search its `JSONReader` path takes is checked against `JSONDecoder`.
    case protocolLine = "protocol"
    /// A query string and options derived from the input, searched on a small
    /// index built from Corpus/ at startup.
    case query
    /// A search reply as QuarryClient reads it, and a stored document record
    /// as the searcher reads it (both with `JSONReader`), checked against
    /// `JSONDecoder`: whatever the reader takes, `JSONDecoder` must read alike.
    case reply

    func run(_ bytes: [UInt8]) {
        switch self {
        case .text: Self.read(.text, bytes, name: "fuzz/input.txt")
        case .json: Self.read(.json, bytes, name: "fuzz/input.json")
        case .jsonl: Self.read(.jsonLines, bytes, name: "fuzz/input.jsonl")
        case .protocolLine: Self.request(bytes)
        case .query: QueryFuzzer.shared.run(bytes)
        case .reply: Self.reply(bytes)
        }
    }

    /// The corpus readers.
    private static func read(_ format: CorpusFormat, _ bytes: [UInt8], name: String) {
        let parsed = format.read(bytes, relativePath: name)
        for article in parsed.articles {
            // Ids are what the index keys documents on: they must be computable for any input.
            for index in article.comments.indices { _ = article.commentID(index) }
        }
        for warning in parsed.warnings { _ = warning.description }
    }

    /// The daemon's request path short of the index: decoding, routing, and
    /// the validation every searcher applies before touching Xapian.
    private static func request(_ bytes: [UInt8]) {
        let (id, result) = RequestParser.parse(Data(bytes))
        if case .success(.search) = result, let read = RequestParser.readSearch(Data(bytes)) {
            // What the fast path took, the decoder must read alike.
            let decoded = RequestParser.decode(Data(bytes))
            agree(read.id, decoded.id)
            agree(ParsedRequest.search(read.request), try? decoded.request.get())
        }
        let limits = SearchLimits()
        switch result {
        case .success(.search(let search)): check { () throws(QuarryError) in try limits.validate(search) }
        case .success(.similar(let similar)): check { () throws(QuarryError) in try limits.validate(similar) }
        case .success(.duplicates(let duplicates)): check { () throws(QuarryError) in try limits.validate(duplicates) }
        case .success: break
        case .failure(let error):
            // The error reply must encode whatever the request held.
            _ = try? JSONEncoder().encode(RPCErrorResponse(id: id ?? .null, error: error))
        }
    }

    private static func reply(_ bytes: [UInt8]) {
        if let read = try? SearchResponse(json: bytes) {
            agree(read, try? JSONDecoder().decode(SearchResponse.self, from: Data(bytes)))
        }
        if let read = try? DocumentRecord(json: bytes) {
            agree(read, try? JSONDecoder().decode(DocumentRecord.self, from: Data(bytes)))
        }
    }

    private static func agree<T: Equatable>(_ read: T, _ decoded: T?) {
        // A disagreement is a finding: trap, so that libFuzzer keeps the input.
        if decoded != read { fatalError("JSONReader read \(read), JSONDecoder \(String(describing: decoded))") }
    }

    private static func check(_ body: () throws(QuarryError) -> Void) {
        do { try body() } catch { _ = error.message }
    }
}

/// The query path on a real index: Xapian's query parser, the searcher's
/// options, snippets, facets, collapse, spelling. Built once per process.
final class QueryFuzzer {
    // nonisolated(unsafe): libFuzzer and the replay loop call targets from one thread only.
    nonisolated(unsafe) static let shared = QueryFuzzer()

    private let searcher: Searcher
    private let directory: String
    /// Replay mode's `--corpus DIR`, set before the first query input.
    nonisolated(unsafe) static var corpusOverride: String?
    /// Removed at exit (libFuzzer ends the process with `exit`).
    nonisolated(unsafe) static var cleanupDirectory: String?

    private init() {
        let environment = ProcessInfo.processInfo.environment
        let corpus = Self.corpusOverride ?? environment["QUARRY_FUZZ_CORPUS"] ?? "Corpus"
        var template = Array((FileManager.default.temporaryDirectory.path + "/quarry-fuzz-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { Self.die("cannot create a temporary directory") }
        directory = String(cString: made)
        let index = directory + "/index"
        let logger = Logger(label: "quarry-fuzz") { _ in SwiftLogNoOpLogHandler() }
        do {
            let summary = try Indexer.run(corpus: corpus, index: index, logger: logger)
            guard summary.totalArticles > 0 else {
                Self.die("the corpus '\(corpus)' holds no articles; run from the repository root or set QUARRY_FUZZ_CORPUS")
            }
            searcher = try Searcher(indexPath: index, limits: SearchLimits(timeLimit: 1))
        } catch {
            Self.die("cannot index '\(corpus)' for the query target: \(error.message)")
        }
        Self.cleanupDirectory = directory
        atexit { QueryFuzzer.cleanupDirectory.map { _ = try? FileManager.default.removeItem(atPath: $0) } }
    }

    /// The first bytes choose the options, the rest is the query text.
    func run(_ bytes: [UInt8]) {
        var options = OptionBytes(bytes)
        var request = SearchRequest(query: "")
        request.type = options.pick([nil, .article, .comment])
        request.sort = options.pick(ResultOrder.allCases)
        request.collapse = options.flag()
        request.correct = options.flag()
        request.facets = options.pick([[], [.author], [.type], [.author, .type]])
        request.limit = options.pick([1, 3, 10, 50, 0, 1001])
        request.offset = options.pick([0, 1, 7, 100, -1, Int.max])
        request.checkAtLeast = options.pick([nil, 0, 100, 10_000, -5])
        if options.flag() { request.author = options.pick(["Golova Hvosta", "", "vladimir"]) }
        let text = String(decoding: options.rest, as: UTF8.self)
        request.query = text
        expectUserError { () throws(QuarryError) in _ = try searcher.search(request) }
        expectUserError { () throws(QuarryError) in _ = try searcher.suggest(text) }
        if options.flag() {
            expectUserError { () throws(QuarryError) in _ = try searcher.get(id: text) }
            expectUserError { () throws(QuarryError) in _ = try searcher.similar(SimilarRequest(id: text, offset: request.offset, limit: request.limit)) }
        }
    }

    /// A query a user typed may be refused (syntax, limits, unknown id), never
    /// fail as an internal error: that would be a Xapian exception Quarry does
    /// not put in the user's terms.
    private func expectUserError(_ body: () throws(QuarryError) -> Void) {
        do {
            try body()
        } catch where [.querySyntax, .invalidRequest, .notFound].contains(error.code) {
            _ = error.message
        } catch {
            fatalError("an internal error for user input: [\(error.code.rawValue)] \(error.message)")
        }
    }

    static func die(_ message: String) -> Never {
        FileHandle.standardError.write(Data("quarry-fuzz: \(message)\n".utf8))
        exit(2)
    }
}

/// Reads small choices off the front of the input.
struct OptionBytes {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // Inputs shorter than the option block are all query text.
        if bytes.count < 12 { position = bytes.count }
    }

    private mutating func next() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func flag() -> Bool { next() & 1 == 1 }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next()) % choices.count] }

    var rest: ArraySlice<UInt8> {
        bytes.count < 12 ? bytes[...] : bytes[min(position, bytes.count)...]
    }
}
