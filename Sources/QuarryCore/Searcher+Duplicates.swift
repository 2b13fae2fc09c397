import Foundation
import QuarryProtocol
import XapianKit

/// Coordinated comments: the same text (exact groups) or nearly the same text
/// (near-duplicate clusters) posted by several accounts. The indexer keeps the
/// groups' and clusters' sizes in every member's values
/// (`CoordinationMaintainer`); listing reads them from the `XH` and `XC` terms.
extension Searcher {
    /// Exact groups or near-duplicate clusters, the ones with most accounts first
    /// (then most comments); or, with `request.of`, the one holding that comment.
    public func duplicates(_ request: DuplicatesRequest) throws(QuarryError) -> DuplicatesResponse {
        try validate(request)
        return try retryingOnModification {
            if request.near, try database.metadata(IndexSchema.Metadata.nearDuplicates) == "off" {
                throw QuarryError(.invalidRequest, "this index was built without near-duplicate detection (quarry index --no-near-duplicates), so it has exact groups only: ask without near, or rebuild the index without that flag")
            }
            let threshold = request.near ? try storedNearThreshold() : nil
            if let id = request.of {
                let group = try group(of: id, near: request.near, maxMembers: request.maxMembers)
                return DuplicatesResponse(
                    revision: try indexRevision(), near: request.near, threshold: threshold,
                    total: group == nil ? 0 : 1, offset: 0, groups: group.map { [$0] } ?? [])
            }
            let ranked = try rankedGroups(near: request.near, minAccounts: request.minAccounts)
            let page = ranked.dropFirst(request.offset).prefix(request.limit)
            return DuplicatesResponse(
                revision: try indexRevision(), near: request.near, threshold: threshold, total: ranked.count,
                offset: request.offset,
                groups: try page.map { try group(term: $0.term, near: request.near, maxMembers: request.maxMembers) })
        }
    }

    /// Exact duplicate groups posted by at least `minAccounts` accounts.
    public func duplicates(minAccounts: Int = 2, limit: Int = 20, offset: Int = 0) throws(QuarryError) -> DuplicatesResponse {
        try duplicates(DuplicatesRequest(minAccounts: minAccounts, offset: offset, limit: limit))
    }

    /// Near-duplicate clusters spanning at least `minAccounts` accounts.
    public func nearDuplicates(minAccounts: Int = 2, limit: Int = 20, offset: Int = 0) throws(QuarryError) -> DuplicatesResponse {
        try duplicates(DuplicatesRequest(near: true, minAccounts: minAccounts, offset: offset, limit: limit))
    }

    /// The copies of comment `id` (itself included), or with `near` its cluster;
    /// nil when it has none.
    public func duplicates(of id: String, near: Bool = false) throws(QuarryError) -> DuplicateGroup? {
        try duplicates(DuplicatesRequest(near: near, of: id)).groups.first
    }

    private func validate(_ request: DuplicatesRequest) throws(QuarryError) {
        try limits.validate(request)
    }

    private func storedNearThreshold() throws -> Double {
        Double(try database.metadata(IndexSchema.Metadata.nearThreshold)) ?? NearDuplicates.defaultThreshold
    }

    /// Every group term (`XH…` or `XC…`) with two comments or more whose
    /// accounts reach `minAccounts`, in listing order. One document read per
    /// group: the account count is in each member's values.
    private func rankedGroups(near: Bool, minAccounts: Int) throws -> [(term: String, accounts: Int, count: Int)] {
        let prefix = near ? IndexSchema.Prefix.cluster : IndexSchema.Prefix.fingerprint
        let slot = near ? IndexSchema.Slot.clusterAccounts : IndexSchema.Slot.accounts
        var ranked: [(term: String, accounts: Int, count: Int)] = []
        for entry in try database.allTerms(prefix: prefix, minFrequency: 2) {
            guard let first = try database.documents(withTerm: entry.term, limit: 1).first else { continue }
            let accounts = Self.count(try database.document(first).value(slot)) ?? 1
            if accounts >= minAccounts { ranked.append((entry.term, accounts, Int(entry.count))) }
        }
        ranked.sort { a, b in
            if a.accounts != b.accounts { return a.accounts > b.accounts }
            if a.count != b.count { return a.count > b.count }
            return a.term < b.term
        }
        return ranked
    }

    private func group(of id: String, near: Bool, maxMembers: Int) throws -> DuplicateGroup? {
        guard let docid = try database.documents(withTerm: IndexSchema.term(IndexSchema.Prefix.id, id), limit: 1).first else {
            throw QuarryError(.notFound, "no comment has the id '\(id)'; comment ids are ARTICLE#N, as search results show them")
        }
        let document = try database.document(docid)
        let fingerprint = String(decoding: try document.value(IndexSchema.Slot.fingerprint), as: UTF8.self)
        guard !fingerprint.isEmpty else {
            throw QuarryError(.invalidRequest, "'\(id)' is an article; duplicates are listed for comments (ARTICLE#N)")
        }
        if near {
            let cluster = String(decoding: try document.value(IndexSchema.Slot.cluster), as: UTF8.self)
            return cluster.isEmpty ? nil : try group(term: IndexSchema.Prefix.cluster + cluster, near: true, maxMembers: maxMembers)
        }
        let term = IndexSchema.Prefix.fingerprint + fingerprint
        return try database.termFrequency(term) < 2 ? nil : try group(term: term, near: false, maxMembers: maxMembers)
    }

    /// The group or cluster indexed by `term`, its members read from their documents.
    private func group(term: String, near: Bool, maxMembers: Int) throws -> DuplicateGroup {
        typealias S = IndexSchema.Slot
        let id = String(term.dropFirst(near ? IndexSchema.Prefix.cluster.count : IndexSchema.Prefix.fingerprint.count))
        var members: [(member: DuplicateMember, text: String, fingerprint: String)] = []
        for docid in try database.documents(withTerm: term) {
            let document = try database.document(docid)
            guard case .comment(let comment) = try DocumentRecord(stored: try document.data()) else { continue }
            let similarity = try document.value(S.similarity)
            members.append((
                DuplicateMember(
                    id: comment.id, article: comment.article, author: comment.author, published: comment.published,
                    similarity: near ? (similarity.isEmpty ? nil : sortableUnserialise(similarity)) : nil),
                comment.text,
                String(decoding: try document.value(S.fingerprint), as: UTF8.self)))
        }
        // The main text's copies first (similarity 1), then the closest variants; by id within.
        members.sort { a, b in
            let (x, y) = (a.member.similarity ?? 1, b.member.similarity ?? 1)
            if x != y { return x > y }
            if a.member.article != b.member.article { return a.member.article < b.member.article }
            return Self.commentNumber(a.member.id) < Self.commentNumber(b.member.id)
        }
        let main = near ? (members.first { $0.fingerprint == id } ?? members.first) : members.first
        var accounts: [String] = []
        var seenAccounts = Set<String>()
        for entry in members where seenAccounts.insert(IndexSchema.normalisedAuthor(entry.member.author)).inserted {
            accounts.append(entry.member.author)
        }
        if near {
            for index in members.indices where members[index].fingerprint != main?.fingerprint {
                members[index].member.text = members[index].text
            }
        }
        return DuplicateGroup(
            id: id, text: main?.text ?? "", count: members.count,
            accounts: accounts.sorted { $0.lowercased() < $1.lowercased() },
            articles: Set(members.map(\.member.article)).sorted(),
            variants: near ? Set(members.map(\.fingerprint)).count : nil,
            members: Array(members.prefix(maxMembers).map(\.member)))
    }
}
