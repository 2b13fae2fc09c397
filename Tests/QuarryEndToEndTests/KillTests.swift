#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import QuarryProtocol
import Testing
import XapianKit

/// `kill -9` of `quarry index` in the middle of a run over a generated corpus:
/// the index must open at its last commit, hold exactly what its file records
/// say, and the next run must finish the job with exactly the right counts.
@Suite struct KillTests {
    /// The per-file signature `quarry index` commits with each batch
    /// (docs/SCHEMA.md, metadata `quarry:file:<path>`); only the fields checked here.
    struct FileRecord: Decodable {
        let path: String
        let articles: Int
        let comments: Int
    }

    /// The fields of `quarry index --json` this test reads.
    struct IndexSummary: Decodable {
        let filesScanned: Int
        let filesIndexed: Int
        let filesUnchanged: Int
        let filesRemoved: Int
        let warnings: Int
        let totalArticles: Int
        let totalComments: Int
    }

    /// The fields of `quarry check --json` this test reads.
    struct CheckReport: Decodable {
        let problems: [String]
        let stale: [String]
        let xapianErrors: Int
    }

    /// What one read-only look at the index found.
    struct Snapshot {
        let revision: UInt64
        let records: [FileRecord]
        let articles: Int
        let comments: Int
    }

    /// Reads one committed state and checks it is whole: the file records
    /// account for every document, and each recorded file's article is there
    /// with all of its comments (so no comment lacks its article).
    static func snapshot(_ index: String) throws -> Snapshot {
        let database = try Database(path: index)
        let revision = try database.revision
        var records: [FileRecord] = []
        for key in try database.metadataKeys(prefix: "quarry:file:") {
            records.append(try JSONDecoder().decode(FileRecord.self, from: Data(try database.metadata(key).utf8)))
        }
        let articles = Int(try database.termFrequency("XKarticle"))
        let comments = Int(try database.termFrequency("XKcomment"))
        #expect(records.reduce(0) { $0 + $1.articles } == articles, "revision \(revision)")
        #expect(records.reduce(0) { $0 + $1.comments } == comments, "revision \(revision)")
        #expect(Int(try database.documentCount) == articles + comments, "revision \(revision)")
        return Snapshot(revision: revision, records: records, articles: articles, comments: comments)
    }

    static func checkEveryArticleHoldsItsComments(_ index: String, _ snapshot: Snapshot, expected: [String: Int]) throws {
        let database = try Database(path: index)
        for record in snapshot.records {
            let id = String(record.path.dropLast(4))
            #expect(record.articles == 1, "\(record.path)")
            #expect(record.comments == expected[record.path], "\(record.path)")
            #expect(try database.termFrequency("Q" + id) == 1, "\(id)")
            // XP<id> indexes the article itself and each of its comments.
            #expect(try database.termFrequency("XP" + id) == UInt32(1 + record.comments), "\(id)")
        }
    }

    @Test(.timeLimit(.scaledMinutes(5)))
    func killDashNineMidRunLeavesAConsistentIndexAndTheRerunCompletesIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus"
        let index = directory.path + "/index"
        let articleCount = 20_000
        // One paragraph and few comments an article keep a debug-build run to about 15 s.
        _ = try succeed("quarry-bench", "generate", "--articles", String(articleCount), "--seed", "2024", "--out", corpus,
                        "--comment-scale", "0.1", "--max-paragraphs", "1")

        // What the corpus holds, counted from the files, not from Quarry.
        var expected: [String: Int] = [:]
        for file in textFiles(under: corpus) {
            let article = try PlainArticle(path: corpus + "/" + file)
            #expect(article.comments.count == article.declaredComments)
            expected[file] = article.comments.count
        }
        let expectedComments = expected.values.reduce(0, +)
        #expect(expected.count == articleCount)

