import Foundation
import QuarryProtocol
import XapianKit

/// Keeps every comment's duplicate values (slots `accounts` … `similarity` and
/// its `XC` cluster term) true to the whole index.
///
/// Those values depend on other comments: a new copy of a text raises the
/// account count of every earlier copy, a removed comment may split a cluster.
/// So after a run the indexer hands over the texts (fingerprints) and clusters
/// its changes touched; this recomputes the exact groups and near-duplicate
/// clusters that contain them, and rewrites the member documents whose values
/// changed (usually few). The work follows the texts that share a band
/// (`BandStore`), never all pairs of comments.
///
/// A near-duplicate cluster is a connected component of the graph whose nodes
/// are distinct texts and whose edges join texts with shingle similarity at or
/// above the threshold (single linkage), holding at least two comments. Its id
/// is the fingerprint of its main text: the text posted by most accounts (then
/// most copies, then the smallest fingerprint), so it stays put while the
/// cluster grows around that text.
final class CoordinationMaintainer {
    struct Outcome: Sendable, Equatable {
        /// Distinct texts whose values were recomputed.
        var texts = 0
        /// Clusters (two or more comments) among them.
        var clusters = 0
        /// Comment documents rewritten because a value changed.
        var rewritten = 0

        mutating func add(_ other: Outcome) {
            texts += other.texts
            clusters += other.clusters
            rewritten += other.rewritten
        }
    }

    /// Reads the whole index: one database, or a combined view of its shards.
    private let database: Database
    /// Writes a rewritten document back where it lives.
    private let write: (DocumentID, Document) throws -> Void
    /// Nil for an index built without near-duplicate detection: a component is
    /// then one text and its copies, and no text is read.
    private let threshold: Double?

    /// Who posted a comment document, and under which article: read only for
    /// a text with several copies or in a cluster, since a lone comment counts
    /// one account and one article whoever posted it.
    private struct Member {
        var account: String
        var article: String
    }

    /// The slots this class owns.
    private static let slots: [UInt32] = {
        typealias S = IndexSchema.Slot
        return [S.accounts, S.copies, S.articles, S.cluster, S.clusterSize, S.clusterAccounts, S.similarity, S.clusterVariants]
    }()

    /// One distinct (normalised) text and its copies.
    private final class Node {
        let fingerprint: Fingerprint
        let documents: [DocumentID]
        /// Sorted; nil for a text too short to shingle: it matches only its copies.
        let shingles: [UInt64]?
        /// Computed when the text is searched from, and not kept.
        var bands: [UInt64] { shingles.map { NearDuplicates.bandKeys(distinct: $0) } ?? [] }
        /// About what it takes in memory: the object and two arrays' headers
        /// and elements, and its entry in the cache. Texts differ in length
        /// (tens of shingles to thousands), so the cache is bounded by this.
        var bytes: Int { 160 + 8 * (shingles?.count ?? 0) + 4 * documents.count }

        init(fingerprint: Fingerprint, documents: [DocumentID], shingles: [UInt64]?) {
            self.fingerprint = fingerprint
            self.documents = documents
            self.shingles = shingles
        }
    }

    /// What is read of the members of the component being written; emptied after each.
    private var members: [DocumentID: Member] = [:]
    // Caches that serve many components (a band shared by hundreds of texts is
    // read once, not once per text), each emptied whenever it passes its bound,
    // so memory stays the same whatever the size of the index. Fingerprints are
    // held as numbers: as 16-digit strings each was a heap allocation, hashed
    // byte by byte.
    private var nodes: [Fingerprint: Node] = [:]
    /// The sum of `nodes`' `bytes`.
    private var nodeBytes = 0
    /// For each band looked at, its texts joined by similar pairs within it
    /// (`groups(inBand:)`): only groups of two or more, so most bands hold none.
    private var bandGroups: [UInt64: [[Fingerprint]]] = [:]
    /// Fingerprints in `bandGroups`, plus one a band.
    private var bandGroupCount = 0
    private var documentFingerprints: [DocumentID: Fingerprint] = [:]
    /// The caches' bounds, shared by maintainers that run side by side so that
    /// memory does not grow with threads. Emptying a cache costs rereads: at
    /// 100,000 articles the recount walks 439,000 texts, at 200,000 about
    /// 1,080,000, and a text read again costs its document's data, decoded and
    /// shingled (docs/PERFORMANCE.md, sixth session, has what these cost and gave).
    static let nodeByteBound = 256 << 20
    static let bandGroupBound = 1_000_000
    static let documentFingerprintBound = 2_000_000
    /// Texts already placed in a component in this recount: not looked at
    /// again, as a seed or as a candidate in a band. Emptying it costs only work
    /// (texts of a common band compared again), so it is emptied past
    /// `doneBound` entries (about 100 MB), far above the 1,080,000 texts of the
    /// 200k corpus's recount.
    private var done = Set<Fingerprint>()
    private static let doneBound = 8_000_000
    /// This maintainer's part of the bounds.
    private let limits: (nodeBytes: Int, bandGroups: Int, documentFingerprints: Int, done: Int)

