import Foundation
import Logging
import QuarryCore
import Synchronization

/// A fixed set of threads, each owning a `Searcher` (and so its own read-only
/// Xapian database), that run search jobs. Xapian calls block and Xapian objects
/// must stay on one thread, so they run here: never on an event loop or on
/// Swift's cooperative pool.
///
/// Before each job a thread brings its database to the latest commit, so a
/// document committed by an indexer is visible to the next request; if the
/// index cannot be opened (not built yet, removed) the job fails with
/// `indexNotFound` and the next job tries again.
final class SearcherPool: @unchecked Sendable {
    // @unchecked: `jobs`, `stopping` and `idle` are only touched under `condition`.
    private typealias Job = @Sendable (Result<Searcher, QuarryError>) -> Void

    let indexPath: String
    private let limits: SearchLimits
    private let maxQueued: Int
    private let logger: Logger
    /// One set for all the threads: each column is built once per revision.
    private let columns = SearchColumns()
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var head = 0
    private var stopping = false
    private var running = 0
    /// Threads polling for the next job (see `poll`) rather than asleep on `condition`.
    private var polling = 0
    /// Counts the jobs ever queued: what a polling thread watches, without the lock.
    private let queued = Atomic<Int>(0)
    private let poll: Duration
    let threadCount: Int

    /// `poll`: how long a thread that finds no job waits for one awake before
    /// it sleeps (see `next()`); zero to sleep at once.
    init(indexPath: String, threads: Int, limits: SearchLimits, maxQueued: Int, poll: Duration, logger: Logger) {
        self.indexPath = indexPath
        self.poll = poll
        self.threadCount = threads
        self.limits = limits
        self.maxQueued = maxQueued
        self.logger = logger
    }

    func start() {
        for number in 0..<threadCount {
            let thread = Thread { [self] in work() }
            thread.name = "quarry-searcher-\(number)"
            thread.start()
        }
        condition.lock()
        running = threadCount
        condition.unlock()
    }

    /// Lets queued jobs finish, then ends the threads and waits for them.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Runs `job` on a searcher thread with that thread's searcher, or with
    /// why the index could not be opened (for answers that can do without it);
    /// calls `refused` at once instead when the queue is full or the pool is stopping.
    func submit(_ job: @escaping @Sendable (Result<Searcher, QuarryError>) -> Void, refused: (QuarryError) -> Void) {
        if let refusal = enqueue(job) { refused(refusal) }
    }

    private func enqueue(_ job: @escaping Job) -> QuarryError? {
        condition.lock()
        defer { condition.unlock() }
        if stopping { return QuarryError(.unavailable, "the daemon is shutting down") }
        if jobs.count - head >= maxQueued {
            return QuarryError(.overloaded, "the daemon has \(maxQueued) requests waiting; try again shortly")
        }
        jobs.append(job)
        queued.add(1, ordering: .releasing)
        // A polling thread takes the job without being woken.
        if jobs.count - head > polling { condition.signal() }
        return nil
    }

    /// The next job, or nil once the pool stops. A thread that finds none
    /// first watches `queued` for `poll` before it sleeps: a client that sends
    /// its next request as soon as it has the answer then finds this thread
    /// awake, not waiting on a wake-up through the kernel (about 45 µs of
    /// each request at one client, docs/PERFORMANCE.md, eleventh session).
    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        var polled = poll == .zero
        while head == jobs.count && !stopping {
            if polled {
                condition.wait()
                continue
            }
            polled = true
            let seen = queued.load(ordering: .acquiring)
            polling += 1
            condition.unlock()
            let clock = ContinuousClock()
            let deadline = clock.now + poll
            while queued.load(ordering: .acquiring) == seen && clock.now < deadline {}
            condition.lock()
            polling -= 1
        }
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        // Compact now and then so the queue does not grow forever.
        if head > 1024 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    private func work() {
        var searcher: Searcher?
        while let job = next() {
            job(prepared(&searcher))
        }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// This thread's searcher at the index's latest commit, opened if need be.
    private func prepared(_ searcher: inout Searcher?) -> Result<Searcher, QuarryError> {
        if let reason = searcher?.freshOpenReason {
            // reopen() cannot follow any of these: the open handles read the old files.
            logger.notice("\(reason); opening it afresh", metadata: ["index": "\(indexPath)"])
            searcher = nil
        }
        if let current = searcher {
            do {
                try current.refresh()
                return .success(current)
            } catch where error.code == .io && error.message.contains("too many open files") {
                // Out of descriptors, checking for a new revision failed: answer from
                // the revision already open rather than not at all.
                logger.warning("cannot check the index for a new revision; answering from the open one", metadata: ["error": "\(error.message)"])
                return .success(current)
            } catch {
                // The index may have been replaced or removed: start over from the path.
                logger.warning("reopening the index failed; opening it afresh", metadata: ["error": "\(error.message)"])
                searcher = nil
            }
        }
        do {
            let opened = try Searcher(indexPath: indexPath, limits: limits, columns: columns)
            searcher = opened
            return .success(opened)
        } catch {
            return .failure(error)
        }
    }
}
