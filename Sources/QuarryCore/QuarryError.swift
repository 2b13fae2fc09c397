/// A failure Quarry reports to its user: a code a program can match on and a
/// sentence a person can act on.
public struct QuarryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        case corpusNotFound = "corpus-not-found"
        case indexNotFound = "index-not-found"
        case indexLocked = "index-locked"
        case indexCorrupt = "index-corrupt"
        case indexMismatch = "index-mismatch"
        /// A shard of a sharded index is unreachable (a remote server down).
        case shardUnavailable = "shard-unavailable"
        /// A commit replaced what was being read (Xapian's DatabaseModifiedError); retried once.
        case indexChanged = "index-changed"
        case querySyntax = "query-syntax"
        case invalidRequest = "invalid-request"
        case notFound = "not-found"
        case noSpace = "no-space"
        case xapian = "xapian"
        case io = "io"
        /// The daemon has too much work queued.
        case overloaded = "overloaded"
        /// The daemon is shutting down.
        case unavailable = "unavailable"
    }

    public let code: Code
    public let message: String
    /// For `querySyntax`: the query that failed to parse.
    public var query: String?

    public init(_ code: Code, _ message: String, query: String? = nil) {
        self.code = code
        self.message = message
        self.query = query
    }

    public var description: String { message }

    /// A write that found the disk full: what is committed stays, and a run
    /// after freeing space finishes the job.
    static func noSpace(onDeviceHolding path: String) -> QuarryError {
        QuarryError(.noSpace, "no space left on the device holding '\(path)'; the index keeps its last commit; free space and run again")
    }
}
