#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import QuarryProtocol
import ServiceLifecycle

/// The query daemon: answers JSON-RPC on a Unix domain socket from a read-only
/// index. Run it in a `ServiceGroup`; a graceful shutdown (SIGTERM, SIGINT)
/// stops accepting, finishes the requests in flight, and removes the socket.
public final class QuarryServer: Service {
    public let configuration: ServerConfiguration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        // Sockets are cheap; Xapian work runs on the searcher pool, not here.
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        try? group.syncShutdownGracefully()
    }

    public func run() async throws {
        let metrics = ServerMetrics()
        let pool = SearcherPool(
            indexPath: configuration.indexPath, threads: configuration.searcherThreads,
            limits: configuration.searchLimits, maxQueued: configuration.maxQueuedRequests,
            poll: configuration.idlePoll, logger: logger)
        pool.start()
        defer { pool.shutdown() }
        let dispatcher = RequestDispatcher(pool: pool, metrics: metrics, logger: logger)

        let (serverChannel, ownedInode) = try await bind(dispatcher: dispatcher, metrics: metrics)
        let path = configuration.socketPath
        defer {
            if let ownedInode { SocketFile.remove(path, inode: ownedInode) }
        }
        let room = DescriptorBudget.connections(searcherThreads: configuration.searcherThreads)
        if room < configuration.maxConnections {
            logger.notice("the open-file limit leaves room for fewer connections than --max-connections", metadata: [
                "connections": "\(room)", "open-file-limit": "\(DescriptorBudget.openFileLimit().map(String.init) ?? "none")"])
        }
        logger.info("serving", metadata: [
            "socket": "\(ownedInode == nil ? "systemd socket" : path)", "index": "\(configuration.indexPath)",
            "threads": "\(configuration.searcherThreads)",
        ])

        let logger = logger
        try await withGracefulShutdownHandler {
            // One task per connection, only to wait for it: run() returns once every
            // connection has written what it owes and closed.
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await channel in inbound {
                        group.addTask { await Self.awaitClosed(channel) }
                    }
                }
            }
        } onGracefulShutdown: {
            logger.info("shutting down: no new connections; finishing requests in flight")
            serverChannel.channel.close(promise: nil)
        }
        logger.info("stopped", metadata: ["requests": "\(metrics.snapshot(searcherThreads: 0).requests)"])
    }

    private static func awaitClosed(_ channel: Channel) async {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.pipeline.fireUserInboundEventTriggered(ConnectionHandler.StopReading())
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Sets up an accepted connection's pipeline, on its event loop, before it
    /// reads anything: a refusal, or the handlers that serve it.
    private static func setUp(
        _ channel: Channel, peer: PeerCredentials?,
        configuration: ServerConfiguration, dispatcher: RequestDispatcher, metrics: ServerMetrics, logger: Logger
    ) throws {
        var logger = logger
        logger[metadataKey: "peer"] = "\(peer.map(\.description) ?? "unknown")"
        let pipeline = channel.pipeline.syncOperations
        guard peer?.isAllowed(uids: configuration.allowedUIDs, gids: configuration.allowedGIDs)
                ?? (configuration.allowedUIDs.isEmpty && configuration.allowedGIDs.isEmpty) else {
            logger.warning("refused a peer not in --allow-uid/--allow-gid")
            try pipeline.addHandler(RefusalHandler(RPCError(code: RPCError.forbidden, message: "this user may not query the daemon")))
            return
        }
        let room = DescriptorBudget.connections(searcherThreads: configuration.searcherThreads)
        let limit = min(configuration.maxConnections, room)
        guard metrics.openConnection(limit: limit) else {
            if room < configuration.maxConnections {
                logger.warning("refused a connection: the open-file limit leaves room for no more", metadata: [
                    "limit": "\(limit)", "open-file-limit": "\(DescriptorBudget.openFileLimit().map(String.init) ?? "none")"])
            } else {
                logger.warning("refused a connection: at the connection limit", metadata: ["limit": "\(limit)"])
            }
            try pipeline.addHandler(RefusalHandler(RPCError(code: RPCError.overloaded, message: "the daemon has \(limit) connections open; try again later")))
            return
        }
        channel.closeFuture.whenComplete { _ in metrics.closeConnection() }
        if configuration.idleTimeout > 0 {
            try pipeline.addHandler(IdleStateHandler(readTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000))))
            try pipeline.addHandler(CloseOnIdleHandler())
        }
        try pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: configuration.maxLineBytes)))
        try pipeline.addHandler(ConnectionHandler(dispatcher: dispatcher, configuration: configuration, logger: logger))
    }

    /// Binds the socket (or adopts systemd's), returning the channel and, when
    /// we created the socket file, its inode for removal at exit.
    private func bind(dispatcher: RequestDispatcher, metrics: ServerMetrics) async throws -> (NIOAsyncChannel<Channel, Never>, UInt64?) {
        let configuration = configuration
        let logger = logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptFailureHandler(logger: logger))
                }
            }
            // A client may send its requests and shut down its write side (as `socat` does
            // at end of input) and still expect every reply.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (Channel) -> EventLoopFuture<Channel> = { channel in
            PeerCredentials.of(channel).flatMapThrowing { peer in
                try Self.setUp(channel, peer: peer, configuration: configuration, dispatcher: dispatcher, metrics: metrics, logger: logger)
                return channel
            }.flatMapErrorThrowing { error in
                // NIO drops a channel whose initializer failed without closing it.
                channel.close(promise: nil)
                throw error
            }
        }
        if let fd = SystemdActivation.listeningSocket() {
            logger.info("using the socket passed by systemd", metadata: ["fd": "\(fd)"])
            return (try await bootstrap.bind(fd, childChannelInitializer: initializer), nil)
        }
        let path = configuration.socketPath
        try await SocketFile.claim(path, group: group)
        let channel = try await SocketFile.withPrivateUmask {
            try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false, childChannelInitializer: initializer)
        }
        let inode = try SocketFile.secure(path, mode: configuration.socketMode, group: configuration.socketGroup)
        return (channel, inode)
    }
}

/// Closes a connection that has sent nothing for the idle timeout.
private final class CloseOnIdleHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// systemd socket activation: the listening socket arrives as fd 3.
enum SystemdActivation {
    static func listeningSocket() -> CInt? {
        guard let pid = getenv("LISTEN_PID").flatMap({ pid_t(String(cString: $0)) }), pid == getpid(),
              let count = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }), count >= 1
        else { return nil }
        // Children must not think the sockets are theirs.
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        return 3
    }
}
