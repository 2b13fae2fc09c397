import Foundation
import QuarryProtocol
import Testing

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    // Tests/QuarryEndToEndTests/Support.swift → the repository root.
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

let sampleCorpus = repositoryRoot + "/Corpus"

struct TestFailure: Error, CustomStringConvertible {
    let description: String
}

/// How many times slower than a plain debug build these tests may run:
/// QUARRY_TEST_TIME_SCALE, a whole number, 1 when unset. `make sanitize` sets
/// it, since a sanitized build on a busy machine runs several times slower.
/// This is the one place it is read: every time limit and latency bound in
/// these tests goes through `TestTime`, and at 1 each is exactly its plain figure.
/// It changes how long a test waits, never what it checks.
enum TestTime {
    static let scale: Int = {
        guard let text = ProcessInfo.processInfo.environment["QUARRY_TEST_TIME_SCALE"], !text.isEmpty else { return 1 }
        guard let scale = Int(text), (1...1000).contains(scale) else {
            fatalError("QUARRY_TEST_TIME_SCALE must be a whole number from 1 to 1000, not '\(text)'")
        }
        return scale
    }()

    /// A bound in seconds, scaled.
    static func seconds(_ seconds: Double) -> Double { seconds * Double(scale) }

    /// A bound in milliseconds (for poll(2)), scaled.
    static func milliseconds(_ milliseconds: Int32) -> Int32 { milliseconds * Int32(scale) }
}

extension TimeLimitTrait.Duration {
    /// A test's time limit, scaled: `@Test(.timeLimit(.scaledMinutes(5)))`. Trait
    /// arguments are evaluated when the tests are discovered, so the scale applies.
    static func scaledMinutes(_ minutes: Int) -> Self { .minutes(minutes * TestTime.scale) }
}

/// The built products: `swift build` puts `quarry` and `quarry-bench` in the
/// directory that also holds the test bundle. QUARRY_BIN_DIR overrides it.
enum Binaries {
    static let directory: Result<String, TestFailure> = {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [URL] = []
        if let override = environment["QUARRY_BIN_DIR"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        }
        // Linux: the test bundle is itself the running executable, .build/debug/QuarryPackageTests.xctest.
        if let executable = ProcessInfo.processInfo.arguments.first {
            candidates.append(URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        // macOS: xctest loads the .xctest bundle, which sits next to the products.
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent())
        }
        candidates.append(Bundle.main.bundleURL)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path + "/quarry") {
            return .success(candidate.path)
        }
        return .failure(TestFailure(description: """
            cannot find the built 'quarry' binary next to the tests (looked in \(candidates.map(\.path))); \
            build the products first with 'swift build --build-tests', or set QUARRY_BIN_DIR
            """))
    }()

    static func path(_ tool: String) throws -> String {
        let path = try directory.get() + "/" + tool
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure(description: "'\(path)' is missing; build it with 'swift build --product \(tool)'")
        }
        return path
    }
}

/// What a finished process left behind.
struct ProcessResult {
    let status: Int32
    let stdout: Data
    let stderr: String

    var output: String { String(decoding: stdout, as: UTF8.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: stdout)
        } catch {
            throw TestFailure(description: "cannot decode \(type) from stdout (\(error)):\n\(output)\nstderr:\n\(stderr)")
        }
    }
}

/// A program started with its output going to files: files never fill up and
/// block the child the way an unread pipe does.
final class RunningProcess {
    let process = Process()
    private let stdoutPath: String
    private let stderrPath: String

    convenience init(_ tool: String, _ arguments: [String]) throws {
        try self.init(executable: try Binaries.path(tool), arguments)
    }

    /// Any program, e.g. `/usr/bin/setpriv` or `python3` through `/usr/bin/env`.
    init(executable: String, _ arguments: [String]) throws {
        let base = FileManager.default.temporaryDirectory.path + "/quarry-e2e-" + UUID().uuidString
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
              FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw TestFailure(description: "cannot create output files in \(FileManager.default.temporaryDirectory.path)")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "QUARRY_INDEX")
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func wait() -> ProcessResult {
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(atPath: stdoutPath)
            try? FileManager.default.removeItem(atPath: stderrPath)
        }
        return ProcessResult(
            status: process.terminationStatus,
            stdout: FileManager.default.contents(atPath: stdoutPath) ?? Data(),
            stderr: String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self))
    }
}

/// Runs a built tool to the end.
func run(_ tool: String, _ arguments: String...) throws -> ProcessResult {
    try RunningProcess(tool, arguments).wait()
}

/// Runs a built tool that must succeed.
func succeed(_ tool: String, _ arguments: String...) throws -> ProcessResult {
    let result = try RunningProcess(tool, arguments).wait()
    guard result.status == 0 else {
        throw TestFailure(description: "\(tool) \(arguments.joined(separator: " ")) exited with \(result.status):\n\(result.stderr)")
    }
    return result
}

/// A fresh directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/quarry-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A text-format file read the simple way, to know independently of Quarry
/// what it holds: title, and the author/text pairs after the last
/// `N Comment(s)` line (enough for the well-formed files of Corpus/ and of
/// the generator).
struct PlainArticle {
    let title: String
    let declaredComments: Int
    let comments: [(author: String, text: String)]

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestFailure(description: "cannot read \(path)")
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.lastIndex(where: { Self.count(inHeader: $0) != nil }),
              let declared = Self.count(inHeader: lines[header]), let title = lines.first else {
            throw TestFailure(description: "\(path) has no 'N Comments' line")
        }
        let pairs = lines[(header + 1)...].map { $0 }
        self.title = title
        declaredComments = declared
        comments = stride(from: 0, to: pairs.count - 1, by: 2).map { (pairs[$0], pairs[$0 + 1]) }
    }

    static func count(inHeader line: String) -> Int? {
        let parts = line.split(separator: " ")
        guard parts.count == 2, let count = Int(parts[0]), ["comment", "comments"].contains(parts[1].lowercased()) else { return nil }
        return count
    }
}

/// Every `.txt` file under `root`, by path relative to it.
func textFiles(under root: String) -> [String] {
    var files: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        if relative.hasSuffix(".txt") && !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            files.append(relative)
        }
    }
    return files.sorted()
}
