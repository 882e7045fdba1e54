import Environments
import Foundation
import NeuralNet
import Persistence
import SeededRandom
import TerminalProgress

/// The goal-reaching ant controller's settings. Saved with its run as snake_case JSON.
public struct AntControllerConfig: Codable, Sendable, Equatable {
    /// SAC's settings; `evaluation_episodes` is the number of tries of each evaluation.
    public var sac: SACConfig
    /// How training episodes are drawn, rewarded and ended.
    public var task: AntGoalReachingEnvironment.Settings
    /// The evaluation's goals lie exactly this far (m) from the start, in a random direction.
    public var evaluationGoalDistance = 8.0

    /// The settings the shipped controller trained with: rlkit's SAC (256 × 256, automatic entropy) with
    /// ten thousand steps of the untrained policy before learning, so that the critics first see the ant
    /// stumble in every direction, and an evaluation of 100 tries every 25,000 steps.
    public static var standard: AntControllerConfig {
        var sac = SACConfig()
        sac.warmupSteps = 10_000
        sac.totalSteps = 2_000_000
        sac.evaluateEvery = 25_000
        sac.evaluationEpisodes = 100
        return AntControllerConfig(sac: sac, task: AntGoalReachingEnvironment.Settings())
    }

    public init(sac: SACConfig, task: AntGoalReachingEnvironment.Settings) {
        self.sac = sac
        self.task = task
    }

    enum CodingKeys: String, CodingKey {
        case sac, task, evaluationGoalDistance = "evaluation_goal_distance"
    }
}

/// How the controller did on a set of tries: each a goal `evaluationGoalDistance` away from a random
/// start, the policy's mean action at every step.
public struct ControllerTrials: Sendable, Equatable {
    public var tries: Int
    /// The fraction of tries that reached the goal within the episode limit.
    public var successRate: Double
    /// The fraction of tries that ended with the torso upside down.
    public var flipRate: Double
    /// Mean steps per try (a try ends at the goal, upside down or at the limit).
    public var meanSteps: Double
    /// Mean distance (m) to the goal at the end of a try.
    public var meanFinalDistance: Double

    /// "83 of 100 tries reached the goal (83%), 4% flipped, 142 steps on average, final distance 0.91 m"
    public var summary: String {
        String(format: "%d of %d tries reached the goal (%.0f%%), %.0f%% flipped, %.0f steps on average, "
            + "final distance %.2f m", Int((successRate * Double(tries)).rounded()), tries, 100 * successRate,
            100 * flipRate, meanSteps, meanFinalDistance)
    }
}

/// One evaluation during training: tries 0..<n of the run's evaluation stream, the same at every evaluation.
public struct ControllerEvaluation: Codable, Sendable, Equatable {
    /// Environment steps of training when it was evaluated.
    public var step: Int
    /// See `ControllerTrials`.
    public var successRate: Double
    public var flipRate: Double
    public var meanSteps: Double
    public var meanFinalDistance: Double
    /// Means over the gradient steps since the previous evaluation.
    public var alpha: Double
    public var criticLoss: Double
    public var policyLoss: Double

    static let csvHeader = "step,success_rate,flip_rate,mean_steps,mean_final_distance,alpha,critic_loss,policy_loss"
    var csvLine: String {
        ([String(step)] + [successRate, flipRate, meanSteps, meanFinalDistance, alpha, criticLoss, policyLoss]
            .map { String(format: "%.6g", $0) }).joined(separator: ",")
    }

    /// One plain line per evaluation, for logs.
    public var logLine: String {
        String(format: "step %d: success %.0f%%, flipped %.0f%%, %.0f steps, final distance %.2f m, alpha %.4f, "
            + "critic loss %.3f, policy loss %.3f", step, 100 * successRate, 100 * flipRate, meanSteps, meanFinalDistance,
            alpha, criticLoss, policyLoss)
    }

