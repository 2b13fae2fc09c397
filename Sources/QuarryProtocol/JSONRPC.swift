/// A JSON-RPC 2.0 request id: a number, a string, or null.
public enum RPCID: Codable, Sendable, Hashable, CustomStringConvertible {
    case number(Int64)
    case string(String)
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let number = try? container.decode(Int64.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            throw DecodingError.typeMismatch(RPCID.self, .init(codingPath: decoder.codingPath, debugDescription: "id must be a number, a string or null"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        case .null: try container.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .number(let number): "\(number)"
        case .string(let string): "\"\(string)\""
        case .null: "null"
        }
    }
}

/// A request as sent: `{"jsonrpc":"2.0","id":1,"method":"search","params":{…}}`.
public struct RPCRequest<Params: Codable & Sendable>: Codable, Sendable {
    public var jsonrpc: String
    public var id: RPCID?
    public var method: String
    public var params: Params

    public init(id: RPCID?, method: String, params: Params) {
        self.jsonrpc = "2.0"
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A successful reply: `{"jsonrpc":"2.0","id":1,"result":{…}}`.
public struct RPCResponse<Result: Codable & Sendable>: Codable, Sendable {
    public var jsonrpc: String
    public var id: RPCID
    public var result: Result

    public init(id: RPCID, result: Result) {
        self.jsonrpc = "2.0"
        self.id = id
        self.result = result
    }
}

/// A failed reply: `{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"…","data":{…}}}`.
public struct RPCErrorResponse: Codable, Sendable, Error {
    public var jsonrpc: String
    public var id: RPCID
    public var error: RPCError

    public init(id: RPCID, error: RPCError) {
        self.jsonrpc = "2.0"
        self.id = id
        self.error = error
    }
}

/// The error object of a failed reply.
public struct RPCError: Codable, Sendable, Error, Equatable, CustomStringConvertible {
    /// JSON-RPC's own codes and Quarry's, see docs/PROTOCOL.md.
    public var code: Int
    /// A sentence for a person.
    public var message: String
    public var data: RPCErrorData?

    public init(code: Int, message: String, data: RPCErrorData? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(message) (\(code))" }

    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    /// The query text could not be parsed; `data.query` echoes it.
    public static let querySyntax = -32001
    /// The index cannot be opened or read right now.
    public static let indexUnavailable = -32002
    /// The request line is longer than the daemon accepts; the connection is closed.
    public static let requestTooLarge = -32003
    /// Too many connections, or too many requests in flight on this connection.
    public static let overloaded = -32004
    /// `get`/`similar` of an id the index does not hold.
    public static let notFound = -32005
    /// The peer's uid/gid is not allowed; the connection is closed.
    public static let forbidden = -32006
}

/// Machine-readable detail of an error.
public struct RPCErrorData: Codable, Sendable, Equatable {
    /// Quarry's error code name, e.g. `query-syntax`, `index-not-found`.
    public var reason: String?
    /// The query that failed to parse.
    public var query: String?

    public init(reason: String? = nil, query: String? = nil) {
        self.reason = reason
        self.query = query
    }
}

/// Just enough of a request to route it: the method and id, params left for later.
public struct RPCEnvelope: Decodable, Sendable {
    public var jsonrpc: String?
    public var id: RPCID?
    public var method: String?
}
