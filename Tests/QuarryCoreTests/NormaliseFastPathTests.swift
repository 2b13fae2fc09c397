@testable import QuarryCore
import Testing

/// The ASCII fast path of `CommentFingerprint.normalise` (and of the band keys)
/// is a speed-up only: it must give exactly what the general rule gives.
@Suite struct NormaliseFastPathTests {
    /// Every ASCII character, in runs, many times over: a deterministic sample.
    static func samples() -> [String] {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var texts = ["", " ", "-", "Dialogue -- and DIPLOMACY!", "don't  stop\tnow\r\n", "A-B_C d.e,f 9-11", "\u{0B}x\u{0C}y\u{1C}z"]
        for _ in 0..<2000 {
            let length = Int(next() % 40)
            texts.append(String(decoding: (0..<length).map { _ in UInt8(next() % 128) }, as: UTF8.self))
        }
        return texts
    }

    @Test func asciiTextNormalisesExactlyAsTheGeneralRule() {
        for text in Self.samples() {
            #expect(CommentFingerprint.normaliseASCII(text) == CommentFingerprint.normaliseUnicode(text), "\(Array(text.utf8))")
        }
    }

    @Test func otherTextTakesTheGeneralRule() {
        #expect(CommentFingerprint.normaliseASCII("Café") == nil)
        #expect(CommentFingerprint.normalise("Café — ﬁne") == "café fine")
    }

    @Test func bandKeysAreStable() {
        // Stored with indexes: a speed-up must not move them. These are the band
        // terms the indexer wrote for this comment (of a generated corpus) before
        // the bands left the Xapian database (band number << 40 | the 40 bits the
        // term spelled in base 32), so the keys are the bands they always were.
        let text = "Clifaim the also a the may weexplail. Munje trondweat the with braindskyng, of. Noongum to on as with to of there kouckbi mynboux veen has the."
        #expect(NearDuplicates.bandKeys(of: text).sorted() == [
            0x0d19d0b3014,
            0x11f1ebdfe0e,
            0x29f7d0144c6,
            0x3842c51e6a7,
            0x406a774b740,
            0x5fbfc72a2bf,
            0x64eee4e5b90,
            0x79642ce6f09,
            0x82e95fad571,
            0x9b1da6fd829,
            0xa8f2bc933e8,
            0xbaed4c646e3,
            0xc56bee52f77,
            0xdb8c642e8ea,
            0xe0cbb6cee17,
            0xfd77225e378,
            0x102ae962e205,
            0x11bbedc0b848,
            0x1223c1573581,
            0x1381fad1bb48,
            0x148fecaf8d6f,
            0x15bdaa82f347,
            0x164dcd427b5f,
            0x171f00cee83b,
            0x18c02ecda2fe,
            0x191c7a53efd3,
            0x1a938290c06a,
            0x1bd879e7b67a,
            0x1c1cb657f167,
            0x1d07164c6797,
            0x1ea8648ebd6a,
            0x1f96e41937a1,
        ])
    }
}
