import Foundation
import Testing
@testable import QuarryCore
import QuarryProtocol

/// `accounts:`, `copies:`, `group:` and `cluster:` in the query language, and
/// the index-time upkeep that keeps the numbers behind them true as the corpus
/// changes.
@Suite struct CoordinationTests {
    /// The ids of every hit of `query` (exact counting, one big page).
    func ids(_ searcher: Searcher, _ query: String) throws -> Set<String> {
        let response = try searcher.search(SearchRequest(query: query, limit: 1000, checkAtLeast: 1_000_000))
        #expect(response.total == response.hits.count, "\(query): the total must be exact")
        return Set(response.hits.map(\.id))
    }

    @Test func accountsRangeFindsExactlyTheCommentsOfGroupsWithThatManyAccounts() throws {
        let (path, truth) = try plantedIndex.get()
        let searcher = try Searcher(indexPath: path)
        for minimum in [2, 3, 5] {
            let expected = Set(truth.exactGroups.filter { $0.accounts.count >= minimum }.flatMap(\.members))
            #expect(!expected.isEmpty)
            #expect(try ids(searcher, "accounts:\(minimum)..") == expected, "accounts:\(minimum)..")
        }
        let exactlyThree = Set(truth.exactGroups.filter { $0.accounts.count == 3 }.flatMap(\.members))
        #expect(try ids(searcher, "accounts:3..3") == exactlyThree)
        // Every comment has the values: `accounts:1..` is every comment, and articles have none.
        #expect(try searcher.search(SearchRequest(query: "accounts:1..", checkAtLeast: 1_000_000)).total == truth.comments)
        #expect(try ids(searcher, "accounts:..1 type:article").isEmpty)
    }

