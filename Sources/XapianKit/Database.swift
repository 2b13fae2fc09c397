import CXapian

/// Xapian's document number: meaningful inside one open database only (sharding
/// renumbers documents), so it never leaves the process.
public typealias DocumentID = UInt32

/// A Xapian database opened read-only: a directory, or a stub file naming
/// local and remote shards.
///
/// Like every Xapian object it is not thread-safe: keep it, and everything made
/// from it, on one thread at a time.
public class Database {
    let handle: OpaquePointer

    /// Opens the database at `path` read-only.
    public convenience init(path: String) throws(XapianError) {
        let handle = try xapianCall { cx_db_open(path, $0) }
        self.init(handle: handle)
    }

    /// Opens a database served by `xapian-tcpsrv` read-only.
    public convenience init(remoteHost host: String, port: UInt16, timeoutMilliseconds: UInt32 = 10_000) throws(XapianError) {
        let handle = try xapianCall { cx_db_open_remote(host, UInt32(port), timeoutMilliseconds, $0) }
        self.init(handle: handle)
    }

    init(handle: OpaquePointer) {
        self.handle = handle
        shards = []
    }

    // A combined view keeps its shards alive: Xapian reads through their handles.
    private let shards: [Database]

    /// A read-only view over several databases (shards) at once; writable shards
    /// are seen with their uncommitted changes. Document `k` of shard `i`
    /// (0-based) is document `(k - 1) * shards.count + i + 1` of the view.
    public init(combining shards: [Database]) throws(XapianError) {
        guard !shards.isEmpty else {
            throw XapianError(kind: "InvalidArgumentError", message: "a combined view needs at least one database")
        }
        let handles: [OpaquePointer?] = shards.map(\.handle)
        handle = try handles.withUnsafeBufferPointer { (buffer) throws(XapianError) in
            try xapianCall { error in
                buffer.withMemoryRebound(to: OpaquePointer.self) { cx_db_open_combined($0.baseAddress!, $0.count, error) }
            }
        }
        self.shards = shards
    }

    deinit { cx_db_free(handle) }

    /// Moves to the latest committed revision; returns whether it may have changed.
    @discardableResult
    public func reopen() throws(XapianError) -> Bool {
        var changed = false
        try xapianCheck { cx_db_reopen(handle, &changed, $0) }
        return changed
    }

    /// Releases the database's files and locks now rather than at deinit.
    public func close() throws(XapianError) {
        try xapianCheck { cx_db_close(handle, $0) }
    }

    public var documentCount: UInt32 {
        get throws(XapianError) {
            var count: UInt32 = 0
            try xapianCheck { cx_db_doccount(handle, &count, $0) }
            return count
        }
    }

    /// The committed revision; it grows with every commit.
    public var revision: UInt64 {
        get throws(XapianError) {
            var revision: UInt64 = 0
            try xapianCheck { cx_db_revision(handle, &revision, $0) }
            return revision
        }
    }

