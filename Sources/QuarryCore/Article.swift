/// A news article with its reader comments, as read from the corpus.
public struct Article: Sendable, Equatable {
    /// Stable public id: the file's path relative to the corpus root without its
    /// extension, or the JSON `id`.
    public var id: String
    public var title: String
    public var paragraphs: [String]
    public var author: String?
    public var url: String?
    public var published: PublishedDate?
    public var source: String?
    public var comments: [Comment]

    public init(id: String, title: String, paragraphs: [String], author: String? = nil, url: String? = nil,
                published: PublishedDate? = nil, source: String? = nil, comments: [Comment] = []) {
        self.id = id
        self.title = title
        self.paragraphs = paragraphs
        self.author = author
        self.url = url
        self.published = published
        self.source = source
        self.comments = comments
    }

    /// The bytes of text of one of its documents: 0 is the article (title and
    /// paragraphs), k its k-th comment, in the order DocumentBuilder makes them.
    func textBytes(ofDocument position: Int) -> Int {
        guard position > 0 else { return paragraphs.reduce(title.utf8.count) { $0 + $1.utf8.count } }
        return comments[position - 1].text.utf8.count
    }

    /// Comment k (1-based) of article X has the id `X#k`.
    public func commentID(_ index: Int) -> String { "\(id)#\(index + 1)" }
}

/// One reader comment.
public struct Comment: Sendable, Equatable {
    public var author: String
    public var text: String
    public var published: PublishedDate?

    public init(author: String, text: String, published: PublishedDate? = nil) {
        self.author = author
        self.text = text
        self.published = published
    }
}

/// A publication date or time, kept as ISO 8601 text.
///
/// Accepts `YYYY-MM-DD` and `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`; the day is
/// what date ranges filter on, `sortKey` (the instant in UTC) what date sorting orders by.
public struct PublishedDate: Sendable, Equatable, Hashable {
    /// As given, e.g. `2024-07-02T09:30:00Z`.
    public let iso: String
    /// `YYYYMMDD`, the form Xapian's date ranges compare.
    public let day: String

    public init?(_ text: String) {
        let text = text.trimmingWhitespace()
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? { Self.number(bytes, range) }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = digits(0..<4), let month = digits(5..<7), let dayOfMonth = digits(8..<10),
              (1...12).contains(month), (1...31).contains(dayOfMonth), year >= 1000
        else { return nil }
        if bytes.count > 10 {
            // A time part must at least hold THH:MM.
            guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
                  let hour = digits(11..<13), bytes.count >= 16, bytes[13] == UInt8(ascii: ":"),
                  let minute = digits(14..<16), hour < 24, minute < 60
            else { return nil }
        }
        iso = text
        day = String(text.prefix(4)) + String(text.dropFirst(5).prefix(2)) + String(text.dropFirst(8).prefix(2))
    }
}

extension String {
    /// Trims ASCII and Unicode white space at both ends.
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }
}

extension PublishedDate {
    /// The decimal number written in `bytes[range]`; nil unless all digits.
    static func number(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[range] {
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
}
