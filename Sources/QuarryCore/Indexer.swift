import Logging

/// How an indexing run behaves.
public struct IndexOptions: Sendable {
    /// Stemming language of a new index (default English); must match an existing one.
    public var language: String?
    /// Wait for another writer to finish instead of failing.
    public var waitForLock: Bool
    /// Commit after this many documents…
    public var batchDocuments: Int
    /// …or this many bytes of corpus input, whichever comes first.
    public var batchBytes: Int
    /// Larger files are refused with a warning rather than read into memory.
    public var maxFileBytes: Int64
    /// Shingle similarity from which comments cluster as near-duplicates; nil
    /// keeps the index's (`NearDuplicates.defaultThreshold` for a new one).
    /// Another value regroups every comment.
    public var nearThreshold: Double?

    public init(language: String? = nil, waitForLock: Bool = false, batchDocuments: Int = 20_000,
                batchBytes: Int = 64 << 20, maxFileBytes: Int64 = 256 << 20, nearThreshold: Double? = nil) {
        self.language = language
        self.waitForLock = waitForLock
        self.batchDocuments = batchDocuments
        self.batchBytes = batchBytes
        self.maxFileBytes = maxFileBytes
        self.nearThreshold = nearThreshold
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
public enum Indexer {
    public static func run(
        corpus: String, index: String, options: IndexOptions = IndexOptions(), logger: Logger,
        onWarning: (CorpusWarning) -> Void = { _ in }, onProgress: (IndexProgress) -> Void = { _ in }
    ) throws(QuarryError) -> IndexSummary {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double {
            let duration = clock.now - start
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        var summary = IndexSummary()
        func warn(_ warning: CorpusWarning) {
            summary.warnings += 1
            onWarning(warning)
        }

        let scan = try CorpusScanner.scan(root: corpus)
        scan.warnings.forEach(warn)
        summary.filesScanned = scan.files.count
        summary.filesSkipped = scan.skipped

        if let threshold = options.nearThreshold, !(threshold > 0 && threshold <= 1) {
            throw QuarryError(.invalidRequest, "the near-duplicate threshold must be above 0 and at most 1, not \(threshold)")
        }
        let writer = try IndexWriter(
            path: index, language: options.language, nearThreshold: options.nearThreshold, waitForLock: options.waitForLock,
            batchDocuments: options.batchDocuments, batchBytes: options.batchBytes, logger: logger)
        defer { writer.close() }
        var records = try writer.fileRecords()
        logger.debug("index opened", metadata: ["index": "\(index)", "files": "\(records.count)", "language": "\(writer.language)"])

        for (done, file) in scan.files.enumerated() {
            defer { onProgress(IndexProgress(filesDone: done + 1, filesTotal: scan.files.count, documents: summary.articlesIndexed + summary.commentsIndexed, elapsed: elapsed())) }
            let old = records.removeValue(forKey: file.relativePath)
            if let old, old.size == file.size, old.modified == file.modified {
                summary.filesUnchanged += 1
                continue
            }
            if file.size > options.maxFileBytes {
                warn(CorpusWarning(file: file.relativePath, line: nil, message: "file is \(file.size) bytes, over the \(options.maxFileBytes)-byte limit (--max-file-size); skipped"))
                summary.filesSkipped += 1
                continue
            }
            var warnings: [CorpusWarning] = []
            guard let bytes = CorpusScanner.readFile(file.path, relativePath: file.relativePath, warnings: &warnings) else {
                warnings.forEach(warn)
                summary.filesSkipped += 1
                continue
            }
            let hash = FNV1a64.hex(bytes)
            if let old, old.hash == hash {
                var touched = old
                touched.size = file.size
                touched.modified = file.modified
                try writer.updateRecord(touched)
                summary.filesUnchanged += 1
                continue
            }
            let parsed = file.format.read(bytes, relativePath: file.relativePath)
            parsed.warnings.forEach(warn)
            let comments = parsed.articles.reduce(0) { $0 + $1.comments.count }
            let record = FileRecord(path: file.relativePath, size: file.size, modified: file.modified, hash: hash,
                                    articles: parsed.articles.count, comments: comments)
            try writer.replaceFile(record, articles: parsed.articles)
            summary.filesIndexed += 1
            summary.articlesIndexed += parsed.articles.count
            summary.commentsIndexed += comments
        }

        // What is left was indexed before but is gone now, unless it sits where we could not look.
        for path in records.keys.sorted() where !scan.unreadable.contains(where: { path == $0 || $0.isEmpty || path.hasPrefix($0 + "/") }) {
            try writer.removeFile(path)
            summary.filesRemoved += 1
        }
        // Counts and clusters span files, so they are settled once the files are in.
        let coordination = try writer.finishCoordination()
        summary.duplicateTextsChecked = coordination.texts
        summary.duplicateValuesUpdated = coordination.rewritten
        try writer.commit()

        summary.elapsedSeconds = elapsed()
        let documents = summary.articlesIndexed + summary.commentsIndexed
        summary.documentsPerSecond = summary.elapsedSeconds > 0 ? Double(documents) / summary.elapsedSeconds : 0
        summary.totalArticles = writer.count(of: "article")
        summary.totalComments = writer.count(of: "comment")
        summary.revision = writer.revision
        return summary
    }
}
