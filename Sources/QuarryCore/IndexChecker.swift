import Foundation
import QuarryProtocol
import XapianKit

/// What `quarry check` found.
public struct CheckReport: Codable, Sendable {
    /// Problems that make the index wrong: a non-zero exit status.
    public var problems: [String] = []
    /// Files whose signature no longer matches the corpus: the next `quarry index` fixes them.
    public var stale: [String] = []
    public var articles = 0
    public var comments = 0
    public var files = 0
    public var revision: UInt64 = 0
    /// What Xapian's own consistency check reported.
    public var xapianErrors = 0
    /// What is worth knowing but is no problem (a band store that is not there).
    public var notes: [String] = []
    /// How many of `problems` are in the near-duplicate band store, which the
    /// next `quarry index` rebuilds from the index (once its directory is
    /// deleted, for bands that are missing): when they are all the problems,
    /// the index itself is sound.
    public var bandStoreProblems = 0

    /// Whether every problem is the band store's: nothing a rebuild of the
    /// index from the corpus would be needed for.
    public var onlyTheBandStoreIsWrong: Bool {
        xapianErrors == 0 && !problems.isEmpty && bandStoreProblems == problems.count
    }

    public var isHealthy: Bool { problems.isEmpty && xapianErrors == 0 }
}

/// Verifies an index: Xapian's own consistency check, then Quarry's invariants
/// (every comment has its article, every article's comment count matches, every
/// file record matches the documents it produced and, with the corpus, the
/// file, and every comment text's bands are in the band store).
public enum IndexChecker {
    public static func check(index: String, corpus: String?) throws(QuarryError) -> CheckReport {
        var report = CheckReport()
        guard FileManager.default.fileExists(atPath: index) else {
            throw QuarryError(.indexNotFound, "no index at '\(index)'")
        }
        let stub = index + "/" + ShardLayout.stubName
        let shardPaths = FileManager.default.fileExists(atPath: stub)
            ? try ShardLayout.localShards(stub: stub, directory: index, skippingRemote: true) : [index]
        do {
            for path in shardPaths {
                let xapian = try Database.check(path: path)
                report.xapianErrors += xapian.errors
                if xapian.errors > 0 {
                    report.problems.append("Xapian's check of '\(path)' found \(xapian.errors) error(s): \(xapian.report.trimmingWhitespace())")
                }
            }
            if report.xapianErrors > 0 { return report }
            let database = try Database(path: index)
            // Each shard keeps the signatures of its own files (Xapian shows only the first shard's metadata).
            let shards = shardPaths == [index] ? [database] : try shardPaths.map { (path) throws(XapianError) in try Database(path: path) }
            for shard in shards { report.revision += try shard.revision }
            try checkDocuments(database, into: &report)
            try checkFiles(database, shards: shards, corpus: corpus, into: &report)
            if try database.metadata(IndexSchema.Metadata.nearDuplicates) != "off" {
                let store = index + "/" + BandStore.directoryName
                if FileManager.default.fileExists(atPath: store) {
                    try checkBands(database, store: BandStore(directory: store, readOnly: true), into: &report)
                } else if report.comments > 0 {
                    // A replica, or a database copied without it: searches do not read it.
                    report.notes.append("no near-duplicate band store at '\(store)': a replica has none; on the indexing machine the next 'quarry index' run rebuilds it from the index")
                }
            }
        } catch let error as XapianError {
            throw QuarryError(error, indexPath: index)
        } catch let error as QuarryError {
            throw error
        } catch {
            throw QuarryError(.io, "cannot check '\(index)': \(error)")
        }
        return report
    }

