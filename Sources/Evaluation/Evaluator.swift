import Environments
import Parallel
import SeededRandom

/// Rolls a policy out for whole episodes: a bounded number of episodes run at once, each on an
/// environment copy of its own (made or reset as new), their observations going to the policy as one batch and the copies stepped in
/// parallel; when an episode ends, the next one starts in its place. Episode i is reset with a seed
/// from its own stream (`RandomStream.episodeReset`, i) and the policy draws from another stream of
/// episode i, so an episode does not depend on which episodes run beside it: the numbers are the same
/// whatever the thread count and however many episodes run at once, and memory does not grow with
/// the number of episodes.
public struct Evaluator {
    public let task: D4RLTask
    public let models: ModelDirectory
    public let threads: Int
    /// The most episodes under way at once (the rest wait for a free place).
    public let concurrentEpisodes: Int

    /// `concurrentEpisodes` defaults to enough episodes to keep `threads` threads busy.
    public init(task: D4RLTask, models: ModelDirectory, threads: Int, concurrentEpisodes: Int? = nil) {
        precondition(concurrentEpisodes ?? 1 >= 1, "at least one episode at once")
        self.task = task
        self.models = models
        self.threads = threads
        self.concurrentEpisodes = concurrentEpisodes ?? Self.defaultConcurrentEpisodes(threads: threads)
    }

    /// Ten episodes at once, the locomotion protocol's whole evaluation, and four per thread beyond that:
    /// acting for 50 candidates each keeps the threads busy from there on.
    public static func defaultConcurrentEpisodes(threads: Int) -> Int { max(10, 4 * threads) }

    /// The environment seed of episode `index` in an evaluation seeded with `seed`.
    public static func episodeSeed(_ seed: UInt64, episode index: Int) -> UInt64 {
        var generator = SeededGenerator(.episodeReset, seed: seed, index: index)
        return generator.next()
    }

    /// Runs `episodes` episodes of `policy` and reports their returns and normalized scores; with a
    /// shard, only that part's block of them, each exactly as in the whole evaluation, and the report
    /// says which part it is. `progress` is called after every step with the state of the evaluation.
    public func evaluate(
        _ policy: some BatchPolicy, episodes: Int, seed: UInt64, shard: Shard? = nil,
        progress: (EvaluationProgress) -> Void = { _ in }
    ) throws -> EvaluationReport {
        let part = shard.map { PartOfWhole(shard: $0, items: Array(0..<episodes)) }
        if let part, part.mine.isEmpty { throw EvaluationError.emptyShard(shard: part.shard, episodes: episodes) }
        return try run(policy, episodes: episodes, seed: seed, only: part.map { Array($0.mine) }, recordingActions: false,
                       progress: progress).report.part(part)
    }

    /// Episodes `range` of an evaluation of `episodes` episodes, each exactly as in the whole: a report
    /// of those alone, for evaluations that add episodes as they go (successive halving).
    public func evaluate(
        _ policy: some BatchPolicy, episodes: Int, seed: UInt64, only range: Range<Int>,
        progress: (EvaluationProgress) -> Void = { _ in }
    ) throws -> EvaluationReport {
        precondition(range.lowerBound >= 0 && range.upperBound <= episodes, "episodes \(range) are not of 0..<\(episodes)")
        guard !range.isEmpty else { throw EvaluationError.noEpisodes(requested: 0) }
        return try run(policy, episodes: episodes, seed: seed, only: Array(range), recordingActions: false, progress: progress).report
    }

    /// `evaluate`, keeping every action taken, so that the episodes can be replayed exactly (a
    /// policy acting for one episode alone would round its products differently).
    public func record(
        _ policy: some BatchPolicy, episodes: Int, seed: UInt64,
        progress: (EvaluationProgress) -> Void = { _ in }
    ) throws -> RecordedEvaluation {
        try run(policy, episodes: episodes, seed: seed, only: nil, recordingActions: true, progress: progress)
    }

