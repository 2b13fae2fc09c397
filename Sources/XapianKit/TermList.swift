import CXapian

/// A term (or value, or key) with a count: wdf, term frequency or facet count.
public struct TermCount: Sendable, Hashable {
    public let term: String
    public let count: UInt64

    public init(term: String, count: UInt64) {
        self.term = term
        self.count = count
    }
}

/// Copies a shim term list into Swift values and frees it.
func takeTermList(_ list: OpaquePointer) -> [TermCount] {
    defer { cx_termlist_free(list) }
    let count = cx_termlist_count(list)
    var result: [TermCount] = []
    result.reserveCapacity(count)
    for index in 0..<count {
        var length = 0
        let bytes = cx_termlist_term(list, index, &length)
        let term = String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
        result.append(TermCount(term: term, count: cx_termlist_freq(list, index)))
    }
    return result
}
