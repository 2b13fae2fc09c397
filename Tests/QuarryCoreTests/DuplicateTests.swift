import Foundation
import Testing
@testable import QuarryCore
import QuarryProtocol
import XapianKit

/// The planted-duplicate corpus, written and indexed once for the tests that
/// read it (left for the OS to clean, like the sample corpus index).
let plantedIndex: Result<(index: String, truth: PlantedDuplicateCorpus), QuarryError> = {
    do {
        let directory = try TemporaryDirectory("quarry-planted")
        let truth = try PlantedDuplicateCorpus.write(to: directory.path + "/corpus", seed: 20_240_607)
        try index(directory.path + "/corpus", into: directory.path + "/index")
        return .success((directory.path + "/index", truth))
    } catch let error as QuarryError {
        return .failure(error)
    } catch {
        return .failure(QuarryError(.io, "\(error)"))
    }
}()

/// Every group (or cluster) the index lists, all pages.
func allGroups(_ searcher: Searcher, near: Bool, minAccounts: Int = 1) throws -> [DuplicateGroup] {
    var groups: [DuplicateGroup] = []
    while true {
        let page = try searcher.duplicates(DuplicatesRequest(near: near, minAccounts: minAccounts, offset: groups.count, limit: 500))
        groups += page.groups
        if page.groups.isEmpty || groups.count >= page.total { return groups }
    }
}

/// Precision and recall of predicted clusters against true ones, over the
/// pairs of comments in one cluster whose texts differ (pairs of exact copies
/// are the exact groups' business).
func pairScores(predicted: [Set<String>], truth: [Set<String>], sameText: (String, String) -> Bool) -> (precision: Double, recall: Double, predicted: Int, truth: Int) {
    func pairs(_ clusters: [Set<String>]) -> Set<[String]> {
        var result = Set<[String]>()
        for cluster in clusters {
            let members = cluster.sorted()
            for (offset, a) in members.enumerated() {
                for b in members[(offset + 1)...] where !sameText(a, b) { result.insert([a, b]) }
            }
        }
        return result
    }
    let found = pairs(predicted), expected = pairs(truth)
    let right = found.intersection(expected).count
    return (found.isEmpty ? 1 : Double(right) / Double(found.count), expected.isEmpty ? 1 : Double(right) / Double(expected.count),
            found.count, expected.count)
}

@Suite struct DuplicateTests {
    func corpusSearcher() throws -> Searcher {
        try Searcher(indexPath: sharedCorpusIndex.get())
    }

    /// Lower-cased letters and digits, words split on anything else: the sample
    /// corpus's duplicates differ in nothing subtler (checked independently of
    /// `CommentFingerprint`).
    static func simpleNormal(_ text: String) -> String {
        text.lowercased().replacingOccurrences(of: "'", with: "").replacingOccurrences(of: "’", with: "")
            .components(separatedBy: CharacterSet.alphanumerics.inverted).filter { !$0.isEmpty }.joined(separator: " ")
    }

    @Test func exactGroupsOfTheSampleCorpusAreItsCommentsWithOneText() throws {
        var byText: [String: [(id: String, author: String, article: String)]] = [:]
        for article in CorpusText.shared.articles {
            for (index, comment) in article.comments.enumerated() {
                byText[Self.simpleNormal(comment.text), default: []].append((article.commentID(index), comment.author, article.id))
            }
        }
        let expected = byText.values.filter { Set($0.map(\.author)).count >= 2 }
        #expect(expected.count == 7)

        let response = try corpusSearcher().duplicates(minAccounts: 2, limit: 100)
        #expect(response.total == expected.count)
        #expect(Set(response.groups.map { Set($0.members.map(\.id)) }) == Set(expected.map { Set($0.map(\.id)) }))
        for group in response.groups {
            let members = try #require(expected.first { Set($0.map(\.id)) == Set(group.members.map(\.id)) })
            #expect(group.count == members.count)
            #expect(Set(group.accounts) == Set(members.map(\.author)))
            #expect(Set(group.articles) == Set(members.map(\.article)))
            #expect(Self.simpleNormal(group.text) == Self.simpleNormal(try #require(byText.first { $0.value.map(\.id) == members.map(\.id) }).key))
            #expect(group.members.allSatisfy { $0.similarity == nil && $0.text == nil })
        }
        // Largest first: by accounts, then by comments.
        let order = response.groups.map { [$0.accounts.count, $0.count] }
        #expect(order == order.sorted { $0[0] != $1[0] ? $0[0] > $1[0] : $0[1] >= $1[1] })
        #expect(response.groups.first?.accounts.count == 4)
        #expect(response.groups.last?.accounts.count == 2)
    }

