import CXapian

/// One value slot of every document of a database, read into memory at one
/// revision: what a facet reads instead of asking the database document by
/// document (see `Enquire.addFacet(slot:column:)`). Immutable once built, so
/// searchers on several threads may share one.
public final class FacetColumn: @unchecked Sendable {
    // @unchecked: the shim's column is never written after cx_facet_column_build.
    let handle: OpaquePointer

    /// Reads `slot` of every document of `database`, which must be a single
    /// local database (not a combination of shards, not a remote one).
    public init(database: Database, slot: UInt32) throws(XapianError) {
        handle = try withExtendedLifetime(database) { () throws(XapianError) in
            try xapianCall { cx_facet_column_build(database.handle, slot, $0) }
        }
    }

    deinit { cx_facet_column_free(handle) }

    /// Whether this column was built from `database` as it is now: the same
    /// database at the same revision. Only then does a facet use it.
    public func fits(_ database: Database) throws(XapianError) -> Bool {
        var fits = false
        try withExtendedLifetime(database) { () throws(XapianError) in
            try xapianCheck { cx_facet_column_fits(handle, database.handle, &fits, $0) }
        }
        return fits
    }
}
