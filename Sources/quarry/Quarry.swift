import ArgumentParser

@main
struct Quarry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Full-text search for news articles and their reader comments.",
        discussion: """
            Index a corpus directory, search it, and serve searches to other programs
            over a Unix domain socket. See README.md and docs/ for the details.
            """,
        version: "0.1.0",
        subcommands: [Index.self, Search.self, Get.self, Similar.self, Duplicates.self, Stats.self, Serve.self, Check.self]
    )

    /// Turns `--wait=SECONDS` into `--wait-seconds SECONDS`: argument-parser has
    /// no options whose value may be left out, and `--wait` alone is a flag.
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst().flatMap { argument -> [String] in
            guard argument.hasPrefix("--wait=") else { return [argument] }
            return ["--wait-seconds", String(argument.dropFirst("--wait=".count))]
        }
        await main(arguments)
    }
}
