import QuarryProtocol

/// The checks a searcher makes on a request's numbers before touching the
/// index: pure, so the daemon's request path can be tested and fuzzed without one.
extension SearchLimits {
    /// Page size, offset and depth of a search. Overflow-safe for any `Int`
    /// a client sends (an offset of `Int.max` is refused, not added to).
    public func validate(_ request: SearchRequest) throws(QuarryError) {
        try validatePage(offset: request.offset, limit: request.limit)
        if let checkAtLeast = request.checkAtLeast, checkAtLeast < 0 {
            throw QuarryError(.invalidRequest, "checkAtLeast must be 0 or more, not \(checkAtLeast)")
        }
    }

    /// Page size, offset and depth of a more-like-this request.
    public func validate(_ request: SimilarRequest) throws(QuarryError) {
        try validatePage(offset: request.offset, limit: request.limit)
    }

    /// Page size, offset and counts of a duplicates listing.
    public func validate(_ request: DuplicatesRequest) throws(QuarryError) {
        guard (1...maxLimit).contains(request.limit) else {
            throw QuarryError(.invalidRequest, "limit must be between 1 and \(maxLimit), not \(request.limit)")
        }
        guard request.offset >= 0 else {
            throw QuarryError(.invalidRequest, "offset must be 0 or more, not \(request.offset)")
        }
        guard request.minAccounts >= 1 else {
            throw QuarryError(.invalidRequest, "minAccounts must be 1 or more, not \(request.minAccounts)")
        }
        guard request.maxMembers >= 0 else {
            throw QuarryError(.invalidRequest, "maxMembers must be 0 or more, not \(request.maxMembers)")
        }
    }

    private func validatePage(offset: Int, limit: Int) throws(QuarryError) {
        guard (1...maxLimit).contains(limit) else {
            throw QuarryError(.invalidRequest, "limit must be between 1 and \(maxLimit), not \(limit)")
        }
        guard offset >= 0 else {
            throw QuarryError(.invalidRequest, "offset must be 0 or more, not \(offset)")
        }
        // `offset + limit` would trap for an offset near Int.max: compare against what is left.
        guard offset <= maxWindow - limit else {
            throw QuarryError(.invalidRequest, "offset + limit must be at most \(maxWindow); narrow the query instead of paging that deep")
        }
    }
}
