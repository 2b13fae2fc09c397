import Foundation
import QuarryProtocol

/// Reads articles as JSON: a `.json` file holds one article object, a `.jsonl`
/// file one object per line (docs/FORMAT.md).
///
///     {"id": "wire/2024/ukraine-grain", "title": "…", "body": ["…", "…"],
///      "url": "https://…", "published": "2024-07-02", "source": "Wire",
///      "author": "…", "comments": [{"author": "…", "text": "…", "published": "…"}]}
///
/// `title` is required; `body` is a string (paragraphs split on line ends) or an
/// array of paragraphs. A bad object is skipped with a warning naming its line
/// and field; the other objects of a `.jsonl` file are still read.
public enum JSONArticleReader {
    struct RawComment: Decodable {
        var author: String?
        var text: String
        var published: String?
    }

    struct RawArticle: Decodable {
        var id: String?
        var title: String
        var body: Body?
        var url: String?
        var published: String?
        var source: String?
        var author: String?
        var comments: [RawComment]?
    }

    enum Body: Decodable {
        case text(String)
        case paragraphs([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .paragraphs(try container.decode([String].self))
            }
        }

        var paragraphs: [String] {
            switch self {
            case .text(let text): text.split(whereSeparator: \.isNewline).map { String($0).trimmingWhitespace() }
            case .paragraphs(let paragraphs): paragraphs.map { $0.trimmingWhitespace() }
            }
        }
    }

    /// A `.json` file: one article whose id defaults to `defaultID`.
    public static func readObject(_ bytes: [UInt8], defaultID: String, file: String) -> ParsedFile {
        var warnings: [CorpusWarning] = []
        let content = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        if content.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            warnings.append(CorpusWarning(file: file, line: nil, message: "the file is empty; nothing indexed"))
            return ParsedFile(articles: [], warnings: warnings)
        }
        let article = decode(content, defaultID: defaultID, file: file, line: nil, warnings: &warnings)
        return ParsedFile(articles: article.map { [$0] } ?? [], warnings: warnings)
    }

    /// A `.jsonl` file: an article per non-blank line; line k's id defaults to
    /// `defaultID:k`.
    public static func readLines(_ bytes: [UInt8], defaultID: String, file: String) -> ParsedFile {
        var articles: [Article] = []
        let warnings = forEachLine(bytes, defaultID: defaultID, file: file) { articles.append($0) }
        return ParsedFile(articles: articles, warnings: warnings)
    }

    /// A `.jsonl` file read a line at a time: each article goes to `body` as
    /// soon as it is decoded, so a file of any number of articles is never held
    /// parsed whole. Returns the warnings.
    static func forEachLine(
        _ bytes: [UInt8], defaultID: String, file: String, _ body: (Article) throws -> Void
    ) rethrows -> [CorpusWarning] {
        var warnings: [CorpusWarning] = []
        var articles = 0
        var number = 0
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            number += 1
            var line = bytes[start..<end]
            start = end + 1
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if let article = decode(Array(line), defaultID: "\(defaultID):\(number)", file: file, line: number, warnings: &warnings) {
                articles += 1
                try body(article)
            }
        }
        if articles == 0 && warnings.isEmpty {
            warnings.append(CorpusWarning(file: file, line: nil, message: "the file is empty; nothing indexed"))
        }
        return warnings
    }

    static func decode(_ bytes: [UInt8], defaultID: String, file: String, line: Int?, warnings: inout [CorpusWarning]) -> Article? {
        let raw: RawArticle
        do {
            raw = try JSONDecoder().decode(RawArticle.self, from: Data(bytes))
        } catch let error as DecodingError {
            warnings.append(CorpusWarning(file: file, line: line, message: error.fieldDescription + "; article skipped"))
            return nil
        } catch {
            warnings.append(CorpusWarning(file: file, line: line, message: "not valid JSON; article skipped"))
            return nil
        }
        func date(_ text: String?, field: String) -> PublishedDate? {
            guard let text else { return nil }
            if let date = PublishedDate(text) { return date }
            warnings.append(CorpusWarning(
                file: file, line: line,
                message: "field '\(field)': '\(text)' is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ); ignored"))
            return nil
        }
        let id = raw.id?.trimmingWhitespace() ?? ""
        let title = raw.title.trimmingWhitespace()
        if title.isEmpty {
            warnings.append(CorpusWarning(file: file, line: line, message: "field 'title' is empty; article skipped"))
            return nil
        }
        var comments: [Comment] = []
        for (index, comment) in (raw.comments ?? []).enumerated() {
            let text = comment.text.trimmingWhitespace()
            guard !text.isEmpty else {
                warnings.append(CorpusWarning(file: file, line: line, message: "field 'comments[\(index)].text' is empty; comment skipped"))
                continue
            }
            let author = comment.author?.trimmingWhitespace() ?? ""
            comments.append(Comment(
                author: author.isEmpty ? "anonymous" : author, text: text,
                published: date(comment.published, field: "comments[\(index)].published")))
        }
        return Article(
            id: id.isEmpty ? defaultID : id, title: title,
            paragraphs: (raw.body?.paragraphs ?? []).filter { !$0.isEmpty },
            author: raw.author.map { $0.trimmingWhitespace() }.flatMap { $0.isEmpty ? nil : $0 },
            url: raw.url, published: date(raw.published, field: "published"), source: raw.source,
            comments: comments)
    }
}
