import Foundation
import QuarryClient
import QuarryProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Sharded indexes, remote shards behind `xapian-tcpsrv`, and replicas kept by
/// `xapian-replicate`: Xapian's own distributed machinery, driven by Quarry.
@Suite(.serialized)
struct ShardTests {
    static let tcpsrv = "/usr/bin/xapian-tcpsrv"
    static let replicate = "/usr/bin/xapian-replicate"
    static let replicateServer = "/usr/bin/xapian-replicate-server"

    /// Ids in rank order for a query, through the CLI.
    static func ranking(_ query: String, index: String) throws -> [String] {
        try hits(query, index: index).map(\.id)
    }

    static func hits(_ query: String, index: String) throws -> [SearchHit] {
        let result = try quarry(["search", query, "--index", index, "--json", "--limit", "30"])
        guard result.status == 0 else { throw TestFailure(description: "search '\(query)' failed: \(result.stderr)") }
        return try JSONDecoder().decode(SearchResponse.self, from: Data(result.stdout.utf8)).hits
    }

    /// The same scores in the same order, and the same documents at each score,
    /// in whatever order: one database orders ties by its own document numbers.
    /// The page may cut the last run of equal scores anywhere, so that run is
    /// only compared by length.
    static func sameRanking(_ a: [SearchHit], _ b: [SearchHit]) -> Bool {
        // A wildcard's weights differ between one database and shards (its expansion
        // is weighed per database), but its order does not.
        if a.map(\.id) == b.map(\.id) { return true }
        // Weights summed over shards may differ from one database's in the last bits.
        func close(_ x: Double, _ y: Double) -> Bool { abs(x - y) <= 1e-9 * max(1, abs(x)) }
        guard a.count == b.count, zip(a, b).allSatisfy({ close($0.score, $1.score) }) else { return false }
        var start = 0
        while start < a.count {
            var end = start
            while end < a.count && close(a[end].score, a[start].score) { end += 1 }
            if end < a.count && Set(a[start..<end].map(\.id)) != Set(b[start..<end].map(\.id)) { return false }
            start = end
        }
        return true
    }

    /// A port nobody listens on now, on loopback.
    static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure(description: "cannot find a free port") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// `xapian-tcpsrv` serving one shard on loopback, ready when it says it listens.
    static func serve(_ shard: String, port: UInt16) throws -> ObservedProcess {
        // stdbuf: the server's "Listening..." would otherwise wait in a full stdout buffer.
        let server = try ObservedProcess("/usr/bin/stdbuf", ["-o0", tcpsrv, "--port", "\(port)", "--interface", "127.0.0.1", shard],
                                         watchingStdout: true)
        try server.waitForLog("Listening")
        return server
    }

    /// Stops a server and the children it forked per connection (it ignores SIGTERM).
    static func halt(_ server: ObservedProcess) throws {
        _ = try runProgram("/usr/bin/pkill", ["-KILL", "-P", "\(server.process.processIdentifier)"])
        server.stop(SIGKILL)
    }

    @Test func fourShardsAnswerFiftyQueriesExactlyLikeOneIndex() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus"
        _ = try succeed("quarry-bench", "generate", "--articles", "400", "--seed", "7", "--out", corpus)
        let one = directory.path + "/one"
        let four = directory.path + "/four"
        _ = try succeed("quarry", "index", corpus, "--index", one, "--quiet")
        _ = try succeed("quarry", "index", corpus, "--index", four, "--shards", "4", "--quiet")
        #expect(FileManager.default.fileExists(atPath: four + "/XAPIANDB"))
        // Written on two threads, then merged into one compact database behind the stub.
        let merged = directory.path + "/merged"
        _ = try succeed("quarry", "index", corpus, "--index", merged, "--shards", "2", "--merge", "--quiet")
        let stub = try String(contentsOfFile: merged + "/XAPIANDB", encoding: .utf8)
        #expect(stub.hasPrefix("auto merged-") && stub.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: merged + "/shard-00"))

        // Fifty queries of every kind, built from words the corpus really holds.
        let files = textFiles(under: corpus)
        let sample = try PlainArticle(path: corpus + "/" + files[0])
        var unique: [String] = []
        for file in files.prefix(10) {
            let text = try String(contentsOfFile: corpus + "/" + file, encoding: .utf8).lowercased()
            for word in text.split(whereSeparator: { !$0.isLetter }).map(String.init) where word.count > 3 && !unique.contains(word) {
                unique.append(word)
            }
        }
        try #require(unique.count >= 21)
        var queries: [String] = []
        for (index, word) in unique.prefix(20).enumerated() {
            queries.append(word)
            queries.append("\(word) OR \(unique[(index + 1) % unique.count])")
        }
        queries += ["type:comment \(unique[0])", "\(unique[1])*", "\"\(unique[0]) \(unique[1])\"", "accounts:2..",
                    "copies:3..", "type:article", "\(unique[2]) NOT \(unique[3])", "by:\"\(sample.comments.first?.author ?? "nobody")\"",
                    "title:\(unique[0])", "\(unique[4]) NEAR \(unique[5])"]
        #expect(queries.count == 50)
        var nonEmpty = 0
        for query in queries {
            let expected = try Self.hits(query, index: one)
            #expect(Self.sameRanking(try Self.hits(query, index: four), expected), "'\(query)' ranks differently on 4 shards")
            #expect(Self.sameRanking(try Self.hits(query, index: merged), expected), "'\(query)' ranks differently once merged")
            if !expected.isEmpty { nonEmpty += 1 }
        }
        #expect(nonEmpty >= 40)

