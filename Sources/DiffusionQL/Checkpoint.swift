import Foundation
import NeuralNet
import Persistence
import RLCore
import SeededRandom

/// The networks a checkpoint holds, each under its prefix: the reference's state_dict names follow
/// it (`actor.model.mid_layer.0.weight`, `critic_target.q1_model.6.bias`, ...).
public enum CheckpointNetwork: String, CaseIterable, Sendable {
    case actor, emaActor = "ema_actor", critic, criticTarget = "critic_target"

    public var prefix: String { rawValue + "." }
    var isPolicy: Bool { self == .actor || self == .emaActor }
}

public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file is safetensors but not one this project wrote (or a newer format).
    case foreign(path: String, reason: String)
    /// The configuration inside the file does not decode or is not trainable.
    case badConfig(path: String, reason: String)
    /// A stored schedule buffer disagrees with the configuration's schedule.
    case scheduleMismatch(path: String, name: String)
    /// The networks are of other dimensions than the task they are used for.
    case dimensionMismatch(path: String, what: String, checkpoint: Int, task: Int)

    public var description: String {
        switch self {
        case let .foreign(path, reason):
            "\(path): not a Diffusion-QL checkpoint of this project: \(reason)"
        case let .badConfig(path, reason):
            "\(path): bad run configuration inside the checkpoint: \(reason)"
        case let .scheduleMismatch(path, name):
            "\(path): tensor '\(name)' disagrees with the noise schedule the configuration names"
        case let .dimensionMismatch(path, what, checkpoint, task):
            "\(path): the checkpoint's \(what) is \(checkpoint), the task's is \(task)"
        }
    }
}

/// A checkpoint file: the four networks in safetensors, and in its metadata the format, the epoch,
/// the gradient step and the whole run configuration (so one file is enough to evaluate it).
public struct CheckpointFile: Sendable {
    static let format = "swift-diffusion-ql/checkpoint-v1"
    /// What `tools/convert_reference_checkpoint.py` writes: the PyTorch reference's `actor_<epoch>.pth`
    /// and `critic_<epoch>.pth` under `actor.` and `critic.`, with the task and epoch as metadata.
    static let referenceFormat = "diffusion-ql-reference/pytorch"

    public let path: String
    public let config: TrainingConfig
    public let epoch: Int
    public let step: Int
    /// Networks the file lacks and the stored network that stands in for each.
    public let standIns: [CheckpointNetwork: CheckpointNetwork]
    let file: SafetensorsFile

    /// One sentence per stand-in, for the user to see.
    public var notes: [String] {
        standIns.sorted { $0.key.rawValue < $1.key.rawValue }.map { missing, standIn in
            "\(path) has no \(missing.rawValue) (the reference saves none); the \(standIn.rawValue) stands in for it"
        }
    }

    /// Reads and checks the header and configuration; tensors are read when loaded.
    public static func read(contentsOf path: String) throws -> CheckpointFile {
        let file = try SafetensorsFile.read(contentsOf: path)
        guard let format = file.metadata["format"] else {
            throw CheckpointError.foreign(path: path, reason: "its metadata has no 'format' entry")
        }
        if format == Self.referenceFormat { return try reference(file, path: path) }
        guard format == Self.format else {
            throw CheckpointError.foreign(path: path, reason: "format '\(format)', expected '\(Self.format)'")
        }
        guard let epoch = file.metadata["epoch"].flatMap({ Int($0) }), let step = file.metadata["step"].flatMap({ Int($0) }) else {
            throw CheckpointError.foreign(path: path, reason: "metadata 'epoch' or 'step' missing or not a number")
        }
        let config: TrainingConfig
        do {
            config = try TrainingConfig.decode(json: file.metadata["config"] ?? "")
        } catch {
            throw CheckpointError.badConfig(path: path, reason: plainDescription(of: error))
        }
        let problems = config.problems()
        guard problems.isEmpty else { throw CheckpointError.badConfig(path: path, reason: problems.joined(separator: "; ")) }
        return CheckpointFile(path: path, config: config, epoch: epoch, step: step, standIns: [:], file: file)
    }

    /// A converted reference checkpoint: dimensions from the tensors, hyperparameters from the task's
    /// preset, the actor standing in for the EMA actor and the critic for the target critic.
    private static func reference(_ file: SafetensorsFile, path: String) throws -> CheckpointFile {
        guard let task = file.metadata["task"], let epoch = file.metadata["epoch"].flatMap({ Int($0) }) else {
            throw CheckpointError.foreign(path: path, reason: "a converted reference checkpoint needs metadata 'task' and 'epoch'")
        }
        let actionDimension = try file.shape(of: "actor.model.final_layer.weight")[0]
        let firstCritic = try file.shape(of: "critic.q1_model.0.weight")
        let steps = try file.shape(of: "actor.betas")[0]
        var config = TrainingConfig.preset(task: task, stateDimension: firstCritic[1] - actionDimension, actionDimension: actionDimension)
            ?? TrainingConfig(task: task, stateDimension: firstCritic[1] - actionDimension, actionDimension: actionDimension)
        config.hiddenWidth = firstCritic[0]
        config.diffusionSteps = steps
        return CheckpointFile(path: path, config: config, epoch: epoch, step: file.metadata["step"].flatMap { Int($0) } ?? 0,
                              standIns: [.emaActor: .actor, .criticTarget: .critic], file: file)
    }

