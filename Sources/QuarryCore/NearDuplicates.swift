/// Near-duplicate comments: texts that differ by a few words (a name added in
/// front, a word swapped, a changed ending).
///
/// The normalised text (`CommentFingerprint.normalise`) is cut into word
/// shingles (every run of `shingleSize` consecutive words). Two comments are
/// near-duplicates when the Jaccard similarity of their shingle sets reaches a
/// threshold (`defaultThreshold`). Comparing every pair would be quadratic, so
/// each comment also gets a MinHash signature of `bands × rows` hashes, cut into
/// `bands` bands; each band becomes one key (`bandKeys`), and `BandStore` lists
/// the texts of each key. Two comments whose similarity is J share at least
/// one band with probability 1 − (1 − J^rows)^bands, so the texts sharing a
/// comment's bands are its likely near-duplicates, and only those are compared
/// exactly.
///
/// docs/DUPLICATES.md explains the choice of parameters with measured figures.
public enum NearDuplicates {
    /// Words per shingle. Pairs of words: one changed word breaks two shingles,
    /// where triples would lose three, which matters for 10-word comments.
    public static let shingleSize = 2
    /// LSH bands (at most 32: the band number is 5 bits of the key), and
    /// MinHash rows per band: 96 hash functions in all.
    public static let bands = 32
    public static let rows = 3
    public static var hashCount: Int { bands * rows }
    /// Shingle-set Jaccard similarity from which two comments are near-duplicates.
    /// Tuned on generated ground truth (docs/DUPLICATES.md).
    public static let defaultThreshold = 0.4

    /// The shingle hashes of a normalised text, or nil when it has fewer words
    /// than a shingle: such a text only matches its exact copies.
    public static func shingles(ofNormalised text: String) -> Set<UInt64>? {
        let words = text.split(separator: " ")
        guard words.count >= shingleSize else { return nil }
        var result = Set<UInt64>(minimumCapacity: words.count)
        for start in 0...(words.count - shingleSize) {
            var hasher = FNV1a64()
            for (offset, word) in words[start..<(start + shingleSize)].enumerated() {
                if offset > 0 { hasher.combine(CollectionOfOne(UInt8(ascii: " "))) }
                hasher.combine(word.utf8)
            }
            result.insert(hasher.value)
        }
        return result
    }

