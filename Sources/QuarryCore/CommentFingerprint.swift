import Foundation

/// Identity of a comment's text for finding the same words posted by several
/// accounts: Unicode NFKC, case-folded, punctuation and symbols dropped, white
/// space folded. "Dialogue — and DIPLOMACY!" and "dialogue and diplomacy" are
/// the same text.
public enum CommentFingerprint {
    public static func normalise(_ text: String) -> String {
        normaliseASCII(text) ?? normaliseUnicode(text)
    }

    /// The rule for any text.
    static func normaliseUnicode(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        var result = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in folded.unicodeScalars {
            let properties = scalar.properties
            if properties.isAlphabetic || properties.numericType != nil {
                if pendingSpace && !result.isEmpty { result.append(" ") }
                pendingSpace = false
                result.append(scalar)
            } else if properties.isWhitespace || properties.generalCategory == .dashPunctuation {
                pendingSpace = true
            } else if properties.generalCategory == .nonspacingMark {
                result.append(scalar)
            }
            // Other punctuation and symbols vanish without splitting words ("don't" → "dont").
        }
        return String(result)
    }

    /// `normalise` for text that is all ASCII (most comments), byte by byte; nil
    /// for any other text. For ASCII, NFKC changes nothing, the alphabetic
    /// characters are the letters, the numeric ones the digits, the white space
    /// is tab to carriage return and space, the one dash is "-", and there are no
    /// non-spacing marks: the result is exactly the general rule's. The general
    /// rule costs about 220,000 instructions per comment (docs/PERFORMANCE.md).
    static func normaliseASCII(_ text: String) -> String? {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            switch byte {
            case 0x80...: return nil
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if pendingSpace && !result.isEmpty { result.append(UInt8(ascii: " ")) }
                pendingSpace = false
                // Upper-case ASCII letters are 0x41-0x5A; setting 0x20 lower-cases them.
                result.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
            case 0x09...0x0D, UInt8(ascii: " "), UInt8(ascii: "-"):
                pendingSpace = true
            default:
                break  // other punctuation and symbols vanish without splitting words
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// 16 hex digits; equal for texts that normalise the same.
    public static func of(_ text: String) -> String {
        of(text, normalised: normalise(text))
    }

    /// The fingerprint of `text` whose `normalise(text)` is already at hand.
    public static func of(_ text: String, normalised: String) -> String {
        guard normalised.isEmpty else { return FNV1a64.hex(normalised.utf8) }
        // Nothing but symbols ("👍", "!!!"): normalising would make every such
        // comment one false group, so only the same symbols match.
        var hasher = FNV1a64()
        hasher.combine([0])
        hasher.combine(text.trimmingWhitespace().precomposedStringWithCompatibilityMapping.utf8)
        return NearDuplicates.hex(hasher.value, digits: 16)
    }
}
