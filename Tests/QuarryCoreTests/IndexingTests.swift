import Foundation
import Testing
@testable import QuarryCore
import QuarryProtocol

/// Indexing runs over real corpus directories: what is re-read, what is
/// deleted, what a malformed file gives, and who may write.
@Suite struct IndexingTests {
    /// A three-article corpus in a fresh directory, with its index path.
    struct Fixture {
        let corpus: TemporaryDirectory
        let index: String

        init() throws {
            corpus = try TemporaryDirectory("quarry-incremental")
            index = corpus.path + ".index"
            try corpus.write("harbour.txt", Self.article(title: "Harbour reopens", body: "The harbour reopened after the storm.", comments: [
                ("Ann", "Good news for the fishermen."), ("Bob", "About time."), ("Cleo", "The storm wall held."),
            ]))
            try corpus.write("world/floods.txt", Self.article(title: "Floods in the valley", body: "The river burst its banks.", comments: [
                ("Dan", "Stay safe."),
            ]))
            try corpus.write("world/talks.txt", Self.article(title: "Talks resume", body: "Negotiators met again in Geneva.", comments: []))
        }

        func remove() {
            corpus.remove()
            try? FileManager.default.removeItem(atPath: index)
        }

        static func article(title: String, body: String, comments: [(String, String)]) -> String {
            var text = "\(title)\n\(body)\n\(comments.count) Comment\(comments.count == 1 ? "" : "s")\n"
            for (author, comment) in comments { text += "\(author)\n\(comment)\n" }
            return text
        }

        /// Rewrites a file with a clearly different modification time, so the
        /// change is seen however coarse the file system's clock is.
        func rewrite(_ relativePath: String, _ contents: String) throws {
            let path = try corpus.write(relativePath, contents)
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: path)
        }

        func run() throws -> IndexSummary { try QuarryCoreTests.index(corpus.path, into: index).summary }

        func searcher() throws -> Searcher { try Searcher(indexPath: index) }