        // The kill comes once a random commit (of about 19) is seen, after a
        // random number of live checks: a different moment each run, always mid-run.
        let targetRevision = UInt64.random(in: 1...10)
        let checksBeforeKill = Int.random(in: 0...8)
        try FileManager.default.createDirectory(atPath: index, withIntermediateDirectories: true)
        let watcher = DirectoryWatcher(index)
        let indexer = try RunningProcess("quarry", ["index", corpus, "--index", index, "--batch-size", "2500", "--quiet"])
        let deadline = ContinuousClock.now + .seconds(TestTime.seconds(200))
        var revision: UInt64 = 0
        while indexer.isRunning && revision < targetRevision && ContinuousClock.now < deadline {
            watcher.waitForChange(milliseconds: 500)
            revision = (try? Database(path: index).revision) ?? 0
        }
        var checks = 0
        while checks < checksBeforeKill && indexer.isRunning {
            do {
                _ = try Self.snapshot(index)
                checks += 1
            } catch let error as XapianError where error.isDatabaseModified {
                // Two commits overtook the read: look again at the newer state.
            }
        }
        let stillRunning = indexer.isRunning
        kill(indexer.process.processIdentifier, SIGKILL)
        let killed = indexer.wait()
        try #require(stillRunning, "quarry index finished before it could be killed; use a smaller --batch-size or a larger corpus")
        #expect(indexer.process.terminationReason == .uncaughtSignal && killed.status == SIGKILL)

        // The index opens, for the binary too, at a committed state.
        let stats = try succeed("quarry", "stats", "--index", index, "--json").decode(IndexStats.self)
        let afterKill = try Self.snapshot(index)
        #expect(afterKill.revision >= 1 && afterKill.revision == stats.revision)
        #expect(stats.articles == afterKill.articles && stats.comments == afterKill.comments)
        #expect(stats.files == afterKill.records.count)
        #expect(afterKill.records.count < articleCount, "the kill came before the last commit")
        print("killed quarry index after \(checks) live checks: revision \(afterKill.revision), \(afterKill.records.count) of \(articleCount) files committed")
        try Self.checkEveryArticleHoldsItsComments(index, afterKill, expected: expected)
        let check = try Database.check(path: index)
        #expect(check.errors == 0, "\(check.report)")
        // Quarry's own checker agrees, and sees the uncommitted files as merely stale.
        let report = try succeed("quarry", "check", "--index", index, "--corpus", corpus, "--json").decode(CheckReport.self)
        #expect(report.problems.isEmpty && report.xapianErrors == 0, "\(report.problems)")
        #expect(report.stale.count == articleCount - afterKill.records.count)

        // The rerun reads only what the killed run had not committed.
        let rerun = try succeed("quarry", "index", corpus, "--index", index, "--json").decode(IndexSummary.self)
        #expect(rerun.filesScanned == articleCount)
        #expect(rerun.filesUnchanged == afterKill.records.count)
        #expect(rerun.filesIndexed == articleCount - afterKill.records.count)
        #expect(rerun.filesRemoved == 0 && rerun.warnings == 0)
        #expect(rerun.totalArticles == articleCount)
        #expect(rerun.totalComments == expectedComments)

        let final = try succeed("quarry", "stats", "--index", index, "--json").decode(IndexStats.self)
        #expect(final.articles == articleCount && final.comments == expectedComments && final.files == articleCount)
        let finalSnapshot = try Self.snapshot(index)
        try Self.checkEveryArticleHoldsItsComments(index, finalSnapshot, expected: expected)
        let finalReport = try succeed("quarry", "check", "--index", index, "--corpus", corpus, "--json").decode(CheckReport.self)
        #expect(finalReport.problems.isEmpty && finalReport.stale.isEmpty, "\(finalReport.problems)")
    }
}

/// Wakes up when a file is created or renamed into a directory, which is how
/// a Xapian commit replaces its version file: waiting for a commit without
/// sleeping. The wait is bounded so that a writer that exits is noticed.
final class DirectoryWatcher {
    #if os(Linux)
    private let descriptor: Int32

    init(_ path: String) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        if descriptor >= 0 {
            _ = inotify_add_watch(descriptor, path, UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE))
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    func waitForChange(milliseconds: Int32) {
        guard descriptor >= 0 else { return }
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&request, 1, milliseconds) > 0 else { return }
        var events = [UInt8](repeating: 0, count: 4096)
        _ = events.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    }
    #else
    init(_ path: String) {}

    /// Without inotify the caller's loop polls.
    func waitForChange(milliseconds: Int32) {}
    #endif
}
