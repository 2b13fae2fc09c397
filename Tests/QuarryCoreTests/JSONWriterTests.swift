import Foundation
import QuarryCore
import QuarryProtocol
import Testing

/// The daemon writes search pages, and the indexer stored records, with
/// `JSONWriter`; everything else is written with `JSONEncoder`: both must give
/// the same JSON. QuarryClient reads pages with `JSONReader`, and must get
/// what `JSONDecoder` gets.
@Suite struct JSONWriterTests {
    func written(_ page: SearchResponse) -> [UInt8] {
        var json = JSONWriter()
        page.write(to: &json)
        return json.bytes
    }

    /// What a client reads with `JSONReader`.
    func read(_ bytes: some Sequence<UInt8>) throws -> SearchResponse {
        try SearchResponse(json: bytes)
    }

    func object(_ bytes: some Sequence<UInt8>) throws -> NSDictionary {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary)
    }

    @Test(arguments: [
        SearchRequest(query: "sanctions", facets: [.author, .type]),
        SearchRequest(query: "sanctions", type: .comment, collapse: true),
        SearchRequest(query: "accounts:2..", type: .comment, limit: 50),
        SearchRequest(query: "ordinary people", type: .comment, sort: .date),
        SearchRequest(query: "sanctons", correct: true),
        SearchRequest(query: "nothingmatchesthisword"),
    ])
    func aSearchPageIsWrittenAsJSONEncoderWritesIt(request: SearchRequest) throws {
        let page = try Searcher(indexPath: sharedCorpusIndex.get()).search(request)
        let bytes = written(page)
        #expect(try JSONDecoder().decode(SearchResponse.self, from: Data(bytes)) == page)
        #expect(try object(bytes) == object(JSONEncoder().encode(page)))
        #expect(try read(bytes) == page)
    }

    @Test func stringsAreEscapedAndNumbersReadBack() throws {
        let text = "quote \" backslash \\ slash / newline \n tab \t bell \u{7} nul \u{0} é 中文 👍"
        let hit = SearchHit(rank: 1, score: 0.1 + 0.2, percent: 100, id: "a#1", kind: .comment, title: text, author: nil,
                            snippet: text, article: "a", published: nil, url: nil,
                            duplicates: DuplicateInfo(accounts: 2, articles: 1, copies: 3), collapsed: 4,
                            cluster: ClusterInfo(id: "c", size: 5, accounts: 2, variants: nil, similarity: 1e-7))
        let page = SearchResponse(query: text, revision: .max, total: 1, totalLowerBound: 1, totalUpperBound: 1, offset: 0,
                                  hits: [hit], facets: ["author": [FacetCount(value: text, count: 1)]], suggestion: nil,
                                  facetsExact: true, notice: text)
        let bytes = written(page)
        #expect(try JSONDecoder().decode(SearchResponse.self, from: Data(bytes)) == page)
        #expect(try object(bytes) == object(JSONEncoder().encode(page)))
        #expect(try read(bytes) == page)
    }

    /// The indexer stores every document's record with `JSONWriter`: what
    /// `JSONEncoder` stored before must come back from it, through both readers.
    @Test func storedRecordsAreWrittenAsJSONEncoderWritesThem() throws {
        let text = "quote \" backslash \\ slash / newline \n tab \t nul \u{0} é 中文 👍"
        let comment = CommentRecord(id: "a/b#2", article: "a/b", articleTitle: text, author: "Ann / \"Bee\"", text: text,
                                    published: "2024-03-01T10:00:00Z", duplicates: DuplicateInfo(accounts: 2, articles: 1, copies: 3),
                                    cluster: ClusterInfo(id: "c", size: 5, accounts: 2, variants: 3, similarity: 0.1 + 0.2))
        let records: [DocumentRecord] = [
            .comment(comment),
            .comment(CommentRecord(id: "x#1", article: "x", articleTitle: "", author: "", text: "", published: nil, duplicates: nil)),
            .article(ArticleRecord(id: "a/b", title: text, paragraphs: [text, "", "two"], author: "Ann", url: "https://example.org/a?b=1",
                                   published: "2024-03-01", source: "Wire", file: "a/b.txt", commentCount: 7, comments: [comment])),
            .article(ArticleRecord(id: "c", title: "t", paragraphs: [], author: nil, url: nil, published: nil, source: nil,
                                   file: "c.jsonl", commentCount: 0, comments: [])),
        ]
        for record in records {
            let bytes = record.stored
            #expect(try object(bytes) == object(JSONEncoder().encode(record)))
            #expect(try DocumentRecord(stored: bytes) == record)
            #expect(try JSONDecoder().decode(DocumentRecord.self, from: Data(bytes)) == record)
        }
    }
}
