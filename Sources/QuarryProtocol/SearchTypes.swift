/// What a document in the index is.
public enum DocumentKind: String, Codable, Sendable, CaseIterable {
    case article
    case comment
}

/// How hits are ordered.
public enum ResultOrder: String, Codable, Sendable, CaseIterable {
    /// Best match first.
    case relevance
    /// Newest first (documents without a date last), ties by relevance.
    case date
    /// Oldest first (documents without a date last), ties by relevance.
    case dateAscending = "date-asc"
}

/// What a facet counts.
public enum FacetField: String, Codable, Sendable, CaseIterable {
    case author
    case type
}

/// A search, as the CLI and the socket protocol both express it.
public struct SearchRequest: Codable, Sendable, Equatable {
    /// Xapian query-parser syntax; see docs/QUERY.md.
    public var query: String
    /// Only articles, or only comments.
    public var type: DocumentKind?
    /// Only documents by this author (exact name, case-insensitive).
    public var author: String?
    public var offset: Int
    public var limit: Int
    public var sort: ResultOrder
    /// One hit per article: the best of the article and its comments.
    public var collapse: Bool
    /// Count hits by author and/or kind over the whole result set.
    public var facets: [FacetField]
    /// Count at least this many matches exactly (for exact totals and facets).
    public var checkAtLeast: Int?
    /// Run the spelling-corrected query instead when there is one.
    public var correct: Bool

    public init(
        query: String, type: DocumentKind? = nil, author: String? = nil, offset: Int = 0, limit: Int = 10,
        sort: ResultOrder = .relevance, collapse: Bool = false, facets: [FacetField] = [],
        checkAtLeast: Int? = nil, correct: Bool = false
    ) {
        self.query = query
        self.type = type
        self.author = author
        self.offset = offset
        self.limit = limit
        self.sort = sort
        self.collapse = collapse
        self.facets = facets
        self.checkAtLeast = checkAtLeast
        self.correct = correct
    }

    enum CodingKeys: String, CodingKey {
        case query, type, author, offset, limit, sort, collapse, facets, checkAtLeast, correct
    }

    /// Every field but `query` is optional on the wire.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            query: try container.decode(String.self, forKey: .query),
            type: try container.decodeIfPresent(DocumentKind.self, forKey: .type),
            author: try container.decodeIfPresent(String.self, forKey: .author),
            offset: try container.decodeIfPresent(Int.self, forKey: .offset) ?? 0,
            limit: try container.decodeIfPresent(Int.self, forKey: .limit) ?? 10,
            sort: try container.decodeIfPresent(ResultOrder.self, forKey: .sort) ?? .relevance,
            collapse: try container.decodeIfPresent(Bool.self, forKey: .collapse) ?? false,
            facets: try container.decodeIfPresent([FacetField].self, forKey: .facets) ?? [],
            checkAtLeast: try container.decodeIfPresent(Int.self, forKey: .checkAtLeast),
            correct: try container.decodeIfPresent(Bool.self, forKey: .correct) ?? false
        )
    }
}

/// How widely a comment's exact text was posted.
public struct DuplicateInfo: Codable, Sendable, Equatable {
    /// Distinct accounts that posted this text (this one included).
    public var accounts: Int
    /// Distinct articles it was posted under.
    public var articles: Int
    /// Comments with this text in all.
    public var copies: Int

    public init(accounts: Int, articles: Int, copies: Int) {
        self.accounts = accounts
        self.articles = articles
        self.copies = copies
    }
}

/// One result.
public struct SearchHit: Codable, Sendable, Equatable {
    /// 1-based position in the whole result list.
    public var rank: Int
    /// Xapian's BM25 weight; comparable only within one result list.
    public var score: Double
    public var percent: Int
    public var id: String
    public var kind: DocumentKind
    /// The article's title (for a comment, the title of its article).
    public var title: String
    public var author: String?
    /// HTML-escaped text with matched words in `<mark>…</mark>`.
    public var snippet: String
    /// For a comment: its article's id.
    public var article: String?
    public var published: String?
    public var url: String?
    /// For a comment posted verbatim by several accounts.
    public var duplicates: DuplicateInfo?
    /// For a comment in a near-duplicate cluster.
    public var cluster: ClusterInfo?
    /// With collapse: how many more documents of this article matched.
    public var collapsed: Int?

    public init(
        rank: Int, score: Double, percent: Int, id: String, kind: DocumentKind, title: String,
        author: String?, snippet: String, article: String?, published: String?, url: String?,
        duplicates: DuplicateInfo?, collapsed: Int?, cluster: ClusterInfo? = nil
    ) {
        self.rank = rank
        self.score = score
        self.percent = percent
        self.id = id
        self.kind = kind
        self.title = title
        self.author = author
        self.snippet = snippet
        self.article = article
        self.published = published
        self.url = url
        self.duplicates = duplicates
        self.cluster = cluster
        self.collapsed = collapsed
    }
}

/// A facet value and how many matching documents carry it.
public struct FacetCount: Codable, Sendable, Equatable {
    public var value: String
    public var count: Int

    public init(value: String, count: Int) {
        self.value = value
        self.count = count
    }
}

/// A page of results.
public struct SearchResponse: Codable, Sendable, Equatable {
    /// The query that ran (the corrected one when `correct` was used).
    public var query: String
    /// The index revision this answer was computed from.
    public var revision: UInt64
    /// Xapian's estimate of all matches, and its exact bounds.
    public var total: Int
    public var totalLowerBound: Int
    public var totalUpperBound: Int
    public var offset: Int
    public var hits: [SearchHit]
    /// Counts per facet field, most frequent first.
    public var facets: [String: [FacetCount]]?
    /// With facets (and without collapse): whether they counted every match.
    /// Without `checkAtLeast`, a search with facets looks at up to 10,000
    /// matches; a larger result set is counted whole when `checkAtLeast`
    /// reaches its size.
    public var facetsExact: Bool?
    /// "Did you mean": a spelling-corrected query, when one exists.
    public var suggestion: String?
    /// Something the answer lacks and why, e.g. no spelling suggestions from remote shards.
    public var notice: String?

    public init(
        query: String, revision: UInt64, total: Int, totalLowerBound: Int, totalUpperBound: Int,
        offset: Int, hits: [SearchHit], facets: [String: [FacetCount]]?, suggestion: String?, facetsExact: Bool? = nil,
        notice: String? = nil
    ) {
        self.notice = notice
        self.query = query
        self.revision = revision
        self.total = total
        self.totalLowerBound = totalLowerBound
        self.totalUpperBound = totalUpperBound
        self.offset = offset
        self.hits = hits
        self.facets = facets
        self.facetsExact = facetsExact
        self.suggestion = suggestion
    }
}
