#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// How an indexing run behaves.
public struct IndexOptions: Sendable {
    /// How long to wait for another process that is writing the index.
    public enum LockWait: Sendable, Equatable {
        /// Fail at once with `indexLocked`.
        case none
        /// Wait as long as it takes.
        case forever
        /// Wait up to this many seconds, then fail with `indexLocked`.
        case seconds(Double)
    }

    /// Stemming language of a new index (default English); must match an existing one.
    public var language: String?
    public var lockWait: LockWait
    /// Commit after this many documents…
    public var batchDocuments: Int
    /// …or once this many bytes of text (titles, paragraphs, comments) are
    /// written, whichever comes first: Xapian's memory until a commit follows
    /// the text more than the document count.
    public var batchBytes: Int
    /// Larger files are refused with a warning rather than read into memory.
    public var maxFileBytes: Int64
    /// Shards of a new index (nil or 1: one database); an existing index keeps
    /// its own, and another number is an error.
    public var shards: Int?
    /// Shingle similarity from which comments cluster as near-duplicates; nil
    /// keeps the index's (`NearDuplicates.defaultThreshold` for a new one).
    /// Another value regroups every comment.
    public var nearThreshold: Double?
    /// Whether a new index finds near-duplicates (the default) or only exact
    /// copies; nil keeps an existing index's choice, another is an error.
    /// Without, there is no band store and no recount of similar texts:
    /// indexing takes 12–21 % less CPU and the index is about a fifth
    /// smaller (docs/DUPLICATES.md).
    public var nearDuplicates: Bool?
    /// Threads of the recount once a run marked `parallelRecountFrom` texts or
    /// more (fewer are recounted on the calling thread).
    var recountThreads = ProcessInfo.processInfo.activeProcessorCount
    var parallelRecountFrom = IndexWriter.parallelRecountFrom
    /// The part of the recount caches' bounds it may use; 0 empties them after
    /// every group, which must change no value, only the work.
    var recountCacheShare = 1.0

    public init(language: String? = nil, lockWait: LockWait = .none, batchDocuments: Int = 20_000,
                batchBytes: Int = 8 << 20, maxFileBytes: Int64 = 256 << 20, shards: Int? = nil, nearThreshold: Double? = nil,
                nearDuplicates: Bool? = nil) {
        self.shards = shards
        self.language = language
        self.lockWait = lockWait
        self.batchDocuments = batchDocuments
        self.batchBytes = batchBytes
        self.maxFileBytes = maxFileBytes
        self.nearThreshold = nearThreshold
        self.nearDuplicates = nearDuplicates
    }
}

/// Where a run is, for a progress line.
public struct IndexProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var documents: Int
    public var elapsed: Double
}

/// What a run did.
public struct IndexSummary: Codable, Sendable, Equatable {
    public var filesScanned = 0
    public var filesIndexed = 0
    public var filesUnchanged = 0
    public var filesRemoved = 0
    /// Files with an extension Quarry does not read, and files refused or unreadable.
    public var filesSkipped = 0
    public var articlesIndexed = 0
    public var commentsIndexed = 0
    public var warnings = 0
    public var elapsedSeconds = 0.0
    public var documentsPerSecond = 0.0
    /// What the index holds after the run.
    public var totalArticles = 0
    public var totalComments = 0
    public var revision: UInt64 = 0
    /// Distinct comment texts whose duplicate counts and clusters were recomputed.
    public var duplicateTextsChecked = 0
    /// Comments whose duplicate values changed and were rewritten.
    public var duplicateValuesUpdated = 0
}

/// Brings an index in line with a corpus directory: new and changed files are
/// (re)indexed, unchanged ones skipped by signature, removed ones deleted.
/// A run killed at any point leaves the index at its last batch commit, and
/// the next run finishes the job.
///
/// An `Indexer` holds the index's write lock from `init` to `close`: one full
/// pass (`synchronize`), then, in watch mode, any number of `update(paths:)`.
public final class Indexer {
    public let corpus: String
    public let index: String
    private let options: IndexOptions
    /// One writer per shard; a plain index has one.
    private let writers: [IndexWriter]
    let logger: Logger

