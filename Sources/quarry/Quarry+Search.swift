import ArgumentParser
import Foundation
import QuarryClient
import QuarryCore
import QuarryProtocol

extension DocumentKind: ExpressibleByArgument {}
extension ResultOrder: ExpressibleByArgument {}

/// The search options the CLI shares with the protocol's `search` method.
struct SearchOptions: ParsableArguments {
    @Option(name: .long, help: "Only articles or only comments.")
    var type: DocumentKind?

    @Option(name: .long, help: ArgumentHelp("Only documents by this author (exact name, any case).", valueName: "name"))
    var author: String?

    @Option(name: .long, help: "Results per page.")
    var limit = 10

    @Option(name: .long, help: "Skip this many results (for paging).")
    var offset = 0

    @Option(name: .long, help: "relevance, date (newest first) or date-asc.")
    var sort: ResultOrder = .relevance

    @Flag(name: .long, help: "One hit per article, with how many more of its documents matched.")
    var collapse = false

    @Option(name: .long, help: ArgumentHelp("Count hits by author and/or type, e.g. author,type.", valueName: "fields"))
    var facets: String?

    @Option(name: .long, help: ArgumentHelp("Count at least this many matches exactly.", valueName: "n"))
    var checkAtLeast: Int?

    @Flag(name: .long, help: "Run the spelling-corrected query when there is one.")
    var correct = false

    func request(query: String) throws -> SearchRequest {
        var fields: [FacetField] = []
        for name in (facets ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let field = FacetField(rawValue: name) else {
                throw ValidationError("unknown facet '\(name)'; use author or type")
            }
            fields.append(field)
        }
        return SearchRequest(query: query, type: type, author: author, offset: offset, limit: limit, sort: sort,
                             collapse: collapse, facets: fields, checkAtLeast: checkAtLeast, correct: correct)
    }
}

extension Quarry {
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search the index.",
            discussion: """
                QUERY uses Xapian's syntax: words (all must match), AND OR NOT, +word -word,
                "a phrase", a NEAR b, wild*, title: author: by:"Exact Name" type:comment
                article:ID id:ID source: published:2024-01-01..2024-06-30. See docs/QUERY.md.
                """)

        @Argument(help: "The query; quote it in the shell.")
        var query: String

        @OptionGroup var location: IndexLocation
        @OptionGroup var options: SearchOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Ask the daemon listening on this socket instead of opening the index.", valueName: "path"))
        var socket: String?

        func run() async throws {
            let request = try options.request(query: query)
            let response: SearchResponse
            if let socket {
                response = try await ask(socket) { (client) async throws(QuarryClientError) in try await client.search(request) }
            } else {
                do {
                    response = try Searcher(indexPath: location.path).search(request)
                } catch {
                    throw fail(error)
                }
            }
            if output.json {
                try printJSON(response)
            } else {
                print(TerminalRenderer(colour: isatty(STDOUT_FILENO) == 1).render(response), terminator: "")
            }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an article with its comments, or one comment (ID#N).")

        @Argument(help: "An article id (corpus path without extension) or a comment id (ARTICLE#N).")
        var id: String

        @OptionGroup var location: IndexLocation
        @OptionGroup var output: OutputOptions

        func run() throws {
            let record: DocumentRecord
            do {
                record = try Searcher(indexPath: location.path).get(id: id)
            } catch {
                throw fail(error)
            }
            if output.json {
                try printJSON(record)
            } else {
                print(TerminalRenderer(colour: isatty(STDOUT_FILENO) == 1).render(record), terminator: "")
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what the index holds.")

        @OptionGroup var location: IndexLocation
        @OptionGroup var output: OutputOptions

        func run() throws {
            let stats: IndexStats
            do {
                stats = try Searcher(indexPath: location.path).stats()
            } catch {
                // A shard is down: list the shards rather than fail.
                guard let sharded = Searcher.shardedStats(indexPath: location.path) else { throw fail(error) }
                stats = sharded
            }
            if output.json {
                try printJSON(stats)
            } else {
                print(TerminalRenderer(colour: false).render(stats, path: location.path), terminator: "")
            }
        }
    }
}