    /// How many documents are indexed by `term`.
    public func termFrequency(_ term: String) throws(XapianError) -> UInt32 {
        var frequency: UInt32 = 0
        try withBytes(term) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_db_termfreq(handle, bytes, length, &frequency, $0) }
        }
        return frequency
    }

    /// The documents indexed by `term`, at most `limit` of them (nil: all).
    public func documents(withTerm term: String, limit: Int? = nil) throws(XapianError) -> [DocumentID] {
        try withBytes(term) { (bytes, length) throws(XapianError) -> [DocumentID] in
            var ids: UnsafeMutablePointer<cx_docid>?
            var count = 0
            try xapianCheck { cx_db_postlist(handle, bytes, length, limit ?? 0, &ids, &count, $0) }
            defer { cx_free(ids) }
            return Array(UnsafeBufferPointer(start: ids, count: count))
        }
    }

    /// Every term that starts with `prefix`, with its term frequency; with
    /// `minFrequency`, only the terms that index at least that many documents.
    public func allTerms(prefix: String, minFrequency: UInt32 = 0) throws(XapianError) -> [TermCount] {
        try withBytes(prefix) { (bytes, length) throws(XapianError) in
            takeTermList(try xapianCall { cx_db_allterms_min_freq(handle, bytes, length, minFrequency, $0) })
        }
    }

    public func document(_ id: DocumentID) throws(XapianError) -> Document {
        Document(handle: try xapianCall { cx_db_get_document(handle, id, $0) })
    }

    /// Document `id` without checking that it exists, which costs a lookup: for
    /// an id just read from a posting list. A missing one reads as empty.
    public func document(unchecked id: DocumentID) throws(XapianError) -> Document {
        Document(handle: try xapianCall { cx_db_get_document_unchecked(handle, id, $0) })
    }

    /// The user metadata stored under `key`; empty when unset.
    public func metadata(_ key: String) throws(XapianError) -> String {
        try withBytes(key) { (bytes, length) throws(XapianError) in
            try xapianString { cx_db_get_metadata(handle, bytes, length, $0, $1) }
        }
    }

    /// Every metadata key starting with `prefix`.
    public func metadataKeys(prefix: String) throws(XapianError) -> [String] {
        try withBytes(prefix) { (bytes, length) throws(XapianError) in
            takeTermList(try xapianCall { cx_db_metadata_keys(handle, bytes, length, $0) }).map(\.term)
        }
    }

    /// At most `limit` terms starting with `prefix` that sort after `after`
    /// (from the first when it is empty), with their frequencies, in order.
    public func allTerms(prefix: String, after: String, limit: Int) throws(XapianError) -> [TermCount] {
        try withBytes(prefix) { (bytes, length) throws(XapianError) in
            try withBytes(after) { (afterBytes, afterLength) throws(XapianError) in
                takeTermList(try xapianCall { cx_db_allterms_page(handle, bytes, length, afterBytes, afterLength, limit, $0) })
            }
        }
    }

    /// At most `limit` metadata keys starting with `prefix` that sort after
    /// `after` (from the first when it is empty), in order: pass a page's last
    /// key to get the next page. Keys may be added or removed between pages.
    public func metadataKeys(prefix: String, after: String, limit: Int) throws(XapianError) -> [String] {
        try withBytes(prefix) { (bytes, length) throws(XapianError) in
            try withBytes(after) { (afterBytes, afterLength) throws(XapianError) in
                takeTermList(try xapianCall { cx_db_metadata_keys_page(handle, bytes, length, afterBytes, afterLength, limit, $0) }).map(\.term)
            }
        }
    }

    /// Calls `body` with every metadata key starting with `prefix`, in order, a
    /// page at a time, so memory does not grow with the keys; `body` may remove keys.
    public func forEachMetadataKey(prefix: String, _ body: (String) throws -> Void) throws {
        var after = ""
        while true {
            let keys = try metadataKeys(prefix: prefix, after: after, limit: 1024)
            guard let last = keys.last else { return }
            for key in keys { try body(key) }
            after = last
        }
    }

    /// Xapian's spelling correction for one word, or nil when it has none.
    public func spellingSuggestion(for word: String, maxEditDistance: UInt32 = 2) throws(XapianError) -> String? {
        let suggestion = try withBytes(word) { (bytes, length) throws(XapianError) in
            try xapianString { cx_db_spelling_suggestion(handle, bytes, length, maxEditDistance, $0, $1) }
        }
        return suggestion.isEmpty ? nil : suggestion
    }

    /// Writes a compacted copy (all shards merged into one database) to `path`.
    public func compact(to path: String) throws(XapianError) {
        try xapianCheck { cx_db_compact(handle, path, $0) }
    }

    /// Runs Xapian's own consistency check over the database at `path`.
    public static func check(path: String) throws(XapianError) -> (errors: Int, report: String) {
        var errors = 0
        var report: UnsafeMutablePointer<CChar>?
        var length = 0
        try xapianCheck { cx_db_check(path, &errors, &report, &length, $0) }
        defer { cx_free(report) }
        return (errors, String(decoding: UnsafeRawBufferPointer(start: report, count: length), as: UTF8.self))
    }

    /// The version of libxapian in use.
    public static var xapianVersion: String { String(cString: cx_version()) }
}