    @Test func minAccountsAndPagingNarrowTheListing() throws {
        let searcher = try corpusSearcher()
        let all = try searcher.duplicates(minAccounts: 2, limit: 100)
        let three = try searcher.duplicates(minAccounts: 3, limit: 100)
        #expect(three.total == 5)
        #expect(three.groups.allSatisfy { $0.accounts.count >= 3 })
        #expect(try searcher.duplicates(minAccounts: 5, limit: 100).groups.isEmpty)
        var paged: [DuplicateGroup] = []
        for offset in stride(from: 0, to: all.total, by: 3) {
            let page = try searcher.duplicates(minAccounts: 2, limit: 3, offset: offset)
            #expect(page.total == all.total && page.offset == offset)
            paged += page.groups
        }
        #expect(paged.map(\.id) == all.groups.map(\.id))
        #expect(throws: QuarryError.self) { try searcher.duplicates(minAccounts: 0) }
        #expect(throws: QuarryError.self) { try searcher.duplicates(limit: 0) }
    }

    @Test func nearDuplicatesOfTheSampleCorpusJoinTheirGroups() throws {
        // The six planted variants (docs/DUPLICATES.md), each with the group it varies.
        let variants: [String: String] = [
            "world/korea-military-hotline-restored#1": "world/north-korea-military-delegation-russia#1",
            "climate/cop-negotiators-loss-and-damage-fund#1": "world/ceasefire-talks-geneva-diplomacy#1",
            "economy/stock-markets-rally-chip-earnings#1": "economy/central-bank-holds-rates-inflation#1",
            "energy/gas-storage-winter-levels#1": "world/eu-sanctions-package-shadow-fleet#1",
            "economy/wheat-prices-black-sea-exports#1": "world/eu-sanctions-package-shadow-fleet#1",
            "law/court-upholds-sanctions-asset-freeze#1": "world/eu-sanctions-package-shadow-fleet#1",
        ]
        let searcher = try corpusSearcher()
        let exact = try searcher.duplicates(minAccounts: 1, limit: 100).groups
        let clusters = try searcher.nearDuplicates(minAccounts: 1, limit: 100)
        #expect(clusters.near && clusters.threshold == NearDuplicates.defaultThreshold)
        // Every exact group is (in) a cluster, and clusters hold nothing else but the variants.
        #expect(clusters.total == exact.count)
        let clustered = Set(clusters.groups.flatMap { $0.members.map(\.id) })
        #expect(clustered == Set(exact.flatMap { $0.members.map(\.id) }).union(variants.keys))
        for (variant, base) in variants {
            let cluster = try #require(clusters.groups.first { $0.members.contains { $0.id == base } })
            let member = try #require(cluster.members.first { $0.id == variant })
            #expect(member.text != nil)
            let similarity = try #require(member.similarity)
            #expect(similarity >= NearDuplicates.defaultThreshold && similarity < 1)
            // The cluster is named after its main text, the one most accounts posted.
            let main = try #require(exact.first { $0.members.contains { $0.id == base } })
            #expect(cluster.id == main.id && cluster.text == main.text)
        }
        let sanctions = try #require(clusters.groups.first)
        #expect(sanctions.count == 7 && sanctions.variants == 4 && sanctions.accounts.count == 7)
        #expect(sanctions.members.prefix(4).allSatisfy { $0.similarity == 1 && $0.text == nil })
    }

