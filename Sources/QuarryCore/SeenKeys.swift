import Foundation

/// The fingerprints of every comment written so far in a run that began on an
/// index with no comments: a Bloom filter of fixed size, shared by the shards'
/// writer threads.
///
/// On such a run a comment can only have a copy among the comments written
/// before it in the same run, and only if its fingerprint was seen. So a
/// comment whose fingerprint is new is not marked for the recount as a copy;
/// its near-duplicates, if any, share a band with it, and the texts sharing a
/// band are read from the band store once the run's files are written
/// (`IndexWriter.finishCoordination`). A Bloom filter never misses a key it
/// holds, so no copy is lost; a false "seen" only marks a comment that the
/// recount then finds alone. Memory is fixed whatever the corpus: past the
/// capacity it was sized for, false positives rise and the recount does more
/// work, no more.
///
/// The bands used to go through this filter too, 32 keys a comment: at 100,000
/// articles that was a 128 MiB filter probed 4 times a key, under a lock two
/// threads share, and a mark written into the index for every comment sharing
/// a band (docs/PERFORMANCE.md, seventh session).
final class SeenKeys: @unchecked Sendable {
    // @unchecked: the filter is only touched while `lock` is held. A pthread
    // lock (NSLock) rather than Synchronization's Mutex, whose futex
    // ThreadSanitizer cannot see: under `make sanitize-thread` every insert from
    // two shard threads was reported as a race.
    private let lock = NSLock()
    private var once: BloomFilter

    /// Sized for about 16 bits per key of `expectedKeys` (a false positive per
    /// key under 0.3 %), within 1 MiB to `maxBytes`.
    init(expectedKeys: Int, maxBytes: Int = 128 << 20) {
        once = BloomFilter(keys: expectedKeys, maxBytes: maxBytes)
    }

    /// Adds a comment's fingerprint and tells whether it was (probably) added before.
    func insert(fingerprint: Fingerprint) -> Bool {
        // A fingerprint is a hash already; mixed again so that close values spread.
        let hash = SplitMix64.mix(fingerprint.value)
        return lock.withLock { once.insert(hash) }
    }
}

/// The bands two texts or more hold (`BandReader.forEachSharedBand`). The
/// recount asks it before looking a band up: a band held by one text cannot
/// link it to another, and most bands are.
struct RepeatedKeys: Sendable {
    private var filter: BloomFilter

    /// Sized for about 16 bits per band of `expected`, within 1 MiB to `maxBytes`.
    init(expected: Int, maxBytes: Int = 64 << 20) {
        filter = BloomFilter(keys: expected, maxBytes: maxBytes)
    }

    mutating func insert(band: UInt64) {
        filter.insert(SplitMix64.mix(band))
    }

    /// Whether `band` may be held by two texts or more; false is certain.
    func mayRepeat(band: UInt64) -> Bool {
        filter.contains(SplitMix64.mix(band))
    }
}

/// A Bloom filter over 64-bit hashes, 4 probes by double hashing.
private struct BloomFilter {
    private var words: [UInt64]
    private let bitCount: UInt64

    /// About 16 bits per key of `keys`, within 1 MiB to `maxBytes`.
    init(keys: Int, maxBytes: Int) {
        words = [UInt64](repeating: 0, count: max(1, min(max(keys * 2, 1 << 20), maxBytes) / 8))
        bitCount = UInt64(words.count) * 64
    }

    /// Adds `hash`; returns whether it was (probably) there already.
    @discardableResult
    mutating func insert(_ hash: UInt64) -> Bool {
        // The probes are computed here, not by a helper taking a closure that
        // sets the bits: that helper held a copy of `self`, so every bit set
        // found the array shared and copied all of it (megabytes per comment;
        // a 10,000-article first run took over 15 minutes instead of 30 s).
        var present = true
        let step = Self.step(hash)
        for probe in UInt64(0)..<Self.probes {
            let (word, mask) = position(hash, probe, step)
            if words[word] & mask == 0 {
                present = false
                words[word] |= mask
            }
        }
        return present
    }

    func contains(_ hash: UInt64) -> Bool {
        let step = Self.step(hash)
        for probe in UInt64(0)..<Self.probes {
            let (word, mask) = position(hash, probe, step)
            if words[word] & mask == 0 { return false }
        }
        return true
    }

    private static let probes: UInt64 = 4

    /// Probe i is h1 + i·h2, with h2 odd so the probes differ.
    private static func step(_ hash: UInt64) -> UInt64 {
        SplitMix64.mix(hash) | 1
    }

    private func position(_ hash: UInt64, _ probe: UInt64, _ step: UInt64) -> (word: Int, mask: UInt64) {
        let bit = (hash &+ probe &* step) % bitCount
        return (Int(bit >> 6), 1 << (bit & 63))
    }
}
