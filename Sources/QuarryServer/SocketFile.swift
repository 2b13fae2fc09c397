#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// The socket file on disk: claimed safely before binding, given its mode and
/// group, and removed on a clean exit only if it is still ours.
enum SocketFile {
    /// Makes `path` free to bind: refuses a live daemon's socket and anything
    /// that is not a socket; removes a stale socket nobody answers on.
    static func claim(_ path: String, group: EventLoopGroup) async throws(ServerError) {
        guard path.utf8.count <= 107 else {
            throw ServerError("the socket path '\(path)' is \(path.utf8.count) bytes; Unix sockets allow at most 107")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw ServerError("cannot inspect '\(path)': \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ServerError("'\(path)' exists and is not a socket; refusing to replace it (choose another --socket path)")
        }
        // NIO's cleanupExistingSocketFile would unlink a live daemon's socket: ask first.
        if let channel = try? await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get() {
            try? await channel.close().get()
            throw ServerError("another daemon is already serving on '\(path)'; stop it first or choose another --socket path")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw ServerError("cannot remove the stale socket '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// Sets the mode and group of the freshly bound socket; returns its inode so
    /// that shutdown removes this socket and not a successor's.
    static func secure(_ path: String, mode: UInt32, group: String?) throws(ServerError) -> UInt64 {
        if let group {
            guard let entry = getgrnam(group) else {
                throw ServerError("no group named '\(group)' (--socket-group)")
            }
            guard chown(path, UInt32.max, entry.pointee.gr_gid) == 0 else {
                throw ServerError("cannot give '\(path)' to group '\(group)': \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            throw ServerError("cannot set the mode of '\(path)': \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ServerError("the socket '\(path)' vanished after binding")
        }
        return UInt64(info.st_ino)
    }

    /// Removes the socket if the path still holds the one we bound.
    static func remove(_ path: String, inode: UInt64) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, UInt64(info.st_ino) == inode else { return }
        unlink(path)
    }

    /// Runs `body` with a umask that creates the socket no wider than 0600, so
    /// there is no moment when others could connect before `secure` runs.
    static func withPrivateUmask<T>(_ body: () async throws -> T) async rethrows -> T {
        let old = umask(0o177)
        defer { umask(old) }
        return try await body()
    }
}
