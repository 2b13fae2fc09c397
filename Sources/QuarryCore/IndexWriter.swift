import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import XapianKit

/// What the index remembers about one corpus file: its signature, and what it
/// produced so a later run can tell what changed and what to delete.
struct FileRecord: Codable, Sendable, Equatable {
    var path: String
    var size: Int64
    var modified: Int64
    /// FNV-1a of the content: a touched but unchanged file is not re-indexed.
    var hash: String
    var articles: Int
    var comments: Int
}

/// The one writer of an index: owns the writable database, turns articles into
/// documents, and commits in batches. A file's signature is always committed
/// with the last of its documents, and a file of no more documents than a
/// batch is committed whole: a commit never holds its signature without it.
final class IndexWriter {
    let path: String
    let language: String
    private let database: WritableDatabase
    private let builder: DocumentBuilder
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()
    private let batchDocuments: Int
    private let batchBytes: Int
    private var pendingDocuments = 0
    private var pendingBytes = 0
    private let logger: Logger
    /// Shingle similarity at which comments cluster as near-duplicates.
    let nearThreshold: Double
    /// False for an index built without near-duplicate detection: no band
    /// store, and clusters are the exact groups.
    let nearDuplicates: Bool
    /// Where the comments' bands go; nil without near-duplicate detection.
    let bandStore: BandStore?
    /// The bands of the documents written since the last commit: made durable
    /// in the store just before the commit that holds their documents.
    private var pendingBands: [BandStore.Entry] = []
    /// Set when the threshold changed: every cluster must be rebuilt.
    private var rebuildCoordination = false
    /// Texts and clusters recently marked: their duplicate values must be
    /// recomputed. The marks are metadata keys, written in the same batch as
    /// the change; these only spare writing a key twice.
    private var dirtyFingerprints = Set<String>()
    private var dirtyClusters = Set<String>()
    private static let dirtyMemoryBound = 100_000
    /// Texts marked since the last recount (a text marked again after the set
    /// above was emptied counts twice): how big the recount will be.
    private var marked = 0

