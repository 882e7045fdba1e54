import Environments
import Evaluation
import Parallel

/// Plays a policy's episodes one after another in a single environment, one step per call, exactly
/// as the headless evaluation plays them: episode i starts from the evaluation's reset seed i and
/// draws from the policy's stream i, so its return is the evaluation's return of episode i. A viewer
/// or a recorder decides when to step and shows the state in between.
public final class EpisodePlayer {
    public let task: D4RLTask
    public let environment: any Environment
    public let policy: any BatchPolicy
    /// Episodes to play.
    public let episodes: Int
    public let seed: UInt64

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
    /// The episode of the single observation row handed to the policy.
    private var rowEpisode = [0]
    /// The calling thread alone: one state's action takes about a millisecond, well within a frame.
    private let actingPool = WorkerPool(threads: 1)

    /// `policy` must act for at least `episodes` episodes (its per-episode streams).
    public init(task: D4RLTask, environment: any Environment, policy: any BatchPolicy, episodes: Int, seed: UInt64) {
        precondition(episodes > 0, "an episode player needs at least one episode")
        self.task = task
        self.environment = environment
        self.policy = policy
        self.episodes = episodes
        self.seed = seed
        action = [Double](repeating: 0, count: environment.actionSpace.dimension)
        observation = [Double](repeating: 0, count: environment.observationSpace.dimension)
        begin(episode: 0)
    }

    /// True when every episode has been played to its end.
    public var isDone: Bool { finished.count == episodes }

    /// Normalized score of this episode's return so far.
    public var normalizedReturn: Double { task.normalizedScore(episodeReturn) }

    /// Takes one step of the current episode; after an episode's last step, starts the next one
    /// instead. Does nothing once all episodes are done.
    public func advance() throws {
        guard !isDone else { return }
        if hasEnded {
            begin(episode: episode + 1)
            return
        }
        rowEpisode[0] = episode
        rowEpisode.withUnsafeBufferPointer { rows in
            observation.withUnsafeBufferPointer { observation in
                action.withUnsafeMutableBufferPointer { policy.act(observations: observation, episodes: rows, actions: $0, on: actingPool) }
            }
        }
        let outcome = try action.withUnsafeBufferPointer { action in
            try observation.withUnsafeMutableBufferPointer { try environment.step(action: action, observation: $0) }
        }
        step += 1
        reward = outcome.reward
        episodeReturn += outcome.reward
        guard outcome.terminated || outcome.truncated else { return }
        hasEnded = true
        finished.append(EpisodeResult(
            index: episode, seed: Evaluator.episodeSeed(seed, episode: episode), return: episodeReturn, length: step,
            normalizedScore: task.normalizedScore(episodeReturn), terminated: outcome.terminated,
            unstable: outcome.info.isUnstable))
    }

    /// Starts the current episode again from its initial state, with its actions' stream rewound:
    /// the replay is the same episode.
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
        policy.restart(episode: index)
        observation.withUnsafeMutableBufferPointer {
            environment.reset(seed: Evaluator.episodeSeed(seed, episode: index), observation: $0)
        }
    }
}

extension EpisodePlayer {
    /// The finished episodes as an evaluation report.
    public var report: EvaluationReport {
        EvaluationReport(task: task.name, checkpoint: policy.name, seed: seed, episodes: finished)
    }
}