    @Test func accountsCombinesWithWordsOnTheSampleCorpus() throws {
        let searcher = try Searcher(indexPath: sharedCorpusIndex.get())
        // The sanctions text was posted by 4 accounts; the variants by one each.
        let sanctions: Set<String> = [
            "world/eu-sanctions-package-shadow-fleet#1", "economy/sanctions-hit-russian-metals-exporters#1",
            "economy/secondary-sanctions-banks-compliance#1", "world/venezuela-oil-sanctions-relief#1",
        ]
        #expect(try ids(searcher, "sanctions accounts:3..") == sanctions)
        #expect(try ids(searcher, "sanctions copies:4..4") == sanctions)
        #expect(try ids(searcher, "diplomacy accounts:3..") == [
            "world/ceasefire-talks-geneva-diplomacy#1", "world/iran-nuclear-talks-resume-vienna#1",
            "politics/foreign-minister-resigns-leaked-cables#1", "culture/museum-returns-looted-bronzes#1",
        ])
        // Groups of exactly two: D1 (Korea) and D2 (referee).
        #expect(try ids(searcher, "copies:2..2") == [
            "world/north-korea-military-delegation-russia#1", "world/north-korea-military-delegation-russia#2",
            "sport/cup-final-decided-on-penalties#1", "sport/cup-final-decided-on-penalties#2",
        ])
    }

    @Test func groupAndClusterFilterTheMembersOfOneListing() throws {
        let searcher = try Searcher(indexPath: sharedCorpusIndex.get())
        for group in try searcher.duplicates(minAccounts: 1, limit: 100).groups {
            #expect(try ids(searcher, "group:\(group.id)") == Set(group.members.map(\.id)))
        }
        for cluster in try searcher.nearDuplicates(minAccounts: 1, limit: 100).groups {
            #expect(try ids(searcher, "cluster:\(cluster.id)") == Set(cluster.members.map(\.id)))
        }
        // Hits say which cluster they are in.
        let hit = try #require(try searcher.search(SearchRequest(query: "id:law/court-upholds-sanctions-asset-freeze#1")).hits.first)
        #expect(hit.duplicates == nil)
        let cluster = try #require(hit.cluster)
        #expect(cluster.size == 7 && cluster.accounts == 7 && cluster.variants == 4)
        #expect(cluster.similarity > NearDuplicates.defaultThreshold && cluster.similarity < 1)
        #expect(try ids(searcher, "cluster:\(cluster.id) type:comment").count == 7)
    }

    static let base = "The port authority promised to publish every contract signed since the strike began last spring"

    /// An article file with one comment per (author, text).
    static func article(_ title: String, _ comments: [(String, String)]) -> String {
        "\(title)\nA paragraph of the story.\n\(comments.count) Comments\n" + comments.map { "\($0.0)\n\($0.1)\n" }.joined()
    }

    @Test func valuesFollowTheCorpusWhenCopiesComeAndGo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        try directory.write("corpus/a.txt", Self.article("Port story", [("Ann", Self.base + "."), ("Bob", "Something else entirely, about the weather.")]))
        try directory.write("corpus/b.txt", Self.article("Port story two", [("Cy", Self.base.uppercased() + "!")]))
        try index(corpus, into: path)
        func info(_ id: String) throws -> (DuplicateInfo?, ClusterInfo?) {
            guard case .comment(let comment) = try Searcher(indexPath: path).get(id: id) else { return (nil, nil) }
            return (comment.duplicates, comment.cluster)
        }
        #expect(try info("a#1").0 == DuplicateInfo(accounts: 2, articles: 2, copies: 2))

        // A third copy in a new file raises the counts of the copies in the files left alone.
        try directory.write("corpus/c.txt", Self.article("Port story three", [("Dee", Self.base), ("Ann", Self.base)]))
        let summary = try index(corpus, into: path).summary
        #expect(summary.filesIndexed == 1 && summary.duplicateValuesUpdated == 4)
        #expect(try info("a#1").0 == DuplicateInfo(accounts: 3, articles: 3, copies: 4))
        #expect(try info("b#1").0 == DuplicateInfo(accounts: 3, articles: 3, copies: 4))
        #expect(try ids(try Searcher(indexPath: path), "accounts:3..") == ["a#1", "b#1", "c#1", "c#2"])

        // A near-duplicate joins the cluster (named after the text) but not the group.
        try directory.write("corpus/d.txt", Self.article("Port story four", [("Eve", Self.base + " immediately")]))
        try index(corpus, into: path)
        let (exact, cluster) = try info("d#1")
        #expect(exact == nil)
        #expect(cluster?.id == CommentFingerprint.of(Self.base) && cluster?.size == 5 && cluster?.accounts == 4)
        #expect(try info("a#1").1?.size == 5)

        // Removing files takes the counts down again; a lone text keeps no cluster.
        try FileManager.default.removeItem(atPath: corpus + "/c.txt")
        try FileManager.default.removeItem(atPath: corpus + "/b.txt")
        try index(corpus, into: path)
        #expect(try info("a#1").0 == nil)
        #expect(try info("a#1").1?.size == 2)
        try FileManager.default.removeItem(atPath: corpus + "/d.txt")
        try index(corpus, into: path)
        #expect(try info("a#1").0 == nil && info("a#1").1 == nil)
        #expect(try ids(try Searcher(indexPath: path), "copies:2..").isEmpty)
        #expect(try Searcher(indexPath: path).nearDuplicates(minAccounts: 1).groups.isEmpty)
    }

    @Test func aClusterComesApartWhenTheCommentLinkingItGoes() throws {
        // b is close to a and to c; a and c are too far apart to join on their own.
        let words = Self.base.split(separator: " ").map(String.init)
        var changed = words
        for index in [1, 5, 9] { changed[index] = "zz\(index)" }
        var further = changed
        for index in [12, 14] { further[index] = "yy\(index)" }
        let (a, b, c) = (words.joined(separator: " "), changed.joined(separator: " "), further.joined(separator: " "))
        let shingles = try [a, b, c].map { try #require(NearDuplicates.shingles(of: $0)) }
        #expect(NearDuplicates.jaccard(shingles[0], shingles[1]) >= NearDuplicates.defaultThreshold)
        #expect(NearDuplicates.jaccard(shingles[1], shingles[2]) >= NearDuplicates.defaultThreshold)
        #expect(NearDuplicates.jaccard(shingles[0], shingles[2]) < NearDuplicates.defaultThreshold)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        try directory.write("corpus/a.txt", Self.article("A", [("Ann", a), ("Ann again", a)]))
        try directory.write("corpus/b.txt", Self.article("B", [("Bob", b)]))
        try directory.write("corpus/c.txt", Self.article("C", [("Cy", c)]))
        try index(corpus, into: path)
        let clusters = try Searcher(indexPath: path).nearDuplicates(minAccounts: 1).groups
        #expect(clusters.map { Set($0.members.map(\.id)) } == [["a#1", "a#2", "b#1", "c#1"]])
        // Similarity is to the main text (a, posted twice), so c's is below the threshold.
        let c1 = try #require(clusters.first?.members.first { $0.id == "c#1" }?.similarity)
        #expect(c1 < NearDuplicates.defaultThreshold)

        try FileManager.default.removeItem(atPath: corpus + "/b.txt")
        try index(corpus, into: path)
        let searcher = try Searcher(indexPath: path)
        #expect(try Self.clusters(searcher) == [["a#1", "a#2"]])
        #expect(try ids(searcher, "cluster:\(CommentFingerprint.of(a))") == ["a#1", "a#2"])
        guard case .comment(let lone) = try searcher.get(id: "c#1") else { throw QuarryError(.notFound, "c#1") }
        #expect(lone.cluster == nil)
    }

    @Test func aRunKilledBeforeTheRecountLeavesItForTheNextRun() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        try directory.write("corpus/a.txt", Self.article("A", [("Ann", Self.base)]))
        try index(corpus, into: path)
        try directory.write("corpus/b.txt", Self.article("B", [("Bob", Self.base)]))

        // What a run does up to its last batch commit, then dies: b's documents and
        // signature are committed, the recount is not.
        let writer = try IndexWriter(path: path, language: nil, lockWait: .none, batchDocuments: 1000,
                                     batchBytes: 1 << 20, logger: quietLogger)
        let scan = try CorpusScanner.scan(root: corpus)
        let file = try #require(scan.files.first { $0.relativePath == "b.txt" })
        var warnings: [CorpusWarning] = []
        let bytes = try #require(CorpusScanner.readFile(file.path, relativePath: file.relativePath, warnings: &warnings))
        let articles = file.format.read(bytes, relativePath: file.relativePath).articles
        try writer.replaceFile(FileRecord(path: file.relativePath, size: file.size, modified: file.modified,
                                          hash: FNV1a64.hex(bytes), articles: 1, comments: 1), seen: nil) { each in
            try articles.forEach(each)
        }
        try writer.commit()
        writer.close()

        let stale = try Searcher(indexPath: path)
        #expect(try ids(stale, "accounts:2..").isEmpty)
        #expect(try !stale.database.metadataKeys(prefix: IndexSchema.Metadata.dirtyFingerprintPrefix).isEmpty)

        // The next run finds nothing to read but finishes the recount.
        let summary = try index(corpus, into: path).summary
        #expect(summary.filesIndexed == 0 && summary.filesUnchanged == 2)
        let searcher = try Searcher(indexPath: path)
        #expect(try ids(searcher, "accounts:2..") == ["a#1", "b#1"])
        #expect(try searcher.database.metadataKeys(prefix: IndexSchema.Metadata.dirtyFingerprintPrefix).isEmpty)
    }

    @Test func aFirstRunKilledBeforeTheRecountMarkedTheLaterCopy() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        try directory.write("corpus/a.txt", Self.article("A", [("Ann", Self.base), ("Cy", "Nothing like it anywhere else.")]))
        try directory.write("corpus/b.txt", Self.article("B", [("Bob", Self.base + " immediately")]))
        try directory.write("corpus/c.txt", Self.article("C", [("Dee", Self.base)]))
        // A pair no exact copy links: only the bands they share can bring them together.
        let other = "Nobody on the council has read the budget that the mayor sent them on friday night"
        try directory.write("corpus/d.txt", Self.article("D", [("Dan", other)]))
        try directory.write("corpus/e.txt", Self.article("E", [("Eve", other + " either")]))

        // A first run on an empty index marks only comments whose fingerprint it saw
        // before (a Bloom filter of this run's fingerprints), and leaves the texts
        // sharing a band to be read from the band store; it dies after its last
        // batch commit, as the indexer would have run it.
        let writer = try IndexWriter(path: path, language: nil, lockWait: .none, batchDocuments: 1000,
                                     batchBytes: 1 << 20, logger: quietLogger)
        let seen = SeenKeys(expectedKeys: 1000)
        try writer.markSharedBandsPending()
        for file in try CorpusScanner.scan(root: corpus).files.sorted(by: { $0.relativePath < $1.relativePath }) {
            var warnings: [CorpusWarning] = []
            let bytes = try #require(CorpusScanner.readFile(file.path, relativePath: file.relativePath, warnings: &warnings))
            let articles = file.format.read(bytes, relativePath: file.relativePath).articles
            try writer.replaceFile(FileRecord(path: file.relativePath, size: file.size, modified: file.modified,
                                              hash: FNV1a64.hex(bytes), articles: 0, comments: 0), seen: seen) { each in
                try articles.forEach(each)
            }
        }
        try writer.commit()
        writer.close()
        let killed = try Searcher(indexPath: path).database
        // c's copy of a's text: not a's first comments, nor Cy's lone one, nor b's variant.
        #expect(try killed.metadataKeys(prefix: IndexSchema.Metadata.dirtyFingerprintPrefix).count == 1)
        #expect(try killed.metadata(IndexSchema.Metadata.sharedBandsPending) == "1")

        // The next run finds b's and e's variants through the bands they share.
        _ = try index(corpus, into: path)
        let searcher = try Searcher(indexPath: path)
        #expect(try searcher.database.metadata(IndexSchema.Metadata.sharedBandsPending).isEmpty)
        #expect(try ids(searcher, "accounts:2..") == ["a#1", "c#1"])
        #expect(Set(try Self.clusters(searcher)) == [["a#1", "b#1", "c#1"], ["d#1", "e#1"]])
    }

    /// The ids of each near-duplicate cluster's members.
    static func clusters(_ searcher: Searcher) throws -> [Set<String>] {
        try searcher.nearDuplicates(minAccounts: 1).groups.map { Set($0.members.map(\.id)) }
    }

    /// An index of a.txt, one comment of `base`; `body` gets the directory,
    /// the corpus and the index.
    func withIndexOfA(_ body: (TemporaryDirectory, String, String) throws -> Void) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        try directory.write("corpus/a.txt", Self.article("A", [("Ann", Self.base)]))
        try index(corpus, into: path)
        try body(directory, corpus, path)
    }

    /// Adds b.txt, a near-duplicate of a.txt's one comment, runs the indexer,
    /// and expects the pair found and the index healthy.
    func expectANewNearDuplicateOfAToBeFound(_ directory: TemporaryDirectory, corpus: String, path: String) throws {
        try directory.write("corpus/b.txt", Self.article("B", [("Bob", Self.base + " immediately")]))
        try index(corpus, into: path)
        #expect(try Self.clusters(Searcher(indexPath: path)) == [["a#1", "b#1"]])
        #expect(try IndexChecker.check(index: path, corpus: corpus).problems.isEmpty)
    }

    @Test func aLostBandStoreIsRebuiltSoOldTextsFindTheirNearDuplicates() throws {
        try withIndexOfA { directory, corpus, path in
            // The database copied without the store beside it, or the store deleted.
            try FileManager.default.removeItem(atPath: path + "/" + BandStore.directoryName)
            // As on a replica: no problem for searching, and said so.
            let report = try IndexChecker.check(index: path, corpus: corpus)
            #expect(report.isHealthy && report.notes.contains { $0.contains("no near-duplicate band store") })

            try expectANewNearDuplicateOfAToBeFound(directory, corpus: corpus, path: path)
        }
    }

    @Test func aDamagedBandStoreIsRebuiltFromTheIndexByTheNextRun() throws {
        try withIndexOfA { directory, corpus, path in
            let store = path + "/" + BandStore.directoryName
            let run = try #require(try FileManager.default.contentsOfDirectory(atPath: store).first { $0.hasSuffix(".qbr") })
            #expect(truncate(store + "/" + run, 100) == 0)
            let problems = try IndexChecker.check(index: path, corpus: corpus).problems
            #expect(problems.contains { $0.contains(run) && $0.contains("damaged") && $0.contains("next 'quarry index' run") })

            try expectANewNearDuplicateOfAToBeFound(directory, corpus: corpus, path: path)
            #expect(!FileManager.default.fileExists(atPath: store + ".old") && !FileManager.default.fileExists(atPath: store + ".rebuilding"))
        }
    }

    /// Comments that change leave their old texts' pairs in the band store;
    /// a store grown mostly of those is rebuilt from the index at the start of
    /// a run, so it stays near the size the live comments need.
    @Test func aBandStoreOfMostlyGoneTextsIsRebuiltToTheLiveOnes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        let store = path + "/" + BandStore.directoryName
        /// Letters only, so no two texts normalise alike.
        func word(_ number: Int) -> String {
            var number = number, letters = ""
            repeat { letters.append(Character(UnicodeScalar(UInt8(97 + number % 26)))); number /= 26 } while number > 0
            return "q" + letters
        }
        var largest = 0, live = 0
        for round in 0..<8 {
            // Four comments whose texts, unlike each other, are all new each round.
            let comments = (0..<4).map { comment in
                ("Writer\(comment)", (0..<12).map { word((round * 4 + comment) * 12 + $0) }.joined(separator: " "))
            }
            try directory.write("corpus/a.txt", Self.article("A", comments))
            try index(corpus, into: path)
            let entries = try BandStore(directory: store, readOnly: true).reader().count
            live = comments.reduce(0) { $0 + NearDuplicates.bandKeys(of: $1.1).count }
            #expect(entries >= live, "the live comments' pairs are all there")
            largest = max(largest, entries)
        }
        // Without rebuilds the store would hold every round's pairs, eight times the live ones.
        #expect(largest <= (Indexer.staleFactor + 1) * NearDuplicates.bands * 4)
        #expect(largest < 4 * live)
        try directory.write("corpus/b.txt", Self.article("B", [("Ann", Self.base), ("Bob", Self.base + " immediately")]))
        try index(corpus, into: path)
        #expect(try Self.clusters(Searcher(indexPath: path)) == [["b#1", "b#2"]])
        #expect(try IndexChecker.check(index: path, corpus: corpus).problems.isEmpty)
    }

    @Test func changingTheThresholdRegroupsTheWholeIndex() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        try directory.write("corpus/a.txt", Self.article("A", [("Ann", Self.base), ("Bob", Self.base + " immediately")]))
        try index(corpus, into: path)
        #expect(try Searcher(indexPath: path).nearDuplicates(minAccounts: 1).total == 1)
        func run(_ threshold: Double) throws -> DuplicatesResponse {
            _ = try Indexer.run(corpus: corpus, index: path, options: IndexOptions(nearThreshold: threshold), logger: quietLogger)
            return try Searcher(indexPath: path).nearDuplicates(minAccounts: 1)
        }
        let strict = try run(0.99)
        #expect(strict.total == 0 && strict.threshold == 0.99)
        // The index remembers its threshold: a run without one keeps it.
        _ = try index(corpus, into: path)
        #expect(try Searcher(indexPath: path).nearDuplicates(minAccounts: 1).threshold == 0.99)
        #expect(try run(0.5).total == 1)
        #expect(throws: QuarryError.self) { try run(0) }
        #expect(throws: QuarryError.self) { try run(1.5) }
    }

    /// The recount of a large first run goes on several threads, each reading
    /// the committed index; a cluster two threads reach is written once. Forced
    /// here on the planted corpus, it must leave every comment's duplicate
    /// values and cluster term as the recount on one thread does. (One shard
    /// for the counts: with two, which copy of a text its writers mark first
    /// depends on how their threads interleave.)
    @Test func aRecountOnTwoThreadsWritesWhatOneThreadWrites() throws {
        let planted = try PlantedRecount(seed: 20_240_607)
        defer { planted.directory.remove() }
        let one = try planted.build("one", shards: 1, threads: 1), two = try planted.build("two", shards: 1, threads: 2)
        let twoShards = try planted.build("two-shards", shards: 2, threads: 2)
        #expect(one.summary.duplicateTextsChecked > 200 && one.summary.duplicateValuesUpdated > 300)
        #expect(two.summary.duplicateTextsChecked == one.summary.duplicateTextsChecked)
        #expect(two.summary.duplicateValuesUpdated == one.summary.duplicateValuesUpdated)
        #expect(one.values.count > 3000 && two.values == one.values && twoShards.values == one.values)
        #expect(one.marks == 0 && two.marks == 0 && twoShards.marks == 0)
        let clusters = try Searcher(indexPath: planted.directory.path + "/two").nearDuplicates(minAccounts: 1, limit: 1000)
        #expect(clusters.groups.contains { ($0.variants ?? 0) >= 3 }, "no cluster of several texts to reach from two threads")
    }

    /// The recount empties its caches whenever one passes its bound, which at
    /// 200,000 articles happens many times a run. Emptied after every group
    /// here (and the set of texts already placed with them), on one thread and
    /// on two, they must change no value and leave no mark: only the work.
    @Test func aRecountThatKeepsNothingCachedWritesWhatOneWithCachesWrites() throws {
        let planted = try PlantedRecount(seed: 20_240_611)
        defer { planted.directory.remove() }
        let cached = try planted.build("cached", threads: 1)
        let uncached = try planted.build("uncached", threads: 1, cacheShare: 0)
        let uncachedTwo = try planted.build("uncached-two", threads: 2, cacheShare: 0)
        #expect(cached.summary.duplicateValuesUpdated > 300)
        // Without the set of placed texts, a text is placed again from each of its group's members.
        #expect(uncached.summary.duplicateTextsChecked > cached.summary.duplicateTextsChecked)
        #expect(cached.values.count > 3000 && uncached.values == cached.values && uncachedTwo.values == cached.values)
        #expect(cached.marks == 0 && uncached.marks == 0 && uncachedTwo.marks == 0)
    }

}

