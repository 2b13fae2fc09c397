import ArgumentParser
import Foundation
import QuarryCore

extension Quarry {
    struct Index: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Index a corpus directory (incrementally: only changed files are read).")

        @Argument(help: ArgumentHelp("Corpus directory of .txt, .json and .jsonl files.", valueName: "corpus"))
        var corpus: String = "Corpus"

        @OptionGroup var location: IndexLocation
        @OptionGroup var output: OutputOptions
        @OptionGroup var logging: LoggingOptions

        @Option(help: ArgumentHelp("Stemming language of a new index (english, french, german, none, …).", valueName: "name"))
        var language: String?

        @Flag(help: "Wait for another process writing the index instead of failing.")
        var wait = false

        @Option(help: ArgumentHelp("Commit after this many documents.", valueName: "n"))
        var batchSize = 20_000

        @Option(help: ArgumentHelp("Refuse corpus files larger than this many MiB.", valueName: "mib"))
        var maxFileSize = 256

        @Option(help: ArgumentHelp("Word-pair similarity (0-1] from which comments cluster as near-duplicates; changing it regroups the index. Default: the index's, else 0.4.", valueName: "j"))
        var nearThreshold: Double?

        @Flag(help: "Do not print each warning, only their count.")
        var quiet = false

        func run() throws {
            let logger = logging.makeLogger("quarry.index")
            let options = IndexOptions(language: language, waitForLock: wait, batchDocuments: max(1, batchSize),
                                       maxFileBytes: Int64(maxFileSize) << 20, nearThreshold: nearThreshold)
            let progress = ProgressLine()
            let summary: IndexSummary
            do {
                summary = try Indexer.run(
                    corpus: corpus, index: location.path, options: options, logger: logger,
                    onWarning: { warning in
                        guard !quiet else { return }
                        progress.clear()
                        FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
                    },
                    onProgress: { state in
                        progress.update(String(format: "indexing: %d/%d files, %d documents, %.1f s",
                                               state.filesDone, state.filesTotal, state.documents, state.elapsed))
                    })
            } catch {
                progress.clear()
                throw fail(error)
            }
            progress.clear()
            if output.json {
                try printJSON(summary)
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
