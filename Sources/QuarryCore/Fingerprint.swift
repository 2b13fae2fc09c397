/// A comment text's fingerprint (`CommentFingerprint.of`) as the number its
/// 16 hex digits spell. The recount keeps hundreds of thousands of them: as
/// strings each was a heap allocation, hashed byte by byte.
struct Fingerprint: Hashable, Comparable, Sendable {
    let value: UInt64

    /// Nil unless `digits` is 16 lowercase hex digits, as every fingerprint is written.
    init?(_ digits: some Collection<UInt8>) {
        guard digits.count == 16 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(digit - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        self.value = value
    }

    init?(_ text: some StringProtocol) { self.init(text.utf8) }

    init(value: UInt64) { self.value = value }

    /// The 16 digits, as stored in the `fingerprint` slot and after `XH`.
    var hex: String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 { buffer[15 - index] = Self.digits[Int((value >> (4 * UInt64(index))) & 15)] }
            return 16
        }
    }

    /// Fixed-width digits sort as their numbers do: the same order as the strings.
    static func < (a: Fingerprint, b: Fingerprint) -> Bool { a.value < b.value }

    private static let digits = Array("0123456789abcdef".utf8)
}
