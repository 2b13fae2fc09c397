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

    /// The encoded reply with its trailing newline, or nil for a notification
    /// (a request without an id gets no reply, as JSON-RPC requires).
    func reply(to line: ByteBuffer) async -> ByteBuffer? {
        let start = ContinuousClock.now
        let data = Data(line.readableBytesView)
        let (id, result) = await handle(data)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let failed: Bool
        if case .failure = result { failed = true } else { failed = false }
        metrics.recordRequest(seconds: seconds, failed: failed)
        guard let id else { return nil }
        return Self.encode(id: id, result)
    }

    typealias Outcome = Result<any Encodable & Sendable, RPCError>

    static func encode(id: RPCID, _ outcome: Outcome) -> ByteBuffer {
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

    /// An error reply for a request that never reached a method (too long, overloaded).
    static func errorLine(id: RPCID = .null, _ error: RPCError) -> ByteBuffer {
        encode(id: id, .failure(error))
    }

    private func handle(_ data: Data) async -> (RPCID?, Outcome) {
        // Foundation's decoder would quietly repair bad UTF-8; the protocol says it is an error.
        guard String(validating: data, as: UTF8.self) != nil else {
            return (.null, .failure(RPCError(code: RPCError.parseError, message: "the request is not valid UTF-8")))
        }
        let envelope: RPCEnvelope
        do {
            envelope = try JSONDecoder().decode(RPCEnvelope.self, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                return (.null, .failure(RPCError(code: RPCError.parseError, message: "the request is not valid JSON (one UTF-8 JSON object per line)")))
            }
            if case .typeMismatch(_, let context) = error, context.codingPath.isEmpty {
                return (.null, .failure(RPCError(code: RPCError.invalidRequest, message: "the request must be a JSON object, not an array or a bare value")))
            }
            return (.null, .failure(RPCError(code: RPCError.invalidRequest, message: "the request is not a JSON-RPC 2.0 request: \(error.fieldDescription)")))
        } catch {
            return (.null, .failure(RPCError(code: RPCError.parseError, message: "the request is not valid JSON")))
        }
        let id = envelope.id
        guard envelope.jsonrpc == "2.0" else {
            return (id ?? .null, .failure(RPCError(code: RPCError.invalidRequest, message: "\"jsonrpc\" must be \"2.0\"")))
        }
        guard let name = envelope.method else {
            return (id ?? .null, .failure(RPCError(code: RPCError.invalidRequest, message: "the request has no \"method\"")))
        }
        guard let method = RPCMethod(rawValue: name) else {
            let known = RPCMethod.allCases.map(\.rawValue).joined(separator: ", ")
            return (id ?? .null, .failure(RPCError(code: RPCError.methodNotFound, message: "no method '\(name)'; the methods are \(known)")))
        }
        return (id, await dispatch(method, data))
    }

    private func dispatch(_ method: RPCMethod, _ data: Data) async -> Outcome {
        switch method {
        case .search:
            return await call(data) { (request: SearchRequest, searcher) throws(QuarryError) in try searcher.search(request) }
        case .get:
            return await call(data) { (params: GetParams, searcher) throws(QuarryError) in
                GetResult(revision: try searcher.revision, document: try searcher.get(id: params.id))
            }
        case .suggest:
            return await call(data) { (params: SuggestParams, searcher) throws(QuarryError) in
                SuggestResult(revision: try searcher.revision, query: params.query, suggestion: try searcher.suggest(params.query))
            }
        case .ping:
            return await call(data, optional: true) { (_: NoParams, searcher) throws(QuarryError) in
                PingResult(revision: try searcher.revision, version: Self.version)
            }
        case .stats:
            let metrics = metrics
            let threads = pool.threadCount
            return await call(data, optional: true) { (_: NoParams, searcher) throws(QuarryError) in
                let index = try searcher.stats()
                return StatsResult(revision: index.revision, index: index, server: metrics.snapshot(searcherThreads: threads))
            }
        }
    }

    /// Decodes `params` as `P` and runs `body` on a searcher thread.
    private func call<P: Decodable & Sendable, R: Encodable & Sendable>(
        _ data: Data, optional: Bool = false, _ body: @escaping @Sendable (P, Searcher) throws(QuarryError) -> R
    ) async -> Outcome {
        let params: P
        do {
            let decoded = try JSONDecoder().decode(ParamsOnly<P>.self, from: data)
            if let value = decoded.params {
                params = value
            } else if optional, let empty = try? JSONDecoder().decode(P.self, from: Data("{}".utf8)) {
                params = empty
            } else {
                return .failure(RPCError(code: RPCError.invalidParams, message: "this method needs \"params\""))
            }
        } catch let error as DecodingError {
            return .failure(RPCError(code: RPCError.invalidParams, message: "invalid params: \(error.fieldDescription)"))
        } catch {
            return .failure(RPCError(code: RPCError.invalidParams, message: "invalid params"))
        }
        do {
            return .success(try await pool.run { searcher throws(QuarryError) in try body(params, searcher) })
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
        case .indexNotFound, .indexCorrupt, .indexLocked, .indexMismatch, .io, .unavailable, .corpusNotFound, .noSpace:
            code = RPCError.indexUnavailable
        case .xapian: code = RPCError.internalError
        }
        return RPCError(code: code, message: error.message, data: data)
    }
}

private struct ParamsOnly<P: Decodable>: Decodable {
    var params: P?
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
