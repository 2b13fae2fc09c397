/// Reads the plain-text article format (docs/FORMAT.md):
///
///     Title
///     Body paragraph, one per line
///     N Comments
///     Author
///     Comment text
///     …
///
/// It never fails: whatever can be read is returned, and every oddity becomes a
/// warning naming the file and line.
public enum TextArticleReader {
    /// One non-blank line with its 1-based line number in the file.
    struct Line {
        let number: Int
        let text: String
    }

    public static func read(_ bytes: [UInt8], id: String, file: String) -> ParsedFile {
        var warnings: [CorpusWarning] = []
        let lines = decodeLines(bytes, file: file, warnings: &warnings)
        guard let titleLine = lines.first else {
            warnings.append(CorpusWarning(file: file, line: nil, message: "the file is empty (no title); nothing indexed"))
            return ParsedFile(articles: [], warnings: warnings)
        }
        let rest = lines.dropFirst()
        var article = Article(id: id, title: titleLine.text, paragraphs: [])

        guard let header = findHeader(in: Array(rest)) else {
            article.paragraphs = rest.map(\.text)
            warnings.append(CorpusWarning(
                file: file, line: nil,
                message: "no 'N Comments' line; indexed as an article without comments"))
            return ParsedFile(articles: [article], warnings: warnings)
        }
        let body = rest.prefix(header.position)
        let pairs = Array(rest.dropFirst(header.position + 1))
        article.paragraphs = body.map(\.text)

        var index = 0
        while index + 1 < pairs.count {
            article.comments.append(Comment(author: pairs[index].text, text: pairs[index + 1].text))
            index += 2
        }
        if index < pairs.count {
            let odd = pairs[index]
            warnings.append(CorpusWarning(
                file: file, line: odd.number,
                message: "commenter '\(odd.text)' has no comment text after it; line ignored"))
        }
        if article.comments.count != header.count {
            warnings.append(CorpusWarning(
                file: file, line: header.line,
                message: "the header says \(header.count) comment\(header.count == 1 ? "" : "s") but \(article.comments.count) follow; indexed the \(article.comments.count) found"))
        }
        return ParsedFile(articles: [article], warnings: warnings)
    }

    /// Splits on LF, CRLF and CR; drops a BOM, NUL bytes and blank lines;
    /// repairs invalid UTF-8 with U+FFFD. Each repair is a warning.
    static func decodeLines(_ bytes: [UInt8], file: String, warnings: inout [CorpusWarning]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        var number = 1
        var index = start
        func emit(_ end: Int) {
            var slice = bytes[start..<end]
            if slice.contains(0) {
                warnings.append(CorpusWarning(file: file, line: number, message: "NUL bytes removed"))
                slice = ArraySlice(slice.filter { $0 != 0 })
            }
            var text: String
            if let valid = String(validating: slice, as: UTF8.self) {
                text = valid
            } else {
                warnings.append(CorpusWarning(
                    file: file, line: number,
                    message: "invalid UTF-8; the bad bytes were replaced by U+FFFD"))
                text = String(decoding: slice, as: UTF8.self)
            }
            text = text.trimmingWhitespace()
            if !text.isEmpty { lines.append(Line(number: number, text: text)) }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                emit(index)
                if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                number += 1
                start = index + 1
            }
            index += 1
        }
        if start < bytes.count { emit(bytes.count) }
        return lines
    }

    struct Header {
        /// Index in the lines after the title.
        let position: Int
        let line: Int
        let count: Int
    }

    /// The comments header: the last `N Comment(s)` line followed by exactly N
    /// author/text pairs; failing that (a miscounted file), the first such line.
    static func findHeader(in lines: [Line]) -> Header? {
        var candidates: [Header] = []
        for (position, line) in lines.enumerated() {
            if let count = headerCount(line.text) {
                candidates.append(Header(position: position, line: line.number, count: count))
            }
        }
        if let exact = candidates.last(where: { lines.count - $0.position - 1 == 2 * $0.count }) {
            return exact
        }
        return candidates.first
    }

    /// `12 Comments`, `1 comment`, `0 COMMENTS` → the number.
    static func headerCount(_ text: String) -> Int? {
        // Every line of a file is asked; almost none is a header. A header ends
        // with "comment" or "comments" in ASCII letters of any case (no other
        // character lower-cases to one of those), so look at the last bytes
        // before splitting the line into Characters, which is what cost the
        // indexer 13% of its instructions (docs/PERFORMANCE.md).
        guard endsWithCommentWord(text.utf8) else { return nil }
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let count = Int(parts[0]), count >= 0 else { return nil }
        let word = parts[1].lowercased()
        return word == "comments" || word == "comment" ? count : nil
    }

    /// Whether `bytes` end with "comment" or "comments", ASCII case-insensitive.
    static func endsWithCommentWord(_ bytes: String.UTF8View) -> Bool {
        var tail = bytes.reversed().makeIterator()
        var expected = Array("comment".utf8.reversed())
        guard let last = tail.next() else { return false }
        if last | 0x20 == UInt8(ascii: "s") {
            // "comments": the rest must be "comment".
        } else if last | 0x20 == expected[0] {
            expected.removeFirst()
        } else {
            return false
        }
        for letter in expected {
            guard let byte = tail.next(), byte | 0x20 == letter else { return false }
        }
        return true
    }
}