    /// Writes the trainer's four networks atomically, each policy with the schedule buffers the
    /// reference's state_dict has, so that every prefix loads strictly into the reference's module.
    static func write(_ trainer: Trainer, epoch: Int, extraTensors: [NamedTensor] = [], extraMetadata: [String: String] = [:],
                      to path: String) throws {
        var tensors = extraTensors
        let buffers = trainer.actor.schedule.namedBuffers  // the EMA actor's too: one configuration, one schedule
        for (network, parameters) in trainer.networks {
            tensors += parameters.namedTensors(prefix: network.prefix)
            guard network.isPolicy else { continue }
            for (name, values) in buffers {
                tensors.append(NamedTensor(name: network.prefix + name, shape: [values.count], values: values.map(Float.init)))
            }
        }
        var metadata = extraMetadata
        metadata["format"] = format
        metadata["epoch"] = String(epoch)
        metadata["step"] = String(trainer.step)
        metadata["config"] = try trainer.config.encodedJSON()
        try SafetensorsFile.write(tensors, metadata: metadata, to: path)
    }

    /// Overwrites `parameters` with the stored network, checking every tensor's shape and finiteness.
    public func load(_ network: CheckpointNetwork, into parameters: Parameters) throws {
        let stored = standIns[network] ?? network
        try parameters.load(from: file, prefix: stored.prefix)
        if stored.isPolicy { try checkScheduleBuffers(of: stored) }
    }

    /// A policy holding the stored actor or EMA actor, sized for batches of `capacity` rows.
    public func policy(_ network: CheckpointNetwork = .actor, capacity: Int) throws -> DiffusionPolicy {
        precondition(network.isPolicy, "\(network) is not a policy")
        var unused = SeededGenerator(seed: 0)
        let policy = DiffusionPolicy(stateDimension: config.stateDimension, actionDimension: config.actionDimension,
                                     maxAction: config.maxAction, schedule: NoiseSchedule(config.schedule, steps: config.diffusionSteps),
                                     hiddenWidth: config.hiddenWidth, capacity: capacity, generator: &unused)
        try load(network, into: policy.parameters)
        return policy
    }

    /// A critic holding the stored critic or target critic, sized for batches of `capacity` rows.
    public func critic(_ network: CheckpointNetwork = .criticTarget, capacity: Int) throws -> Critic {
        precondition(!network.isPolicy, "\(network) is not a critic")
        var unused = SeededGenerator(seed: 0)
        let critic = Critic(stateDimension: config.stateDimension, actionDimension: config.actionDimension,
                            hiddenWidth: config.hiddenWidth, capacity: capacity, generator: &unused)
        try load(network, into: critic.parameters)
        return critic
    }

    /// The paper's evaluation actor: the online actor's candidates scored by the target critic.
    public func actionSelector(maxStates: Int, candidates: Int = 50, rule: ActionSelector.Rule = .softmax) throws -> ActionSelector {
        try ActionSelector(maxStates: maxStates, candidates: candidates, rule: rule) { capacity in
            ActionSelector.Lane(actor: try policy(.actor, capacity: capacity), critic: try critic(.criticTarget, capacity: capacity))
        }
    }

    /// Loads every network the file holds: every tensor under every prefix, with its name, shape, type
    /// and finiteness, and each policy's schedule buffers. A damaged file is then refused before any work
    /// starts, not when one of its networks is first needed.
    public func verifyNetworks() throws {
        for network in CheckpointNetwork.allCases {
            if network.isPolicy { _ = try policy(network, capacity: 1) } else { _ = try critic(network, capacity: 1) }
        }
    }

    /// Throws unless the networks fit a task with these dimensions.
    public func requireDimensions(state: Int, action: Int) throws {
        if config.stateDimension != state {
            throw CheckpointError.dimensionMismatch(path: path, what: "state dimension", checkpoint: config.stateDimension, task: state)
        }
        if config.actionDimension != action {
            throw CheckpointError.dimensionMismatch(path: path, what: "action dimension", checkpoint: config.actionDimension, task: action)
        }
    }

    public func tensor(_ name: String, shape: [Int]) throws -> [Float] {
        try file.tensor(name, shape: shape).values
    }

    private func checkScheduleBuffers(of network: CheckpointNetwork) throws {
        let schedule = NoiseSchedule(config.schedule, steps: config.diffusionSteps)
        // Checkpoints written before the EMA actor carried its own buffers (run7) hold them under
        // `actor.` only; both policies follow the one configuration's schedule, so those stand for it.
        let ownNames = Set(schedule.namedBuffers.map { network.prefix + $0.name })
        let olderLayout = network == .emaActor && ownNames.isDisjoint(with: file.names)
        let prefix = olderLayout ? CheckpointNetwork.actor.prefix : network.prefix
        for (name, expected) in schedule.namedBuffers {
            let fullName = prefix + name
            let stored = try file.tensor(fullName, shape: [expected.count], requireFinite: false).values
            for (value, reference) in zip(stored, expected) where !(abs(Double(value) - reference) <= 1e-5 * max(1, abs(reference))) {
                throw CheckpointError.scheduleMismatch(path: path, name: fullName)
            }
        }
    }
}

extension TrainingConfig {
    /// The configuration as JSON with snake_case keys and sorted, so equal configs give equal text.
    public func encodedJSON() throws -> String {
        let encoder = JSONEncoder.sorted()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func decode(json: String) throws -> TrainingConfig {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TrainingConfig.self, from: Data(json.utf8))
    }
}
