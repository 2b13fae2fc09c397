import Foundation
import QuarryCore
import QuarryProtocol
import Testing

/// QuarryClient reads search replies with `JSONReader` and falls back to
/// `JSONDecoder` when it throws: so whatever it accepts it must read as
/// `JSONDecoder` does, and whatever is not JSON it must refuse, not trap.
@Suite struct JSONReaderTests {
    func read(_ text: String) throws(JSONReader.Failure) -> SearchResponse {
        try SearchResponse(json: Array(text.utf8))
    }

    func decoded(_ text: String) throws -> SearchResponse {
        try JSONDecoder().decode(SearchResponse.self, from: Data(text.utf8))
    }

    static let hit = #"{"rank":1,"score":2.5e-1,"percent":90,"id":"a#1","kind":"comment","title":"T","snippet":"S","#
        + #""author":null,"article":"a","duplicates":{"accounts":2,"articles":1,"copies":3,"later":[1,{"x":null}]},"#
        + #""cluster":{"id":"c","size":4,"accounts":2,"similarity":1}}"#

    @Test(arguments: [
        // White space anywhere JSON allows it, members in any order, unknown ones skipped.
        #" { "offset" : 0 , "hits" : [ ] , "query" : "q" , "revision" : 7 , "total" : 0 , "totalLowerBound" : 0 , "totalUpperBound" : 0 , "new" : {"a":[true,false,null,-1.5E+3,"\""]} } "#,
        #"{"query":"q","revision":18446744073709551615,"total":1,"totalLowerBound":1,"totalUpperBound":2,"offset":0,"hits":[\#(hit)],"facets":{"author":[{"value":"v","count":1}],"type":[]},"facetsExact":false,"suggestion":null}"#,
        // Escapes: the short ones, \u in and beyond the basic plane, and a surrogate pair.
        #"{"query":"\"\\\/\b\f\n\r\t\u0000\u00e9\u4E2D\ud83d\udc4d é 中 👍","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[],"facets":null,"notice":"n"}"#,
    ])
    func readsWhatJSONDecoderReads(text: String) throws {
        #expect(try read(text) == decoded(text))
    }

    @Test(arguments: [
        "",
        "{",
        #"{"query":"q"}"#,  // required members missing
        #"{"query":null,"revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#,
        #"{"query":"q","revision":-1,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#,
        #"{"query":"q","revision":0,"total":01,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#,
        #"{"query":"q","revision":0,"total":1.5,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#,
        #"{"query":"q","revision":0,"total":+1,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#,
        #"{"query":"\ud83d","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#,
        #"{"query":"\x","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#,
        "{\"query\":\"a\tb\",\"revision\":0,\"total\":0,\"totalLowerBound\":0,\"totalUpperBound\":0,\"offset\":0,\"hits\":[]}",
        #"{"query":"q","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]} x"#,
        #"{"query":"q","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[{"rank":1}]}"#,
    ])
    func refusesWhatJSONDecoderRefuses(text: String) {
        #expect(throws: JSONReader.Failure.self) { try read(text) }
        #expect(throws: (any Error).self) { try decoded(text) }
    }

    /// `JSONDecoder` takes a trailing comma; the reader need not, as the
    /// client then hands the reply to `JSONDecoder`.
    @Test func aTrailingCommaIsLeftToJSONDecoder() throws {
        let text = #"{"query":"q","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[],}"#
        #expect(throws: JSONReader.Failure.self) { try read(text) }
        #expect(try decoded(text).query == "q")
    }

    /// Both found by the `reply` fuzz target: a key given twice (the reader
    /// kept the last value, `JSONDecoder` another), and unknown members nested
    /// thousands deep (a stack overflow).
    @Test func aKeyGivenTwiceAndDeepNestingAreRefused() {
        let twice = #"{"query":"a","query":"b","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#
        #expect(throws: JSONReader.Failure.self) { try read(twice) }
        let deep = #"{"x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            + #","query":"q","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#
        #expect(throws: JSONReader.Failure.self) { try read(deep) }
    }

    /// The searcher reads stored records with the reader too: every article of
    /// the sample corpus, its comments filled in by `get`, reads back as
    /// `JSONEncoder` (which the indexer stores with) wrote it.
    @Test func everyStoredRecordReadsBackAsWritten() throws {
        let searcher = try Searcher(indexPath: sharedCorpusIndex.get())
        let encoder = JSONEncoder()
        var comments = 0
        for article in CorpusText.shared.articles {
            let record = try searcher.get(id: article.id)
            guard case .article(let stored) = record else {
                Issue.record("\(article.id) is not an article")
                continue
            }
            comments += stored.comments.count
            for value in [record] + stored.comments.map(DocumentRecord.comment) {
                let bytes = Array(try encoder.encode(value))
                #expect(try DocumentRecord(json: bytes) == value)
            }
        }
        #expect(comments > 100)
    }

    @Test func invalidUTF8IsRefused() {
        var bytes = Array(#"{"query":""#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#"","revision":0,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#.utf8)
        #expect(throws: JSONReader.Failure.self) {
            try SearchResponse(json: bytes)
        }
    }

    @Test func aReplyEnvelopeIsReadAndAnErrorReplyIsLeftToJSONDecoder() throws {
        let page = #"{"query":"q","revision":3,"total":0,"totalLowerBound":0,"totalUpperBound":0,"offset":0,"hits":[]}"#
        let reply = try RPCResponse.read(Array(#"{"jsonrpc":"2.0","id":42,"result":\#(page)}"#.utf8)) { reader throws(JSONReader.Failure) in
            try SearchResponse(reading: &reader)
        }
        #expect(reply.id == .number(42))
        #expect(reply.result == (try decoded(page)))
        let named = try RPCResponse.read(Array(#"{"result":\#(page),"id":"x","jsonrpc":"2.0"}"#.utf8)) { reader throws(JSONReader.Failure) in
            try SearchResponse(reading: &reader)
        }
        #expect(named.id == .string("x"))
        #expect(throws: JSONReader.Failure.self) {
            try RPCResponse.read(Array(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"m"}}"#.utf8)) { reader throws(JSONReader.Failure) in
                try SearchResponse(reading: &reader)
            }
        }
    }
}
