/// Reads JSON straight from bytes, for the one reply on every hot path: a
/// search page, the counterpart of `JSONWriter`. `JSONDecoder` took about
/// 50 µs of a client's 100 µs of work per search (docs/PERFORMANCE.md); this
/// reads the page in one pass with no tree of boxed values.
///
/// It is a pull reader: the caller asks for the value it expects next. It
/// takes only what `JSONDecoder` takes and returns the same values, so a
/// caller may fall back to `JSONDecoder` whenever it throws, to report the
/// error `JSONDecoder` words better (`JSONReaderTests` and the `reader` fuzz
/// target compare the two).
public struct JSONReader {
    /// Why reading stopped: the offset in the input and what was expected there.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var offset: Int
        public var expected: String
        public var description: String { "invalid JSON at byte \(offset): expected \(expected)" }
    }

    private let bytes: [UInt8]
    private var position = 0
    /// Objects and arrays open around the current position. Past
    /// `maximumDepth` the reader refuses the input rather than recurse on: a
    /// reply is 4 deep, and `[[[[…` thousands deep overflowed the stack (fuzzing).
    private var depth = 0
    static let maximumDepth = 64

    public init<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        self.bytes = Array(bytes)
    }

    /// Reads one whole document with `body`; nothing but white space may follow.
    public static func read<T>(_ bytes: some Sequence<UInt8>, _ body: (inout JSONReader) throws(Failure) -> T) throws(Failure) -> T {
        var reader = JSONReader(bytes)
        let value = try body(&reader)
        reader.skipSpace()
        guard reader.position == reader.bytes.count else { throw reader.failure("the end of the input") }
        return value
    }

    // MARK: values

    /// Reads an object, calling `member` with each key; `member` must read (or
    /// `skipValue`) that key's value. A key given twice is refused: which of
    /// the two values `JSONDecoder` would keep is its own business.
    public mutating func object(_ member: (inout JSONReader, String) throws(Failure) -> Void) throws(Failure) {
        var keys: [String] = []
        try elements(between: UInt8(ascii: "{"), and: UInt8(ascii: "}"), "an object") { reader throws(Failure) in
            let key = try reader.string()
            guard !keys.contains(key) else { throw reader.failure("no second \"\(key)\"") }
            keys.append(key)
            reader.skipSpace()
            try reader.expect(UInt8(ascii: ":"), "':'")
            try member(&reader, key)
        }
    }

    /// Reads an array, calling `element` once per element.
    public mutating func array(_ element: (inout JSONReader) throws(Failure) -> Void) throws(Failure) {
        try elements(between: UInt8(ascii: "["), and: UInt8(ascii: "]"), "an array", element)
    }

    /// The comma-separated elements between `open` and `close`, one nesting level deeper.
    private mutating func elements(
        between open: UInt8, and close: UInt8, _ what: String, _ element: (inout JSONReader) throws(Failure) -> Void
    ) throws(Failure) {
        skipSpace()
        try expect(open, what)
        try enter()
        defer { depth -= 1 }
        skipSpace()
        if peek() == close {
            position += 1
            return
        }
        while true {
            skipSpace()
            try element(&self)
            skipSpace()
            guard peek() == UInt8(ascii: ",") else { break }
            position += 1
        }
        try expect(close, "',' or '\(Character(Unicode.Scalar(close)))'")
    }

    /// Consumes a `null` if one comes next: an optional member that is absent.
    public mutating func null() -> Bool {
        skipSpace()
        guard bytes.count - position >= 4, bytes[position] == UInt8(ascii: "n"), bytes[position + 1] == UInt8(ascii: "u"),
              bytes[position + 2] == UInt8(ascii: "l"), bytes[position + 3] == UInt8(ascii: "l")
        else { return false }
        position += 4
        return true
    }

    /// Whether a string comes next (a value that may be a string or a number).
    public mutating func atString() -> Bool {
        skipSpace()
        return peek() == UInt8(ascii: "\"")
    }

    public mutating func string() throws(Failure) -> String {
        skipSpace()
        try expect(UInt8(ascii: "\""), "a string")
        let start = position
        // Most strings hold no escape: one scan, one copy.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = bytes.withUnsafeBufferPointer { Self.utf8Text(UnsafeBufferPointer(rebasing: $0[start..<position])) }
                guard let text else { throw Failure(offset: start, expected: "UTF-8 text") }
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("a character other than a control character") }
            position += 1
        }
        return try escapedString(from: start)
    }

    public mutating func int() throws(Failure) -> Int {
        let text = try numberText()
        guard let value = Int(text) else { throw Failure(offset: position, expected: "an integer") }
        return value
    }

    public mutating func uint64() throws(Failure) -> UInt64 {
        let text = try numberText()
        guard let value = UInt64(text) else { throw Failure(offset: position, expected: "an unsigned integer") }
        return value
    }

    public mutating func double() throws(Failure) -> Double {
        let text = try numberText()
        guard let value = Double(text), value.isFinite else { throw Failure(offset: position, expected: "a number") }
        return value
    }

    public mutating func bool() throws(Failure) -> Bool {
        skipSpace()
        if bytes[position...].starts(with: Self.trueBytes) {
            position += 4
            return true
        }
        if bytes[position...].starts(with: Self.falseBytes) {
            position += 5
            return false
        }
        throw failure("true or false")
    }

    /// Reads past one value of any kind: a member this reader does not know.
    public mutating func skipValue() throws(Failure) {
        skipSpace()
        switch peek() {
        case UInt8(ascii: "{"): try object { reader, _ throws(Failure) in try reader.skipValue() }
        case UInt8(ascii: "["): try array { reader throws(Failure) in try reader.skipValue() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"):
            guard null() else { throw failure("a value") }
        default: _ = try numberText()
        }
    }

    /// A failure at the current position.
    public func failure(_ expected: String) -> Failure {
        Failure(offset: position, expected: expected)
    }

    // MARK: bytes

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    private mutating func enter() throws(Failure) {
        guard depth < Self.maximumDepth else { throw failure("at most \(Self.maximumDepth) nested objects and arrays") }
        depth += 1
    }

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard peek() == byte else { throw failure(what) }
        position += 1
    }

    /// The text of a number, checked against JSON's grammar (no leading zeros,
    /// no "+", no bare "."), which `Int` and `Double` would not enforce.
    private mutating func numberText() throws(Failure) -> Substring {
        skipSpace()
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), Self.isDigit(first) else { throw failure("a number") }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let next = peek(), Self.isDigit(next) else { throw failure("a digit after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), Self.isDigit(next) else { throw failure("a digit in the exponent") }
            skipDigits()
        }
        return Substring(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func skipDigits() {
        while let byte = peek(), Self.isDigit(byte) { position += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `bytes` as a string if they are valid UTF-8, else nil. ASCII, nearly
    /// every key and value, needs no validating; `String(validating:as:)` is
    /// generic, not specialised here, and looked up type metadata on every
    /// call (an eighth of the time to read a search page).
    private static func utf8Text(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The rest of a string from its first backslash on.
    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var utf8 = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = utf8.withUnsafeBufferPointer(Self.utf8Text) else { throw Failure(offset: start, expected: "UTF-8 text") }
                return text
            case UInt8(ascii: "\\"):
                guard let escape = peek() else { throw failure("an escape") }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try unicodeEscape().utf8)
                default: throw Failure(offset: position - 1, expected: "an escape")
                }
            case ..<0x20: throw Failure(offset: position - 1, expected: "a character other than a control character")
            default: utf8.append(byte)
            }
        }
        throw failure("the end of the string")
    }

    /// The scalar of a `\uXXXX` escape (the `\u` read), joining a surrogate pair.
    private mutating func unicodeEscape() throws(Failure) -> String {
        let high = try hex4()
        if !(0xD800...0xDFFF).contains(high) {
            guard let scalar = Unicode.Scalar(high) else { throw failure("a Unicode scalar") }
            return String(Character(scalar))
        }
        guard high < 0xDC00, bytes[position...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else {
            throw failure("the second half of a surrogate pair")
        }
        position += 2
        let low = try hex4()
        guard (0xDC00...0xDFFF).contains(low),
              let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        else { throw failure("the second half of a surrogate pair") }
        return String(Character(scalar))
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - position >= 4 else { throw failure("four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a hex digit")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}

/// A value with a `JSONReader` reading, so that a whole document reads as
/// `try SearchResponse(json: bytes)`.
public protocol JSONReadable {
    init(reading reader: inout JSONReader) throws(JSONReader.Failure)
}

extension JSONReadable {
    /// Reads a whole document; nothing but white space may follow the value.
    public init(json bytes: some Sequence<UInt8>) throws(JSONReader.Failure) {
        self = try JSONReader.read(bytes) { reader throws(JSONReader.Failure) in try Self(reading: &reader) }
    }
}
