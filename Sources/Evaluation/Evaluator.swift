import Environments
import Parallel
import SeededRandom

/// Rolls a policy out for whole episodes, all episodes at once: each episode has its own environment
/// copy, the running copies' observations go to the policy as one batch, and the copies are stepped
/// in parallel. Episode i is reset with a seed from its own stream (`RandomStream.episodeReset`, i), so
/// every evaluation with the same seed sees the same initial states, whatever the number of threads.
public struct Evaluator {
    public let task: D4RLTask
    public let models: ModelDirectory
    public let threads: Int

    public init(task: D4RLTask, models: ModelDirectory, threads: Int) {
        self.task = task
        self.models = models
        self.threads = threads
    }

    /// The environment seed of episode `index` in an evaluation seeded with `seed`.
    public static func episodeSeed(_ seed: UInt64, episode index: Int) -> UInt64 {
        var generator = SeededGenerator(.episodeReset, seed: seed, index: index)
        return generator.next()
    }

    /// Runs `episodes` episodes of `policy` and reports their returns and normalized scores.
    /// `progress` is called after every step with the state of the evaluation.
    public func evaluate(
        _ policy: some BatchPolicy, episodes: Int, seed: UInt64,
        progress: (EvaluationProgress) -> Void = { _ in }
    ) throws -> EvaluationReport {
        try run(policy, episodes: episodes, seed: seed, recordingActions: false, progress: progress).report
    }

    /// `evaluate`, keeping every action taken, so that the episodes can be replayed exactly (a
    /// policy acting for one episode alone would round its products differently).
    public func record(
        _ policy: some BatchPolicy, episodes: Int, seed: UInt64,
        progress: (EvaluationProgress) -> Void = { _ in }
    ) throws -> RecordedEvaluation {
        try run(policy, episodes: episodes, seed: seed, recordingActions: true, progress: progress)
    }

    private func run(
        _ policy: some BatchPolicy, episodes: Int, seed: UInt64, recordingActions: Bool,
        progress: (EvaluationProgress) -> Void
    ) throws -> RecordedEvaluation {
        guard episodes > 0 else { throw EvaluationError.noEpisodes(requested: episodes) }
        try policy.begin(episodes: episodes, seed: seed)
        let vector = try VectorEnvironment(task, count: episodes, threads: threads, models: models)
        let seeds = (0..<episodes).map { Self.episodeSeed(seed, episode: $0) }
        vector.reset(seeds: seeds)

        var returns = [Double](repeating: 0, count: episodes)
        var lengths = [Int](repeating: 0, count: episodes)
        var endings = [StepOutcome?](repeating: nil, count: episodes)
        var batch = ObservationBatch(vector: vector)
        let width = vector.actionDimension
        var actions = [Double](repeating: 0, count: episodes * width)
        var actionLog = [[Double]](repeating: [], count: recordingActions ? episodes : 0)
        var step = 0

        while vector.anyRunning {
            batch.gatherRunning(from: vector)
            batch.act(policy, into: &actions, width: width, on: vector.pool)
            if recordingActions {
                for index in batch.runningEpisodes { actionLog[index] += actions[index * width ..< (index + 1) * width] }
            }
            try vector.step(actions: actions)
            step += 1
            for index in batch.runningEpisodes {
                let outcome = vector.outcome(index)
                returns[index] += outcome.reward
                lengths[index] += 1
                if !vector.isRunning(index) { endings[index] = outcome }
            }
            progress(EvaluationProgress(
                step: step, maxSteps: vector.environments[0].maxEpisodeSteps,
                runningEpisodes: endings.count { $0 == nil }, episodes: episodes,
                environmentSteps: lengths.reduce(0, +)))
        }

        let results = (0..<episodes).map { index in
            EpisodeResult(
                index: index, seed: seeds[index], return: returns[index], length: lengths[index],
                normalizedScore: task.normalizedScore(returns[index]),
                terminated: endings[index]?.terminated ?? false,
                unstable: endings[index]?.info.isUnstable ?? false,
                success: task.hasGoal ? endings[index]?.info.goal?.reached ?? false : nil)
        }
        let report = EvaluationReport(task: task.name, checkpoint: policy.name, seed: seed, episodes: results)
        return RecordedEvaluation(report: report, actionDimension: width, actions: actionLog)
    }
}

/// An evaluation with the actions it took: `actions[i]` holds episode i's, one row of
/// `actionDimension` per step. Episode i replayed from its reset seed with them is the same episode.
public struct RecordedEvaluation: Sendable {
    public let report: EvaluationReport
    public let actionDimension: Int
    public let actions: [[Double]]
}

/// Where an evaluation stands, for progress displays.
public struct EvaluationProgress: Sendable {
    /// Environment steps taken so far by the longest-running episode.
    public let step: Int
    /// The time limit of an episode.
    public let maxSteps: Int
    /// Episodes still under way.
    public let runningEpisodes: Int
    public let episodes: Int
    /// Environment steps taken so far, all episodes together.
    public let environmentSteps: Int
}

/// The running copies' observations packed into consecutive rows, with the episode of each row, so
/// the policy computes nothing for episodes that have ended. Buffers are reused every step.
struct ObservationBatch {
    private(set) var runningEpisodes: [Int] = []
    private var observations: [Double]
    private var packedActions: [Double]
    private let width: Int

    init(vector: VectorEnvironment) {
        width = vector.observationDimension
        observations = []
        observations.reserveCapacity(vector.count * width)
        packedActions = []
        packedActions.reserveCapacity(vector.count * vector.actionDimension)
        runningEpisodes.reserveCapacity(vector.count)
    }

    mutating func gatherRunning(from vector: VectorEnvironment) {
        runningEpisodes.removeAll(keepingCapacity: true)
        observations.removeAll(keepingCapacity: true)
        vector.withObservations { all in
            for index in 0..<vector.count where vector.isRunning(index) {
                runningEpisodes.append(index)
                observations.append(contentsOf: all[index * width ..< (index + 1) * width])
            }
        }
    }

    /// Asks the policy for the packed rows and scatters its actions to each episode's row of `actions`.
    mutating func act(_ policy: some BatchPolicy, into actions: inout [Double], width actionWidth: Int, on pool: WorkerPool) {
        packedActions.removeAll(keepingCapacity: true)
        packedActions.append(contentsOf: repeatElement(0, count: runningEpisodes.count * actionWidth))
        observations.withUnsafeBufferPointer { observations in
            runningEpisodes.withUnsafeBufferPointer { episodes in
                packedActions.withUnsafeMutableBufferPointer { packed in
                    policy.act(observations: observations, episodes: episodes, actions: packed, on: pool)
                }
            }
        }
        for (row, episode) in runningEpisodes.enumerated() {
            for k in 0..<actionWidth { actions[episode * actionWidth + k] = packedActions[row * actionWidth + k] }
        }
    }
}

/// Errors of the evaluation layer.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case noEpisodes(requested: Int)

    public var description: String {
        switch self {
        case let .noEpisodes(requested): return "an evaluation needs at least one episode (asked for \(requested))"
        }
    }
}
