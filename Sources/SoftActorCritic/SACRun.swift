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
    public let config: SACConfig
    public let agent: SoftActorCritic
    public private(set) var replay: ReplayBuffer
    public private(set) var evaluations: [SACEvaluation] = []
    public private(set) var mediumStep: Int?
    public private(set) var episodes = 0
    /// Whether this run continued from a saved state.
    public private(set) var resumed = false
    /// The files of an earlier run that `startOver` deleted.
    public let deletedHistory: [String]

    private var generator: SeededGenerator
    private let environment: any Environment
    private let evaluationEnvironment: any Environment
    private let batch: TransitionBatch
    private let observation: UnsafeMutableBufferPointer<Double>
    /// The simulator state before the step being taken, as the replay buffer records it.
    private let qpos: UnsafeMutableBufferPointer<Double>
    private let qvel: UnsafeMutableBufferPointer<Double>
    private let nextObservation: UnsafeMutableBufferPointer<Double>
    private let input: FloatBuffer
    private let action: FloatBuffer
    private let noise: FloatBuffer
    private let actionForEnvironment: UnsafeMutableBufferPointer<Double>
    private var episodeRunning = false
    private var lossSums = [Double](repeating: 0, count: 3)
    private var updatesSinceEvaluation = 0

    public var step: Int { replay.stepsAppended }
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
    /// (`RunHistoryError`) unless `startOver`, which deletes it first.
    public init(folder: String, environment id: EnvironmentID, config: SACConfig, models: ModelDirectory,
                startOver: Bool = false, mediumReplayWriter: @escaping MediumReplayWriter) throws {
        self.folder = folder
        deletedHistory = try Self.requireResumable(folder: folder, startOver: startOver)
        writeMediumReplay = mediumReplayWriter
        environmentID = id
        self.config = config
        environment = try id.makeEnvironment(models: models)
        evaluationEnvironment = try id.makeEnvironment(models: models)
        let (nq, nv) = id.stateDimensions
        let observationDimension = environment.observationSpace.dimension, actionDimension = environment.actionSpace.dimension
        var initializer = SeededGenerator(.initialization, seed: config.seed)
        agent = try SoftActorCritic(config: config, stateDimension: observationDimension, actionDimension: actionDimension,
                                    generator: &initializer)
        generator = SeededGenerator(.training, seed: config.seed)
        replay = ReplayBuffer(capacity: config.replayCapacity, observationDimension: observationDimension,
                              actionDimension: actionDimension, qposDimension: nq, qvelDimension: nv)
        batch = TransitionBatch(rows: config.batchSize, stateDimension: observationDimension, actionDimension: actionDimension)
        observation = .allocate(capacity: observationDimension)
        qpos = .allocate(capacity: nq)
        qvel = .allocate(capacity: nv)
        nextObservation = .allocate(capacity: observationDimension)
        input = FloatBuffer(count: observationDimension)
        action = FloatBuffer(count: actionDimension)
        noise = FloatBuffer(count: actionDimension)
        actionForEnvironment = .allocate(capacity: actionDimension)

        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: configPath) {
            try requireCompatible(try Self.readConfig(configPath))
        }
        try AtomicFile.write(try Self.encode(config, environment: id), to: configPath)
        if FileManager.default.fileExists(atPath: resumePath) { try restore() }
    }

    deinit {
        for buffer in [observation, nextObservation, qpos, qvel] { buffer.deallocate() }
        actionForEnvironment.deallocate()
    }

    /// Trains until the first episode end at or after `config.totalSteps` environment steps (or an
    /// earlier `untilStep`), then saves: stopping between episodes is what makes a resume exact.
    public func train(untilStep: Int? = nil, progress: ((SACProgress) -> Void)? = nil) throws {
        let end = min(untilStep ?? config.totalSteps, config.totalSteps)
        var nextSave = (step / config.saveEvery + 1) * config.saveEvery
        while step < end || episodeRunning {
            try environmentStep()
            if replay.count >= config.warmupSteps { try gradientStep() }
            if step % config.evaluateEvery == 0 { try evaluate() }
            if !episodeRunning && step >= nextSave {
                try save()
                nextSave = (step / config.saveEvery + 1) * config.saveEvery
            }
            progress?(SACProgress(step: step, totalSteps: config.totalSteps, episodes: episodes,
                                  latest: evaluations.last, mediumStep: mediumStep))
        }
        if step >= config.totalSteps && !FileManager.default.fileExists(atPath: expertPolicyPath) {
            try writePolicy(to: expertPolicyPath)
        }
        try save()
    }

    /// One step of the behaviour: an action sampled from the current policy (the untrained one during
    /// warm-up, as rlkit), recorded with the state it was taken in.
    private func environmentStep() throws {
        if !episodeRunning {
            environment.reset(seed: generator.next(), observation: observation)
            episodeRunning = true
        }
        environment.simulation.qpos.copy(to: qpos)
        environment.simulation.qvel.copy(to: qvel)
        var logProbability: Float = 0
        for i in 0..<observation.count { input.pointer[i] = Float(observation[i]) }
        for i in 0..<noise.count { noise.pointer[i] = Float(generator.normal()) }
        agent.policy.sample(states: input.pointer, rows: 1, noise: noise.pointer, actions: action.pointer,
                            logProbabilities: &logProbability)
        for i in 0..<action.count { actionForEnvironment[i] = Double(action.pointer[i]) }
        let outcome = try environment.step(action: UnsafeBufferPointer(actionForEnvironment), observation: nextObservation)
        replay.append(ReplayBuffer.Step(
            qpos: UnsafeBufferPointer(qpos), qvel: UnsafeBufferPointer(qvel), observation: UnsafeBufferPointer(observation),
            action: UnsafeBufferPointer(start: action.pointer, count: action.count), logProbability: logProbability,
            reward: outcome.reward, nextObservation: UnsafeBufferPointer(nextObservation),
            terminal: outcome.terminated, timeout: outcome.truncated && !outcome.terminated))
        _ = observation.update(fromContentsOf: nextObservation)
        if outcome.terminated || outcome.truncated {
            episodeRunning = false
            episodes += 1
        }
    }

    private func gradientStep() throws {
        replay.sample(into: batch, generator: &generator)
        let losses = try agent.update(on: batch, generator: &generator)
        for (index, value) in [losses.temperature, losses.criticLoss, losses.policyLoss].enumerated() {
            lossSums[index] += Double(value)
        }
        updatesSinceEvaluation += 1
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
        let updates = Double(max(updatesSinceEvaluation, 1))
        let evaluation = SACEvaluation(
            step: step, meanReturn: meanReturn, normalizedScore: environmentID.normalizedScore(meanReturn),
            alpha: lossSums[0] / updates, criticLoss: lossSums[1] / updates, policyLoss: lossSums[2] / updates)
        evaluations.append(evaluation)
        lossSums = [0, 0, 0]
        updatesSinceEvaluation = 0
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
        let observation = [Double](unsafeUninitializedCapacity: self.observation.count) { buffer, count in
            environment.reset(seed: generator.next(), observation: buffer)
            count = buffer.count
        }
        var state = observation.map(Float.init), total = 0.0
        var logProbability: Float = 0
        while true {
            for i in 0..<noise.count { noise.pointer[i] = Float(generator.normal()) }
            agent.policy.sample(states: state, rows: 1, noise: noise.pointer, actions: action.pointer, logProbabilities: &logProbability)
            let result = try environment.step((0..<action.count).map { Double(action.pointer[$0]) })
            total += result.reward
            if result.terminated || result.truncated { return total }
            state = result.observation.map(Float.init)
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
        var tensors: [NamedTensor] = []
        var metadata = ["format": "swift-diffusion-ql/sac-resume-v1", "generator": generator.snapshot,
                        "gradient_steps": String(agent.step), "steps_appended": String(replay.stepsAppended),
                        "episodes": String(episodes), "updates_since_evaluation": String(updatesSinceEvaluation),
                        "loss_sums": lossSums.map { String($0.bitPattern, radix: 16) }.joined(separator: ":"),
                        "evaluations": String(decoding: try JSONEncoder.sorted().encode(evaluations), as: UTF8.self)]
        if let mediumStep { metadata["medium_step"] = String(mediumStep) }
        for (name, parameters) in agent.namedParameters { tensors += parameters.namedTensors(prefix: name + ".") }
        for (name, optimizer) in agent.namedOptimizers {
            let state = optimizer.state(named: "optimizer." + name)
            tensors += state.tensors
            metadata.merge(state.metadata) { $1 }
        }
        for (name, width) in replay.layout {
            tensors.append(NamedTensor(name: "replay." + name, shape: [replay.count, width], values: replay.columns[name]!))
        }
        try SafetensorsFile.write(tensors, metadata: metadata, to: resumePath)
    }

    private func restore() throws {
        let file = try SafetensorsFile.read(contentsOf: resumePath)
        func number(_ key: String) throws -> Int {
            guard let value = file.metadata[key].flatMap({ Int($0) }), value >= 0 else {
                throw SACRunError.badFile(path: resumePath, reason: "metadata '\(key)' missing or malformed")
            }
            return value
        }
        guard let generator = file.metadata["generator"].flatMap(SeededGenerator.init(snapshot:)),
              let evaluations = try? JSONDecoder().decode([SACEvaluation].self, from: Data((file.metadata["evaluations"] ?? "").utf8))
        else {
            throw SACRunError.badFile(path: resumePath, reason: "metadata 'generator' or 'evaluations' missing or malformed")
        }
        for (name, parameters) in agent.namedParameters { try parameters.load(from: file, prefix: name + ".") }
        for (name, optimizer) in agent.namedOptimizers { try optimizer.restoreState(named: "optimizer." + name, from: file) }
        let stepsAppended = try number("steps_appended")
        var columns: [String: [Float]] = [:]
        for (name, width) in replay.layout {
            columns[name] = try file.tensor("replay." + name, shape: [min(stepsAppended, replay.capacity), width]).values
        }
        try replay.restore(columns: columns, stepsAppended: stepsAppended)
        agent.step = try number("gradient_steps")
        episodes = try number("episodes")
        updatesSinceEvaluation = try number("updates_since_evaluation")
        let sums = (file.metadata["loss_sums"] ?? "").split(separator: ":").compactMap { UInt64($0, radix: 16) }
        guard sums.count == lossSums.count else {
            throw SACRunError.badFile(path: resumePath, reason: "metadata 'loss_sums' missing or malformed")
        }
        lossSums = sums.map(Double.init(bitPattern:))
        mediumStep = file.metadata["medium_step"].flatMap { Int($0) }
        self.generator = generator
        self.evaluations = evaluations
        resumed = true
    }

    /// See `RunHistory.requireResumable`; interrupted writes' temporary files are removed either way.
    @discardableResult
    public static func requireResumable(folder: String, startOver: Bool) throws -> [String] {
        AtomicFile.removeInterruptedWrites(in: folder)
        let history = ["progress.csv", "medium_policy.safetensors", "expert_policy.safetensors", "medium_replay.hdf5"]
        return try RunHistory.requireResumable(
            folder: folder, history: history.map { ($0, $0) }, resumeFile: "resume.safetensors", extraFiles: ["config.json"],
            startOver: startOver, startOverFlag: "--start-over")
    }

    /// A run may be given more steps or another save interval, nothing else.
    private func requireCompatible(_ stored: (EnvironmentID, SACConfig)) throws {
        var comparable = config
        comparable.totalSteps = stored.1.totalSteps
        comparable.saveEvery = stored.1.saveEvery
        let fields = (stored.0 == environmentID ? [] : ["environment"]) + differingFields(stored.1, comparable)
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
