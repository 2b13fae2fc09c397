import Foundation
import QuarryProtocol

/// Renders results for a person at a terminal: matched words in bold when
/// `colour` is on, plain text otherwise.
struct TerminalRenderer {
    let colour: Bool

    func bold(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    /// Snippets are HTML with `<mark>` around matches: make them terminal text.
    func snippet(_ html: String) -> String {
        let marked = html
            .replacingOccurrences(of: "<mark>", with: colour ? "\u{1B}[1m" : "[")
            .replacingOccurrences(of: "</mark>", with: colour ? "\u{1B}[0m" : "]")
        return Self.unescapeHTML(marked)
    }

    static func unescapeHTML(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text
            .replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    func render(_ response: SearchResponse) -> String {
        var out = ""
        if let suggestion = response.suggestion {
            out += "Did you mean: \(bold(suggestion))?  (run again with --correct)\n\n"
        }
        for hit in response.hits {
            out += "\(hit.rank). \(bold(hit.title))\n"
            var line = "   \(hit.kind.rawValue) \(hit.id)"
            if let author = hit.author { line += " · by \(author)" }
            if let published = hit.published { line += " · \(published)" }
            line += String(format: " · score %.2f", hit.score)
            out += dim(line) + "\n"
            for line in describe(hit.duplicates, hit.cluster) { out += "   \(line)\n" }
            if let collapsed = hit.collapsed, collapsed > 0 {
                out += "   +\(collapsed) more matching in this article\n"
            }
            let text = snippet(hit.snippet)
            if !text.isEmpty { out += "   \(text)\n" }
            out += "\n"
        }
        if let facets = response.facets {
            for (field, counts) in facets.sorted(by: { $0.key < $1.key }) {
                out += "\(field): " + counts.map { "\($0.value) (\($0.count))" }.joined(separator: ", ") + "\n"
            }
            out += "\n"
        }
        if let notice = response.notice {
            out += "Note: \(notice).\n"
        }
        if response.hits.isEmpty {
            out += "No results for \"\(response.query)\".\n"
        } else {
            let first = response.offset + 1
            let last = response.offset + response.hits.count
            let total = response.totalLowerBound == response.totalUpperBound ? "\(response.total)" : "about \(response.total)"
            out += "Results \(first)–\(last) of \(total).\n"
        }
        return out
    }

    func render(_ record: DocumentRecord) -> String {
        switch record {
        case .article(let article):
            var out = bold(article.title) + "\n"
            var meta = [article.id]
            if let author = article.author { meta.append("by \(author)") }
            if let published = article.published { meta.append(published) }
            if let source = article.source { meta.append(source) }
            if let url = article.url { meta.append(url) }
            out += dim(meta.joined(separator: " · ")) + "\n\n"
            for paragraph in article.paragraphs { out += paragraph + "\n\n" }
            out += "\(article.comments.count) comment\(article.comments.count == 1 ? "" : "s")\n"
            for comment in article.comments { out += "\n" + renderComment(comment, withTitle: false) }
            return out
        case .comment(let comment):
            return renderComment(comment, withTitle: true)
        }
    }

    private func renderComment(_ comment: CommentRecord, withTitle: Bool) -> String {
        var out = ""
        if withTitle { out += "on \(bold(comment.articleTitle)) (\(comment.article))\n" }
        out += "\(bold(comment.author)) \(dim(comment.id))"
        if let published = comment.published { out += dim(" · \(published)") }
        out += "\n\(comment.text)\n"
        for line in describe(comment.duplicates, comment.cluster) { out += dim(line) + "\n" }
        return out
    }

    func render(_ stats: IndexStats, path: String) -> String {
        """
        index:     \(path)
        documents: \(stats.documents) (\(stats.articles) articles, \(stats.comments) comments) from \(stats.files) files
        revision:  \(stats.revision)
        size:      \(ByteCountFormatter.string(fromByteCount: stats.sizeBytes, countStyle: .file))
        language:  \(stats.language)
        duplicates: \(stats.nearDuplicates == false ? "exact groups only (built with --no-near-duplicates)" : "exact groups and near-duplicate clusters")
        xapian:    \(stats.xapianVersion)

        """ + (stats.shards ?? []).map { shard in
            "shard:     \(shard.database): " + (shard.reachable ? "\(shard.documents ?? 0) documents\n" : "UNREACHABLE (\(shard.error ?? "no answer"))\n")
        }.joined()
    }
}
