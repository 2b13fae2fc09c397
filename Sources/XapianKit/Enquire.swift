import CXapian

/// One search over one database: query, ordering, collapsing, facets.
public final class Enquire {
    let handle: OpaquePointer
    private let database: Database
    private var facetSlots: [UInt32: Int] = [:]

    public init(database: Database) throws(XapianError) {
        handle = try xapianCall { cx_enquire_new(database.handle, $0) }
        self.database = database
    }

    deinit { cx_enquire_free(handle) }

    public func setQuery(_ query: Query) throws(XapianError) {
        try withExtendedLifetime(query) { () throws(XapianError) in
            try xapianCheck { cx_enquire_set_query(handle, query.handle, $0) }
        }
    }

    /// Weighs the matches of the query set last with BM25, as Xapian does by
    /// default (the same weights, order, counts and percentages), but reads
    /// each document's length from `column` instead of the database. Returns
    /// false, changing nothing, when `column` does not fit this database
    /// (`LengthColumn.fits`) or the query is not `Query.isWeighableByLengths`.
    /// A new `setQuery` undoes it.
    @discardableResult
    public func weighByLengths(_ column: LengthColumn) throws(XapianError) -> Bool {
        var applied = false
        // The query and weight hold the column's data from here on; the handle must live until then.
        try withExtendedLifetime(column) { () throws(XapianError) in
            try xapianCheck { cx_enquire_weigh_by_lengths(handle, column.handle, &applied, $0) }
        }
        return applied
    }

    /// Orders by relevance, ties by the value in `slot` ascending: an order that
    /// does not depend on document numbers (which sharding changes).
    public func sortByRelevanceThenValue(_ slot: UInt32) throws(XapianError) {
        try xapianCheck { cx_enquire_set_sort_by_relevance_then_value(handle, slot, false, $0) }
    }

    /// Orders by the value in `slot` (descending when `descending`), ties by relevance.
    public func sortByValue(_ slot: UInt32, descending: Bool) throws(XapianError) {
        try xapianCheck { cx_enquire_set_sort_by_value(handle, slot, descending, $0) }
    }

    /// Orders by the value in `slot`, ties by relevance; documents without a
    /// value sort as if they held `missing`.
    public func sortByValue(_ slot: UInt32, descending: Bool, missing: [UInt8]) throws(XapianError) {
        try withBytes(missing) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_enquire_set_sort_by_value_missing(handle, slot, descending, bytes, length, $0) }
        }
    }

    /// Keeps at most `max` hits per distinct value of `slot`.
    public func collapse(on slot: UInt32, max: UInt32 = 1) throws(XapianError) {
        try xapianCheck { cx_enquire_set_collapse_key(handle, slot, max, $0) }
    }

    /// Stops matching after about `seconds`, keeping what was found.
    public func setTimeLimit(seconds: Double) throws(XapianError) {
        try xapianCheck { cx_enquire_set_time_limit(handle, seconds, $0) }
    }

    /// Counts the values of `slot` over the documents the match looks at.
    /// With a `column` of that slot that fits this database (`FacetColumn.fits`)
    /// the values are read from it: the same counts, without a B-tree lookup
    /// per matching document. Any other column is ignored.
    public func addFacet(slot: UInt32, column: FacetColumn? = nil) throws(XapianError) {
        var index = 0
        // The spy holds the column's data from here on; the handle must live until then.
        try withExtendedLifetime(column) { () throws(XapianError) in
            try xapianCheck { cx_enquire_add_facet(handle, slot, column?.handle, &index, $0) }
        }
        facetSlots[slot] = index
    }

    /// The most frequent values of a facet added with `addFacet`, with counts.
    public func facetValues(slot: UInt32, max: Int = 0) throws(XapianError) -> [TermCount] {
        guard let index = facetSlots[slot] else {
            throw XapianError(kind: "InvalidArgumentError", message: "no facet was added for value slot \(slot)")
        }
        return takeTermList(try xapianCall { cx_enquire_facet_values(handle, index, max, $0) })
    }

    /// How many documents the facet on `slot` counted: all the matches only
    /// when the match looked at them all (see `mset(checkAtLeast:)`).
    public func facetTotal(slot: UInt32) throws(XapianError) -> UInt64 {
        guard let index = facetSlots[slot] else {
            throw XapianError(kind: "InvalidArgumentError", message: "no facet was added for value slot \(slot)")
        }
        var total: UInt64 = 0
        try xapianCheck { cx_enquire_facet_total(handle, index, &total, $0) }
        return total
    }

    /// Runs the match. Counting is exact up to `checkAtLeast` documents.
    public func mset(offset: UInt32, limit: UInt32, checkAtLeast: UInt32 = 0) throws(XapianError) -> MSet {
        MSet(handle: try xapianCall { cx_enquire_mset(handle, offset, limit, checkAtLeast, $0) }, database: database)
    }

    /// The best free-text terms to find more documents like `documents`,
    /// each with its expand weight.
    public func expandTerms(like documents: [DocumentID], max: Int) throws(XapianError) -> [(term: String, weight: Double)] {
        guard !documents.isEmpty else { return [] }
        let list = try documents.withUnsafeBufferPointer { (buffer) throws(XapianError) in
            try xapianCall { cx_enquire_expand(handle, buffer.baseAddress!, buffer.count, max, $0) }
        }
        // The shim scales weights by 10^6 to carry them in an integer count.
        return takeTermList(list).map { ($0.term, Double($0.count) / 1_000_000) }
    }
}