    @Test func duplicatesOfOneCommentListItsGroupOrCluster() throws {
        let searcher = try corpusSearcher()
        let copies = try #require(try searcher.duplicates(of: "politics/snap-election-called-coalition-collapse#3"))
        #expect(Set(copies.members.map(\.id)) == [
            "politics/snap-election-called-coalition-collapse#1", "politics/snap-election-called-coalition-collapse#3",
            "politics/snap-election-called-coalition-collapse#5", "politics/parliament-passes-budget-all-night-session#1",
        ])
        // A variant has no exact copies, but it has a cluster.
        #expect(try searcher.duplicates(of: "law/court-upholds-sanctions-asset-freeze#1") == nil)
        let cluster = try #require(try searcher.duplicates(of: "law/court-upholds-sanctions-asset-freeze#1", near: true))
        #expect(cluster.count == 7)
        // A comment nobody else wrote has neither.
        #expect(try searcher.duplicates(of: "sport/cup-final-decided-on-penalties#3") == nil)
        #expect(try searcher.duplicates(of: "sport/cup-final-decided-on-penalties#3", near: true) == nil)

        let unknown = try #require(throws: QuarryError.self) { try searcher.duplicates(of: "world/nothing#1") }
        #expect(unknown.code == .notFound && unknown.message.contains("world/nothing#1"))
        let article = try #require(throws: QuarryError.self) { try searcher.duplicates(of: "world/eu-sanctions-package-shadow-fleet") }
        #expect(article.code == .invalidRequest)
    }

    @Test func exactGroupsOfAPlantedCorpusAreFoundWithPrecisionAndRecallOne() throws {
        let (path, truth) = try plantedIndex.get()
        #expect(truth.comments > 3000)
        let found = Set(try allGroups(try Searcher(indexPath: path), near: false).map { Set($0.members.map(\.id)) })
        let expected = Set(truth.exactGroups.map { Set($0.members) })
        let right = found.intersection(expected).count
        let precision = Double(right) / Double(max(1, found.count)), recall = Double(right) / Double(expected.count)
        print("exact duplicate groups: \(found.count) found, \(expected.count) planted among \(truth.comments) comments; precision \(precision), recall \(recall)")
        #expect(precision == 1 && recall == 1)
    }

    @Test func nearDuplicateClustersOfAPlantedCorpusMeetTheTargets() throws {
        let (path, truth) = try plantedIndex.get()
        let clusters = try allGroups(try Searcher(indexPath: path), near: true)
        var text: [String: String] = [:]
        for group in truth.exactGroups { for id in group.members { text[id] = CommentFingerprint.normalise(group.text) } }
        for near in truth.nearMembers { text[near.id] = CommentFingerprint.normalise(near.text) }
        for cluster in clusters {
            for member in cluster.members where text[member.id] == nil {
                text[member.id] = CommentFingerprint.normalise(member.text ?? cluster.text)
            }
        }
        let scores = pairScores(predicted: clusters.map { Set($0.members.map(\.id)) }, truth: truth.trueClusters) { text[$0] == text[$1] }
        let found = truth.nearMembers.filter { near in
            clusters.contains { cluster in
                cluster.members.contains { $0.id == near.id } && cluster.members.contains { $0.id == truth.exactGroups[near.group].members[0] }
            }
        }.count
        print(String(format: "near-duplicate clusters at threshold %.2f: pair precision %.4f, pair recall %.4f (%d pairs found, %d planted); %d of %d planted variants joined their group",
                     NearDuplicates.defaultThreshold, scores.precision, scores.recall, scores.predicted, scores.truth, found, truth.nearMembers.count))
        #expect(scores.precision >= 0.95)
        #expect(scores.recall >= 0.9)
    }

    /// A corpus from `quarry-bench generate` with its `.truth.json`: set
    /// QUARRY_DUPLICATE_CORPUS to its directory to measure (docs/DUPLICATES.md).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["QUARRY_DUPLICATE_CORPUS"] != nil))
    func generatedBenchmarkCorpus() throws {
        struct Truth: Decodable {
            struct Exact: Decodable { var text: String; var members: [String] }
            struct NearMember: Decodable { var id: String; var text: String }
            struct Near: Decodable { var base: String; var members: [NearMember] }
            var exactGroups: [Exact]
            var nearGroups: [Near]
        }
        let corpus = try #require(ProcessInfo.processInfo.environment["QUARRY_DUPLICATE_CORPUS"])
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: URL(fileURLWithPath: corpus + "/.truth.json")))
        let directory = try TemporaryDirectory("quarry-bench-truth")
        defer { directory.remove() }
        let clock = ContinuousClock()
        let start = clock.now
        try index(corpus, into: directory.path + "/index")
        let elapsed = clock.now - start
        let searcher = try Searcher(indexPath: directory.path + "/index")

        let exact = Set(try allGroups(searcher, near: false).map { Set($0.members.map(\.id)) })
        let planted = Set(truth.exactGroups.map { Set($0.members) })
        let right = exact.intersection(planted).count
        print("exact: \(exact.count) groups found, \(planted.count) planted; precision \(Double(right) / Double(max(1, exact.count))), recall \(Double(right) / Double(planted.count))")

        var text: [String: String] = [:]
        var clustersTruth = truth.exactGroups.map { Set($0.members) }
        for group in truth.exactGroups { for id in group.members { text[id] = CommentFingerprint.normalise(group.text) } }
        for near in truth.nearGroups {
            let index = try #require(truth.exactGroups.firstIndex { $0.text == near.base })
            for member in near.members {
                clustersTruth[index].insert(member.id)
                text[member.id] = CommentFingerprint.normalise(member.text)
            }
        }
        let clusters = try allGroups(searcher, near: true)
        for cluster in clusters {
            for member in cluster.members where text[member.id] == nil {
                text[member.id] = CommentFingerprint.normalise(member.text ?? cluster.text)
            }
        }
        let scores = pairScores(predicted: clusters.map { Set($0.members.map(\.id)) }, truth: clustersTruth) { text[$0] == text[$1] }
        print(String(format: "near: pair precision %.4f, recall %.4f (%d pairs found, %d planted); indexed in %@",
                     scores.precision, scores.recall, scores.predicted, scores.truth, "\(elapsed)"))
    }

    /// `quarry index --no-near-duplicates`: exact groups as found with it, no
    /// band store or cluster term, and a clear refusal to list clusters or to change
    /// the choice on a later run, which keeps it.
    @Test func anIndexWithoutNearDuplicatesKeepsItsExactGroupsAndSaysSo() throws {
        let directory = try TemporaryDirectory("quarry-no-near")
        defer { directory.remove() }
        let corpus = directory.path + "/corpus", path = directory.path + "/index"
        let truth = try PlantedDuplicateCorpus.write(to: corpus, seed: 20_240_607)
        _ = try Indexer.run(corpus: corpus, index: path, options: IndexOptions(nearDuplicates: false), logger: quietLogger)
        let searcher = try Searcher(indexPath: path)
        #expect(Set(try allGroups(searcher, near: false).map { Set($0.members.map(\.id)) }) == Set(truth.exactGroups.map { Set($0.members) }))
        let bands = path + "/" + BandStore.directoryName
        #expect(!FileManager.default.fileExists(atPath: bands))
        #expect(try Database(path: path).allTerms(prefix: IndexSchema.Prefix.cluster).isEmpty)
        #expect(try searcher.stats().nearDuplicates == false)
        #expect(try Searcher(indexPath: sharedCorpusIndex.get()).stats().nearDuplicates == true)
        let near = try #require(throws: QuarryError.self) { try searcher.nearDuplicates() }
        #expect(near.code == .invalidRequest && near.message.contains("without near-duplicate detection"))

        let change = try #require(throws: QuarryError.self) {
            try Indexer.run(corpus: corpus, index: path, options: IndexOptions(nearDuplicates: true), logger: quietLogger)
        }
        #expect(change.code == .indexMismatch && change.message.contains("without near-duplicate detection"))
        let threshold = try #require(throws: QuarryError.self) {
            try Indexer.run(corpus: corpus, index: path, options: IndexOptions(nearThreshold: 0.5), logger: quietLogger)
        }
        #expect(threshold.message.contains("--near-threshold"))

        // A later run without the option: one more copy of a planted text joins its group, still no bands.
        let group = truth.exactGroups[0]
        try "Late article\nA paragraph.\n1 Comment\nlate_account_1\n\(group.text)\n".write(
            toFile: corpus + "/late.txt", atomically: true, encoding: .utf8)
        _ = try Indexer.run(corpus: corpus, index: path, logger: quietLogger)
        let grown = try #require(try Searcher(indexPath: path).duplicates(of: "late#1"))
        #expect(Set(grown.members.map(\.id)) == Set(group.members + ["late#1"]))
        #expect(grown.accounts.count == group.accounts.count + 1)
        #expect(!FileManager.default.fileExists(atPath: bands))
    }

    @Test func aTextTooShortToShingleOnlyMatchesItsExactCopies() throws {
        #expect(NearDuplicates.shingles(of: "Agreed!") == nil)
        #expect(NearDuplicates.bandKeys(of: "Agreed!").isEmpty)
        #expect(NearDuplicates.bandKeys(of: "Agreed, entirely.").count == NearDuplicates.bands)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("corpus/a.txt", "Short replies\nBody.\n4 Comments\nAnn\nAgreed!\nBob\nagreed\nCy\nAgreed entirely.\nDee\nAgreed, entirely!\n")
        try index(directory.path + "/corpus", into: directory.path + "/index")
        let searcher = try Searcher(indexPath: directory.path + "/index")
        let groups = try searcher.duplicates(minAccounts: 1).groups.map { Set($0.members.map(\.id)) }
        #expect(Set(groups) == [["a#1", "a#2"], ["a#3", "a#4"]])
        // "agreed" and "agreed entirely" share a word but the one-word text has no shingle.
        let clusters = try searcher.nearDuplicates(minAccounts: 1).groups.map { Set($0.members.map(\.id)) }
        #expect(Set(clusters) == Set(groups))
    }

    @Test func aCommonWordPairDoesNotMakeABandThatThousandsOfTextsShare() throws {
        // Texts of four shingles, all holding "and the": with every band kept, about
        // one in 64 of them has "and the" as the least hash of all three rows of a
        // given band, so that band is shared by dozens of unrelated texts.
        var generator = SystemRandomNumberGenerator()
        var holders: [UInt64: Int] = [:]
        for _ in 0..<2000 {
            let words = (0..<3).map { _ in "w" + String(UInt32.random(in: 0..<1_000_000, using: &generator)) }
            for band in NearDuplicates.bandKeys(of: "and the " + words.joined(separator: " ")) { holders[band, default: 0] += 1 }
        }
        #expect(holders.values.max() ?? 0 < 5)
        // A text of two shingles keeps all its bands: they are all it has.
        #expect(NearDuplicates.bandKeys(of: "and the vote").count == NearDuplicates.bands)
    }

    @Test func fingerprintsSeeThroughCaseSpacingAndPunctuationButNotWords() {
        #expect(CommentFingerprint.of("Dialogue — and DIPLOMACY!") == CommentFingerprint.of("dialogue and   diplomacy"))
        #expect(CommentFingerprint.of("ｆｕｌｌ width") == CommentFingerprint.of("full width"))
        #expect(CommentFingerprint.of("dialogue and diplomacy") != CommentFingerprint.of("dialogue or diplomacy"))
        // Comments of symbols alone match only the same symbols, not each other.
        #expect(CommentFingerprint.of("👍") != CommentFingerprint.of("!!!"))
        #expect(CommentFingerprint.of(" 👍 ") == CommentFingerprint.of("👍"))
    }

    @Test func minHashEstimatesTheJaccardSimilarity() throws {
        let a = try #require(NearDuplicates.shingles(of: "These sanctions only hurt ordinary people, not the leaders who deserve them."))
        let b = try #require(NearDuplicates.shingles(of: "These sanctions only hurt ordinary families, not the leaders who deserve them."))
        let exact = NearDuplicates.jaccard(a, b)
        // 12 words, 11 word pairs; the changed word breaks 2 of them on each side: 9 / 13.
        #expect(abs(exact - 9.0 / 13.0) < 1e-9)
        #expect(NearDuplicates.jaccard(sorted: a.sorted(), b.sorted()) == exact)
        let estimate = NearDuplicates.estimatedJaccard(NearDuplicates.signature(a), NearDuplicates.signature(b))
        #expect(abs(estimate - exact) < 0.2)
        #expect(NearDuplicates.signature(a) == NearDuplicates.signature(a))
        // Similar texts share bands; unrelated ones almost never do.
        let shared = Set(NearDuplicates.bandKeys(distinct: a)).intersection(NearDuplicates.bandKeys(distinct: b))
        #expect(!shared.isEmpty)
        let other = try #require(NearDuplicates.shingles(of: "The referee lost control of this match in the first ten minutes."))
        #expect(Set(NearDuplicates.bandKeys(distinct: a)).isDisjoint(with: NearDuplicates.bandKeys(distinct: other)))
    }

    /// The indexer and the recount shingle ASCII text in its bytes: the
    /// shingles, and so the band keys a band store already holds, must be the
    /// ones the general rule makes, for every kind of text.
    @Test(arguments: [
        "These sanctions only hurt ordinary people, not the leaders who deserve them.",
        "the the the the of the the the",
        "Agreed!", "two words", "  spaced   out\ttext\n with-dash ",
        "Ça coûte cher, très cher", "ना है करना ा ि", "中文 评论 中文 评论", "e\u{301}te\u{301} e\u{301}te\u{301}", "👍 👍 ok 👍",
    ])
    func shinglesFromBytesAreTheGeneralRules(text: String) {
        let normalised = CommentFingerprint.normalise(text)
        #expect(NearDuplicates.sortedShingles(ofNormalised: normalised) == NearDuplicates.shingles(ofNormalised: normalised)?.sorted())
        #expect(NearDuplicates.bandKeys(of: text) == NearDuplicates.shingles(of: text).map { NearDuplicates.bandKeys(distinct: $0) } ?? [])
    }
}

