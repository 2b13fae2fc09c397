import ArgumentParser
import Foundation
import QuarryCore

extension Quarry {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify an index: Xapian's consistency check plus Quarry's invariants.",
            discussion: """
                Exit status 0 when the index is sound, 1 when it has a problem. With --corpus, files
                changed, added or removed since the last run are listed as stale (not a problem:
                'quarry index' brings them up to date).
                """)

        @OptionGroup var location: IndexLocation
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Also compare the stored file signatures with this corpus directory.", valueName: "dir"))
        var corpus: String?

        func run() throws {
            let report: CheckReport
            do {
                report = try IndexChecker.check(index: location.path, corpus: corpus)
            } catch {
                throw fail(error)
            }
            if output.json {
                try printJSON(report)
            } else {
                print("index:     \(location.path) at revision \(report.revision)")
                print("holds:     \(report.articles) articles, \(report.comments) comments from \(report.files) files")
                print("xapian:    \(report.xapianErrors == 0 ? "consistent" : "\(report.xapianErrors) error(s)")")
                for problem in report.problems { print("problem:   \(problem)") }
                for stale in report.stale { print("stale:     \(stale)") }
                for note in report.notes { print("note:      \(note)") }
                if report.isHealthy {
                    print("OK")
                } else if report.onlyTheBandStoreIsWrong {
                    print("PROBLEMS FOUND in the near-duplicate band store only: the index is sound; see the remedy above")
                } else {
                    print("PROBLEMS FOUND: rebuild with 'quarry index' into a new directory")
                }
            }
            if !report.isHealthy { throw ExitCode.failure }
        }
    }
}
