import Foundation
import QuarryProtocol
import Testing
import XapianKit

/// Where `CLITests.sharedIndex` lives; removed when the test process exits,
/// since the tests that share it run in parallel and none knows it is the last.
private let sharedIndexDirectory = FileManager.default.temporaryDirectory.path + "/quarry-e2e-shared-" + UUID().uuidString

/// The built `quarry` binary on the sample corpus, checked the way a user
/// would: exit status, stdout, stderr, and the documented JSON shapes.
@Suite struct CLITests {
    /// Corpus/ indexed once by the binary for the tests that only read it.
    static let sharedIndex: Result<String, TestFailure> = {
        do {
            try FileManager.default.createDirectory(atPath: sharedIndexDirectory, withIntermediateDirectories: true)
            atexit { try? FileManager.default.removeItem(atPath: sharedIndexDirectory) }
            _ = try succeed("quarry", "index", sampleCorpus, "--index", sharedIndexDirectory + "/index")
            return .success(sharedIndexDirectory + "/index")
        } catch let error as TestFailure {
            return .failure(error)
        } catch {
            return .failure(TestFailure(description: "\(error)"))
        }
    }()

    /// What Corpus/ holds, counted from the files themselves.
    static func corpusCounts() throws -> (articles: Int, comments: Int) {
        let files = textFiles(under: sampleCorpus)
        let comments = try files.reduce(0) { $0 + (try PlainArticle(path: sampleCorpus + "/" + $1)).comments.count }
        return (files.count, comments)
    }