/// A planted duplicate corpus in a temporary directory, indexed as many times
/// as a recount test needs.
private struct PlantedRecount {
    let directory: TemporaryDirectory
    private let corpus: String

    init(seed: UInt64) throws {
        directory = try TemporaryDirectory("quarry-recount")
        corpus = directory.path + "/corpus"
        _ = try PlantedDuplicateCorpus.write(to: corpus, seed: seed)
    }

    /// Indexes the corpus into `name` with the recount on `threads` threads
    /// whatever the number of texts; every document's duplicate values and the
    /// size of its cluster (by its `XC` term), by id, and the marks left.
    func build(_ name: String, shards: Int = 1, threads: Int, cacheShare: Double = 1) throws
        -> (summary: IndexSummary, values: [String: [[UInt8]]], marks: Int) {
        var options = IndexOptions(shards: shards)
        options.recountThreads = threads
        options.parallelRecountFrom = 0
        options.recountCacheShare = cacheShare
        let index = directory.path + "/" + name
        let summary = try Indexer.run(corpus: corpus, index: index, options: options, logger: quietLogger)
        let database = try Searcher(indexPath: index).database
        typealias S = IndexSchema.Slot
        var values: [String: [[UInt8]]] = [:]
        for entry in try database.allTerms(prefix: IndexSchema.Prefix.id) {
            for id in try database.documents(withTerm: entry.term) {
                let document = try database.document(id)
                var held = try [S.accounts, S.copies, S.articles, S.cluster, S.clusterSize, S.clusterAccounts, S.similarity, S.clusterVariants]
                    .map { try document.value($0) }
                let cluster = String(decoding: try document.value(S.cluster), as: UTF8.self)
                held.append(cluster.isEmpty ? [] : Array(String(try database.termFrequency(IndexSchema.Prefix.cluster + cluster)).utf8))
                values[entry.term] = held
            }
        }
        let marks = try database.metadataKeys(prefix: IndexSchema.Metadata.dirtyFingerprintPrefix).count
        return (summary, values, marks)
    }
}
