import Foundation
import NumericKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed pool of threads that runs one data-parallel loop at a time, EnvPool-style: the calling
/// thread takes the first share of the work and waits for the others.
///
/// Threads take the next unclaimed index until none is left, so a slow index (an episode with many
/// contacts) does not hold the others up. Which thread runs an index never changes what that index
/// computes, so results do not depend on the number of threads.
public final class WorkerPool: @unchecked Sendable {
    /// Threads that run work, the calling thread included.
    public var threadCount: Int { state.threadCount }

    private let state: PoolState

    /// A pool of `threads` threads (at least 1); the default is one per core.
    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        state = PoolState(threadCount: max(1, threads))
        for worker in 1..<state.threadCount {
            let thread = Thread { [state] in state.workerLoop(thread: worker) }
            thread.name = "WorkerPool-\(worker)"
            thread.start()
        }
    }

    /// Workers hold the shared state, not the pool, so they finish safely after the pool is gone.
    deinit { state.shutDown() }

    /// Runs `body(i)` for every i in 0..<count, spread over the pool, and returns when all are done.
    /// `body` runs on several threads at once: each index must touch only state of its own.
    public func forEach(_ count: Int, _ body: (Int) -> Void) {
        state.forEach(count) { index, _ in body(index) }
    }

    /// `forEach`, telling `body` which thread runs index i as well: `body(i, thread)` with thread in
    /// 0..<threadCount (0 is the calling thread), no two at once on the same thread, so that each
    /// thread can have scratch memory of its own.
    public func forEachOnThread(_ count: Int, _ body: (_ index: Int, _ thread: Int) -> Void) {
        state.forEach(count, body)
    }

    /// `forEach` on `pool` when there is one; without, every index on the calling thread in order.
    public static func forEach(_ count: Int, on pool: WorkerPool?, _ body: (Int) -> Void) {
        forEachOnThread(count, on: pool) { index, _ in body(index) }
    }

    /// `forEachOnThread` on `pool` when there is one; without, every index on the calling thread
    /// (thread 0) in order.
    public static func forEachOnThread(_ count: Int, on pool: WorkerPool?, _ body: (_ index: Int, _ thread: Int) -> Void) {
        if let pool { pool.forEachOnThread(count, body) } else { for index in 0..<count { body(index, 0) } }
    }
}

/// The caller opens a job, runs parts itself, closes the job and waits only for the workers that
/// joined it while it was open. A worker that a busy machine has not scheduled by then never holds
/// the caller up: it finds the job closed when it runs and goes back to waiting. (Waiting for every
/// worker to check in cost a scheduler time slice per loop on an oversubscribed machine: a training
/// step of about a hundred loops then took 50 times as long.)
private final class PoolState: @unchecked Sendable {
    let threadCount: Int
    /// Guards sleeping: workers wait on it for the next job, the caller for the last worker.
    private let condition = NSCondition()
    /// Bumped once per `forEach`: a worker looks for a job when it sees a generation it has not seen.
    private let generation = Atomic<Int>(0)
    /// The generation whose job workers may join, 0 once the caller has closed it. With
    /// `joinedWorkers`, read and written in sequentially consistent order: a worker counts itself in
    /// before it looks, the caller closes before it counts, so one of the two sees the other.
    private let openGeneration = Atomic<Int>(0)
    private let joinedWorkers = Atomic<Int>(0)
    private let nextIndex = Atomic<Int>(0)
    private let isShuttingDown = Atomic<Bool>(false)
    /// The loop being run; written only while no worker has joined a job.
    nonisolated(unsafe) private var job: ((Int, Int) -> Void)?
    nonisolated(unsafe) private var jobCount = 0

    init(threadCount: Int) {
        self.threadCount = threadCount
    }

    func forEach(_ count: Int, _ body: (Int, Int) -> Void) {
        guard threadCount > 1, count > 1 else {
            for index in 0..<count { body(index, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            jobCount = count
            nextIndex.store(0, ordering: .relaxed)
            openGeneration.store(generation.load(ordering: .relaxed) + 1, ordering: .sequentiallyConsistent)
            publishGeneration()
            claimAndRun(count, body, thread: 0)
            openGeneration.store(0, ordering: .sequentiallyConsistent)
            awaitJoinedWorkers()
            job = nil
        }
    }

    func shutDown() {
        isShuttingDown.store(true, ordering: .releasing)
        publishGeneration()
    }

    func workerLoop(thread: Int) {
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            if isShuttingDown.load(ordering: .acquiring) { return }
            joinedWorkers.add(1, ordering: .sequentiallyConsistent)
            if openGeneration.load(ordering: .sequentiallyConsistent) == seen, let job { claimAndRun(jobCount, job, thread: thread) }
            if joinedWorkers.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 {
                // Under the lock, so that a caller about to sleep cannot miss it.
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    private func publishGeneration() {
        condition.lock()
        generation.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }

    private func claimAndRun(_ count: Int, _ body: (Int, Int) -> Void, thread: Int) {
        while true {
            let index = nextIndex.add(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            body(index, thread)
        }
    }

    /// Until the workers that joined the job have left it (every part is claimed by then, so they
    /// are finishing theirs): spinning first, since parts are short, then yielding the core, then
    /// sleeping, so that a pool on an oversubscribed machine does not burn the time its workers need.
    private func awaitJoinedWorkers() {
        if Backoff.spin(until: { joinedWorkers.load(ordering: .sequentiallyConsistent) == 0 }) { return }
        condition.lock()
        while joinedWorkers.load(ordering: .sequentiallyConsistent) > 0 { condition.wait() }
        condition.unlock()
    }

    private func waitForGeneration(after seen: Int) -> Int {
        if Backoff.spin(until: { generation.load(ordering: .acquiring) != seen }) {
            return generation.load(ordering: .acquiring)
        }
        condition.lock()
        defer { condition.unlock() }
        while generation.load(ordering: .acquiring) == seen { condition.wait() }
        return generation.load(ordering: .acquiring)
    }
}

/// Waiting that gets cheaper for the machine the longer it lasts: a short spin (the next job of a
/// loop of environment steps comes within microseconds), each turn with the CPU's spin hint so that
/// the thread does not slow one that shares its core (on a virtual machine two vCPUs may be one core's
/// two threads), then yielding the core to any other runnable thread, after which the caller should
/// sleep.
enum Backoff {
    static let spinIterations = 2_000
    static let yields = 50

    /// True when `isDone` became true while spinning or yielding.
    static func spin(until isDone: () -> Bool) -> Bool {
        for _ in 0..<spinIterations {
            if isDone() { return true }
            nk_spin_hint()
        }
        for _ in 0..<yields {
            if isDone() { return true }
            sched_yield()
        }
        return isDone()
    }
}
