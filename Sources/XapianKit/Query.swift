import CXapian

/// An immutable Xapian query tree.
public final class Query {
    public enum Operator: Sendable {
        case and, or, andNot, filter, andMaybe, synonym

        var raw: Int32 {
            switch self {
            case .and: Int32(CX_OP_AND)
            case .or: Int32(CX_OP_OR)
            case .andNot: Int32(CX_OP_AND_NOT)
            case .filter: Int32(CX_OP_FILTER)
            case .andMaybe: Int32(CX_OP_AND_MAYBE)
            case .synonym: Int32(CX_OP_SYNONYM)
            }
        }
    }

    let handle: OpaquePointer

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { cx_query_free(handle) }

    public convenience init(term: String) throws(XapianError) {
        let handle = try withBytes(term) { (bytes, length) throws(XapianError) in
            try xapianCall { cx_query_term(bytes, length, $0) }
        }
        self.init(handle: handle)
    }

    /// Whether `Enquire.weighByLengths` can weigh this query from a column:
    /// false for a phrase or NEAR inside an OR (or any part a document may
    /// match without), true for everything else.
    public var isWeighableByLengths: Bool {
        get throws(XapianError) {
            var weighable = false
            try xapianCheck { cx_query_weighable_by_lengths(handle, &weighable, $0) }
            return weighable
        }
    }

    /// Matches every document.
    public static func all() throws(XapianError) -> Query {
        Query(handle: try xapianCall { cx_query_match_all($0) })
    }

    /// Combines subqueries; no subqueries give a query that matches nothing.
    public convenience init(_ op: Operator, _ subqueries: [Query]) throws(XapianError) {
        // The subqueries must live until Xapian has copied them into the new tree
        // (after that they need not outlive it): an optimised build otherwise
        // frees one made inline in the call, e.g. `Query(.filter, [q, Query(term:)])`,
        // as soon as its handle has been read.
        let handle = try withExtendedLifetime(subqueries) { () throws(XapianError) in
            let handles: [OpaquePointer] = subqueries.map(\.handle)
            return try handles.withUnsafeBufferPointer { (buffer) throws(XapianError) in
                try xapianCall { cx_query_combine(op.raw, buffer.baseAddress, buffer.count, $0) }
            }
        }
        self.init(handle: handle)
    }

    /// Documents whose value in `slot` lies in `lower...upper` (byte order);
    /// a nil upper bound means no limit.
    public convenience init(valueIn slot: UInt32, from lower: [UInt8], to upper: [UInt8]?) throws(XapianError) {
        let handle = try withBytes(lower) { (lowBytes, lowLength) throws(XapianError) in
            try withBytes(upper ?? []) { (highBytes, highLength) throws(XapianError) in
                try xapianCall { cx_query_value_range(slot, lowBytes, lowLength, highBytes, highLength, upper == nil, $0) }
            }
        }
        self.init(handle: handle)
    }

    public var isEmpty: Bool { cx_query_is_empty(handle) }

    /// Xapian's description of the query tree, for debugging and tests.
    public var description: String {
        (try? xapianString { cx_query_description(handle, $0, $1) }) ?? "Query(?)"
    }
}
