/// The file formats a corpus may hold, chosen by extension.
public enum CorpusFormat: String, Sendable, CaseIterable {
    case text = "txt"
    case json = "json"
    case jsonLines = "jsonl"

    /// The format for a file name, or nil for files Quarry skips.
    public init?(fileName: String) {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return nil }
        self.init(rawValue: fileName[fileName.index(after: dot)...].lowercased())
    }

    /// Reads one file's bytes. `relativePath` names the file in warnings and,
    /// without its extension, is the default article id.
    public func read(_ bytes: [UInt8], relativePath: String) -> ParsedFile {
        let id = Self.articleID(forRelativePath: relativePath)
        switch self {
        case .text: return TextArticleReader.read(bytes, id: id, file: relativePath)
        case .json: return JSONArticleReader.readObject(bytes, defaultID: id, file: relativePath)
        case .jsonLines: return JSONArticleReader.readLines(bytes, defaultID: id, file: relativePath)
        }
    }

    /// Reads one file's bytes, handing each article to `body` as it is read
    /// (a `.jsonl` file line by line); returns the warnings.
    public func forEachArticle(in bytes: [UInt8], relativePath: String, _ body: (Article) throws -> Void) rethrows -> [CorpusWarning] {
        guard self == .jsonLines else {
            let parsed = read(bytes, relativePath: relativePath)
            try parsed.articles.forEach(body)
            return parsed.warnings
        }
        return try JSONArticleReader.forEachLine(bytes, defaultID: Self.articleID(forRelativePath: relativePath), file: relativePath, body)
    }

    /// `world/korea.txt` → `world/korea`.
    public static func articleID(forRelativePath path: String) -> String {
        let nameStart = path.lastIndex(of: "/").map(path.index(after:)) ?? path.startIndex
        guard let dot = path[nameStart...].lastIndex(of: "."), dot > nameStart else { return path }
        return String(path[..<dot])
    }
}
