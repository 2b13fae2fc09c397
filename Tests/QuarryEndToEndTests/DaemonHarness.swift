import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The daemon tests' view of the command line: text in, text out.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the built `quarry` with these arguments to the end.
func quarry(_ arguments: [String]) throws -> CommandResult {
    let result = try RunningProcess("quarry", arguments).wait()
    return CommandResult(status: result.status, stdout: result.output, stderr: result.stderr)
}

/// Runs any program to the end.
func runProgram(_ executable: String, _ arguments: [String]) throws -> CommandResult {
    let result = try RunningProcess(executable: executable, arguments).wait()
    return CommandResult(status: result.status, stdout: result.output, stderr: result.stderr)
}

/// A fresh, short directory: socket paths must stay under 108 bytes.
func shortTemporaryDirectory() throws -> String {
    var template = Array("/tmp/qt-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw TestFailure(description: "mkdtemp failed") }
    return String(cString: made)
}

/// The sample corpus indexed once per test run, shared read-only by tests.
enum SharedIndex {
    private static let built: Result<String, TestFailure> = {
        do {
            let index = try shortTemporaryDirectory() + "/index"
            let result = try quarry(["index", sampleCorpus, "--index", index, "--quiet"])
            guard result.status == 0 else { return .failure(TestFailure(description: "indexing Corpus/ failed: \(result.stderr)")) }
            return .success(index)
        } catch {
            return .failure(TestFailure(description: "indexing Corpus/ failed: \(error)"))
        }
    }()

    static func path() throws -> String { try built.get() }
}

/// A built tool running in the background whose stderr the test can wait on:
/// readiness is a log line, never a sleep.
final class ObservedProcess: Sendable {
    let process = Process()
    private let output = OutputLog()

    /// - Parameter tool: a built tool's name, or an absolute path to any program.
    /// - Parameter watchingStdout: follow stdout instead of stderr (for programs that announce readiness there).
    init(_ tool: String, _ arguments: [String], watchingStdout: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : try Binaries.path(tool))
        process.arguments = arguments
        let pipe = Pipe()
        if watchingStdout {
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
        } else {
            process.standardError = pipe
            process.standardOutput = FileHandle.nullDevice
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The reader holds only the log, not this object, so deinit can stop the process.
        let handle = pipe.fileHandleForReading
        let output = output
        Thread { output.read(from: handle) }.start()
    }

    var log: String { output.text }

    func waitForLog(_ text: String, timeout: TimeInterval = TestTime.seconds(60)) throws {
        try output.waitFor(text, timeout: timeout)
    }

    func waitForOutput(milliseconds: Int) {
        output.waitForMore(milliseconds: milliseconds)
    }

    /// Sends `signal` and waits for the exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// What a background process wrote, with a way to wait for a line of it.
final class OutputLog: @unchecked Sendable {
    // @unchecked: everything is guarded by `condition`.
    private let condition = NSCondition()
    private var logText = ""
    private var ended = false

    func read(from handle: FileHandle) {
        while true {
            let chunk = handle.availableData
            condition.lock()
            if chunk.isEmpty { ended = true } else { logText += String(decoding: chunk, as: UTF8.self) }
            condition.broadcast()
            condition.unlock()
            if chunk.isEmpty { return }
        }
    }

    var text: String { condition.withLock { logText } }

    /// Blocks until the log contains `text`; fails if the output ends first.
    func waitFor(_ text: String, timeout: TimeInterval) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !logText.contains(text) {
            if ended { throw TestFailure(description: "the process ended before writing '\(text)':\n\(logText)") }
            guard condition.wait(until: deadline) else { throw TestFailure(description: "no '\(text)' in the output within \(timeout) s:\n\(logText)") }
        }
    }

    /// Waits for more output or the given time, whichever is first: for retry
    /// loops that must not spin.
    func waitForMore(milliseconds: Int) {
        condition.lock()
        defer { condition.unlock() }
        let length = logText.count
        let deadline = Date(timeIntervalSinceNow: Double(milliseconds) / 1000)
        while logText.count == length && !ended && condition.wait(until: deadline) {}
    }
}

/// A real `quarry serve` process on a real socket.
final class Daemon: Sendable {
    let observed: ObservedProcess
    let socketPath: String

    /// Starts the daemon and returns once it logs that it is serving.
    init(index: String, socketPath: String? = nil, arguments: [String] = []) throws {
        self.socketPath = try socketPath ?? shortTemporaryDirectory() + "/q.sock"
        // A slowed run (TestTime.scale > 1) can leave a test's connection silent for
        // minutes while other tests hold the machine: the idle timeout (the daemon's
        // default, 300 s) is scaled like every other bound, unless the test sets its own.
        var arguments = arguments
        if TestTime.scale > 1 && !arguments.contains("--idle-timeout") {
            arguments += ["--idle-timeout", String(Int(TestTime.seconds(300)))]
        }
        observed = try ObservedProcess("quarry", ["serve", "--index", index, "--socket", self.socketPath, "--log-level", "info"] + arguments)
        try observed.waitForLog("serving")
    }

    var process: Process { observed.process }
    var log: String { observed.log }
    func waitForLog(_ text: String) throws { try observed.waitForLog(text) }
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Int32 { observed.stop(signal) }
}

/// A blocking Unix-socket connection for sending exactly the bytes a test wants.
final class RawConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure(description: "socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestFailure(description: "connect(\(path)) failed: \(reason)")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure(description: "send failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// The next reply line, or nil when the daemon closed the connection.
    func readLine(timeout: Int32 = TestTime.milliseconds(10_000)) throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeout) == 1 else { throw TestFailure(description: "no reply within \(timeout) ms") }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            buffer += chunk[..<count]
        }
    }

    /// Decodes the next reply line as a JSON object.
    func readReply() throws -> [String: Any]? {
        guard let line = try readLine() else { return nil }
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }
}
