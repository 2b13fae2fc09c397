import QuarryCore

/// Everything `quarry serve` can be told. Defaults suit one machine serving a
/// few local programs.
public struct ServerConfiguration: Sendable {
    public var indexPath: String
    public var socketPath: String
    /// Permission bits of the socket file (the default lets only the owner connect).
    public var socketMode: UInt32 = 0o600
    /// Group given to the socket file, e.g. with mode 0660 for a shared group.
    public var socketGroup: String?
    /// When non-empty, only peers with one of these uids (or `allowedGIDs`) may talk.
    public var allowedUIDs: [UInt32] = []
    public var allowedGIDs: [UInt32] = []
    /// Threads doing Xapian work, each with its own read-only database.
    public var searcherThreads: Int
    /// Longest request line in bytes; past it the client gets an error and is disconnected.
    public var maxLineBytes: Int = 1 << 20
    public var maxConnections: Int = 256
    /// Requests a connection may have waiting for their reply; past it they get
    /// "overloaded". A client with twice as many unwritten replies whose socket
    /// is full (it is not reading) is dropped.
    public var maxInFlightPerConnection: Int = 256
    /// Requests waiting for a searcher thread across all connections.
    public var maxQueuedRequests: Int = 16_384
    /// A connection that sends nothing for this long is closed (seconds; 0: never).
    public var idleTimeout: Double = 300
    /// How long a searcher thread left without work stays awake for the next
    /// request before it sleeps: a request that finds it awake skips a
    /// wake-up (tens of µs). The cost is CPU: up to this much per request
    /// when requests come one at a time. Zero sleeps at once.
    public var idlePoll: Duration = .microseconds(300)
    /// Search limits: page size, query time.
    public var searchLimits = SearchLimits()

    public init(indexPath: String, socketPath: String, searcherThreads: Int) {
        self.indexPath = indexPath
        self.socketPath = socketPath
        self.searcherThreads = max(1, searcherThreads)
    }
}
