#if canImport(Glibc)
import Glibc
#endif
import Foundation
import QuarryProtocol
import Testing

/// Issue 5's faults for `quarry index`: a full disk, unreadable files and
/// directories, symbolic link loops, vanished files, huge files. Each is a
/// clear message or a warning naming the path, never an abort, and nothing
/// already committed is lost.
@Suite struct IndexFaultTests {
    typealias IndexSummary = KillTests.IndexSummary
    typealias CheckReport = KillTests.CheckReport

    // MARK: disk full

    /// The index on a small tmpfs that the corpus does not fit in.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"), .timeLimit(.scaledMinutes(3)))
    func aFullDiskIsAClearErrorTheIndexKeepsItsLastCommitAndARerunCompletes() throws {
        let directory = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corpus = directory + "/corpus"
        let mountPoint = directory + "/disk"
        let index = mountPoint + "/index"
        let articleCount = 1000
        _ = try succeed("quarry-bench", "generate", "--articles", String(articleCount), "--seed", "7", "--out", corpus,
                        "--comment-scale", "0.2", "--max-paragraphs", "2")
        let expectedComments = try textFiles(under: corpus).reduce(0) { $0 + (try PlainArticle(path: corpus + "/" + $1)).comments.count }

        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // 4 MiB holds a few batches of 200 documents; the whole index needs about 20 MiB.
        let mounted = try runProgram("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=4096k", "tmpfs", mountPoint])
        try #require(mounted.status == 0, "mount failed: \(mounted.stderr)")
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }

        let full = try run("quarry", "index", corpus, "--index", index, "--batch-size", "200", "--quiet")
        #expect(full.status == 1)
        #expect(full.stderr.contains("quarry: no space left on the device holding '\(index)'"), "\(full.stderr)")
        #expect(full.stderr.contains("free space and run again"))
        #expect(!full.stderr.contains("Fatal error") && !full.stderr.contains("Xapian failed"))

        // The index opens at its last commit, and it is whole.
        let stats = try succeed("quarry", "stats", "--index", index, "--json").decode(IndexStats.self)
        #expect(stats.revision >= 1, "no batch was committed before the disk filled")
        #expect(stats.articles > 0 && stats.articles < articleCount)
        let snapshot = try KillTests.snapshot(index)
        #expect(snapshot.revision == stats.revision && snapshot.articles == stats.articles)
        let report = try succeed("quarry", "check", "--index", index, "--corpus", corpus, "--json").decode(CheckReport.self)
        #expect(report.problems.isEmpty && report.xapianErrors == 0, "\(report.problems)")
        #expect(report.stale.count == articleCount - stats.files)
        print("disk full after \(stats.files) of \(articleCount) files committed (revision \(stats.revision))")

        // Space freed: the rerun finishes the job with exact counts.
        let grown = try runProgram("/usr/bin/mount", ["-o", "remount,size=64m", mountPoint])
        try #require(grown.status == 0, "remount failed: \(grown.stderr)")
        let rerun = try succeed("quarry", "index", corpus, "--index", index, "--json").decode(IndexSummary.self)
        #expect(rerun.filesUnchanged == stats.files)
        #expect(rerun.filesIndexed == articleCount - stats.files)
        #expect(rerun.totalArticles == articleCount && rerun.totalComments == expectedComments)
        let final = try succeed("quarry", "check", "--index", index, "--corpus", corpus, "--json").decode(CheckReport.self)
        #expect(final.problems.isEmpty && final.stale.isEmpty && final.xapianErrors == 0)
    }

    // MARK: band store

    /// A band store run file damaged on disk: `quarry check` names it and says
    /// the index itself is sound, and the next `quarry index` rebuilds the
    /// store from the index, saying so.
    @Test func aDamagedBandStoreIsNamedByCheckAndRebuiltByTheNextRun() throws {
        let directory = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = directory + "/index"
        _ = try succeed("quarry", "index", sampleCorpus, "--index", index, "--quiet")
        let store = index + "/quarry-bands"
        let runFile = try #require(try FileManager.default.contentsOfDirectory(atPath: store).first { $0.hasSuffix(".qbr") })
        #expect(truncate(store + "/" + runFile, 100) == 0)

        let check = try run("quarry", "check", "--index", index, "--corpus", sampleCorpus)
        let printed = String(decoding: check.stdout, as: UTF8.self)
        #expect(check.status == 1)
        #expect(printed.contains("problem:   the band store file '\(store)/\(runFile)' is damaged"), "\(printed)")
        #expect(printed.contains("PROBLEMS FOUND in the near-duplicate band store only"), "\(printed)")

        let rerun = try succeed("quarry", "index", sampleCorpus, "--index", index)
        #expect(rerun.stderr.contains("is damaged") && rerun.stderr.contains("rebuilt it from the index"), "\(rerun.stderr)")
        let report = try succeed("quarry", "check", "--index", index, "--corpus", sampleCorpus, "--json").decode(CheckReport.self)
        #expect(report.problems.isEmpty && report.xapianErrors == 0, "\(report.problems)")
    }

    // MARK: permissions, links, vanished files

    /// Runs `quarry` as the indexer would run: as `nobody` when we are root
    /// (root reads any file whatever its mode), else as ourselves.
    static func quarryAsIndexer(_ arguments: [String]) throws -> ProcessResult {
        if getuid() == 0 {
            return try RunningProcess(executable: "/usr/bin/setpriv",
                                      ["--reuid=nobody", "--regid=nogroup", "--clear-groups", try Binaries.path("quarry")] + arguments).wait()
        }
        return try RunningProcess("quarry", arguments).wait()
    }

    /// Gives every file under `path` to the indexer (`nobody` when we are root).
    static func handToIndexer(_ path: String) {
        guard getuid() == 0, let user = getpwnam("nobody"), let group = getgrnam("nogroup") else { return }
        let (uid, gid) = (user.pointee.pw_uid, group.pointee.gr_gid)
        chown(path, uid, gid)
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String { lchown(path + "/" + relative, uid, gid) }
    }

    /// Makes a file or directory unreadable to the indexer: root's alone
    /// (0600/0700) when we are root, mode 000 otherwise.
    static func makeUnreadable(_ path: String, directory: Bool) {
        if getuid() == 0 {
            chown(path, 0, 0)
            chmod(path, directory ? 0o700 : 0o600)
        } else {
            chmod(path, 0)
        }
    }

    @Test(.timeLimit(.scaledMinutes(2)))
    func unreadableFilesLinkLoopsAndDanglingLinksAreWarningsAndNothingIndexedIsLost() throws {
        let directory = try shortTemporaryDirectory()
        chmod(directory, 0o755)
        defer {
            // Let the removal into the private directories.
            for private_ in ["corpus/world", "corpus/secret"] { chmod(directory + "/" + private_, 0o755) }
            try? FileManager.default.removeItem(atPath: directory)
        }
        let corpus = directory + "/corpus"
        let index = directory + "/index"
        try FileManager.default.copyItem(atPath: sampleCorpus, toPath: corpus)
        try FileManager.default.createDirectory(atPath: index, withIntermediateDirectories: true)
        Self.handToIndexer(directory)

        let first = try Self.quarryAsIndexer(["index", corpus, "--index", index, "--json"])
        try #require(first.status == 0, "\(first.stderr)")
        let before = try first.decode(IndexSummary.self)
        #expect(before.warnings == 0)
        let worldFiles = textFiles(under: corpus + "/world")
        let touched = "science/" + textFiles(under: corpus + "/science")[0]
        #expect(!worldFiles.isEmpty)

        // A directory the indexer read before, and a file it must read again (its mtime moved), become root's alone.
        Self.makeUnreadable(corpus + "/world", directory: true)
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, corpus + "/" + touched, &times, 0)
        Self.makeUnreadable(corpus + "/" + touched, directory: false)
        // New ones it never saw: a private directory with an article, a private file.
        try FileManager.default.createDirectory(atPath: corpus + "/secret", withIntermediateDirectories: true)
        try "Secret title\nSecret body\n1 Comment\nAnn\nSecret comment\n".write(toFile: corpus + "/secret/plan.txt", atomically: false, encoding: .utf8)
        try "Private title\nPrivate body\n1 Comment\nBob\nPrivate comment\n".write(toFile: corpus + "/new-private.txt", atomically: false, encoding: .utf8)
        Self.handToIndexer(corpus + "/secret")
        Self.makeUnreadable(corpus + "/secret", directory: true)
        Self.makeUnreadable(corpus + "/new-private.txt", directory: false)
        // A link back up the tree, a link to itself, a link to nothing.
        try FileManager.default.createSymbolicLink(atPath: corpus + "/politics/loop", withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: corpus + "/self.txt", withDestinationPath: "self.txt")
        try FileManager.default.createSymbolicLink(atPath: corpus + "/gone.txt", withDestinationPath: "nowhere.txt")

        let second = try Self.quarryAsIndexer(["index", corpus, "--index", index, "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let after = try second.decode(IndexSummary.self)
        let expectedWarnings: [(path: String, reason: String)] = [
            ("world", "directory not readable (Permission denied)"),
            (touched, "cannot open (Permission denied)"),
            ("secret", "directory not readable (Permission denied)"),
            ("new-private.txt", "cannot open (Permission denied)"),
            ("politics/loop", "symbolic link loop"),
            ("self.txt", "symbolic link loop"),
            ("gone.txt", "No such file or directory"),
        ]
        for (path, reason) in expectedWarnings {
            let line = second.stderr.split(separator: "\n").first { $0.hasPrefix("warning: \(path): ") }
            #expect(line?.contains(reason) == true, "no warning for \(path) (\(reason)) in:\n\(second.stderr)")
        }
        #expect(after.warnings == expectedWarnings.count)
        // Nothing it held is lost: not the unreadable directory's articles, not the unreadable file's.
        #expect(after.filesRemoved == 0)
        #expect(after.totalArticles == before.totalArticles && after.totalComments == before.totalComments)
        let worldArticle = "world/" + String(worldFiles[0].dropLast(4))
        let kept = try succeed("quarry", "get", worldArticle, "--index", index, "--json")
        #expect(kept.output.contains(worldArticle))

        // Readable again, links gone: the new files come in, nothing warns.
        try FileManager.default.removeItem(atPath: corpus + "/politics/loop")
        try FileManager.default.removeItem(atPath: corpus + "/self.txt")
        try FileManager.default.removeItem(atPath: corpus + "/gone.txt")
        for path in ["world", "secret"] { chmod(corpus + "/" + path, 0o755) }
        for path in [touched, "new-private.txt", "secret/plan.txt"] { chmod(corpus + "/" + path, 0o644) }
        Self.handToIndexer(corpus)
        let third = try Self.quarryAsIndexer(["index", corpus, "--index", index, "--json"])
        #expect(third.status == 0, "\(third.stderr)")
        let restored = try third.decode(IndexSummary.self)
        #expect(restored.warnings == 0, "\(third.stderr)")
        // The touched file is read again but its content did not change: only the two new ones are indexed.
        #expect(restored.filesIndexed == 2)
        #expect(restored.totalArticles == before.totalArticles + 2 && restored.totalComments == before.totalComments + 2)
    }

    // MARK: huge files

    /// Runs `quarry` under `/usr/bin/time` and returns its result and peak RSS in KiB.
    static func measured(_ arguments: [String]) throws -> (ProcessResult, Int) {
        let result = try RunningProcess(executable: "/usr/bin/time",
                                        ["-f", "quarry-peak-rss-kib=%M", try Binaries.path("quarry")] + arguments).wait()
        let line = result.stderr.split(separator: "\n").last { $0.hasPrefix("quarry-peak-rss-kib=") }
        guard let kib = line.flatMap({ Int($0.dropFirst("quarry-peak-rss-kib=".count)) }) else {
            throw TestFailure(description: "no peak RSS from /usr/bin/time in:\n\(result.stderr)")
        }
        return (result, kib)
    }

    /// Writes `megabytes` MiB of text as one article: a title, paragraphs, no comments.
    static func writeBigArticle(_ path: String, megabytes: Int) throws {
        guard FileManager.default.fileExists(atPath: path) || FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path)
        else { throw TestFailure(description: "cannot write \(path)") }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data("A very long article\n".utf8))
        let paragraph = Data((0..<1024).map { "word\($0 % 997) " }.joined().utf8 + [0x0A])
        var written = 0
        while written < megabytes << 20 {
            try handle.write(contentsOf: paragraph)
            written += paragraph.count
        }
    }

    static let gibibyte = 1 << 20  // in KiB

    @Test(.timeLimit(.scaledMinutes(2)))
    func aFileOverMaxFileSizeIsRefusedWithTheDocumentedMessageAndNotRead() throws {
        let directory = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corpus = directory + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        try Self.writeBigArticle(corpus + "/big.txt", megabytes: 110)
        try "Small title\nSmall body\n1 Comment\nAnn\nHello\n".write(toFile: corpus + "/small.txt", atomically: false, encoding: .utf8)
        let size = try FileManager.default.attributesOfItem(atPath: corpus + "/big.txt")[.size] as? Int ?? 0

        let (result, peak) = try Self.measured(["index", corpus, "--index", directory + "/index", "--max-file-size", "64", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning: big.txt: file is \(size) bytes, over the 67108864-byte limit (--max-file-size); skipped"),
                "\(result.stderr)")
        let summary = try result.decode(IndexSummary.self)
        #expect(summary.totalArticles == 1 && summary.totalComments == 1)
        print("a \(size)-byte file refused by --max-file-size 64: quarry index peaked at \(peak) KiB RSS")
        #expect(peak < 2 * Self.gibibyte)
    }

    /// The long ones (a minute or more in a debug build): `make test-long` sets QUARRY_LONG_TESTS=1.
    static let longTests = ProcessInfo.processInfo.environment["QUARRY_LONG_TESTS"] == "1"

    @Test(.enabled(if: longTests, "set QUARRY_LONG_TESTS=1 (make test-long)"), .timeLimit(.scaledMinutes(10)))
    func anArticleWithAHundredThousandCommentsIsIndexedInBoundedMemory() throws {
        let directory = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corpus = directory + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        // Distinct comments (a word list shuffled by a fixed generator): a thread, not one giant duplicate cluster.
        var generator = SplitMix(seed: 1)
        let words = (0..<20_000).map { number in String(number * 7919 % 1_000_003, radix: 36) + ["a", "e", "o", "u"][number % 4] }
        var text = "A thread that never ends\nOne paragraph of body text.\n100000 Comments\n"
        text.reserveCapacity(10 << 20)
        for number in 0..<100_000 {
            text += "Reader \(number % 5000)\n"
            text += (0..<12).map { _ in words[Int(generator.next() % UInt64(words.count))] }.joined(separator: " ") + "\n"
        }
        try text.write(toFile: corpus + "/thread.txt", atomically: false, encoding: .utf8)

        let (result, peak) = try Self.measured(["index", corpus, "--index", directory + "/index", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try result.decode(IndexSummary.self)
        #expect(summary.totalArticles == 1 && summary.totalComments == 100_000)
        print("one article with 100,000 comments (\(text.utf8.count) bytes): quarry index peaked at \(peak) KiB RSS")
        #expect(peak < 2 * Self.gibibyte)
    }

    @Test(.enabled(if: longTests, "set QUARRY_LONG_TESTS=1 (make test-long)"), .timeLimit(.scaledMinutes(10)))
    func aHundredThousandNearIdenticalCommentsFormOneCluster() throws {
        let directory = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corpus = directory + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        // A campaign: one message posted 100,000 times, each copy signed differently.
        let message = "Stop the new port tax now, it will ruin the small traders of this city and everyone knows it"
        var text = "A campaign\nOne paragraph of body text.\n100000 Comments\n"
        text.reserveCapacity(12 << 20)
        for number in 0..<100_000 {
            text += "Account \(number)\n\(message) signed \(String(number, radix: 36))\n"
        }
        try text.write(toFile: corpus + "/campaign.txt", atomically: false, encoding: .utf8)

        let clock = ContinuousClock()
        let start = clock.now
        let (result, peak) = try Self.measured(["index", corpus, "--index", directory + "/index", "--json"])
        let elapsed = clock.now - start
        #expect(result.status == 0, "\(result.stderr)")
        let clusters = try succeed("quarry", "duplicates", "--near", "--index", directory + "/index", "--json").decode(DuplicatesResponse.self)
        #expect(clusters.total == 1)
        #expect(clusters.groups.first?.count == 100_000 && clusters.groups.first?.variants == 100_000)
        print("100,000 near-identical comments: one cluster of \(clusters.groups.first?.count ?? 0); quarry index took \(elapsed), peaked at \(peak) KiB RSS")
        #expect(peak < 2 * Self.gibibyte)
    }

    @Test(.enabled(if: longTests, "set QUARRY_LONG_TESTS=1 (make test-long)"), .timeLimit(.scaledMinutes(20)))
    func aHundredMegabyteJSONLinesFileIsIndexedInBoundedMemory() throws {
        let directory = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let corpus = directory + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        try #require(FileManager.default.createFile(atPath: corpus + "/dump.jsonl", contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: corpus + "/dump.jsonl"))
        var generator = SplitMix(seed: 2)
        func words(_ count: Int) -> String {
            (0..<count).map { _ in String(generator.next() % 40_000, radix: 36) + "x" }.joined(separator: " ")
        }
        var written = 0
        var articles = 0
        while written < 105 << 20 {
            let body = (0..<6).map { _ in "\"" + words(120) + "\"" }.joined(separator: ",")
            let comments = (0..<4).map { _ in #"{"author":"\#(words(2))","text":"\#(words(25))"}"# }.joined(separator: ",")
            let line = #"{"id":"dump/\#(articles)","title":"\#(words(8))","body":[\#(body)],"comments":[\#(comments)]}"# + "\n"
            try handle.write(contentsOf: Data(line.utf8))
            written += line.utf8.count
            articles += 1
        }
        try handle.close()

        let (result, peak) = try Self.measured(["index", corpus, "--index", directory + "/index", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try result.decode(IndexSummary.self)
        #expect(summary.totalArticles == articles && summary.totalComments == 4 * articles)
        print("a \(written)-byte JSON Lines file of \(articles) articles: quarry index peaked at \(peak) KiB RSS")
        #expect(peak < 2 * Self.gibibyte)
    }
}

/// A small deterministic generator (SplitMix64), so test inputs are the same every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
