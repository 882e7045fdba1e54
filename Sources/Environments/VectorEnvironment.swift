import Parallel

/// Many copies of one environment stepped together by a pool of threads (EnvPool's design).
///
/// Copies are independent state machines and a copy's step depends only on its own state and action,
/// so the results are identical to stepping the copies one by one, whatever the number of threads.
/// Results live in buffers allocated once (row i of the observations belongs to copy i), so stepping
/// allocates nothing.
public final class VectorEnvironment {
    public let environments: [any Environment]
    public let pool: WorkerPool
    public let observationDimension: Int
    public let actionDimension: Int
    public var count: Int { environments.count }

    private let observationRows: UnsafeMutableBufferPointer<Double>
    private let outcomes: UnsafeMutableBufferPointer<StepOutcome>
    private let running: UnsafeMutableBufferPointer<Bool>
    private let errors: UnsafeMutableBufferPointer<(any Error)?>

    /// Steps `environments` (all of one kind) on `pool`.
    public init(environments: [any Environment], pool: WorkerPool) {
        precondition(!environments.isEmpty, "a vector environment needs at least one copy")
        self.environments = environments
        self.pool = pool
        observationDimension = environments[0].observationSpace.dimension
        actionDimension = environments[0].actionSpace.dimension
        let count = environments.count
        observationRows = .allocate(capacity: count * observationDimension)
        observationRows.initialize(repeating: 0)
        outcomes = .allocate(capacity: count)
        outcomes.initialize(repeating: StepOutcome(reward: 0, terminated: false, truncated: false, info: StepInfo()))
        running = .allocate(capacity: count)
        running.initialize(repeating: false)
        errors = .allocate(capacity: count)
        errors.initialize(repeating: nil)
    }

    /// `count` copies of `environment`, sharing one loaded model, stepped by `threads` threads.
    public convenience init(_ environment: EnvironmentID, count: Int, threads: Int, models: ModelDirectory) throws {
        try self.init(
            environments: environment.makeEnvironments(count: count, models: models), pool: WorkerPool(threads: threads))
    }

    /// `count` copies of `task`'s environment (a maze's goal drawn as the task's version says).
    public convenience init(_ task: D4RLTask, count: Int, threads: Int, models: ModelDirectory) throws {
        try self.init(environments: task.makeEnvironments(count: count, models: models), pool: WorkerPool(threads: threads))
    }

    deinit {
        for buffer in [observationRows.deinitialize(), outcomes.deinitialize(), running.deinitialize(), errors.deinitialize()] {
            buffer.deallocate()
        }
    }

    /// Copy `index`'s latest observation (valid until the next reset or step).
    public func observation(_ index: Int) -> ArraySlice<Double> {
        ArraySlice(row(index))
    }

    /// Gives `body` every copy's latest observation, row-major, without copying.
    public func withObservations<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(observationRows))
    }

    /// Copy `index`'s latest reward, end flags and info (from its last step).
    public func outcome(_ index: Int) -> StepOutcome { outcomes[index] }

    /// Whether copy `index` has an episode under way (reset, and not yet terminated or truncated).
    public func isRunning(_ index: Int) -> Bool { running[index] }

    /// Whether any copy has an episode under way.
    public var anyRunning: Bool { running.contains(true) }

    /// Resets every copy, copy i with `seeds[i]`.
    public func reset(seeds: [UInt64]) {
        precondition(seeds.count == count, "one seed per copy")
        pool.forEach(count) { index in reset(copy: index, seed: seeds[index]) }
    }

    /// Resets one copy.
    public func reset(copy index: Int, seed: UInt64?) {
        environments[index].reset(seed: seed, observation: row(index))
        running[index] = true
    }

    /// Starts an episode of copy `index` at an exact simulator state (see `Environment.setState`).
    public func setState(copy index: Int, qpos: [Double], qvel: [Double]) throws {
        try environments[index].setState(qpos: qpos, qvel: qvel, observation: row(index))
        running[index] = true
    }

    /// Resets copy `index` as a newly made copy: settings and draws kept across its episodes (a
    /// commanded goal, a v0 maze's goal) are forgotten first, so it reuses its memory for an episode
    /// that does not depend on the episodes it ran before.
    public func resetAsNew(copy index: Int, seed: UInt64) {
        environments[index].forgetEpisodes()
        reset(copy: index, seed: seed)
    }

    /// Resets, in parallel, every copy whose episode has ended (continuing each copy's seed stream).
    public func resetEndedCopies() {
        pool.forEach(count) { index in
            if !running[index] { reset(copy: index, seed: nil) }
        }
    }

    /// Steps every running copy with its row of `actions` (count × actionDimension); rows of copies not
    /// running are ignored. If copies reject their actions, the error of the lowest such copy is thrown
    /// after the others have been stepped.
    public func step(actions: UnsafeBufferPointer<Double>) throws {
        precondition(actions.count == count * actionDimension, "actions must hold count × actionDimension values")
        pool.forEach(count) { index in
            guard running[index] else { return }
            let action = UnsafeBufferPointer(rebasing: actions[index * actionDimension ..< (index + 1) * actionDimension])
            do {
                let outcome = try environments[index].step(action: action, observation: row(index))
                outcomes[index] = outcome
                running[index] = !(outcome.terminated || outcome.truncated)
            } catch let error as EnvironmentError {
                errors[index] = EnvironmentError.inCopy(copy: index, error: error)
            } catch {
                errors[index] = error
            }
        }
        if let index = errors.firstIndex(where: { $0 != nil }) {
            let error = errors[index]!
            errors.update(repeating: nil)
            throw error
        }
    }

    /// Convenience form of `step(actions:)` for an array.
    public func step(actions: [Double]) throws {
        try actions.withUnsafeBufferPointer { try step(actions: $0) }
    }

    private func row(_ index: Int) -> UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(rebasing: observationRows[index * observationDimension ..< (index + 1) * observationDimension])
    }
}
