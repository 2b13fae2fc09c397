import Testing
import QuarryCore
import QuarryProtocol

/// Searches over the sample corpus, each checked against what the corpus files
/// themselves say (read without the index).
@Suite struct SearchTests {
    let corpus = CorpusText.shared

    func searcher() throws -> Searcher {
        try Searcher(indexPath: sharedCorpusIndex.get())
    }

    /// Every hit of `query`, in rank order (exact counting, one big page).
    func search(_ query: String, type: DocumentKind? = nil, author: String? = nil) throws -> SearchResponse {
        try searcher().search(SearchRequest(query: query, type: type, author: author, limit: 1000, checkAtLeast: 100_000))
    }

    func ids(_ query: String, type: DocumentKind? = nil) throws -> Set<String> {
        let response = try search(query, type: type)
        #expect(response.total == response.hits.count, "\(query): the total must be exact")
        return Set(response.hits.map(\.id))
    }

    @Test func theIndexHoldsEveryArticleAndComment() throws {
        let stats = try searcher().stats()
        #expect(stats.articles == corpus.articles.count)
        #expect(stats.comments == corpus.articles.reduce(0) { $0 + $1.comments.count })
        #expect(stats.documents == stats.articles + stats.comments)
        #expect(stats.files == corpus.articles.count)
        #expect(stats.language == "english")
        #expect(stats.revision >= 1)
    }

    @Test func aWordFindsExactlyTheDocumentsThatContainIt() throws {
        let expected = try corpus.ids(withWord: "diplomacy")
        #expect(expected.count > 10)
        #expect(try ids("diplomacy") == expected)
        #expect(try ids("DIPLOMACY") == expected)
    }

