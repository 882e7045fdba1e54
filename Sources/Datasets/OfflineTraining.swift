import DiffusionQL
import Environments
import Foundation

/// Settings of `train` that replace the task preset's.
public struct TrainingOverrides: Sendable {
    public var epochs: Int?
    public var stepsPerEpoch: Int?
    public var saveEvery: Int?
    public var seed: UInt64?
    public var eta: Float?
    public var gradientNormClip: Float?
    /// Stop early as the reference's `--early_stop` does (`EarlyStopping`'s 50-epoch blocks).
    public var earlyStop = false

    public init() {}

    /// These settings as `train`'s options, for the commands that run it (the scripts of `sweep train`).
    public var trainArguments: [String] {
        let given: [(String, String?)] = [
            ("--epochs", epochs.map { String($0) }), ("--steps-per-epoch", stepsPerEpoch.map { String($0) }),
            ("--save-every", saveEvery.map { String($0) }), ("--seed", seed.map { String($0) }), ("--eta", eta.map { "\($0)" }),
            ("--grad-norm", gradientNormClip.map { "\($0)" }),
        ]
        return given.flatMap { name, value in value.map { [name, $0] } ?? [] } + (earlyStop ? ["--early-stop"] : [])
    }
}

public enum OfflineTrainingError: Error, CustomStringConvertible {
    case noPreset(task: String)

    public var description: String {
        switch self {
        case let .noPreset(task):
            "the paper's hyperparameter table has no row for \(task); pass --eta and --grad-norm to train it"
        }
    }
}

/// A task, its dataset and the configuration to train Diffusion-QL on it: what `train` prepares
/// before it opens (or resumes) the run folder.
public struct OfflineTrainingSetup {
    public let task: D4RLTask
    public let datasetPath: String
    public let dataset: D4RLDataset
    public let transitions: Transitions
    public let config: TrainingConfig

    /// Where `collect` writes a task's dataset and `train` looks for it: `datasets/` under the
    /// current directory, with D4RL's file name (`hopper_medium-replay-v2.hdf5`).
    public static func defaultDatasetPath(for task: D4RLTask) -> String {
        "datasets/\(d4rlFileName(task))"
    }

    /// D4RL names its locomotion files with underscores between the words and a dash before the
    /// version; a maze's file follows the same pattern (`antmaze_medium_play-v2.hdf5`), one for the v0
    /// and v2 tasks of a dataset, since the data here is made once.
    static func d4rlFileName(_ task: D4RLTask) -> String {
        let level = task.dataset.replacingOccurrences(of: "-", with: "_")
        let family = task.hasGoal ? "antmaze" : task.environment.rawValue
        return "\(family)_\(level)-v2.hdf5"
    }

    /// Reads the dataset (checking it against the task's dimensions) and builds the configuration:
    /// the task's preset from the paper's table, then `overrides`.
    public init(task: D4RLTask, datasetPath: String?, overrides: TrainingOverrides) throws {
        let environment = task.environment
        let path = datasetPath ?? Self.defaultDatasetPath(for: task)
        let dataset = try D4RLFile.read(path: path)
        try dataset.requireDimensions(observation: environment.observationDimension, action: environment.actionDimension, path: path)
        let transitions: Transitions
        do {
            transitions = try dataset.transitions(episodeLimit: environment.maxEpisodeSteps)
        } catch TransitionsError.empty {
            throw D4RLFileError.noTransitions(path: path, rows: dataset.rows)
        }
        var config = try Self.configuration(for: task, overrides: overrides)
        config.dataset = DatasetIdentity(path: path, transitions: transitions)
        self.task = task
        self.datasetPath = path
        self.dataset = dataset
        self.transitions = transitions
        self.config = config
    }

    /// The task's preset from the paper's table with `overrides` applied, before any data is read: a
    /// task the table has no row for needs both `eta` and `gradientNormClip`.
    public static func configuration(for task: D4RLTask, overrides: TrainingOverrides) throws -> TrainingConfig {
        let environment = task.environment
        var config: TrainingConfig
        if let preset = TrainingConfig.preset(task: task.name, stateDimension: environment.observationDimension, actionDimension: environment.actionDimension) {
            config = preset
        } else if overrides.eta != nil && overrides.gradientNormClip != nil {
            config = TrainingConfig(task: task.name, stateDimension: environment.observationDimension, actionDimension: environment.actionDimension)
        } else {
            throw OfflineTrainingError.noPreset(task: task.name)
        }
        overrides.epochs.map { config.epochs = $0 }
        overrides.stepsPerEpoch.map { config.stepsPerEpoch = $0 }
        overrides.saveEvery.map { config.saveEvery = $0 }
        overrides.seed.map { config.seed = $0 }
        overrides.eta.map { config.eta = $0 }
        overrides.gradientNormClip.map { config.gradientNormClip = $0 }
        if overrides.earlyStop { config.earlyStopping = EarlyStopping() }
        return config
    }

    /// "datasets/hopper_medium-v2.hdf5: 1,000,000 rows, 998,999 transitions, 1,234 episodes (321 terminal, 913 timeouts)"
    public var summary: String {
        "\(datasetPath): \(dataset.rows) rows, \(transitions.count) transitions, "
            + "\(dataset.episodes(episodeLimit: task.environment.maxEpisodeSteps)) episodes "
            + "(\(dataset.terminalCount) terminal, \(dataset.timeoutCount) timeouts)"
    }
}
