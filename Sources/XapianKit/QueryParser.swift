import CXapian

/// Xapian's query parser: boolean operators, phrases, NEAR, wildcards,
/// field prefixes and ranges, stemming and spelling correction.
public final class QueryParser {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let boolean = Flags(rawValue: UInt32(CX_QP_BOOLEAN))
        public static let phrase = Flags(rawValue: UInt32(CX_QP_PHRASE))
        public static let loveHate = Flags(rawValue: UInt32(CX_QP_LOVEHATE))
        public static let booleanAnyCase = Flags(rawValue: UInt32(CX_QP_BOOLEAN_ANY_CASE))
        public static let wildcard = Flags(rawValue: UInt32(CX_QP_WILDCARD))
        public static let pureNot = Flags(rawValue: UInt32(CX_QP_PURE_NOT))
        public static let partial = Flags(rawValue: UInt32(CX_QP_PARTIAL))
        public static let spellingCorrection = Flags(rawValue: UInt32(CX_QP_SPELLING_CORRECTION))
        public static let cjkNgrams = Flags(rawValue: UInt32(CX_QP_CJK_NGRAM))

        public static let standard: Flags = [.boolean, .phrase, .loveHate]
    }

    let handle: OpaquePointer
    // Wildcards and spelling read from this database, so it must outlive the parser.
    private var database: Database?

    public init(language: String) throws(XapianError) {
        handle = try xapianCall { cx_qp_new(language, $0) }
    }

    deinit { cx_qp_free(handle) }

    public func setDatabase(_ database: Database) throws(XapianError) {
        try xapianCheck { cx_qp_set_database(handle, database.handle, $0) }
        self.database = database
    }

    /// The operator between bare words: `.and` or `.or`.
    public func setDefaultOperator(_ op: Query.Operator) throws(XapianError) {
        try xapianCheck { cx_qp_set_default_op(handle, op.raw, $0) }
    }

    /// Keeps a wildcard to its `limit` most frequent expansions.
    public func setMaxWildcardExpansion(_ limit: UInt32) throws(XapianError) {
        try xapianCheck { cx_qp_set_max_wildcard_expansion(handle, limit, $0) }
    }

    /// `field:words` searches terms carrying `prefix`.
    public func addPrefix(_ field: String, _ prefix: String) throws(XapianError) {
        try xapianCheck { cx_qp_add_prefix(handle, field, prefix, $0) }
    }

    /// `field:value` filters on the boolean term `prefix` + value.
    public func addBooleanPrefix(_ field: String, _ prefix: String) throws(XapianError) {
        try xapianCheck { cx_qp_add_boolean_prefix(handle, field, prefix, $0) }
    }

    /// Like `addBooleanPrefix`, but the value is lower-cased and its white space
    /// folded first, so `by:"Golova  HVOSTA"` finds "golova hvosta".
    public func addNormalisedBooleanPrefix(_ field: String, _ prefix: String) throws(XapianError) {
        try xapianCheck { cx_qp_add_folded_boolean_prefix(handle, field, prefix, $0) }
    }

    /// `field:2024-01-01..2024-06-30` over YYYYMMDD values in `slot` (`field` without the colon).
    public func addDateRange(slot: UInt32, field: String) throws(XapianError) {
        try xapianCheck { cx_qp_add_date_range(handle, slot, field, $0) }
    }

    /// `field:3..` over numeric values in `slot` (`field` without the colon).
    public func addNumberRange(slot: UInt32, field: String) throws(XapianError) {
        try xapianCheck { cx_qp_add_number_range(handle, slot, field, $0) }
    }

    /// Syntax errors come back as a `XapianError` of kind `QueryParserError`.
    public func parse(_ text: String, flags: Flags = .standard) throws(XapianError) -> Query {
        let handle = try withBytes(text) { (bytes, length) throws(XapianError) in
            try xapianCall { cx_qp_parse(self.handle, bytes, length, flags.rawValue, $0) }
        }
        return Query(handle: handle)
    }

    /// After a parse with `.spellingCorrection`: the corrected query, or nil.
    public func correctedQuery() throws(XapianError) -> String? {
        let corrected = try xapianString { cx_qp_corrected_query(handle, $0, $1) }
        return corrected.isEmpty ? nil : corrected
    }
}
