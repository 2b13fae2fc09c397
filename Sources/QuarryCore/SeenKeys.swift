import Synchronization

/// The duplicate keys (fingerprint and band terms) of every comment written so
/// far in a run that began on an index with no comments: a Bloom filter of
/// fixed size, shared by the shards' writer threads.
///
/// On such a run a comment can only have a copy or a near-duplicate among the
/// comments written before it in the same run, and it can only have one if it
/// shares a key with one of them. So a comment whose keys were never seen needs
/// no recount (its values, one account, one copy, no cluster, are already
/// right), and only the others are marked for `CoordinationMaintainer`. A Bloom
/// filter never misses a key it holds, so no duplicate is lost; a false "seen"
/// only marks a comment that the recount then finds alone. Memory is fixed
/// whatever the corpus: past the capacity it was sized for, false positives
/// rise and the recount does more work, no more.
final class SeenKeys: Sendable {
    private let bits: Mutex<[UInt64]>
    private let bitCount: UInt64
    private static let probes = 4

    /// Sized for about 16 bits per key of `expectedKeys` (a false positive per
    /// key under 0.3 %), within 1 MiB to `maxBytes`.
    init(expectedKeys: Int, maxBytes: Int = 128 << 20) {
        let words = min(max(expectedKeys * 16 / 64, (1 << 20) / 8), maxBytes / 8)
        bits = Mutex([UInt64](repeating: 0, count: words))
        bitCount = UInt64(words) * 64
    }

    /// Adds `keys` and tells whether any of them was (probably) added before.
    func insert(_ keys: [String]) -> Bool {
        let hashes = keys.map { key -> UInt64 in
            var hasher = FNV1a64()
            hasher.combine(key.utf8)
            return hasher.value
        }
        return bits.withLock { bits in
            var seen = false
            for hash in hashes {
                // Double hashing: probe i is h1 + i·h2, with h2 odd so the probes differ.
                let h1 = hash, h2 = NearDuplicates.mix(hash) | 1
                var present = true
                for probe in 0..<UInt64(Self.probes) {
                    let bit = (h1 &+ probe &* h2) % bitCount
                    let mask: UInt64 = 1 << (bit & 63)
                    let word = Int(bit >> 6)
                    if bits[word] & mask == 0 {
                        present = false
                        bits[word] |= mask
                    }
                }
                seen = seen || present
            }
            return seen
        }
    }
}
