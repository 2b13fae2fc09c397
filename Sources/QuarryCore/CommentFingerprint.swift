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