/// A page of results.
public final class MSet {
    public struct Hit: Sendable {
        public let document: DocumentID
        public let rank: UInt32
        public let weight: Double
        public let percent: Int32
        /// How many documents with the same collapse value were folded into this hit.
        public let collapseCount: UInt32
    }

    public struct Counts: Sendable {
        public let lowerBound: UInt32
        public let estimated: UInt32
        public let upperBound: UInt32
    }

    let handle: OpaquePointer
    // The MSet reads documents through the database, so it must outlive it.
    private let database: Database

    init(handle: OpaquePointer, database: Database) {
        self.handle = handle
        self.database = database
    }

    deinit { cx_mset_free(handle) }

    public var count: Int { Int(cx_mset_size(handle)) }

    public func counts() throws(XapianError) -> Counts {
        var raw = cx_match_counts()
        try xapianCheck { cx_mset_counts(handle, &raw, $0) }
        return Counts(lowerBound: raw.lower_bound, estimated: raw.estimated, upperBound: raw.upper_bound)
    }

    public func hit(_ index: Int) throws(XapianError) -> Hit {
        var raw = cx_hit()
        try xapianCheck { cx_mset_hit(handle, UInt32(index), &raw, $0) }
        return Hit(document: raw.docid, rank: raw.rank, weight: raw.weight, percent: raw.percent, collapseCount: raw.collapse_count)
    }

    public func data(_ index: Int) throws(XapianError) -> [UInt8] {
        try xapianBytes { cx_mset_data(handle, UInt32(index), $0, $1) }
    }

    public func value(_ index: Int, slot: UInt32) throws(XapianError) -> [UInt8] {
        try xapianBytes { cx_mset_value(handle, UInt32(index), slot, $0, $1) }
    }

    public struct SnippetOptions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let backgroundModel = SnippetOptions(rawValue: UInt32(CX_SNIPPET_BACKGROUND_MODEL))
        public static let exhaustive = SnippetOptions(rawValue: UInt32(CX_SNIPPET_EXHAUSTIVE))
        public static let emptyWithoutMatch = SnippetOptions(rawValue: UInt32(CX_SNIPPET_EMPTY_WITHOUT_MATCH))
        public static let cjkNgrams = SnippetOptions(rawValue: UInt32(CX_SNIPPET_CJK_NGRAM))
    }

    /// The best stretch of `text` (about `length` bytes) for this result set's
    /// query, HTML-escaped, with matches wrapped in `highlight`.
    public func snippet(
        of text: String, length: Int = 200, language: String,
        options: SnippetOptions = [.backgroundModel, .exhaustive],
        highlight: (start: String, end: String) = ("<mark>", "</mark>"), omit: String = "…"
    ) throws(XapianError) -> String {
        try withBytes(text) { (bytes, textLength) throws(XapianError) in
            try xapianString {
                cx_mset_snippet(handle, bytes, textLength, length, language, options.rawValue,
                                highlight.start, highlight.end, omit, $0, $1)
            }
        }
    }
}