    @Test func indexPrintsASummaryAndASecondRunFindsNothingToDo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (articles, comments) = try Self.corpusCounts()
        let first = try succeed("quarry", "index", sampleCorpus, "--index", directory.path + "/index")
        #expect(first.output.contains("\(articles) scanned, \(articles) indexed, 0 unchanged"))
        #expect(first.output.contains("\(articles) articles, \(comments) comments, 0 warnings"))
        #expect(!first.stderr.contains("warning"))
        let second = try succeed("quarry", "index", sampleCorpus, "--index", directory.path + "/index")
        #expect(second.output.contains("0 indexed, \(articles) unchanged, 0 removed"))
        #expect(second.output.contains("index:     \(articles) articles, \(comments) comments"))
    }

    @Test func searchJSONDecodesToASearchResponse() throws {
        let index = try Self.sharedIndex.get()
        let response = try succeed("quarry", "search", "diplomacy", "--index", index, "--json", "--limit", "50")
            .decode(SearchResponse.self)
        #expect(response.query == "diplomacy")
        #expect(response.revision >= 1)
        #expect(response.offset == 0)
        #expect(!response.hits.isEmpty && response.hits.count <= 50)
        #expect(response.total >= response.hits.count)
        #expect(response.hits.map(\.rank) == Array(1...response.hits.count))
        #expect(response.hits.allSatisfy { $0.snippet.contains("<mark>") })
        // Scores fall with rank.
        #expect(zip(response.hits, response.hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        let comment = try #require(response.hits.first { $0.kind == .comment })
        #expect(comment.id.hasPrefix((comment.article ?? "?") + "#"))
        let article = try #require(response.hits.first { $0.kind == .article })
        #expect(article.article == nil)
        #expect(FileManager.default.fileExists(atPath: sampleCorpus + "/" + article.id + ".txt"))
        #expect(try PlainArticle(path: sampleCorpus + "/" + article.id + ".txt").title == article.title)
    }

    @Test func searchFiltersAndPagesFromTheCommandLine() throws {
        let index = try Self.sharedIndex.get()
        let comments = try succeed("quarry", "search", "sanctions", "--index", index, "--json", "--type", "comment", "--limit", "3")
            .decode(SearchResponse.self)
        #expect(comments.hits.count == 3)
        #expect(comments.hits.allSatisfy { $0.kind == .comment })
        let next = try succeed("quarry", "search", "sanctions", "--index", index, "--json", "--type", "comment", "--limit", "3", "--offset", "3")
            .decode(SearchResponse.self)
        #expect(next.hits.map(\.rank) == [4, 5, 6])
        #expect(Set(next.hits.map(\.id)).isDisjoint(with: comments.hits.map(\.id)))
        let byAuthor = try succeed("quarry", "search", "sanctions", "--index", index, "--json", "--author", "golova hvosta")
            .decode(SearchResponse.self)
        #expect(!byAuthor.hits.isEmpty && byAuthor.hits.allSatisfy { $0.author == "Golova Hvosta" })
    }

    @Test func searchTextOutputShowsTitlesMarkedWordsAndTheTotal() throws {
        let index = try Self.sharedIndex.get()
        let result = try succeed("quarry", "search", "referee", "--index", index)
        // Not a terminal: matches are bracketed, not bold, and there are no escape codes.
        #expect(result.output.contains("[referee]"))
        #expect(!result.output.contains("\u{1B}["))
        #expect(result.output.contains("Cup Final"))
        #expect(result.output.contains("Results 1–"))
        let none = try succeed("quarry", "search", "zyzzyvaquux", "--index", index)
        #expect(none.output.contains("No results for \"zyzzyvaquux\""))
    }

    @Test func aQuerySyntaxErrorExitsWithStatus2AndQuotesTheQuery() throws {
        let index = try Self.sharedIndex.get()
        for query in ["foo AND", "(foo AND"] {
            let result = try run("quarry", "search", query, "--index", index)
            #expect(result.status == 2, "\(query)")
            #expect(result.stderr.contains("\"\(query)\""))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func getPrintsAnArticleWithItsCommentsInOrder() throws {
        let index = try Self.sharedIndex.get()
        let id = "world/north-korea-military-delegation-russia"
        let file = try PlainArticle(path: sampleCorpus + "/" + id + ".txt")
        let record = try succeed("quarry", "get", id, "--index", index, "--json").decode(DocumentRecord.self)
        guard case .article(let article) = record else {
            Issue.record("\(id) came back as \(record)")
            return
        }
        #expect(article.id == id && article.title == file.title)
        #expect(article.comments.map(\.id) == (1...file.comments.count).map { "\(id)#\($0)" })
        #expect(article.comments.map(\.author) == file.comments.map(\.author))
        #expect(article.comments.map(\.text) == file.comments.map(\.text))

        let text = try succeed("quarry", "get", id, "--index", index).output
        #expect(text.hasPrefix(file.title))
        #expect(text.contains("\(file.comments.count) comments"))
        #expect(text.contains("posted verbatim by 2 accounts"))
    }

    @Test func getOfACommentAndOfAnUnknownId() throws {
        let index = try Self.sharedIndex.get()
        let record = try succeed("quarry", "get", "world/north-korea-military-delegation-russia#2", "--index", index, "--json")
            .decode(DocumentRecord.self)
        guard case .comment(let comment) = record else {
            Issue.record("came back as \(record)")
            return
        }
        #expect(comment.author == "Golova Hvosta")
        #expect(comment.duplicates?.accounts == 2)
        let missing = try run("quarry", "get", "world/no-such-story", "--index", index)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("world/no-such-story"))
    }

    @Test func statsJSONCountsWhatTheCorpusHolds() throws {
        let index = try Self.sharedIndex.get()
        let (articles, comments) = try Self.corpusCounts()
        let stats = try succeed("quarry", "stats", "--index", index, "--json").decode(IndexStats.self)
        #expect(stats.articles == articles)
        #expect(stats.comments == comments)
        #expect(stats.documents == articles + comments)
        #expect(stats.files == articles)
        #expect(stats.revision >= 1)
        #expect(stats.sizeBytes > 0)
        #expect(stats.language == "english")
        #expect(!stats.xapianVersion.isEmpty)
        let text = try succeed("quarry", "stats", "--index", index).output
        #expect(text.contains("\(articles) articles, \(comments) comments"))
    }

    @Test func aMissingIndexIsAClearError() throws {
        let result = try run("quarry", "search", "anything", "--index", "/nonexistent/quarry-index")
        #expect(result.status == 1)
        #expect(result.stderr.contains("no index at '/nonexistent/quarry-index'"))
        #expect(result.stderr.contains("quarry index"))
    }

    @Test func aSecondWriterIsRefusedWithAClearMessage() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let index = directory.path + "/index"
        let holder = try WritableDatabase(path: index)
        let result = try run("quarry", "index", sampleCorpus, "--index", index)
        #expect(result.status == 1)
        #expect(result.stderr.contains("being written by another process"))
        try holder.close()
        _ = try succeed("quarry", "index", sampleCorpus, "--index", index)
    }

    /// `--no-near-duplicates` from the command line: exact groups listed,
    /// clusters refused with the reason, stats saying so, and a later
    /// `--near-duplicates` refused with the way out.
    @Test func anIndexBuiltWithoutNearDuplicatesSaysSoEverywhere() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let index = directory.path + "/index"
        _ = try succeed("quarry", "index", sampleCorpus, "--index", index, "--no-near-duplicates")
        #expect(try succeed("quarry", "duplicates", "--index", index).output.contains("These sanctions only hurt ordinary people"))
        let near = try run("quarry", "duplicates", "--index", index, "--near")
        #expect(near.status != 0 && near.stderr.contains("built without near-duplicate detection"))
        #expect(try succeed("quarry", "stats", "--index", index, "--json").decode(IndexStats.self).nearDuplicates == false)
        let change = try run("quarry", "index", sampleCorpus, "--index", index, "--near-duplicates")
        #expect(change.status != 0 && change.stderr.contains("index into a new directory"))
        let both = try run("quarry", "index", sampleCorpus, "--index", directory.path + "/other", "--no-near-duplicates", "--near-threshold", "0.5")
        #expect(both.status != 0 && both.stderr.contains("--near-threshold"))
    }
}