    enum CodingKeys: String, CodingKey {
        case step, successRate = "success_rate", flipRate = "flip_rate", meanSteps = "mean_steps"
        case meanFinalDistance = "mean_final_distance", alpha, criticLoss = "critic_loss", policyLoss = "policy_loss"
    }
}

/// The goal-reaching ant controller trained online with SAC (`AntGoalReachingEnvironment`), in its folder:
/// `config.json`, `progress.csv` (one line per evaluation), `controller_policy.safetensors` (the policy of
/// the best evaluation so far, the later one on a tie) and `resume.safetensors` (networks, optimizers,
/// replay buffer and random stream, saved at episode ends so that a resumed run continues exactly as an
/// uninterrupted one).
public final class AntControllerRun {
    public static let environmentName = "ant-goal-reaching"

    /// Where `collect controller` trains: the run `ant-controller` where it already is, else in
    /// `checkpoints/` under the working directory.
    public static var defaultFolder: String { RunsFolder.path(ofRun: "ant-controller") }

    public let folder: String
    public let config: AntControllerConfig
    public var agent: SoftActorCritic { sac.agent }
    public private(set) var evaluations: [ControllerEvaluation] = []
    public var episodes: Int { sac.episodes }
    public var step: Int { sac.step }
    /// Whether this run continued from a saved state.
    public private(set) var resumed = false
    /// Where the run resumed on a machine whose products round differently from the one that saved it,
    /// what to tell the person who resumed it (`DenseProducts.resumeWarning`).
    public var arithmeticWarning: String? { DenseProducts.resumeWarning(path: folder, savedWith: sac.savedArithmetic) }
    /// The files of an earlier run that `startOver` deleted.
    public let deletedHistory: [String]

    private let sac: OnlineSAC
    private let evaluator: ControllerEvaluator

    public var configPath: String { folder + "/config.json" }
    public var progressPath: String { folder + "/progress.csv" }
    public var resumePath: String { folder + "/resume.safetensors" }
    public var policyPath: String { folder + "/controller_policy.safetensors" }

