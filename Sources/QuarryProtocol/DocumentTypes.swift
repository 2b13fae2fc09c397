/// A comment as stored and returned by `get`.
public struct CommentRecord: Codable, Sendable, Equatable {
    /// `ARTICLE#k`, k counting from 1 in file order.
    public var id: String
    public var article: String
    public var articleTitle: String
    public var author: String
    public var text: String
    public var published: String?
    public var duplicates: DuplicateInfo?
    /// The near-duplicate cluster it belongs to, if any.
    public var cluster: ClusterInfo?

    public init(id: String, article: String, articleTitle: String, author: String, text: String,
                published: String?, duplicates: DuplicateInfo?, cluster: ClusterInfo? = nil) {
        self.id = id
        self.article = article
        self.articleTitle = articleTitle
        self.author = author
        self.text = text
        self.published = published
        self.duplicates = duplicates
        self.cluster = cluster
    }
}

/// An article as stored and returned by `get`.
public struct ArticleRecord: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    /// Body paragraphs in order.
    public var paragraphs: [String]
    public var author: String?
    public var url: String?
    public var published: String?
    public var source: String?
    /// The corpus file it came from, relative to the corpus root.
    public var file: String
    public var commentCount: Int
    /// Filled by `get`; empty in stored data.
    public var comments: [CommentRecord]

    public init(id: String, title: String, paragraphs: [String], author: String?, url: String?,
                published: String?, source: String?, file: String, commentCount: Int, comments: [CommentRecord]) {
        self.id = id
        self.title = title
        self.paragraphs = paragraphs
        self.author = author
        self.url = url
        self.published = published
        self.source = source
        self.file = file
        self.commentCount = commentCount
        self.comments = comments
    }
}

/// What `get` returns: an article with its comments, or one comment.
public enum DocumentRecord: Codable, Sendable, Equatable {
    case article(ArticleRecord)
    case comment(CommentRecord)

    enum CodingKeys: String, CodingKey { case kind, article, comment }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(DocumentKind.self, forKey: .kind) {
        case .article: self = .article(try container.decode(ArticleRecord.self, forKey: .article))
        case .comment: self = .comment(try container.decode(CommentRecord.self, forKey: .comment))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .article(let article):
            try container.encode(DocumentKind.article, forKey: .kind)
            try container.encode(article, forKey: .article)
        case .comment(let comment):
            try container.encode(DocumentKind.comment, forKey: .kind)
            try container.encode(comment, forKey: .comment)
        }
    }
}

/// What the index holds.
public struct IndexStats: Codable, Sendable, Equatable {
    public var documents: Int
    public var articles: Int
    public var comments: Int
    public var files: Int
    public var revision: UInt64
    /// Bytes on disk (0 for a remote or stub database whose shards are elsewhere).
    public var sizeBytes: Int64
    public var language: String
    public var xapianVersion: String
    /// False for an index built with `quarry index --no-near-duplicates`
    /// (exact duplicate groups only); nil when no shard answered.
    public var nearDuplicates: Bool?
    /// For a sharded index: each database its stub names, and whether it answers.
    public var shards: [ShardStatus]?

    public init(documents: Int, articles: Int, comments: Int, files: Int, revision: UInt64,
                sizeBytes: Int64, language: String, xapianVersion: String) {
        self.documents = documents
        self.articles = articles
        self.comments = comments
        self.files = files
        self.revision = revision
        self.sizeBytes = sizeBytes
        self.language = language
        self.xapianVersion = xapianVersion
    }
}

/// One shard of a sharded index, as `stats` sees it.
public struct ShardStatus: Codable, Sendable, Equatable {
    /// The local path, or `remote HOST:PORT`.
    public var database: String
    public var reachable: Bool
    public var documents: Int?
    /// Why it cannot be read, when it cannot.
    public var error: String?

    public init(database: String, reachable: Bool, documents: Int?, error: String?) {
        self.database = database
        self.reachable = reachable
        self.documents = documents
        self.error = error
    }
}
