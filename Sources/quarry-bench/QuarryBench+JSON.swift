import ArgumentParser
import Foundation
import QuarryCore
import QuarryProtocol
import QuarryServer

extension QuarryBench {
    struct JSON: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "json",
            abstract: "Time the JSON of the search path, each way Quarry does it against Foundation's coders.",
            discussion: """
                For every query of the mix: the search request as QuarryClient writes it
                (JSONWriter) and as the daemon reads it (RequestParser.parse, which takes a
                plain search without JSONDecoder), and the page of 10 hits with snippets as
                the daemon writes it (JSONWriter) and QuarryClient reads it (JSONReader);
                beside each, the same with JSONEncoder or JSONDecoder. Each is repeated in a
                tight loop, so these are warm-cache figures: the daemon pays more per request
                (docs/PERFORMANCE.md, eleventh session). Run the release build.
                """)

        @Option(help: ArgumentHelp("Index whose pages to encode (the query mix is derived from it).", valueName: "path"))
        var index: String

        @Option(help: ArgumentHelp("Use this query mix (JSON written by `query --mix-out`).", valueName: "file"))
        var mix: String?

        @Option(help: ArgumentHelp("Passes over the mix per figure.", valueName: "n"))
        var rounds = 100

        func run() throws {
            do {
                let mix = try mix.map(QueryMix.load) ?? QueryMix.derive(index: index)
                let searcher: Searcher
                do { searcher = try Searcher(indexPath: index) } catch {
                    throw BenchError("cannot open the index at '\(index)': \(error.message)")
                }
                var cases: [(line: Data, encoderLine: Data, page: SearchResponse, pageBytes: Data)] = []
                for query in mix.queries {
                    let page: SearchResponse
                    do { page = try searcher.search(query.request) } catch {
                        throw BenchError("the query '\(query.query)' failed: \(error.message)")
                    }
                    let request = query.request
                    var pageJSON = JSONWriter()
                    page.write(to: &pageJSON)
                    cases.append((line: Data(JSONWriter.request(id: 1, method: "search", params: request.write(to:))),
                                  encoderLine: try JSONEncoder().encode(RPCRequest(id: .number(1), method: "search", params: request)),
                                  page: page, pageBytes: Data(pageJSON.bytes)))
                }
                let rounds = max(1, rounds)
                func microseconds(_ body: (Int) throws -> Void) rethrows -> Double {
                    for index in cases.indices { try body(index) }  // untimed: warm up
                    let clock = ContinuousClock()
                    let start = clock.now
                    for _ in 0..<rounds { for index in cases.indices { try body(index) } }
                    return seconds(clock.now - start) * 1e6 / Double(rounds * cases.count)
                }
                let encoder = JSONEncoder()
                let decoder = JSONDecoder()
                let rows: [(String, Double, Double)] = [
                    ("write the request (client)",
                     microseconds { _ = JSONWriter.request(id: 1, method: "search", params: mix.queries[$0].request.write(to:)) },
                     try microseconds { _ = try encoder.encode(RPCRequest(id: .number(1), method: "search", params: mix.queries[$0].request)) }),
                    ("read the request (daemon)",
                     microseconds { _ = RequestParser.parse(cases[$0].line) },
                     microseconds { _ = RequestParser.decode(cases[$0].encoderLine) }),
                    ("write the page (daemon)",
                     microseconds { var json = JSONWriter(); cases[$0].page.write(to: &json) },
                     try microseconds { _ = try encoder.encode(cases[$0].page) }),
                    ("read the page (client)",
                     try microseconds { _ = try SearchResponse(json: cases[$0].pageBytes) },
                     try microseconds { _ = try decoder.decode(SearchResponse.self, from: cases[$0].pageBytes) }),
                ]
                let bytes = cases.map(\.pageBytes.count).reduce(0, +) / max(1, cases.count)
                print("index: \(index); \(cases.count) queries, pages of \(bytes) bytes on average; µs each, mean over \(rounds) passes")
                print("")
                var table = TextTable(["step", "Quarry µs", "Foundation µs", "Foundation/Quarry"])
                for (step, quarry, foundation) in rows {
                    table.add([step, String(format: "%.2f", quarry), String(format: "%.2f", foundation), ratio(foundation, quarry)])
                }
                print(table.render())
            } catch let error as BenchError {
                report(error)
                throw ExitCode.failure
            }
        }
    }
}
