import ArgumentParser
import Foundation
import QuarryClient
import QuarryCore
import QuarryProtocol

extension Quarry {
    struct Duplicates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List comments posted verbatim (or, with --near, nearly so) by several accounts.",
            discussion: """
                Exact groups share one text after normalisation (Unicode NFKC, case, white space and
                punctuation folded). Near-duplicate clusters also join texts that differ by a few words
                (word-pair shingle similarity at or above the index's threshold, 0.4 by default).
                Groups with most accounts come first. Search within them with accounts:3.., copies:2..,
                group:ID and cluster:ID. See docs/DUPLICATES.md.
                """)

        @OptionGroup var location: IndexLocation
        @OptionGroup var output: OutputOptions

        @Flag(help: "List near-duplicate clusters instead of exact groups.")
        var near = false

        @Option(help: ArgumentHelp("Only groups posted by at least this many distinct accounts.", valueName: "n"))
        var minAccounts = 2

        @Option(help: ArgumentHelp("The copies (or, with --near, the cluster) of this one comment.", valueName: "id"))
        var of: String?

        @Option(help: "Groups per page.")
        var limit = 20

        @Option(help: "Skip this many groups (for paging).")
        var offset = 0

        @Option(help: ArgumentHelp("List at most this many comments per group.", valueName: "n"))
        var maxMembers = 1000

        @Option(help: ArgumentHelp("Ask the daemon listening on this socket instead of opening the index.", valueName: "path"))
        var socket: String?

        func run() async throws {
            let request = DuplicatesRequest(near: near, minAccounts: minAccounts, offset: offset, limit: limit, of: of,
                                            maxMembers: maxMembers)
            let response = if let socket {
                try await ask(socket) { (client) async throws(QuarryClientError) in try await client.duplicates(request) }
            } else {
                try searching(location.path) { (searcher) throws(QuarryError) in try searcher.duplicates(request) }
            }
            try emit(response, json: output.json) { $0.render(response, of: of) }
        }
    }

    struct Similar: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find the documents most like one article or comment (more like this).")

        @Argument(help: "An article id or a comment id (ARTICLE#N).")
        var id: String

        @OptionGroup var location: IndexLocation
        @OptionGroup var output: OutputOptions

        @Option(help: "Only articles or only comments (default: the kind of ID).")
        var type: DocumentKind?

        @Option(help: "Results per page.")
        var limit = 10

        @Option(help: "Skip this many results (for paging).")
        var offset = 0

        @Option(help: ArgumentHelp("Ask the daemon listening on this socket instead of opening the index.", valueName: "path"))
        var socket: String?

        func run() async throws {
            let request = SimilarRequest(id: id, offset: offset, limit: limit, type: type)
            let response = if let socket {
                try await ask(socket) { (client) async throws(QuarryClientError) in try await client.similar(request) }
            } else {
                try searching(location.path) { (searcher) throws(QuarryError) in try searcher.similar(request) }
            }
            try emit(response, json: output.json) { $0.render(response) }
        }
    }
}

/// Runs `body` on a searcher over the index at `path`; a failure becomes the
/// CLI's message and exit status.
func searching<T>(_ path: String, _ body: (Searcher) throws(QuarryError) -> T) throws -> T {
    do {
        return try body(try Searcher(indexPath: path))
    } catch {
        throw fail(error)
    }
}

/// Prints `value` as JSON with `--json`, else as `text` renders it for the terminal.
func emit<T: Encodable>(_ value: T, json: Bool, _ text: (TerminalRenderer) -> String) throws {
    if json {
        try printJSON(value)
    } else {
        print(text(TerminalRenderer(colour: isatty(STDOUT_FILENO) == 1)), terminator: "")
    }
}

extension TerminalRenderer {
    /// What a comment's exact copies and near-duplicate cluster say, a line each.
    func describe(_ duplicates: DuplicateInfo?, _ cluster: ClusterInfo?) -> [String] {
        var lines: [String] = []
        if let duplicates {
            let articles = "\(duplicates.articles) article\(duplicates.articles == 1 ? "" : "s")"
            lines.append("posted verbatim by \(duplicates.accounts) account\(duplicates.accounts == 1 ? "" : "s"), \(duplicates.copies) copies under \(articles)")
        }
        // A cluster of one text says no more than the line above.
        if let cluster, (cluster.variants ?? 2) > 1 {
            var line = "near-duplicate cluster \(cluster.id): \(cluster.size) comments by \(cluster.accounts) accounts"
            if cluster.similarity < 1 { line += String(format: ", similarity %.2f", cluster.similarity) }
            lines.append(line)
        }
        return lines
    }

    func render(_ response: DuplicatesResponse, of id: String?) -> String {
        var out = ""
        let noun = response.near ? "cluster" : "group"
        for (index, group) in response.groups.enumerated() {
            var head = "\(response.offset + index + 1). \(group.accounts.count) account\(group.accounts.count == 1 ? "" : "s")"
            head += " · \(group.count) comments · \(group.articles.count) article\(group.articles.count == 1 ? "" : "s")"
            if let variants = group.variants { head += " · \(variants) text\(variants == 1 ? "" : "s")" }
            out += bold(head) + dim(" · \(noun) \(group.id)") + "\n"
            out += "   \"\(group.text)\"\n"
            for member in group.members {
                var line = "   "
                if let similarity = member.similarity { line += String(format: "%.2f  ", similarity) }
                line += "\(member.id)  \(member.author)"
                out += line + "\n"
                if let text = member.text { out += dim("         \"\(text)\"") + "\n" }
            }
            if group.members.count < group.count { out += dim("   … and \(group.count - group.members.count) more") + "\n" }
            out += "\n"
        }
        if response.groups.isEmpty {
            if let id {
                out += response.near ? "\(id) is in no near-duplicate cluster.\n" : "No other comment has the text of \(id).\n"
            } else {
                out += "No duplicate \(noun)s.\n"
            }
        } else if id == nil {
            let last = response.offset + response.groups.count
            out += "\(noun.capitalized)s \(response.offset + 1)–\(last) of \(response.total)"
            if let threshold = response.threshold { out += String(format: " (similarity threshold %.2f)", threshold) }
            out += ".\n"
        }
        return out
    }

    func render(_ response: SimilarResponse) -> String {
        var out = dim("like \(response.id): " + response.terms.prefix(12).joined(separator: " ")) + "\n\n"
        out += render(SearchResponse(
            query: "like \(response.id)", revision: response.revision, total: response.total,
            totalLowerBound: response.total, totalUpperBound: response.total, offset: response.offset,
            hits: response.hits, facets: nil, suggestion: nil))
        return out
    }
}