    /// Which texts hold each band; nil without near-duplicate detection.
    private let bands: BandReader?
    /// On a run that began with no comment: the keys its comments had more
    /// than once, so a band no two of them shared is not looked up.
    private let repeats: RepeatedKeys?
    /// Told the texts of each component once its values are written.
    private let settled: ([Fingerprint]) throws -> Void
    /// Asked before a component of several texts is written (sorted): false when
    /// another maintainer (another thread's, reading the same committed index) has it.
    private let claim: ([Fingerprint]) throws -> Bool

    /// - Parameter share: the part of the caches' bounds this maintainer may
    ///   use: 1 alone, 1/N for each of N threads.
    init(database: Database, threshold: Double?, bands: BandReader?, repeats: RepeatedKeys? = nil, share: Double = 1,
         write: @escaping (DocumentID, Document) throws -> Void, settled: @escaping ([Fingerprint]) throws -> Void = { _ in },
         claim: @escaping ([Fingerprint]) throws -> Bool = { _ in true }) {
        func part(_ bound: Int) -> Int { Int(Double(bound) * share) }
        limits = (part(Self.nodeByteBound), part(Self.bandGroupBound), part(Self.documentFingerprintBound), part(Self.doneBound))
        self.database = database
        self.threshold = threshold
        self.bands = bands
        self.repeats = repeats
        self.claim = claim
        self.write = write
        self.settled = settled
    }

    /// Recomputes everything: after a threshold change, or to repair an index.
    /// Reads the texts a page at a time.
    func rebuildAll() throws -> Outcome {
        let prefix = IndexSchema.Prefix.fingerprint
        var outcome = Outcome()
        var after = ""
        while true {
            let page = try database.allTerms(prefix: prefix, after: after, limit: 1024)
            guard let last = page.last else { return outcome }
            for entry in page {
                guard let fingerprint = Fingerprint(entry.term.dropFirst(prefix.count)) else { continue }
                try recount(fingerprint, into: &outcome)
            }
            after = last.term
        }
    }

    /// Recomputes the group of the text with `fingerprint` and the cluster it is in.
    /// Returns whether `settled` has been told of the text (now or earlier in this
    /// recount); false when no comment has it.
    @discardableResult
    func recount(_ fingerprint: Fingerprint, into outcome: inout Outcome) throws -> Bool {
        guard !done.contains(fingerprint) else { return true }
        guard let start = try node(fingerprint) else { return false }
        let component = try component(from: start)
        // Two threads reach the same component from two of its texts; both find it
        // whole, so one claim per component (its texts) is enough.
        let mine = try component.count == 1 || claim(component.map(\.fingerprint).sorted())
        if mine { try write(component, into: &outcome) }
        members = [:]
        // A text belongs to one component: it is not looked at again.
        for node in component where nodes.removeValue(forKey: node.fingerprint) != nil { nodeBytes -= node.bytes }
        if nodeBytes > limits.nodeBytes {
            nodes = [:]
            nodeBytes = 0
        }
        if bandGroupCount > limits.bandGroups {
            bandGroups = [:]
            bandGroupCount = 0
        }
        if documentFingerprints.count > limits.documentFingerprints { documentFingerprints = [:] }
        if mine { try settled(component.map(\.fingerprint)) }
        if done.count > limits.done { done = [] }
        for node in component { done.insert(node.fingerprint) }
        return true
    }

    /// `recount` of the text a dirty mark (`IndexSchema.Metadata.dirtyFingerprintPrefix`
    /// and a fingerprint) names; false, so the mark is cleared, when no comment
    /// has it or the key names no fingerprint.
    func recount(mark key: String, into outcome: inout Outcome) throws -> Bool {
        guard let fingerprint = Fingerprint(key.dropFirst(IndexSchema.Metadata.dirtyFingerprintPrefix.count)) else { return false }
        return try recount(fingerprint, into: &outcome)
    }

    /// Recomputes every cluster that holds a comment called `cluster` before
    /// the change: the survivors of a cluster that lost a comment may have come apart.
    func recount(cluster: String, into outcome: inout Outcome) throws {
        var fingerprints = Set<Fingerprint>()
        for document in try database.documents(withTerm: IndexSchema.Prefix.cluster + cluster) {
            if let fingerprint = try fingerprint(of: document) { fingerprints.insert(fingerprint) }
        }
        for fingerprint in fingerprints.sorted() { try recount(fingerprint, into: &outcome) }
    }

    // MARK: graph

