import Environments
import Foundation
import NeuralNet
import Persistence
import RLCore
import SeededRandom

/// One evaluation of the SAC policy during its online training.
public struct SACEvaluation: Codable, Sendable, Equatable {
    /// Environment steps taken when it was evaluated.
    public var step: Int
    /// Mean undiscounted return of the evaluation episodes (sampled actions, as data is collected).
    public var meanReturn: Double
    public var normalizedScore: Double
    /// Means over the gradient steps since the previous evaluation.
    public var alpha: Double
    public var criticLoss: Double
    public var policyLoss: Double

    static let csvHeader = "step,mean_return,normalized_score,alpha,critic_loss,policy_loss"
    var csvLine: String {
        ([String(step)] + [meanReturn, normalizedScore, alpha, criticLoss, policyLoss].map { String(format: "%.6g", $0) })
            .joined(separator: ",")
    }

    enum CodingKeys: String, CodingKey {
        case step, meanReturn = "mean_return", normalizedScore = "normalized_score", alpha
        case criticLoss = "critic_loss", policyLoss = "policy_loss"
    }
}

/// Where an online SAC run stands, for a progress display.
public struct SACProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var episodes: Int
    public var latest: SACEvaluation?
    /// The step at which the medium policy was kept, once it has been.
    public var mediumStep: Int?
}

public enum SACRunError: Error, Equatable, CustomStringConvertible {
    case configMismatch(path: String, fields: [String])
    case badFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .configMismatch(path, fields):
            "\(path) holds a SAC run with other settings (\(fields.joined(separator: ", "))); "
                + "use another folder or the same settings"
        case let .badFile(path, reason): "\(path): \(reason)"
        }
    }
}

/// An online SAC run in its folder, the way D4RL's behaviour agents were trained: one environment
/// step with a sampled action, then one gradient step on a minibatch from the replay buffer.
///
/// The folder holds `config.json`, `progress.csv` (one line per evaluation), `medium_policy.safetensors`
/// and `medium_replay.hdf5` (the policy and the replay buffer at the first evaluation reaching the
/// medium score), `expert_policy.safetensors` (the policy after the last step) and
/// `resume.safetensors` (networks, optimizers, replay buffer and random stream), saved at an episode
/// end so that a resumed run continues exactly as an uninterrupted one.
public final class SACRun {
    public let folder: String
    public let environmentID: EnvironmentID
    public var config: SACConfig { sac.config }
    public var agent: SoftActorCritic { sac.agent }
    public var replay: ReplayBuffer { sac.replay }
    public private(set) var evaluations: [SACEvaluation] = []
    public private(set) var mediumStep: Int?
    public var episodes: Int { sac.episodes }
    /// Whether this run continued from a saved state.
    public private(set) var resumed = false
    /// Where the run resumed on a machine whose products round differently from the one that saved it,
    /// what to tell the person who resumed it (`DenseProducts.resumeWarning`).
    public var arithmeticWarning: String? { DenseProducts.resumeWarning(path: folder, savedWith: sac.savedArithmetic) }
    /// The files of an earlier run that `startOver` deleted.
    public let deletedHistory: [String]

    private let sac: OnlineSAC
    private let evaluationEnvironment: any Environment

    public var step: Int { sac.step }
    public var configPath: String { folder + "/config.json" }
    public var progressPath: String { folder + "/progress.csv" }
    public var resumePath: String { folder + "/resume.safetensors" }
    public var mediumPolicyPath: String { folder + "/medium_policy.safetensors" }
    public var mediumReplayPath: String { folder + "/medium_replay.hdf5" }
    public var expertPolicyPath: String { folder + "/expert_policy.safetensors" }

    /// Writes the replay buffer so far, as a dataset of the medium-replay level, when the medium policy
    /// is kept: (replay buffer, metadata naming the run, path). The dataset layer writes a D4RL file.
    public typealias MediumReplayWriter = (ReplayBuffer, [String: String], String) throws -> Void
    private let writeMediumReplay: MediumReplayWriter

