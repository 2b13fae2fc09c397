@testable import QuarryCore
import Testing

/// The ASCII fast path of `CommentFingerprint.normalise` (and of the band terms)
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

    @Test func bandTermsAreStable() {
        // Stored in indexes: a speed-up must not move them. These are the terms the
        // indexer wrote for this comment (of a generated corpus) before the change.
        let text = "Clifaim the also a the may weexplail. Munje trondweat the with braindskyng, of. Noongum to on as with to of there kouckbi mynboux veen has the."
        #expect(NearDuplicates.bandTerms(of: text).sorted() == [
            "XB0q6egmc0k",
            "XB13sfbrvge",
            "XB2jtug2h66",
            "XB3ggm53pl7",
            "XB40qjn9dq0",
            "XB5vfu758lv",
            "XB69rn4smsg",
            "XB7ip1csro9",
            "XB85qavllbh",
            "XB9m7d6vm19",
            "XBahslsicv8",
            "XBblracchn3",
            "XBcaqveabrn",
            "XBdn3345q7a",
            "XBe1itmprgn",
            "XBfqtp2boro",
            "XBg5bkm5og5",
            "XBhnfms1e28",
            "XBi4f0ledc1",
            "XBjg7td3eq8",
            "XBkhvmav3bf",
            "XBlnml85sq7",
            "XBm9n6k4uqv",
            "XBn3s0ctq1r",
            "XBoo0ncr8nu",
            "XBp3ht57ruj",
            "XBqie191g3a",
            "XBrr1sufdjq",
            "XBs3ir5fsb7",
            "XBt0sb4opsn",
            "XBul1i8tfba",
            "XBviri1idt1",
        ])
    }
}
