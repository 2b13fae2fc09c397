import CQuarryLinux
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
    // @unchecked: `jobs`, `head`, `idle`, `stopping`, `running` and every
    // worker's `job` and `asleep` are only touched under `condition`.
    private typealias Job = @Sendable (Result<Searcher, QuarryError>) -> Void

    /// One searcher thread's mailbox: a job is handed to an idle thread
    /// directly, so the pool can choose which thread runs it.
    private final class Worker: @unchecked Sendable {
        // @unchecked: `job` and `asleep` are guarded by the pool's `condition`.
        var job: Job?
        /// Asleep on `wake` (true) rather than polling `look`.
        var asleep = false
        /// Set when there is something to look at (a job, or the pool stopping):
        /// what a polling thread watches, without the lock.
        let look = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    let indexPath: String
    private let limits: SearchLimits
    private let maxQueued: Int
    private let logger: Logger
    /// One set for all the threads: each column is built once per revision.
    private let columns = SearchColumns()
    private let condition = NSCondition()
    /// Jobs that came while every thread was busy, oldest first.
    private var jobs: [Job] = []
    private var head = 0
    /// Threads without work, the one that finished last on top.
    private var idle: [Worker] = []
    private var stopping = false
    private var running = 0
    private let poll: Duration
    let threadCount: Int

    /// `poll`: how long a thread that finds no job waits for one awake before
    /// it sleeps (see `next(for:)`); zero to sleep at once.
    init(indexPath: String, threads: Int, limits: SearchLimits, maxQueued: Int, poll: Duration, logger: Logger) {
        self.indexPath = indexPath
        self.poll = poll
        self.threadCount = threads
        self.limits = limits
        self.maxQueued = maxQueued
        self.logger = logger
    }

    /// Starts the threads; returns once each waits for work, so the first
    /// requests find them all idle.
    func start() {
        condition.lock()
        running = threadCount
        condition.unlock()
        for number in 0..<threadCount {
            Thread { [self] in
                // Foundation on Linux passes a name set before start to no one.
                cq_name_this_thread("searcher-\(number)")
                work(Worker())
            }.start()
        }
        condition.lock()
        while idle.count < threadCount && !stopping { condition.wait() }
        condition.unlock()
    }

    /// Threads waiting for work.
    var idleThreads: Int {
        condition.lock()
        defer { condition.unlock() }
        return idle.count
    }

    /// Lets queued jobs finish, then ends the threads and waits for them.
    func shutdown() {
        condition.lock()
        stopping = true
        for worker in idle {
            worker.look.store(true, ordering: .releasing)
            if worker.asleep {
                worker.asleep = false
                worker.wake.signal()
            }
        }
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Runs `job` on a searcher thread with that thread's searcher, or with
    /// why the index could not be opened (for answers that can do without it);
    /// calls `refused` at once instead when the queue is full or the pool is stopping.
    func submit(_ job: @escaping @Sendable (Result<Searcher, QuarryError>) -> Void, refused: (QuarryError) -> Void) {
        if let refusal = enqueue(job) { refused(refusal) }
    }

    /// Hands `job` to the thread that went idle last, or queues it when none is idle.
    /// Last-idle-first keeps requests that come one at a time on one thread,
    /// whose searcher and core have the index's hot blocks and columns in
    /// cache: spread over every thread, the daemon added 0.6 ms rather than
    /// 0.36 ms to a search at one client (docs/PERFORMANCE.md, twelfth session).
    private func enqueue(_ job: @escaping Job) -> QuarryError? {
        condition.lock()
        if stopping {
            condition.unlock()
            return QuarryError(.unavailable, "the daemon is shutting down")
        }
        if let worker = idle.popLast() {
            worker.job = job
            worker.look.store(true, ordering: .releasing)
            let asleep = worker.asleep
            worker.asleep = false
            condition.unlock()
            // A polling thread sees `look` and takes the job without being woken.
            if asleep { worker.wake.signal() }
            return nil
        }
        defer { condition.unlock() }
        if jobs.count - head >= maxQueued {
            return QuarryError(.overloaded, "the daemon has \(maxQueued) requests waiting; try again shortly")
        }
        jobs.append(job)
        return nil
    }

    /// The next job for `worker`'s thread, or nil once the pool stops. A
    /// thread that finds none first watches its `look` flag for `poll` before
    /// it sleeps: a client that sends its next request as soon as it has the
    /// answer then finds this thread awake, not waiting on a wake-up through
    /// the kernel (about 45 µs of each request at one client,
    /// docs/PERFORMANCE.md, eleventh session).
    private func next(for worker: Worker) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        if head < jobs.count {
            let job = jobs[head]
            head += 1
            // Compact now and then so the queue does not grow forever.
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            return job
        }
        if stopping { return nil }
        worker.look.store(false, ordering: .relaxed)
        idle.append(worker)
        if idle.count == threadCount { condition.broadcast() }  // for `start()`
        if poll > .zero {
            condition.unlock()
            let clock = ContinuousClock()
            let deadline = clock.now + poll
            while !worker.look.load(ordering: .acquiring) && clock.now < deadline {}
            condition.lock()
        }
        // Only `enqueue` hands a job (taking this thread off `idle` first) and
        // only `shutdown` stops the pool: both wake a sleeping thread.
        while worker.job == nil && !stopping {
            worker.asleep = true
            condition.unlock()
            worker.wake.wait()
            condition.lock()
        }
        defer { worker.job = nil }
        return worker.job
    }

    private func work(_ worker: Worker) {
        var searcher: Searcher?
        while let job = next(for: worker) {
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
