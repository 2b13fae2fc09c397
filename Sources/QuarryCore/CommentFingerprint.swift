import Foundation

/// Identity of a comment's text for finding the same words posted by several
/// accounts: Unicode NFKC, case-folded, punctuation and symbols dropped, white
/// space folded. "Dialogue — and DIPLOMACY!" and "dialogue and diplomacy" are
/// the same text.
public enum CommentFingerprint {
    public static func normalise(_ text: String) -> String {
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

    /// 16 hex digits; equal for texts that normalise the same.
    public static func of(_ text: String) -> String {
        FNV1a64.hex(normalise(text).utf8)
    }
}
