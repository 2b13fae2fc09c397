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

/// Logs why the listening socket cannot accept: out of descriptors (EMFILE,
/// ENFILE) or memory. NIO's accept back-off then waits a second before trying
/// again; connections already open are served meanwhile.
final class AcceptFailureLogger: ChannelInboundHandler, Sendable {
    typealias InboundIn = Channel

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) {
            logger.warning("cannot accept new connections: out of file descriptors or memory; retrying in a second", metadata: [
                "error": "\(error)", "open-file-limit": "\(DescriptorBudget.openFileLimit().map(String.init) ?? "none")"])
        }
        context.fireErrorCaught(error)
    }
}
