import Foundation
import Logging
import NIOCore
import QuarryCore
import QuarryProtocol

/// Turns one request line into one reply line: JSON-RPC decoding, routing to
/// the searcher pool, error mapping, encoding. Knows nothing of sockets.
struct RequestDispatcher: Sendable {
    let pool: SearcherPool
    let metrics: ServerMetrics
    let logger: Logger
    static let version = "0.1.0"

    /// Answers one request line: `completion` gets the encoded reply with its
    /// trailing newline, or nil for a notification (a request without an id gets
    /// no reply, as JSON-RPC requires). Parsing, the search and the encoding of
    /// the reply all run on one searcher thread, so a request crosses threads
    /// only to get there and back: every hop between threads showed in the
    /// daemon's latency.
    func reply(to line: ByteBuffer, completion: @escaping @Sendable (ByteBuffer?) -> Void) {
        let start = ContinuousClock.now
        let metrics = metrics
        let finish: @Sendable (RPCID?, Outcome) -> Void = { id, outcome in
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let failed: Bool
            if case .failure = outcome { failed = true } else { failed = false }
            metrics.recordRequest(seconds: seconds, failed: failed)
            completion(id.map { Self.encode(id: $0, outcome) })
        }
        pool.submit { opened in
            let (id, parsed) = RequestParser.parse(Data(line.readableBytesView))
            switch parsed {
            case .failure(let error): finish(id, .failure(error))
            case .success(let request): finish(id, execute(request, opened))
            }
        } refused: { error in
            let (id, _) = RequestParser.parse(Data(line.readableBytesView))
            finish(id, .failure(Self.rpcError(error)))
        }
    }

    typealias Outcome = Result<any Encodable & Sendable, RPCError>

    static func encode(id: RPCID, _ outcome: Outcome) -> ByteBuffer {
        if case .success(let result) = outcome, let page = result as? SearchResponse {
            return searchReply(id: id, page)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: Data
        do {
            switch outcome {
            case .success(let result): bytes = try encoder.encode(AnyResponse(id: id, result: result))
            case .failure(let error): bytes = try encoder.encode(RPCErrorResponse(id: id, error: error))
            }
        } catch {
            bytes = Data(#"{"error":{"code":-32603,"message":"the reply could not be encoded"},"id":null,"jsonrpc":"2.0"}"#.utf8)
        }
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }

    /// The reply to a search, on every hot path, written without `JSONEncoder`.
    static func searchReply(id: RPCID, _ page: SearchResponse) -> ByteBuffer {
        var json = JSONWriter()
        json.object { json in
            json.key("jsonrpc")
            json.string("2.0")
            json.key("id")
            switch id {
            case .number(let number): json.number(number)
            case .string(let string): json.string(string)
            case .null: json.null()
            }
            json.key("result")
            page.write(to: &json)
        }
        var buffer = ByteBuffer(bytes: json.bytes)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// The id of a request, if it has a readable one: for error replies made
    /// without running the request.
    static func peekID(_ line: ByteBuffer) -> RPCID {
        (try? JSONDecoder().decode(RPCEnvelope.self, from: Data(line.readableBytesView)))?.id ?? .null
    }

    /// An error reply for a request that never reached a method (too long, overloaded).
    static func errorLine(id: RPCID = .null, _ error: RPCError) -> ByteBuffer {
        encode(id: id, .failure(error))
    }

    /// Runs a request on a searcher thread.
    private func execute(_ request: ParsedRequest, _ opened: Result<Searcher, QuarryError>) -> Outcome {
        let metrics = metrics
        let threads = pool.threadCount
        let indexPath = pool.indexPath
        do {
            return .success(try { () throws(QuarryError) -> any Encodable & Sendable in
                if case .stats = request, case .failure = opened, let stats = Searcher.shardedStats(indexPath: indexPath) {
                    // A shard is down: stats still answers, naming it.
                    return StatsResult(revision: stats.revision, index: stats, server: metrics.snapshot(searcherThreads: threads))
                }
                let searcher = try opened.get()
                switch request {
                case .search(let search):
                    return try searcher.search(search)
                case .get(let params):
                    return GetResult(revision: try searcher.revision, document: try searcher.get(id: params.id))
                case .similar(let similar):
                    return try searcher.similar(similar)
                case .duplicates(let duplicates):
                    return try searcher.duplicates(duplicates)
                case .suggest(let params):
                    return SuggestResult(revision: try searcher.revision, query: params.query, suggestion: try searcher.suggest(params.query),
                                         notice: searcher.spellingNotice)
                case .ping:
                    return PingResult(revision: try searcher.revision, version: Self.version)
                case .stats:
                    let index = try searcher.stats()
                    return StatsResult(revision: index.revision, index: index, server: metrics.snapshot(searcherThreads: threads))
                }
            }())
        } catch {
            return .failure(Self.rpcError(error))
        }
    }

    static func rpcError(_ error: QuarryError) -> RPCError {
        let code: Int
        var data = RPCErrorData(reason: error.code.rawValue)
        switch error.code {
        case .querySyntax:
            code = RPCError.querySyntax
            data.query = error.query
        case .invalidRequest: code = RPCError.invalidParams
        case .notFound: code = RPCError.notFound
        case .overloaded: code = RPCError.overloaded
        case .indexNotFound, .indexCorrupt, .indexLocked, .indexMismatch, .indexChanged, .shardUnavailable, .io, .unavailable, .corpusNotFound, .noSpace:
            code = RPCError.indexUnavailable
        case .xapian: code = RPCError.internalError
        }
        return RPCError(code: code, message: error.message, data: data)
    }
}

/// A success reply around a result whose type is only known at run time.
private struct AnyResponse: Encodable {
    let id: RPCID
    let result: any Encodable

    enum CodingKeys: String, CodingKey { case jsonrpc, id, result }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("2.0", forKey: .jsonrpc)
        try container.encode(id, forKey: .id)
        try container.encode(result, forKey: .result)
    }
}
