import Foundation
import QuarryClient
import QuarryProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Bad input, limits, security and shutdown: each gets its documented answer
/// and the daemon keeps serving the next client.
@Suite(.serialized)
struct DaemonRobustnessTests {
    /// The daemon still answers a fresh client.
    func expectServing(_ daemon: Daemon) throws {
        let connection = try RawConnection(path: daemon.socketPath)
        try connection.send(#"{"jsonrpc":"2.0","id":"alive","method":"ping"}"# + "\n")
        let reply = try #require(try connection.readReply())
        #expect(reply["id"] as? String == "alive")
        #expect(reply["result"] != nil)
    }

    func errorCode(_ reply: [String: Any]?) -> Int? {
        (reply?["error"] as? [String: Any])?["code"] as? Int
    }

    @Test func malformedRequestsGetTheirDocumentedErrors() throws {
        let daemon = try Daemon(index: try SharedIndex.path())
        let connection = try RawConnection(path: daemon.socketPath)
        let cases: [(String, Int)] = [
            ("this is not json", -32700),
            ("[1, 2, 3]", -32600),
            ("42", -32600),
            (#"{"jsonrpc":"2.0","id":1,"method":"explode"}"#, -32601),
            (#"{"jsonrpc":"1.0","id":2,"method":"ping"}"#, -32600),
            (#"{"jsonrpc":"2.0","id":3}"#, -32600),
            (#"{"jsonrpc":"2.0","id":4,"method":"search","params":{"query":42}}"#, -32602),
            (#"{"jsonrpc":"2.0","id":5,"method":"search","params":{"query":"x","limit":"ten"}}"#, -32602),
            (#"{"jsonrpc":"2.0","id":6,"method":"search","params":{"query":"x","limit":100000}}"#, -32602),
            (#"{"jsonrpc":"2.0","id":7,"method":"search","params":{"query":"x","sort":"sideways"}}"#, -32602),
            (#"{"jsonrpc":"2.0","id":8,"method":"search"}"#, -32602),
            (#"{"jsonrpc":"2.0","id":9,"method":"search","params":{"query":"(foo AND"}}"#, -32001),
            (#"{"jsonrpc":"2.0","id":10,"method":"get","params":{"id":"no/such/article"}}"#, -32005),
        ]
        for (request, code) in cases {
            try connection.send(request + "\n")
            let reply = try connection.readReply()
            #expect(errorCode(reply) == code, "\(request) → \(String(describing: reply))")
            #expect(((reply?["error"] as? [String: Any])?["message"] as? String)?.isEmpty == false)
        }
        // The query echoed back for a syntax error, and the id kept.
        try connection.send(#"{"jsonrpc":"2.0","id":"q","method":"search","params":{"query":"foo AND"}}"# + "\n")
        let syntax = try #require(try connection.readReply())
        #expect(syntax["id"] as? String == "q")
        #expect(((syntax["error"] as? [String: Any])?["data"] as? [String: Any])?["query"] as? String == "foo AND")

        // Invalid UTF-8 inside a line.
        try connection.send([UInt8](#"{"jsonrpc":"2.0","id":11,"method":"search","params":{"query":""#.utf8) + [0xFF, 0xFE] + [UInt8]("\"}}\n".utf8))
        #expect(errorCode(try connection.readReply()) == -32700)
        // A notification (no id) gets no reply: the next reply is for the next request.
        try connection.send(#"{"jsonrpc":"2.0","method":"ping"}"# + "\n" + #"{"jsonrpc":"2.0","id":12,"method":"ping"}"# + "\n")
        #expect(try connection.readReply()?["id"] as? Int == 12)
        try expectServing(daemon)
        daemon.stop()
    }

    @Test func anEightMebibyteLineGetsAnErrorAndTheConnectionIsClosed() throws {
        let daemon = try Daemon(index: try SharedIndex.path())
        let connection = try RawConnection(path: daemon.socketPath)
        let huge = #"{"jsonrpc":"2.0","id":1,"method":"search","params":{"query":""# + String(repeating: "a", count: 8 << 20) + "\"}}\n"
        // The daemon may close while we are still sending: that is the point.
        try? connection.send(huge)
        let reply = try connection.readReply()
        #expect(errorCode(reply) == -32003)
        #expect(try connection.readLine() == nil, "the connection should be closed after an over-long line")
        try expectServing(daemon)
        daemon.stop()
    }

    @Test func halfSentLinesAndIdleConnectionsDoNotHurtOthers() throws {
        let daemon = try Daemon(index: try SharedIndex.path(), arguments: ["--idle-timeout", "1"])
        do {
            let half = try RawConnection(path: daemon.socketPath)
            try half.send(#"{"jsonrpc":"2.0","id":1,"method":"sea"#)
        }  // closed here, mid-line
        try expectServing(daemon)

        let idle = try RawConnection(path: daemon.socketPath)
        // Sends nothing: the daemon closes it after the idle timeout (EOF is the signal).
        #expect(try idle.readLine(timeout: TestTime.milliseconds(10_000)) == nil)
        try expectServing(daemon)
        daemon.stop()
    }

    @Test func aClientThatShutsDownItsWriteSideAndReadsLateGetsEveryReplyInOrder() throws {
        // As `socat` does at the end of its input: send everything, shut down the write
        // side, then read. The replies are far more than the socket holds, and the last
        // request is a notification: the daemon must not close before the replies it
        // has already handed to the socket layer are out.
        let daemon = try Daemon(index: try SharedIndex.path())
        let connection = try RawConnection(path: daemon.socketPath)
        var batch = ""
        for number in 0..<120 {
            batch += #"{"jsonrpc":"2.0","id":\#(number),"method":"search","params":{"query":"the OR a","limit":100}}"# + "\n"
        }
        batch += #"{"jsonrpc":"2.0","method":"ping"}"# + "\n"
        try connection.send(batch)
        connection.shutdownWrite()
        usleep(useconds_t(TestTime.milliseconds(1_000)) * 1000)
        var bytes = 0
        for number in 0..<120 {
            let line = try #require(try connection.readLine(), "the connection closed after \(number) replies")
            bytes += line.utf8.count
            let reply = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(reply["id"] as? Int == number)
            #expect(reply["result"] != nil)
        }
        #expect(try connection.readLine() == nil, "the connection should close once every reply is written")
        #expect(bytes > 1 << 20, "the replies should be more than the socket buffers hold")
        try expectServing(daemon)
        daemon.stop()
    }

    @Test func tooManyRequestsInFlightOrConnectionsGetOverloaded() throws {
        let daemon = try Daemon(index: try SharedIndex.path(), arguments: ["--max-in-flight", "4", "--max-connections", "2"])
        let connection = try RawConnection(path: daemon.socketPath)
        var batch = ""
        for number in 0..<40 { batch += #"{"jsonrpc":"2.0","id":\#(number),"method":"search","params":{"query":"diplomacy"}}"# + "\n" }
        try connection.send(batch)
        var answered = 0
        var overloaded = 0
        for number in 0..<40 {
            let reply = try #require(try connection.readReply())
            #expect(reply["id"] as? Int == number)
            if reply["result"] != nil { answered += 1 }
            if errorCode(reply) == -32004 { overloaded += 1 }
        }
        #expect(answered >= 4)
        #expect(overloaded > 0)
        #expect(answered + overloaded == 40)

        let second = try RawConnection(path: daemon.socketPath)
        try second.send(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"# + "\n")
        #expect(try second.readReply()?["result"] != nil)
        let third = try RawConnection(path: daemon.socketPath)
        #expect(errorCode(try third.readReply()) == -32004)
        daemon.stop()
    }

    @Test func aRefusalSentAsTheConnectionOpensReachesQuarryClient() async throws {
        // One connection allowed and held open: every further one is answered -32004 and
        // closed at once. The client's tasks run on an executor that starts each job late,
        // like a busy process's: the daemon's answer and close come before the client has
        // finished connecting. The client must report that answer, never a failure of its
        // own to set the connection up.
        let daemon = try Daemon(index: try SharedIndex.path(), arguments: ["--max-connections", "1"])
        let held = try RawConnection(path: daemon.socketPath)
        let ping = #"{"jsonrpc":"2.0","id":"held","method":"ping"}"# + "\n"
        try held.send(ping)
        #expect(try held.readReply()?["result"] != nil)
        let outcomes = await withTaskExecutorPreference(LateExecutor(milliseconds: 100)) {
            var outcomes: [String] = []
            for _ in 0..<10 {
                do {
                    let client = try await QuarryClient.connect(socketPath: daemon.socketPath)
                    do {
                        _ = try await client.ping()
                        outcomes.append("served beyond --max-connections 1")
                    } catch {
                        if case .rpc(let rpc)? = error as? QuarryClientError, rpc.code == RPCError.overloaded { outcomes.append("refused") } else {
                            outcomes.append("ping: \(error)")
                        }
                    }
                    await client.close()
                } catch {
                    outcomes.append("connect: \(error)")
                }
            }
            return outcomes
        }
        #expect(outcomes == Array(repeating: "refused", count: 10))
        try held.send(ping)
        #expect(try held.readReply()?["result"] != nil)
        daemon.stop()
    }

    @Test func theSocketIsPrivateAndNeverTakenFromAnotherDaemonOrAFile() throws {
        let daemon = try Daemon(index: try SharedIndex.path())
        var info = stat()
        #expect(lstat(daemon.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        // A second daemon on the same path is refused, and the first keeps its socket.
        let second = try quarry(["serve", "--index", try SharedIndex.path(), "--socket", daemon.socketPath])
        #expect(second.status != 0)
        #expect(second.stderr.contains("already serving"))
        try expectServing(daemon)

        // A regular file at the path is left alone.
        let directory = try shortTemporaryDirectory()
        let file = directory + "/not-a-socket"
        try "precious".write(toFile: file, atomically: true, encoding: .utf8)
        let onFile = try quarry(["serve", "--index", try SharedIndex.path(), "--socket", file])
        #expect(onFile.status != 0)
        #expect(onFile.stderr.contains("not a socket"))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "precious")

        // A stale socket (its daemon gone) is replaced; a clean stop removes the socket.
        #expect(daemon.stop(SIGKILL) != 0)
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath))
        let successor = try Daemon(index: try SharedIndex.path(), socketPath: daemon.socketPath)
        try expectServing(successor)
        #expect(successor.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run a client as another user"))
    func aPeerOutsideTheAllowListIsRefused() throws {
        let directory = try shortTemporaryDirectory()
        chmod(directory, 0o755)
        let socketPath = directory + "/q.sock"
        // Mode 0666 so that the file's permissions let `nobody` in and SO_PEERCRED is what refuses.
        let daemon = try Daemon(index: try SharedIndex.path(), socketPath: socketPath,
                                arguments: ["--allow-uid", "0", "--socket-mode", "0666"])
        // The client is the real CLI, run as `nobody`.
        let asNobody = try runProgram("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                                    try Binaries.path("quarry"), "search", "diplomacy", "--socket", socketPath])
        #expect(asNobody.status != 0)
        #expect(asNobody.stderr.contains("may not query"), "nobody got: \(asNobody.stdout) \(asNobody.stderr)")
        try expectServing(daemon)
        try daemon.waitForLog("refused a peer")
        daemon.stop()
    }

    @Test func sigtermDuringLoadAnswersWhatIsInFlightAndExitsCleanly() async throws {
        let daemon = try Daemon(index: try SharedIndex.path())
        let connection = try RawConnection(path: daemon.socketPath)
        var batch = ""
        for number in 0..<100 { batch += #"{"jsonrpc":"2.0","id":\#(number),"method":"search","params":{"query":"sanctions OR diplomacy","facets":["author"]}}"# + "\n" }
        try connection.send(batch)
        // The first reply proves the batch arrived; then stop while the rest are in flight.
        let first = try #require(try connection.readReply())
        #expect(first["id"] as? Int == 0)
        kill(daemon.process.processIdentifier, SIGTERM)
        var answered = 1
        while let reply = try connection.readReply() {
            #expect(reply["result"] != nil, "a request in flight failed at shutdown: \(reply)")
            answered += 1
        }
        #expect(daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        #expect(daemon.log.contains("stopped"))
        print("SIGTERM with 100 requests sent: \(answered) answered before the connection closed")
    }

    @Test func thePythonExampleClientTalksToTheDaemon() throws {
        let daemon = try Daemon(index: try SharedIndex.path())
        let search = try runProgram("/usr/bin/env", ["python3", repositoryRoot + "/examples/python/quarry_client.py", "--socket", daemon.socketPath, "search", "sanctions", "--type", "comment", "--limit", "3"])
        #expect(search.status == 0, "\(search.stderr)")
        #expect(search.stdout.split(separator: "\n").count == 4)
        #expect(search.stdout.contains("\tcomment\t"))
        let get = try runProgram("/usr/bin/env", ["python3", repositoryRoot + "/examples/python/quarry_client.py", "--socket", daemon.socketPath, "get", "world/north-korea-military-delegation-russia#2"])
        #expect(get.status == 0)
        #expect(get.stdout.contains("Golova Hvosta"))
        let bad = try runProgram("/usr/bin/env", ["python3", repositoryRoot + "/examples/python/quarry_client.py", "--socket", daemon.socketPath, "search", "foo AND"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("foo AND"))
        daemon.stop()
    }
}

/// systemd socket activation, done the way systemd does it: the socket is bound
/// by someone else and handed over as fd 3 with LISTEN_FDS/LISTEN_PID.
@Suite struct SocketActivationTests {
    @Test func theDaemonServesASocketItIsHanded() throws {
        let directory = try shortTemporaryDirectory()
        let socketPath = directory + "/activated.sock"
        // Python plays systemd: bind, listen, put the socket at fd 3, exec the daemon
        // with LISTEN_PID set to its own pid (exec keeps the pid).
        let launcher = """
            import os, socket, sys
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
            os.dup2(s.fileno(), 3)
            os.set_inheritable(3, True)
            env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
            os.execve(sys.argv[2], [sys.argv[2], "serve", "--index", sys.argv[3], "--log-level", "info"], env)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", launcher, socketPath, try Binaries.path("quarry"), try SharedIndex.path()]
        let err = Pipe()
        process.standardError = err
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        // Wait for the daemon's "serving" line: the signal that it adopted the socket.
        var log = ""
        while !log.contains("serving") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        #expect(log.contains("systemd"), "\(log)")
        let connection = try RawConnection(path: socketPath)
        try connection.send(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"# + "\n")
        #expect(try connection.readReply()?["result"] != nil)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // The socket belongs to systemd: the daemon leaves it in place.
        #expect(FileManager.default.fileExists(atPath: socketPath))
    }
}

/// Runs each job it is given after a delay, on a queue of its own: a process too
/// busy to get to its tasks at once, for races that only a slow client meets.
final class LateExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: immutable after init; DispatchQueue is thread-safe.
    private let queue = DispatchQueue(label: "late-executor")
    private let delay: DispatchTimeInterval

    init(milliseconds: Int) { delay = .milliseconds(milliseconds) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.asyncAfter(deadline: .now() + delay) { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