    @Test func aPhraseFindsOnlyTheWordsInThatOrder() throws {
        let expected = try corpus.ids(withWord: "dialogue and diplomacy")
        #expect(expected == [
            "world/north-korea-military-delegation-russia#1", "world/north-korea-military-delegation-russia#2",
            "world/korea-military-hotline-restored#1",
        ])
        #expect(try ids("\"dialogue and diplomacy\"") == expected)
        #expect(try ids("\"diplomacy and dialogue\"").isEmpty)
    }

    @Test func stemmingFindsOtherFormsOfTheWord() throws {
        // The corpus never has "sanction" alone: every hit comes through the stem.
        #expect(try corpus.ids(withWord: "sanction").isEmpty)
        let sanctions = try corpus.ids(withWord: "sanctions")
        let found = try ids("sanction")
        #expect(found.isSuperset(of: sanctions))
        #expect(found.subtracting(sanctions).isSubset(of: try corpus.ids(withWord: "sanction(s|ed|ing)")))
        #expect(found.contains("economy/sanctions-hit-russian-metals-exporters#1"))
    }

    @Test func byFindsEveryCommentOfOneAccountInAnyCase() throws {
        let expected = Set(corpus.documents.filter { $0.author == "Golova Hvosta" }.map(\.id))
        #expect(expected.count >= 2)
        #expect(try ids(#"by:"Golova Hvosta""#) == expected)
        #expect(try ids(#"by:"golova   HVOSTA""#) == expected)
        let filtered = try search("", author: "golova hvosta")
        #expect(Set(filtered.hits.map(\.id)) == expected)
        #expect(filtered.hits.allSatisfy { $0.author == "Golova Hvosta" })
    }

    @Test func typeCommentKeepsOnlyComments() throws {
        let diplomacy = try corpus.ids(withWord: "diplomacy")
        let comments = try search("diplomacy type:comment")
        #expect(comments.hits.allSatisfy { $0.kind == .comment && $0.article != nil })
        #expect(Set(comments.hits.map(\.id)) == diplomacy.filter { $0.contains("#") })
        #expect(try ids("diplomacy", type: .comment) == diplomacy.filter { $0.contains("#") })
        #expect(try ids("diplomacy type:article") == diplomacy.filter { !$0.contains("#") })
    }

    @Test func articleFindsTheArticleAndAllItsComments() throws {
        let id = "world/north-korea-military-delegation-russia"
        let article = try #require(corpus.articles.first { $0.id == id })
        let expected = Set([id] + article.comments.indices.map(article.commentID))
        #expect(try ids("article:\(id)") == expected)
        // A comment hit names its article and carries the article's title.
        let hit = try #require(try search("article:\(id) type:comment").hits.first)
        #expect(hit.article == id)
        #expect(hit.title == article.title)
    }

    @Test func aTrailingWildcardMatchesEveryWordWithThatStart() throws {
        let expected = try corpus.ids(withWord: "sanction[\\p{L}']*")
        #expect(try ids("sanction*") == expected)
        #expect(try ids("sanct*").isSuperset(of: expected))
    }

    @Test func notExcludesTheDocumentsWithTheWord() throws {
        let both = try ids("sanctions")
        let russia = try ids("russia")
        let without = try ids("sanctions NOT russia")
        #expect(!without.isEmpty && without.count < both.count)
        #expect(without == both.subtracting(russia))
        #expect(without.isDisjoint(with: try corpus.ids(withWord: "russia('s)?")))
        #expect(try ids("sanctions -russia") == without)
    }

    @Test func pagesDoNotOverlapAndAddUpToTheWholeList() throws {
        let searcher = try searcher()
        let whole = try searcher.search(SearchRequest(query: "the", limit: 21)).hits
        #expect(whole.count == 21)
        var paged: [SearchHit] = []
        for offset in stride(from: 0, to: 21, by: 7) {
            let page = try searcher.search(SearchRequest(query: "the", offset: offset, limit: 7))
            #expect(page.offset == offset)
            #expect(page.hits.map(\.rank) == Array(offset + 1...offset + 7))
            paged += page.hits
        }
        #expect(Set(paged.map(\.id)).count == 21)
        #expect(paged.map(\.id) == whole.map(\.id))
    }

    @Test func snippetsMarkTheMatchedWords() throws {
        let response = try search("sanctions type:comment")
        let hit = try #require(response.hits.first { $0.id == "world/eu-sanctions-package-shadow-fleet#1" })
        #expect(hit.snippet.contains("<mark>sanctions</mark>"))
        #expect(!hit.snippet.contains("<mark>hurt</mark>"))
        // Stemmed matches are marked as well: "sanction" marks "sanctions".
        let stemmed = try #require(try search("sanction").hits.first { $0.id == hit.id })
        #expect(stemmed.snippet.contains("<mark>sanctions</mark>"))
        // Every hit of a word query shows at least one marked word.
        #expect(try search("diplomacy").hits.allSatisfy { $0.snippet.contains("<mark>") })
    }

    @Test func titleAndAuthorFieldsSearchOnlyThatField() throws {
        // Titles with a word that stems to "sanction", and nothing where only the body has one.
        let titled = try corpus.ids(withWord: "sanction(s|ed|ing)?").filter { id in
            corpus.articles.contains { $0.id == id && $0.title.lowercased().contains("sanction") }
        }
        #expect(!titled.isEmpty)
        #expect(try ids("title:sanctions") == titled)
        let byAuthorWord = try ids("author:golova")
        #expect(byAuthorWord == Set(corpus.documents.filter { $0.author?.contains("Golova") == true }.map(\.id)))
    }

    @Test func aSyntaxErrorQuotesTheQuery() throws {
        let error = try #require(throws: QuarryError.self) { _ = try searcher().search(SearchRequest(query: "foo AND")) }
        #expect(error.code == .querySyntax)
        #expect(error.message.contains("\"foo AND\""))
    }

    @Test func getReturnsAnArticleWithItsCommentsInFileOrder() throws {
        let id = "politics/snap-election-called-coalition-collapse"
        let expected = try #require(corpus.articles.first { $0.id == id })
        guard case .article(let article) = try searcher().get(id: id) else {
            Issue.record("\(id) is not an article")
            return
        }
        #expect(article.title == expected.title)
        #expect(article.paragraphs == expected.paragraphs)
        #expect(article.file == id + ".txt")
        #expect(article.commentCount == expected.comments.count)
        #expect(article.comments.map(\.id) == expected.comments.indices.map(expected.commentID))
        #expect(article.comments.map(\.author) == expected.comments.map(\.author))
        #expect(article.comments.map(\.text) == expected.comments.map(\.text))
        #expect(article.comments.count == 48)
    }

    @Test func getReturnsOneCommentByItsId() throws {
        guard case .comment(let comment) = try searcher().get(id: "world/north-korea-military-delegation-russia#2") else {
            Issue.record("not a comment")
            return
        }
        #expect(comment.author == "Golova Hvosta")
        #expect(comment.article == "world/north-korea-military-delegation-russia")
        #expect(comment.articleTitle == "North Korea Sends Military Delegation to Russia, Raising Concerns")
        #expect(comment.text.hasPrefix("South Korea's concerns are understandable"))
    }

    @Test func getOfAnUnknownIdIsNotFound() throws {
        let error = try #require(throws: QuarryError.self) { _ = try searcher().get(id: "world/no-such-story#3") }
        #expect(error.code == .notFound)
        #expect(error.message.contains("world/no-such-story#3"))
    }

    @Test func aPlantedDuplicateSaysHowManyAccountsPostedIt() throws {
        // "This government has failed every single promise it made." — 4 accounts, 2 articles.
        guard case .comment(let comment) = try searcher().get(id: "politics/snap-election-called-coalition-collapse#3") else {
            Issue.record("not a comment")
            return
        }
        #expect(comment.duplicates == DuplicateInfo(accounts: 4, articles: 2, copies: 4))

        let hits = try search(#""failed every single promise""#).hits
        #expect(Set(hits.map(\.id)) == [
            "politics/snap-election-called-coalition-collapse#1", "politics/snap-election-called-coalition-collapse#3",
            "politics/snap-election-called-coalition-collapse#5", "politics/parliament-passes-budget-all-night-session#1",
        ])
        #expect(hits.allSatisfy { $0.duplicates == DuplicateInfo(accounts: 4, articles: 2, copies: 4) })
    }

    @Test func aNearDuplicateIsNotAnExactDuplicate() throws {
        // Seoul's instead of South Korea's: the same words but one, so not in group D1.
        let hits = try search("\"dialogue and diplomacy\"").hits
        let near = try #require(hits.first { $0.id == "world/korea-military-hotline-restored#1" })
        #expect(near.duplicates == nil)
        let exact = try #require(hits.first { $0.id == "world/north-korea-military-delegation-russia#1" })
        #expect(exact.duplicates == DuplicateInfo(accounts: 2, articles: 1, copies: 2))
    }

    @Test func collapseGivesOneHitPerArticle() throws {
        let response = try searcher().search(SearchRequest(query: "sanctions", limit: 100, collapse: true))
        let articles = response.hits.map { $0.article ?? $0.id }
        #expect(Set(articles).count == articles.count)
        #expect(response.hits.allSatisfy { $0.collapsed != nil })
    }
}
