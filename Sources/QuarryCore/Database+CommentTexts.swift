import QuarryProtocol
import XapianKit

extension Database {
    /// Calls `body` with each distinct comment text (one comment holding it)
    /// and its fingerprint, in fingerprint order, reading the fingerprint terms
    /// a page at a time: memory does not grow with the index.
    func forEachCommentText(_ body: (Fingerprint, CommentRecord) throws -> Void) throws {
        let prefix = IndexSchema.Prefix.fingerprint
        var after = ""
        while true {
            let page = try allTerms(prefix: prefix, after: after, limit: 1024)
            guard let last = page.last else { return }
            after = last.term
            for entry in page {
                guard let fingerprint = Fingerprint(entry.term.dropFirst(prefix.count)),
                      let id = try documents(withTerm: entry.term, limit: 1).first,
                      case .comment(let comment) = try DocumentRecord(stored: try document(id).data())
                else { continue }
                try body(fingerprint, comment)
            }
        }
    }
}
