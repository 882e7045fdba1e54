import Foundation
import Synchronization

/// A fixed pool of threads that runs one data-parallel loop at a time, EnvPool-style: the calling
/// thread takes the first share of the work and waits for the others.
///
/// Work is split into contiguous, equal shares in index order, so which thread runs an index never
/// changes what that index computes: results do not depend on the number of threads.
public final class WorkerPool: @unchecked Sendable {
    /// Threads that run work, the calling thread included.
    public let threadCount: Int

    private let condition = NSCondition()
    /// Bumped once per `forEach`; workers compare it with the last generation they ran.
    private let generation = Atomic<Int>(0)
    private let unfinishedWorkers = Atomic<Int>(0)
    private let isShuttingDown = Atomic<Bool>(false)
    /// The loop being run; only read by workers between a generation bump and their completion.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    nonisolated(unsafe) private var jobCount = 0

    /// How long a worker spins for the next job before it sleeps; short loops (one environment step
    /// per job) come back faster than a sleeping thread can be woken.
    private static let spinIterations = 20_000

    /// A pool of `threads` threads (at least 1); the default is one per core.
    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        threadCount = max(1, threads)
        for worker in 1..<threadCount {
            let thread = Thread { [unowned self] in self.workerLoop(worker) }
            thread.name = "WorkerPool-\(worker)"
            thread.start()
        }
    }

    deinit {
        isShuttingDown.store(true, ordering: .releasing)
        condition.lock()
        generation.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body(i)` for every i in 0..<count, spread over the pool, and returns when all are done.
    public func forEach(_ count: Int, _ body: (Int) -> Void) {
        guard threadCount > 1, count > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            jobCount = count
            unfinishedWorkers.store(threadCount - 1, ordering: .relaxed)
            condition.lock()
            generation.add(1, ordering: .releasing)
            condition.broadcast()
            condition.unlock()

            runShare(0, of: count, body)
            while unfinishedWorkers.load(ordering: .acquiring) > 0 {}
            job = nil
        }
    }

    private func runShare(_ worker: Int, of count: Int, _ body: (Int) -> Void) {
        let start = count * worker / threadCount
        let end = count * (worker + 1) / threadCount
        for index in start..<end { body(index) }
    }

    private func workerLoop(_ worker: Int) {
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            if isShuttingDown.load(ordering: .acquiring) { return }
            if let job { runShare(worker, of: jobCount, job) }
            unfinishedWorkers.subtract(1, ordering: .releasing)
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
