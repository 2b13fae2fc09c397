import Foundation
@testable import QuarryCore
import QuarryProtocol
import Testing

/// Inputs found by fuzzing and fault testing (docs/RELIABILITY.md): each gets
/// an error value or a warning, never a trap, and nothing indexed is lost.
@Suite struct HardeningTests {
    /// `offset + limit` trapped on overflow: one request with a huge offset
    /// took the daemon down (found while writing the protocol fuzz target).
    @Test(arguments: [Int.max, Int.max - 5, 1 << 62])
    func aHugeOffsetIsRefusedNotAddedTo(offset: Int) throws {
        let limits = SearchLimits()
        #expect(throws: QuarryError.self) { try limits.validate(SearchRequest(query: "x", offset: offset)) }
        #expect(throws: QuarryError.self) { try limits.validate(SimilarRequest(id: "x", offset: offset)) }
        let searcher = try Searcher(indexPath: try sharedCorpusIndex.get())
        do {
            _ = try searcher.search(SearchRequest(query: "diplomacy", offset: offset))
            Issue.record("an offset of \(offset) was accepted")
        } catch {
            #expect(error.code == .invalidRequest)
            #expect(error.message.contains("offset + limit must be at most 100000"))
        }
        do {
            _ = try searcher.similar(SimilarRequest(id: "world/north-korea-military-delegation-russia", offset: offset))
            Issue.record("an offset of \(offset) was accepted")
        } catch {
            #expect(error.code == .invalidRequest)
        }
    }

    @Test func theDeepestPageStillWorks() throws {
        let limits = SearchLimits()
        try limits.validate(SearchRequest(query: "x", offset: 99_990, limit: 10))
        #expect(throws: QuarryError.self) { try limits.validate(SearchRequest(query: "x", offset: 99_991, limit: 10)) }
        #expect(throws: QuarryError.self) { try limits.validate(SearchRequest(query: "x", limit: 0)) }
        #expect(throws: QuarryError.self) { try limits.validate(DuplicatesRequest(offset: -1)) }
    }

    /// A file deleted while a run is under way, after its directory was listed
    /// and before the walk reached it: a warning naming it, the rest indexed,
    /// and the file taken out of the index, since it is gone.
    @Test func aFileThatVanishesDuringARunIsAWarningAndLeavesTheIndex() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus"
        for name in ["a", "b", "c"] {
            try directory.write("corpus/\(name).txt", "Title \(name)\nBody of \(name)\n1 Comment\nAnn\nComment on \(name)\n")
        }
        let index = directory.path + "/index"
        #expect(try QuarryCoreTests.index(corpus, into: index).summary.totalArticles == 3)

        // Change all three so each must be read again, then delete b.txt once a.txt is done.
        for name in ["a", "b", "c"] {
            try directory.write("corpus/\(name).txt", "New title \(name)\nNew body\n2 Comments\nAnn\nOne\nBob\nTwo\n")
        }
        var warnings: [CorpusWarning] = []
        let summary = try Indexer.run(
            corpus: corpus, index: index, logger: quietLogger, onWarning: { warnings.append($0) },
            onProgress: { progress in
                if progress.filesDone == 1 { try? FileManager.default.removeItem(atPath: corpus + "/b.txt") }
            })
        #expect(warnings.count == 1)
        #expect(warnings.first?.file == "b.txt")
        #expect(warnings.first?.message.contains("No such file") == true, "\(warnings)")
        #expect(summary.filesIndexed == 2 && summary.filesRemoved == 1)
        #expect(summary.totalArticles == 2 && summary.totalComments == 4)
        let searcher = try Searcher(indexPath: index)
        #expect(throws: QuarryError.self) { try searcher.get(id: "b") }
        guard case .article(let changed) = try searcher.get(id: "c") else { throw QuarryError(.notFound, "c") }
        #expect(changed.title == "New title c")
    }

    /// One article with many comments is written one document at a time.
    @Test func anArticleWithManyCommentsIsIndexedWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let count = 3000
        var text = "A long thread\nBody\n\(count) Comments\n"
        for number in 0..<count { text += "Reader \(number % 97)\nComment \(number) says \(String(number, radix: 7)) things\n" }
        try directory.write("corpus/thread.txt", text)
        let summary = try QuarryCoreTests.index(directory.path + "/corpus", into: directory.path + "/index", batch: 500).summary
        #expect(summary.totalArticles == 1 && summary.totalComments == count)
        let searcher = try Searcher(indexPath: directory.path + "/index")
        guard case .comment(let last) = try searcher.get(id: "thread#\(count)") else { throw QuarryError(.notFound, "last") }
        #expect(last.text == "Comment \(count - 1) says \(String(count - 1, radix: 7)) things")
    }
}
