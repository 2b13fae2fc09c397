import CXapian

/// Turns text into terms (words, `Z`-prefixed stems, positions) on a document.
public final class TermGenerator {
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// Feed the database's spelling dictionary (needs `spellingDatabase`).
        public static let spelling = Options(rawValue: Int32(CX_TG_SPELLING))
        /// Index Chinese, Japanese and Korean text as character n-grams.
        public static let cjkNgrams = Options(rawValue: Int32(CX_TG_CJK_NGRAM))
    }

    let handle: OpaquePointer
    // Held so the database outlives the generator that feeds its spelling table.
    private var spellingDatabase: WritableDatabase?

    /// - Parameter language: a Snowball stemmer name, or "none".
    public init(language: String, options: Options = []) throws(XapianError) {
        handle = try xapianCall { cx_termgen_new(language, options.rawValue, $0) }
    }

    deinit { cx_termgen_free(handle) }

    public func setSpellingDatabase(_ database: WritableDatabase) throws(XapianError) {
        try xapianCheck { cx_termgen_set_database(handle, database.handle, $0) }
        spellingDatabase = database
    }

    /// Words longer than this many bytes are dropped rather than indexed.
    public func setMaxWordLength(_ length: UInt32) throws(XapianError) {
        try xapianCheck { cx_termgen_set_max_word_length(handle, length, $0) }
    }

    /// Directs the following `index` calls at `document`, positions starting anew.
    public func setDocument(_ document: Document) throws(XapianError) {
        try withExtendedLifetime(document) { () throws(XapianError) in
            try xapianCheck { cx_termgen_set_document(handle, document.handle, $0) }
        }
    }

    public func index(_ text: String, prefix: String = "", wdf: UInt32 = 1, positions: Bool = true) throws(XapianError) {
        try withBytes(text) { (bytes, length) throws(XapianError) in
            try withBytes(prefix) { (prefixBytes, prefixLength) throws(XapianError) in
                try xapianCheck { cx_termgen_index_text(handle, bytes, length, wdf, prefixBytes, prefixLength, positions, $0) }
            }
        }
    }

    /// Leaves a gap in positions so phrases never match across two fields.
    public func increaseTermPosition(by delta: UInt32 = 100) throws(XapianError) {
        try xapianCheck { cx_termgen_increase_termpos(handle, delta, $0) }
    }
}

/// Snowball stemmer names.
public enum Stemmer {
    /// Fails with an `InvalidArgumentError` naming the known languages.
    public static func validate(_ language: String) throws(XapianError) {
        try xapianCheck { cx_stem_check(language, $0) }
    }

    public static var languages: [String] {
        String(cString: cx_stem_languages()).split(separator: " ").map(String.init)
    }
}
