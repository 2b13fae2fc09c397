import Testing
import XapianKit

/// A facet read from a `FacetColumn` must count exactly what Xapian's own
/// ValueCountMatchSpy counts document by document, and what the documents
/// hold; a column that does not fit the database must be ignored, not misread.
@Suite struct FacetColumnTests {
    /// Two shards of 3,000 documents: a value in slot 0 that every 11th
    /// document lacks, terms that pick out different subsets, and deleted
    /// documents that leave gaps in the document numbers.
    func withShards<T>(_ body: ([String]) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            var paths: [String] = []
            for shard in 0..<2 {
                let path = "\(directory)/shard\(shard)"
                let database = try WritableDatabase(path: path)
                for number in 0..<3000 {
                    let document = try Document()
                    try document.addTerm("all")
                    if number % 2 == 0 { try document.addTerm("even") }
                    if number % 7 == shard { try document.addTerm("sparse") }
                    if number % 11 != 0 { try document.setValue(0, Self.value(number, shard: shard)) }
                    try document.addBooleanTerm("Q\(number)")
                    try database.replace(uniqueTerm: "Q\(number)", with: document)
                }
                for number in stride(from: 5, to: 3000, by: 13) { try database.deleteDocuments(withTerm: "Q\(number)") }
                try database.commit()
                try database.close()
                paths.append(path)
            }
            return try body(paths)
        }
    }

    /// Skewed so the most frequent values differ in count.
    static func value(_ number: Int, shard: Int) -> String { "author\((number * number + shard) % 37)" }

    /// Shard 0's counts worked out from how `withShards` made it.
    static func expectedCounts(_ term: String) -> [String: UInt64] {
        var counts: [String: UInt64] = [:]
        for number in 0..<3000 where number % 11 != 0 && (number < 5 || (number - 5) % 13 != 0) {
            let matches = switch term { case "even": number % 2 == 0; case "sparse": number % 7 == 0; default: true }
            if matches { counts[value(number, shard: 0), default: 0] += 1 }
        }
        return counts
    }

    func facets(_ database: Database, _ term: String, column: FacetColumn?, checkAtLeast: UInt32)
        throws -> (values: [String: UInt64], top: [String], total: UInt64)
    {
        let enquire = try Enquire(database: database)
        try enquire.setQuery(try Query(term: term))
        try enquire.addFacet(slot: 0, column: column)
        _ = try enquire.mset(offset: 0, limit: 10, checkAtLeast: checkAtLeast)
        // The top five first: a column's spy then hands Xapian only the values
        // that can be among them (many tie: the values are squares mod 37).
        let top = try enquire.facetValues(slot: 0, max: 5).map(\.term)
        let all = try enquire.facetValues(slot: 0)
        return (Dictionary(uniqueKeysWithValues: all.map { ($0.term, $0.count) }), top, try enquire.facetTotal(slot: 0))
    }

    @Test(arguments: ["all", "even", "sparse"])
    func aColumnCountsWhatXapiansOwnSpyCounts(term: String) throws {
        try withShards { paths in
            let database = try Database(path: paths[0])
            let column = try FacetColumn(database: database, slot: 0)
            #expect(try column.fits(database))
            for checkAtLeast: UInt32 in [0, 100, 1_000_000] {
                let stock = try facets(database, term, column: nil, checkAtLeast: checkAtLeast)
                let fromColumn = try facets(database, term, column: column, checkAtLeast: checkAtLeast)
                #expect(fromColumn.values == stock.values, "checkAtLeast \(checkAtLeast)")
                #expect(fromColumn.top == stock.top, "checkAtLeast \(checkAtLeast)")
                #expect(fromColumn.total == stock.total, "checkAtLeast \(checkAtLeast)")
                if checkAtLeast == 1_000_000 {
                    #expect(fromColumn.values == Self.expectedCounts(term))
                    #expect(fromColumn.total == UInt64(try database.termFrequency(term)))
                }
            }
        }
    }

    @Test func aColumnOfAnotherRevisionOrDatabaseIsNotUsed() throws {
        try withShards { paths in
            let old = try Database(path: paths[0])
            let column = try FacetColumn(database: old, slot: 0)
            // Another database: same shape, other values.
            let other = try Database(path: paths[1])
            #expect(try !column.fits(other))
            #expect(try facets(other, "all", column: column, checkAtLeast: 1_000_000).values
                == facets(other, "all", column: nil, checkAtLeast: 1_000_000).values)
            // The same database at a later revision: one document's value changed.
            let writer = try WritableDatabase(path: paths[0], mode: .open)
            let changed = try Document()
            try changed.addTerm("all")
            try changed.setValue(0, "newcomer")
            try changed.addBooleanTerm("Q1")
            try writer.replace(uniqueTerm: "Q1", with: changed)
            try writer.commit()
            try writer.close()
            let current = try Database(path: paths[0])
            #expect(try !column.fits(current))
            let counted = try facets(current, "all", column: column, checkAtLeast: 1_000_000).values
            #expect(counted["newcomer"] == 1)
            #expect(counted == (try facets(current, "all", column: nil, checkAtLeast: 1_000_000).values))
            // A combination of shards has no column.
            let combined = try Database(combining: try paths.map { (path) throws(XapianError) in try Database(path: path) })
            #expect(throws: XapianError.self) { _ = try FacetColumn(database: combined, slot: 0) }
        }
    }
}