    private func run(
        _ policy: some BatchPolicy, episodes: Int, seed: UInt64, only: [Int]?, recordingActions: Bool,
        progress: (EvaluationProgress) -> Void
    ) throws -> RecordedEvaluation {
        guard episodes > 0 else { throw EvaluationError.noEpisodes(requested: episodes) }
        let mine = only ?? Array(0..<episodes)
        let places = min(mine.count, concurrentEpisodes)
        try policy.begin(episodes: episodes, concurrent: places, seed: seed)
        let vector = try VectorEnvironment(task, count: places, threads: threads, models: models)
        let seeds = (0..<episodes).map { Self.episodeSeed(seed, episode: $0) }
        var schedule = EpisodeSchedule(episodes: mine, places: places)
        vector.reset(seeds: mine.prefix(places).map { seeds[$0] })

        var results = [EpisodeResult?](repeating: nil, count: episodes)
        var batch = ObservationBatch(vector: vector)
        let width = vector.actionDimension
        var actions = [Double](repeating: 0, count: places * width)
        var actionLog = [[Double]](repeating: [], count: recordingActions ? episodes : 0)
        let spreading = recordingActions ? policy as? any CandidateSpreading : nil
        var spreadLog = [[Double]](repeating: [], count: spreading == nil ? 0 : episodes)
        var spread = [Double](repeating: 0, count: spreading == nil ? 0 : places * 2 * width)

        while vector.anyRunning {
            batch.gatherRunning(from: vector, episodeAt: schedule.episodeAt)
            batch.act(policy, into: &actions, width: width, on: vector.pool)
            if recordingActions {
                for place in batch.runningPlaces {
                    actionLog[schedule.episodeAt[place]] += actions[place * width ..< (place + 1) * width]
                }
            }
            if let spreading {
                spread.withUnsafeMutableBufferPointer { spreading.candidateSpread(into: $0) }
                for (row, place) in batch.runningPlaces.enumerated() {
                    spreadLog[schedule.episodeAt[place]] += spread[row * 2 * width ..< (row + 1) * 2 * width]
                }
            }
            try vector.step(actions: actions)
            for place in batch.runningPlaces {
                schedule.record(vector.outcome(place), at: place)
                guard !vector.isRunning(place) else { continue }
                results[schedule.episodeAt[place]] = result(of: schedule, at: place, seeds: seeds)
                if let next = schedule.startNext(at: place) { vector.resetAsNew(copy: place, seed: seeds[next]) }
            }
            progress(schedule.progress(maxSteps: vector.environments[0].maxEpisodeSteps))
        }

        let report = EvaluationReport(task: task.name, checkpoint: policy.name, seed: seed, episodes: results.compactMap { $0 },
                                      arithmetic: policy.arithmetic)
        return RecordedEvaluation(report: report, actionDimension: width, actions: actionLog,
                                  candidateSpreads: spreading == nil ? nil : spreadLog)
    }

    /// The finished episode at `place`, as the report gives it.
    private func result(of schedule: EpisodeSchedule, at place: Int, seeds: [UInt64]) -> EpisodeResult {
        let index = schedule.episodeAt[place], episodeReturn = schedule.returns[place], ending = schedule.lastOutcome[place]
        return EpisodeResult(index: index, seed: seeds[index], return: episodeReturn, length: schedule.lengths[place],
                             task: task, ending: ending)
    }
}

/// Which episode runs at each place of the vector environment, the running sums of each, and the next
/// episode to start: episodes start in order, each in the first place that comes free.
struct EpisodeSchedule {
    /// The episodes to run, in order.
    let episodes: [Int]
    private(set) var episodeAt: [Int]
    private(set) var returns: [Double]
    private(set) var lengths: [Int]
    private(set) var lastOutcome: [StepOutcome]
    private(set) var started: Int
    private(set) var finished = 0
    private(set) var environmentSteps = 0

    init(episodes: [Int], places: Int) {
        self.episodes = episodes
        episodeAt = Array(episodes.prefix(places))
        returns = [Double](repeating: 0, count: places)
        lengths = [Int](repeating: 0, count: places)
        lastOutcome = [StepOutcome](repeating: StepOutcome(reward: 0, terminated: false, truncated: false, info: StepInfo()),
                                    count: places)
        started = places
    }

    mutating func record(_ outcome: StepOutcome, at place: Int) {
        returns[place] += outcome.reward
        lengths[place] += 1
        lastOutcome[place] = outcome
        environmentSteps += 1
        if outcome.terminated || outcome.truncated { finished += 1 }
    }

    /// Puts the next episode at `place`, whose episode has ended; nil when every episode has started.
    mutating func startNext(at place: Int) -> Int? {
        guard started < episodes.count else { return nil }
        episodeAt[place] = episodes[started]
        returns[place] = 0
        lengths[place] = 0
        started += 1
        return episodeAt[place]
    }

