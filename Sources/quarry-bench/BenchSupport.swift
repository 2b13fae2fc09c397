#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A benchmark step that failed, said so that the user knows what to do.
struct BenchError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Prints `quarry-bench: MESSAGE` on stderr.
func report(_ error: any Error) {
    let message = (error as? BenchError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("quarry-bench: \(message)\n".utf8))
}

/// Progress and notes for a human: stderr, so stdout stays for results.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Seconds on a monotonic clock.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Latency figures from plain sorted arrays: no histogram, no interpolation.
/// A percentile is the smallest sample at or above that fraction of samples.
struct LatencySummary: Codable, Sendable, Equatable {
    var count: Int
    var meanMs: Double
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double

    init(seconds samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        func at(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((fraction * Double(sorted.count)).rounded(.up))
            return sorted[min(sorted.count - 1, max(0, rank - 1))] * 1000
        }
        meanMs = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count) * 1000
        p50Ms = at(0.50)
        p99Ms = at(0.99)
        p999Ms = at(0.999)
        maxMs = (sorted.last ?? 0) * 1000
    }
}

/// This process's peak resident set (getrusage's ru_maxrss) and CPU time.
struct ResourceUsage {
    var peakRSSBytes: Int64
    var userSeconds: Double
    var systemSeconds: Double

    static func current() -> ResourceUsage {
        var usage = rusage()
        #if os(Linux)
        _ = getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        #else
        _ = getrusage(RUSAGE_SELF, &usage)
        #endif
        return ResourceUsage(
            // Linux reports kibibytes.
            peakRSSBytes: Int64(usage.ru_maxrss) * 1024,
            userSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
    }
}

/// Bytes of every regular file under `path` (recursively), not following links.
func treeSize(_ path: String, including: (String) -> Bool = { _ in true }) -> Int64 {
    var total: Int64 = 0
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
    while let relative = enumerator.nextObject() as? String {
        guard including(relative) else { continue }
        var info = stat()
        if lstat(path + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            total += Int64(info.st_size)
        }
    }
    return total
}

/// A corpus file Quarry reads: `.txt`, `.json`, `.jsonl`, not under a hidden name.
func isCorpusFile(_ relative: String) -> Bool {
    guard !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { return false }
    return relative.hasSuffix(".txt") || relative.hasSuffix(".json") || relative.hasSuffix(".jsonl")
}

/// Encodes `value` as pretty, key-sorted JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// The directory holding this executable (and, in a SwiftPM build, `quarry`).
func executableDirectory() -> String {
    let path = URL(fileURLWithPath: CommandLine.arguments.first ?? "quarry-bench").resolvingSymlinksInPath()
    // A bare name found on $PATH: ask /proc for the real location.
    if !FileManager.default.fileExists(atPath: path.path),
       let real = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return (real as NSString).deletingLastPathComponent
    }
    return path.deletingLastPathComponent().path
}

/// A fresh directory with a short path (socket paths must stay under 108 bytes).
func makeShortTemporaryDirectory(_ stem: String = "qb") throws(BenchError) -> String {
    var template = Array("/tmp/\(stem)-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
        throw BenchError("cannot create a temporary directory in /tmp: \(String(cString: strerror(errno)))")
    }
    return String(cString: made)
}

/// What a finished child process printed.
struct ChildOutput {
    var status: Int32
    var stdout: Data
    var stderr: String
}

/// Runs a program to its end with stdout captured; stderr is captured too and,
/// when `echoStderr`, copied to ours as it arrives (progress stays visible).
func runChild(_ executable: String, _ arguments: [String], echoStderr: Bool = false,
              environment: [String: String]? = nil) throws(BenchError) -> ChildOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardInput = FileHandle.nullDevice
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do {
        try process.run()
    } catch {
        throw BenchError("cannot start '\(executable)': \(error.localizedDescription)")
    }
    let collected = LockedBuffer()
    let errHandle = err.fileHandleForReading
    let reader = Thread {
        while true {
            let chunk = errHandle.availableData
            if chunk.isEmpty { break }
            collected.append(chunk)
            if echoStderr { FileHandle.standardError.write(chunk) }
        }
        collected.finish()
    }
    reader.start()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    collected.waitUntilFinished()
    return ChildOutput(status: process.terminationStatus, stdout: stdout,
                       stderr: String(decoding: collected.data, as: UTF8.self))
}

/// Bytes appended by one thread and read by another once it is finished.
final class LockedBuffer: @unchecked Sendable {
    // @unchecked: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var bytes = Data()
    private var finished = false

    func append(_ chunk: Data) { condition.withLock { bytes.append(chunk) } }

    func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    var data: Data { condition.withLock { bytes } }
}

/// Fixed-width text columns for a table on a terminal.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: max(0, widths[column] - cell.count))
                // The first column reads left to right; figures line up on the right.
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// A number with a sensible number of digits for a table.
func figure(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "n/a" }
    switch abs(value) {
    case 1000...: return String(format: "%.0f", value)
    case 100...: return String(format: "%.1f", value)
    case 1...: return String(format: "%.2f", value)
    default: return String(format: "%.3f", value)
    }
}

/// `a / b` when both are there, as "1.23×".
func ratio(_ a: Double?, _ b: Double?) -> String {
    guard let a, let b, b > 0, a.isFinite, b.isFinite else { return "n/a" }
    return String(format: "%.2f×", a / b)
}

/// Runs async work from a synchronous command and waits for it on this thread.
///
/// quarry-bench's root command is synchronous on purpose: an async `main`
/// parks the main thread in libdispatch's `dispatch_main`, whose
/// `rt_sigsuspend` valgrind 3.19 cannot follow, and the benchmark must run
/// under callgrind. The main thread is not one of Swift's cooperative
/// threads, so blocking it here starves nothing.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws(BenchError) -> T) throws(BenchError) -> T {
    let box = OutcomeBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, BenchError>
        do throws(BenchError) {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        box.set(outcome)
        done.signal()
    }
    done.wait()
    guard let outcome = box.value else { throw BenchError("the benchmark task ended without a result") }
    return try outcome.get()
}

/// One result handed from a task to a waiting thread.
final class OutcomeBox<T: Sendable>: @unchecked Sendable {
    // @unchecked: `outcome` is guarded by `lock`.
    private let lock = NSLock()
    private var outcome: Result<T, BenchError>?

    func set(_ value: Result<T, BenchError>) { lock.withLock { outcome = value } }
    var value: Result<T, BenchError>? { lock.withLock { outcome } }
}
