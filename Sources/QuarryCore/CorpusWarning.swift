/// Something odd in a corpus file: reported, never fatal. The rest of the file
/// is still indexed.
public struct CorpusWarning: Sendable, Equatable, CustomStringConvertible {
    /// Path relative to the corpus root.
    public var file: String
    /// 1-based line, when the problem has one.
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// What reading one corpus file gave.
public struct ParsedFile: Sendable {
    public var articles: [Article]
    public var warnings: [CorpusWarning]

    public init(articles: [Article], warnings: [CorpusWarning]) {
        self.articles = articles
        self.warnings = warnings
    }
}
