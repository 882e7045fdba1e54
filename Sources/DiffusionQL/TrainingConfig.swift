/// Everything that defines a Diffusion-QL run. Saved as the run folder's `config.json` (snake_case
/// keys) and inside every checkpoint, so a checkpoint alone says what it is.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// The D4RL task the run learns (e.g. "hopper-medium-v2"): picks the preset and, later, the
    /// environment a checkpoint is evaluated in.
    public var task: String
    /// Length of an observation.
    public var stateDimension: Int
    /// Length of an action.
    public var actionDimension: Int
    /// Sampled actions are clamped to ±maxAction (1 for every D4RL task).
    public var maxAction: Float
    /// Diffusion steps N of the policy (the paper's 5).
    public var diffusionSteps: Int = 5
    /// Noise schedule of the policy (the paper's vp).
    public var schedule: NoiseSchedule.Kind = .vp
    /// Width of every hidden layer of the noise model and of each Q network.
    public var hiddenWidth: Int = 256
    /// Transitions per gradient step.
    public var batchSize: Int = 256
    /// Discount of the TD target. 0 makes the critic regress the reward alone (the bandit) and skips
    /// sampling next actions.
    public var discount: Float = 0.99
    /// Polyak rate of the target critic, applied every step.
    public var targetUpdateRate: Float = 0.005
    /// Adam learning rate of the actor (the task preset's lr).
    public var actorLearningRate: Float = 3e-4
    /// Adam learning rate of the critic.
    public var criticLearningRate: Float = 3e-4
    /// Weight eta of the normalized Q loss in the actor loss. 0 trains a pure behaviour-cloning
    /// diffusion policy and skips the sampling chain's backward pass.
    public var eta: Float = 1
    /// Whether the TD target takes the max over `maxQBackupSamples` next actions (AntMaze presets).
    public var maxQBackup: Bool = false
    /// Next actions sampled per next state for the max-Q backup.
    public var maxQBackupSamples: Int = 10
    /// Gradient-norm clipping of both networks (the preset's gn); 0 switches clipping off.
    public var gradientNormClip: Float = 0
    /// Decay of the EMA actor that supplies the TD target's next actions.
    public var emaDecay: Float = 0.995
    /// Gradient step from which the EMA actor is updated; before it, it stays the initial actor.
    public var emaStartStep: Int = 1000
    /// The EMA actor is updated every this many gradient steps.
    public var emaEvery: Int = 5
    /// Cosine decay of both learning rates to 0 over the whole run, stepped every gradient step.
    public var learningRateDecay: Bool = false
    /// Epochs of `stepsPerEpoch` gradient steps (2000 for locomotion, 1000 for AntMaze).
    public var epochs: Int = 2000
    /// Gradient steps per epoch.
    public var stepsPerEpoch: Int = 1000
    /// A checkpoint is saved every this many epochs (and after the last).
    public var saveEvery: Int = 50
    /// The reference's early stop (`train --early-stop`): the run ends at the first block of epochs whose
    /// mean L_d rose above the previous block's. nil trains every epoch, as the paper's runs do.
    public var earlyStopping: EarlyStopping?
    /// Offline model selection takes the checkpoint whose mean L_d ranks top_k-th lowest (0 = lowest).
    public var topK: Int = 1
    /// Seed of the initial weights and of every random draw of training.
    public var seed: UInt64 = 0
    /// The data the run trains on, checked again when it resumes.
    public var dataset: DatasetIdentity?
    /// The rewards the run trains on, from the dataset's (AntMaze presets: (r − 0.5) × 4, as the paper
    /// trains them); nil for the dataset's own.
    public var rewardTransform: RewardTransform?

    public init(task: String, stateDimension: Int, actionDimension: Int, maxAction: Float = 1) {
        self.task = task
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        self.maxAction = maxAction
    }

    /// The configuration the paper trains `task` with, from its hyperparameter table; nil for a task
    /// the table does not list.
    /// AntMaze's v2 tasks (the same data, regenerated) take their v0 row.
    public static func preset(task: String, stateDimension: Int, actionDimension: Int) -> TrainingConfig? {
        let row = task.hasPrefix("antmaze") && task.hasSuffix("-v2") ? String(task.dropLast(3)) + "-v0" : task
        guard let preset = TaskPreset.table[row] else { return nil }
        var config = TrainingConfig(task: task, stateDimension: stateDimension, actionDimension: actionDimension)
        config.actorLearningRate = preset.learningRate
        config.eta = preset.eta
        config.maxQBackup = preset.maxQBackup
        config.gradientNormClip = preset.gradientNorm
        config.topK = preset.topK
        config.epochs = task.hasPrefix("antmaze") ? 1000 : 2000
        if task.hasPrefix("antmaze") { config.rewardTransform = .antMaze }
        return config
    }

    /// Next actions the TD target samples per next state: the max-Q backup's samples, else one.
    public var nextActionsPerState: Int { maxQBackup ? maxQBackupSamples : 1 }

    /// Total gradient steps of the run.
    public var totalSteps: Int { epochs * stepsPerEpoch }

    /// The problems that make this configuration untrainable, each naming its field.
    public func problems() -> [String] {
        var problems: [String] = []
        func require(_ condition: Bool, _ message: String) { if !condition { problems.append(message) } }
        require(stateDimension > 0, "state_dimension must be positive, not \(stateDimension)")
        require(actionDimension > 0, "action_dimension must be positive, not \(actionDimension)")
        require(maxAction > 0 && maxAction.isFinite, "max_action must be positive, not \(maxAction)")
        require(diffusionSteps >= 1, "diffusion_steps must be at least 1, not \(diffusionSteps)")
        require(hiddenWidth >= 1, "hidden_width must be positive, not \(hiddenWidth)")
        require(batchSize >= 1, "batch_size must be positive, not \(batchSize)")
        require(maxQBackupSamples >= 1, "max_q_backup_samples must be positive, not \(maxQBackupSamples)")
        require(epochs >= 1, "epochs must be positive, not \(epochs)")
        require(stepsPerEpoch >= 1, "steps_per_epoch must be positive, not \(stepsPerEpoch)")
        require(saveEvery >= 1, "save_every must be positive, not \(saveEvery)")
        require(emaEvery >= 1, "ema_every must be positive, not \(emaEvery)")
        if let earlyStopping {
            require(earlyStopping.blockEpochs >= 1, "early_stopping.block_epochs must be positive, not \(earlyStopping.blockEpochs)")
        }
        require(topK >= 0, "top_k must not be negative, not \(topK)")
        for (name, value) in [("actor_learning_rate", actorLearningRate), ("critic_learning_rate", criticLearningRate),
                              ("eta", eta), ("gradient_norm_clip", gradientNormClip), ("discount", discount)] {
            require(value >= 0 && value.isFinite, "\(name) must be finite and not negative, not \(value)")
        }
        if let rewardTransform {
            require(rewardTransform.shift.isFinite && rewardTransform.scale.isFinite,
                    "reward_transform must be finite, not \(rewardTransform.shift), \(rewardTransform.scale)")
        }
        return problems
    }
}

