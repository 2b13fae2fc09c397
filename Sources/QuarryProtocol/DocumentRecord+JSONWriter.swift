// A document's stored data written with `JSONWriter`, the counterpart of
// DocumentRecord+JSONReader.swift. The indexer writes one record per document,
// 1.4 million in a 100,000-article run, where `JSONEncoder` took about 2.5 % of
// the writing threads' time. The JSON is what `JSONEncoder` writes, key for
// key (nil optionals left out), except that "/" is not escaped; both readers
// take either.

extension DocumentRecord {
    /// The record as the index stores it.
    public var stored: [UInt8] {
        var json: JSONWriter
        switch self {
        case .article(let article):
            json = JSONWriter(capacity: 256 + article.title.utf8.count + article.paragraphs.reduce(0) { $0 + $1.utf8.count + 3 })
        case .comment(let comment):
            json = JSONWriter(capacity: 256 + comment.articleTitle.utf8.count + comment.text.utf8.count)
        }
        write(to: &json)
        return json.bytes
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            switch self {
            case .article(let article):
                json.member("kind", DocumentKind.article.rawValue)
                json.key("article")
                article.write(to: &json)
            case .comment(let comment):
                json.member("kind", DocumentKind.comment.rawValue)
                json.key("comment")
                comment.write(to: &json)
            }
        }
    }
}

extension ArticleRecord {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("id", id)
            json.member("title", title)
            json.key("paragraphs")
            json.array(paragraphs) { json, paragraph in json.string(paragraph) }
            json.member("author", author)
            json.member("url", url)
            json.member("published", published)
            json.member("source", source)
            json.member("file", file)
            json.member("commentCount", commentCount)
            json.key("comments")
            json.array(comments) { json, comment in comment.write(to: &json) }
        }
    }
}

extension CommentRecord {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("id", id)
            json.member("article", article)
            json.member("articleTitle", articleTitle)
            json.member("author", author)
            json.member("text", text)
            json.member("published", published)
            if let duplicates {
                json.key("duplicates")
                duplicates.write(to: &json)
            }
            if let cluster {
                json.key("cluster")
                cluster.write(to: &json)
            }
        }
    }
}

extension DuplicateInfo {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("accounts", accounts)
            json.member("articles", articles)
            json.member("copies", copies)
        }
    }
}

extension ClusterInfo {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("id", id)
            json.member("size", size)
            json.member("accounts", accounts)
            json.member("variants", variants)
            json.member("similarity", similarity)
        }
    }
}
