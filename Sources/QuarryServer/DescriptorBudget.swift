#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore

/// Connections cost a file descriptor each, and so does every file of every
/// searcher's open index. The daemon keeps its connection count within what
/// the process's open-file limit (`ulimit -n`, systemd's `LimitNOFILE=`)
/// leaves after its own needs, so that past that point a new client is refused
/// with `-32004` and a log line instead of the daemon running out of
/// descriptors (a connection it cannot accept, a searcher that cannot reopen).
enum DescriptorBudget {
    /// Descriptors the daemon needs besides its connections: standard streams,
    /// the event loop (epoll, eventfd, timerfd), the listening socket, and for
    /// each searcher thread an open index (about six table files, one more
    /// while it moves to a new revision).
    static func reserved(searcherThreads: Int) -> Int { 24 + 8 * searcherThreads }

    /// The soft open-file limit, nil when there is none.
    static func openFileLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// How many connections the open-file limit leaves room for (read at each
    /// connection: `prlimit` may change it while the daemon runs).
    static func connections(searcherThreads: Int) -> Int {
        guard let limit = openFileLimit() else { return Int.max }
        return max(1, limit - reserved(searcherThreads: searcherThreads))
    }
}

/// When the listening socket cannot accept for want of descriptors (EMFILE,
/// ENFILE) or memory: logs why, and stops accepting for a second.
///
/// NIO's `AcceptBackoffHandler` alone does not pause accepting: it delays the
/// next read, but the read whose accept failed is still pending, so the socket
/// stays registered for readability and a client waiting in the backlog makes
/// it readable again at once. accept then failed in a busy loop (a core's worth
/// of CPU and thousands of log lines a second for as long as descriptors were
/// short). Turning autoRead off takes the socket out of the event loop's
/// interest; a second later it is turned back on and accept is tried again.
/// Connections already open are served meanwhile.
final class AcceptFailureHandler: ChannelInboundHandler {
    typealias InboundIn = Channel

    static let pause: TimeAmount = .seconds(1)

    private let logger: Logger
    private var paused = false

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) {
            if !paused {
                logger.warning("cannot accept new connections: out of file descriptors or memory; retrying in a second", metadata: [
                    "error": "\(error)", "open-file-limit": "\(DescriptorBudget.openFileLimit().map(String.init) ?? "none")"])
            }
            pause(context.channel, on: context.eventLoop)
        }
        context.fireErrorCaught(error)
    }

    private func pause(_ channel: Channel, on eventLoop: EventLoop) {
        guard let options = channel.syncOptions else { return }
        // Turning autoRead off unregisters the socket only when the option changes: if a
        // read registered it again during the pause, switch it on and off once more.
        if paused { try? options.setOption(.autoRead, value: true) }
        try? options.setOption(.autoRead, value: false)
        guard !paused else { return }
        paused = true
        eventLoop.assumeIsolated().scheduleTask(in: Self.pause) {
            self.paused = false
            // Resumes the pending read: accept is tried again (a no-op if the channel closed).
            try? options.setOption(.autoRead, value: true)
        }
    }
}