    /// Every text connected to `start` by similar pairs, found breadth first
    /// through the texts that share its bands.
    private func component(from start: Node) throws -> [Node] {
        var component: [Node] = [start]
        var inComponent: Set<Fingerprint> = [start.fingerprint]
        var next = 0
        while next < component.count {
            let current = component[next]
            next += 1
            guard let threshold, let bands, current.shingles != nil else { continue }
            for band in current.bands {
                guard repeats?.mayRepeat(band: band) ?? true else { continue }
                // The texts this band joins to the current one are all in this component
                // (the component is closed under similar pairs); a text already placed in
                // an earlier component is not among them, or this one would be there too.
                guard let group = try groups(inBand: band, from: bands, threshold: threshold).first(where: { $0.contains(current.fingerprint) })
                else { continue }
                for fingerprint in group where !inComponent.contains(fingerprint) && !done.contains(fingerprint) {
                    guard let candidate = try node(fingerprint) else { continue }
                    inComponent.insert(fingerprint)
                    component.append(candidate)
                }
            }
        }
        return component
    }

    /// The texts holding `band`, joined by their similar pairs into groups
    /// (connected components of the band's pairs at or above `threshold`);
    /// groups of one are left out. Worked out once a band, and cached.
    ///
    /// The band's texts are compared here, side by side, rather than from each
    /// text in turn through the caches. A band of a frequent word pair can hold
    /// thousands of unrelated texts (4,203 in the 100,000-article corpus, where
    /// 4 bands hold more than half of the 24.6 million pairs), and reaching each
    /// of them through the caches, from every text of the band, cost a third of
    /// the recount in cache misses (docs/PERFORMANCE.md, thirteenth session).
    private func groups(inBand band: UInt64, from bands: BandReader, threshold: Double) throws -> [[Fingerprint]] {
        if let cached = bandGroups[band] { return cached }
        var fingerprints: [Fingerprint] = [], shingles: [[UInt64]] = [], counts: [Int] = []
        for text in try bands.texts(inBand: band) {
            let fingerprint = Fingerprint(value: text)
            // A text placed in an earlier component is similar to none of the rest
            // (they would be in that component), and is no longer cached: not read again.
            guard !done.contains(fingerprint), let textShingles = try node(fingerprint)?.shingles else { continue }
            fingerprints.append(fingerprint)
            shingles.append(textShingles)
            counts.append(textShingles.count)
        }
        // Breadth first from each text not yet in a group, as `component` does
        // across bands. A text joined leaves `open`, so a band of thousands of
        // near-identical texts is one pass, not one a text.
        var groups: [[Fingerprint]] = []
        var open = Array(fingerprints.indices)
        while let seed = open.popLast() {
            var group = [seed]
            var next = 0
            while next < group.count, !open.isEmpty {
                let member = group[next]
                next += 1
                var kept = 0
                for index in open.indices {
                    let candidate = open[index]
                    if Self.mayReach(threshold, counts[member], counts[candidate]),
                       NearDuplicates.jaccard(sorted: shingles[member], shingles[candidate]) >= threshold {
                        group.append(candidate)
                    } else {
                        open[kept] = candidate
                        kept += 1
                    }
                }
                open.removeLast(open.count - kept)
            }
            if group.count > 1 { groups.append(group.map { fingerprints[$0] }) }
        }
        bandGroups[band] = groups
        bandGroupCount += groups.reduce(1) { $0 + $1.count }
        return groups
    }

    /// Whether two shingle sets of these sizes can reach `threshold`: the
    /// similarity is at most smaller / larger (all of the smaller shared), so a
    /// pair of very different lengths, common in a band of a frequent word
    /// pair, is turned down without the merge. Rounding is monotonic, so this
    /// never refuses a pair `jaccard` would accept.
    private static func mayReach(_ threshold: Double, _ a: Int, _ b: Int) -> Bool {
        max(a, b) == 0 || Double(min(a, b)) / Double(max(a, b)) >= threshold
    }

    /// Nil for a document without a well-formed fingerprint (not a comment):
    /// it is in no group.
    private func fingerprint(of id: DocumentID) throws -> Fingerprint? {
        if let cached = documentFingerprints[id] { return cached }
        guard let fingerprint = Fingerprint(try database.document(unchecked: id).value(IndexSchema.Slot.fingerprint)) else { return nil }
        documentFingerprints[id] = fingerprint
        return fingerprint
    }

    /// The text with this fingerprint and its copies; nil when no comment has it any more.
    private func node(_ fingerprint: Fingerprint) throws -> Node? {
        if let cached = nodes[fingerprint] { return cached }
        let documents = try database.documents(withTerm: IndexSchema.Prefix.fingerprint + fingerprint.hex)
        guard let first = documents.first else { return nil }
        var text: String?
        if threshold != nil, case .comment(let comment)? = try? DocumentRecord(stored: try database.document(unchecked: first).data()) {
            text = comment.text
        }
        let node = Node(fingerprint: fingerprint, documents: documents, shingles: text.flatMap { NearDuplicates.sortedShingles(ofNormalised: CommentFingerprint.normalise($0)) })
        nodes[fingerprint] = node
        nodeBytes += node.bytes
        return node
    }

