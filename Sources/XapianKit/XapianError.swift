import CXapian

/// A failure reported by Xapian, carried across the C shim as a value.
///
/// `kind` is Xapian's error class without its namespace (`DatabaseLockError`,
/// `QueryParserError`, `DatabaseModifiedError`, …) so callers can react to the
/// ones that mean something to them; `message` is Xapian's own text.
public struct XapianError: Error, Sendable, Equatable, CustomStringConvertible {
    public let kind: String
    public let message: String

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    /// Takes ownership of a shim error and frees it.
    init(consuming error: OpaquePointer?) {
        guard let error else {
            self.init(kind: "UnknownError", message: "Xapian reported a failure without details")
            return
        }
        defer { cx_error_free(error) }
        self.init(kind: String(cString: cx_error_class(error)), message: String(cString: cx_error_message(error)))
    }

    public var description: String { "\(kind): \(message)" }

    public var isDatabaseLocked: Bool { kind == "DatabaseLockError" }
    public var isDatabaseModified: Bool { kind == "DatabaseModifiedError" }
    public var isQuerySyntax: Bool { kind == "QueryParserError" }
    public var isDocumentNotFound: Bool { kind == "DocNotFoundError" }
    public var isDatabaseOpening: Bool { kind == "DatabaseOpeningError" || kind == "DatabaseNotFoundError" }
}

/// Calls a shim function that reports success with a non-nil result.
@inline(__always)
func xapianCall<T>(_ body: (UnsafeMutablePointer<OpaquePointer?>) -> T?) throws(XapianError) -> T {
    var error: OpaquePointer?
    if let value = body(&error) { return value }
    throw XapianError(consuming: error)
}

/// Calls a shim function that reports success with `true`.
@inline(__always)
func xapianCheck(_ body: (UnsafeMutablePointer<OpaquePointer?>) -> Bool) throws(XapianError) {
    var error: OpaquePointer?
    if body(&error) { return }
    throw XapianError(consuming: error)
}

/// Calls a shim function that returns a malloc'd buffer and its length, and copies it out.
@inline(__always)
func xapianBytes(_ body: (UnsafeMutablePointer<Int>, UnsafeMutablePointer<OpaquePointer?>) -> UnsafeMutablePointer<CChar>?) throws(XapianError) -> [UInt8] {
    var length = 0
    let buffer = try xapianCall { body(&length, $0) }
    defer { cx_free(buffer) }
    return Array(UnsafeRawBufferPointer(start: buffer, count: length))
}

@inline(__always)
func xapianString(_ body: (UnsafeMutablePointer<Int>, UnsafeMutablePointer<OpaquePointer?>) -> UnsafeMutablePointer<CChar>?) throws(XapianError) -> String {
    var length = 0
    let buffer = try xapianCall { body(&length, $0) }
    defer { cx_free(buffer) }
    return String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
}

/// Lends a string's UTF-8 bytes as the pointer + length pair the shim takes.
@inline(__always)
func withBytes<R>(_ string: String, _ body: (UnsafePointer<CChar>, Int) throws(XapianError) -> R) throws(XapianError) -> R {
    var copy = string
    // withUTF8 only rethrows untyped errors: carry the typed one out in a Result.
    return try copy.withUTF8 { buffer in
        Result { () throws(XapianError) -> R in try lend(UnsafeRawBufferPointer(buffer), body) }
    }.get()
}

@inline(__always)
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) throws(XapianError) -> R) throws(XapianError) -> R {
    try bytes.withUnsafeBytes { buffer in
        Result { () throws(XapianError) -> R in try lend(buffer, body) }
    }.get()
}

private let emptyBytes: StaticString = ""

@inline(__always)
private func lend<R>(_ buffer: UnsafeRawBufferPointer, _ body: (UnsafePointer<CChar>, Int) throws(XapianError) -> R) throws(XapianError) -> R {
    // An empty Swift buffer may have no address; the shim wants a valid pointer.
    let base = buffer.baseAddress ?? UnsafeRawPointer(emptyBytes.utf8Start)
    return try body(base.assumingMemoryBound(to: CChar.self), buffer.count)
}
