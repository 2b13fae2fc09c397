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
        let envelope: RPCEnvelope
        do {
            envelope = try JSONDecoder().decode(RPCEnvelope.self, from: data)
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
        return (id, Result { () throws(RPCError) -> ParsedRequest in try parse(method, data) })
    }

    private static func parse(_ method: RPCMethod, _ data: Data) throws(RPCError) -> ParsedRequest {
        switch method {
        case .search: .search(try params(data))
        case .get: .get(try params(data))
        case .similar: .similar(try params(data))
        case .duplicates: .duplicates(try optionalParams(data) ?? DuplicatesRequest())
        case .suggest: .suggest(try params(data))
        case .stats: .stats
        case .ping: .ping
        }
    }

    private struct ParamsOnly<P: Decodable>: Decodable {
        var params: P?
    }

    private static func params<P: Decodable>(_ data: Data) throws(RPCError) -> P {
        guard let params: P = try optionalParams(data) else {
            throw RPCError(code: RPCError.invalidParams, message: "this method needs \"params\"")
        }
        return params
    }

    private static func optionalParams<P: Decodable>(_ data: Data) throws(RPCError) -> P? {
        do {
            return try JSONDecoder().decode(ParamsOnly<P>.self, from: data).params
        } catch let error as DecodingError {
            throw RPCError(code: RPCError.invalidParams, message: "invalid params: \(error.fieldDescription)")
        } catch {
            throw RPCError(code: RPCError.invalidParams, message: "invalid params")
        }
    }
}
