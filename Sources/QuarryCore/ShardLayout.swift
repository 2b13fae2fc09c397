import Foundation

/// Where an index's databases are. A plain index is one Xapian database; a
/// sharded one (`quarry index --shards N`) is a directory holding N databases
/// `shard-00` … and a stub file `XAPIANDB` that names them, which Xapian opens
/// as one database (a stub may also name remote shards, see docs/SHARDS.md).
///
/// The indexer routes each corpus file to one shard by a stable hash of its
/// path, so an article, its comments and the file's signature always live
/// together in one shard and commit together.
public enum ShardLayout {
    public static let stubName = "XAPIANDB"

    /// The local shard directories of the index at `path`, for writing;
    /// creates the stub of a new sharded index.
    static func shardPaths(index path: String, requested: Int?) throws(QuarryError) -> [String] {
        if let requested, !(1...256).contains(requested) {
            throw QuarryError(.invalidRequest, "--shards must be between 1 and 256, not \(requested)")
        }
        let stub = path + "/" + stubName
        if FileManager.default.fileExists(atPath: stub) {
            let shards = try localShards(stub: stub, directory: path)
            if let requested, requested != shards.count {
                throw QuarryError(.indexMismatch, "the index at '\(path)' has \(shards.count) shard(s), not \(requested); index into a new directory to change that")
            }
            return shards
        }
        let isDatabase = FileManager.default.fileExists(atPath: path + "/iamglass")
        guard let requested, requested > 1 else { return [path] }
        if isDatabase {
            throw QuarryError(.indexMismatch, "the index at '\(path)' is not sharded; index into a new directory to shard it")
        }
        let names = (0..<requested).map { String(format: "shard-%02d", $0) }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let text = names.map { "auto \($0)\n" }.joined()
            try Data(text.utf8).write(to: URL(fileURLWithPath: stub), options: .atomic)
        } catch {
            throw QuarryError(.io, "cannot create the sharded index at '\(path)': \(error.localizedDescription)")
        }
        return names.map { path + "/" + $0 }
    }

    /// One database a stub names.
    public enum Entry: Sendable, Equatable, CustomStringConvertible {
        case local(String)
        case remote(host: String, port: UInt16)

        public var description: String {
            switch self {
            case .local(let path): path
            case .remote(let host, let port): "remote \(host):\(port)"
            }
        }
    }

    /// The databases a stub file names, in order. Local paths are made absolute.
    static func entries(stub: String, directory: String) throws(QuarryError) -> [Entry] {
        guard let text = try? String(contentsOfFile: stub, encoding: .utf8) else {
            throw QuarryError(.io, "cannot read the stub file '\(stub)'")
        }
        var entries: [Entry] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard parts.count == 2, !parts[0].hasPrefix("#") else { continue }
            switch parts[0] {
            case "auto", "glass":
                entries.append(.local(parts[1].hasPrefix("/") ? parts[1] : directory + "/" + parts[1]))
            case "remote":
                // `remote HOST:PORT` is xapian-tcpsrv; anything else (a program to run) is read by Xapian only.
                guard let colon = parts[1].lastIndex(of: ":"), let port = UInt16(parts[1][parts[1].index(after: colon)...]) else { continue }
                entries.append(.remote(host: String(parts[1][..<colon]), port: port))
            default:
                throw QuarryError(.invalidRequest, "\(stub):\(number + 1): unknown database type '\(parts[0])'")
            }
        }
        return entries
    }

    /// The local databases a stub names: for writing (where a remote shard is an
    /// error) and for reading revisions (where remote shards are passed over).
    static func localShards(stub: String, directory: String, skippingRemote: Bool = false) throws(QuarryError) -> [String] {
        var shards: [String] = []
        for entry in try entries(stub: stub, directory: directory) {
            switch entry {
            case .local(let path): shards.append(path)
            case .remote where skippingRemote: continue
            case .remote:
                throw QuarryError(.invalidRequest, "'\(stub)' names a remote shard (\(entry)): a remote shard is written on its own host; run 'quarry index' there into the shard's directory")
            }
        }
        guard !shards.isEmpty || skippingRemote else { throw QuarryError(.invalidRequest, "the stub file '\(stub)' names no local database") }
        return shards
    }

    /// Which of `count` shards a corpus file belongs to.
    static func shard(forFile relativePath: String, count: Int) -> Int {
        Int(FNV1a64.hash(relativePath.utf8) % UInt64(count))
    }
}
