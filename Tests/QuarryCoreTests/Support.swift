import Foundation
import Logging
@testable import QuarryCore
import QuarryProtocol

/// A fresh directory under the system's temporary directory, removed when the
/// test that made it is done (`defer { directory.remove() }`).
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "quarry-core") throws {
        path = FileManager.default.temporaryDirectory.path + "/\(label)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` to `relativePath`, creating its directories.
    @discardableResult
    func write(_ relativePath: String, _ contents: String) throws -> String {
        try write(relativePath, Array(contents.utf8))
    }

    @discardableResult
    func write(_ relativePath: String, _ bytes: [UInt8]) throws -> String {
        let path = self.path + "/" + relativePath
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// The repository's sample corpus, found from this file's path.
let corpusRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    // Tests/QuarryCoreTests/Support.swift → the repository root.
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/Corpus"
}()

let quietLogger: Logger = {
    var logger = Logger(label: "quarry.tests")
    logger.logLevel = .critical
    return logger
}()

/// Indexes `corpus` into `index`, collecting the warnings.
@discardableResult
func index(_ corpus: String, into index: String, batch: Int = 20_000) throws -> (summary: IndexSummary, warnings: [CorpusWarning]) {
    var warnings: [CorpusWarning] = []
    let summary = try Indexer.run(
        corpus: corpus, index: index, options: IndexOptions(batchDocuments: batch), logger: quietLogger,
        onWarning: { warnings.append($0) })
    return (summary, warnings)
}

/// Where `sharedCorpusIndex` lives; removed when the test process exits, since
/// the tests that share it run in parallel and none of them knows it is the last.
private let sharedCorpusIndexDirectory = FileManager.default.temporaryDirectory.path + "/quarry-corpus-index-" + UUID().uuidString

/// Corpus/ indexed once for all the search tests (they only read it).
let sharedCorpusIndex: Result<String, QuarryError> = {
    do {
        try FileManager.default.createDirectory(atPath: sharedCorpusIndexDirectory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: sharedCorpusIndexDirectory) }
        try index(corpusRoot, into: sharedCorpusIndexDirectory + "/index")
        return .success(sharedCorpusIndexDirectory + "/index")
    } catch let error as QuarryError {
        return .failure(error)
    } catch {
        return .failure(QuarryError(.io, "\(error)"))
    }
}()

/// The sample corpus as the readers see it, independently of any index: what
/// a search over it ought to find.
struct CorpusText {
    struct Document {
        let id: String
        let kind: DocumentKind
        let author: String?
        /// What free-text search covers: title and paragraphs, or comment text.
        let text: String
    }

    let articles: [Article]
    let documents: [Document]

    static let shared: CorpusText = {
        var articles: [Article] = []
        let enumerator = FileManager.default.enumerator(atPath: corpusRoot)
        while let relative = enumerator?.nextObject() as? String {
            guard let format = CorpusFormat(fileName: relative),
                  let data = FileManager.default.contents(atPath: corpusRoot + "/" + relative) else { continue }
            articles += format.read(Array(data), relativePath: relative).articles
        }
        articles.sort { $0.id < $1.id }
        var documents: [Document] = []
        for article in articles {
            documents.append(Document(
                id: article.id, kind: .article, author: article.author,
                text: ([article.title] + article.paragraphs).joined(separator: "\n")))
            for (index, comment) in article.comments.enumerated() {
                documents.append(Document(id: article.commentID(index), kind: .comment, author: comment.author, text: comment.text))
            }
        }
        return CorpusText(articles: articles, documents: documents)
    }()

    /// Ids of the documents with a word matching `pattern` (a regular
    /// expression for one word, matched case-insensitively).
    func ids(withWord pattern: String) throws -> Set<String> {
        let regex = try NSRegularExpression(pattern: "(?<![\\p{L}\\p{N}])(\(pattern))(?![\\p{L}\\p{N}])", options: [.caseInsensitive])
        return Set(documents.filter { document in
            let range = NSRange(document.text.startIndex..., in: document.text)
            return regex.firstMatch(in: document.text, range: range) != nil
        }.map(\.id))
    }
}
