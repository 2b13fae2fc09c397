import Foundation
import Testing
@testable import QuarryCore
import QuarryProtocol

/// Facets, collapse, date order and ranges, "did you mean", more like this,
/// the stemming language and CJK text.
@Suite struct SearchOptionTests {
    let corpus = CorpusText.shared

    func searcher() throws -> Searcher {
        try Searcher(indexPath: sharedCorpusIndex.get())
    }

    /// Queries whose matches a regular expression over the corpus files gives
    /// independently of the index (stemming included).
    static let independentQueries: [(query: String, word: String)] = [
        ("diplomacy", "diplomacy"), ("sanctions", "sanction(s|ed|ing)?"), ("referee", "referees?"),
        ("climate", "climate('s)?"), ("election", "elections?"),
    ]

    @Test(arguments: independentQueries)
    func facetCountsEqualCountsFromTheCorpusFiles(query: String, word: String) throws {
        let expected = try corpus.ids(withWord: word)
        #expect(expected.count >= 2, "\(query) should match a few documents")
        let response = try searcher().search(SearchRequest(query: query, limit: 1000, facets: [.author, .type], checkAtLeast: 100_000))
        #expect(Set(response.hits.map(\.id)) == expected, "\(query) must match what the files hold")

        let documents = corpus.documents.filter { expected.contains($0.id) }
        var authors: [String: Int] = [:]
        for case let author? in documents.map(\.author) { authors[author, default: 0] += 1 }
        var kinds: [String: Int] = [:]
        for document in documents { kinds[document.kind.rawValue, default: 0] += 1 }
        let facets = try #require(response.facets)
        #expect(Dictionary(uniqueKeysWithValues: try #require(facets["author"]).map { ($0.value, $0.count) }) == authors)
        #expect(Dictionary(uniqueKeysWithValues: try #require(facets["type"]).map { ($0.value, $0.count) }) == kinds)
        #expect(response.facetsExact == true)
        // Most frequent first.
        let counts = try #require(facets["author"]).map(\.count)
        #expect(counts == counts.sorted(by: >))
        // Without checkAtLeast a search with facets still counts a result set this small whole.
        let page = try searcher().search(SearchRequest(query: query, limit: 1, facets: [.author, .type]))
        #expect(page.facets == response.facets && page.facetsExact == true)
    }

    @Test func searchesWithColumnsAnswerAsSearchesWithoutAndFollowNewCommits() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", indexPath = directory.path + "/index"
        try FileManager.default.copyItem(atPath: corpusRoot, toPath: corpus)
        try index(corpus, into: indexPath)
        let columns = SearchColumns()
        let searcher = try Searcher(indexPath: indexPath, columns: columns)
        let request = SearchRequest(query: "the", limit: 1, facets: [.author, .type], checkAtLeast: 1_000_000)
        let withoutColumns = try searcher.search(request)
        // Each search goes without columns until they pay for themselves.
        var searches = 1
        let all: Set<SearchColumns.Kind> = [.lengths, .facet(slot: IndexSchema.Slot.author), .facet(slot: IndexSchema.Slot.kind)]
        while columns.kindsWithColumns != all && searches < 100 {
            #expect(try searcher.search(request).facets == withoutColumns.facets)
            searches += 1
        }
        #expect(columns.kindsWithColumns == all)
        #expect(try searcher.search(request).facets == withoutColumns.facets)
        #expect(try searcher.search(request).facetsExact == true)
        // Every kind of query, weighed by the length column (or, for a phrase
        // inside an OR, not), answers exactly as a searcher that has no columns.
        let fresh = try Searcher(indexPath: indexPath)
        for query in ["election", "climate sanctions", "referee OR diplomacy", "elect*", "\"the government\"",
                      "\"the government\" by:\"Ines Moreau\"", "\"the government\" OR climate",
                      "the NOT climate", "by:\"Ines Moreau\" the", "title:election OR the"] {
            for (sort, offset) in [(ResultOrder.relevance, 0), (.relevance, 3), (.date, 0)] {
                let asked = SearchRequest(query: query, offset: offset, limit: 8, sort: sort, facets: [.type])
                let answer = try searcher.search(asked)
                #expect(answer == (try fresh.search(asked)), "\(query), \(sort), offset \(offset)")
                if query == "election" && offset == 0 { #expect(answer.hits.count == 8) }
            }
        }

        // A commit: the columns no longer fit, and the counts include the new article.
        try directory.write("corpus/late/columns.txt", """
            The columns follow the index
            The new article arrives after the columns were built.
            1 Comments
            Zelda Newcomer
            And the comment counts in the facets at once.
            """)
        try index(corpus, into: indexPath)
        try searcher.refresh()
        let after = try searcher.search(request)
        #expect(after.facets?["author"]?.first { $0.value == "Zelda Newcomer" }?.count == 1)
        #expect(after.facets == (try Searcher(indexPath: indexPath).search(request).facets))
        let kinds = Dictionary(uniqueKeysWithValues: (withoutColumns.facets?["type"] ?? []).map { ($0.value, $0.count) })
        let kindsAfter = Dictionary(uniqueKeysWithValues: (after.facets?["type"] ?? []).map { ($0.value, $0.count) })
        #expect(kindsAfter["article"] == (kinds["article"] ?? 0) + 1)
        #expect(kindsAfter["comment"] == (kinds["comment"] ?? 0) + 1)
    }

