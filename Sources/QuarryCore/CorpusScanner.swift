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

/// What a walk over the corpus directory found besides its corpus files.
public struct CorpusWalkReport: Sendable {
    /// Corpus files handed over.
    public var files = 0
    /// Their bytes, by size at the time of the walk.
    public var bytes: Int64 = 0
    /// Files with an extension Quarry does not read.
    public var skipped = 0
    /// Unreadable directories, symlink loops, vanished entries.
    public var warnings: [CorpusWarning] = []
    /// Relative paths that could not be looked into: what the index holds
    /// under them is kept, not taken for deleted.
    public var unreadable: [String] = []
}

/// What a scan of the corpus directory found.
public struct CorpusScan: Sendable {
    /// Corpus files in path order.
    public var files: [CorpusFile]
    public var report: CorpusWalkReport
}

/// Walks a corpus directory. Symbolic links are followed, each directory is
/// visited once (a link loop is a warning), hidden entries are skipped, and an
/// unreadable directory is a warning, never an abort.
public enum CorpusScanner {
    /// Hands each corpus file to `onFile` as it is found, a directory's entries
    /// in name order, so a corpus of any size is walked in the memory of one
    /// directory listing.
    public static func walk(root: String, onFile: (CorpusFile) throws(QuarryError) -> Void) throws(QuarryError) -> CorpusWalkReport {
        var info = stat()
        guard stat(root, &info) == 0 else {
            throw QuarryError(.corpusNotFound, "cannot read the corpus directory '\(root)': \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw QuarryError(.corpusNotFound, "'\(root)' is not a directory; give the corpus directory")
        }
        var report = CorpusWalkReport()
        var visited: Set<DirectoryIdentity> = [DirectoryIdentity(info)]
        try walk(root: root, relative: "", into: &report, visited: &visited, onFile: onFile)
        return report
    }

    /// Every corpus file at once, in path order: for small trees and tests.
    public static func scan(root: String) throws(QuarryError) -> CorpusScan {
        var files: [CorpusFile] = []
        let report = try walk(root: root) { files.append($0) }
        files.sort { $0.relativePath < $1.relativePath }
        return CorpusScan(files: files, report: report)
    }

    struct DirectoryIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private static func walk(
        root: String, relative: String, into report: inout CorpusWalkReport, visited: inout Set<DirectoryIdentity>,
        onFile: (CorpusFile) throws(QuarryError) -> Void
    ) throws(QuarryError) {
        let directory = relative.isEmpty ? root : root + "/" + relative
        guard let handle = opendir(directory) else {
            report.warnings.append(CorpusWarning(
                file: relative.isEmpty ? "." : relative, line: nil,
                message: "directory not readable (\(String(cString: strerror(errno)))); skipped"))
            report.unreadable.append(relative)
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
                report.warnings.append(CorpusWarning(file: childRelative, line: nil, message: "cannot read (\(reason)); skipped"))
                report.unreadable.append(childRelative)
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard visited.insert(DirectoryIdentity(info)).inserted else {
                    report.warnings.append(CorpusWarning(
                        file: childRelative, line: nil, message: "directory already visited (symbolic link loop); skipped"))
                    continue
                }
                try walk(root: root, relative: childRelative, into: &report, visited: &visited, onFile: onFile)
            case S_IFREG:
                guard let format = CorpusFormat(fileName: name) else {
                    report.skipped += 1
                    continue
                }
                report.files += 1
                report.bytes += Int64(info.st_size)
                try onFile(CorpusFile(
                    relativePath: childRelative, path: childPath, format: format, size: Int64(info.st_size),
                    modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
            default:
                report.skipped += 1
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
        // Grown by doubling, a 110 MB file held up to three times its size while it was read.
        var info = stat()
        if fstat(descriptor, &info) == 0 { bytes.reserveCapacity(Int(info.st_size) + 1) }
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
