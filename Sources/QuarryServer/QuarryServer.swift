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
            limits: configuration.searchLimits, maxQueued: configuration.maxQueuedRequests, logger: logger)
        pool.start()
        defer { pool.shutdown() }
        let dispatcher = RequestDispatcher(pool: pool, metrics: metrics, logger: logger)

        let (serverChannel, ownedInode) = try await bind()
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

        let configuration = configuration
        let logger = logger
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await accepted in inbound {
                        group.addTask {
                            await Self.serve(accepted, configuration: configuration, dispatcher: dispatcher,
                                             metrics: metrics, logger: logger)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            logger.info("shutting down: no new connections; finishing requests in flight")
            serverChannel.channel.close(promise: nil)
        }
        logger.info("stopped", metadata: ["requests": "\(metrics.snapshot(searcherThreads: 0).requests)"])
    }

    private static func serve(
        _ accepted: (channel: NIOAsyncChannel<LineFrame, ByteBuffer>, peer: PeerCredentials?),
        configuration: ServerConfiguration, dispatcher: RequestDispatcher, metrics: ServerMetrics, logger: Logger
    ) async {
        var logger = logger
        logger[metadataKey: "peer"] = "\(accepted.peer.map(\.description) ?? "unknown")"
        let channel = accepted.channel
        func refuse(_ error: RPCError) async {
            try? await channel.executeThenClose { _, outbound in
                try await outbound.write(RequestDispatcher.errorLine(error))
            }
        }
        guard accepted.peer?.isAllowed(uids: configuration.allowedUIDs, gids: configuration.allowedGIDs)
                ?? (configuration.allowedUIDs.isEmpty && configuration.allowedGIDs.isEmpty) else {
            logger.warning("refused a peer not in --allow-uid/--allow-gid")
            await refuse(RPCError(code: RPCError.forbidden, message: "this user may not query the daemon"))
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
            await refuse(RPCError(code: RPCError.overloaded, message: "the daemon has \(limit) connections open; try again later"))
            return
        }
        defer { metrics.closeConnection() }
        await Connection(channel: channel, peer: accepted.peer, configuration: configuration,
                         dispatcher: dispatcher, logger: logger).run()
    }

    /// Binds the socket (or adopts systemd's), returning the channel and, when
    /// we created the socket file, its inode for removal at exit.
    private func bind() async throws -> (NIOAsyncChannel<(channel: NIOAsyncChannel<LineFrame, ByteBuffer>, peer: PeerCredentials?), Never>, UInt64?) {
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
        let initializer: @Sendable (Channel) -> EventLoopFuture<(channel: NIOAsyncChannel<LineFrame, ByteBuffer>, peer: PeerCredentials?)> = { channel in
            PeerCredentials.of(channel).flatMapThrowing { peer in
                if configuration.idleTimeout > 0 {
                    try channel.pipeline.syncOperations.addHandler(
                        IdleStateHandler(readTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000))))
                    try channel.pipeline.syncOperations.addHandler(CloseOnIdleHandler())
                }
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(LineFrameDecoder(maxLength: configuration.maxLineBytes)))
                return (try NIOAsyncChannel(wrappingChannelSynchronously: channel), peer)
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
