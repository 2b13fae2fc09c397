import Foundation
import QuarryProtocol
import Testing

/// QuarryClient writes search requests with `JSONWriter` and the daemon reads
/// them with `JSONReader`, falling back to `JSONDecoder` when it throws: so
/// what one writes the other must read as the `Codable` pair would, and what
/// is out of the ordinary the reader must leave to `JSONDecoder`.
@Suite struct SearchRequestJSONTests {
    static let text = "quote \" backslash \\ slash / newline \n tab \t nul \u{0} é 中文 👍"

    @Test(arguments: [
        SearchRequest(query: "sanctions"),
        SearchRequest(query: "\"climate change\"", type: .comment, author: "Ann O'Neil", offset: 20, limit: 5,
                      sort: .dateAscending, collapse: true, facets: [.author, .type], checkAtLeast: 1000, correct: true),
        SearchRequest(query: text, author: text, facets: [.type]),
    ])
    func writtenAsJSONEncoderWritesAndReadAsJSONDecoderReads(request: SearchRequest) throws {
        var json = JSONWriter()
        request.write(to: &json)
        #expect(try JSONDecoder().decode(SearchRequest.self, from: Data(json.bytes)) == request)
        let object = { (bytes: Data) in try #require(JSONSerialization.jsonObject(with: bytes) as? NSDictionary) }
        #expect(try object(Data(json.bytes)) == object(JSONEncoder().encode(request)))
        #expect(try SearchRequest(json: JSONEncoder().encode(request)) == request)
        #expect(try SearchRequest(json: json.bytes) == request)
    }

    @Test(arguments: [
        // White space, any order, escapes, nulls for what may be absent.
        #" { "limit" : 3 , "query" : "\u0063limate \"change\"" , "type" : null , "author" : null , "facets" : [ "author" ] , "checkAtLeast" : null } "#,
        #"{"query":"x","sort":"date-asc","collapse":false,"correct":true,"offset":0}"#,
    ])
    func readsWhatJSONDecoderReads(text: String) throws {
        #expect(try SearchRequest(json: Array(text.utf8)) == JSONDecoder().decode(SearchRequest.self, from: Data(text.utf8)))
    }

    /// Each of these `JSONDecoder` reads or refuses with a message of its
    /// own; the reader throws, so the daemon hands them to `JSONDecoder`.
    @Test(arguments: [
        #"{"query":"x","later":1}"#,  // an unknown member: JSONDecoder skips it
        #"{"query":null}"#,
        #"{"limit":3}"#,
        #"{"query":42}"#,
        #"{"query":"x","limit":"ten"}"#,
        #"{"query":"x","limit":1.0}"#,
        #"{"query":"x","sort":"sideways"}"#,
        #"{"query":"x","facets":["author",null]}"#,
        #"{"query":"x","query":"y"}"#,
        #"{"query":"\ud83d"}"#,
    ])
    func leavesTheRestToJSONDecoder(text: String) {
        #expect(throws: JSONReader.Failure.self) { try SearchRequest(json: Array(text.utf8)) }
    }
}
