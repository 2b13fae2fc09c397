import Testing
import XapianKit

/// The calls that keep stored documents up to date (Quarry's duplicate counts
/// change after a document is written): rewrite by document number, remove a
/// term, list only the terms several documents share, and sort with a value
/// for documents that lack one.
@Suite struct DocumentUpkeepTests {
    /// Three documents `a`, `b`, `c`; `a` and `b` share `XHsame`; only `a` and
    /// `c` have a value in slot 0.
    func withIndex<T>(_ body: (WritableDatabase) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            let database = try WritableDatabase(path: directory + "/index")
            for (id, value, shared) in [("a", "2024", true), ("b", "", true), ("c", "2023", false)] {
                let document = try Document()
                try document.addBooleanTerm("Q" + id)
                try document.addTerm("word")
                if shared { try document.addBooleanTerm("XHsame") } else { try document.addBooleanTerm("XHalone") }
                if !value.isEmpty { try document.setValue(0, value) }
                try database.add(document)
            }
            try database.commit()
            return try body(database)
        }
    }

    @Test func aStoredDocumentIsChangedAndWrittenBackInPlace() throws {
        try withIndex { (database) throws in
            let id = try #require(try database.documents(withTerm: "Qb").first)
            let document = try database.document(id)
            try document.setValue(7, number: 3)
            try document.removeTerm("XHsame")
            try document.addBooleanTerm("XCcluster")
            try database.replace(id, with: document)
            try database.commit()
            #expect(try database.documents(withTerm: "Qb") == [id])
            #expect(try database.documentCount == 3)
            #expect(try database.termFrequency("XHsame") == 1)
            #expect(try database.documents(withTerm: "XCcluster") == [id])
            #expect(sortableUnserialise(try database.document(id).value(7)) == 3)
            // The words it had are still there.
            #expect(try database.termFrequency("word") == 3)
        }
    }

    @Test func removingATermTheDocumentLacksIsAnError() throws {
        try withIndex { (database) throws in
            let id = try #require(try database.documents(withTerm: "Qa").first)
            let error = try #require(throws: XapianError.self) { try database.document(id).removeTerm("XHnot-there") }
            #expect(error.kind == "InvalidArgumentError")
        }
    }

    @Test func allTermsCanSkipTheRareOnes() throws {
        try withIndex { (database) throws in
            #expect(try database.allTerms(prefix: "XH").map(\.term) == ["XHalone", "XHsame"])
            #expect(try database.allTerms(prefix: "XH", minFrequency: 2) == [TermCount(term: "XHsame", count: 2)])
            #expect(try database.allTerms(prefix: "XH", minFrequency: 3).isEmpty)
        }
    }

    @Test func documentsWithoutAValueSortWhereTheGivenDefaultPutsThem() throws {
        try withIndex { (database) throws in
            func order(descending: Bool, missing: [UInt8]?) throws -> [String] {
                let enquire = try Enquire(database: database)
                try enquire.setQuery(try Query(term: "word"))
                if let missing {
                    try enquire.sortByValue(0, descending: descending, missing: missing)
                } else {
                    try enquire.sortByValue(0, descending: descending)
                }
                let mset = try enquire.mset(offset: 0, limit: 10)
                return try (0..<mset.count).map { index in
                    let id = try mset.hit(index).document
                    return try database.document(id).terms().first { $0.term.hasPrefix("Q") }?.term ?? "?"
                }
            }
            #expect(try order(descending: false, missing: nil) == ["Qb", "Qc", "Qa"])
            #expect(try order(descending: false, missing: [0xFF]) == ["Qc", "Qa", "Qb"])
            #expect(try order(descending: true, missing: nil) == ["Qa", "Qc", "Qb"])
        }
    }
}
