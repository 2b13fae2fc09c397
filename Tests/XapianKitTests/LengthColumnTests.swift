import Testing
import XapianKit

/// A search weighed by a `LengthColumn` must rank, weigh, count and score in
/// percent exactly as Xapian's own BM25 does, to the last bit; where it cannot
/// (a phrase inside an OR, a column that does not fit) it must step aside, not misweigh.
@Suite struct LengthColumnTests {
    static let words = ["river", "stone", "market", "council", "harbour", "winter", "tram", "bridge"]

    /// 3,000 documents of 1 to about 400 words, so their lengths differ widely;
    /// deleted documents leave gaps in the numbers; a value for sorting.
    func withDatabase<T>(_ body: (String) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            let path = directory + "/db"
            let database = try WritableDatabase(path: path)
            let generator = try TermGenerator(language: "english")
            for number in 0..<3000 {
                let document = try Document()
                try generator.setDocument(document)
                var text: [String] = []
                let length = 1 + (number * number) % 397
                for position in 0..<length {
                    // Skewed: early words are frequent, later ones rarer.
                    let index = (number + position * position) % (1 + position % Self.words.count)
                    text.append(Self.words[index])
                }
                try generator.index(text.joined(separator: " "))
                try document.setValue(0, String(number % 17))
                try document.addBooleanTerm("Q\(number)")
                try document.addBooleanTerm(number % 3 == 0 ? "Kthird" : "Kother")
                try database.replace(uniqueTerm: "Q\(number)", with: document)
            }
            for number in stride(from: 4, to: 3000, by: 9) { try database.deleteDocuments(withTerm: "Q\(number)") }
            try database.commit()
            try database.close()
            return try body(path)
        }
    }

    struct Outcome: Equatable {
        var hits: [MSet.Hit]
        var counts: [UInt32]

        static func == (a: Outcome, b: Outcome) -> Bool {
            a.counts == b.counts && a.hits.count == b.hits.count && zip(a.hits, b.hits).allSatisfy {
                $0.document == $1.document && $0.weight.bitPattern == $1.weight.bitPattern && $0.percent == $1.percent
                    && $0.rank == $1.rank
            }
        }
    }

    func search(_ database: Database, _ query: Query, lengths: LengthColumn?, sortByValue: Bool = false,
                offset: UInt32 = 0, checkAtLeast: UInt32 = 0) throws -> (outcome: Outcome, weighedByColumn: Bool) {
        let enquire = try Enquire(database: database)
        try enquire.setQuery(query)
        if sortByValue { try enquire.sortByValue(0, descending: true) }
        let applied = try lengths.map { (column) throws(XapianError) in try enquire.weighByLengths(column) } ?? false
        let mset = try enquire.mset(offset: offset, limit: 40, checkAtLeast: checkAtLeast)
        let counts = try mset.counts()
        let hits = try (0..<mset.count).map { (index) throws(XapianError) in try mset.hit(index) }
        return (Outcome(hits: hits, counts: [counts.lowerBound, counts.estimated, counts.upperBound]), applied)
    }

    func queries(_ database: Database) throws -> [(name: String, query: Query)] {
        let parser = try QueryParser(language: "english")
        try parser.setDatabase(database)
        func parse(_ text: String) throws -> Query { try parser.parse(text, flags: [.boolean, .phrase, .wildcard]) }
        return [
            ("one word", try parse("harbour")),
            ("a rare word", try parse("bridge")),
            ("OR", try parse("tram OR winter OR bridge")),
            ("AND", try parse("council AND tram")),
            ("AND NOT", try parse("stone NOT bridge")),
            ("wildcard", try parse("w* OR t*")),
            ("synonym of overlapping terms", try Query(.synonym, [try Query(term: "river"), try Query(term: "river"), try Query(term: "stone")])),
            ("filtered", try Query(.filter, [try parse("market OR winter"), try Query(term: "Kthird")])),
            ("boolean only", try Query(term: "Kthird")),
            // Phrases and NEAR where every match holds every weighted term.
            ("phrase", try parse("\"river stone\"")),
            ("phrase with a repeated word", try parse("\"river stone river\"")),
            ("phrase AND word", try parse("\"stone river\" AND market")),
            ("NEAR", try parse("river NEAR market")),
            ("filtered phrase", try Query(.filter, [try parse("\"river stone\""), try Query(term: "Kthird")])),
        ]
    }

    @Test func weighingByTheColumnGivesXapiansOwnResultsToTheLastBit() throws {
        try withDatabase { path in
            let database = try Database(path: path)
            let column = try LengthColumn(database: database)
            #expect(try column.fits(database))
            for (name, query) in try queries(database) {
                for (offset, checkAtLeast, sorted) in [(0, 0, false), (0, 10_000, false), (25, 0, false), (0, 0, true)] {
                    let stock = try search(database, query, lengths: nil, sortByValue: sorted, offset: UInt32(offset),
                                           checkAtLeast: UInt32(checkAtLeast))
                    let columned = try search(database, query, lengths: column, sortByValue: sorted,
                                              offset: UInt32(offset), checkAtLeast: UInt32(checkAtLeast))
                    let context = "\(name), offset \(offset), check \(checkAtLeast), by value \(sorted)"
                    #expect(columned.weighedByColumn, "\(context)")
                    #expect(columned.outcome == stock.outcome, "\(context)")
                    // A full page: from then on Xapian prunes by weight, and vets
                    // a phrase's candidates by weight before their positions.
                    if ["one word", "phrase", "NEAR"].contains(name) && offset == 0 {
                        #expect(stock.outcome.hits.count == 40, "\(context)")
                    }
                }
            }
        }
    }

    /// Documents that each hold "quay" twice and "filler" so many times,
    /// searched for "quay" with Xapian's lengths and with a column's.
    func searchQuay(fillers: [UInt32]) throws -> (stock: Outcome, columned: Outcome, weighedByColumn: Bool) {
        try withTemporaryDirectory { directory in
            let path = directory + "/db"
            let writer = try WritableDatabase(path: path)
            for filler in fillers {
                let document = try Document()
                try document.addTerm("quay", wdf: 2)
                try document.addTerm("filler", wdf: filler)
                try writer.add(document)
            }
            try writer.commit()
            try writer.close()
            let database = try Database(path: path)
            let columned = try search(database, try Query(term: "quay"), lengths: try LengthColumn(database: database))
            return (try search(database, try Query(term: "quay"), lengths: nil).outcome, columned.outcome, columned.weighedByColumn)
        }
    }

    /// Equal counts of the word in documents of different lengths weigh
    /// differently: the lengths really are read (and BM25 really normalises).
    @Test func documentsWithTheSameCountOfAWordWeighByTheirLength() throws {
        // Lengths 12, 22 and 32: all above BM25's floor of half the average.
        let quay = try searchQuay(fillers: [10, 20, 30])
        #expect(quay.weighedByColumn)
        #expect(quay.columned == quay.stock)
        #expect(quay.columned.hits.map(\.document) == [1, 2, 3])
        #expect(Set(quay.columned.hits.map(\.weight)).count == 3)
    }

    /// The column keeps two bytes a document; longer lengths are kept aside
    /// and must weigh exactly as well.
    @Test func documentsOfMoreThan65535WordsWeighByTheirWholeLength() throws {
        let quay = try searchQuay(fillers: [70_000, 100_000, 65_533])
        #expect(quay.weighedByColumn)
        #expect(quay.columned == quay.stock)
        #expect(Set(quay.columned.hits.map(\.weight)).count == 3)
    }

    @Test func phrasesInAnORAndColumnsThatDoNotFitAreLeftToXapian() throws {
        try withDatabase { path in
            let old = try Database(path: path)
            let column = try LengthColumn(database: old)
            let parser = try QueryParser(language: "english")
            // A phrase a match may lack: its percentages would change.
            let phrase = try parser.parse("\"council tram\" OR harbour")
            #expect(try !phrase.isWeighableByLengths)
            #expect(try parser.parse("\"council tram\"").isWeighableByLengths)
            #expect(try (try Query(term: "harbour")).isWeighableByLengths)
            let phrased = try search(old, phrase, lengths: column)
            #expect(!phrased.weighedByColumn)
            #expect(phrased.outcome == (try search(old, phrase, lengths: nil).outcome))
            #expect(!phrased.outcome.hits.isEmpty)

            // A later revision: one document is much longer now.
            let writer = try WritableDatabase(path: path, mode: .open)
            let longer = try Document()
            try longer.addTerm("harbour", wdf: 3)
            try longer.addTerm("filler", wdf: 900)
            try longer.addBooleanTerm("Q1")
            try writer.replace(uniqueTerm: "Q1", with: longer)
            try writer.commit()
            try writer.close()
            let current = try Database(path: path)
            #expect(try !column.fits(current))
            let stale = try search(current, try Query(term: "harbour"), lengths: column)
            #expect(!stale.weighedByColumn)
            #expect(stale.outcome == (try search(current, try Query(term: "harbour"), lengths: nil).outcome))
            let fresh = try search(current, try Query(term: "harbour"), lengths: try LengthColumn(database: current))
            #expect(fresh.weighedByColumn)
            #expect(fresh.outcome == stale.outcome)

            // A combination of shards has no column.
            let combined = try Database(combining: [try Database(path: path), try Database(path: path)])
            #expect(throws: XapianError.self) { _ = try LengthColumn(database: combined) }
        }
    }
}
