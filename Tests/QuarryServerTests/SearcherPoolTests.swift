import Foundation
import Logging
import QuarryCore
@testable import QuarryServer
import Synchronization
import Testing

/// Which searcher thread runs a request decides whose caches it finds warm;
/// these tests hold the pool to its choice (docs/PERFORMANCE.md, twelfth session).
@Suite struct SearcherPoolTests {
    /// A pool over an index that does not exist: every job still runs, handed
    /// the reason the index cannot be opened, which is all these tests need.
    private func pool(threads: Int, poll: Duration) -> SearcherPool {
        SearcherPool(
            indexPath: FileManager.default.temporaryDirectory.path + "/no-index-" + UUID().uuidString,
            threads: threads, limits: SearchLimits(), maxQueued: 64, poll: poll,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Runs one job and returns the name of the thread that ran it.
    private func threadName(of pool: SearcherPool) async -> String {
        await withCheckedContinuation { continuation in
            pool.submit({ _ in continuation.resume(returning: currentThreadName()) },
                        refused: { error in continuation.resume(returning: "refused: \(error.message)") })
        }
    }

    @Test(arguments: [Duration.zero, .microseconds(300)])
    func requestsOneAtATimeStayOnOneThread(poll: Duration) async {
        let pool = pool(threads: 4, poll: poll)
        pool.start()
        defer { pool.shutdown() }
        var counts: [String: Int] = [:]
        for _ in 0..<100 {
            // As a daemon's client, whose next request takes a round trip through
            // the socket: the thread that answered is back among the idle ones.
            while pool.idleThreads < 4 { await Task.yield() }
            counts[await threadName(of: pool), default: 0] += 1
        }
        // Spread out, as by one shared queue, all four would run some.
        #expect(counts.count == 1, "spread over the threads: \(counts)")
        #expect(counts.keys.allSatisfy { $0.hasPrefix("searcher-") }, "thread names: \(counts.keys)")
    }

    @Test(arguments: [Duration.zero, .microseconds(300)])
    func requestsAtOnceRunOnSeveralThreads(poll: Duration) async {
        let pool = pool(threads: 3, poll: poll)
        pool.start()
        defer { pool.shutdown() }
        // Each job waits for all three to have started: they finish only if
        // three threads run them at once.
        let barrier = Barrier(parties: 3)
        let names = await withTaskGroup(of: String.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        pool.submit({ _ in
                            let all = barrier.arriveAndWait(seconds: 30)
                            continuation.resume(returning: all ? currentThreadName() : "alone")
                        }, refused: { error in continuation.resume(returning: "refused: \(error.message)") })
                    }
                }
            }
            return await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(names.count == 3 && !names.contains("alone"), "\(names)")
    }

    @Test func queuedJobsFinishBeforeShutdownReturnsAndLaterOnesAreRefused() async {
        let pool = pool(threads: 1, poll: .zero)
        pool.start()
        let ran = Counter()
        for _ in 0..<20 {
            pool.submit({ _ in
                Thread.sleep(forTimeInterval: 0.001)
                ran.value.add(1, ordering: .relaxed)
            }, refused: { _ in })
        }
        pool.shutdown()
        #expect(ran.value.load(ordering: .relaxed) == 20)
        let refusal = await threadName(of: pool)
        #expect(refusal == "refused: the daemon is shutting down")
    }
}

private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// Lets `parties` threads through once all of them have arrived.
private final class Barrier: @unchecked Sendable {
    // @unchecked: `arrived` is only touched under `condition`.
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0

    init(parties: Int) { self.parties = parties }

    /// Whether every party arrived within `seconds`.
    func arriveAndWait(seconds: TimeInterval) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: seconds)
        while arrived < parties {
            if !condition.wait(until: deadline) { return arrived >= parties }
        }
        return true
    }
}

/// The calling thread's name as the kernel has it (what `top -H` shows).
private func currentThreadName() -> String {
    let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
    return name.trimmingCharacters(in: .newlines)
}
