import Environments
import Evaluation

/// Replays an evaluation's episodes one after another, one step per call: episode i runs in a copy of
/// its own (as in the evaluation, where a copy drawn once per environment, such as a v0 maze's goal,
/// belongs to one episode), starts from the evaluation's reset seed i and takes the actions the
/// evaluation took, so it passes through the same states to the same return. A viewer or a recorder
/// decides when to step and shows the state in between.
public final class EpisodePlayer {
    public let task: D4RLTask
    /// One environment per episode, all on one model.
    public let environments: [any Environment]
    public let evaluation: RecordedEvaluation
    /// The environment of the episode being played.
    public var environment: any Environment { environments[episode] }
    /// Episodes to play.
    public var episodes: Int { evaluation.actions.count }
    public var seed: UInt64 { evaluation.report.seed }

    /// Index of the episode being played (or the last one, once all are done).
    public private(set) var episode = 0
    /// Steps taken in this episode.
    public private(set) var step = 0
    /// The reward of the last step.
    public private(set) var reward = 0.0
    /// Return of this episode so far.
    public private(set) var episodeReturn = 0.0
    /// The action of the last step, one entry per actuator.
    public private(set) var action: [Double]
    /// Episodes finished so far, in order.
    public private(set) var finished: [EpisodeResult] = []
    /// Set when the last step ended the episode; the next `advance()` starts the following one.
    public private(set) var hasEnded = false

    private var observation: [Double]

    /// `evaluation` must have been recorded on `task` with at least one episode.
    public convenience init(task: D4RLTask, models: ModelDirectory, evaluation: RecordedEvaluation) throws {
        self.init(task: task, environments: try task.makeEnvironments(count: evaluation.actions.count, models: models),
                  evaluation: evaluation)
    }

    /// Plays episode i in `environments[i]`, which must be of `task` and share one model.
    public init(task: D4RLTask, environments: [any Environment], evaluation: RecordedEvaluation) {
        precondition(!evaluation.actions.isEmpty, "an episode player needs at least one episode")
        precondition(environments.count == evaluation.actions.count, "one environment per episode")
        precondition(environments.allSatisfy { $0.simulation.model === environments[0].simulation.model }, "environments of one model")
        precondition(evaluation.actionDimension == environments[0].actionSpace.dimension, "actions of another environment")
        self.task = task
        self.environments = environments
        self.evaluation = evaluation
        action = [Double](repeating: 0, count: environments[0].actionSpace.dimension)
        observation = [Double](repeating: 0, count: environments[0].observationSpace.dimension)
        begin(episode: 0)
    }

    /// True when every episode has been played to its end.
    public var isDone: Bool { finished.count == episodes }

    /// Normalized score of this episode's return so far.
    public var normalizedReturn: Double { task.normalizedScore(episodeReturn) }

    /// The spread of the candidates the last action was chosen from: per action dimension the lowest
    /// and the highest; nil before the first step or for a policy without candidates.
    public var candidateSpread: (minimum: ArraySlice<Double>, maximum: ArraySlice<Double>)? {
        guard step > 0, let spreads = evaluation.candidateSpreads else { return nil }
        let width = action.count, first = (step - 1) * 2 * width
        return (spreads[episode][first ..< first + width], spreads[episode][first + width ..< first + 2 * width])
    }

    /// Takes one step of the current episode; after an episode's last step, starts the next one
    /// instead. Does nothing once all episodes are done.
    public func advance() throws {
        guard !isDone else { return }
        if hasEnded {
            begin(episode: episode + 1)
            return
        }
        let recorded = evaluation.actions[episode], width = action.count
        // The physics is deterministic, so the episode ends exactly where the evaluation's did.
        precondition((step + 1) * width <= recorded.count, "episode \(episode) outlived its recorded actions")
        action.replaceSubrange(0..<width, with: recorded[step * width ..< (step + 1) * width])
        let outcome = try action.withUnsafeBufferPointer { action in
            try observation.withUnsafeMutableBufferPointer { try environment.step(action: action, observation: $0) }
        }
        step += 1
        reward = outcome.reward
        episodeReturn += outcome.reward
        guard outcome.terminated || outcome.truncated else { return }
        hasEnded = true
        finished.append(EpisodeResult(index: episode, seed: Evaluator.episodeSeed(seed, episode: episode), return: episodeReturn,
                                      length: step, task: task, ending: outcome))
    }

    /// Starts the current episode again from its initial state: the replay is the same episode.
    public func restartEpisode() {
        if hasEnded { finished.removeLast() }
        begin(episode: episode)
    }

    private func begin(episode index: Int) {
        episode = index
        step = 0
        reward = 0
        episodeReturn = 0
        hasEnded = false
        action.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        observation.withUnsafeMutableBufferPointer {
            environment.reset(seed: Evaluator.episodeSeed(seed, episode: index), observation: $0)
        }
    }
}

extension EpisodePlayer {
    /// The finished episodes as an evaluation report.
    public var report: EvaluationReport {
        EvaluationReport(task: task.name, checkpoint: evaluation.report.checkpoint, seed: seed, episodes: finished,
                         arithmetic: evaluation.report.arithmetic)
    }
}