    public init(corpus: String, index: String, options: IndexOptions = IndexOptions(), logger: Logger) throws(QuarryError) {
        if let threshold = options.nearThreshold, !(threshold > 0 && threshold <= 1) {
            throw QuarryError(.invalidRequest, "the near-duplicate threshold must be above 0 and at most 1, not \(threshold)")
        }
        self.corpus = corpus
        self.index = index
        self.options = options
        self.logger = logger
        var writers: [IndexWriter] = []
        let shards = try ShardLayout.shardPaths(index: index, requested: options.shards)
        // One store for all the shards, beside the stub: its entries name texts,
        // not documents, so a merge of the shards leaves it as it is. It is
        // created when the first bands are written.
        let bands = BandStore(directory: index + "/" + BandStore.directoryName)
        for shard in shards {
            // The shards' batches share the batch limits, so memory does not grow with the shard count.
            writers.append(try IndexWriter(
                path: shard, language: options.language, nearThreshold: options.nearThreshold, nearDuplicates: options.nearDuplicates,
                bands: bands, lockWait: options.lockWait,
                batchDocuments: max(1, options.batchDocuments / shards.count), batchBytes: max(1, options.batchBytes / shards.count),
                logger: logger))
        }
        self.writers = writers
        if writers[0].nearDuplicates { try Self.keepBandsInShape(bands, writers: writers, logger: logger) }
        logger.debug("index opened", metadata: [
            "index": "\(index)", "shards": "\(writers.count)", "language": "\(writers[0].language)"])
    }

    /// Releases the write lock. Xapian commits what is pending when its database
    /// closes; after a failure that can be part of a file without its
    /// signature, which the next run indexes again.
    public func close() {
        for writer in writers { writer.close() }
    }

    /// Merges the shards of a sharded index into one compact database (Xapian's
    /// compaction) and points the stub at it, then closes the index: N shards
    /// are written on N threads, and searched as one database, which is faster
    /// to search and about half the size of the shards it replaces. A daemon
    /// serving the index follows the stub to the merged database; a later run
    /// writes it as an index of one shard. Does nothing to an unsharded index.
    /// Returns the path of the merged database, if one was made.
    @discardableResult
    public func mergeShards() throws(QuarryError) -> String? {
        let stub = index + "/" + ShardLayout.stubName
        guard writers.count > 1, FileManager.default.fileExists(atPath: stub) else { return nil }
        let old = writers.map(\.path)
        let name = "merged-\(UInt64(Date().timeIntervalSince1970 * 1000))"
        let merged = index + "/" + name
        do {
            try IndexWriter.compact(writers, to: merged)
        } catch {
            try? FileManager.default.removeItem(atPath: merged)
            throw error
        }
        do {
            // The switch is one rename: a reader sees the shards or the merged database.
            try Data("auto \(name)\n".utf8).write(to: URL(fileURLWithPath: stub), options: .atomic)
        } catch {
            try? FileManager.default.removeItem(atPath: merged)
            throw QuarryError(.io, "cannot update the stub file '\(stub)': \(error.localizedDescription)")
        }
        close()
        for path in old { try? FileManager.default.removeItem(atPath: path) }
        logger.info("shards merged", metadata: ["index": "\(index)", "shards": "\(old.count)", "database": "\(merged)"])
        return merged
    }

    private func writer(for relativePath: String) -> IndexWriter {
        writers[ShardLayout.shard(forFile: relativePath, count: writers.count)]
    }

    /// Indexes the corpus directory in one run and closes the index.
    public static func run(
        corpus: String, index: String, options: IndexOptions = IndexOptions(), logger: Logger,
        onWarning: (CorpusWarning) -> Void = { _ in }, onProgress: (IndexProgress) -> Void = { _ in }
    ) throws(QuarryError) -> IndexSummary {
        let indexer = try Indexer(corpus: corpus, index: index, options: options, logger: logger)
        defer { indexer.close() }
        return try indexer.synchronize(onWarning: onWarning, onProgress: onProgress)
    }