/// A Xapian database opened for writing. Only one writer may hold a database;
/// a second one gets a `DatabaseLockError`.
public final class WritableDatabase: Database {
    public enum Mode: Sendable {
        case createOrOpen, create, createOrOverwrite, open

        var raw: Int32 {
            switch self {
            case .createOrOpen: Int32(CX_DB_CREATE_OR_OPEN)
            case .create: Int32(CX_DB_CREATE)
            case .createOrOverwrite: Int32(CX_DB_CREATE_OR_OVERWRITE)
            case .open: Int32(CX_DB_OPEN)
            }
        }
    }

    /// - Parameters:
    ///   - waitForLock: block until another writer releases the database.
    ///   - durable: fsync on commit; off only for scratch databases merged later.
    public init(path: String, mode: Mode = .createOrOpen, waitForLock: Bool = false, durable: Bool = true) throws(XapianError) {
        var flags: Int32 = 0
        if waitForLock { flags |= Int32(CX_DB_RETRY_LOCK) }
        if !durable { flags |= Int32(CX_DB_NO_SYNC) }
        let handle = try xapianCall { cx_db_open_writable(path, mode.raw, flags, $0) }
        super.init(handle: handle)
    }

    @discardableResult
    public func add(_ document: Document) throws(XapianError) -> DocumentID {
        var id: cx_docid = 0
        try withExtendedLifetime(document) { () throws(XapianError) in
            try xapianCheck { cx_db_add_document(handle, document.handle, &id, $0) }
        }
        return id
    }

    /// Replaces every document indexed by `uniqueTerm` with `document`, or adds it.
    public func replace(uniqueTerm: String, with document: Document) throws(XapianError) {
        try withBytes(uniqueTerm) { (bytes, length) throws(XapianError) in
            try withExtendedLifetime(document) { () throws(XapianError) in
                try xapianCheck { cx_db_replace_document_by_term(handle, bytes, length, document.handle, $0) }
            }
        }
    }

    /// Replaces the document numbered `id` (read with `document(_:)` and changed,
    /// typically) with `document`.
    public func replace(_ id: DocumentID, with document: Document) throws(XapianError) {
        try withExtendedLifetime(document) { () throws(XapianError) in
            try xapianCheck { cx_db_replace_document(handle, id, document.handle, $0) }
        }
    }

    /// Deletes every document indexed by `term`.
    public func deleteDocuments(withTerm term: String) throws(XapianError) {
        try withBytes(term) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_db_delete_document_by_term(handle, bytes, length, $0) }
        }
    }

    /// Sets user metadata; it becomes visible with the next commit, atomically
    /// with the documents changed in the same batch. An empty value deletes the key.
    public func setMetadata(_ key: String, _ value: String) throws(XapianError) {
        try withBytes(key) { (keyBytes, keyLength) throws(XapianError) in
            try withBytes(value) { (valueBytes, valueLength) throws(XapianError) in
                try xapianCheck { cx_db_set_metadata(handle, keyBytes, keyLength, valueBytes, valueLength, $0) }
            }
        }
    }

    public func addSpelling(_ word: String, frequency: UInt32 = 1) throws(XapianError) {
        try withBytes(word) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_db_add_spelling(handle, bytes, length, frequency, $0) }
        }
    }

    /// Makes every change since the last commit durable and visible at once.
    public func commit() throws(XapianError) {
        try xapianCheck { cx_db_commit(handle, $0) }
    }
}
