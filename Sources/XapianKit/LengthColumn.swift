import CXapian

/// The length of every document of a database (what BM25 normalises a term's
/// frequency by), read into memory at one revision: what a search weighs with
/// instead of looking each matching document's length up in the database (see
/// `Enquire.weighByLengths(_:)`). Immutable once built, so searchers on
/// several threads may share one.
public final class LengthColumn: @unchecked Sendable {
    // @unchecked: the shim's column is never written after cx_length_column_build.
    let handle: OpaquePointer

    /// Reads the length of every document of `database`, which must be a
    /// single local database (not a combination of shards, not a remote one).
    public init(database: Database) throws(XapianError) {
        handle = try withExtendedLifetime(database) { () throws(XapianError) in
            try xapianCall { cx_length_column_build(database.handle, $0) }
        }
    }

    deinit { cx_length_column_free(handle) }

    /// Whether this column was built from `database` as it is now: the same
    /// database at the same revision. Only then does a search use it.
    public func fits(_ database: Database) throws(XapianError) -> Bool {
        var fits = false
        try withExtendedLifetime(database) { () throws(XapianError) in
            try xapianCheck { cx_length_column_fits(handle, database.handle, &fits, $0) }
        }
        return fits
    }
}