    /// Opens the run in `folder`, resuming it when its resume state is there. A folder holding the
    /// history of a run (progress, the kept policy) without a resume state is refused (`RunHistoryError`)
    /// unless `startOver`, which deletes it first. The networks run on `threads` threads, to the same
    /// bytes on any number.
    public init(folder: String, config: AntControllerConfig, models: ModelDirectory, threads: Int = 1,
                startOver: Bool = false) throws {
        self.folder = folder
        deletedHistory = try RunHistory.requireResumable(
            folder: folder, history: ["progress.csv", "controller_policy.safetensors"].map { ($0, $0) }, startOver: startOver)
        self.config = config
        sac = try OnlineSAC(config: config.sac, environment: try AntGoalReachingEnvironment(settings: config.task, models: models),
                            threads: threads)
        evaluator = try ControllerEvaluator(config: config, models: models)

        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: configPath) {
            try requireCompatible(try Self.readConfig(configPath))
        }
        try AtomicFile.write(String(decoding: try JSONEncoder.sorted().encode(config), as: UTF8.self), to: configPath)
        if FileManager.default.fileExists(atPath: resumePath) { try restore() }
    }

    /// Trains until the first episode end at or after `config.sac.totalSteps` environment steps (or an
    /// earlier `untilStep`), then saves: stopping between episodes is what makes a resume exact.
    /// `stopWhen` is asked between steps (a signal's flag): when it says stop, the episode under way is
    /// finished, the state saved, and `train` returns false. Returns true when it reached its end.
    @discardableResult
    public func train(untilStep: Int? = nil, stopWhen shouldStop: () -> Bool = { false },
                      progress: ((AntControllerProgress) -> Void)? = nil) throws -> Bool {
        let total = config.sac.totalSteps
        let finished = try sac.train(until: min(untilStep ?? total, total), stopWhen: shouldStop, evaluate: evaluate, save: save) {
            progress?(AntControllerProgress(step: step, totalSteps: total, episodes: episodes, latest: evaluations.last))
        }
        guard finished else { return false }
        try save()
        return true
    }

    /// The evaluation's tries with the policy's mean actions, from a stream of their own so that
    /// evaluating never changes training.
    private func evaluate() throws {
        let trials = try evaluator.evaluate(agent.policy, tries: 0..<config.sac.evaluationEpisodes)
        let losses = sac.takeLossMeans()
        let evaluation = ControllerEvaluation(
            step: step, successRate: trials.successRate, flipRate: trials.flipRate, meanSteps: trials.meanSteps,
            meanFinalDistance: trials.meanFinalDistance, alpha: losses.alpha, criticLoss: losses.criticLoss,
            policyLoss: losses.policyLoss)
        let best = evaluations.map(\.successRate).max() ?? -1
        evaluations.append(evaluation)
        try AtomicFile.write(([ControllerEvaluation.csvHeader] + evaluations.map(\.csvLine)).joined(separator: "\n") + "\n",
                             to: progressPath)
        if evaluation.successRate >= best { try writePolicy(evaluation) }
    }

    private func writePolicy(_ evaluation: ControllerEvaluation) throws {
        let metadata = [
            "step": String(step), "seed": String(config.sac.seed), "success_rate": String(evaluation.successRate),
            "evaluation_tries": String(config.sac.evaluationEpisodes),
            "evaluation_goal_distance": String(config.evaluationGoalDistance),
            "max_episode_steps": String(config.task.maxEpisodeSteps),
            "observation": "qpos[2:15] ++ qvel ++ (goal - xy) in the torso's heading frame, at most "
                + "\(ControllerObservation.goalHorizon) m long",
        ]
        try PolicyFile.write(agent.policy, environment: Self.environmentName, metadata: metadata, to: policyPath)
    }

    /// The kept policy of the run in `folder` on tries `tries` of its evaluation stream (tries the run's
    /// own evaluations never used give a figure free of the choice of the best evaluation), with the
    /// policy file's metadata.
    public static func evaluateKeptPolicy(folder: String, tries: Range<Int>, models: ModelDirectory) throws
        -> (trials: ControllerTrials, metadata: [String: String]) {
        let config = try readConfig(folder + "/config.json")
        let (policy, metadata) = try PolicyFile.read(folder + "/controller_policy.safetensors", environment: environmentName,
                                                     observationDimension: ControllerObservation.dimension,
                                                     actionDimension: AntMazeEnvironment.nu, capacity: 1)
        return (try ControllerEvaluator(config: config, models: models).evaluate(policy, tries: tries), metadata)
    }

    // MARK: Resume

    private func save() throws {
        var (tensors, metadata) = sac.resumeState()
        metadata["format"] = "swift-diffusion-ql/ant-controller-resume-v1"
        metadata["evaluations"] = String(decoding: try JSONEncoder.sorted().encode(evaluations), as: UTF8.self)
        try SafetensorsFile.write(tensors, metadata: metadata, to: resumePath)
    }

    private func restore() throws {
        let file = try SafetensorsFile.read(contentsOf: resumePath)
        guard file.metadata["format"] == "swift-diffusion-ql/ant-controller-resume-v1",
              let evaluations = try? JSONDecoder().decode([ControllerEvaluation].self,
                                                          from: Data((file.metadata["evaluations"] ?? "").utf8))
        else {
            throw SACRunError.badFile(path: resumePath, reason: "not an ant controller's resume file, or its 'evaluations' are malformed")
        }
        try sac.restore(from: file, path: resumePath)
        self.evaluations = evaluations
        resumed = true
    }

    /// A run may be given more steps or another save interval, nothing else.
    private func requireCompatible(_ stored: AntControllerConfig) throws {
        var fields = config.sac.fieldsStoppingResume(stored: stored.sac)
        if stored.task != config.task { fields.append("task") }
        if stored.evaluationGoalDistance != config.evaluationGoalDistance { fields.append("evaluation_goal_distance") }
        if !fields.isEmpty { throw SACRunError.configMismatch(path: folder, fields: fields) }
    }

    static func readConfig(_ path: String) throws -> AntControllerConfig {
        do {
            return try JSONDecoder().decode(AntControllerConfig.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw SACRunError.badFile(path: path, reason: "not an ant controller's configuration: \(plainDescription(of: error))")
        }
    }
}

