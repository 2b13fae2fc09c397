/// Names of the methods the daemon answers.
public enum RPCMethod: String, Sendable, CaseIterable {
    case search, get, similar, duplicates, suggest, stats, ping
}

/// Params of a method that takes none.
public struct NoParams: Codable, Sendable, Equatable {
    public init() {}
}

/// `get` params.
public struct GetParams: Codable, Sendable, Equatable {
    public var id: String
    public init(id: String) { self.id = id }
}

/// `get` result.
public struct GetResult: Codable, Sendable, Equatable {
    public var revision: UInt64
    public var document: DocumentRecord

    public init(revision: UInt64, document: DocumentRecord) {
        self.revision = revision
        self.document = document
    }
}

/// `suggest` params: a query to spell-check.
public struct SuggestParams: Codable, Sendable, Equatable {
    public var query: String
    public init(query: String) { self.query = query }
}

/// `suggest` result: the corrected query, or null when the words are all known.
public struct SuggestResult: Codable, Sendable, Equatable {
    public var revision: UInt64
    public var query: String
    public var suggestion: String?
    /// Why there can be no suggestion, e.g. an index with remote shards.
    public var notice: String?

    public init(revision: UInt64, query: String, suggestion: String?, notice: String? = nil) {
        self.revision = revision
        self.query = query
        self.suggestion = suggestion
        self.notice = notice
    }
}

/// `ping` result.
public struct PingResult: Codable, Sendable, Equatable {
    public var revision: UInt64
    public var version: String

    public init(revision: UInt64, version: String) {
        self.revision = revision
        self.version = version
    }
}

/// How the daemon itself is doing.
public struct ServerStats: Codable, Sendable, Equatable {
    public var uptimeSeconds: Double
    public var requests: Int
    public var errors: Int
    public var openConnections: Int
    public var searcherThreads: Int
    /// Latency of recent requests in milliseconds.
    public var latencyMs: LatencyPercentiles

    public init(uptimeSeconds: Double, requests: Int, errors: Int, openConnections: Int, searcherThreads: Int,
                latencyMs: LatencyPercentiles) {
        self.uptimeSeconds = uptimeSeconds
        self.requests = requests
        self.errors = errors
        self.openConnections = openConnections
        self.searcherThreads = searcherThreads
        self.latencyMs = latencyMs
    }
}

public struct LatencyPercentiles: Codable, Sendable, Equatable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
    /// How many recent requests the figures cover.
    public var samples: Int

    public init(p50: Double, p90: Double, p99: Double, max: Double, samples: Int) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
        self.samples = samples
    }
}

/// `stats` result.
public struct StatsResult: Codable, Sendable, Equatable {
    public var revision: UInt64
    public var index: IndexStats
    public var server: ServerStats

    public init(revision: UInt64, index: IndexStats, server: ServerStats) {
        self.revision = revision
        self.index = index
        self.server = server
    }
}