    /// - Parameters:
    ///   - language: the stemming language for a new index; an existing index
    ///     keeps the one it was built with (nil accepts it, another is an error).
    ///   - nearThreshold: the near-duplicate threshold; nil keeps the index's
    ///     (or the default for a new index), another value rebuilds the clusters.
    ///   - nearDuplicates: whether a new index finds near-duplicates; nil keeps
    ///     an existing index's choice, another is an error.
    ///   - bands: the band store the shards of an index share; nil opens the
    ///     one in `path` (an index of one database).
    init(path: String, language: String?, nearThreshold: Double? = nil, nearDuplicates: Bool? = nil,
         bands: BandStore? = nil, lockWait: IndexOptions.LockWait, batchDocuments: Int,
         batchBytes: Int, logger: Logger) throws(QuarryError) {
        self.path = path
        self.batchDocuments = batchDocuments
        self.batchBytes = batchBytes
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw QuarryError(.io, "cannot create the index directory '\(path)': \(error.localizedDescription)")
        }
        do {
            database = try Self.open(path, lockWait: lockWait)
            let stored = try database.metadata(IndexSchema.Metadata.language)
            if stored.isEmpty {
                let chosen = language ?? "english"
                try Stemmer.validate(chosen)
                try database.setMetadata(IndexSchema.Metadata.language, chosen)
                try database.setMetadata(IndexSchema.Metadata.schema, IndexSchema.version)
                try database.setMetadata(IndexSchema.Metadata.nearDuplicates, nearDuplicates ?? true ? "on" : "off")
                self.language = chosen
                self.nearDuplicates = nearDuplicates ?? true
            } else {
                if let language, language != stored {
                    throw QuarryError(.indexMismatch, "the index at '\(path)' was built with language '\(stored)', not '\(language)'; index into a new directory to change it")
                }
                let schema = try database.metadata(IndexSchema.Metadata.schema)
                if schema != IndexSchema.version {
                    throw QuarryError(.indexMismatch, "the index at '\(path)' has schema version '\(schema)', this quarry writes '\(IndexSchema.version)'; rebuild it into a new directory")
                }
                self.language = stored
                // Band terms are on every comment or on none: the choice is the index's.
                let storedNear = try database.metadata(IndexSchema.Metadata.nearDuplicates) != "off"
                if let nearDuplicates, nearDuplicates != storedNear {
                    throw QuarryError(.indexMismatch, "the index at '\(path)' was built \(storedNear ? "with" : "without") near-duplicate detection; index into a new directory to change it (\(storedNear ? "--no-near-duplicates" : "--near-duplicates") applies to a new index)")
                }
                self.nearDuplicates = storedNear
            }
            if !self.nearDuplicates, let nearThreshold {
                throw QuarryError(.invalidRequest, "the index at '\(path)' was built without near-duplicate detection, so --near-threshold \(nearThreshold) has nothing to group; index into a new directory without --no-near-duplicates")
            }
            let storedThreshold = Double(try database.metadata(IndexSchema.Metadata.nearThreshold))
            self.nearThreshold = nearThreshold ?? storedThreshold ?? NearDuplicates.defaultThreshold
            if storedThreshold != self.nearThreshold {
                try database.setMetadata(IndexSchema.Metadata.nearThreshold, String(self.nearThreshold))
                // A new index has nothing to rebuild; an existing one regroups everything.
                rebuildCoordination = storedThreshold != nil
            }
            builder = try DocumentBuilder(language: self.language, nearDuplicates: self.nearDuplicates, spellingDatabase: database)
            bandStore = self.nearDuplicates ? bands ?? BandStore(directory: path + "/" + BandStore.directoryName) : nil
        } catch let error as XapianError {
            throw QuarryError(error, indexPath: path)
        } catch let error as QuarryError {
            throw error
        } catch {
            throw QuarryError(.io, "\(error)")
        }
    }

    /// Opens the database for writing, waiting for another writer as told.
    private static func open(_ path: String, lockWait: IndexOptions.LockWait) throws(XapianError) -> WritableDatabase {
        // Xapian commits by itself every 10,000 changed documents unless told
        // otherwise, which would commit part of a batch (part of a file, without
        // its signature). Quarry commits its batches itself: lift the automatic
        // commit far above any batch (a user's own setting is kept).
        setenv("XAPIAN_FLUSH_THRESHOLD", "1000000000", 0)
        switch lockWait {
        case .none:
            return try WritableDatabase(path: path)
        case .forever:
            return try WritableDatabase(path: path, waitForLock: true)
        case .seconds(let seconds):
            // Xapian can only wait forever; a bounded wait polls the lock.
            let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
            while true {
                do {
                    return try WritableDatabase(path: path)
                } catch where error.isDatabaseLocked && ContinuousClock.now < deadline {
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
        }
    }

    /// The signature stored for a file, or nil when the index has none (or an
    /// unreadable one: the file is then indexed again).
    func fileRecord(_ relativePath: String) throws(QuarryError) -> FileRecord? {
        try mapErrors {
            let value = try database.metadata(IndexSchema.metadataKey(forFile: relativePath))
            return value.isEmpty ? nil : try? decoder.decode(FileRecord.self, from: Data(value.utf8))
        }
    }

    /// Calls `body` with every file signature whose path starts with
    /// `pathPrefix`, in path order, a page at a time: memory does not grow with
    /// the number of files. `body` may remove the file it is given.
    func forEachFileRecord(pathPrefix: String = "", _ body: (FileRecord) throws(QuarryError) -> Void) throws(QuarryError) {
        let keyPrefix = IndexSchema.metadataKeyPrefix(forFilesUnder: pathPrefix)
        try mapErrors {
            try database.forEachMetadataKey(prefix: keyPrefix) { key in
                let value = try database.metadata(key)
                guard !value.isEmpty else { return }
                guard let record = try? decoder.decode(FileRecord.self, from: Data(value.utf8)) else {
                    logger.warning("ignoring an unreadable file signature", metadata: ["key": "\(key)"])
                    return
                }
                if record.path.hasPrefix(pathPrefix) { try body(record) }
            }
        }
    }

    /// Replaces everything a file produced with the articles `produce` hands
    /// over one at a time (a `.jsonl` file of a million articles is never held
    /// whole), and stores its signature with their counts.
    ///
    /// - Parameter seen: on a run that began with no comment in the index, the
    ///   keys of the comments written so far: a comment none of whose keys is
    ///   there cannot have a duplicate and is not marked for the recount.
    ///   Without it every new comment is marked.
    /// - Returns: the signature as stored.
    @discardableResult
    func replaceFile(_ signature: FileRecord, seen: SeenKeys?, articles produce: ((Article) throws -> Void) throws -> Void) throws(QuarryError) -> FileRecord {
        var record = signature
        record.articles = 0
        record.comments = 0
        try mapErrors {
            try markDirty(documentsWithTerm: IndexSchema.fileTerm(record.path))
            try database.deleteDocuments(withTerm: IndexSchema.fileTerm(record.path))
            // Documents and text of this file not yet committed.
            var unsaved = 0
            var unsavedBytes = 0
            try produce { article in
                record.articles += 1
                record.comments += article.comments.count
                var position = 0
                try builder.forEachDocument(for: article, file: record.path) { idTerm, document, keys in
                    // Xapian holds about 25 bytes per byte of text until a commit (a 110 MB
                    // .jsonl of long articles peaked at 747 MB in batches of 20,000
                    // documents), so the text written bounds a batch too.
                    let bytes = article.textBytes(ofDocument: position)
                    position += 1
                    pendingBytes += bytes
                    unsavedBytes += bytes
                    try database.replace(uniqueTerm: idTerm, with: document)
                    if let keys, let text = Fingerprint(keys.fingerprint) {
                        // No bands without near-duplicate detection.
                        for band in keys.bands { pendingBands.append(BandStore.Entry(band: band, text: text.value)) }
                        if seen?.insert(fingerprint: text) ?? true {
                            try markDirty(fingerprint: keys.fingerprint)
                        }
                    }
                    pendingDocuments += 1
                    unsaved += 1
                    // A file of more documents than a batch (a thread of 100,000 comments
                    // held 1.2 GB in Xapian's buffers) is committed in parts; its signature
                    // comes with the last, so a run killed in between reindexes the file.
                    if unsaved >= batchDocuments || unsavedBytes >= batchBytes {
                        try commitDatabase()
                        pendingDocuments = 0
                        pendingBytes = 0
                        unsaved = 0
                        unsavedBytes = 0
                    }
                }
            }
            try storeRecord(record)
        }
        try commitIfBatchFull()
        return record
    }

    /// Records a new signature for a file whose content did not change.
    func updateRecord(_ record: FileRecord) throws(QuarryError) {
        try mapErrors { try storeRecord(record) }
    }

    /// Deletes everything a vanished file produced.
    func removeFile(_ relativePath: String) throws(QuarryError) {
        try mapErrors {
            try markDirty(documentsWithTerm: IndexSchema.fileTerm(relativePath))
            try database.deleteDocuments(withTerm: IndexSchema.fileTerm(relativePath))
            try database.setMetadata(IndexSchema.metadataKey(forFile: relativePath), "")
        }
        pendingDocuments += 1
        try commitIfBatchFull()
    }

    /// Recomputes the duplicate values of every group and cluster this run (or
    /// an earlier run that was killed) touched, over all the shards of an index
    /// at once (a group may span shards), and clears the dirty marks. The caller
    /// commits: the new values and the cleared marks land together. After a
    /// large run (`parallelFrom` marked texts) the texts are recounted on
    /// `threads` threads (`ParallelRecount`), which read what is committed, so
    /// the files written so far are committed first. `cacheShare` scales the
    /// recount caches' bounds (`CoordinationMaintainer`).
    static func finishCoordination(_ writers: [IndexWriter], threads: Int, parallelFrom: Int,
                                   cacheShare: Double) throws(QuarryError) -> CoordinationMaintainer.Outcome {
        guard let first = writers.first else { return CoordinationMaintainer.Outcome() }
        return try first.mapErrors {
            typealias M = IndexSchema.Metadata
            let shards = writers.map(\.database)
            let threshold = first.nearDuplicates ? first.nearThreshold : nil
            func clear(_ key: String) throws {
                for shard in shards { try shard.setMetadata(key, "") }
            }
            func write(_ id: DocumentID, _ document: Document) throws {
                // Xapian interleaves the shards' documents in a combined view.
                let count = UInt32(shards.count)
                try shards[Int((id - 1) % count)].replace((id - 1) / count + 1, with: document)
            }
            let reader: Database = shards.count == 1 ? first.database : try Database(combining: shards)
            // The recount reads the bands of what is written, committed or not.
            for writer in writers { try writer.flushBands() }
            let sharing = threshold == nil ? nil : try textsSharingBands(writers)
            if let sharing { first.logger.debug("texts sharing a band found", metadata: ["texts": "\(sharing.texts.count)"]) }
            let parallel = threads > 1 && writers.reduce(sharing?.texts.count ?? 0, { $0 + $1.marked }) >= parallelFrom
            // A large recount looks up hundreds of thousands of bands: one run read for each.
            if parallel, threshold != nil { try first.bandStore?.mergeAll() }
            let bands = threshold == nil ? nil : try first.bandStore?.reader()
            let maintainer = CoordinationMaintainer(database: reader, threshold: threshold, bands: bands, repeats: sharing?.repeats, share: cacheShare, write: write, settled: { texts in
                // Marks go as their texts are done, so no list of them is held, and a
                // text marked again further on is not recounted twice.
                for text in texts { try clear(M.dirtyFingerprintPrefix + text.hex) }
            })
            var outcome = writers.contains(where: \.rebuildCoordination) ? try maintainer.rebuildAll() : CoordinationMaintainer.Outcome()
            if parallel {
                // The threads read what is committed, through handles of their own.
                for writer in writers { try writer.commit() }
                outcome.add(try ParallelRecount(paths: writers.map(\.path), threshold: threshold, bands: bands, repeats: sharing?.repeats,
                                                texts: sharing?.texts ?? [], threads: threads, cacheShare: cacheShare,
                                                write: write, clear: clear).run())
            } else {
                for text in sharing?.texts ?? [] { try maintainer.recount(text, into: &outcome) }
                // The marks (this run's, and any a killed run committed) are read a page at a time.
                for writer in writers {
                    try writer.database.forEachMetadataKey(prefix: M.dirtyFingerprintPrefix) { key in
                        // A settled text's mark is already cleared: clearing it again cost two
                        // metadata writes a text.
                        if try !maintainer.recount(mark: key, into: &outcome) { try clear(key) }
                    }
                }
            }
            for writer in writers {
                try writer.database.forEachMetadataKey(prefix: M.dirtyClusterPrefix) { key in
                    try maintainer.recount(cluster: String(key.dropFirst(M.dirtyClusterPrefix.count)), into: &outcome)
                    try clear(key)
                }
            }
            if sharing != nil { try clear(M.sharedBandsPending) }
            for writer in writers {
                writer.dirtyFingerprints = []
                writer.dirtyClusters = []
                writer.rebuildCoordination = false
                writer.marked = 0
            }
            first.logger.debug("duplicate values recomputed", metadata: [
                "texts": "\(outcome.texts)", "clusters": "\(outcome.clusters)", "rewritten": "\(outcome.rewritten)"])
            return outcome
        }
    }

    /// On a run that began with no comment (and on the run after one killed
    /// before its recount), the texts that share a band with another, read
    /// from the band store rather than marked one by one while writing, and
    /// the bands they share. Nil on other runs, whose new comments are all
    /// marked.
    private static func textsSharingBands(_ writers: [IndexWriter]) throws -> (texts: [Fingerprint], repeats: RepeatedKeys)? {
        guard let store = writers.first?.bandStore,
              try writers.contains(where: { try $0.database.metadata(IndexSchema.Metadata.sharedBandsPending) == "1" })
        else { return nil }
        // One run to walk, which the recount's lookups want too.
        try store.mergeAll()
        let reader = try store.reader()
        var repeats = RepeatedKeys(expected: reader.count / 4)
        var texts: [UInt64] = []
        var distinct = 0
        try reader.forEachSharedBand { (band, holders) throws(QuarryError) in
            repeats.insert(band: band)
            // All but one: two similar texts sharing this band are found from
            // whichever of them is recounted, and a text held alone needs none
            // (its copies are marked by fingerprint).
            texts.append(contentsOf: holders.dropFirst())
            // A text holds up to 32 bands: fold its repeats as they pile up.
            if texts.count > max(1 << 20, 2 * distinct) {
                texts.sort()
                texts.removeConsecutiveDuplicates()
                distinct = texts.count
            }
        }
        texts.sort()
        texts.removeConsecutiveDuplicates()
        return (texts.map(Fingerprint.init(value:)), repeats)
    }

    /// On a run that began with no comment, committed with its first batch and
    /// cleared with its recount: the texts sharing a band are to be recounted
    /// (`textsSharingBands`), by this run or, if it is killed first, by the next.
    func markSharedBandsPending() throws(QuarryError) {
        guard bandStore != nil else { return }
        try mapErrors { try database.setMetadata(IndexSchema.Metadata.sharedBandsPending, "1") }
    }

    /// Writes the bands of every comment text the shards hold into `store`, for
    /// an index whose store is gone, damaged or mostly stale
    /// (`Indexer.keepBandsInShape`). Returns how many texts it read.
    static func rebuildBands(_ writers: [IndexWriter], into store: BandStore) throws(QuarryError) -> Int {
        var texts = 0
        var entries: [BandStore.Entry] = []
        for writer in writers {
            try writer.mapErrors {
                try writer.database.forEachCommentText { fingerprint, comment in
                    for band in NearDuplicates.bandKeys(of: comment.text) { entries.append(BandStore.Entry(band: band, text: fingerprint.value)) }
                    texts += 1
                    if entries.count >= 1 << 20 {
                        try store.add(entries)
                        entries.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
        try store.add(entries)
        try store.mergeAll()
        return texts
    }

    /// Texts marked in a run from which their recount goes on several threads:
    /// below, a commit and the threads' own handles cost more than they save.
    static let parallelRecountFrom = 10_000

    /// Writes the committed contents of `writers`' databases, as one, into a
    /// new compact database at `path`.
    static func compact(_ writers: [IndexWriter], to path: String) throws(QuarryError) {
        guard let first = writers.first else { return }
        try first.mapErrors {
            let view: Database = writers.count == 1 ? first.database : try Database(combining: writers.map(\.database))
            try view.compact(to: path)
        }
    }

    private func markDirty(fingerprint: String) throws {
        if dirtyFingerprints.count > Self.dirtyMemoryBound { dirtyFingerprints = [] }
        if dirtyFingerprints.insert(fingerprint).inserted {
            try database.setMetadata(IndexSchema.Metadata.dirtyFingerprintPrefix + fingerprint, "1")
            marked += 1
        }
    }

    /// Before documents go: their texts' groups, and the clusters they were in,
    /// lose a member. A comment that was alone with its text and in no cluster
    /// leaves nobody whose values change.
    private func markDirty(documentsWithTerm term: String) throws {
        // A file's documents all live in this shard, so its own view is enough.
        for id in try database.documents(withTerm: term) {
            let document = try database.document(id)
            let fingerprint = String(decoding: try document.value(IndexSchema.Slot.fingerprint), as: UTF8.self)
            guard !fingerprint.isEmpty else { continue }
            let cluster = String(decoding: try document.value(IndexSchema.Slot.cluster), as: UTF8.self)
            if cluster.isEmpty, try document.value(IndexSchema.Slot.copies) == Self.oneCopy { continue }
            try markDirty(fingerprint: fingerprint)
            if dirtyClusters.count > Self.dirtyMemoryBound { dirtyClusters = [] }
            if !cluster.isEmpty, dirtyClusters.insert(cluster).inserted {
                try database.setMetadata(IndexSchema.Metadata.dirtyClusterPrefix + cluster, "1")
            }
        }
    }

    private static let oneCopy = sortableSerialise(1)

    func commit() throws(QuarryError) {
        try mapErrors { try commitDatabase() }
        pendingDocuments = 0
        pendingBytes = 0
    }

    /// Every commit goes through here: the bands of the documents it holds are
    /// in the store first, so a committed comment is never missing from it.
    private func commitDatabase() throws {
        try flushBands()
        try database.commit()
    }

    func flushBands() throws(QuarryError) {
        guard let bandStore, !pendingBands.isEmpty else { return }
        try bandStore.add(pendingBands)
        pendingBands.removeAll(keepingCapacity: true)
    }

    var revision: UInt64 { (try? database.revision) ?? 0 }

    func count(of kind: String) -> Int {
        Int((try? database.termFrequency(IndexSchema.Prefix.kind + kind)) ?? 0)
    }

    /// Releases the write lock now. Xapian commits what is pending as it
    /// closes, so its bands are stored first.
    func close() {
        do {
            try flushBands()
        } catch {
            logger.error("cannot store the bands of the last documents: their near-duplicates are found once they are indexed again", metadata: ["error": "\(error)"])
        }
        try? database.close()
    }

    private func storeRecord(_ record: FileRecord) throws {
        let value = String(decoding: try encoder.encode(record), as: UTF8.self)
        try database.setMetadata(IndexSchema.metadataKey(forFile: record.path), value)
    }

    private func mapErrors<T>(_ body: () throws -> T) throws(QuarryError) -> T {
        do {
            return try body()
        } catch let error as QuarryError {
            throw error
        } catch let error as XapianError {
            throw QuarryError(error, indexPath: path)
        } catch {
            throw QuarryError(.io, "cannot write the index at '\(path)': \(error)")
        }
    }

    private func commitIfBatchFull() throws(QuarryError) {
        if pendingDocuments >= batchDocuments || pendingBytes >= batchBytes {
            try commit()
        }
    }
}

extension QuarryError {
    /// Puts a Xapian failure in the user's terms.
    public init(_ error: XapianError, indexPath: String) {
        switch error.kind {
        // A system error can come under any class: say what the system said.
        case _ where error.message.contains("No space left"):
            self = .noSpace(onDeviceHolding: indexPath)
        case _ where error.message.contains("Too many open files"):
            self.init(.io, "cannot open the index at '\(indexPath)': too many open files; raise the open-file limit (ulimit -n, LimitNOFILE=)")
        case "NetworkError", "NetworkTimeoutError":
            self.init(.shardUnavailable, "a shard of the index at '\(indexPath)' cannot be reached (\(error)); is its xapian-tcpsrv running? The next request tries again")
        case "DatabaseModifiedError":
            self.init(.indexChanged, "the index at '\(indexPath)' changed while it was being read; try again")
        case "DatabaseLockError":
            self.init(.indexLocked, "the index at '\(indexPath)' is being written by another process; wait for it to finish, or run again with --wait")
        case "DatabaseOpeningError", "DatabaseNotFoundError":
            self.init(.indexNotFound, "no index at '\(indexPath)' (\(error.message)); create one with 'quarry index CORPUS --index \(indexPath)'")
        case "DatabaseCorruptError":
            self.init(.indexCorrupt, "the index at '\(indexPath)' is corrupt (\(error.message)); run 'quarry check' and rebuild it from the corpus")
        default:
            self.init(.xapian, "Xapian failed on '\(indexPath)': \(error)")
        }
    }
}