    /// `shingles(ofNormalised:)` as a sorted array without repeats, the form
    /// `bandKeys(distinct:)` and `jaccard(sorted:_:)` take. The indexer and the
    /// recount make one for every comment: for ASCII text (nearly all) the words
    /// are found and hashed in the text's bytes, with no substring a word and no
    /// set. Other text goes through `split`, whose words are grapheme clusters.
    static func sortedShingles(ofNormalised text: String) -> [UInt64]? {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return shingles(ofNormalised: text)?.sorted() }
        var text = text
        return text.withUTF8 { bytes in
            var words: [Range<Int>] = []
            var index = 0
            while index < bytes.count {
                guard bytes[index] != UInt8(ascii: " ") else {
                    index += 1
                    continue
                }
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: " ") { index += 1 }
                words.append(start..<index)
            }
            guard words.count >= shingleSize else { return nil }
            var result: [UInt64] = []
            result.reserveCapacity(words.count - shingleSize + 1)
            for start in 0...(words.count - shingleSize) {
                var hasher = FNV1a64()
                for offset in 0..<shingleSize {
                    if offset > 0 { hasher.combine(CollectionOfOne(UInt8(ascii: " "))) }
                    hasher.combine(UnsafeBufferPointer(rebasing: bytes[words[start + offset]]))
                }
                result.append(hasher.value)
            }
            result.sort()
            result.removeConsecutiveDuplicates()
            return result
        }
    }

    /// Shingles of a raw comment text (normalised first).
    public static func shingles(of text: String) -> Set<UInt64>? {
        shingles(ofNormalised: CommentFingerprint.normalise(text))
    }

    /// The MinHash signature: for each of `hashCount` hash functions, the least
    /// hash over the shingles. Equal positions estimate the Jaccard similarity.
    public static func signature(_ shingles: Set<UInt64>) -> [UInt64] {
        minHashes(shingles).minima
    }

    /// The signature, and for each position the shingle whose hash was least.
    private static func minHashes(_ shingles: some Collection<UInt64>) -> (minima: [UInt64], sources: [UInt64]) {
        var minima = [UInt64](repeating: .max, count: hashCount)
        var sources = [UInt64](repeating: 0, count: hashCount)
        for shingle in shingles {
            for index in 0..<hashCount {
                let hash = SplitMix64.mix(shingle ^ seeds[index])
                if hash < minima[index] {
                    minima[index] = hash
                    sources[index] = shingle
                }
            }
        }
        return (minima, sources)
    }

    /// The band keys of a set of shingles: one per band of its MinHash signature,
    /// except a band whose rows all come from one shingle, in a text of three
    /// shingles or more. A key is the band number (5 bits) above 40 bits of
    /// the band's hash; `BandStore` lists the texts of each.
    ///
    /// A band whose rows come from one shingle says no more than "holds this
    /// word pair", and when the pair is common ("of the", "and the") the least
    /// hash for three functions is often that one pair: thousands of unrelated
    /// comments then share the band (4,020 texts in one band of a
    /// 10,000-article corpus), and the clustering pass compared each with all
    /// the others, quadratic in the corpus. A near-duplicate shares many other
    /// bands; a text of one or two shingles has few others, so keeps them all.
    /// The shingles may come in any collection without repeats (the indexer
    /// and the recount hold them as a sorted array): the minima do not depend
    /// on order.
    static func bandKeys(distinct shingles: some Collection<UInt64>) -> [UInt64] {
        let (minima, sources) = minHashes(shingles)
        var keys: [UInt64] = []
        keys.reserveCapacity(bands)
        for band in 0..<bands {
            let rowSources = sources[(band * rows)..<((band + 1) * rows)]
            if shingles.count >= 3, rowSources.allSatisfy({ $0 == rowSources.first }) { continue }
            var hasher = FNV1a64()
            for row in 0..<rows {
                let value = minima[band * rows + row]
                // The 8 bytes least significant first, without an array per row.
                withUnsafeBytes(of: value.littleEndian) { hasher.combine($0) }
            }
            keys.append(UInt64(band) << 40 | hasher.value & (1 << 40 - 1))
        }
        return keys
    }

    /// The band keys of a raw comment text; empty when it is too short to shingle.
    public static func bandKeys(of text: String) -> [UInt64] {
        guard let shingles = sortedShingles(ofNormalised: CommentFingerprint.normalise(text)) else { return [] }
        return bandKeys(distinct: shingles)
    }

    /// |a ∩ b| / |a ∪ b|; 1 for two empty sets.
    public static func jaccard(_ a: Set<UInt64>, _ b: Set<UInt64>) -> Double {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        let shared = small.reduce(0) { large.contains($1) ? $0 + 1 : $0 }
        let union = a.count + b.count - shared
        return union == 0 ? 1 : Double(shared) / Double(union)
    }

    /// `jaccard` of two shingle sets given as sorted arrays without repeats: a
    /// merge, no hashing, for the many comparisons of a clustering pass.
    public static func jaccard(sorted a: [UInt64], _ b: [UInt64]) -> Double {
        var i = 0, j = 0, shared = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                shared += 1
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        let union = a.count + b.count - shared
        return union == 0 ? 1 : Double(shared) / Double(union)
    }

    /// The fraction of equal positions of two signatures: MinHash's estimate of
    /// the Jaccard similarity.
    public static func estimatedJaccard(_ a: [UInt64], _ b: [UInt64]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        return Double(zip(a, b).reduce(0) { $1.0 == $1.1 ? $0 + 1 : $0 }) / Double(a.count)
    }

    // Fixed seeds: band keys are stored with the index, so they must come out the
    // same in every run and on every machine (never use Hasher, which is seeded
    // per process).
    private static let seeds: [UInt64] = (0..<hashCount).map { SplitMix64.mix(0x5155_4152_5259 &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15) }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