    /// The daemon's threads share one `SearchColumns`, each with its own
    /// searcher: the same answers while the columns are built under them.
    @Test func searchersOnTwoThreadsShareTheirColumns() throws {
        let path = try sharedCorpusIndex.get()
        let columns = SearchColumns()
        let request = SearchRequest(query: "the", limit: 1, facets: [.author, .type], checkAtLeast: 1_000_000)
        let expected = try Searcher(indexPath: path).search(request)
        // An NSLock, which ThreadSanitizer sees, guards what the threads report.
        let lock = NSLock()
        nonisolated(unsafe) var answers: [Result<[SearchResponse], QuarryError>] = []
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let answer = Result { () throws(QuarryError) in
                let searcher = try Searcher(indexPath: path, columns: columns)
                return try (0..<60).map { (_) throws(QuarryError) in try searcher.search(request) }
            }
            lock.withLock { answers.append(answer) }
        }
        #expect(columns.kindsWithColumns == [.lengths, .facet(slot: IndexSchema.Slot.author), .facet(slot: IndexSchema.Slot.kind)])
        #expect(answers.count == 2)
        for answer in answers {
            let responses = try answer.get()
            #expect(responses.count == 60 && responses.allSatisfy { $0 == expected })
        }
    }

    @Test func facetsSayWhenTheyCountedOnlyPartOfTheMatches() throws {
        let (path, truth) = try plantedIndex.get()
        let searcher = try Searcher(indexPath: path)
        // A weighted query lets Xapian stop early. (Without weights every match ties,
        // and ordering ties by id makes it look at all of them.)
        let partial = try searcher.search(SearchRequest(query: "the OR and", limit: 1, facets: [.type], checkAtLeast: 10))
        #expect(partial.facetsExact == false)
        let whole = try searcher.search(SearchRequest(query: "", limit: 1, facets: [.type], checkAtLeast: 1_000_000))
        #expect(whole.facetsExact == true)
        #expect(whole.facets?["type"]?.first { $0.value == "comment" }?.count == truth.comments)
        #expect(try searcher.search(SearchRequest(query: "the")).facetsExact == nil)
    }

    @Test(arguments: independentQueries)
    func collapseReturnsEachArticleOnceWithItsOtherMatches(query: String, word: String) throws {
        var perArticle: [String: Int] = [:]
        for id in try corpus.ids(withWord: word) {
            perArticle[String(id.split(separator: "#")[0]), default: 0] += 1
        }
        let response = try searcher().search(SearchRequest(query: query, limit: 1000, collapse: true))
        let articles = response.hits.map { $0.article ?? $0.id }
        #expect(articles.count == Set(articles).count, "one hit per article")
        #expect(Set(articles) == Set(perArticle.keys))
        for hit in response.hits {
            #expect(hit.collapsed == (perArticle[hit.article ?? hit.id] ?? 0) - 1, "\(query): \(hit.id)")
        }
    }

    @Test func collapseCountsStayExactOnAPageOfALargeResultSet() throws {
        let (path, _) = try plantedIndex.get()
        let searcher = try Searcher(indexPath: path)
        // "the" is in most documents: Xapian alone would count only what it looked at.
        let page = try searcher.search(SearchRequest(query: "the", limit: 5, collapse: true))
        for hit in page.hits {
            let article = hit.article ?? hit.id
            let all = try searcher.search(SearchRequest(query: "the article:\(article)", limit: 1000, checkAtLeast: 100_000))
            #expect(hit.collapsed == all.hits.count - 1)
        }
    }

    /// Articles with dates in several time zones, and one without a date.
    static let datedCorpus: [(file: String, json: String)] = [
        ("n1.json", #"{"id": "n1", "title": "Ferry strike", "body": "The ferry crews walked out.", "published": "2023-12-31"}"#),
        ("n2.json", #"{"id": "n2", "title": "Ferry fares", "body": "Ferry fares rise.", "published": "2024-01-01T08:00:00Z", "comments": [{"author": "Ann", "text": "Ferry prices are a scandal.", "published": "2024-01-02T09:00:00Z"}, {"author": "Bob", "text": "The ferry is late again."}]}"#),
        // 23:30 on 30 June at UTC-2 is after midnight UTC on 1 July...
        ("n3.json", #"{"id": "n3", "title": "Ferry timetable", "body": "A new ferry timetable.", "published": "2024-06-30T23:30:00-02:00"}"#),
        // ...and half past midnight on 1 July at UTC+2 is before it.
        ("n4.json", #"{"id": "n4", "title": "Ferry safety", "body": "The ferry passed inspection.", "published": "2024-07-01T00:30+02:00"}"#),
        ("n5.json", #"{"id": "n5", "title": "Ferry history", "body": "The first ferry sailed long ago."}"#),
        ("n6.jsonl", #"{"id": "n6", "title": "Ferry union", "body": "The ferry union votes.", "published": "2024-03-15"}"#),
    ]

    func datedIndex(_ directory: TemporaryDirectory) throws -> Searcher {
        for (file, json) in Self.datedCorpus { try directory.write("corpus/" + file, json + "\n") }
        let warnings = try index(directory.path + "/corpus", into: directory.path + "/index").warnings
        #expect(warnings.isEmpty)
        return try Searcher(indexPath: directory.path + "/index")
    }

    @Test func dateSortOrdersByTheInstantAndPutsUndatedLast() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let searcher = try datedIndex(directory)
        func order(_ sort: ResultOrder) throws -> [String] {
            try searcher.search(SearchRequest(query: "ferry", type: .article, limit: 100, sort: sort)).hits.map(\.id)
        }
        #expect(try order(.date) == ["n3", "n4", "n6", "n2", "n1", "n5"])
        #expect(try order(.dateAscending) == ["n1", "n2", "n6", "n4", "n3", "n5"])
        // A comment sorts by its own time, or its article's when it has none.
        let comments = try searcher.search(SearchRequest(query: "ferry", type: .comment, limit: 10, sort: .date)).hits
        #expect(comments.map(\.id) == ["n2#1", "n2#2"])
    }

    @Test func dateRangesFilterOnThePublicationDay() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let searcher = try datedIndex(directory)
        func ids(_ query: String) throws -> Set<String> {
            Set(try searcher.search(SearchRequest(query: query, limit: 100)).hits.map(\.id))
        }
        // The day is the one written in the date, in its own time zone.
        #expect(try ids("ferry published:2024-01-01..2024-06-30 type:article") == ["n2", "n3", "n6"])
        #expect(try ids("published:2024-07-01..") == ["n4"])
        #expect(try ids("published:..2023-12-31") == ["n1"])
        #expect(try ids("published:20240102..20240102") == ["n2#1"])
        // A comment without its own date takes its article's.
        #expect(try ids("published:2024-01-01..2024-01-01") == ["n2", "n2#2"])
        #expect(try ids("ferry published:2025-01-01..").isEmpty)
    }

    @Test func aMisspeltQuerySuggestsTheRightWordAndRunsItOnRequest() throws {
        let searcher = try searcher()
        let misspelt = try searcher.search(SearchRequest(query: "diplomcy"))
        #expect(misspelt.hits.isEmpty)
        #expect(misspelt.suggestion == "diplomacy")
        let corrected = try searcher.search(SearchRequest(query: "diplomcy", limit: 1000, correct: true))
        #expect(corrected.query == "diplomacy")
        #expect(corrected.suggestion == nil)
        #expect(Set(corrected.hits.map(\.id)) == (try corpus.ids(withWord: "diplomacy")))
        // A correctly spelt query has nothing to suggest.
        #expect(try searcher.search(SearchRequest(query: "diplomacy")).suggestion == nil)
        #expect(try searcher.search(SearchRequest(query: "sanctoins diplomcy")).suggestion == "sanctions diplomacy")
    }

    @Test func similarFindsFirstTheArticlesThatShareTheRareWords() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let common = [
            "The council said the plan would cost more than expected and the vote was delayed.",
            "Officials told reporters the budget had been agreed after a long meeting on Tuesday.",
            "The minister said the government would publish the report next week.",
        ]
        for number in 0..<24 {
            try directory.write("corpus/filler\(number).txt", "Council news \(number)\n\(common[number % 3])\n\(common[(number + 1) % 3])\n")
        }
        let rare = "Marrowfen quintessa harbours zorblax trevanion eels, a delicacy in Quillport."
        try directory.write("corpus/source.txt", "Quillport eel harvest\n\(common[0])\n\(rare)\n\(common[1])\n1 Comment\nAnn\nZorblax eels again.\n")
        try directory.write("corpus/twin.txt", "Eel festival\nIn Quillport the marrowfen quintessa catch of zorblax eels and trevanion was good.\n\(common[2])\n")
        try directory.write("corpus/common.txt", "Council news again\n\(common[0])\n\(common[1])\n\(common[2])\n")
        try index(directory.path + "/corpus", into: directory.path + "/index")
        let searcher = try Searcher(indexPath: directory.path + "/index")

        let similar = try searcher.similar(id: "source", limit: 5)
        #expect(similar.hits.first?.id == "twin")
        #expect(!similar.hits.contains { $0.id == "source" })
        // Articles like an article (unless asked otherwise), and the rare words are what it searched by.
        #expect(similar.hits.allSatisfy { $0.kind == .article })
        #expect(Set(["zorblax", "quintessa", "marrowfen", "trevanion", "quillport"]).isSubset(of: similar.terms))
        #expect(!similar.terms.contains("the"))
        let comments = try searcher.similar(SimilarRequest(id: "source", type: .comment))
        #expect(comments.hits.map(\.id) == ["source#1"])

        let missing = try #require(throws: QuarryError.self) { try searcher.similar(id: "nowhere") }
        #expect(missing.code == .notFound)
        #expect(throws: QuarryError.self) { try searcher.similar(SimilarRequest(id: "source", limit: 0)) }
    }

    @Test func similarOnTheSampleCorpusRanksSanctionsStoriesFirst() throws {
        let similar = try searcher().similar(id: "world/eu-sanctions-package-shadow-fleet", limit: 3)
        let sanctions = try corpus.ids(withWord: "sanctions")
        #expect(similar.hits.count == 3)
        #expect(similar.hits.allSatisfy { sanctions.contains($0.id) })
    }

    @Test func theStemmingLanguageIsChosenAtIndexTimeAndKept() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("corpus/fr.json", #"{"id": "fr", "title": "Les éleveurs mangeaient", "body": "Les chevaux aussi."}"#)
        let french = directory.path + "/french", english = directory.path + "/english"
        _ = try Indexer.run(corpus: directory.path + "/corpus", index: french, options: IndexOptions(language: "french"), logger: quietLogger)
        try index(directory.path + "/corpus", into: english)
        let searcher = try Searcher(indexPath: french)
        #expect(searcher.language == "french")
        #expect(try searcher.stats().language == "french")
        // French stems: "manger" finds "mangeaient", "cheval" finds "chevaux"; English ones do not.
        for query in ["manger", "cheval"] {
            #expect(try searcher.search(SearchRequest(query: query)).hits.map(\.id) == ["fr"], "\(query)")
            #expect(try Searcher(indexPath: english).search(SearchRequest(query: query)).hits.isEmpty, "\(query) in English")
        }
        let hit = try #require(try searcher.search(SearchRequest(query: "cheval")).hits.first)
        #expect(hit.snippet.contains("<mark>chevaux</mark>"))
        // The index keeps its language: another one is refused, none is accepted.
        let refused = try #require(throws: QuarryError.self) {
            try Indexer.run(corpus: directory.path + "/corpus", index: french, options: IndexOptions(language: "german"), logger: quietLogger)
        }
        #expect(refused.code == .indexMismatch)
        _ = try index(directory.path + "/corpus", into: french)
        #expect(try Searcher(indexPath: french).language == "french")
    }

    @Test func aCJKArticleIsFoundByATwoCharacterWord() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("corpus/zh.json", #"{"id": "zh", "title": "經濟制裁的影響", "body": "政府宣布新的經濟制裁措施，引起市場關注。", "comments": [{"author": "李", "text": "市場會很快恢復。"}]}"#)
        try directory.write("corpus/ja.json", #"{"id": "ja", "title": "東京の天気", "body": "明日は雨が降るでしょう。"}"#)
        try directory.write("corpus/en.txt", "Sanctions\nThe market reacted.\n")
        try index(directory.path + "/corpus", into: directory.path + "/index")
        let searcher = try Searcher(indexPath: directory.path + "/index")
        func ids(_ query: String) throws -> Set<String> { Set(try searcher.search(SearchRequest(query: query)).hits.map(\.id)) }
        #expect(try ids("制裁") == ["zh"])
        #expect(try ids("市場") == ["zh", "zh#1"])
        #expect(try ids("天気") == ["ja"])
        #expect(try ids("title:制裁") == ["zh"])
        #expect(try ids("天氣").isEmpty)
        #expect(try ids("\"經濟制裁\"") == ["zh"])
        let hit = try #require(try searcher.search(SearchRequest(query: "制裁")).hits.first)
        #expect(hit.snippet.contains("<mark>"))
    }
}
