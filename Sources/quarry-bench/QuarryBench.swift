import ArgumentParser

@main
struct QuarryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarry-bench",
        abstract: "Benchmark driver for Quarry: generates synthetic corpora with known duplicates.",
        discussion: """
            Build it in release mode (swift build -c release --product quarry-bench): the
            generator is meant to write hundreds of thousands of articles quickly.
            """,
        subcommands: [Generate.self, Index.self, Query.self, Compare.self, JSON.self]
    )
}