/// Rolls a controller policy out on tries of a run's evaluation: try i is the episode of
/// AntGoalReachingEnvironment reset with a seed from the stream (controllerEvaluation, seed, i), walked
/// with the policy's mean actions. Allocates nothing per step.
public final class ControllerEvaluator {
    public let environment: AntGoalReachingEnvironment
    public let seed: UInt64
    private let observation: UnsafeMutableBufferPointer<Double>
    private let input = FloatBuffer(count: ControllerObservation.dimension)
    private let action = FloatBuffer(count: AntMazeEnvironment.nu)
    private let actionForEnvironment: UnsafeMutableBufferPointer<Double>

    /// The evaluation of a run with `config`: goals `config.evaluationGoalDistance` from the start.
    public init(config: AntControllerConfig, models: ModelDirectory) throws {
        environment = try AntGoalReachingEnvironment(settings: config.task.evaluation(goalDistance: config.evaluationGoalDistance),
                                                     models: models)
        seed = config.sac.seed
        observation = .allocate(capacity: ControllerObservation.dimension)
        actionForEnvironment = .allocate(capacity: AntMazeEnvironment.nu)
    }

    deinit {
        observation.deallocate()
        actionForEnvironment.deallocate()
    }

    public func evaluate(_ policy: TanhGaussianPolicy, tries: Range<Int>) throws -> ControllerTrials {
        var successes = 0, flips = 0, steps = 0, finalDistances = 0.0
        for index in tries {
            var stream = SeededGenerator(.controllerEvaluation, seed: seed, index: index)
            environment.reset(seed: stream.next(), observation: observation)
            while true {
                for i in 0..<observation.count { input.pointer[i] = Float(observation[i]) }
                policy.meanActions(states: input.pointer, rows: 1, into: action.pointer)
                for i in 0..<action.count { actionForEnvironment[i] = Double(action.pointer[i]) }
                let outcome = try environment.step(action: UnsafeBufferPointer(actionForEnvironment), observation: observation)
                guard outcome.terminated || outcome.truncated, let goal = outcome.info.goal else { continue }
                if goal.reached { successes += 1 } else if outcome.terminated { flips += 1 }
                steps += environment.elapsedSteps
                finalDistances += goal.distance
                break
            }
        }
        let count = Double(tries.count)
        return ControllerTrials(tries: tries.count, successRate: Double(successes) / count, flipRate: Double(flips) / count,
                                meanSteps: Double(steps) / count, meanFinalDistance: finalDistances / count)
    }
}

/// Where a controller run stands, for a progress display.
public struct AntControllerProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var episodes: Int
    public var latest: ControllerEvaluation?

    /// "step 41234/2000000 · 230 steps/s · 96 episodes · last success 12% · 2 h 28 min left"
    public func line(stepsThisRun: Int, elapsedSeconds: Double) -> String {
        let rate = Double(stepsThisRun) / elapsedSeconds
        var parts = ["step \(step)/\(totalSteps)", ProgressFormat.rate(rate, unit: "steps"), "\(episodes) episodes"]
        if let latest { parts.append(String(format: "last success %.0f%%", 100 * latest.successRate)) }
        parts.append(ProgressFormat.timeLeft(remaining: Double(totalSteps - step), perSecond: rate))
        return parts.joined(separator: " · ")
    }
}
