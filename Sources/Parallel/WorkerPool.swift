import Foundation
import Synchronization

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
            let thread = Thread { [state] in state.workerLoop() }
            thread.name = "WorkerPool-\(worker)"
            thread.start()
        }
    }

    /// Workers hold the shared state, not the pool, so they finish safely after the pool is gone.
    deinit { state.shutDown() }

    /// Runs `body(i)` for every i in 0..<count, spread over the pool, and returns when all are done.
    /// `body` runs on several threads at once: each index must touch only state of its own.
    public func forEach(_ count: Int, _ body: (Int) -> Void) {
        state.forEach(count, body)
    }
}

private final class PoolState: @unchecked Sendable {
    let threadCount: Int
    private let condition = NSCondition()
    /// Bumped once per `forEach`; a worker runs a job when it sees a generation it has not run.
    private let generation = Atomic<Int>(0)
    private let unfinishedWorkers = Atomic<Int>(0)
    private let nextIndex = Atomic<Int>(0)
    private let isShuttingDown = Atomic<Bool>(false)
    /// The loop being run; written only while no worker is running a job.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    nonisolated(unsafe) private var jobCount = 0

    /// How long a worker spins for the next job before it sleeps: consecutive short loops (one
    /// environment step each) come faster than a sleeping thread can be woken.
    private static let spinIterations = 20_000

    init(threadCount: Int) {
        self.threadCount = threadCount
    }

    func forEach(_ count: Int, _ body: (Int) -> Void) {
        guard threadCount > 1, count > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            jobCount = count
            nextIndex.store(0, ordering: .relaxed)
            unfinishedWorkers.store(threadCount - 1, ordering: .relaxed)
            publishGeneration()
            claimAndRun(count, body)
            while unfinishedWorkers.load(ordering: .acquiring) > 0 {}
            job = nil
        }
    }

    func shutDown() {
        isShuttingDown.store(true, ordering: .releasing)
        publishGeneration()
    }

    func workerLoop() {
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            if isShuttingDown.load(ordering: .acquiring) { return }
            if let job { claimAndRun(jobCount, job) }
            unfinishedWorkers.subtract(1, ordering: .releasing)
        }
    }

    private func publishGeneration() {
        condition.lock()
        generation.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }

    private func claimAndRun(_ count: Int, _ body: (Int) -> Void) {
        while true {
            let index = nextIndex.add(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            body(index)
        }
    }

    private func waitForGeneration(after seen: Int) -> Int {
        for _ in 0..<Self.spinIterations {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
        }
        condition.lock()
        defer { condition.unlock() }
        while generation.load(ordering: .acquiring) == seen { condition.wait() }
        return generation.load(ordering: .acquiring)
    }
}
