import Foundation
import Parallel
import Synchronization
import Testing

@Suite struct WorkerPoolTests {
    /// How many times `forEach(count)` ran each index.
    static func visits(_ pool: WorkerPool, count: Int) -> [Int] {
        let visits = Mutex([Int](repeating: 0, count: count))
        pool.forEach(count) { index in visits.withLock { $0[index] += 1 } }
        return visits.withLock { $0 }
    }

    @Test(arguments: 1...4)
    func everyIndexRunsExactlyOnce(_ threads: Int) {
        let pool = WorkerPool(threads: threads)
        #expect(pool.threadCount == threads)
        for count in [0, 1, 5, 1000, 2, 3, 4, 7] {
            #expect(Self.visits(pool, count: count) == Array(repeating: 1, count: count), "count \(count)")
        }
    }

    /// `forEachOnThread` names each thread by one number of its own, 0 for the caller, so that
    /// per-thread scratch is never used by two threads at once.
    @Test(arguments: 1...3)
    func eachThreadHasANumberOfItsOwn(_ threads: Int) {
        let pool = WorkerPool(threads: threads)
        let numbers = Mutex([ObjectIdentifier: Set<Int>]()), runs = Mutex([Int](repeating: 0, count: 24))
        pool.forEachOnThread(24) { index, thread in
            usleep(1_000)
            numbers.withLock { $0[ObjectIdentifier(Thread.current), default: []].insert(thread) }
            runs.withLock { $0[index] += 1 }
        }
        let byThread = numbers.withLock { $0 }
        #expect(runs.withLock { $0 } == Array(repeating: 1, count: 24))
        #expect(byThread.values.allSatisfy { $0.count == 1 }, "a thread was given two numbers: \(byThread)")
        let all = byThread.values.flatMap { $0 }
        #expect(Set(all).count == all.count, "two threads share a number: \(byThread)")
        #expect(all.allSatisfy { (0..<threads).contains($0) })
        #expect(byThread[ObjectIdentifier(Thread.current)] == [0])
    }

    @Test func atLeastOneThread() {
        #expect(WorkerPool(threads: 0).threadCount == 1)
        #expect(WorkerPool(threads: -3).threadCount == 1)
    }

    /// Slow indices are spread over every thread, the caller included: while one thread is busy
    /// with an index the others claim the next ones.
    @Test func slowWorkIsSpreadOverEveryThread() {
        let pool = WorkerPool(threads: 3)
        let runners = Mutex([ObjectIdentifier?](repeating: nil, count: 12))
        pool.forEach(12) { index in
            usleep(2_000)
            let thread = ObjectIdentifier(Thread.current)
            runners.withLock { $0[index] = thread }
        }
        let byIndex = runners.withLock { $0 }.map { $0! }
        #expect(byIndex.contains(ObjectIdentifier(Thread.current)))
        #expect(Set(byIndex).count == 3)
    }

    @Test(arguments: [(2, 10_000), (4, 1_000)])
    func poolIsReusable(_ threads: Int, _ calls: Int) {
        let pool = WorkerPool(threads: threads)
        let total = Atomic<Int>(0)
        for call in 0..<calls {
            pool.forEach(4) { index in total.add(call % 3 + index, ordering: .relaxed) }
        }
        let expected = (0..<calls).reduce(0) { $0 + 4 * ($1 % 3) } + calls * 6
        #expect(total.load(ordering: .relaxed) == expected)
    }

    /// With more busy threads than cores, workers often run late, after the caller has done every part
    /// and closed the job; each index must still run once per call and none after its call returned.
    @Test func everyIndexRunsOnceWhileTheMachineIsOversubscribed() {
        let stop = Atomic<Bool>(false)
        let busy = (0..<2 * ProcessInfo.processInfo.activeProcessorCount).map { _ in
            Thread { while !stop.load(ordering: .relaxed) {} }
        }
        busy.forEach { $0.start() }
        defer { stop.store(true, ordering: .relaxed) }
        let pool = WorkerPool(threads: 3)
        let currentCall = Atomic<Int>(0), lateRuns = Atomic<Int>(0)
        var wrong: [Int] = []
        for call in 1...3_000 {
            currentCall.store(call, ordering: .relaxed)
            let count = 2 + call % 6
            let visits = Mutex([Int](repeating: 0, count: count))
            pool.forEach(count) { index in
                if currentCall.load(ordering: .relaxed) != call { lateRuns.add(1, ordering: .relaxed) }
                visits.withLock { $0[index] += 1 }
            }
            if visits.withLock({ $0 }) != Array(repeating: 1, count: count) { wrong.append(call) }
        }
        #expect(wrong.isEmpty, "calls whose indices did not each run once: \(wrong.prefix(10))")
        #expect(lateRuns.load(ordering: .relaxed) == 0)
    }

    @Test func forEachReturnsOnlyWhenAllWorkIsDone() {
        let pool = WorkerPool(threads: 3)
        let finished = Atomic<Int>(0)
        pool.forEach(6) { index in
            if index >= 2 { usleep(2_000) }
            finished.add(1, ordering: .relaxed)
        }
        #expect(finished.load(ordering: .relaxed) == 6)
    }

    @Test func poolIsFreedWhenDropped() {
        weak var weakPool: WorkerPool?
        do {
            let pool = WorkerPool(threads: 3)
            weakPool = pool
            pool.forEach(10) { _ in }
        }
        #expect(weakPool == nil, "worker threads must not keep their pool alive")
    }

    /// Workers that start after their pool is gone must find their way out instead of touching it.
    @Test func droppingAPoolBeforeItsThreadsStartIsSafe() {
        for _ in 0..<50 { _ = WorkerPool(threads: 3) }
        let pool = WorkerPool(threads: 2)
        #expect(Self.visits(pool, count: 10) == Array(repeating: 1, count: 10))
    }
}
