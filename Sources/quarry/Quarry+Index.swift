import ArgumentParser
import Foundation
import QuarryCore
import Synchronization

/// Set by SIGTERM/SIGINT in watch mode: the loop commits what it has and returns.
private let stopRequested = Atomic<Bool>(false)

extension Quarry {
    struct Index: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Index a corpus directory (incrementally: only changed files are read).",
            discussion: """
                With --watch, keeps following the corpus after the first pass: new, changed, moved and
                deleted files are indexed within a second or two; SIGTERM or SIGINT commits and exits 0.
                --wait waits for another process writing the index; --wait=SECONDS waits at most that long.
                """)

        @Argument(help: ArgumentHelp("Corpus directory of .txt, .json and .jsonl files.", valueName: "corpus"))
        var corpus: String = "Corpus"

        @OptionGroup var location: IndexLocation
        @OptionGroup var output: OutputOptions
        @OptionGroup var logging: LoggingOptions

        @Option(help: ArgumentHelp("Stemming language of a new index (english, french, german, none, …).", valueName: "name"))
        var language: String?

        @Flag(help: "Wait for another process writing the index instead of failing (--wait=SECONDS: at most that long).")
        var wait = false

        // `--wait=SECONDS` arrives here: `Quarry.main` rewrites it, as argument-parser has no optional values.
        @Option(name: .customLong("wait-seconds"), help: .hidden)
        var waitSeconds: Double?

        @Option(help: ArgumentHelp("Write a new index as this many shards behind a stub (see docs/SHARDS.md).", valueName: "n"))
        var shards: Int?

        @Flag(help: "After indexing, follow the corpus and index changes as they happen.")
        var watch = false

        @Flag(help: "After indexing, merge the shards into one compact database (faster to search; see docs/SHARDS.md).")
        var merge = false

        @Option(help: ArgumentHelp("Commit after this many documents.", valueName: "n"))
        var batchSize = 20_000

        @Option(help: ArgumentHelp("Refuse corpus files larger than this many MiB.", valueName: "mib"))
        var maxFileSize = 256

        @Option(help: ArgumentHelp("Word-pair similarity (0-1] from which comments cluster as near-duplicates; changing it regroups the index. Default: the index's, else 0.4.", valueName: "j"))
        var nearThreshold: Double?

        @Flag(inversion: .prefixedNo, help: ArgumentHelp(
            "Find near-duplicate comments (the default). --no-near-duplicates builds a new index with exact duplicate groups only: 12–21 % less indexing CPU, no band store (a fifth of the index's size). An existing index keeps its choice.",
            visibility: .default))
        var nearDuplicates: Bool?

        @Flag(help: "Do not print each warning, only their count.")
        var quiet = false

        func validate() throws {
            if let waitSeconds, !(waitSeconds >= 0) {
                throw ValidationError("--wait=SECONDS needs a number of seconds, 0 or more")
            }
            if nearDuplicates == false, let nearThreshold {
                throw ValidationError("--near-threshold \(nearThreshold) needs near-duplicate detection, which --no-near-duplicates turns off")
            }
            if merge && watch {
                throw ValidationError("--merge ends the run with one database; it cannot be combined with --watch")
            }
        }

        func run() throws {
            let logger = logging.makeLogger("quarry.index")
            let lockWait: IndexOptions.LockWait = waitSeconds.map { .seconds($0) } ?? (wait ? .forever : .none)
            let options = IndexOptions(language: language, lockWait: lockWait, batchDocuments: max(1, batchSize),
                                       maxFileBytes: Int64(maxFileSize) << 20, shards: shards, nearThreshold: nearThreshold,
                                       nearDuplicates: nearDuplicates)
            let progress = ProgressLine()
            let warn: (CorpusWarning) -> Void = { warning in
                guard !quiet else { return }
                progress.clear()
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
            do {
                let indexer = try Indexer(corpus: corpus, index: location.path, options: options, logger: logger)
                defer { indexer.close() }
                if watch {
                    signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
                    signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
                    var first = true
                    try indexer.watch(
                        shouldStop: { stopRequested.load(ordering: .relaxed) }, onWarning: warn,
                        onPass: { summary in
                            report(summary)
                            if first {
                                // The signal tests and scripts wait for: changes from now on are followed.
                                FileHandle.standardError.write(Data("quarry: watching \(corpus) for changes\n".utf8))
                                first = false
                            }
                        })
                    return
                }
                let summary = try indexer.synchronize(onWarning: warn, onProgress: { state in
                    progress.update(String(format: "indexing: %d/%d files, %d documents, %.1f s",
                                           state.filesDone, state.filesTotal, state.documents, state.elapsed))
                })
                progress.clear()
                if merge { try indexer.mergeShards() }
                report(summary)
            } catch {
                progress.clear()
                if case .seconds(let seconds) = lockWait, error.code == .indexLocked {
                    throw fail(QuarryError(.indexLocked, "the index at '\(location.path)' was still being written by another process after \(seconds) s"))
                }
                throw fail(error)
            }
        }

        private func report(_ summary: IndexSummary) {
            if output.json {
                // One object per pass, one per line, so a watcher's output can be followed line by line.
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                if let data = try? encoder.encode(summary) {
                    FileHandle.standardOutput.write(data + Data("\n".utf8))
                }
                return
            }
            print("""
                files:     \(summary.filesScanned) scanned, \(summary.filesIndexed) indexed, \(summary.filesUnchanged) unchanged, \
                \(summary.filesRemoved) removed, \(summary.filesSkipped) skipped
                indexed:   \(summary.articlesIndexed) articles, \(summary.commentsIndexed) comments, \(summary.warnings) warnings
                duplicates: \(summary.duplicateTextsChecked) texts rechecked, \(summary.duplicateValuesUpdated) comments updated
                index:     \(summary.totalArticles) articles, \(summary.totalComments) comments at revision \(summary.revision) in \(location.path)
                time:      \(String(format: "%.2f s, %.0f documents/s", summary.elapsedSeconds, summary.documentsPerSecond))
                """)
        }
    }
}

/// A self-rewriting status line on stderr, only when stderr is a terminal.
final class ProgressLine {
    private let enabled = isatty(STDERR_FILENO) == 1
    private var lastUpdate = ContinuousClock.now
    private var shown = false

    func update(_ text: String) {
        guard enabled, ContinuousClock.now - lastUpdate > .milliseconds(100) else { return }
        lastUpdate = ContinuousClock.now
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        shown = true
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}
