import Foundation
import QuarryProtocol

/// A request line decoded and checked, ready to run.
public enum ParsedRequest: Sendable, Equatable {
    case search(SearchRequest)
    case get(GetParams)
    case similar(SimilarRequest)
    case duplicates(DuplicatesRequest)
    case suggest(SuggestParams)
    case stats
    case ping
}

/// Turns one request line into a typed request or the JSON-RPC error that
/// answers it. Pure: no index, no socket, so it can be tested and fuzzed alone.
public enum RequestParser {
    /// The request's id (nil for a notification, `.null` when unreadable) and
    /// what it asks for.
    public static func parse(_ data: Data) -> (id: RPCID?, request: Result<ParsedRequest, RPCError>) {
        // Foundation's decoder would quietly repair bad UTF-8; the protocol says it is an error.
        guard String(validating: data, as: UTF8.self) != nil else {
            return (.null, .failure(RPCError(code: RPCError.parseError, message: "the request is not valid UTF-8")))
        }
        if let (id, search) = readSearch(data) { return (id, .success(.search(search))) }
        return decode(data)
    }

    /// `parse` with `JSONDecoder` alone, on text already known to be UTF-8:
    /// what `parse` does with anything but a plain search request. Public so
    /// the fuzzer can check that both ways read a search alike, and
    /// `quarry-bench json` can time the two.
    public static func decode(_ data: Data) -> (id: RPCID?, request: Result<ParsedRequest, RPCError>) {
        // One decode: the envelope's fields first, then the params of the method it names.
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: data)
        } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context) where context.codingPath.isEmpty:
                return (.null, .failure(RPCError(code: RPCError.parseError, message: "the request is not valid JSON (one UTF-8 JSON object per line)")))
            case .typeMismatch(_, let context) where context.codingPath.isEmpty:
                return (.null, .failure(RPCError(code: RPCError.invalidRequest, message: "the request must be a JSON object, not an array or a bare value")))
            default:
                return (.null, .failure(RPCError(code: RPCError.invalidRequest, message: "the request is not a JSON-RPC 2.0 request: \(error.fieldDescription)")))
            }
        } catch {
            return (.null, .failure(RPCError(code: RPCError.parseError, message: "the request is not valid JSON")))
        }
        return (request.id, request.outcome)
    }

    /// A request line as decoded: the envelope's errors are thrown (they
    /// leave no id to answer with), the checks on the envelope and the errors
    /// in the params are kept as the outcome, to be answered with the id.
    private struct Request: Decodable {
        var id: RPCID?
        var outcome: Result<ParsedRequest, RPCError>

        fileprivate enum CodingKeys: String, CodingKey { case jsonrpc, id, method, params }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // In the order, and with the presence rules, of `RPCEnvelope`'s synthesized
            // decoding: `"id": null` is a notification, as it always was here.
            let jsonrpc = try container.decodeIfPresent(String.self, forKey: .jsonrpc)
            id = try container.decodeIfPresent(RPCID.self, forKey: .id)
            let name = try container.decodeIfPresent(String.self, forKey: .method)
            guard jsonrpc == "2.0" else {
                id = id ?? .null
                outcome = .failure(RPCError(code: RPCError.invalidRequest, message: "\"jsonrpc\" must be \"2.0\""))
                return
            }
            guard let name else {
                id = id ?? .null
                outcome = .failure(RPCError(code: RPCError.invalidRequest, message: "the request has no \"method\""))
                return
            }
            guard let method = RPCMethod(rawValue: name) else {
                let known = RPCMethod.allCases.map(\.rawValue).joined(separator: ", ")
                id = id ?? .null
                outcome = .failure(RPCError(code: RPCError.methodNotFound, message: "no method '\(name)'; the methods are \(known)"))
                return
            }
            outcome = Result { () throws(RPCError) -> ParsedRequest in try RequestParser.parse(method, container) }
        }
    }

    private typealias Container = KeyedDecodingContainer<Request.CodingKeys>

    private static func parse(_ method: RPCMethod, _ container: Container) throws(RPCError) -> ParsedRequest {
        switch method {
        case .search: .search(try params(container))
        case .get: .get(try params(container))
        case .similar: .similar(try params(container))
        case .duplicates: .duplicates(try optionalParams(container) ?? DuplicatesRequest())
        case .suggest: .suggest(try params(container))
        case .stats: .stats
        case .ping: .ping
        }
    }

    private static func params<P: Decodable>(_ container: Container) throws(RPCError) -> P {
        guard let params: P = try optionalParams(container) else {
            throw RPCError(code: RPCError.invalidParams, message: "this method needs \"params\"")
        }
        return params
    }

    private static func optionalParams<P: Decodable>(_ container: Container) throws(RPCError) -> P? {
        do {
            return try container.decodeIfPresent(P.self, forKey: .params)
        } catch let error as DecodingError {
            throw RPCError(code: RPCError.invalidParams, message: "invalid params: \(error.fieldDescription)")
        } catch {
            // JSON text the decoder checks only when it reads it (a raw control
            // character in a string) fails here with its own error type, which only a
            // top-level decode turns into a DecodingError; decoded apart, as the
            // params once were, it read "not valid JSON". No params type throws
            // anything else.
            throw RPCError(code: RPCError.invalidParams, message: "invalid params: not valid JSON")
        }
    }
}
