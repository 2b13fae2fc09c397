import Foundation
import Testing
import XapianKit

/// Every failure Xapian can raise must come back through the shim as a
/// `XapianError` carrying Xapian's class: a process that crashed here would
/// take the daemon and its clients down with it.
@Suite struct ErrorPathTests {
    @Test func secondWriterOnOneIndexGetsDatabaseLockError() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/index"
            let first = try WritableDatabase(path: path)
            let error = try #require(throws: XapianError.self) { _ = try WritableDatabase(path: path) }
            #expect(error.kind == "DatabaseLockError")
            #expect(error.isDatabaseLocked)

            // The lock belongs to the writer, not to the directory: closing it frees the index.
            try first.close()
            let second = try WritableDatabase(path: path)
            #expect(try second.documentCount == 0)
        }
    }

    @Test func missingIndexIsAnOpeningError() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/no-such-index"
            let readError = try #require(throws: XapianError.self) { _ = try Database(path: path) }
            #expect(["DatabaseOpeningError", "DatabaseNotFoundError"].contains(readError.kind))
            #expect(readError.isDatabaseOpening)
            #expect(!readError.message.isEmpty)

            let writeError = try #require(throws: XapianError.self) {
                _ = try WritableDatabase(path: path, mode: .open)
            }
            #expect(writeError.isDatabaseOpening)
        }
    }

    /// Garbage in one table file: whichever call first reads it must fail with
    /// Xapian's DatabaseCorruptError, never crash.
    @Test(arguments: ["iamglass", "postlist.glass", "termlist.glass", "docdata.glass"])
    func corruptIndexFileIsAXapianError(file: String) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/index"
            try buildSmallIndex(at: path, documents: 300)
            let table = path + "/" + file
            let size = try #require(FileManager.default.attributesOfItem(atPath: table)[.size] as? Int)
            // Deterministic garbage the size of the file: every block is nonsense.
            var state: UInt32 = 2_463_534_242
            let garbage = (0..<max(size, 64)).map { _ -> UInt8 in
                state ^= state << 13
                state ^= state >> 17
                state ^= state << 5
                return UInt8(truncatingIfNeeded: state)
            }
            try Data(garbage).write(to: URL(fileURLWithPath: table))

            let error = try #require(throws: XapianError.self) {
                let database = try Database(path: path)
                _ = try database.documentCount
                let parser = try QueryParser(language: "english")
                try parser.setDatabase(database)
                let enquire = try Enquire(database: database)
                try enquire.setQuery(try parser.parse("word1 OR word2 OR common"))
                let mset = try enquire.mset(offset: 0, limit: 50)
                for index in 0..<mset.count {
                    _ = try mset.data(index)
                    _ = try database.document(try mset.hit(index).document).terms()
                }
                _ = try database.allTerms(prefix: "")
                _ = try database.metadata("key")
            }
            #expect(error.kind == "DatabaseCorruptError", "\(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func termLongerThan245BytesIsAnErrorAndTheDatabaseStaysUsable() throws {
        try withTemporaryDirectory { directory in
            let database = try WritableDatabase(path: directory + "/index")
            let document = try Document()
            try document.addTerm(String(repeating: "x", count: 246))
            let error = try #require(throws: XapianError.self) { try database.add(document) }
            #expect(error.kind == "InvalidArgumentError")
            #expect(error.message.contains("245"))

            // 245 bytes is the limit itself, and it is allowed.
            let longest = try Document()
            try longest.addTerm(String(repeating: "y", count: 245))
            try database.add(longest)
            try database.commit()
            #expect(try database.termFrequency(String(repeating: "y", count: 245)) == 1)
        }
    }

    @Test func queryParserSyntaxErrorsAreQueryParserErrors() throws {
        let parser = try QueryParser(language: "english")
        for text in ["foo AND", "(foo AND", "foo NOT"] {
            let error = try #require(throws: XapianError.self) { _ = try parser.parse(text) }
            #expect(error.kind == "QueryParserError", "query \(text)")
            #expect(error.isQuerySyntax)
        }
        // The parser is still good for the next query.
        #expect(!(try parser.parse("foo AND bar").isEmpty))
    }

    @Test func unknownStemmingLanguageNamesTheKnownOnes() throws {
        let error = try #require(throws: XapianError.self) { try Stemmer.validate("klingon") }
        #expect(error.kind == "InvalidArgumentError")
        #expect(error.message.contains("english"))
        #expect(throws: XapianError.self) { _ = try TermGenerator(language: "klingon") }
        #expect(Stemmer.languages.contains("french"))
    }

    @Test func aClosedDatabaseRefusesReads() throws {
        try withTemporaryDirectory { directory in
            try buildSmallIndex(at: directory + "/index", documents: 1)
            let database = try Database(path: directory + "/index")
            try database.close()
            let error = try #require(throws: XapianError.self) { _ = try database.allTerms(prefix: "") }
            #expect(error.kind == "DatabaseClosedError")
        }
    }
}

/// Documents `doc0`… with free text, a title prefix and a value.
func buildSmallIndex(at path: String, documents: Int) throws {
    let database = try WritableDatabase(path: path)
    let generator = try TermGenerator(language: "english")
    for number in 0..<documents {
        let document = try Document()
        try generator.setDocument(document)
        try generator.index("common word\(number % 7) text number \(number)")
        try generator.index("title \(number)", prefix: "S")
        try document.addBooleanTerm("Qdoc\(number)")
        try document.setValue(0, "value \(number)")
        try document.setData(Array("data \(number)".utf8))
        try database.add(document)
    }
    try database.setMetadata("key", "value")
    try database.commit()
    try database.close()
}

/// Runs `body` with a fresh directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.path + "/xapiankit-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}
