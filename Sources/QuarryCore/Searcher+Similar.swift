import QuarryProtocol
import XapianKit

/// "More like this".
extension Searcher {
    /// How many of a document's most telling words the similar-documents query uses.
    static let similarTermCount = 25
    /// Words in a larger share of all documents than this ("of", "that") tell
    /// nothing about a document even when its expand set ranks them.
    static let similarMaxTermShare = 0.1

    /// The documents most like article or comment `request.id`: Xapian's expand
    /// set of that one document (its words weighted by how much rarer they are
    /// in the index than in it) searched as an OR query, the document itself
    /// left out. Of the same kind as the document unless `request.type` says otherwise.
    public func similar(_ request: SimilarRequest) throws(QuarryError) -> SimilarResponse {
        try limits.validate(request)
        return try retryingOnModification {
            typealias P = IndexSchema.Prefix
            let idTerm = IndexSchema.term(P.id, request.id)
            guard let docid = try database.documents(withTerm: idTerm, limit: 1).first else {
                throw QuarryError(.notFound, "no article or comment has the id '\(request.id)'; ids are corpus paths without the extension, and ARTICLE#N for comments")
            }
            let ownKind = String(decoding: try database.document(docid).value(IndexSchema.Slot.kind), as: UTF8.self)
            let kind = request.type?.rawValue ?? ownKind
            let enquire = try Enquire(database: database)
            // In a small index every word is in a good share of it: keep words in a few.
            let common = max(5, Double(try database.documentCount) * Self.similarMaxTermShare)
            var terms: [String] = []
            for (term, _) in try enquire.expandTerms(like: [docid], max: 2 * Self.similarTermCount) {
                guard terms.count < Self.similarTermCount else { break }
                if Double(try database.termFrequency(term)) <= common { terms.append(term) }
            }
            var query = try Query(.or, try terms.map { (term) throws(XapianError) in try Query(term: term) })
            if !kind.isEmpty { query = try Query(.filter, [query, try Query(term: P.kind + kind)]) }
            query = try Query(.andNot, [query, try Query(term: idTerm)])
            try enquire.setQuery(query)
            try enquire.sortByRelevanceThenValue(IndexSchema.Slot.id)
            if limits.timeLimit > 0 { try enquire.setTimeLimit(seconds: limits.timeLimit) }
            let mset = try enquire.mset(offset: UInt32(request.offset), limit: UInt32(request.limit))
            var hits: [SearchHit] = []
            for index in 0..<mset.count { hits.append(try hit(mset, index, collapsed: nil)) }
            return SimilarResponse(
                revision: try indexRevision(), id: request.id, terms: terms, total: Int(try mset.counts().estimated),
                offset: request.offset, hits: hits)
        }
    }

    /// The `limit` documents most like `id`.
    public func similar(id: String, limit: Int = 10) throws(QuarryError) -> SimilarResponse {
        try similar(SimilarRequest(id: id, limit: limit))
    }
}
