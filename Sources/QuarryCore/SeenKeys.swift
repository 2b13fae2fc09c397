import Foundation

/// The duplicate keys (fingerprint and band keys) of every comment written so
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
///
/// A second, smaller filter holds the keys seen more than once. The recount
/// asks it before looking a band up in `BandStore`: a band that no two
/// comments of the run had cannot link a text to another one.
final class SeenKeys: @unchecked Sendable {
    // @unchecked: the filters are only touched while `lock` is held. A pthread
    // lock (NSLock) rather than Synchronization's Mutex, whose futex
    // ThreadSanitizer cannot see: under `make sanitize-thread` every insert from
    // two shard threads was reported as a race.
    private let lock = NSLock()
    private var once: BloomFilter
    private var twice: BloomFilter

    /// Sized for about 16 bits per key of `expectedKeys` (a false positive per
    /// key under 0.3 %), within 1 MiB to `maxBytes`; the second filter an
    /// eighth of that.
    init(expectedKeys: Int, maxBytes: Int = 128 << 20) {
        let bytes = min(max(expectedKeys * 2, 1 << 20), maxBytes)
        once = BloomFilter(bytes: bytes)
        twice = BloomFilter(bytes: bytes / 8)
    }

    /// Adds a comment's keys and tells whether any of them was (probably) added before.
    func insert(fingerprint: Fingerprint, bands: [UInt64]) -> Bool {
        let hashes = [Self.hash(fingerprint: fingerprint)] + bands.map(Self.hash(band:))
        return lock.withLock {
            var seen = false
            for hash in hashes where once.insert(hash) {
                twice.insert(hash)
                seen = true
            }
            return seen
        }
    }

    /// The keys added more than once so far, to ask from any number of threads
    /// without the lock: the recount's threads ask for every band they walk,
    /// once nothing is added any more.
    func repeatedKeys() -> RepeatedKeys {
        lock.withLock { RepeatedKeys(filter: twice) }
    }

    // Band keys are small numbers (band number and 40 bits): mixed, so the
    // filter's probes spread; a fingerprint is a hash already, tagged so it
    // cannot stand for a band.
    fileprivate static func hash(band: UInt64) -> UInt64 { SplitMix64.mix(band) }
    fileprivate static func hash(fingerprint: Fingerprint) -> UInt64 { SplitMix64.mix(~fingerprint.value) }
}

/// The keys a run's comments had more than once, as `SeenKeys` held them.
struct RepeatedKeys: Sendable {
    fileprivate let filter: BloomFilter

    /// Whether `band` may have been added more than once; false is certain.
    func mayRepeat(band: UInt64) -> Bool {
        filter.contains(SeenKeys.hash(band: band))
    }
}

/// A Bloom filter over 64-bit hashes, 4 probes by double hashing.
private struct BloomFilter {
    private var words: [UInt64]
    private let bitCount: UInt64

    init(bytes: Int) {
        words = [UInt64](repeating: 0, count: max(1, bytes / 8))
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
