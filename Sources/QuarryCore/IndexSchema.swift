import XapianKit

/// How articles and comments are laid out in Xapian: term prefixes, value
/// slots, metadata keys. docs/SCHEMA.md is the reference for this file.
public enum IndexSchema {
    /// Bumped when the layout changes incompatibly; stored in the index.
    /// 5: comments' MinHash bands moved from `XB` terms to `BandStore`.
    public static let version = "5"

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
        /// The near-duplicate cluster a comment belongs to, by cluster id (boolean;
        /// kept up to date by `CoordinationMaintainer`).
        public static let cluster = "XC"
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
        /// The publication instant in UTC, `YYYYMMDDHHMMSS[fraction]`
        /// (`PublishedDate.sortKey`): date sorting.
        public static let published: UInt32 = 4
        /// Comment fingerprint: collapsing duplicates.
        public static let fingerprint: UInt32 = 5
        // Slots 6 to 13 describe a comment's duplicates. They depend on other
        // comments, so `CoordinationMaintainer` rewrites them whenever a group or
        // cluster changes; numbers use sortable_serialise for `accounts:3..`.
        /// Distinct accounts that posted the comment's exact (normalised) text.
        public static let accounts: UInt32 = 6
        /// Comments with that exact text, this one included.
        public static let copies: UInt32 = 7
        /// Distinct articles those copies were posted under.
        public static let articles: UInt32 = 8
        /// Id of the near-duplicate cluster; empty when the comment is in none.
        public static let cluster: UInt32 = 9
        /// Comments in that cluster.
        public static let clusterSize: UInt32 = 10
        /// Distinct accounts in that cluster.
        public static let clusterAccounts: UInt32 = 11
        /// Jaccard similarity of the comment's shingles to the cluster's main text.
        public static let similarity: UInt32 = 12
        /// Distinct texts in the cluster.
        public static let clusterVariants: UInt32 = 13
        /// The document's own public id: ties in relevance are ordered by it, so
        /// results do not depend on document numbers (which sharding changes).
        public static let id: UInt32 = 14
    }

    public enum Metadata {
        public static let schema = "quarry:schema"
        public static let language = "quarry:language"
        /// `quarry:file:<path>` → the file's signature and what it produced.
        public static let filePrefix = "quarry:file:"
        /// `quarry:dirty:h:<fingerprint>` and `quarry:dirty:c:<cluster>`: groups and
        /// clusters whose duplicate values must be recomputed. Written in the same
        /// commit as the change that caused them, cleared in the commit that
        /// recomputes, so a run killed in between leaves them for the next run.
        public static let dirtyFingerprintPrefix = "quarry:dirty:h:"
        public static let dirtyClusterPrefix = "quarry:dirty:c:"
        /// `1` from the first batch of a run that began with no comment until
        /// its recount: the texts sharing a band (read from the band store, not
        /// marked one by one) are to be recounted, by the next run if this one dies.
        public static let sharedBandsPending = "quarry:dirty:bands"
        /// The near-duplicate similarity threshold the clusters were built with.
        public static let nearThreshold = "quarry:near-threshold"
        /// `off` when the index was built without near-duplicate detection (no
        /// band store; exact groups only); absent or `on` otherwise.
        public static let nearDuplicates = "quarry:near-duplicates"
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

    /// A prefix every file key under `pathPrefix` starts with. A path too long
    /// for a key keeps a head of `maxTermBody - 17` bytes less the character the
    /// cut ends in (`term`), so a prefix of whole characters shorter than that
    /// head is kept whole; for a longer one only the prefix of all file keys is
    /// sure, and the records' own paths decide.
    static func metadataKeyPrefix(forFilesUnder pathPrefix: String) -> String {
        Metadata.filePrefix + (pathPrefix.utf8.count < maxTermBody - 17 ? pathPrefix : "")
    }

    public static func metadataKey(forFile relativePath: String) -> String {
        // Metadata keys share Xapian's key-length limit with terms.
        term(Metadata.filePrefix, relativePath)
    }

    public static func fileTerm(_ relativePath: String) -> String {
        Prefix.file + FNV1a64.hex(relativePath.utf8)
    }
}
