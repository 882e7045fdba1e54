import Environments
import Foundation
import Persistence
import SoftActorCritic

public enum BehaviourDatasetError: Error, Equatable, CustomStringConvertible {
    case unknownLevel(String)
    case missingRunFile(path: String, level: String, environment: String)

    public var description: String {
        switch self {
        case let .unknownLevel(level):
            "unknown dataset level '\(level)'; the levels are \(BehaviourDatasets.levels.joined(separator: ", "))"
        case let .missingRunFile(path, level, environment):
            "\(path) does not exist: the \(level) dataset comes from the SAC run of \(environment); "
                + "run `collect sac --env \(environment)` to train it"
        }
    }
}

/// D4RL's locomotion datasets made the way D4RL made them, from a SAC run's folder
/// (`checkpoints/sac-<env>` by default): random from uniform actions, medium and expert from the run's
/// kept policies, medium-expert as medium then expert, medium-replay from the run's replay buffer.
public struct BehaviourDatasets {
    public static let levels = ["random", "medium", "medium-replay", "expert", "medium-expert"]

    public var collector: DatasetCollector
    /// The SAC run whose policies and replay buffer the datasets come from.
    public var runFolder: String

    public init(environment: EnvironmentID, models: ModelDirectory, runFolder: String? = nil) {
        collector = DatasetCollector(environment: environment, models: models)
        self.runFolder = runFolder ?? Self.defaultRunFolder(environment)
    }

    /// Where `collect sac` trains an environment's behaviour agent and keeps its policies: the run
    /// `sac-<env>` where it already is, else in `checkpoints/` under the working directory.
    public static func defaultRunFolder(_ environment: EnvironmentID) -> String {
        RunsFolder.path(ofRun: "sac-\(environment.rawValue)")
    }

    public func policyPath(level: String) -> String { "\(runFolder)/\(level)_policy.safetensors" }
    public var mediumReplayPath: String { "\(runFolder)/medium_replay.hdf5" }

    /// The dataset of `level`: `transitions` per rolled-out part (medium-expert has two), whole
    /// episodes; the same seed gives the same bytes.
    public func make(level: String, transitions: Int, seed: UInt64,
                     progress: ((CollectionProgress) -> Void)? = nil) throws -> D4RLDataset {
        let environment = collector.environment
        switch level {
        case "random":
            let space = try environment.makeEnvironment(models: collector.models).actionSpace
            return try collector.collect(.uniform(space), transitions: transitions, seed: seed,
                                         metadata: ["algorithm": "uniform random", "level": level], progress: progress)
        case "medium", "expert":
            let path = policyPath(level: level)
            guard FileManager.default.fileExists(atPath: path) else {
                throw BehaviourDatasetError.missingRunFile(path: path, level: level, environment: environment.rawValue)
            }
            let (policy, stored) = try PolicyFile.read(path, environment: environment.rawValue,
                                                       observationDimension: environment.observationDimension,
                                                       actionDimension: environment.actionDimension, capacity: collector.copies)
            var metadata = ["algorithm": "SAC", "level": level, "policy": PolicyFile.portableName(path)]
            metadata["iteration"] = stored["step"]
            metadata["policy_normalized_score"] = stored["normalized_score"]
            return try collector.collect(.policy(policy), transitions: transitions, seed: seed,
                                         metadata: metadata, progress: progress)
        case "medium-expert":
            var joined = try make(level: "medium", transitions: transitions, seed: seed, progress: progress)
                .appending(try make(level: "expert", transitions: transitions, seed: seed, progress: progress))
            joined.metadata["level"] = level
            return joined
        case "medium-replay":
            guard FileManager.default.fileExists(atPath: mediumReplayPath) else {
                throw BehaviourDatasetError.missingRunFile(path: mediumReplayPath, level: level, environment: environment.rawValue)
            }
            return try D4RLFile.read(path: mediumReplayPath)
        default:
            throw BehaviourDatasetError.unknownLevel(level)
        }
    }
}
