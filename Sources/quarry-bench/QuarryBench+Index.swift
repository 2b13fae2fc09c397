import ArgumentParser
import Foundation
import Logging
import QuarryCore

extension QuarryBench {
    struct Index: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Index a corpus with QuarryCore's Indexer in this process and report its speed.",
            discussion: """
                Builds a new index from nothing (the directory must not exist, or give --force)
                exactly as `quarry index` does, and reports documents/s, MB/s of corpus input,
                wall and CPU time, the peak resident memory of this process (getrusage
                ru_maxrss) and the size of the index on disk. Run the release build.
                """)

        @Option(help: ArgumentHelp("Corpus directory to index.", valueName: "dir"))
        var corpus: String

        @Option(help: ArgumentHelp("Index directory to create.", valueName: "path"))
        var index: String

        @Flag(help: "Remove an existing index directory first.")
        var force = false

        @Option(help: ArgumentHelp("Commit after this many documents (quarry index's default).", valueName: "n"))
        var batchSize = 20_000

        @Option(help: ArgumentHelp("Write the index as this many shards, one writer thread each (quarry index --shards).", valueName: "n"))
        var shards = 1

        @Flag(help: "Merge the shards into one compact database at the end, inside the timing (quarry index --merge).")
        var merge = false

        @Flag(help: "Build the index without near-duplicate detection (quarry index --no-near-duplicates): the fields the peers write.")
        var noNearDuplicates = false

        @Flag(help: "Print the report as JSON.")
        var json = false

        func run() throws {
            do {
                let result = try IndexBenchmark.run(corpus: corpus, index: index, force: force, batchDocuments: batchSize, shards: shards,
                                                    merge: merge, nearDuplicates: !noNearDuplicates)
                if json {
                    try printJSON(result)
                } else {
                    print(result.text)
                }
            } catch let error as BenchError {
                report(error)
                throw ExitCode.failure
            }
        }
    }
}

/// What `quarry-bench index` measured.
struct IndexReport: Codable, Sendable {
    var corpus: String
    var index: String
    var files: Int
    var articles: Int
    var comments: Int
    var documents: Int
    var inputBytes: Int64
    var wallSeconds: Double
    var userSeconds: Double
    var systemSeconds: Double
    var documentsPerSecond: Double
    var inputMBPerSecond: Double
    var peakRSSBytes: Int64
    var indexBytes: Int64
    var warnings: Int
    /// Shards written in parallel (nil in reports saved before the option).
    var shards: Int?
    /// Whether they were merged into one database at the end.
    var merged: Bool?
    /// False for an index built without near-duplicate detection (nil in
    /// reports saved before the option: with).
    var nearDuplicates: Bool?

    /// Documents per second of CPU (user + system): steadier than wall time on a busy machine.
    var documentsPerCPUSecond: Double? {
        userSeconds + systemSeconds > 0 ? Double(documents) / (userSeconds + systemSeconds) : nil
    }

    var text: String {
        """
        corpus:    \(corpus): \(files) files, \(String(format: "%.1f", Double(inputBytes) / 1e6)) MB
        shards:    \(shards ?? 1), one writer thread each\(merged == true ? ", merged into one database" : "")\(nearDuplicates == false ? "; no near-duplicate detection" : "")
        indexed:   \(articles) articles + \(comments) comments = \(documents) documents, \(warnings) warnings
        time:      \(String(format: "%.2f", wallSeconds)) s wall, \(String(format: "%.2f", userSeconds)) s user, \(String(format: "%.2f", systemSeconds)) s system
        speed:     \(String(format: "%.0f", documentsPerSecond)) documents/s, \(String(format: "%.2f", inputMBPerSecond)) MB/s of input
        memory:    \(String(format: "%.1f", Double(peakRSSBytes) / 1048576)) MiB peak resident (ru_maxrss)
        index:     \(String(format: "%.1f", Double(indexBytes) / 1048576)) MiB in \(index)
        """
    }
}

enum IndexBenchmark {
    static func run(corpus: String, index: String, force: Bool, batchDocuments: Int, shards: Int, merge: Bool,
                    nearDuplicates: Bool = true) throws(BenchError) -> IndexReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: corpus, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BenchError("no corpus directory at '\(corpus)'; write one with 'quarry-bench generate --articles N --out \(corpus)'")
        }
        if FileManager.default.fileExists(atPath: index) {
            guard force else {
                throw BenchError("'\(index)' already exists; the benchmark builds an index from nothing: give a new path or --force to remove it")
            }
            do {
                try FileManager.default.removeItem(atPath: index)
            } catch {
                throw BenchError("cannot remove '\(index)': \(error.localizedDescription)")
            }
        }
        guard batchDocuments >= 1 else { throw BenchError("--batch-size must be at least 1") }
        guard shards >= 1 else { throw BenchError("--shards must be at least 1") }

        let inputBytes = treeSize(corpus, including: isCorpusFile)
        var logger = Logger(label: "quarry-bench.index")
        logger.logLevel = .warning
        let before = ResourceUsage.current()
        let clock = ContinuousClock()
        let start = clock.now
        let summary: IndexSummary
        do {
            let indexer = try Indexer(corpus: corpus, index: index, options: IndexOptions(batchDocuments: batchDocuments, shards: shards, nearDuplicates: nearDuplicates),
                                      logger: logger)
            defer { indexer.close() }
            summary = try indexer.synchronize()
            if merge { try indexer.mergeShards() }
        } catch {
            throw BenchError("indexing '\(corpus)' failed: \(error.message)")
        }
        let wall = seconds(clock.now - start)
        let after = ResourceUsage.current()
        let documents = summary.articlesIndexed + summary.commentsIndexed
        return IndexReport(
            corpus: corpus, index: index, files: summary.filesIndexed, articles: summary.articlesIndexed,
            comments: summary.commentsIndexed, documents: documents, inputBytes: inputBytes, wallSeconds: wall,
            userSeconds: after.userSeconds - before.userSeconds, systemSeconds: after.systemSeconds - before.systemSeconds,
            documentsPerSecond: wall > 0 ? Double(documents) / wall : 0,
            inputMBPerSecond: wall > 0 ? Double(inputBytes) / 1e6 / wall : 0,
            peakRSSBytes: after.peakRSSBytes, indexBytes: treeSize(index), warnings: summary.warnings, shards: shards, merged: merge && shards > 1,
            nearDuplicates: nearDuplicates)
    }
}
