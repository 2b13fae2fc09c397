import Foundation
import XapianKit

/// The in-memory columns of one index that its searchers (the daemon's
/// threads) share: a value slot of every document for each facet
/// (`FacetColumn`), and every document's length for BM25 (`LengthColumn`).
/// Each is built once per index revision, not once per searcher.
///
/// A column is built only once it would have paid for itself, as in the ski
/// rental problem. Building reads the whole index's entry for it once (30–65
/// ns a document for a facet slot, measured at 1.4 million documents), while
/// without it Xapian looks each matching document up (about 0.3 µs per
/// matching document and facet in the query mix at 100,000 articles, and a
/// walk along the length list for each document weighed). So until, at the
/// current revision, searches without a column have looked up a fifth as many
/// documents as the index holds, about what building would have cost, they go
/// without; the next search builds it. However often the index changes, the
/// lookups then cost at most about twice Xapian's way; over a settled index a
/// daemon reads an array.
public final class SearchColumns: @unchecked Sendable {
    // @unchecked: `states` is only touched while `lock` is held. A pthread lock
    // (NSLock) rather than Synchronization's Mutex, whose futex ThreadSanitizer
    // cannot see (the daemon's threads were reported as racing on it).

    /// Which column.
    enum Kind: Hashable {
        case facet(slot: UInt32)
        case lengths
    }

    private struct State {
        var column: (any RevisionColumn)?
        /// Documents looked up without a column since the index was at `revision`.
        var revision: UInt64 = 0
        var counted: UInt64 = 0
        /// A thread is building this revision's column: the others go without.
        var building = false

        mutating func follow(_ revision: UInt64) {
            if self.revision != revision { (self.revision, counted, building) = (revision, 0, false) }
        }
    }

    private let lock = NSLock()
    private var states: [Kind: State] = [:]

    public init() {}

    /// The column of facet `slot` for `database` as it is now, or nil to count
    /// without one (see the type's note). Builds it when it pays.
    func facetColumn(slot: UInt32, database: Database) throws(XapianError) -> FacetColumn? {
        try column(.facet(slot: slot), database) { () throws(XapianError) in try FacetColumn(database: database, slot: slot) }
    }

    /// The length column for `database` as it is now, or nil to weigh without
    /// one (see the type's note). Builds it when it pays.
    func lengthColumn(database: Database) throws(XapianError) -> LengthColumn? {
        try column(.lengths, database) { () throws(XapianError) in try LengthColumn(database: database) }
    }

    private enum Decision { case use(any RevisionColumn), goWithout, build }

    private func column<Column: RevisionColumn>(
        _ kind: Kind, _ database: Database, build: () throws(XapianError) -> Column
    ) throws(XapianError) -> Column? {
        let revision = try database.revision
        let documents = UInt64(try database.documentCount)
        let decision = try locked { () throws(XapianError) -> Decision in
            var state = states[kind] ?? State()
            defer { states[kind] = state }
            if let column = state.column, try column.fits(database) { return .use(column) }
            state.follow(revision)
            guard !state.building, state.counted * 5 >= documents else { return .goWithout }
            state.building = true
            return .build
        }
        switch decision {
        case .use(let column): return column as? Column
        case .goWithout: return nil
        case .build:
            // Built outside the lock: other threads' searches go on meanwhile.
            defer { locked { if states[kind]?.revision == revision { states[kind]?.building = false } } }
            let column = try build()
            locked { states[kind, default: State()].column = column }
            return column
        }
    }

    /// The columns built (of any revision): what tests check.
    var kindsWithColumns: Set<Kind> {
        locked { Set(states.compactMap { $0.value.column == nil ? nil : $0.key }) }
    }

    /// Records that a search looked `documents` up without the `kind` column.
    func counted(_ documents: UInt64, _ kind: Kind, revision: UInt64) {
        locked {
            var state = states[kind] ?? State()
            state.follow(revision)
            state.counted += documents
            states[kind] = state
        }
    }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// A column read from one database at one revision.
protocol RevisionColumn: AnyObject, Sendable {
    func fits(_ database: Database) throws(XapianError) -> Bool
}

extension FacetColumn: RevisionColumn {}
extension LengthColumn: RevisionColumn {}
