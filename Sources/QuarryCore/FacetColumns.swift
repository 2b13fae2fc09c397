import Foundation
import XapianKit

/// The facet columns of one index (`FacetColumn`: a value slot of every
/// document, in memory), shared by the searchers that read it: the daemon's
/// threads build a slot's column once per index revision, not once each.
///
/// A column is built only once it would have paid for itself, as in the ski
/// rental problem. Building reads the slot of every document (30–65 ns each,
/// measured at 1.4 million documents), while Xapian's own counting costs about
/// 0.3 µs per matching document and facet (the query mix at 100,000 articles).
/// So a slot is counted Xapian's way until, at the current revision, it has
/// counted a fifth as many values as the index has documents, about what
/// building would have cost; the next facet builds the column. However often
/// the index changes, facets then cost at most about twice Xapian's way; over
/// a settled index a daemon counts at an array read a document.
public final class FacetColumns: @unchecked Sendable {
    // @unchecked: `slots` is only touched while `lock` is held. A pthread lock
    // (NSLock) rather than Synchronization's Mutex, whose futex ThreadSanitizer
    // cannot see (the daemon's threads were reported as racing on it).
    private struct SlotState {
        var column: FacetColumn?
        /// Values counted without a column since the index was at `revision`.
        var revision: UInt64 = 0
        var counted: UInt64 = 0
        /// A thread is building this revision's column: the others count without.
        var building = false
    }

    private let lock = NSLock()
    private var slots: [UInt32: SlotState] = [:]

    public init() {}

    private enum Decision { case use(FacetColumn), countWithout, build }

    /// The column of `slot` for `database` as it is now, or nil to count
    /// without one (see the type's note). Builds it when it pays.
    func column(slot: UInt32, database: Database) throws(XapianError) -> FacetColumn? {
        let revision = try database.revision
        let documents = UInt64(try database.documentCount)
        let decision = try locked { () throws(XapianError) -> Decision in
            var state = slots[slot] ?? SlotState()
            defer { slots[slot] = state }
            if let column = state.column, try column.fits(database) { return .use(column) }
            if state.revision != revision { (state.revision, state.counted, state.building) = (revision, 0, false) }
            guard !state.building, state.counted * 5 >= documents else { return .countWithout }
            state.building = true
            return .build
        }
        switch decision {
        case .use(let column): return column
        case .countWithout: return nil
        case .build:
            // Built outside the lock: other threads' searches go on meanwhile.
            defer { locked { if slots[slot]?.revision == revision { slots[slot]?.building = false } } }
            let column = try FacetColumn(database: database, slot: slot)
            locked { slots[slot, default: SlotState()].column = column }
            return column
        }
    }

    /// The slots that have a column (of any revision): what tests check.
    var slotsWithColumns: Set<UInt32> {
        locked { Set(slots.compactMap { $0.value.column == nil ? nil : $0.key }) }
    }

    /// Records that a facet on `slot` counted `values` documents without a column.
    func counted(_ values: UInt64, slot: UInt32, revision: UInt64) {
        locked {
            var state = slots[slot] ?? SlotState()
            if state.revision != revision { (state.revision, state.counted, state.building) = (revision, 0, false) }
            state.counted += values
            slots[slot] = state
        }
    }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