    /// A full pass over the corpus directory, committed at the end.
    public func synchronize(
        onWarning: (CorpusWarning) -> Void = { _ in }, onProgress: (IndexProgress) -> Void = { _ in }
    ) throws(QuarryError) -> IndexSummary {
        try withoutActuallyEscaping(onWarning) { (onWarning) throws(QuarryError) in
            try synchronize(Pass(onWarning: onWarning), onProgress: onProgress)
        }
    }

    private func synchronize(_ start: Pass, onProgress: (IndexProgress) -> Void) throws(QuarryError) -> IndexSummary {
        var pass = start
        // Nothing of the corpus is held whole, so memory does not grow with it: a
        // first walk only counts (the progress line's total, the filter's size),
        // the second hands each file over as it is found.
        let census = try CorpusScanner.walk(root: corpus) { _ in }
        if writers.allSatisfy({ $0.count(of: "comment") == 0 }) {
            // About one comment per 256 bytes of corpus.
            pass.seen = SeenKeys(expectedKeys: Int(census.bytes / 256))
            for writer in writers { try writer.markSharedBandsPending() }
        }
        var done = 0
        func progress(_ files: Int, _ pass: Pass) {
            done += files
            onProgress(IndexProgress(filesDone: done, filesTotal: max(done, census.files),
                                     documents: pass.summary.articlesIndexed + pass.summary.commentsIndexed,
                                     elapsed: pass.elapsed()))
        }
        let report: CorpusWalkReport
        if writers.count > 1 {
            var chunk: [CorpusFile] = []
            report = try CorpusScanner.walk(root: corpus) { (file) throws(QuarryError) in
                chunk.append(file)
                guard chunk.count == Self.parallelChunk else { return }
                try visitInParallel(chunk, &pass)
                progress(chunk.count, pass)
                chunk.removeAll(keepingCapacity: true)
            }
            try visitInParallel(chunk, &pass)
            progress(chunk.count, pass)
        } else {
            report = try CorpusScanner.walk(root: corpus) { (file) throws(QuarryError) in
                try visit(file, &pass)
                progress(1, pass)
            }
        }
        report.warnings.forEach { pass.warn($0) }
        pass.summary.filesScanned = report.files
        pass.summary.filesSkipped += report.skipped
        try removeVanished(under: "", &pass)
        return try finish(&pass)
    }

    /// Files handed to the shards' threads at a time: enough that the threads
    /// rarely wait for each other at the end of a chunk, few enough to hold.
    private static let parallelChunk = 16_384

    /// Removes what the index holds of files under `pathPrefix` that are gone.
    /// A file is gone when looking it up says so (or it is no longer a file);
    /// one that cannot be looked at (an unreadable directory, a link loop) is
    /// kept, not taken for deleted. Reads the signatures a page at a time.
    private func removeVanished(under pathPrefix: String, _ pass: inout Pass) throws(QuarryError) {
        for writer in writers {
            try writer.forEachFileRecord(pathPrefix: pathPrefix) { (record) throws(QuarryError) in
                var info = stat()
                let gone = stat(corpus + "/" + record.path, &info) == 0
                    ? info.st_mode & S_IFMT != S_IFREG
                    : errno == ENOENT || errno == ENOTDIR
                if gone { try remove(record.path, &pass) }
            }
        }
    }

    /// One shard's share of a pass, worked on by one thread: its writer, the
    /// signatures of its files, its counts and warnings.
    private final class ShardWork: @unchecked Sendable {
        // @unchecked: each instance is used by one worker thread, and read by the
        // caller only after `concurrentPerform` has returned (which orders the two).
        let writer: IndexWriter
        let files: [CorpusFile]
        var summary = IndexSummary()
        var warnings: [CorpusWarning] = []
        var error: QuarryError?

