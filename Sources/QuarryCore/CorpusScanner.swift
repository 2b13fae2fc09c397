#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A corpus file found by the scanner, with what its signature starts from.
public struct CorpusFile: Sendable, Equatable {
    /// Relative to the corpus root, `/`-separated.
    public var relativePath: String
    public var path: String
    public var format: CorpusFormat
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var modified: Int64
}

/// What a scan of the corpus directory found.
public struct CorpusScan: Sendable {
    /// Corpus files in path order.
    public var files: [CorpusFile]
    /// Files with an extension Quarry does not read.
    public var skipped: Int
    /// Unreadable directories, symlink loops, vanished entries.
    public var warnings: [CorpusWarning]
    /// Relative paths that could not be looked into: what the index holds
    /// under them is kept, not taken for deleted.
    public var unreadable: [String]
}

/// Walks a corpus directory. Symbolic links are followed, each directory is
/// visited once (a link loop is a warning), hidden entries are skipped, and an
/// unreadable directory is a warning, never an abort.
public enum CorpusScanner {
    public static func scan(root: String) throws(QuarryError) -> CorpusScan {
        var info = stat()
        guard stat(root, &info) == 0 else {
            throw QuarryError(.corpusNotFound, "cannot read the corpus directory '\(root)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw QuarryError(.corpusNotFound, "'\(root)' is not a directory; give the corpus directory")
        }
        var scan = CorpusScan(files: [], skipped: 0, warnings: [], unreadable: [])
        var visited: Set<DirectoryIdentity> = [DirectoryIdentity(info)]
        walk(root: root, relative: "", into: &scan, visited: &visited)
        scan.files.sort { $0.relativePath < $1.relativePath }
        return scan
    }

    struct DirectoryIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private static func walk(root: String, relative: String, into scan: inout CorpusScan, visited: inout Set<DirectoryIdentity>) {
        let directory = relative.isEmpty ? root : root + "/" + relative
        guard let handle = opendir(directory) else {
            scan.warnings.append(CorpusWarning(
                file: relative.isEmpty ? "." : relative, line: nil,
                message: "directory not readable (\(String(cString: strerror(errno)))); skipped"))
            scan.unreadable.append(relative)
            return
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        closedir(handle)

        for name in names.sorted() {
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            let childPath = root + "/" + childRelative
            var info = stat()
            guard stat(childPath, &info) == 0 else {
                let reason = errno == ELOOP ? "symbolic link loop" : String(cString: strerror(errno))
                scan.warnings.append(CorpusWarning(file: childRelative, line: nil, message: "cannot read (\(reason)); skipped"))
                scan.unreadable.append(childRelative)
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard visited.insert(DirectoryIdentity(info)).inserted else {
                    scan.warnings.append(CorpusWarning(
                        file: childRelative, line: nil, message: "directory already visited (symbolic link loop); skipped"))
                    continue
                }
                walk(root: root, relative: childRelative, into: &scan, visited: &visited)
            case S_IFREG:
                guard let format = CorpusFormat(fileName: name) else {
                    scan.skipped += 1
                    continue
                }
                scan.files.append(CorpusFile(
                    relativePath: childRelative, path: childPath, format: format, size: Int64(info.st_size),
                    modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
            default:
                scan.skipped += 1
            }
        }
    }

    /// Reads a whole file; nil with a warning when it cannot be read.
    static func readFile(_ path: String, relativePath: String, warnings: inout [CorpusWarning]) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            warnings.append(CorpusWarning(file: relativePath, line: nil, message: "cannot open (\(String(cString: strerror(errno)))); skipped"))
            return nil
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                warnings.append(CorpusWarning(file: relativePath, line: nil, message: "read failed (\(String(cString: strerror(errno)))); skipped"))
                return nil
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
