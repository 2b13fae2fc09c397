#if canImport(Glibc)
import Glibc
#endif

/// What changed under a watched corpus directory, relative to its root.
public enum CorpusChange: Sendable, Hashable {
    /// A file was created, written, moved in, removed or moved away: look at it again.
    case path(String)
    /// The kernel dropped events (its queue overflowed): only a full rescan is safe.
    case overflow
}

/// Follows a directory tree with inotify, including directories created after
/// the start. Reports paths to look at again; deciding what they mean (new,
/// changed, gone) is the indexer's job, done by comparing with what it stored.
public final class DirectoryWatcher {
    private let root: String
    private let descriptor: Int32
    private var directories: [Int32: String] = [:]
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    /// Directories that could not be watched (permissions, vanished, too many watches).
    public private(set) var warnings: [CorpusWarning] = []

    private static let fileEvents: UInt32 =
        UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB | IN_MODIFY)
    private static let selfEvents: UInt32 = UInt32(IN_DELETE_SELF | IN_MOVE_SELF)

    public init(root: String) throws(QuarryError) {
        self.root = root
        descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else {
            throw QuarryError(.io, "cannot watch '\(root)': inotify_init1 failed (\(String(cString: strerror(errno))))")
        }
        watchTree("")
    }

    deinit { close(descriptor) }

    /// Adds watches on `relative` and every directory under it; returns the
    /// paths of what already sits there (it may have appeared before the watch).
    @discardableResult
    func watchTree(_ relative: String) -> [String] {
        let path = relative.isEmpty ? root : root + "/" + relative
        let id = inotify_add_watch(descriptor, path, Self.fileEvents | Self.selfEvents | UInt32(IN_ONLYDIR))
        guard id >= 0 else {
            let reason = errno == ENOSPC
                ? "the inotify watch limit is reached (raise fs.inotify.max_user_watches)"
                : String(cString: strerror(errno))
            warnings.append(CorpusWarning(file: relative.isEmpty ? "." : relative, line: nil, message: "cannot watch this directory (\(reason))"))
            return []
        }
        directories[id] = relative
        var found: [String] = []
        guard let handle = opendir(path) else { return found }
        defer { closedir(handle) }
        var children: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            children.append(name)
        }
        for name in children {
            let child = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard stat(root + "/" + child, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                found += watchTree(child)
            } else {
                found.append(child)
            }
        }
        return found
    }

    /// Waits up to `milliseconds` for events and returns the changes they name.
    public func changes(waitingUpTo milliseconds: Int32) -> [CorpusChange] {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return [] }
        var changes: [CorpusChange] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            while offset + 16 <= count {
                let (id, mask, length) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let name = String(decoding: buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix(while: { $0 != 0 }), as: UTF8.self)
                offset += 16 + length
                changes += interpret(id: id, mask: mask, name: name)
            }
        }
        return changes
    }

    private func interpret(id: Int32, mask: UInt32, name: String) -> [CorpusChange] {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 { return [.overflow] }
        guard let directory = directories[id] else { return [] }
        if mask & UInt32(IN_IGNORED) != 0 {
            directories[id] = nil
            return []
        }
        if mask & Self.selfEvents != 0 {
            // The directory itself went away or moved: everything under it is to be looked at.
            inotify_rm_watch(descriptor, id)
            directories[id] = nil
            return directory.isEmpty ? [] : [.path(directory)]
        }
        guard !name.isEmpty, !name.hasPrefix(".") else { return [] }
        let path = directory.isEmpty ? name : directory + "/" + name
        if mask & UInt32(IN_ISDIR) != 0, mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
            return [.path(path)] + watchTree(path).map { .path($0) }
        }
        return [.path(path)]
    }
}
