import Foundation
import Testing

/// `quarry-bench compare --quick`: every part of the benchmark runs end to end
/// on a tiny corpus (generate, index, in-process queries, a real daemon at 1, 8
/// and 64 clients, and the Python peers where python3-xapian is installed).
/// It checks that the benchmark works and reports what it should, never a timing.
@Suite struct BenchmarkSmokeTests {
    static let python = "/usr/bin/python3"

    /// Tests/QuarryEndToEndTests/this file → the checkout.
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Finished {
        let status: Int32
        let stdout: Data
        let stderr: String
        var output: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// quarry-bench as `swift build` laid it out beside the test bundle
    /// (QUARRY_BIN_DIR overrides).
    static func benchBinary() throws -> String {
        var directories: [String] = []
        if let override = ProcessInfo.processInfo.environment["QUARRY_BIN_DIR"], !override.isEmpty { directories.append(override) }
        if let executable = ProcessInfo.processInfo.arguments.first {
            directories.append(URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent().path)
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent().path)
        }
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/quarry-bench") {
            return directory + "/quarry-bench"
        }
        throw Failure(description: "no quarry-bench next to the tests (looked in \(directories)); build with 'swift build --build-tests'")
    }

    /// Runs quarry-bench to its end, output to files (a pipe nobody reads can block the child).
    static func bench(_ arguments: [String]) throws -> Finished {
        let base = FileManager.default.temporaryDirectory.path + "/quarry-bench-smoke-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: base + ".out", contents: nil),
              FileManager.default.createFile(atPath: base + ".err", contents: nil) else {
            throw Failure(description: "cannot create the output files \(base).out and .err")
        }
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try benchBinary())
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        process.standardError = FileHandle(forWritingAtPath: base + ".err")
        try process.run()
        process.waitUntilExit()
        return Finished(status: process.terminationStatus,
                        stdout: FileManager.default.contents(atPath: base + ".out") ?? Data(),
                        stderr: String(decoding: FileManager.default.contents(atPath: base + ".err") ?? Data(), as: UTF8.self))
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/quarry-bench-smoke-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// python3-xapian is Debian's module for /usr/bin/python3; CI may lack it.
    static var pythonXapianImportable: Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import xapian, sqlite3"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// The figures of the table row whose label starts with `label` (cells are
    /// separated by two spaces or more; a label has single spaces only).
    func row(_ label: String, in output: String) -> [String]? {
        for line in output.split(separator: "\n") where line.hasPrefix(label) {
            let cells = line.replacingOccurrences(of: " {2,}", with: "\t", options: .regularExpression)
                .split(separator: "\t").map(String.init)
            return Array(cells.dropFirst())
        }
        return nil
    }

    @Test func quickCompareRunsEveryPartAndPrintsTheTable() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let withPeers = Self.pythonXapianImportable
        var arguments = ["compare", "--quick", "--articles", "120", "--requests", "60", "--work", directory + "/work",
                         "--python", Self.python, "--peers", Self.checkout + "/Benchmarks/peers"]
        if !withPeers { arguments.append("--no-peers") }
        let result = try Self.bench(arguments)
        #expect(result.status == 0, "quarry-bench compare --quick failed:\n\(result.stderr)")
        let output = result.output

        // Quarry's own rows always have figures.
        for label in ["indexing documents/s", "indexing MB/s of input", "indexer peak RSS MiB", "index size MiB",
                      "in-process q/s, 1 thread", "in-process p50 ms, 1 thread",
                      "daemon q/s, 1 client", "daemon q/s, 8 clients", "daemon q/s, 64 clients",
                      "daemon p50 ms, 1 client", "daemon p99 ms, 8 clients", "daemon p99.9 ms, 64 clients"] {
            let cells = row(label, in: output)
            #expect(cells != nil, "no '\(label)' row in:\n\(output)")
            #expect(cells?.first.flatMap(Double.init).map { $0 > 0 } == true, "'\(label)' has no positive Quarry figure: \(cells ?? [])")
        }
        // The second run, without near-duplicate detection: no band store, so a smaller index.
        let sameFields = "--no-near-duplicates (the peers' fields): "
        #expect(row(sameFields + "documents/s", in: output)?.first.flatMap(Double.init).map { $0 > 0 } == true, "no same-fields run in:\n\(output)")
        if let withNear = row("index size MiB", in: output)?.first.flatMap(Double.init),
           let without = row(sameFields + "index size MiB", in: output)?.first.flatMap(Double.init) {
            #expect(without < withNear, "an index without a band store is not smaller:\n\(output)")
        } else {
            Issue.record("no index sizes in:\n\(output)")
        }
        #expect(row("failed queries (all modes)", in: output)?.first == "0", "queries failed:\n\(output)")
        #expect(output.contains("targets (issue 6):"))
        #expect(output.contains("indexer peak memory < 1 GiB"))
        #expect(output.contains("daemon median (1 client)"))

        if withPeers {
            // Both peers indexed the same documents and answered the same mix.
            let indexing = row("indexing documents/s", in: output) ?? []
            #expect(indexing.count == 5, "expected Quarry, both peers and two ratios: \(indexing)")
            #expect(!indexing.contains("n/a"), "a peer did not report: \(indexing)\n\(output)\n\(result.stderr)")
            #expect(!output.contains("documents, Quarry"), "the engines indexed different document counts:\n\(output)")
            #expect(row("in-process q/s, 1 thread", in: output)?.contains("n/a") == false)
            #expect(output.contains("indexing ≥ 1.5× python-xapian documents/s: "))
        } else {
            #expect(output.contains("peers skipped"))
        }

        // The query mix the peers ran is left in the work directory, with every kind.
        let mix = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: directory + "/work/mix.json")))
        let queries = (mix as? [String: Any])?["queries"] as? [[String: Any]] ?? []
        let kinds = Set(queries.compactMap { $0["kind"] as? String })
        #expect(kinds == ["word", "and", "phrase", "by", "wildcard", "facet"], "mix kinds: \(kinds)")
    }

    @Test func indexAndQueryReportJSON() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = directory + "/index"
        let corpus = Self.checkout + "/Corpus"
        let indexed = try Self.bench(["index", "--corpus", corpus, "--index", index, "--json"])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let report = try JSONSerialization.jsonObject(with: indexed.stdout) as? [String: Any]
        #expect(report?["documents"] as? Int == 438)
        #expect((report?["peakRSSBytes"] as? Int ?? 0) > 0)
        #expect((report?["indexBytes"] as? Int ?? 0) > 0)
        #expect((report?["documentsPerSecond"] as? Double ?? 0) > 0)

        // A second run onto the same path is refused rather than measuring an update.
        let again = try Self.bench(["index", "--corpus", corpus, "--index", index])
        #expect(again.status != 0)
        #expect(again.stderr.contains("--force"))

        let queried = try Self.bench(["query", "--index", index, "--clients", "1,2", "--requests", "40", "--json"])
        #expect(queried.status == 0, "\(queried.stderr)")
        let results = (try JSONSerialization.jsonObject(with: queried.stdout) as? [String: Any])?["results"] as? [[String: Any]] ?? []
        let modes = results.map { "\($0["mode"] ?? "?")@\($0["clients"] ?? "?")" }
        // In-process threads stop at the core count; the daemon gets every client count.
        #expect(modes.first == "in-process@1", "\(modes)")
        // Then the interleaved run: one client, the same queries on both sides.
        #expect(Array(modes.suffix(4)) == ["daemon@1", "daemon@2", "in-process, interleaved@1", "daemon, interleaved@1"], "\(modes)")
        let interleaved = results.suffix(2).map { ($0["latency"] as? [String: Any])?["count"] as? Int ?? 0 }
        #expect(interleaved == [20, 20], "the interleaved run's samples, in-process and daemon: \(interleaved)")
        for result in results {
            #expect(result["errors"] as? Int == 0, "\(result)")
            let latency = result["latency"] as? [String: Any]
            #expect((latency?["count"] as? Int ?? 0) > 0)
            #expect((latency?["p50Ms"] as? Double ?? 0) <= (latency?["p99Ms"] as? Double ?? 0))
        }

        // The JSON steps, each with a figure both ways.
        let json = try Self.bench(["json", "--index", index, "--rounds", "2"])
        #expect(json.status == 0, "\(json.stderr)")
        let text = String(decoding: json.stdout, as: UTF8.self)
        for step in ["write the request (client)", "read the request (daemon)", "write the page (daemon)", "read the page (client)"] {
            let cells = row(step, in: text) ?? []
            #expect(cells.count == 3 && cells.allSatisfy { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "×"))) ?? 0 > 0 },
                    "\(step): \(cells) in\n\(text)")
        }
    }
}