    func progress(maxSteps: Int) -> EvaluationProgress {
        let running = started - finished
        let runningSteps = lengths.indices.reduce(0) { sum, place in
            sum + (lastOutcome[place].terminated || lastOutcome[place].truncated ? 0 : lengths[place])
        }
        return EvaluationProgress(
            finishedEpisodes: finished, runningEpisodes: running, episodes: episodes.count, environmentSteps: environmentSteps,
            remainingStepBound: (episodes.count - started) * maxSteps + running * maxSteps - runningSteps)
    }
}

/// An evaluation with the actions it took: `actions[i]` holds episode i's, one row of
/// `actionDimension` per step. Episode i replayed from its reset seed with them is the same episode.
public struct RecordedEvaluation: Sendable {
    public let report: EvaluationReport
    public let actionDimension: Int
    public let actions: [[Double]]
    /// For a policy that chooses among candidates, per episode and step the lowest then the highest
    /// candidate of every action dimension (2 × actionDimension values a step); nil for the others.
    public let candidateSpreads: [[Double]]?

    public init(report: EvaluationReport, actionDimension: Int, actions: [[Double]], candidateSpreads: [[Double]]? = nil) {
        self.report = report
        self.actionDimension = actionDimension
        self.actions = actions
        self.candidateSpreads = candidateSpreads
    }
}

/// Where an evaluation stands, for progress displays.
public struct EvaluationProgress: Sendable {
    public let finishedEpisodes: Int
    /// Episodes under way.
    public let runningEpisodes: Int
    public let episodes: Int
    /// Environment steps taken so far, all episodes together.
    public let environmentSteps: Int
    /// The most environment steps left, should every episode last to the time limit.
    public let remainingStepBound: Int
}

/// The running copies' observations packed into consecutive rows, with the place and the episode of
/// each row, so the policy computes nothing for places whose episode has ended. Buffers are reused
/// every step.
struct ObservationBatch {
    private(set) var runningPlaces: [Int] = []
    private var runningEpisodes: [Int] = []
    private var observations: [Double]
    private var packedActions: [Double]
    private let width: Int

    init(vector: VectorEnvironment) {
        width = vector.observationDimension
        observations = []
        observations.reserveCapacity(vector.count * width)
        packedActions = []
        packedActions.reserveCapacity(vector.count * vector.actionDimension)
        runningPlaces.reserveCapacity(vector.count)
        runningEpisodes.reserveCapacity(vector.count)
    }

    mutating func gatherRunning(from vector: VectorEnvironment, episodeAt: [Int]) {
        runningPlaces.removeAll(keepingCapacity: true)
        runningEpisodes.removeAll(keepingCapacity: true)
        observations.removeAll(keepingCapacity: true)
        vector.withObservations { all in
            for place in 0..<vector.count where vector.isRunning(place) {
                runningPlaces.append(place)
                runningEpisodes.append(episodeAt[place])
                observations.append(contentsOf: all[place * width ..< (place + 1) * width])
            }
        }
    }

    /// Asks the policy for the packed rows and scatters its actions to each place's row of `actions`.
    mutating func act(_ policy: some BatchPolicy, into actions: inout [Double], width actionWidth: Int, on pool: WorkerPool) {
        packedActions.removeAll(keepingCapacity: true)
        packedActions.append(contentsOf: repeatElement(0, count: runningPlaces.count * actionWidth))
        observations.withUnsafeBufferPointer { observations in
            runningEpisodes.withUnsafeBufferPointer { episodes in
                packedActions.withUnsafeMutableBufferPointer { packed in
                    policy.act(observations: observations, episodes: episodes, actions: packed, on: pool)
                }
            }
        }
        for (row, place) in runningPlaces.enumerated() {
            for k in 0..<actionWidth { actions[place * actionWidth + k] = packedActions[row * actionWidth + k] }
        }
    }
}

/// Errors of the evaluation layer.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case noEpisodes(requested: Int)
    case emptyShard(shard: Shard, episodes: Int)
    /// A checkpoint asked to act on a task of another robot (of the same dimensions, or the
    /// dimension check would have said so).
    case otherRobot(path: String, trainedOn: String, task: String)

    public var description: String {
        switch self {
        case let .noEpisodes(requested): return "an evaluation needs at least one episode (asked for \(requested))"
        case let .emptyShard(shard, episodes):
            return "shard \(shard) of \(episodes) episodes holds none; use at most \(episodes) shards"
        case let .otherRobot(path, trainedOn, task):
            return "\(path) was trained on \(trainedOn); --task \(task) drives another robot. Name a task of the same environment."
        }
    }
}
