/// The near-duplicate cluster a comment belongs to: comments whose texts are
/// the same or nearly the same (docs/DUPLICATES.md).
public struct ClusterInfo: Codable, Sendable, Equatable {
    /// The cluster's id (query `cluster:ID`): the fingerprint of its main text.
    public var id: String
    /// Comments in the cluster, exact copies included.
    public var size: Int
    /// Distinct accounts that posted them.
    public var accounts: Int
    /// Distinct texts among them.
    public var variants: Int?
    /// Jaccard similarity of this comment's word shingles to the main text's
    /// (1 for a copy of the main text).
    public var similarity: Double

    public init(id: String, size: Int, accounts: Int, variants: Int? = nil, similarity: Double) {
        self.id = id
        self.size = size
        self.accounts = accounts
        self.variants = variants
        self.similarity = similarity
    }
}

/// A listing of duplicate comments, as the CLI (`quarry duplicates`) and the
/// socket protocol (method `duplicates`) both express it.
public struct DuplicatesRequest: Codable, Sendable, Equatable {
    /// Near-duplicate clusters (texts that differ by a few words, exact copies
    /// included) instead of exact groups.
    public var near: Bool
    /// Only groups whose comments come from at least this many distinct accounts.
    public var minAccounts: Int
    public var offset: Int
    /// Groups per page.
    public var limit: Int
    /// Only the group (or, with `near`, the cluster) of this comment id.
    public var of: String?
    /// At most this many members are listed per group; `count` still tells all.
    public var maxMembers: Int

    public init(near: Bool = false, minAccounts: Int = 2, offset: Int = 0, limit: Int = 20, of: String? = nil,
                maxMembers: Int = 1000) {
        self.near = near
        self.minAccounts = minAccounts
        self.offset = offset
        self.limit = limit
        self.of = of
        self.maxMembers = maxMembers
    }

    enum CodingKeys: String, CodingKey {
        case near, minAccounts, offset, limit, of, maxMembers
    }

    /// Every field is optional on the wire.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            near: try container.decodeIfPresent(Bool.self, forKey: .near) ?? false,
            minAccounts: try container.decodeIfPresent(Int.self, forKey: .minAccounts) ?? 2,
            offset: try container.decodeIfPresent(Int.self, forKey: .offset) ?? 0,
            limit: try container.decodeIfPresent(Int.self, forKey: .limit) ?? 20,
            of: try container.decodeIfPresent(String.self, forKey: .of),
            maxMembers: try container.decodeIfPresent(Int.self, forKey: .maxMembers) ?? 1000)
    }
}

/// One comment of a duplicate group or cluster.
public struct DuplicateMember: Codable, Sendable, Equatable {
    /// `ARTICLE#k`.
    public var id: String
    public var article: String
    public var author: String
    public var published: String?
    /// In a near-duplicate cluster: this comment's own text, when it is not the
    /// cluster's main text.
    public var text: String?
    /// In a near-duplicate cluster: the Jaccard similarity of this comment's word
    /// shingles to the main text's (1 for copies of the main text).
    public var similarity: Double?

    public init(id: String, article: String, author: String, published: String?, text: String? = nil,
                similarity: Double? = nil) {
        self.id = id
        self.article = article
        self.author = author
        self.published = published
        self.text = text
        self.similarity = similarity
    }
}

/// Comments that share one text (exact group) or nearly one text (cluster).
public struct DuplicateGroup: Codable, Sendable, Equatable {
    /// An exact group's id is its text's fingerprint (query `group:ID`); a
    /// cluster's is the fingerprint of its main text (query `cluster:ID`).
    public var id: String
    /// The text as first posted (a cluster's main text: the one most accounts posted).
    public var text: String
    /// Comments in the group.
    public var count: Int
    /// Distinct accounts that posted them, by name.
    public var accounts: [String]
    /// Distinct articles they were posted under, by id.
    public var articles: [String]
    /// In a cluster: how many distinct texts it holds.
    public var variants: Int?
    /// The comments, copies of the main text first, then by similarity and id.
    public var members: [DuplicateMember]

    public init(id: String, text: String, count: Int, accounts: [String], articles: [String], variants: Int?,
                members: [DuplicateMember]) {
        self.id = id
        self.text = text
        self.count = count
        self.accounts = accounts
        self.articles = articles
        self.variants = variants
        self.members = members
    }
}

/// A page of duplicate groups, the ones with most accounts first (then most comments).
public struct DuplicatesResponse: Codable, Sendable, Equatable {
    /// The index revision this answer was computed from.
    public var revision: UInt64
    public var near: Bool
    /// For near-duplicates: the similarity threshold the index clustered with.
    public var threshold: Double?
    /// Groups that pass `minAccounts` in all.
    public var total: Int
    public var offset: Int
    public var groups: [DuplicateGroup]

    public init(revision: UInt64, near: Bool, threshold: Double?, total: Int, offset: Int, groups: [DuplicateGroup]) {
        self.revision = revision
        self.near = near
        self.threshold = threshold
        self.total = total
        self.offset = offset
        self.groups = groups
    }
}

/// "More like this": the documents most like one article or comment.
public struct SimilarRequest: Codable, Sendable, Equatable {
    /// An article id or a comment id (`ARTICLE#k`).
    public var id: String
    public var offset: Int
    public var limit: Int
    /// Only this kind; nil means the kind of the document `id` names.
    public var type: DocumentKind?

    public init(id: String, offset: Int = 0, limit: Int = 10, type: DocumentKind? = nil) {
        self.id = id
        self.offset = offset
        self.limit = limit
        self.type = type
    }

    enum CodingKeys: String, CodingKey {
        case id, offset, limit, type
    }

    /// Every field but `id` is optional on the wire.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            offset: try container.decodeIfPresent(Int.self, forKey: .offset) ?? 0,
            limit: try container.decodeIfPresent(Int.self, forKey: .limit) ?? 10,
            type: try container.decodeIfPresent(DocumentKind.self, forKey: .type))
    }
}

/// The answer to `similar`.
public struct SimilarResponse: Codable, Sendable, Equatable {
    public var revision: UInt64
    /// The document the others are like.
    public var id: String
    /// Its most telling words (Xapian's expand set), which the hits were searched by.
    public var terms: [String]
    /// Xapian's estimate of all matches.
    public var total: Int
    public var offset: Int
    public var hits: [SearchHit]

    public init(revision: UInt64, id: String, terms: [String], total: Int, offset: Int, hits: [SearchHit]) {
        self.revision = revision
        self.id = id
        self.terms = terms
        self.total = total
        self.offset = offset
        self.hits = hits
    }
}