        func ids(_ query: String) throws -> Set<String> {
            Set(try searcher().search(SearchRequest(query: query, limit: 1000, checkAtLeast: 10_000)).hits.map(\.id))
        }
    }

    @Test func firstRunIndexesEverythingAndReportsIt() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let summary = try fixture.run()
        #expect(summary.filesScanned == 3 && summary.filesIndexed == 3 && summary.filesUnchanged == 0)
        #expect(summary.articlesIndexed == 3 && summary.commentsIndexed == 4)
        #expect(summary.totalArticles == 3 && summary.totalComments == 4)
        #expect(summary.warnings == 0)
        #expect(try fixture.ids("harbour") == ["harbour"])
        #expect(try fixture.ids("storm") == ["harbour", "harbour#3"])
    }

    @Test func aFileOfMoreDocumentsThanABatchIsCommittedInParts() throws {
        let corpus = try TemporaryDirectory("quarry-big-file")
        let path = corpus.path + ".index"
        defer {
            corpus.remove()
            try? FileManager.default.removeItem(atPath: path)
        }
        let comments = (0..<35).map { ("Reader \($0)", "Comment number \($0) on the long thread.") }
        try corpus.write("thread.txt", Fixture.article(title: "A long thread", body: "Body.", comments: comments))
        let whole = try QuarryCoreTests.index(corpus.path, into: path + "-whole").summary
        defer { try? FileManager.default.removeItem(atPath: path + "-whole") }
        let parts = try QuarryCoreTests.index(corpus.path, into: path, batch: 10).summary
        // 36 documents in batches of 10: three commits inside the file, then the last
        // with its signature (and the recount), where one batch makes one commit.
        #expect(parts.revision >= whole.revision + 3)
        #expect(parts.totalArticles == 1 && parts.totalComments == 35)
        #expect(try Searcher(indexPath: path).database.metadataKeys(prefix: IndexSchema.Metadata.filePrefix).count == 1)
    }

    /// Xapian's memory until a commit follows the text, not the document count:
    /// a few long articles pass the byte limit long before the document limit.
    @Test func aFileOfMoreTextThanABatchIsCommittedInParts() throws {
        let corpus = try TemporaryDirectory("quarry-long-articles")
        let path = corpus.path + ".index"
        defer {
            corpus.remove()
            try? FileManager.default.removeItem(atPath: path)
        }
        let paragraph = String(repeating: "A long paragraph of plain words. ", count: 100)
        let lines = (0..<8).map { #"{"id":"long/\#($0)","title":"Long article \#($0)","body":["\#(paragraph)"]}"# }
        try corpus.write("dump.jsonl", lines.joined(separator: "\n") + "\n")
        let whole = try Indexer.run(corpus: corpus.path, index: path + "-whole", logger: quietLogger)
        defer { try? FileManager.default.removeItem(atPath: path + "-whole") }
        // About 3,300 bytes an article: a 10,000-byte batch is full every three or four.
        let parts = try Indexer.run(corpus: corpus.path, index: path, options: IndexOptions(batchBytes: 10_000), logger: quietLogger)
        #expect(parts.revision >= whole.revision + 2)
        #expect(parts.totalArticles == 8 && whole.totalArticles == 8)
    }

    @Test func touchingNothingReindexesNothing() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let first = try fixture.run()
        let second = try fixture.run()
        #expect(second.filesScanned == 3)
        #expect(second.filesIndexed == 0 && second.filesUnchanged == 3 && second.filesRemoved == 0)
        #expect(second.articlesIndexed == 0 && second.commentsIndexed == 0)
        #expect(second.totalArticles == 3 && second.totalComments == 4)
        // An empty commit may or may not move the revision; the documents did not change.
        #expect(second.revision >= first.revision)
        #expect(try fixture.searcher().stats().documents == 7)
    }

    @Test func aTouchedButUnchangedFileIsNotReindexed() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        _ = try fixture.run()
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 7200)],
                                              ofItemAtPath: fixture.corpus.path + "/world/talks.txt")
        let second = try fixture.run()
        #expect(second.filesIndexed == 0 && second.filesUnchanged == 3)
        // The new time is remembered: the next run does not even read the file.
        #expect(try fixture.run().filesUnchanged == 3)
    }

    @Test func editingOneFileReindexesOnlyIt() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        _ = try fixture.run()
        try fixture.rewrite("world/floods.txt", Fixture.article(
            title: "Floods recede in the valley", body: "The river is back within its banks; the cleanup begins.",
            comments: [("Dan", "Stay safe."), ("Eve", "Volunteers needed at the school.")]))
        let summary = try fixture.run()
        #expect(summary.filesIndexed == 1 && summary.filesUnchanged == 2)
        #expect(summary.articlesIndexed == 1 && summary.commentsIndexed == 2)
        #expect(summary.totalArticles == 3 && summary.totalComments == 5)
        #expect(try fixture.ids("cleanup") == ["world/floods"])
        #expect(try fixture.ids("volunteers") == ["world/floods#2"])
        #expect(try fixture.ids("burst").isEmpty)
        #expect(try fixture.ids("title:recede") == ["world/floods"])
    }

    @Test func deletingAFileRemovesItsArticleAndComments() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        _ = try fixture.run()
        try FileManager.default.removeItem(atPath: fixture.corpus.path + "/harbour.txt")
        let summary = try fixture.run()
        #expect(summary.filesRemoved == 1 && summary.filesUnchanged == 2 && summary.filesIndexed == 0)
        #expect(summary.totalArticles == 2 && summary.totalComments == 1)
        #expect(try fixture.ids("article:harbour").isEmpty)
        #expect(try fixture.ids("fishermen OR harbour OR storm").isEmpty)
        for id in ["harbour", "harbour#1", "harbour#3"] {
            let error = try #require(throws: QuarryError.self) { _ = try fixture.searcher().get(id: id) }
            #expect(error.code == .notFound)
        }
        let stats = try fixture.searcher().stats()
        #expect(stats.files == 2 && stats.documents == 3)
    }

    @Test func fewerCommentsLeaveNoOrphans() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        _ = try fixture.run()
        try fixture.rewrite("harbour.txt", Fixture.article(
            title: "Harbour reopens", body: "The harbour reopened after the storm.", comments: [("Ann", "Good news for the fishermen.")]))
        let summary = try fixture.run()
        #expect(summary.totalComments == 2)
        #expect(try fixture.ids("article:harbour") == ["harbour", "harbour#1"])
        #expect(try fixture.ids("\"storm wall\"").isEmpty)
        #expect(try fixture.ids("by:cleo").isEmpty)
        guard case .article(let article) = try fixture.searcher().get(id: "harbour") else {
            Issue.record("harbour is not an article")
            return
        }
        #expect(article.comments.map(\.id) == ["harbour#1"])
        #expect(article.commentCount == 1)
        #expect(throws: QuarryError.self) { _ = try fixture.searcher().get(id: "harbour#2") }
        #expect(try fixture.searcher().stats().documents == 5)
    }

    @Test func aSecondWriterIsToldTheIndexIsLocked() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        _ = try fixture.run()
        let holder = try IndexWriter(path: fixture.index, language: nil, lockWait: .none,
                                     batchDocuments: 100, batchBytes: 1 << 20, logger: quietLogger)
        defer { holder.close() }
        let error = try #require(throws: QuarryError.self) { _ = try fixture.run() }
        #expect(error.code == .indexLocked)
        #expect(error.message.contains(fixture.index))
        #expect(error.message.contains("another process"))
        #expect(error.message.contains("--wait"))
        // Readers are not writers: searching goes on while the lock is held.
        #expect(try fixture.ids("harbour") == ["harbour"])
    }

    @Test func aMalformedCorpusIsIndexedAsFarAsItCanBeRead() throws {
        let corpus = try TemporaryDirectory("quarry-malformed")
        let indexPath = corpus.path + ".index"
        defer {
            corpus.remove()
            try? FileManager.default.removeItem(atPath: indexPath)
        }
        try corpus.write("miscounted.txt", "Miscounted\nBody.\n5 Comments\nAnn\nOnly one here.\n")
        try corpus.write("odd.txt", "Odd ending\nBody.\n1 Comment\nAnn\nFine.\nDangling\n")
        try corpus.write("latin1.txt", Array("Latin one\nCaf".utf8) + [0xE9] + Array(" au lait.\n0 Comments\n".utf8))
        try corpus.write("nul.txt", Array("Nul bytes\nZero".utf8) + [0] + Array("width.\n0 Comments\n".utf8))
        try corpus.write("empty.txt", "")
        try corpus.write("headless.txt", "No header\nJust a body.\n")
        try corpus.write("bad.jsonl", "{\"title\": \"Good line\"}\n{\"title\": []}\n")
        try corpus.write("notes.md", "not read")

        let (summary, warnings) = try index(corpus.path, into: indexPath)
        #expect(summary.filesScanned == 7 && summary.filesSkipped == 1)
        #expect(summary.totalArticles == 6)
        #expect(summary.totalComments == 2)
        #expect(summary.warnings == warnings.count)
        let places = Set(warnings.map { "\($0.file):\($0.line.map(String.init) ?? "-")" })
        #expect(places == ["miscounted.txt:3", "odd.txt:6", "latin1.txt:2", "nul.txt:2", "empty.txt:-", "headless.txt:-", "bad.jsonl:2"])

        let searcher = try Searcher(indexPath: indexPath)
        func ids(_ query: String) throws -> Set<String> {
            Set(try searcher.search(SearchRequest(query: query)).hits.map(\.id))
        }
        #expect(try ids("only") == ["miscounted#1"])
        #expect(try ids("dangling").isEmpty)
        #expect(try ids("lait") == ["latin1"])
        #expect(try ids("zerowidth") == ["nul"])
        #expect(try ids("body") == ["headless", "miscounted", "odd"])
        #expect(try ids("\"good line\"") == ["bad:1"])
    }
}

/// The keys of file signatures, walked by directory prefix to find removed files.
struct FileKeyPrefixTests {
    /// A path too long for a key is cut and hashed; a directory prefix must still
    /// find it, however the cut falls between characters.
    @Test(arguments: ["a", "é", "語", "😀"])
    func everyFileUnderADirectoryHasAKeyStartingWithItsPrefix(character: String) {
        // Directories of 200 to 230 bytes, so the cut falls inside a character at
        // every offset; each prefix given must hold for every file under it.
        for length in 200...IndexSchema.maxTermBody {
            var directory = String(repeating: "x", count: length % character.utf8.count)
            while directory.utf8.count + character.utf8.count <= length { directory += character }
            let path = directory + String(repeating: character, count: 100)
            #expect(IndexSchema.metadataKey(forFile: path).hasPrefix(IndexSchema.metadataKeyPrefix(forFilesUnder: directory)),
                    "a directory of \(directory.utf8.count) bytes")
        }
        // Past the bound only the prefix of all files is sure.
        #expect(IndexSchema.metadataKeyPrefix(forFilesUnder: String(repeating: "a", count: 300)) == IndexSchema.Metadata.filePrefix)
    }
}
