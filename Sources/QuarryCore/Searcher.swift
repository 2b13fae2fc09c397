import Foundation
import QuarryProtocol
import XapianKit

/// Limits a searcher enforces on every request.
public struct SearchLimits: Sendable {
    /// Largest page a request may ask for.
    public var maxLimit: Int
    /// Largest offset + limit (deep paging costs as much as fetching it all).
    public var maxWindow: Int
    /// Matching stops after this many seconds and returns what it has (0: no limit).
    public var timeLimit: Double
    /// A wildcard expands to at most this many of its most frequent terms.
    public var maxWildcardExpansion: UInt32

    public init(maxLimit: Int = 1000, maxWindow: Int = 100_000, timeLimit: Double = 5, maxWildcardExpansion: UInt32 = 1000) {
        self.maxLimit = maxLimit
        self.maxWindow = maxWindow
        self.timeLimit = timeLimit
        self.maxWildcardExpansion = maxWildcardExpansion
    }
}

/// Answers searches over one index: the single search path behind both the
/// CLI and the daemon. Holds a read-only database, so keep each Searcher on one
/// thread at a time; make one per thread to search in parallel.
public final class Searcher {
    public let indexPath: String
    public let language: String
    public let limits: SearchLimits
    let database: Database
    /// For a stub (a sharded index): its local shards, opened on their own for
    /// their revisions (Xapian gives none for several shards, nor for a remote one).
    private let shardDatabases: [Database]?
    /// What the index path named when it was opened (device and inode): an
    /// index moved into place, or removed and rebuilt, is another directory,
    /// and handles on the old one keep reading the old files (Xapian reopens by
    /// revision number, and two indexes may both be at revision 1).
    private let pathIdentity: [Int64]?
    /// The stub's inode, size and modification time when opened:
    /// `xapian-replicate` switches a replica to a new copy by rewriting it, and
    /// `quarry index --merge` to the merged database, which only a fresh open
    /// follows. Compared by `stat` on every request: reading the file showed in
    /// the daemon's latency.
    private let stubSignature: [Int64]?
    /// Xapian's remote protocol carries no spelling data.
    public let hasRemoteShards: Bool
    /// Set when a shard's connection failed: the searcher must be opened afresh.
    private var isBroken = false
    private let parser: QueryParser
    /// Shared with the other searchers of the same index (the daemon's threads).
    private let columns: SearchColumns

