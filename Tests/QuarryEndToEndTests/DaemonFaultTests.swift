import Foundation
import QuarryClient
import QuarryProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 8's faults for the daemon: killed mid-request, its index removed or
/// replaced, out of file descriptors, a client that never reads. Each ends in
/// a clear error for the client concerned and a daemon that goes on serving.
@Suite(.serialized)
struct DaemonFaultTests {
    func errorCode(_ reply: [String: Any]?) -> Int? {
        (reply?["error"] as? [String: Any])?["code"] as? Int
    }

    func errorMessage(_ reply: [String: Any]?) -> String {
        ((reply?["error"] as? [String: Any])?["message"] as? String) ?? ""
    }

    /// The daemon's resident memory in KiB, from /proc.
    static func residentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    }

    /// User plus system CPU seconds the process has used, from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    // MARK: killed mid-request

    @Test(.timeLimit(.scaledMinutes(2)))
    func aDaemonKilledMidRequestGivesCleanConnectionErrorsAndARestartServesTheSameIndex() async throws {
        let index = try SharedIndex.path()
        let daemon = try Daemon(index: index)
        let client = try await QuarryClient.connect(socketPath: daemon.socketPath)
        let request = SearchRequest(query: "the OR a OR sanctions OR climate", limit: 50, facets: [.author, .type], checkAtLeast: 10_000)
        let before = try await client.search(request)

        let pid = daemon.process.processIdentifier
        // Another connection queues 300 searches first: the daemon is busy with them
        // when the client's calls arrive, so those are in flight when it dies.
        let busy = try RawConnection(path: daemon.socketPath)
        let line = #"{"jsonrpc":"2.0","id":1,"method":"search","params":{"query":"the OR a OR sanctions OR climate","limit":50,"facets":["author","type"]}}"#
        try busy.send(String(repeating: line + "\n", count: 300))
        let outcomes = await withTaskGroup(of: Result<SearchResponse, QuarryClientError>.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    do throws(QuarryClientError) { return .success(try await client.search(request)) } catch { return .failure(error) }
                }
            }
            // Kill once the first queued answer shows the daemon is working through them.
            _ = try? busy.readLine()
            kill(pid, SIGKILL)
            var outcomes: [Result<SearchResponse, QuarryClientError>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(daemon.stop() == SIGKILL)
        var answered = 0
        var broken = 0
        for outcome in outcomes {
            switch outcome {
            case .success(let page): answered += 1; #expect(page.hits == before.hits)
            case .failure(.connection(let message)): broken += 1; #expect(!message.isEmpty)
            case .failure(let other): Issue.record("expected a connection error, got \(other)")
            }
        }
        print("kill -9 with 300 + 200 searches in flight: of the client's 200, \(answered) answered, \(broken) got a connection error")
        #expect(broken > 0, "every request finished before the kill")
        // The same client fails fast afterwards, with the same kind of error.
        do {
            _ = try await client.ping()
            Issue.record("a call on a dead connection succeeded")
        } catch {
            guard case .connection = error else { Issue.record("expected a connection error, got \(error)"); return }
        }
        await client.close()

        // The stale socket is replaced and the same index serves the same answer.
        let restarted = try Daemon(index: index, socketPath: daemon.socketPath)
        let again = try await QuarryClient.connect(socketPath: restarted.socketPath)
        let after = try await again.search(request)
        #expect(after.hits == before.hits && after.total == before.total && after.revision == before.revision)
        await again.close()
        #expect(restarted.stop() == 0)
    }

    // MARK: index removed or replaced

    @Test(.timeLimit(.scaledMinutes(2)))
    func anIndexRemovedOrReplacedUnderTheDaemonGivesIndexUnavailableAndIsFollowedWhenItReturns() throws {
        let directory = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = directory + "/index"
        _ = try succeed("quarry", "index", sampleCorpus, "--index", index, "--quiet")
        // Another, smaller index built elsewhere: only Corpus/world.
        let smallCorpus = directory + "/small"
        try FileManager.default.createDirectory(atPath: smallCorpus, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sampleCorpus + "/world", toPath: smallCorpus + "/world")
        let other = directory + "/other"
        _ = try succeed("quarry", "index", smallCorpus, "--index", other, "--quiet")
        let small = try succeed("quarry", "stats", "--index", other, "--json").decode(IndexStats.self)

        let daemon = try Daemon(index: index)
        let connection = try RawConnection(path: daemon.socketPath)
        /// Asks several times, so that every searcher thread answers at least once.
        func statsReplies() throws -> [[String: Any]] {
            var batch = ""
            for number in 0..<8 { batch += #"{"jsonrpc":"2.0","id":\#(number),"method":"stats"}"# + "\n" }
            try connection.send(batch)
            return try (0..<8).map { _ in try #require(try connection.readReply()) }
        }
        func counts(_ reply: [String: Any]) -> [Int] {
            let index = (reply["result"] as? [String: Any])?["index"] as? [String: Any]
            return ["articles", "comments", "documents"].map { index?[$0] as? Int ?? -1 }
        }
        #expect(try statsReplies().allSatisfy { counts($0) == [58, 380, 438] })

        // Removed: a clear -32002 naming the index, every time.
        try FileManager.default.moveItem(atPath: index, toPath: index + ".away")
        for reply in try statsReplies() {
            #expect(errorCode(reply) == -32002)
            #expect(errorMessage(reply).contains("no index at '\(index)'"), "\(reply)")
        }
        // Replaced by another index at the same revision: every thread reads the new one, whole.
        try FileManager.default.moveItem(atPath: other, toPath: index)
        #expect(try statsReplies().allSatisfy { counts($0) == [small.articles, small.comments, small.documents] })
        // Removed again, then the original returns.
        try FileManager.default.removeItem(atPath: index)
        #expect(try statsReplies().allSatisfy { errorCode($0) == -32002 })
        try FileManager.default.moveItem(atPath: index + ".away", toPath: index)
        #expect(try statsReplies().allSatisfy { counts($0) == [58, 380, 438] })
        let search = #"{"jsonrpc":"2.0","id":"s","method":"search","params":{"query":"diplomacy","limit":1}}"#
        try connection.send(search + "\n")
        #expect(try connection.readReply()?["result"] != nil)
        try daemon.waitForLog("the index was removed or replaced")
        #expect(daemon.stop() == 0)
    }

    // MARK: file descriptors

    /// Sets the running daemon's soft open-file limit with prlimit(1); the hard
    /// limit stays, so that the soft one can be raised again.
    static func setOpenFileLimit(_ pid: Int32, _ limit: Int) throws {
        let result = try runProgram("/usr/bin/prlimit", ["--pid", String(pid), "--nofile=\(limit):"])
        guard result.status == 0 else { throw TestFailure(description: "prlimit failed: \(result.stderr)") }
    }

    @Test(.timeLimit(.scaledMinutes(2)))
    func outOfFileDescriptorsNewConnectionsAreRefusedWithALogLineAndOpenOnesAreServed() throws {
        let daemon = try Daemon(index: try SharedIndex.path(), arguments: ["--threads", "2"])
        do {
            try runOutOfFileDescriptors(daemon)
        } catch {
            // Two CI runs lost a connection here (a broken pipe) in under a second; the
            // daemon's own account is what tells why.
            throw TestFailure(description: "\(error)\nthe daemon's log:\n\(daemon.log)")
        }
    }

    private func runOutOfFileDescriptors(_ daemon: Daemon) throws {
        let pid = daemon.process.processIdentifier
        // Both searcher threads open the index first.
        let warm = try RawConnection(path: daemon.socketPath)
        var batch = ""
        for number in 0..<8 { batch += #"{"jsonrpc":"2.0","id":\#(number),"method":"search","params":{"query":"diplomacy"}}"# + "\n" }
        try warm.send(batch)
        for _ in 0..<8 { #expect(try warm.readReply()?["result"] != nil) }

        try Self.setOpenFileLimit(pid, 64)
        var open: [RawConnection] = [warm]
        var refusal: [String: Any]?
        while open.count < 64 {
            let connection = try RawConnection(path: daemon.socketPath)
            // A refused connection is answered and closed at once: the send may meet a closed socket.
            try? connection.send(#"{"jsonrpc":"2.0","id":"p","method":"ping"}"# + "\n")
            let reply = try connection.readReply()
            if reply?["result"] == nil {
                refusal = reply
                // The daemon closes a refused connection: wait for that, so its descriptor is free again.
                #expect(try connection.readLine() == nil)
                break
            }
            open.append(connection)
        }
        #expect(errorCode(refusal) == -32004, "no refusal after \(open.count) connections: \(String(describing: refusal))")
        #expect(open.count > 8 && open.count < 64)
        try daemon.waitForLog("refused a connection: the open-file limit leaves room for no more")
        // Every open connection is still served.
        for connection in open {
            try connection.send(#"{"jsonrpc":"2.0","id":"s","method":"search","params":{"query":"sanctions","limit":3}}"# + "\n")
            #expect(try connection.readReply()?["result"] != nil)
        }
        print("open-file limit 64: \(open.count) connections served, the next refused with -32004")

        // No descriptor left at all: accept itself fails (EMFILE). The daemon logs it,
        // keeps serving, does not spin, and takes the waiting client once there is room.
        // The limit bounds descriptor numbers, and a new descriptor takes the lowest free
        // one: the limit is that number, not the count in use, which a hole left by a
        // closed connection puts above it (accept then succeeded, the client was refused,
        // and the send below met a closed socket: seen in CI).
        let numbers = Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int($0) })
        let inUse = (0...).first { !numbers.contains($0) } ?? numbers.count
        try Self.setOpenFileLimit(pid, inUse)
        let waiting = try RawConnection(path: daemon.socketPath)
        // A descriptor that frees up even so (the test's comment below) may get this client
        // accepted and refused before its request is sent: the reply read below tells.
        try? waiting.send(#"{"jsonrpc":"2.0","id":"w","method":"ping"}"# + "\n")
        try daemon.waitForLog("cannot accept new connections")
        #expect(daemon.log.contains("open-file-limit=\(inUse)"))
        let cpuBefore = Self.cpuSeconds(pid)
        let start = ContinuousClock.now
        for connection in open.prefix(4) {
            try connection.send(#"{"jsonrpc":"2.0","id":"s","method":"search","params":{"query":"climate","limit":3}}"# + "\n")
            let reply = try connection.readReply()
            #expect(reply?["result"] != nil, "\(String(describing: reply))")
        }
        // Let a few accept back-offs (one a second) pass, measuring what they cost. If a
        // descriptor frees up meanwhile, the waiting client is accepted and, being over
        // the budget, refused with -32004: also a clean answer.
        var early: String?
        do { early = try waiting.readLine(timeout: 2500) } catch { early = nil }
        let cpu = Self.cpuSeconds(pid) - cpuBefore
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        print(String(format: "out of descriptors for %.1f s: the daemon used %.2f s of CPU", elapsed, cpu))
        // A daemon retrying accept in a loop uses most of a core (1.7-2.5 s of CPU in 2.5 s, seen
        // before the fix); one that pauses uses next to nothing beyond the four searches. Judged
        // when the shortage lasted the whole wait, not when a descriptor freed up early.
        if early == nil {
            #expect(cpu < elapsed / 2, "the daemon spun while it could not accept: \(cpu) s of CPU in \(elapsed) s")
        }
        #expect(daemon.process.isRunning)
        try Self.setOpenFileLimit(pid, 1024)
        if let early {
            #expect(early.contains("-32004"), "\(early)")
            let fresh = try RawConnection(path: daemon.socketPath)
            try fresh.send(#"{"jsonrpc":"2.0","id":"f","method":"ping"}"# + "\n")
            #expect(try fresh.readReply()?["result"] != nil)
        } else {
            let late = try waiting.readReply()
            #expect(late?["result"] != nil, "\(String(describing: late))\n\(daemon.log)")
        }
        #expect(daemon.stop() == 0)
    }

    // MARK: a client that never reads

    @Test(.timeLimit(.scaledMinutes(2)))
    func aClientThatNeverReadsIsDroppedWithBoundedMemoryAndOthersAreServed() throws {
        let daemon = try Daemon(index: try SharedIndex.path(), arguments: ["--max-in-flight", "16"])
        let pid = daemon.process.processIdentifier
        let startRSS = Self.residentKiB(pid) ?? 0
        let greedy = try RawConnection(path: daemon.socketPath)
        // A send that blocks means the daemon stopped reading: give up after 5 s rather than hang.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(greedy.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Large replies (100 hits with snippets and facets), never read.
        let request = #"{"jsonrpc":"2.0","id":1,"method":"search","params":{"query":"the OR a","limit":100,"facets":["author","type"]}}"# + "\n"
        var sent = 0
        var peakRSS = startRSS
        do {
            while sent < 100_000 {
                try greedy.send(String(repeating: request, count: 100))
                sent += 100
                peakRSS = max(peakRSS, Self.residentKiB(pid) ?? 0)
            }
        } catch {
            // The daemon closed the connection (EPIPE/ECONNRESET) or stopped reading (the 5 s timeout).
        }
        try daemon.waitForLog("client is not reading its replies; dropping the connection")
        peakRSS = max(peakRSS, Self.residentKiB(pid) ?? 0)
        print("a client sent \(sent) requests without reading: dropped; daemon RSS \(startRSS) KiB at start, \(peakRSS) KiB at most")
        #expect(sent < 100_000)
        #expect(peakRSS < 1 << 20, "the daemon grew past 1 GiB")

        // Everyone else is fine.
        let other = try RawConnection(path: daemon.socketPath)
        try other.send(#"{"jsonrpc":"2.0","id":"x","method":"search","params":{"query":"diplomacy","limit":3}}"# + "\n")
        #expect(try other.readReply()?["result"] != nil)
        #expect(daemon.stop() == 0)
    }
}
