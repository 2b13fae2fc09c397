// A search page read with `JSONReader`, as `JSONDecoder` reads it: unknown
// members skipped, a missing or null optional is nil, a missing or null
// required member is a failure.

extension RPCResponse {
    /// A success reply, its result read with `result`; a failure for anything
    /// else (an error reply included), which the caller then hands to `JSONDecoder`.
    public static func read(
        _ bytes: some Sequence<UInt8>, result: (inout JSONReader) throws(JSONReader.Failure) -> Result
    ) throws(JSONReader.Failure) -> RPCResponse {
        try JSONReader.read(bytes) { reader throws(JSONReader.Failure) in
            var version: String?, id: RPCID?, value: Result?
            try reader.object { reader, key throws(JSONReader.Failure) in
                switch key {
                case "jsonrpc": version = try reader.string()
                case "id": id = reader.null() ? .null : reader.atString() ? .string(try reader.string()) : .number(Int64(try reader.int()))
                case "result": value = try result(&reader)
                default: try reader.skipValue()
                }
            }
            guard let version, let id, let value else { throw reader.failure("members jsonrpc, id and result") }
            var response = RPCResponse(id: id, result: value)
            response.jsonrpc = version
            return response
        }
    }
}

extension SearchResponse: JSONReadable {
    public init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var query: String?, revision: UInt64?, total: Int?, lower: Int?, upper: Int?, offset: Int?, hits: [SearchHit]?
        var facets: [String: [FacetCount]]?, facetsExact: Bool?, suggestion: String?, notice: String?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "query": query = try reader.string()
            case "revision": revision = try reader.uint64()
            case "total": total = try reader.int()
            case "totalLowerBound": lower = try reader.int()
            case "totalUpperBound": upper = try reader.int()
            case "offset": offset = try reader.int()
            case "hits":
                var list: [SearchHit] = []
                try reader.array { reader throws(JSONReader.Failure) in list.append(try SearchHit(reading: &reader)) }
                hits = list
            case "facets":
                if reader.null() {
                    facets = nil
                    return
                }
                var fields: [String: [FacetCount]] = [:]
                try reader.object { reader, field throws(JSONReader.Failure) in
                    var counts: [FacetCount] = []
                    try reader.array { reader throws(JSONReader.Failure) in counts.append(try FacetCount(reading: &reader)) }
                    fields[field] = counts
                }
                facets = fields
            case "facetsExact": facetsExact = reader.null() ? nil : try reader.bool()
            case "suggestion": suggestion = reader.null() ? nil : try reader.string()
            case "notice": notice = reader.null() ? nil : try reader.string()
            default: try reader.skipValue()
            }
        }
        guard let query, let revision, let total, let lower, let upper, let offset, let hits else {
            throw reader.failure("the members of a search page")
        }
        self.init(query: query, revision: revision, total: total, totalLowerBound: lower, totalUpperBound: upper,
                  offset: offset, hits: hits, facets: facets, suggestion: suggestion, facetsExact: facetsExact, notice: notice)
    }
}

extension SearchHit {
    init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var rank: Int?, score: Double?, percent: Int?, id: String?, kind: DocumentKind?, title: String?, snippet: String?
        var author: String?, article: String?, published: String?, url: String?
        var duplicates: DuplicateInfo?, cluster: ClusterInfo?, collapsed: Int?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "rank": rank = try reader.int()
            case "score": score = try reader.double()
            case "percent": percent = try reader.int()
            case "id": id = try reader.string()
            case "kind":
                guard let value = DocumentKind(rawValue: try reader.string()) else { throw reader.failure("a document kind") }
                kind = value
            case "title": title = try reader.string()
            case "snippet": snippet = try reader.string()
            case "author": author = reader.null() ? nil : try reader.string()
            case "article": article = reader.null() ? nil : try reader.string()
            case "published": published = reader.null() ? nil : try reader.string()
            case "url": url = reader.null() ? nil : try reader.string()
            case "duplicates": duplicates = reader.null() ? nil : try DuplicateInfo(reading: &reader)
            case "cluster": cluster = reader.null() ? nil : try ClusterInfo(reading: &reader)
            case "collapsed": collapsed = reader.null() ? nil : try reader.int()
            default: try reader.skipValue()
            }
        }
        guard let rank, let score, let percent, let id, let kind, let title, let snippet else {
            throw reader.failure("the members of a search hit")
        }
        self.init(rank: rank, score: score, percent: percent, id: id, kind: kind, title: title, author: author,
                  snippet: snippet, article: article, published: published, url: url, duplicates: duplicates,
                  collapsed: collapsed, cluster: cluster)
    }
}

extension DuplicateInfo {
    init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var accounts: Int?, articles: Int?, copies: Int?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "accounts": accounts = try reader.int()
            case "articles": articles = try reader.int()
            case "copies": copies = try reader.int()
            default: try reader.skipValue()
            }
        }
        guard let accounts, let articles, let copies else { throw reader.failure("accounts, articles and copies") }
        self.init(accounts: accounts, articles: articles, copies: copies)
    }
}

extension ClusterInfo {
    init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var id: String?, size: Int?, accounts: Int?, variants: Int?, similarity: Double?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "id": id = try reader.string()
            case "size": size = try reader.int()
            case "accounts": accounts = try reader.int()
            case "variants": variants = reader.null() ? nil : try reader.int()
            case "similarity": similarity = try reader.double()
            default: try reader.skipValue()
            }
        }
        guard let id, let size, let accounts, let similarity else { throw reader.failure("id, size, accounts and similarity") }
        self.init(id: id, size: size, accounts: accounts, variants: variants, similarity: similarity)
    }
}

extension FacetCount {
    init(reading reader: inout JSONReader) throws(JSONReader.Failure) {
        var value: String?, count: Int?
        try reader.object { reader, key throws(JSONReader.Failure) in
            switch key {
            case "value": value = try reader.string()
            case "count": count = try reader.int()
            default: try reader.skipValue()
            }
        }
        guard let value, let count else { throw reader.failure("value and count") }
        self.init(value: value, count: count)
    }
}