    /// Opens the run in `folder`, resuming it when its resume state is there. A folder holding the
    /// history of a run (progress, policies, medium-replay data) without a resume state is refused
    /// (`RunHistoryError`) unless `startOver`, which deletes it first. The networks run on `threads`
    /// threads; the run is the same, to the byte, on any number.
    public init(folder: String, environment id: EnvironmentID, config: SACConfig, models: ModelDirectory, threads: Int = 1,
                startOver: Bool = false, mediumReplayWriter: @escaping MediumReplayWriter) throws {
        self.folder = folder
        deletedHistory = try Self.requireResumable(folder: folder, startOver: startOver)
        writeMediumReplay = mediumReplayWriter
        environmentID = id
        sac = try OnlineSAC(config: config, environment: try id.makeEnvironment(models: models), threads: threads)
        evaluationEnvironment = try id.makeEnvironment(models: models)

        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: configPath) {
            try requireCompatible(try Self.readConfig(configPath))
        }
        try AtomicFile.write(try Self.encode(config, environment: id), to: configPath)
        if FileManager.default.fileExists(atPath: resumePath) { try restore() }
    }

    /// Trains until the first episode end at or after `config.totalSteps` environment steps (or an
    /// earlier `untilStep`), then saves: stopping between episodes is what makes a resume exact.
    /// `stopWhen` is asked between steps (a signal's flag): when it says stop, the episode under way is
    /// finished, the state saved, and `train` returns false. Returns true when it reached its end.
    @discardableResult
    public func train(untilStep: Int? = nil, stopWhen shouldStop: () -> Bool = { false },
                      progress: ((SACProgress) -> Void)? = nil) throws -> Bool {
        let finished = try sac.train(until: min(untilStep ?? config.totalSteps, config.totalSteps), stopWhen: shouldStop,
                                     evaluate: evaluate, save: save) {
            progress?(SACProgress(step: step, totalSteps: config.totalSteps, episodes: episodes,
                                  latest: evaluations.last, mediumStep: mediumStep))
        }
        guard finished else { return false }
        if step >= config.totalSteps && !FileManager.default.fileExists(atPath: expertPolicyPath) {
            try writePolicy(to: expertPolicyPath)
        }
        try save()
        return true
    }

    /// Mean return over `evaluationEpisodes` episodes with sampled actions, from a stream of its own so
    /// that evaluating never changes training. The first evaluation at the medium score keeps the
    /// policy and the replay buffer so far.
    private func evaluate() throws {
        var evaluator = SeededGenerator(.behaviourEvaluation, seed: config.seed, index: step)
        var total = 0.0
        for _ in 0..<config.evaluationEpisodes {
            total += try episodeReturn(generator: &evaluator)
        }
        let meanReturn = total / Double(config.evaluationEpisodes)
        let losses = sac.takeLossMeans()
        let evaluation = SACEvaluation(
            step: step, meanReturn: meanReturn, normalizedScore: environmentID.normalizedScore(meanReturn),
            alpha: losses.alpha, criticLoss: losses.criticLoss, policyLoss: losses.policyLoss)
        evaluations.append(evaluation)
        try AtomicFile.write(([SACEvaluation.csvHeader] + evaluations.map(\.csvLine)).joined(separator: "\n") + "\n",
                             to: progressPath)
        if mediumStep == nil && evaluation.normalizedScore >= config.mediumScore {
            try writePolicy(to: mediumPolicyPath)
            try writeMediumReplay(replay, datasetMetadata(level: "medium-replay"), mediumReplayPath)
            mediumStep = step
        }
    }

    private func episodeReturn(generator: inout SeededGenerator) throws -> Double {
        let environment = evaluationEnvironment
        var observation = [Double](unsafeUninitializedCapacity: environment.observationSpace.dimension) { buffer, count in
            environment.reset(seed: generator.next(), observation: buffer)
            count = buffer.count
        }
        var total = 0.0
        while true {
            let action = observation.withUnsafeBufferPointer { sac.act(on: $0, generator: &generator) }
            let outcome = try observation.withUnsafeMutableBufferPointer { try environment.step(action: action, observation: $0) }
            total += outcome.reward
            if outcome.terminated || outcome.truncated { return total }
        }
    }

    public func datasetMetadata(level: String) -> [String: String] {
        ["algorithm": "SAC", "environment": environmentID.rawValue, "level": level, "iteration": String(step),
         "seed": String(config.seed)]
    }

    private func writePolicy(to path: String) throws {
        var metadata = ["step": String(step), "seed": String(config.seed)]
        if let last = evaluations.last {
            metadata["mean_return"] = String(last.meanReturn)
            metadata["normalized_score"] = String(last.normalizedScore)
        }
        try PolicyFile.write(agent.policy, environment: environmentID.rawValue, metadata: metadata, to: path)
    }

    // MARK: Resume

    private func save() throws {
        var (tensors, metadata) = sac.resumeState()
        metadata["format"] = "swift-diffusion-ql/sac-resume-v1"
        metadata["evaluations"] = String(decoding: try JSONEncoder.sorted().encode(evaluations), as: UTF8.self)
        if let mediumStep { metadata["medium_step"] = String(mediumStep) }
        try SafetensorsFile.write(tensors, metadata: metadata, to: resumePath)
    }

    private func restore() throws {
        let file = try SafetensorsFile.read(contentsOf: resumePath)
        guard let evaluations = try? JSONDecoder().decode([SACEvaluation].self, from: Data((file.metadata["evaluations"] ?? "").utf8))
        else {
            throw SACRunError.badFile(path: resumePath, reason: "metadata 'evaluations' missing or malformed")
        }
        try sac.restore(from: file, path: resumePath)
        mediumStep = file.metadata["medium_step"].flatMap { Int($0) }
        self.evaluations = evaluations
        resumed = true
    }

    /// See `RunHistory.requireResumable`. `expert_progress.csv` is the committed folders' record of an
    /// expert policy trained by a later run than their medium one; it goes with that policy.
    @discardableResult
    public static func requireResumable(folder: String, startOver: Bool) throws -> [String] {
        let history = ["progress.csv", "medium_policy.safetensors", "expert_policy.safetensors", "medium_replay.hdf5",
                       "expert_progress.csv"]
        return try RunHistory.requireResumable(folder: folder, history: history.map { ($0, $0) }, startOver: startOver)
    }

    /// A run may be given more steps or another save interval, nothing else.
    private func requireCompatible(_ stored: (EnvironmentID, SACConfig)) throws {
        let fields = (stored.0 == environmentID ? [] : ["environment"]) + config.fieldsStoppingResume(stored: stored.1)
        if !fields.isEmpty { throw SACRunError.configMismatch(path: folder, fields: fields) }
    }

    private struct StoredConfig: Codable {
        var environment: String
        var sac: SACConfig
    }

    static func encode(_ config: SACConfig, environment: EnvironmentID) throws -> String {
        String(decoding: try JSONEncoder.sorted().encode(StoredConfig(environment: environment.rawValue, sac: config)), as: UTF8.self)
    }

    static func readConfig(_ path: String) throws -> (EnvironmentID, SACConfig) {
        do {
            let stored = try JSONDecoder().decode(StoredConfig.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            guard let id = EnvironmentID(rawValue: stored.environment) else {
                throw SACRunError.badFile(path: path, reason: "unknown environment '\(stored.environment)'")
            }
            return (id, stored.sac)
        } catch let error as SACRunError {
            throw error
        } catch {
            throw SACRunError.badFile(path: path, reason: "not a SAC run configuration: \(plainDescription(of: error))")
        }
    }
}
