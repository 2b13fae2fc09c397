import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Paths to the real binaries and the repository, as `swift test` lays them out.
enum Paths {
    /// `.build/debug` (or release): the test bundle's own directory holds the products.
    static let products: URL = {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // On Linux the runner may be inside `X.xctest`; on Darwin inside a bundle.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("quarry").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    static let quarry = products.appendingPathComponent("quarry").path
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let corpus = repository.appendingPathComponent("Corpus").path
    static let pythonClient = repository.appendingPathComponent("examples/python/quarry_client.py").path

    /// A fresh, short directory: socket paths must stay under 108 bytes.
    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/qt-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        return String(cString: made)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The output of a finished command.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a command to completion.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes while it runs, so a chatty process cannot block on a full pipe.
    let stderrData = LockedData()
    let reader = Thread { stderrData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    reader.start()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !stderrData.isSet { usleep(1000) }
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                         stderr: String(decoding: stderrData.value, as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var data = Data()
    private var done = false
    func set(_ value: Data) { lock.withLock { data = value; done = true } }
    var isSet: Bool { lock.withLock { done } }
    var value: Data { lock.withLock { data } }
}

/// The sample corpus indexed once per test run, shared read-only by tests.
enum SharedIndex {
    private static let built: Result<String, HarnessError> = {
        do {
            let index = try Paths.temporaryDirectory() + "/index"
            let result = try run(Paths.quarry, ["index", Paths.corpus, "--index", index, "--quiet"])
            guard result.status == 0 else { return .failure(HarnessError("indexing Corpus/ failed: \(result.stderr)")) }
            return .success(index)
        } catch {
            return .failure(HarnessError("indexing Corpus/ failed: \(error)"))
        }
    }()

    static func path() throws -> String { try built.get() }
}

/// A real `quarry serve` process on a real socket.
final class Daemon: @unchecked Sendable {
    // @unchecked: the log is guarded by `condition`; the rest is immutable.
    let process = Process()
    let socketPath: String
    let directory: String
    private let condition = NSCondition()
    private var logText = ""
    private var ended = false

    /// Starts the daemon and returns once it logs that it is serving.
    init(index: String, socketPath: String? = nil, arguments: [String] = []) throws {
        directory = try Paths.temporaryDirectory()
        self.socketPath = socketPath ?? directory + "/q.sock"
        process.executableURL = URL(fileURLWithPath: Paths.quarry)
        process.arguments = ["serve", "--index", index, "--socket", self.socketPath, "--log-level", "info"] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        let reader = Thread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty {
                    ended = true
                } else {
                    logText += String(decoding: chunk, as: UTF8.self)
                }
                condition.broadcast()
                condition.unlock()
                if chunk.isEmpty { return }
            }
        }
        reader.start()
        try waitForLog("serving")
    }

    var log: String { condition.withLock { logText } }

    /// Blocks until the log contains `text`; fails if the process's stderr ends first.
    func waitForLog(_ text: String, timeout: TimeInterval = 30) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !logText.contains(text) {
            if ended { throw HarnessError("the daemon ended before logging '\(text)':\n\(logText)") }
            guard condition.wait(until: deadline) else { throw HarnessError("no '\(text)' in the log within \(timeout) s:\n\(logText)") }
        }
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

/// A blocking Unix-socket connection for sending exactly the bytes a test wants.
final class RawConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
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
            throw HarnessError("connect(\(path)) failed: \(reason)")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HarnessError("send failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// The next reply line, or nil when the daemon closed the connection.
    func readLine(timeout: Int32 = 10_000) throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeout) == 1 else { throw HarnessError("no reply within \(timeout) ms") }
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
