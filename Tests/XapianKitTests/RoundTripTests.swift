import Foundation
import Testing
import XapianKit

/// What goes in through the shim comes back out: documents, terms, values,
/// data, metadata, spelling, and every search feature Quarry builds on.
@Suite struct RoundTripTests {
    struct Story {
        let id: String
        let title: String
        let body: String
        let author: String
    }

    static let stories = [
        Story(id: "a", title: "Sanctions on steel", body: "New sanctions hit the steel exporters hard this winter.", author: "Ann"),
        Story(id: "b", title: "Harbour reopens", body: "The harbour reopened after the storm; fishermen returned to sea.", author: "Ben"),
        Story(id: "c", title: "Steel prices", body: "Steel prices rose as the sanction regime tightened.", author: "Ann"),
        Story(id: "d", title: "Storm warning", body: "Forecasters issued a storm warning for the whole coast.", author: "Cleo"),
    ]

    /// Builds the four stories the way Quarry's schema does: free text with
    /// positions, an `S` title prefix, boolean id and author terms, values.
    func withStoryIndex<T>(_ body: (String) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            let path = directory + "/index"
            let database = try WritableDatabase(path: path)
            let generator = try TermGenerator(language: "english", options: [.spelling])
            try generator.setSpellingDatabase(database)
            for story in Self.stories {
                let document = try Document()
                try generator.setDocument(document)
                try generator.index(story.title, prefix: "S")
                try generator.increaseTermPosition()
                try generator.index(story.title)
                try generator.increaseTermPosition()
                try generator.index(story.body)
                try document.addBooleanTerm("Q" + story.id)
                try document.addBooleanTerm("XA" + story.author.lowercased())
                try document.setValue(0, story.author)
                try document.setValue(1, story.id)
                try document.setData(Array(story.body.utf8))
                try database.replace(uniqueTerm: "Q" + story.id, with: document)
            }
            try database.setMetadata("quarry:language", "english")
            try database.commit()
            try database.close()
            return try body(path)
        }
    }

    /// Runs a query; the ids of the hits come from value slot 1.
    func search(_ path: String, _ text: String, configure: (Enquire) throws -> Void = { _ in }) throws -> (enquire: Enquire, mset: MSet, ids: [String]) {
        let database = try Database(path: path)
        let parser = try QueryParser(language: "english")
        try parser.setDatabase(database)
        try parser.setDefaultOperator(.and)
        try parser.addPrefix("title", "S")
        try parser.addBooleanPrefix("id", "Q")
        try parser.addNormalisedBooleanPrefix("by", "XA")
        let enquire = try Enquire(database: database)
        try enquire.setQuery(try parser.parse(text, flags: [.boolean, .phrase, .loveHate, .wildcard, .pureNot]))
        try configure(enquire)
        let mset = try enquire.mset(offset: 0, limit: 10)
        let ids = try (0..<mset.count).map { String(decoding: try mset.value($0, slot: 1), as: UTF8.self) }
        return (enquire, mset, ids)
    }

    @Test func indexCommitAndSearchFindsTheDocumentsWithTheWord() throws {
        try withStoryIndex { path in
            let database = try Database(path: path)
            #expect(try database.documentCount == 4)
            #expect(try database.revision == 1)
            #expect(try search(path, "harbour").ids == ["b"])
            #expect(Set(try search(path, "steel").ids) == ["a", "c"])
            #expect(try search(path, "\"storm warning\"").ids == ["d"])
            #expect(try search(path, "title:steel").ids.sorted() == ["a", "c"])
            #expect(try search(path, "id:c").ids == ["c"])
            #expect(Set(try search(path, "by:ANN").ids) == ["a", "c"])
            #expect(Set(try search(path, "stor*").ids) == ["b", "d"])
            #expect(try search(path, "storm NOT warning").ids == ["b"])
        }
    }

    @Test func stemmingMatchesOtherFormsOfTheWord() throws {
        try withStoryIndex { path in
            // "sanction" is in c, "sanctions" in a: the Z-prefixed stem joins them.
            #expect(Set(try search(path, "sanction").ids) == ["a", "c"])
            #expect(Set(try search(path, "sanctions").ids) == ["a", "c"])
            let terms = try Database(path: path).allTerms(prefix: "Zsanction")
            #expect(terms.map(\.term) == ["Zsanction"])
            #expect(terms.first?.count == 2)
        }
    }

    @Test func documentDataValuesAndTermsComeBack() throws {
        try withStoryIndex { path in
            let database = try Database(path: path)
            let docid = try #require(try database.documents(withTerm: "Qb").first)
            let document = try database.document(docid)
            #expect(String(decoding: try document.data(), as: UTF8.self) == Self.stories[1].body)
            #expect(String(decoding: try document.value(0), as: UTF8.self) == "Ben")
            #expect(try document.value(9).isEmpty)
            let terms = Set(try document.terms().map(\.term))
            #expect(terms.isSuperset(of: ["Qb", "XAben", "Sharbour", "harbour", "Zharbour", "fishermen"]))
        }
    }

    @Test func snippetMarksTheMatchedWords() throws {
        try withStoryIndex { path in
            let mset = try search(path, "storm").mset
            let snippet = try mset.snippet(of: Self.stories[3].body, language: "english")
            #expect(snippet == "Forecasters issued a <mark>storm</mark> warning for the whole coast.")
        }
    }

    @Test func facetsCountValuesOverTheMatches() throws {
        try withStoryIndex { path in
            let enquire = try search(path, "the") { try $0.addFacet(slot: 0) }.enquire
            let facets = try enquire.facetValues(slot: 0)
            let counts = Dictionary(uniqueKeysWithValues: facets.map { ($0.term, $0.count) })
            // "the" is in a, b, c and d.
            #expect(counts == ["Ann": 2, "Ben": 1, "Cleo": 1])
            #expect(throws: XapianError.self) { _ = try enquire.facetValues(slot: 7) }
        }
    }

    @Test func collapseKeepsOneHitPerValue() throws {
        try withStoryIndex { path in
            let (_, mset, ids) = try search(path, "the") { try $0.collapse(on: 0) }
            #expect(ids.count == 3)
            let collapsed = try (0..<mset.count).map { try mset.hit($0).collapseCount }
            #expect(collapsed.reduce(0, +) == 1)
        }
    }

    @Test func sortByValueOrdersTheHits() throws {
        try withStoryIndex { path in
            let newestFirst = try search(path, "the") { try $0.sortByValue(1, descending: true) }.ids
            let oldestFirst = try search(path, "the") { try $0.sortByValue(1, descending: false) }.ids
            #expect(newestFirst == ["d", "c", "b", "a"])
            #expect(oldestFirst == ["a", "b", "c", "d"])
        }
    }

    @Test func metadataIsStoredListedAndDeleted() throws {
        try withStoryIndex { path in
            let writer = try WritableDatabase(path: path)
            try writer.setMetadata("quarry:file:x.txt", "{}")
            try writer.setMetadata("quarry:file:y.txt", "{\"n\":1}")
            // Not visible to readers until the commit.
            #expect(try Database(path: path).metadataKeys(prefix: "quarry:file:").isEmpty)
            try writer.commit()
            let reader = try Database(path: path)
            #expect(try reader.metadataKeys(prefix: "quarry:file:") == ["quarry:file:x.txt", "quarry:file:y.txt"])
            #expect(try reader.metadata("quarry:file:y.txt") == "{\"n\":1}")
            #expect(try reader.metadata("quarry:language") == "english")
            #expect(try reader.metadata("absent") == "")

            try writer.setMetadata("quarry:file:x.txt", "")
            try writer.commit()
            try reader.reopen()
            #expect(try reader.metadataKeys(prefix: "quarry:file:") == ["quarry:file:y.txt"])
            #expect(try reader.revision == 3)
        }
    }

    /// The pages the indexer walks its file signatures and dirty marks with:
    /// in order, nothing skipped or repeated, its own uncommitted keys seen, and
    /// keys removed while walking (as the recount removes marks) no obstacle.
    @Test func metadataKeysAndTermsComeInPagesWhileKeysAreRemoved() throws {
        try withStoryIndex { path in
            let writer = try WritableDatabase(path: path)
            let keys = (0..<2_500).map { String(format: "quarry:dirty:h:%05d", $0) }
            for key in keys.shuffled() { try writer.setMetadata(key, "1") }
            var walked: [String] = []
            var after = ""
            while true {
                let page = try writer.metadataKeys(prefix: "quarry:dirty:h:", after: after, limit: 1024)
                guard let last = page.last else { break }
                #expect(page.count <= 1024)
                for key in page {
                    walked.append(key)
                    try writer.setMetadata(key, "")
                    // A key further on removed while its page is being walked does not come back.
                    if key == "quarry:dirty:h:01000" { try writer.setMetadata("quarry:dirty:h:01500", "") }
                }
                after = last
            }
            #expect(walked == keys.filter { $0 != "quarry:dirty:h:01500" })
            #expect(try writer.metadataKeys(prefix: "quarry:dirty:h:").isEmpty)

            let terms = try writer.allTerms(prefix: "")
            var paged: [TermCount] = []
            after = ""
            while true {
                let page = try writer.allTerms(prefix: "", after: after, limit: 3)
                guard let last = page.last else { break }
                paged += page
                after = last.term
            }
            #expect(paged == terms && terms.count > 6)
        }
    }

    @Test func spellingSuggestsIndexedWords() throws {
        try withStoryIndex { path in
            let database = try Database(path: path)
            #expect(try database.spellingSuggestion(for: "harbuor") == "harbour")
            #expect(try database.spellingSuggestion(for: "harbour") == nil)
            let parser = try QueryParser(language: "english")
            try parser.setDatabase(database)
            _ = try parser.parse("steal prises", flags: [.spellingCorrection])
            #expect(try parser.correctedQuery() == "steel prices")
        }
    }

    @Test func replaceAndDeleteByUniqueTerm() throws {
        try withStoryIndex { path in
            let writer = try WritableDatabase(path: path)
            let replacement = try Document()
            try replacement.addTerm("lighthouse")
            try replacement.addBooleanTerm("Qb")
            try writer.replace(uniqueTerm: "Qb", with: replacement)
            try writer.deleteDocuments(withTerm: "Qd")
            try writer.commit()
            #expect(try writer.documentCount == 3)
            #expect(try writer.termFrequency("harbour") == 0)
            #expect(try writer.termFrequency("lighthouse") == 1)
            #expect(try writer.termFrequency("Qd") == 0)
        }
    }

    @Test func stringsWithNULBytesCrossTheShimWhole() throws {
        try withTemporaryDirectory { directory in
            let database = try WritableDatabase(path: directory + "/index")
            let document = try Document()
            let data: [UInt8] = [0x61, 0x00, 0x62, 0x00]
            try document.setData(data)
            try document.addBooleanTerm("Qa\u{0}b")
            try database.add(document)
            try database.setMetadata("k\u{0}ey", "v\u{0}alue")
            try database.commit()
            let docid = try #require(try database.documents(withTerm: "Qa\u{0}b").first)
            #expect(try database.document(docid).data() == data)
            #expect(try database.termFrequency("Qa") == 0)
            #expect(try database.metadata("k\u{0}ey") == "v\u{0}alue")
        }
    }
}