        init(writer: IndexWriter, files: [CorpusFile]) {
            self.writer = writer
            self.files = files
        }
    }

    /// Indexes each shard's files on its own thread: parsing, term generation
    /// and Xapian's writes of one shard never wait for another's, so N shards
    /// use up to N cores. Warnings are reported once every shard is done.
    private func visitInParallel(_ files: [CorpusFile], _ pass: inout Pass) throws(QuarryError) {
        let count = writers.count
        var shardFiles = [[CorpusFile]](repeating: [], count: count)
        for file in files { shardFiles[ShardLayout.shard(forFile: file.relativePath, count: count)].append(file) }
        let work = (0..<count).map { ShardWork(writer: writers[$0], files: shardFiles[$0]) }
        let maxFileBytes = options.maxFileBytes
        let seen = pass.seen
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let shard = work[index]
            do throws(QuarryError) {
                for file in shard.files {
                    try Self.visit(file, writer: shard.writer, summary: &shard.summary,
                                   maxFileBytes: maxFileBytes, seen: seen) { shard.warnings.append($0) }
                }
            } catch {
                shard.error = error
            }
        }
        for shard in work {
            shard.warnings.forEach { pass.warn($0) }
            pass.summary.filesIndexed += shard.summary.filesIndexed
            pass.summary.filesUnchanged += shard.summary.filesUnchanged
            pass.summary.filesSkipped += shard.summary.filesSkipped
            pass.summary.articlesIndexed += shard.summary.articlesIndexed
            pass.summary.commentsIndexed += shard.summary.commentsIndexed
        }
        if let error = work.compactMap(\.error).first { throw error }
    }

    /// Looks again at these corpus-relative paths (files or directories, new,
    /// changed or gone) and commits: what watch mode calls for each burst of changes.
    public func update(paths: Set<String>, onWarning: (CorpusWarning) -> Void = { _ in }) throws(QuarryError) -> IndexSummary {
        try withoutActuallyEscaping(onWarning) { (onWarning) throws(QuarryError) in
            try update(paths: paths, Pass(onWarning: onWarning))
        }
    }

    private func update(paths: Set<String>, _ start: Pass) throws(QuarryError) -> IndexSummary {
        var pass = start
        for path in paths.sorted() {
            var info = stat()
            if stat(corpus + "/" + path, &info) != 0 {
                // Gone: the file itself, or a whole directory of files.
                try removeVanished(under: path, &pass)
            } else if info.st_mode & S_IFMT == S_IFDIR {
                let report = try CorpusScanner.walk(root: corpus + "/" + path) { (found) throws(QuarryError) in
                    var file = found
                    file.relativePath = path + "/" + file.relativePath
                    pass.summary.filesScanned += 1
                    try visit(file, &pass)
                }
                report.warnings.forEach { pass.warn(CorpusWarning(file: path + "/" + $0.file, line: $0.line, message: $0.message)) }
                try removeVanished(under: path + "/", &pass)
            } else if info.st_mode & S_IFMT == S_IFREG, let format = CorpusFormat(fileName: path) {
                pass.summary.filesScanned += 1
                try visit(CorpusFile(relativePath: path, path: corpus + "/" + path, format: format, size: Int64(info.st_size),
                                     modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)), &pass)
            }
        }
        return try finish(&pass)
    }

    /// One pass's counters and clock.
    private struct Pass {
        var summary = IndexSummary()
        /// Set on a run that began with no comment in the index.
        var seen: SeenKeys?
        let onWarning: (CorpusWarning) -> Void
        let start = ContinuousClock.now

        mutating func warn(_ warning: CorpusWarning) {
            summary.warnings += 1
            onWarning(warning)
        }

        func elapsed() -> Double {
            let duration = ContinuousClock.now - start
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
    }

    /// Indexes one file if its signature changed since it was recorded.
    private func visit(_ file: CorpusFile, _ pass: inout Pass) throws(QuarryError) {
        var summary = IndexSummary()
        var warnings: [CorpusWarning] = []
        defer {
            warnings.forEach { pass.warn($0) }
            pass.summary.filesIndexed += summary.filesIndexed
            pass.summary.filesUnchanged += summary.filesUnchanged
            pass.summary.filesSkipped += summary.filesSkipped
            pass.summary.articlesIndexed += summary.articlesIndexed
            pass.summary.commentsIndexed += summary.commentsIndexed
        }
        try Self.visit(file, writer: writer(for: file.relativePath), summary: &summary,
                       maxFileBytes: options.maxFileBytes, seen: pass.seen) { warnings.append($0) }
    }

    /// Indexes one file with `writer` if its signature differs from the one stored.
    private static func visit(
        _ file: CorpusFile, writer: IndexWriter, summary: inout IndexSummary,
        maxFileBytes: Int64, seen: SeenKeys?, warn: (CorpusWarning) -> Void
    ) throws(QuarryError) {
        let old = try writer.fileRecord(file.relativePath)
        if let old, old.size == file.size, old.modified == file.modified {
            summary.filesUnchanged += 1
            return
        }
        if file.size > maxFileBytes {
            warn(CorpusWarning(file: file.relativePath, line: nil, message: "file is \(file.size) bytes, over the \(maxFileBytes)-byte limit (--max-file-size); skipped"))
            summary.filesSkipped += 1
            return
        }
        var warnings: [CorpusWarning] = []
        guard let bytes = CorpusScanner.readFile(file.path, relativePath: file.relativePath, warnings: &warnings) else {
            // Unreadable or vanished since the scan: what the index holds of it stays.
            warnings.forEach(warn)
            summary.filesSkipped += 1
            return
        }
        let hash = FNV1a64.hex(bytes)
        if var touched = old, touched.hash == hash {
            touched.size = file.size
            touched.modified = file.modified
            try writer.updateRecord(touched)
            summary.filesUnchanged += 1
            return
        }
        let record = try writer.replaceFile(
            FileRecord(path: file.relativePath, size: file.size, modified: file.modified, hash: hash, articles: 0, comments: 0),
            seen: seen
        ) { each in warnings = try file.format.forEachArticle(in: bytes, relativePath: file.relativePath, each) }
        warnings.forEach(warn)
        summary.filesIndexed += 1
        summary.articlesIndexed += record.articles
        summary.commentsIndexed += record.comments
    }

    private func remove(_ path: String, _ pass: inout Pass) throws(QuarryError) {
        try writer(for: path).removeFile(path)
        pass.summary.filesRemoved += 1
    }

    private func finish(_ pass: inout Pass) throws(QuarryError) -> IndexSummary {
        // Counts and clusters span files, so they are settled once the files are in.
        logger.debug("files written", metadata: ["seconds": "\(pass.elapsed())"])
        let coordination = try IndexWriter.finishCoordination(
            writers, threads: options.recountThreads, parallelFrom: options.parallelRecountFrom,
            cacheShare: options.recountCacheShare)
        pass.summary.duplicateTextsChecked = coordination.texts
        pass.summary.duplicateValuesUpdated = coordination.rewritten
        logger.debug("duplicates settled", metadata: ["seconds": "\(pass.elapsed())"])
        for writer in writers { try writer.commit() }
        pass.summary.elapsedSeconds = pass.elapsed()
        logger.debug("committed", metadata: ["seconds": "\(pass.summary.elapsedSeconds)"])
        let documents = pass.summary.articlesIndexed + pass.summary.commentsIndexed
        pass.summary.documentsPerSecond = pass.summary.elapsedSeconds > 0 ? Double(documents) / pass.summary.elapsedSeconds : 0
        pass.summary.totalArticles = writers.reduce(0) { $0 + $1.count(of: "article") }
        pass.summary.totalComments = writers.reduce(0) { $0 + $1.count(of: "comment") }
        pass.summary.revision = writers.reduce(0) { $0 + $1.revision }
        return pass.summary
    }
}