/// Which data a run was trained on: enough to refuse resuming on other data.
public struct DatasetIdentity: Codable, Sendable, Equatable {
    /// Where the data was read from.
    public var path: String
    /// Number of transitions.
    public var transitions: Int
    /// `Transitions.checksum` of the data, as a hex string.
    public var checksum: String

    public init(path: String, transitions: Transitions) {
        self.path = path
        self.transitions = transitions.count
        checksum = String(transitions.checksum, radix: 16)
    }
}

/// One row of the paper's hyperparameter table.
struct TaskPreset {
    let learningRate: Float
    let eta: Float
    let maxQBackup: Bool
    let gradientNorm: Float
    let topK: Int

    static let table: [String: TaskPreset] = [
        "halfcheetah-medium-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 9.0, topK: 1),
        "hopper-medium-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 9.0, topK: 2),
        "walker2d-medium-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 1.0, topK: 1),
        "halfcheetah-medium-replay-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 2.0, topK: 0),
        "hopper-medium-replay-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 4.0, topK: 2),
        "walker2d-medium-replay-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 4.0, topK: 1),
        "halfcheetah-medium-expert-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 7.0, topK: 0),
        "hopper-medium-expert-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 5.0, topK: 2),
        "walker2d-medium-expert-v2": .init(learningRate: 3e-4, eta: 1.0, maxQBackup: false, gradientNorm: 5.0, topK: 1),
        "antmaze-umaze-v0": .init(learningRate: 3e-4, eta: 0.5, maxQBackup: false, gradientNorm: 2.0, topK: 2),
        "antmaze-umaze-diverse-v0": .init(learningRate: 3e-4, eta: 2.0, maxQBackup: true, gradientNorm: 3.0, topK: 2),
        "antmaze-medium-play-v0": .init(learningRate: 1e-3, eta: 2.0, maxQBackup: true, gradientNorm: 2.0, topK: 1),
        "antmaze-medium-diverse-v0": .init(learningRate: 3e-4, eta: 3.0, maxQBackup: true, gradientNorm: 1.0, topK: 1),
        "antmaze-large-play-v0": .init(learningRate: 3e-4, eta: 4.5, maxQBackup: true, gradientNorm: 10.0, topK: 2),
        "antmaze-large-diverse-v0": .init(learningRate: 3e-4, eta: 3.5, maxQBackup: true, gradientNorm: 7.0, topK: 1),
    ]
}

/// A reward as training sees it: (r + shift) × scale.
public struct RewardTransform: Codable, Sendable, Equatable {
    public var shift: Float
    public var scale: Float

    public init(shift: Float, scale: Float) {
        self.shift = shift
        self.scale = scale
    }

    /// The paper's AntMaze rewards: (r − 0.5) × 4, so a step at the goal is worth 2 and every other
    /// step costs 2.
    public static let antMaze = RewardTransform(shift: -0.5, scale: 4)

    public func callAsFunction(_ reward: Float) -> Float { (reward + shift) * scale }
}