        // Incremental runs, deletes and check work across shards too.
        try FileManager.default.removeItem(atPath: corpus + "/" + files[3])
        try FileManager.default.removeItem(atPath: corpus + "/" + files[7])
        for index in [one, four, merged] { _ = try succeed("quarry", "index", corpus, "--index", index, "--quiet") }
        let statsOne = try succeed("quarry", "stats", "--index", one, "--json").decode(IndexStats.self)
        let statsFour = try succeed("quarry", "stats", "--index", four, "--json").decode(IndexStats.self)
        #expect(statsFour.articles == 398 && statsOne.articles == 398)
        #expect(statsFour.comments == statsOne.comments && statsFour.files == statsOne.files)
        #expect(statsFour.shards?.count == 4)
        #expect(Self.sameRanking(try Self.hits(unique[0], index: four), try Self.hits(unique[0], index: one)))
        #expect(try quarry(["check", "--index", four, "--corpus", corpus]).status == 0)
        let statsMerged = try succeed("quarry", "stats", "--index", merged, "--json").decode(IndexStats.self)
        #expect(statsMerged.articles == 398 && statsMerged.comments == statsOne.comments && statsMerged.files == statsOne.files)
        #expect(Self.sameRanking(try Self.hits(unique[0], index: merged), try Self.hits(unique[0], index: one)))
        #expect(try quarry(["check", "--index", merged, "--corpus", corpus]).status == 0)
        // A sharded index keeps its shard count.
        #expect(try quarry(["index", corpus, "--index", four, "--shards", "2"]).status != 0)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: tcpsrv), "needs xapian-tools (make test installs it)"))
    func remoteShardsThroughTheDaemonSurviveAServerGoingDown() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let local = directory.path + "/local"
        _ = try succeed("quarry", "index", sampleCorpus, "--index", local, "--shards", "2", "--quiet")
        let ports = [try Self.freePort(), try Self.freePort()]
        var servers = [try Self.serve(local + "/shard-00", port: ports[0]), try Self.serve(local + "/shard-01", port: ports[1])]
        let remote = directory.path + "/remote"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        try ports.map { "remote 127.0.0.1:\($0)\n" }.joined().write(toFile: remote + "/XAPIANDB", atomically: true, encoding: .utf8)

        let daemon = try Daemon(index: remote)
        let client = try await QuarryClient.connect(socketPath: daemon.socketPath)
        let expected = try Self.ranking("diplomacy", index: local)
        #expect(try await client.search(SearchRequest(query: "diplomacy", limit: 30)).hits.map(\.id) == expected)
        // What the remote protocol cannot do is said, not crashed on.
        let misspelt = try await client.search(SearchRequest(query: "diplomcy"))
        #expect(misspelt.suggestion == nil && misspelt.notice?.contains("remote") == true)

        // One server stops: a clear error naming it, and stats says which shard is down.
        try Self.halt(servers[1])
        do {
            _ = try await client.search(SearchRequest(query: "diplomacy"))
            Issue.record("a search with a shard down should fail")
        } catch {
            guard case .rpc(let rpc) = error else { throw error }
            #expect(rpc.code == RPCError.indexUnavailable)
            #expect(rpc.data?.reason == "shard-unavailable")
            #expect(rpc.message.contains("127.0.0.1:\(ports[1])"), "\(rpc.message)")
        }
        let stats = try await client.stats()
        #expect(stats.index.shards?.map(\.reachable) == [true, false])

        // It comes back: so do the answers.
        servers[1] = try Self.serve(local + "/shard-01", port: ports[1])
        #expect(try await client.search(SearchRequest(query: "diplomacy", limit: 30)).hits.map(\.id) == expected)
        await client.close()
        #expect(daemon.stop() == 0)
        for server in servers { try Self.halt(server) }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: replicate), "needs xapian-tools (make test installs it)"))
    func aDaemonOnAReplicaFollowsEachReplication() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.path + "/corpus"
        try FileManager.default.copyItem(atPath: sampleCorpus, toPath: corpus)
        let master = directory.path + "/master"
        _ = try succeed("quarry", "index", corpus, "--index", master + "/news", "--quiet")
        let port = try Self.freePort()
        let server = try ObservedProcess(Self.replicateServer, ["--port", "\(port)", "--interface", "127.0.0.1", master], watchingStdout: true)
        defer { try? Self.halt(server) }
        let replica = directory.path + "/replica"
        func replicateOnce() throws {
            let result = try runProgram(Self.replicate, ["-h", "127.0.0.1", "-p", "\(port)", "-m", "news", "-o", replica])
            #expect(result.status == 0, "\(result.stderr)")
        }
        // xapian-replicate-server announces nothing when it listens: the first
        // successful replication is the readiness signal, retried (bounded) while it starts.
        var replicated = false
        for _ in 0..<50 where !replicated {
            replicated = (try? runProgram(Self.replicate, ["-h", "127.0.0.1", "-p", "\(port)", "-m", "news", "-o", replica]))?.status == 0
            if !replicated { server.waitForOutput(milliseconds: 100) }
        }
        #expect(replicated)

        let daemon = try Daemon(index: replica)
        let client = try await QuarryClient.connect(socketPath: daemon.socketPath)
        #expect(try await client.search(SearchRequest(query: "kakapoarrival")).total == 0)

        try "Kakapo arrival\nA kakapoarrival at the zoo.\n0 Comments\n".write(toFile: corpus + "/local/kakapo.txt", atomically: true, encoding: .utf8)
        _ = try succeed("quarry", "index", corpus, "--index", master + "/news", "--quiet")
        try replicateOnce()
        // The replica switched to a new copy (a rewritten stub): the daemon follows on its next request.
        let found = try await client.search(SearchRequest(query: "kakapoarrival")).total
        #expect(found == 1)
        #expect(try await client.stats().index.articles == 59)
        await client.close()
        daemon.stop()
    }
}
