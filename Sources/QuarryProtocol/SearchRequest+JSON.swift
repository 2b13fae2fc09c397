// A search request read with `JSONReader` and written with `JSONWriter`: the
// request on every hot path, both ways, without `JSONDecoder`'s and
// `JSONEncoder`'s boxed trees (about 35 µs and 25 µs of each request).

extension SearchRequest: JSONReadable {
    /// Reads what `init(from:)` reads and nothing else: a member it does not
    /// know or a value of another type is a failure here, so that a caller
    /// falling back to `JSONDecoder` gets its answer, or its error message, for
    /// anything out of the ordinary. Null is an absent member, as with
    /// `decodeIfPresent`.
    public init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var request = SearchRequest(query: "")
        var query: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            if key != "query", reader.null() { return }
            switch key {
            case "query": query = try reader.string()
            case "type": request.type = try Self.read(DocumentKind.self, &reader)
            case "author": request.author = try reader.string()
            case "offset": request.offset = try reader.int()
            case "limit": request.limit = try reader.int()
            case "sort": request.sort = try Self.read(ResultOrder.self, &reader)
            case "collapse": request.collapse = try reader.bool()
            case "facets":
                var facets: [FacetField] = []
                try reader.array { reader throws(JSONReader.Failure) in facets.append(try Self.read(FacetField.self, &reader)) }
                request.facets = facets
            case "checkAtLeast": request.checkAtLeast = try reader.int()
            case "correct": request.correct = try reader.bool()
            default: throw reader.failure("a member of a search request")
            }
        }
        guard let query else { throw reader.failure("\"query\"") }
        request.query = query
        self = request
    }

    private static func read<Value: RawRepresentable<String>>(
        _: Value.Type, _ reader: inout JSONReader
    ) throws(JSONReader.Failure) -> Value {
        guard let value = Value(rawValue: try reader.string()) else { throw reader.failure("one of the values listed in docs/PROTOCOL.md") }
        return value
    }

    /// This request as JSON, with what `JSONEncoder` writes (absent optionals left out).
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("query", query)
            json.member("type", type?.rawValue)
            json.member("author", author)
            json.member("offset", offset)
            json.member("limit", limit)
            json.member("sort", sort.rawValue)
            json.member("collapse", collapse)
            json.key("facets")
            json.array(facets) { json, facet in json.string(facet.rawValue) }
            json.member("checkAtLeast", checkAtLeast)
            json.member("correct", correct)
        }
    }
}