    private static func checkDocuments(_ database: Database, into report: inout CheckReport) throws {
        typealias P = IndexSchema.Prefix
        var declared: [String: Int] = [:]
        for id in try database.documents(withTerm: P.kind + DocumentKind.article.rawValue) {
            guard case .article(let article) = try DocumentRecord(stored: try database.document(id).data()) else {
                report.problems.append("a document marked as an article holds other data")
                continue
            }
            if declared.updateValue(article.commentCount, forKey: article.id) != nil {
                report.problems.append("article '\(article.id)' is in the index twice")
            }
        }
        report.articles = declared.count
        var counted: [String: Int] = [:]
        for id in try database.documents(withTerm: P.kind + DocumentKind.comment.rawValue) {
            let parent = String(decoding: try database.document(id).value(IndexSchema.Slot.article), as: UTF8.self)
            counted[parent, default: 0] += 1
            report.comments += 1
        }
        for (article, count) in counted.sorted(by: { $0.key < $1.key }) where declared[article] == nil {
            report.problems.append("\(count) comment(s) of '\(article)' have no article (orphans)")
        }
        for (article, expected) in declared.sorted(by: { $0.key < $1.key }) where counted[article, default: 0] != expected {
            report.problems.append("article '\(article)' should have \(expected) comment(s) but the index holds \(counted[article, default: 0])")
        }
    }

    /// Every committed comment's bands must be in the store (they are made
    /// durable before the commit that holds the comment), or its near-duplicates
    /// are never found. Reads each distinct text once, a page of texts at a time.
    private static func checkBands(_ database: Database, store: BandStore, into report: inout CheckReport) throws {
        let reader: BandReader
        do {
            reader = try store.reader()
        } catch {
            report.problems.append(error.message)
            report.bandStoreProblems += 1
            return
        }
        var missing = 0
        var example: String?
        try database.forEachCommentText { fingerprint, comment in
            for band in NearDuplicates.bandKeys(of: comment.text) where try !reader.texts(inBand: band).contains(fingerprint.value) {
                missing += 1
                if example == nil { example = comment.id }
                break
            }
        }
        if missing > 0 {
            report.problems.append("\(missing) comment text(s), such as that of '\(example ?? "")', have bands missing from the band store '\(store.directory)': their near-duplicates are not found; delete that directory and the next 'quarry index' run rebuilds it from the index")
            report.bandStoreProblems += 1
        }
    }

    private static func checkFiles(_ database: Database, shards: [Database], corpus: String?, into report: inout CheckReport) throws {
        let decoder = JSONDecoder()
        var recorded = 0
        var paths = Set<String>()
        for (shard, key) in try shards.flatMap({ shard in try shard.metadataKeys(prefix: IndexSchema.Metadata.filePrefix).map { (shard, $0) } }) {
            guard let record = try? decoder.decode(FileRecord.self, from: Data(try shard.metadata(key).utf8)) else {
                report.problems.append("the file record '\(key)' is unreadable")
                continue
            }
            report.files += 1
            paths.insert(record.path)
            let documents = Int(try database.termFrequency(IndexSchema.fileTerm(record.path)))
            recorded += documents
            if documents != record.articles + record.comments {
                report.problems.append("'\(record.path)' is recorded with \(record.articles) article(s) and \(record.comments) comment(s) but \(documents) document(s) come from it")
            }
            guard let corpus else { continue }
            var info = stat()
            if stat(corpus + "/" + record.path, &info) != 0 {
                report.stale.append("\(record.path): the file is gone")
            } else if Int64(info.st_size) != record.size {
                report.stale.append("\(record.path): changed since it was indexed")
            } else if Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec) != record.modified {
                // Touched, or copied with new times: only the content says whether it changed.
                var ignored: [CorpusWarning] = []
                let bytes = CorpusScanner.readFile(corpus + "/" + record.path, relativePath: record.path, warnings: &ignored)
                if bytes.map({ FNV1a64.hex($0) }) != record.hash {
                    report.stale.append("\(record.path): changed since it was indexed")
                }
            }
        }
        if let corpus {
            for file in try CorpusScanner.scan(root: corpus).files where !paths.contains(file.relativePath) {
                report.stale.append("\(file.relativePath): not indexed yet")
            }
        }
        let total = Int(try database.documentCount)
        if recorded != total {
            report.problems.append("\(total - recorded) document(s) belong to no recorded file")
        }
    }
}
