import CXapian

/// A Xapian document: terms, values (slots for sorting, collapsing and facets)
/// and opaque data.
public final class Document {
    let handle: OpaquePointer

    public init() throws(XapianError) {
        handle = try xapianCall { cx_doc_new($0) }
    }

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { cx_doc_free(handle) }

    public func addTerm(_ term: String, wdf: UInt32 = 1) throws(XapianError) {
        try withBytes(term) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_doc_add_term(handle, bytes, length, wdf, $0) }
        }
    }

    /// A term that filters but does not weigh (no wdf, no positions).
    public func addBooleanTerm(_ term: String) throws(XapianError) {
        try withBytes(term) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_doc_add_boolean_term(handle, bytes, length, $0) }
        }
    }

    /// Removes `term` with its positions; an `InvalidArgumentError` when absent.
    public func removeTerm(_ term: String) throws(XapianError) {
        try withBytes(term) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_doc_remove_term(handle, bytes, length, $0) }
        }
    }

    public func setValue(_ slot: UInt32, _ value: [UInt8]) throws(XapianError) {
        try withBytes(value) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_doc_set_value(handle, slot, bytes, length, $0) }
        }
    }

    public func setValue(_ slot: UInt32, _ value: String) throws(XapianError) {
        try setValue(slot, Array(value.utf8))
    }

    /// Stores a number so that it sorts and range-filters numerically.
    public func setValue(_ slot: UInt32, number: Double) throws(XapianError) {
        try setValue(slot, sortableSerialise(number))
    }

    public func value(_ slot: UInt32) throws(XapianError) -> [UInt8] {
        try xapianBytes { cx_doc_get_value(handle, slot, $0, $1) }
    }

    public func setData(_ data: [UInt8]) throws(XapianError) {
        try withBytes(data) { (bytes, length) throws(XapianError) in
            try xapianCheck { cx_doc_set_data(handle, bytes, length, $0) }
        }
    }

    public func data() throws(XapianError) -> [UInt8] {
        try xapianBytes { cx_doc_get_data(handle, $0, $1) }
    }

    /// The document's terms with their within-document frequency.
    public func terms() throws(XapianError) -> [TermCount] {
        takeTermList(try xapianCall { cx_doc_terms(handle, $0) })
    }
}

/// Xapian's order-preserving encoding of a number as bytes.
public func sortableSerialise(_ number: Double) -> [UInt8] {
    var buffer: (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    var length = 0
    return withUnsafeMutableBytes(of: &buffer) { raw in
        cx_sortable_serialise(number, raw.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
        return Array(raw.prefix(length))
    }
}

public func sortableUnserialise(_ bytes: [UInt8]) -> Double {
    guard !bytes.isEmpty else { return 0 }
    return bytes.withUnsafeBytes { raw in
        cx_sortable_unserialise(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
    }
}
