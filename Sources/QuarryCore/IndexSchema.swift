import XapianKit

/// How articles and comments are laid out in Xapian: term prefixes, value
/// slots, metadata keys. docs/SCHEMA.md is the reference for this file.
public enum IndexSchema {
    /// Bumped when the layout changes incompatibly; stored in the index.
    public static let version = "1"

    public enum Prefix {
        /// Unique public id (boolean).
        public static let id = "Q"
        /// Title words.
        public static let title = "S"
        /// Author words.
        public static let author = "A"
        /// Author name, exact, lower-cased with white space folded (boolean).
        public static let authorExact = "XA"
        /// `article` or `comment` (boolean).
        public static let kind = "XK"
        /// The article a document belongs to; an article carries its own id (boolean).
        public static let article = "XP"
        /// The corpus file a document came from, hashed (boolean).
        public static let file = "XF"
        /// Fingerprint of a comment's normalised text (boolean).
        public static let fingerprint = "XH"
        /// Source name from JSON input (boolean).
        public static let source = "XS"
    }

    public enum Slot {
        /// The article id (a comment's parent): collapsing per article.
        public static let article: UInt32 = 0
        /// Author display name: the author facet.
        public static let author: UInt32 = 1
        /// `article` / `comment`: the type facet.
        public static let kind: UInt32 = 2
        /// `YYYYMMDD`: date ranges.
        public static let day: UInt32 = 3
        /// ISO 8601 time as given: date sorting.
        public static let published: UInt32 = 4
        /// Comment fingerprint: collapsing duplicates.
        public static let fingerprint: UInt32 = 5
    }

    public enum Metadata {
        public static let schema = "quarry:schema"
        public static let language = "quarry:language"
        /// `quarry:file:<path>` → the file's signature and what it produced.
        public static let filePrefix = "quarry:file:"
    }

    /// Xapian refuses terms over 245 bytes; leave room for the longest prefix.
    static let maxTermBody = 230

    /// A boolean term for `value`, hashed when the value is too long to be a term.
    public static func term(_ prefix: String, _ value: String) -> String {
        let bytes = Array(value.utf8)
        guard bytes.count > maxTermBody else { return prefix + value }
        // Keep a readable head, cut on a character boundary, plus a hash of the whole.
        var head = bytes.prefix(maxTermBody - 17)
        while let last = head.last, last & 0xC0 == 0x80 { head = head.dropLast() }
        if let last = head.last, last >= 0xC0 { head = head.dropLast() }
        return prefix + String(decoding: head, as: UTF8.self) + "#" + FNV1a64.hex(bytes)
    }

    /// Lower-cased, white space folded: what `by:` and `--author` compare.
    public static func normalisedAuthor(_ name: String) -> String {
        name.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    public static func metadataKey(forFile relativePath: String) -> String {
        // Metadata keys share Xapian's key-length limit with terms.
        term(Metadata.filePrefix, relativePath)
    }

    public static func fileTerm(_ relativePath: String) -> String {
        Prefix.file + FNV1a64.hex(relativePath.utf8)
    }
}
