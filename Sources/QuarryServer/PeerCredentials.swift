import CQuarryLinux
import NIOCore

/// Who is on the other end of a Unix socket, as the kernel says (SO_PEERCRED).
struct PeerCredentials: Sendable, CustomStringConvertible {
    let pid: Int32
    let uid: UInt32
    let gid: UInt32

    /// NIO has no peer-credential API; read the option raw into a mirror of `struct ucred`.
    static func of(_ channel: Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<cq_ucred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(cq_sol_socket()), name: SocketOptionName(cq_so_peercred()))
        return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
            .recover { _ in nil }
    }

    var description: String { "pid \(pid) uid \(uid) gid \(gid)" }

    /// With both lists empty everyone who can open the socket file may talk.
    func isAllowed(uids: [UInt32], gids: [UInt32]) -> Bool {
        if uids.isEmpty && gids.isEmpty { return true }
        return uids.contains(uid) || gids.contains(gid)
    }
}