    /// `columns`: pass one shared by all the searchers of this index, so each
    /// column is built once per revision rather than once per searcher.
    public init(indexPath: String, limits: SearchLimits = SearchLimits(), columns: SearchColumns = SearchColumns()) throws(QuarryError) {
        self.indexPath = indexPath
        self.limits = limits
        self.columns = columns
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw QuarryError(.indexNotFound, "no index at '\(indexPath)'; create one with 'quarry index CORPUS --index \(indexPath)'")
        }
        // Taken before opening: a replacement after this is seen at the next request.
        pathIdentity = Self.identity(of: indexPath)
        let stub = indexPath + "/" + ShardLayout.stubName
        stubSignature = Self.signature(ofFile: stub)
        let entries = FileManager.default.fileExists(atPath: stub) ? try ShardLayout.entries(stub: stub, directory: indexPath) : nil
        hasRemoteShards = entries?.contains { if case .remote = $0 { true } else { false } } ?? false
        let shardPaths = entries?.compactMap { if case .local(let path) = $0 { path } else { nil } }
        do {
            database = try Database(path: indexPath)
            shardDatabases = try shardPaths?.map { (path) throws(XapianError) in try Database(path: path) }
            let stored = try database.metadata(IndexSchema.Metadata.language)
            language = stored.isEmpty ? "english" : stored
            parser = try Self.makeParser(language: language, database: database, limits: limits)
        } catch {
            throw Self.naming(QuarryError(error, indexPath: indexPath), indexPath: indexPath)
        }
    }

    /// A shard error that says which shards are down.
    static func naming(_ error: QuarryError, indexPath: String) -> QuarryError {
        guard error.code == .shardUnavailable else { return error }
        let down = unreachableShards(indexPath: indexPath)
        guard !down.isEmpty else { return error }
        return QuarryError(.shardUnavailable, "shard(s) \(down.joined(separator: ", ")) of the index at '\(indexPath)' cannot be reached; is their xapian-tcpsrv running? The next request tries again")
    }

    private static func makeParser(language: String, database: Database, limits: SearchLimits) throws(XapianError) -> QueryParser {
        typealias P = IndexSchema.Prefix
        let parser = try QueryParser(language: language)
        try parser.setDatabase(database)
        try parser.setDefaultOperator(.and)
        try parser.setMaxWildcardExpansion(limits.maxWildcardExpansion)
        try parser.addPrefix("title", P.title)
        try parser.addPrefix("author", P.author)
        try parser.addNormalisedBooleanPrefix("by", P.authorExact)
        try parser.addBooleanPrefix("type", P.kind)
        try parser.addBooleanPrefix("article", P.article)
        try parser.addBooleanPrefix("id", P.id)
        try parser.addNormalisedBooleanPrefix("source", P.source)
        try parser.addDateRange(slot: IndexSchema.Slot.day, field: "published")
        // Coordination: how widely a comment's text was posted (docs/QUERY.md).
        try parser.addNumberRange(slot: IndexSchema.Slot.accounts, field: "accounts")
        try parser.addNumberRange(slot: IndexSchema.Slot.copies, field: "copies")
        try parser.addBooleanPrefix("group", P.fingerprint)
        try parser.addBooleanPrefix("cluster", P.cluster)
        return parser
    }

    /// Why the index must be opened afresh rather than reopened, or nil: a
    /// shard's connection broke, the path names another directory, or the stub
    /// was rewritten.
    public var freshOpenReason: String? {
        if isBroken { return "a shard's connection failed" }
        if Self.identity(of: indexPath) != pathIdentity { return "the index was removed or replaced" }
        if Self.signature(ofFile: indexPath + "/" + ShardLayout.stubName) != stubSignature { return "the index's stub file changed" }
        return nil
    }

    private static func identity(of path: String) -> [Int64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int64(info.st_dev), Int64(info.st_ino)]
    }

    private static func signature(ofFile path: String) -> [Int64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int64(info.st_ino), Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)]
    }

    /// Moves to the index's latest commit; returns whether it may have changed.
    @discardableResult
    public func refresh() throws(QuarryError) -> Bool {
        do {
            // The shards' own handles only give revisions: they move when the whole does.
            guard try database.reopen() else { return false }
            for shard in shardDatabases ?? [] { try shard.reopen() }
            return true
        } catch {
            throw QuarryError(error, indexPath: indexPath)
        }
    }

    /// The index revision answers carry: the commit number, or for a sharded
    /// index the sum over its local shards (each commit raises it). Remote
    /// shards add nothing: Xapian's remote protocol does not tell revisions.
    public var revision: UInt64 {
        get throws(QuarryError) {
            do { return try indexRevision() } catch { throw QuarryError(error, indexPath: indexPath) }
        }
    }

    func indexRevision() throws(XapianError) -> UInt64 {
        guard let shardDatabases else { return try database.revision }
        var sum: UInt64 = 0
        for shard in shardDatabases { sum += try shard.revision }
        return sum
    }

    /// Runs `body`; if the index moved under it (Xapian's DatabaseModifiedError:
    /// a writer committed twice while we read, discarding our revision), reopens
    /// at the new revision and runs it again. A writer committing many times a
    /// second (watch mode's small batches) can do that to a long read more than
    /// once, hence a few attempts.
    func retryingOnModification<T>(_ body: () throws -> T) throws(QuarryError) -> T {
        let attempts = 5
        for attempt in 1...attempts {
            do {
                return try body()
            } catch let error as XapianError where error.isDatabaseModified && attempt < attempts {
                _ = try? database.reopen()
            } catch let error as QuarryError where error.code == .indexChanged && attempt < attempts {
                // The same, reported from a helper that already put it in Quarry's terms.
                _ = try? database.reopen()
            } catch let error as XapianError {
                let mapped = QuarryError(error, indexPath: indexPath)
                if mapped.code == .shardUnavailable { isBroken = true }
                throw Self.naming(mapped, indexPath: indexPath)
            } catch let error as QuarryError {
                if error.code == .shardUnavailable { isBroken = true }
                throw Self.naming(error, indexPath: indexPath)
            } catch {
                throw QuarryError(.io, "\(error)")
            }
        }
        throw QuarryError(.indexChanged, "the index kept changing during the request; try again")
    }

    // MARK: search

    public func search(_ request: SearchRequest) throws(QuarryError) -> SearchResponse {
        try validate(request)
        return try retryingOnModification { try runSearch(request) }
    }

    private func validate(_ request: SearchRequest) throws(QuarryError) {
        try limits.validate(request)
    }

    static let parseFlags: QueryParser.Flags = [.boolean, .phrase, .loveHate, .wildcard, .pureNot, .spellingCorrection, .cjkNgrams]

    /// Parses user query text; a syntax error quotes the query back.
    func parse(_ text: String) throws(QuarryError) -> (query: Query, suggestion: String?) {
        if text.trimmingWhitespace().isEmpty {
            do { return (try Query.all(), nil) } catch { throw QuarryError(error, indexPath: indexPath) }
        }
        do {
            let query = try parser.parse(text, flags: Self.parseFlags)
            return (query, try parser.correctedQuery())
        } catch where error.isQuerySyntax {
            throw QuarryError(.querySyntax, "cannot parse the query \"\(text)\": \(error.message)", query: text)
        } catch {
            throw QuarryError(error, indexPath: indexPath)
        }
    }

    private func runSearch(_ request: SearchRequest) throws -> SearchResponse {
        typealias P = IndexSchema.Prefix
        typealias S = IndexSchema.Slot
        var (query, suggestion) = try parse(request.query)
        var queryText = request.query
        if request.correct, let corrected = suggestion {
            (query, _) = try parse(corrected)
            queryText = corrected
            suggestion = nil
        }
        var filters: [Query] = []
        if let type = request.type { filters.append(try Query(term: P.kind + type.rawValue)) }
        if let author = request.author {
            filters.append(try Query(term: IndexSchema.term(P.authorExact, IndexSchema.normalisedAuthor(author))))
        }
        if !filters.isEmpty { query = try Query(.filter, [query] + filters) }

        let enquire = try Enquire(database: database)
        try enquire.setQuery(query)
        switch request.sort {
        case .relevance:
            // Several shards number their documents differently from one database:
            // ties go by document id so a sharded index ranks exactly like one.
            // One database keeps Xapian's own order, which lets a query whose
            // matches all tie (a filter) stop at the first page: the id order
            // cost a quarter of the query mix at 100,000 articles.
            if (shardDatabases?.count ?? 0) > 1 || hasRemoteShards { try enquire.sortByRelevanceThenValue(S.id) }
        case .date: try enquire.sortByValue(S.published, descending: true)
        // Undated documents last in both orders: 0xFF sorts after any date.
        case .dateAscending: try enquire.sortByValue(S.published, descending: false, missing: [0xFF])
        }
        if request.collapse { try enquire.collapse(on: S.article) }
        if limits.timeLimit > 0 { try enquire.setTimeLimit(seconds: limits.timeLimit) }
        // Columns hold one database's document numbers: not for several shards.
        let columnsApply = !hasRemoteShards && (shardDatabases?.count ?? 1) == 1
        var weighedWithoutColumn = false
        if columnsApply, try query.isWeighableByLengths {
            if let lengths = try columns.lengthColumn(database: database) {
                try enquire.weighByLengths(lengths)
            } else {
                weighedWithoutColumn = true
            }
        }
        var countedWithoutColumn: [UInt32] = []
        for facet in request.facets {
            let slot = Self.slot(for: facet)
            let column = columnsApply ? try columns.facetColumn(slot: slot, database: database) : nil
            try enquire.addFacet(slot: slot, column: column)
            if columnsApply && column == nil { countedWithoutColumn.append(slot) }
        }

        // Facets count only the matches Xapian looks at: unless told, look at enough
        // for most result sets to be counted whole.
        let checkAtLeast = request.checkAtLeast ?? (request.facets.isEmpty ? 0 : Self.defaultFacetCheck)
        let mset = try enquire.mset(offset: UInt32(request.offset), limit: UInt32(request.limit),
                                    checkAtLeast: UInt32(clamping: checkAtLeast))
        var hits: [SearchHit] = []
        hits.reserveCapacity(mset.count)
        for index in 0..<mset.count {
            var collapsed: Int?
            if request.collapse {
                // Xapian's collapse count only covers the documents the match looked at;
                // counting the hit's article's matches is exact and costs one small match.
                let article = String(decoding: try mset.value(index, slot: S.article), as: UTF8.self)
                let matches = try exactCount(try Query(.filter, [query, try Query(term: IndexSchema.term(P.article, article))]))
                collapsed = max(0, matches - 1)
            }
            hits.append(try hit(mset, index, collapsed: collapsed))
        }
        let counts = try mset.counts()
        if weighedWithoutColumn || !countedWithoutColumn.isEmpty {
            let revision = try database.revision
            // The documents the match saw: each was weighed, its length looked up.
            if weighedWithoutColumn { columns.counted(UInt64(counts.lowerBound), .lengths, revision: revision) }
            for slot in countedWithoutColumn {
                columns.counted(try enquire.facetTotal(slot: slot), .facet(slot: slot), revision: revision)
            }
        }
        var facets: [String: [FacetCount]]?
        var facetsExact: Bool?
        if let first = request.facets.first {
            // Facets count documents before collapsing, totals after: then they cannot be compared.
            if !request.collapse {
                let seen = try enquire.facetTotal(slot: Self.slot(for: first))
                facetsExact = counts.lowerBound == counts.upperBound && seen == UInt64(counts.upperBound)
            }
            var byField: [String: [FacetCount]] = [:]
            for facet in request.facets {
                byField[facet.rawValue] = try enquire.facetValues(slot: Self.slot(for: facet), max: 100)
                    .map { FacetCount(value: $0.term, count: Int($0.count)) }
            }
            facets = byField
        }
        return SearchResponse(
            query: queryText, revision: try indexRevision(), total: Int(counts.estimated),
            totalLowerBound: Int(counts.lowerBound), totalUpperBound: Int(counts.upperBound),
            offset: request.offset, hits: hits, facets: facets, suggestion: suggestion, facetsExact: facetsExact,
            notice: suggestion == nil && hits.isEmpty ? spellingNotice : nil)
    }

    /// How many matches a search with facets looks at when the request does not say.
    static let defaultFacetCheck = 10_000

    private static func slot(for facet: FacetField) -> UInt32 {
        switch facet {
        case .author: IndexSchema.Slot.author
        case .type: IndexSchema.Slot.kind
        }
    }

    /// How many documents `query` matches, counted exactly.
    func exactCount(_ query: Query) throws -> Int {
        let enquire = try Enquire(database: database)
        try enquire.setQuery(query)
        let mset = try enquire.mset(offset: 0, limit: 0, checkAtLeast: try database.documentCount)
        return Int(try mset.counts().lowerBound)
    }

    /// One result of `mset`; `collapsed` is how many more documents of its article matched.
    func hit(_ mset: MSet, _ index: Int, collapsed: Int?) throws -> SearchHit {
        let info = try mset.hit(index)
        let record = try DocumentRecord(stored: try mset.data(index))
        let snippetOptions: MSet.SnippetOptions = [.backgroundModel, .exhaustive, .cjkNgrams]
        var hit: SearchHit
        switch record {
        case .article(let article):
            let body = article.paragraphs.joined(separator: " ")
            hit = SearchHit(
                rank: Int(info.rank) + 1, score: info.weight, percent: Int(info.percent), id: article.id, kind: .article,
                title: article.title, author: article.author,
                snippet: try mset.snippet(of: body, length: 240, language: language, options: snippetOptions),
                article: nil, published: article.published, url: article.url, duplicates: nil, collapsed: nil)
        case .comment(let comment):
            hit = SearchHit(
                rank: Int(info.rank) + 1, score: info.weight, percent: Int(info.percent), id: comment.id, kind: .comment,
                title: comment.articleTitle, author: comment.author,
                snippet: try mset.snippet(of: comment.text, length: 240, language: language, options: snippetOptions),
                article: comment.article, published: comment.published, url: nil,
                duplicates: try duplicateInfo { (slot) throws(XapianError) in try mset.value(index, slot: slot) },
                collapsed: nil,
                cluster: try clusterInfo { (slot) throws(XapianError) in try mset.value(index, slot: slot) })
        }
        hit.collapsed = collapsed
        return hit
    }

    /// How many accounts, articles and copies share a comment's exact text; nil
    /// when no other comment has it. Read from the values the indexer keeps
    /// current (`CoordinationMaintainer`), which `value` gives by slot.
    func duplicateInfo(_ value: (UInt32) throws(XapianError) -> [UInt8]) throws(XapianError) -> DuplicateInfo? {
        typealias S = IndexSchema.Slot
        guard let copies = Self.count(try value(S.copies)), copies > 1 else { return nil }
        return DuplicateInfo(
            accounts: Self.count(try value(S.accounts)) ?? 1, articles: Self.count(try value(S.articles)) ?? 1, copies: copies)
    }

    /// The near-duplicate cluster of a comment; nil when it is in none.
    func clusterInfo(_ value: (UInt32) throws(XapianError) -> [UInt8]) throws(XapianError) -> ClusterInfo? {
        typealias S = IndexSchema.Slot
        let id = String(decoding: try value(S.cluster), as: UTF8.self)
        guard !id.isEmpty, let size = Self.count(try value(S.clusterSize)) else { return nil }
        let similarity = try value(S.similarity)
        return ClusterInfo(
            id: id, size: size, accounts: Self.count(try value(S.clusterAccounts)) ?? 1,
            variants: Self.count(try value(S.clusterVariants)),
            similarity: similarity.isEmpty ? 1 : sortableUnserialise(similarity))
    }

    /// Why an index can give no "did you mean", or nil when it can.
    public var spellingNotice: String? {
        hasRemoteShards ? "no spelling suggestions: Xapian's remote protocol does not carry spelling data, and this index has remote shards" : nil
    }

    /// "Did you mean": the spelling-corrected query, or nil when every word is known.
    public func suggest(_ text: String) throws(QuarryError) -> String? {
        try parse(text).suggestion
    }

    // MARK: get

    /// An article with its comments in order, or a single comment.
    public func get(id: String) throws(QuarryError) -> DocumentRecord {
        try retryingOnModification {
            typealias P = IndexSchema.Prefix
            guard let docid = try database.documents(withTerm: IndexSchema.term(P.id, id), limit: 1).first else {
                throw QuarryError(.notFound, "no article or comment has the id '\(id)'; ids are corpus paths without the extension, and ARTICLE#N for comments")
            }
            let document = try database.document(docid)
            switch try DocumentRecord(stored: try document.data()) {
            case .comment(var comment):
                comment.duplicates = try duplicateInfo(document.value)
                comment.cluster = try clusterInfo(document.value)
                return .comment(comment)
            case .article(var article):
                var comments: [(Int, CommentRecord)] = []
                for commentID in try database.documents(withTerm: IndexSchema.term(P.article, id)) where commentID != docid {
                    let commentDocument = try database.document(commentID)
                    guard case .comment(var comment) = try DocumentRecord(stored: try commentDocument.data()) else { continue }
                    comment.duplicates = try duplicateInfo(commentDocument.value)
                    comment.cluster = try clusterInfo(commentDocument.value)
                    comments.append((Self.commentNumber(comment.id), comment))
                }
                article.comments = comments.sorted { $0.0 < $1.0 }.map(\.1)
                return .article(article)
            }
        }
    }

    /// A count stored with sortable_serialise; nil when absent or unreadable.
    static func count(_ bytes: [UInt8]) -> Int? {
        guard !bytes.isEmpty else { return nil }
        return Int(exactly: sortableUnserialise(bytes).rounded())
    }

    static func commentNumber(_ id: String) -> Int {
        guard let hash = id.lastIndex(of: "#") else { return 0 }
        return Int(id[id.index(after: hash)...]) ?? 0
    }

    // MARK: stats

    public func stats() throws(QuarryError) -> IndexStats {
        if shardDatabases != nil, let stats = Self.shardedStats(indexPath: indexPath) { return stats }
        return try retryingOnModification {
            typealias P = IndexSchema.Prefix
            var stats = IndexStats(
                documents: Int(try database.documentCount),
                articles: Int(try database.termFrequency(P.kind + DocumentKind.article.rawValue)),
                comments: Int(try database.termFrequency(P.kind + DocumentKind.comment.rawValue)),
                files: try database.metadataKeys(prefix: IndexSchema.Metadata.filePrefix).count,
                revision: try indexRevision(),
                sizeBytes: Self.directorySize(indexPath), language: language,
                xapianVersion: Database.xapianVersion)
            stats.nearDuplicates = try database.metadata(IndexSchema.Metadata.nearDuplicates) != "off"
            return stats
        }
    }

    /// Stats of a sharded index, shard by shard, so one that is down is named
    /// instead of failing the whole answer; totals cover the reachable shards.
    /// Works when the index as a whole cannot be opened; nil for an index with no stub.
    public static func shardedStats(indexPath: String) -> IndexStats? {
        typealias P = IndexSchema.Prefix
        guard let entries = try? ShardLayout.entries(stub: indexPath + "/" + ShardLayout.stubName, directory: indexPath) else {
            return nil
        }
        var stats = IndexStats(documents: 0, articles: 0, comments: 0, files: 0, revision: 0,
                               sizeBytes: directorySize(indexPath), language: "", xapianVersion: Database.xapianVersion)
        var statuses: [ShardStatus] = []
        for entry in entries {
            do {
                let shard: Database
                switch entry {
                case .local(let path): shard = try Database(path: path)
                case .remote(let host, let port): shard = try Database(remoteHost: host, port: port, timeoutMilliseconds: 2000)
                }
                let documents = Int(try shard.documentCount)
                if stats.language.isEmpty {
                    stats.language = try shard.metadata(IndexSchema.Metadata.language)
                    stats.nearDuplicates = try shard.metadata(IndexSchema.Metadata.nearDuplicates) != "off"
                }
                stats.documents += documents
                stats.articles += Int(try shard.termFrequency(P.kind + DocumentKind.article.rawValue))
                stats.comments += Int(try shard.termFrequency(P.kind + DocumentKind.comment.rawValue))
                stats.files += try shard.metadataKeys(prefix: IndexSchema.Metadata.filePrefix).count
                if case .local = entry { stats.revision += try shard.revision }
                statuses.append(ShardStatus(database: entry.description, reachable: true, documents: documents, error: nil))
            } catch {
                statuses.append(ShardStatus(database: entry.description, reachable: false, documents: nil, error: error.description))
            }
        }
        stats.shards = statuses
        if stats.language.isEmpty { stats.language = "unknown (no shard answered)" }
        return stats
    }

    /// The shards of a stub that do not answer, to name them in an error.
    static func unreachableShards(indexPath: String) -> [String] {
        shardedStats(indexPath: indexPath)?.shards?.filter { !$0.reachable }.map(\.database) ?? []
    }

    /// Bytes of the files under `path`, shard directories included.
    static func directorySize(_ path: String) -> Int64 {
        guard let names = FileManager.default.subpaths(atPath: path) else { return 0 }
        var total: Int64 = 0
        for name in names {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if attributes?[.type] as? FileAttributeType == .typeRegular {
                total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return total
    }
}
