import Foundation
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
/// documents, and commits in batches. A file's documents and its signature are
/// always written in the same batch, so a commit never holds one without the other.
final class IndexWriter {
    let path: String
    let language: String
    private let database: WritableDatabase
    private let builder: DocumentBuilder
    private let encoder = JSONEncoder()
    private let batchDocuments: Int
    private let batchBytes: Int
    private var pendingDocuments = 0
    private var pendingBytes = 0
    private let logger: Logger

    /// - Parameter language: the stemming language for a new index; an existing
    ///   index keeps the one it was built with (nil accepts it, another is an error).
    init(path: String, language: String?, waitForLock: Bool, batchDocuments: Int, batchBytes: Int, logger: Logger) throws(QuarryError) {
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
            database = try WritableDatabase(path: path, waitForLock: waitForLock)
            let stored = try database.metadata(IndexSchema.Metadata.language)
            if stored.isEmpty {
                let chosen = language ?? "english"
                try Stemmer.validate(chosen)
                try database.setMetadata(IndexSchema.Metadata.language, chosen)
                try database.setMetadata(IndexSchema.Metadata.schema, IndexSchema.version)
                self.language = chosen
            } else {
                if let language, language != stored {
                    throw QuarryError(.indexMismatch, "the index at '\(path)' was built with language '\(stored)', not '\(language)'; index into a new directory to change it")
                }
                let schema = try database.metadata(IndexSchema.Metadata.schema)
                if schema != IndexSchema.version {
                    throw QuarryError(.indexMismatch, "the index at '\(path)' has schema version '\(schema)', this quarry writes '\(IndexSchema.version)'; rebuild it into a new directory")
                }
                self.language = stored
            }
            builder = try DocumentBuilder(language: self.language, spellingDatabase: database)
        } catch let error as XapianError {
            throw QuarryError(error, indexPath: path)
        } catch let error as QuarryError {
            throw error
        } catch {
            throw QuarryError(.io, "\(error)")
        }
    }

    /// Every file signature the index holds, by relative path.
    func fileRecords() throws(QuarryError) -> [String: FileRecord] {
        try mapErrors {
            var records: [String: FileRecord] = [:]
            let decoder = JSONDecoder()
            for key in try database.metadataKeys(prefix: IndexSchema.Metadata.filePrefix) {
                let value = try database.metadata(key)
                if let record = try? decoder.decode(FileRecord.self, from: Data(value.utf8)) {
                    records[record.path] = record
                } else {
                    logger.warning("ignoring an unreadable file signature", metadata: ["key": "\(key)"])
                }
            }
            return records
        }
    }

    /// Replaces everything a file produced with `articles`.
    func replaceFile(_ record: FileRecord, articles: [Article]) throws(QuarryError) {
        try mapErrors {
            try database.deleteDocuments(withTerm: IndexSchema.fileTerm(record.path))
            for article in articles {
                for (idTerm, document) in try builder.documents(for: article, file: record.path) {
                    try database.replace(uniqueTerm: idTerm, with: document)
                    pendingDocuments += 1
                }
            }
            try storeRecord(record)
        }
        pendingBytes += Int(record.size)
        try commitIfBatchFull()
    }

    /// Records a new signature for a file whose content did not change.
    func updateRecord(_ record: FileRecord) throws(QuarryError) {
        try mapErrors { try storeRecord(record) }
    }

    /// Deletes everything a vanished file produced.
    func removeFile(_ relativePath: String) throws(QuarryError) {
        try mapErrors {
            try database.deleteDocuments(withTerm: IndexSchema.fileTerm(relativePath))
            try database.setMetadata(IndexSchema.metadataKey(forFile: relativePath), "")
        }
        pendingDocuments += 1
        try commitIfBatchFull()
    }

    func commit() throws(QuarryError) {
        try mapErrors { try database.commit() }
        pendingDocuments = 0
        pendingBytes = 0
    }

    var revision: UInt64 { (try? database.revision) ?? 0 }

    func count(of kind: String) -> Int {
        Int((try? database.termFrequency(IndexSchema.Prefix.kind + kind)) ?? 0)
    }

    /// Releases the write lock now.
    func close() {
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
        case "DatabaseLockError":
            self.init(.indexLocked, "the index at '\(indexPath)' is being written by another process; wait for it to finish, or run again with --wait")
        case "DatabaseOpeningError", "DatabaseNotFoundError":
            self.init(.indexNotFound, "no index at '\(indexPath)' (\(error.message)); create one with 'quarry index CORPUS --index \(indexPath)'")
        case "DatabaseCorruptError":
            self.init(.indexCorrupt, "the index at '\(indexPath)' is corrupt (\(error.message)); run 'quarry check' and rebuild it from the corpus")
        case _ where error.message.contains("No space left"):
            self.init(.noSpace, "no space left on the device holding '\(indexPath)'; the index keeps its last commit; free space and run again")
        default:
            self.init(.xapian, "Xapian failed on '\(indexPath)': \(error)")
        }
    }
}
