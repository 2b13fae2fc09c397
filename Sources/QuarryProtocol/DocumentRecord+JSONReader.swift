import Foundation

// A stored document record read with `JSONReader`, as `JSONDecoder` reads it:
// ten of these per search page, where `JSONDecoder` was 3.4 % of a search's CPU.

extension DocumentRecord: JSONReadable {
    /// A record as the index stores it (document data): read by `JSONReader`,
    /// and by `JSONDecoder` if the reader refuses it, which then words the error.
    public init(stored data: [UInt8]) throws {
        if let record = try? DocumentRecord(json: data) {
            self = record
        } else {
            self = try JSONDecoder().decode(DocumentRecord.self, from: Data(data))
        }
    }

    /// `{"kind":…,"article":{…}}` or `{"kind":…,"comment":{…}}`: the record named
    /// by `kind`, the other member skipped.
    public init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var kind: DocumentKind?, article: ArticleRecord?, comment: CommentRecord?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "kind":
                guard let value = DocumentKind(rawValue: try reader.string()) else { throw reader.failure("a document kind") }
                kind = value
            case "article": article = reader.null() ? nil : try ArticleRecord(reading: &reader)
            case "comment": comment = reader.null() ? nil : try CommentRecord(reading: &reader)
            default: try reader.skipValue()
            }
        }
        switch kind {
        case .article?:
            guard let article else { throw reader.failure("an article") }
            self = .article(article)
        case .comment?:
            guard let comment else { throw reader.failure("a comment") }
            self = .comment(comment)
        case nil: throw reader.failure("a kind")
        }
    }
}

extension ArticleRecord {
    init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var id: String?, title: String?, paragraphs: [String]?, file: String?, commentCount: Int?, comments: [CommentRecord]?
        var author: String?, url: String?, published: String?, source: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "id": id = try reader.string()
            case "title": title = try reader.string()
            case "paragraphs":
                var list: [String] = []
                try reader.array { reader throws(JSONReader.Failure) in list.append(try reader.string()) }
                paragraphs = list
            case "author": author = reader.null() ? nil : try reader.string()
            case "url": url = reader.null() ? nil : try reader.string()
            case "published": published = reader.null() ? nil : try reader.string()
            case "source": source = reader.null() ? nil : try reader.string()
            case "file": file = try reader.string()
            case "commentCount": commentCount = try reader.int()
            case "comments":
                var list: [CommentRecord] = []
                try reader.array { reader throws(JSONReader.Failure) in list.append(try CommentRecord(reading: &reader)) }
                comments = list
            default: try reader.skipValue()
            }
        }
        guard let id, let title, let paragraphs, let file, let commentCount, let comments else {
            throw reader.failure("the members of an article")
        }
        self.init(id: id, title: title, paragraphs: paragraphs, author: author, url: url, published: published,
                  source: source, file: file, commentCount: commentCount, comments: comments)
    }
}

extension CommentRecord {
    init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var id: String?, article: String?, articleTitle: String?, author: String?, text: String?
        var published: String?, duplicates: DuplicateInfo?, cluster: ClusterInfo?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "id": id = try reader.string()
            case "article": article = try reader.string()
            case "articleTitle": articleTitle = try reader.string()
            case "author": author = try reader.string()
            case "text": text = try reader.string()
            case "published": published = reader.null() ? nil : try reader.string()
            case "duplicates": duplicates = reader.null() ? nil : try DuplicateInfo(reading: &reader)
            case "cluster": cluster = reader.null() ? nil : try ClusterInfo(reading: &reader)
            default: try reader.skipValue()
            }
        }
        guard let id, let article, let articleTitle, let author, let text else { throw reader.failure("the members of a comment") }
        self.init(id: id, article: article, articleTitle: articleTitle, author: author, text: text, published: published,
                  duplicates: duplicates, cluster: cluster)
    }
}
