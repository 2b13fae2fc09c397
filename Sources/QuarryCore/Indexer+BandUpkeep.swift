import Foundation
import Logging

extension Indexer {
    /// Before a run writes anything: rebuilds the near-duplicate band store
    /// from the index (every committed comment's text is in it) when the store
    /// is missing (a database copied without it), damaged (a run file that no
    /// longer reads as one), or mostly pairs of texts that left the index.
    ///
    /// The store only ever grows: a deleted or changed comment's pairs stay,
    /// and the recount passes over their texts (docs/DUPLICATES.md). Once the
    /// pairs outnumber `staleFactor` times the bands of every comment in the
    /// index, more than half of them name texts that are gone, and a rebuild
    /// (reading each comment once, about what a large recount costs) gives the
    /// space and the lookups back. Counting comments rather than distinct texts
    /// errs towards rebuilding later.
    static func keepBandsInShape(_ bands: BandStore, writers: [IndexWriter], logger: Logger) throws(QuarryError) {
        bands.removeLeftovers()
        let comments = writers.reduce(0) { $0 + $1.count(of: "comment") }
        guard comments > 0 else { return }
        let reason: String
        if !FileManager.default.fileExists(atPath: bands.directory) {
            reason = "the near-duplicate band store was missing"
        } else {
            do {
                // Opening the runs is where a damaged one shows.
                let entries = try bands.reader().count
                guard entries > staleFactor * NearDuplicates.bands * comments else { return }
                reason = "the near-duplicate band store held \(entries) pairs for \(comments) comments: mostly texts no longer in the index"
            } catch where error.code == .indexCorrupt {
                // The advice in the message is what happens next, here.
                reason = error.message.replacingOccurrences(of: "; " + BandStore.rebuildAdvice, with: "")
            }
        }
        let clock = ContinuousClock(), start = clock.now
        let texts = try bands.rebuild { (fresh) throws(QuarryError) in try IndexWriter.rebuildBands(writers, into: fresh) }
        logger.warning("\(reason); rebuilt it from the index", metadata: [
            "store": "\(bands.directory)", "texts": "\(texts)", "seconds": "\((clock.now - start).components.seconds)"])
    }

    /// Pairs per comment band beyond which the band store is rebuilt.
    static let staleFactor = 2
}