    private func member(_ id: DocumentID) throws -> Member {
        if let cached = members[id] { return cached }
        let document = try database.document(unchecked: id)
        let member = Member(
            account: IndexSchema.normalisedAuthor(String(decoding: try document.value(IndexSchema.Slot.author), as: UTF8.self)),
            article: String(decoding: try document.value(IndexSchema.Slot.article), as: UTF8.self))
        members[id] = member
        return member
    }

    /// The duplicate values document `id` holds now (`packed`).
    private func currentValues(_ id: DocumentID) throws -> [UInt8] {
        let document = try database.document(unchecked: id)
        var values: [UInt32: [UInt8]] = [:]
        for slot in Self.slots { values[slot] = try document.value(slot) }
        return Self.packed(values)
    }

    // MARK: values

    private func write(_ component: [Node], into outcome: inout Outcome) throws {
        typealias S = IndexSchema.Slot
        let size = component.reduce(0) { $0 + $1.documents.count }
        var accounts: [Fingerprint: Int] = [:]
        for node in component {
            accounts[node.fingerprint] = node.documents.count == 1 ? 1 : Set(try node.documents.map { try member($0).account }).count
        }
        // The main text: most accounts, then most copies, then the smallest fingerprint.
        let main = component.min { a, b in
            if accounts[a.fingerprint] != accounts[b.fingerprint] { return accounts[a.fingerprint, default: 0] > accounts[b.fingerprint, default: 0] }
            if a.documents.count != b.documents.count { return a.documents.count > b.documents.count }
            return a.fingerprint < b.fingerprint
        }
        // Without near-duplicate detection the cluster slots and terms stay empty.
        let inCluster = size >= 2 && threshold != nil
        var clusterAccounts = Set<String>()
        if inCluster {
            for node in component { for document in node.documents { clusterAccounts.insert(try member(document).account) } }
            outcome.clusters += 1
        }
        for node in component {
            outcome.texts += 1
            var articles = Set<String>()
            if node.documents.count > 1 {
                for document in node.documents { articles.insert(try member(document).article) }
            }
            var values: [UInt32: [UInt8]] = [
                S.accounts: sortableSerialise(Double(accounts[node.fingerprint, default: 0])),
                S.copies: sortableSerialise(Double(node.documents.count)),
                S.articles: sortableSerialise(Double(node.documents.count == 1 ? 1 : articles.count)),
                S.cluster: [], S.clusterSize: [], S.clusterAccounts: [], S.similarity: [], S.clusterVariants: [],
            ]
            if inCluster, let main {
                values[S.cluster] = Array(main.fingerprint.hex.utf8)
                values[S.clusterSize] = sortableSerialise(Double(size))
                values[S.clusterAccounts] = sortableSerialise(Double(clusterAccounts.count))
                values[S.clusterVariants] = sortableSerialise(Double(component.count))
                let similarity: Double
                if node === main {
                    similarity = 1
                } else if let mine = node.shingles, let theirs = main.shingles {
                    similarity = NearDuplicates.jaccard(sorted: mine, theirs)
                } else {
                    similarity = 0
                }
                values[S.similarity] = sortableSerialise(similarity)
            }
            for id in node.documents where try rewrite(id, values) {
                outcome.rewritten += 1
            }
        }
    }

    /// The values of `slots`, each with its length in front, in one array.
    private static func packed(_ values: [UInt32: [UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for slot in slots {
            let value = values[slot] ?? []
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: value.count).littleEndian) { bytes += $0 }
            bytes += value
        }
        return bytes
    }

    /// Sets `values` on document `id` unless it already holds them; returns whether it changed.
    private func rewrite(_ id: DocumentID, _ values: [UInt32: [UInt8]]) throws -> Bool {
        guard try currentValues(id) != Self.packed(values) else { return false }
        let document = try database.document(id)
        let oldCluster = String(decoding: try document.value(IndexSchema.Slot.cluster), as: UTF8.self)
        let newCluster = String(decoding: values[IndexSchema.Slot.cluster] ?? [], as: UTF8.self)
        for (slot, value) in values { try document.setValue(slot, value) }
        if oldCluster != newCluster {
            // The value and the term are written together, so the term is there; if an
            // older index lacks it, there is simply nothing to remove.
            if !oldCluster.isEmpty { try? document.removeTerm(IndexSchema.Prefix.cluster + oldCluster) }
            if !newCluster.isEmpty { try document.addBooleanTerm(IndexSchema.Prefix.cluster + newCluster) }
        }
        try write(id, document)
        return true
    }
}
