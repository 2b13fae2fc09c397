import ArgumentParser
import Foundation

extension QuarryBench {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic corpus in the plain-text format, with planted duplicate comments.",
            discussion: """
                The same --seed and options always give byte-identical files. Articles go to
                OUT/dNNN/aNNNNNN.txt, at most 1000 per directory. The planted duplicates are
                listed in OUT/.truth.json (a hidden file, so `quarry index OUT` skips it):
                  {"exactGroups": [{"text", "accounts", "members": ["ID#k", …]}],
                   "nearGroups": [{"base", "members": [{"id", "text", "account", "changedWords"}]}],
                   "articles", "comments", "seed"}
                """)

        @Option(help: ArgumentHelp("How many articles to write.", valueName: "n"))
        var articles: Int

        @Option(help: ArgumentHelp("Seed of the random generator.", valueName: "s"))
        var seed: UInt64 = 1

        @Option(help: ArgumentHelp("Directory to create (it must not exist or be empty).", valueName: "dir"))
        var out: String

        @Option(help: ArgumentHelp("Groups of one text posted verbatim by 2 to 6 accounts. Default: one per 200 articles.", valueName: "g"))
        var duplicateGroups: Int?

        @Option(help: ArgumentHelp("Comments that copy a group's text with 1 to 3 words changed or inserted. Default: half the groups.", valueName: "k"))
        var nearDuplicates: Int?

        @Option(help: ArgumentHelp("Scales the number of ordinary comments per article (0 for none).", valueName: "factor"))
        var commentScale = 1.0

        @Option(help: ArgumentHelp("Most body paragraphs per article; articles get 3 up to this many (fewer only when it is below 3).", valueName: "n"))
        var maxParagraphs = 8

        func validate() throws {
            guard articles >= 1 else { throw ValidationError("--articles must be at least 1") }
            guard (duplicateGroups ?? 0) >= 0, (nearDuplicates ?? 0) >= 0 else {
                throw ValidationError("--duplicate-groups and --near-duplicates cannot be negative")
            }
            guard commentScale >= 0, commentScale.isFinite else { throw ValidationError("--comment-scale must be 0 or more") }
            guard maxParagraphs >= 1 else { throw ValidationError("--max-paragraphs must be at least 1") }
            if (nearDuplicates ?? 0) > 0 && duplicateGroups == 0 {
                throw ValidationError("near-duplicates copy a duplicate group's text: give --duplicate-groups 1 or more")
            }
        }

        func run() throws {
            let groups = duplicateGroups ?? max(1, articles / 200)
            let settings = CorpusGenerator.Settings(
                articles: articles, seed: seed, duplicateGroups: groups,
                nearDuplicates: nearDuplicates ?? groups / 2,
                commentScale: commentScale, maxParagraphs: maxParagraphs)
            let clock = ContinuousClock()
            let start = clock.now
            let summary: CorpusGenerator.Summary
            do {
                summary = try CorpusGenerator(settings).write(to: out)
            } catch {
                FileHandle.standardError.write(Data("quarry-bench: \(error.message)\n".utf8))
                throw ExitCode.failure
            }
            let seconds = (clock.now - start) / .seconds(1)
            print("""
                wrote \(summary.articles) articles with \(summary.comments) comments to \(out) \
                in \(String(format: "%.2f", seconds)) s
                planted \(summary.exactGroups) exact duplicate groups (\(summary.exactCopies) comments) and \
                \(summary.nearDuplicates) near-duplicates; truth in \(summary.truthPath)
                """)
        }
    }
}
