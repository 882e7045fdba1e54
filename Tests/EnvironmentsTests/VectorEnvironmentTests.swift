import Environments
import Parallel
import SeededRandom
import Testing

@Suite struct VectorEnvironmentTests {
    static let copies = 6, steps = 200, actionDimension = 3
    static let seeds: [UInt64] = (0..<UInt64(copies)).map { 1_000 + $0 }

    /// Everything a run produced, as bit patterns, in the order it was produced, and how many copies
    /// were reset along the way.
    struct Record: Equatable {
        var values: [UInt64] = []
        var resets = 0

        mutating func step(_ observation: some Sequence<Double>, _ outcome: StepOutcome) {
            values += TestSupport.bits(observation)
            values += [outcome.reward.bitPattern, outcome.terminated ? 1 : 0, outcome.truncated ? 1 : 0]
        }

        mutating func reset(_ observation: some Sequence<Double>) {
            values += TestSupport.bits(observation)
            resets += 1
        }
    }

    static func resetSeed(copy: Int, step: Int) -> UInt64 { UInt64(step * copies + copy) }

    /// One step's actions for every copy, row-major, uniform in [-1, 1).
    static func actions(_ generator: inout SeededGenerator) -> [Double] {
        (0..<copies * actionDimension).map { _ in generator.uniform(-1, 1) }
    }

    static func runVector(threads: Int) throws -> Record {
        let vector = try VectorEnvironment(.hopper, count: copies, threads: threads, models: TestSupport.models())
        #expect(vector.pool.threadCount == threads)
        vector.reset(seeds: seeds)
        var record = Record()
        var generator = SeededGenerator(seed: 42)
        for step in 0..<steps {
            try vector.step(actions: actions(&generator))
            for copy in 0..<copies { record.step(vector.observation(copy), vector.outcome(copy)) }
            for copy in 0..<copies where !vector.isRunning(copy) {
                vector.reset(copy: copy, seed: resetSeed(copy: copy, step: step))
                record.reset(vector.observation(copy))
            }
        }
        return record
    }

    /// The same run with separate environments stepped one after the other.
    static func runSequentially() throws -> Record {
        let environments = try (0..<copies).map { _ in try TestSupport.environment(.hopper) }
        for (environment, seed) in zip(environments, seeds) { environment.reset(seed: seed) }
        var record = Record()
        var generator = SeededGenerator(seed: 42)
        for step in 0..<steps {
            let actions = actions(&generator)
            var ended: [Int] = []
            for (copy, environment) in environments.enumerated() {
                let result = try environment.step(Array(actions[copy * actionDimension ..< (copy + 1) * actionDimension]))
                record.step(result.observation, StepOutcome(
                    reward: result.reward, terminated: result.terminated, truncated: result.truncated, info: result.info))
                if result.terminated || result.truncated { ended.append(copy) }
            }
            for copy in ended {
                record.reset(environments[copy].reset(seed: resetSeed(copy: copy, step: step)))
            }
        }
        return record
    }

    @Test func resultsDoNotDependOnTheThreadCount() throws {
        let reference = try Self.runSequentially()
        #expect(reference.resets > 0, "random actions must topple some hoppers, or resets go untested")
        for threads in 1...3 {
            let record = try Self.runVector(threads: threads)
            #expect(record.resets == reference.resets, "\(threads) threads")
            #expect(record.values == reference.values, "\(threads) threads differ from one-by-one stepping")
        }
    }

    @Test func resetFillsEveryRowAndMarksCopiesRunning() throws {
        let vector = try VectorEnvironment(.walker2d, count: 3, threads: 2, models: TestSupport.models())
        #expect(vector.count == 3 && vector.observationDimension == 17 && vector.actionDimension == 6)
        #expect(!vector.anyRunning)
        vector.reset(seeds: [5, 6, 7])
        #expect((0..<3).allSatisfy(vector.isRunning))
        let single = try TestSupport.environment(.walker2d)
        for (copy, seed) in [5, 6, 7].enumerated() {
            #expect(Array(vector.observation(copy)) == single.reset(seed: UInt64(seed)))
        }
        let rows = vector.withObservations { Array($0) }
        #expect(rows == (0..<3).flatMap { Array(vector.observation($0)) })
    }

    /// A bad row fails only its copy: the others step, and the error of the bad copy is thrown.
    @Test func badActionInOneCopyThrowsAfterTheOthersStep() throws {
        let vector = try VectorEnvironment(.hopper, count: 4, threads: 2, models: TestSupport.models())
        vector.reset(seeds: [1, 2, 3, 4])
        var actions = TestSupport.zeros(4 * 3)
        actions[2 * 3 + 1] = .nan
        let error = try #require(throws: EnvironmentError.self) { try vector.step(actions: actions) }
        guard case let .inCopy(copy, .nonFiniteAction(name, index, _)) = error else {
            Issue.record("expected nonFiniteAction in copy 2, got \(error)")
            return
        }
        #expect(copy == 2 && name == "hopper" && index == 1)
        #expect(vector.environments.map(\.elapsedSteps) == [1, 1, 0, 1])
        #expect(vector.isRunning(2), "the failed copy's episode goes on")
        #expect(error.description.hasPrefix("copy 2: hopper: action[1]"))

        actions[2 * 3 + 1] = 0
        try vector.step(actions: actions)
        #expect(vector.environments.map(\.elapsedSteps) == [2, 2, 1, 2], "the error was cleared")
    }

    @Test func copiesThatEndedAreNotStepped() throws {
        let vector = try VectorEnvironment(.hopper, count: 2, threads: 1, models: TestSupport.models())
        vector.reset(seeds: [1, 2])
        try vector.environments[0].setState(qpos: [0, 0.5, 0, 0, 0, 0], qvel: TestSupport.zeros(6)) // fallen
        try vector.step(actions: TestSupport.zeros(6))
        #expect(vector.outcome(0).terminated && !vector.isRunning(0))
        #expect(vector.isRunning(1))
        try vector.step(actions: TestSupport.zeros(6))
        #expect(vector.environments.map(\.elapsedSteps) == [1, 2])
        #expect(vector.anyRunning)
    }

    /// Four hoppers, copies 0 and 2 knocked over and stepped so that their episodes end.
    static func vectorWithFallenCopies(threads: Int) throws -> VectorEnvironment {
        let vector = try VectorEnvironment(.hopper, count: 4, threads: threads, models: TestSupport.models())
        vector.reset(seeds: [1, 2, 3, 4])
        for copy in [0, 2] { try vector.environments[copy].setState(qpos: [0, 0.5, 0, 0, 0, 0], qvel: TestSupport.zeros(6)) }
        try vector.step(actions: TestSupport.zeros(12))
        #expect((0..<4).map(vector.isRunning) == [false, true, false, true])
        return vector
    }

    @Test func resetEndedCopiesContinuesTheStreamsOfEndedCopiesOnly() throws {
        let vector = try Self.vectorWithFallenCopies(threads: 2)
        let reference = try Self.vectorWithFallenCopies(threads: 1)
        let before = (0..<4).map { Array(vector.observation($0)) }
        vector.resetEndedCopies()
        for copy in [0, 2] { reference.reset(copy: copy, seed: nil) }

        #expect((0..<4).allSatisfy(vector.isRunning))
        #expect(vector.environments.map(\.elapsedSteps) == [0, 1, 0, 1])
        for copy in 0..<4 {
            #expect(Array(vector.observation(copy)) == Array(reference.observation(copy)), "copy \(copy)")
            #expect((Array(vector.observation(copy)) == before[copy]) == [1, 3].contains(copy), "copy \(copy)")
        }
    }
}
