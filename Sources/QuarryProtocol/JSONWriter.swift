/// Writes JSON straight into bytes, for what is on a hot path: a search page
/// (every reply of the daemon's busiest method) and a document's stored
/// record (every document the indexer writes). `JSONEncoder` builds a tree of
/// boxed values first and was the daemon's largest cost after Xapian itself;
/// this writes the same JSON (the same keys, nil optionals left out, numbers
/// as Swift prints them) in one pass. Tests check that both decode to the same value.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the object or array being written needs a comma before its next member.
    private var needsComma = false

    public init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func array<S: Sequence>(_ elements: S, _ body: (inout JSONWriter, S.Element) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for element in elements { body(&self, element) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Starts a member of the current object; its value follows.
    public mutating func key(_ name: String) {
        separate()
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Runs of bytes that need no escape (nearly all of a snippet or a
            // title) are copied whole, not appended byte by byte.
            var run = 0
            for (offset, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<offset]))
                escape(byte)
                run = offset + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        default:
            bytes.append(contentsOf: Array("\\u00".utf8))
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 15)])
        }
    }

    public mutating func number<N: BinaryInteger>(_ value: N) {
        raw(String(value))
    }

    /// A finite number as Swift prints it (the shortest text that reads back
    /// the same); JSON has no NaN or infinity, so those are written as null.
    public mutating func number(_ value: Double) {
        raw(value.isFinite ? String(describing: value) : "null")
    }

    public mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }

    public mutating func null() {
        raw("null")
    }

    /// Text that is already JSON.
    public mutating func raw(_ json: String) {
        separate()
        bytes.append(contentsOf: json.utf8)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

extension JSONWriter {
    /// A JSON-RPC request as QuarryClient sends it (without the newline),
    /// its params written by `params`.
    public static func request(id: Int64, method: String, params: (inout JSONWriter) -> Void) -> [UInt8] {
        var json = JSONWriter(capacity: 256)
        json.object { json in
            json.key("jsonrpc")
            json.string("2.0")
            json.key("id")
            json.number(id)
            json.key("method")
            json.string(method)
            json.key("params")
            params(&json)
        }
        return json.bytes
    }

    mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func member<N: BinaryInteger>(_ name: String, _ value: N?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func member(_ name: String, _ value: Double?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func member(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }
}

extension SearchResponse {
    /// This page as JSON, as `JSONEncoder` would write it.
    public func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("query", query)
            json.member("revision", revision)
            json.member("total", total)
            json.member("totalLowerBound", totalLowerBound)
            json.member("totalUpperBound", totalUpperBound)
            json.member("offset", offset)
            json.key("hits")
            json.array(hits) { json, hit in hit.write(to: &json) }
            if let facets {
                json.key("facets")
                json.object { json in
                    for (field, counts) in facets {
                        json.key(field)
                        json.array(counts) { json, count in
                            json.object { json in
                                json.member("value", count.value)
                                json.member("count", count.count)
                            }
                        }
                    }
                }
            }
            json.member("facetsExact", facetsExact)
            json.member("suggestion", suggestion)
            json.member("notice", notice)
        }
    }
}

extension SearchHit {
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("rank", rank)
            json.member("score", score)
            json.member("percent", percent)
            json.member("id", id)
            json.member("kind", kind.rawValue)
            json.member("title", title)
            json.member("author", author)
            json.member("snippet", snippet)
            json.member("article", article)
            json.member("published", published)
            json.member("url", url)
            if let duplicates {
                json.key("duplicates")
                duplicates.write(to: &json)
            }
            if let cluster {
                json.key("cluster")
                cluster.write(to: &json)
            }
            json.member("collapsed", collapsed)
        }
    }
}
