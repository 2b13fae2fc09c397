import Foundation
import XapianKit

/// The recount of the texts marked dirty (`CoordinationMaintainer`) on several
/// threads. After a first run of 100,000 articles that is 439,000 texts, which
/// took 47 to 60 s on one thread while the other core waited.
///
/// Each thread opens the committed index read-only (its own handles, since
/// Xapian objects stay on one thread) with its own maintainer and caches, and
/// takes the marked texts whose mark's hash falls to it. Writes go to the
/// writable shards one at a time, under a lock, and are committed by the
/// caller. Two threads can reach one cluster from two of its texts: both read
/// the same committed index, so both find the same texts, and the first to
/// claim them writes the cluster.
///
/// The threads share the caches' bounds, so memory is what one maintainer's
/// would be (a 200k run peaked at 924 MiB when each had a full bound). Since
/// cache entries hold fingerprints as numbers and texts are bounded by their
/// size, the 200k recount takes 220 s instead of 402 (docs/PERFORMANCE.md,
/// sixth session).
final class ParallelRecount: @unchecked Sendable {
    // @unchecked: `write`, `clear`, `claimed`, `outcomes` and `failure` are only
    // touched while `lock` is held; the rest is never changed.
    private let lock = NSLock()
    private let paths: [String]
    private let threshold: Double?
    private let bands: BandReader?
    private let repeats: RepeatedKeys?
    /// Texts to recount besides the marked ones (`IndexWriter.textsSharingBands`).
    private let texts: [Fingerprint]
    private let threads: Int
    private let cacheShare: Double
    private let write: (DocumentID, Document) throws -> Void
    private let clear: (String) throws -> Void
    /// The texts of each cluster written so far, sorted: a few thousand at
    /// most (606 after the 100,000-article run), so kept whole.
    private var claimed = Set<[Fingerprint]>()
    private var outcomes: [CoordinationMaintainer.Outcome]
    private var failure: (any Error)?

    /// - Parameters:
    ///   - paths: the shards (or the one database), committed.
    ///   - cacheShare: the part of the caches' bounds the threads use together.
    ///   - write: replaces a document, by its docid in a combined view of `paths`.
    ///   - clear: removes a metadata key from every shard.
    init(paths: [String], threshold: Double?, bands: BandReader?, repeats: RepeatedKeys?, texts: [Fingerprint] = [], threads: Int, cacheShare: Double = 1,
         write: @escaping (DocumentID, Document) throws -> Void, clear: @escaping (String) throws -> Void) {
        self.paths = paths
        self.threshold = threshold
        self.bands = bands
        self.repeats = repeats
        self.texts = texts
        self.threads = max(1, threads)
        self.cacheShare = cacheShare
        self.write = write
        self.clear = clear
        outcomes = Array(repeating: CoordinationMaintainer.Outcome(), count: self.threads)
    }

    /// Recounts every marked text and clears its mark; the first error stops
    /// every thread and is thrown.
    func run() throws -> CoordinationMaintainer.Outcome {
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            do {
                let outcome = try work(index)
                lock.withLock { outcomes[index] = outcome }
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
        if let failure { throw failure }
        var total = CoordinationMaintainer.Outcome()
        for outcome in outcomes { total.add(outcome) }
        return total
    }

    private func work(_ index: Int) throws -> CoordinationMaintainer.Outcome {
        let views = try paths.map { try Database(path: $0) }
        let reader = views.count == 1 ? views[0] : try Database(combining: views)
        let prefix = IndexSchema.Metadata.dirtyFingerprintPrefix
        let maintainer = CoordinationMaintainer(
            database: reader, threshold: threshold, bands: bands, repeats: repeats, share: cacheShare / Double(threads),
            write: { id, document in try self.lock.withLock { try self.write(id, document) } },
            settled: { texts in try self.lock.withLock { for text in texts { try self.clear(prefix + text.hex) } } },
            claim: { texts in self.lock.withLock { self.claimed.insert(texts).inserted } })
        var outcome = CoordinationMaintainer.Outcome()
        // A text marked in two shards comes up twice, to the same thread, which
        // knows it has placed it; so does a text both marked and sharing a band.
        func owns(_ key: String) -> Bool { FNV1a64.hash(key.utf8) % UInt64(threads) == UInt64(index) }
        do {
            for view in views {
                try view.forEachMetadataKey(prefix: prefix) { key in
                    // Another thread failed: its error is the one thrown.
                    if lock.withLock({ failure != nil }) { throw Stopped() }
                    guard owns(key) else { return }
                    if try !maintainer.recount(mark: key, into: &outcome) { try lock.withLock { try clear(key) } }
                }
            }
            for text in texts {
                if lock.withLock({ failure != nil }) { throw Stopped() }
                guard owns(prefix + text.hex) else { continue }
                try maintainer.recount(text, into: &outcome)
            }
        } catch is Stopped {}
        return outcome
    }

    private struct Stopped: Error {}
}
