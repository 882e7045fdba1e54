import Foundation
import NeuralNet
import Parallel
import RLCore
import SeededRandom

/// SAC's settings, rlkit's defaults for MuJoCo locomotion (the agent D4RL's behaviour data came from).
/// Saved with a run as snake_case JSON.
public struct SACConfig: Codable, Sendable, Equatable {
    /// Seed of every draw: initial weights, minibatches, action noise and episode resets.
    public var seed: UInt64 = 0
    /// Width of the two hidden ReLU layers of the policy and of each Q network.
    public var hiddenWidth = 256
    /// Transitions per gradient step, drawn uniformly from the replay buffer.
    public var batchSize = 256
    /// Discount γ of the TD target.
    public var discount: Float = 0.99
    /// Polyak rate τ of the target critics, which move every gradient step.
    public var targetUpdateRate: Float = 0.005
    /// Adam learning rate of the policy and of the entropy temperature log α.
    public var policyLearningRate: Float = 3e-4
    /// Adam learning rate of the twin critics.
    public var criticLearningRate: Float = 3e-4
    /// Environment steps taken with the untrained policy before the first gradient step.
    public var warmupSteps = 1000
    /// Transitions the replay buffer holds; the oldest are overwritten beyond it.
    public var replayCapacity = 1_000_000
    /// Environment steps of the whole run; the policy at the end is the expert.
    public var totalSteps = 1_000_000
    /// The policy is evaluated every this many environment steps.
    public var evaluateEvery = 5000
    /// Episodes of each evaluation, with sampled actions as the datasets are collected.
    public var evaluationEpisodes = 5
    /// Mean normalized score of an evaluation at which the policy is kept as the medium policy (the
    /// first evaluation to reach it): about a third of the expert's, as D4RL's medium agents.
    public var mediumScore = 40.0
    /// Training state (networks, optimizers, replay buffer) is saved at the first episode end after
    /// every this many environment steps, so an interrupted run resumes there.
    public var saveEvery = 50_000

    public init() {}

    /// The entropy target of automatic temperature tuning, −|A| (Haarnoja et al., 2018).
    public static func targetEntropy(actionDimension: Int) -> Float { -Float(actionDimension) }

    /// What is wrong with these settings, as sentences naming the field; empty when they are usable.
    public func problems() -> [String] {
        var problems: [String] = []
        for (name, value) in [("hidden_width", hiddenWidth), ("batch_size", batchSize), ("replay_capacity", replayCapacity),
                              ("total_steps", totalSteps), ("evaluate_every", evaluateEvery),
                              ("evaluation_episodes", evaluationEpisodes), ("save_every", saveEvery)] where value < 1 {
            problems.append("\(name) must be at least 1 (got \(value))")
        }
        if warmupSteps < batchSize { problems.append("warmup_steps must be at least batch_size (got \(warmupSteps))") }
        if !(0...1).contains(discount) { problems.append("discount must be in [0, 1] (got \(discount))") }
        if !(0...1).contains(targetUpdateRate) { problems.append("target_update_rate must be in [0, 1] (got \(targetUpdateRate))") }
        for (name, value) in [("policy_learning_rate", policyLearningRate), ("critic_learning_rate", criticLearningRate)]
        where !(value > 0 && value.isFinite) {
            problems.append("\(name) must be positive (got \(value))")
        }
        return problems
    }

    enum CodingKeys: String, CodingKey {
        case seed, hiddenWidth = "hidden_width", batchSize = "batch_size", discount
        case targetUpdateRate = "target_update_rate", policyLearningRate = "policy_learning_rate"
        case criticLearningRate = "critic_learning_rate", warmupSteps = "warmup_steps"
        case replayCapacity = "replay_capacity", totalSteps = "total_steps", evaluateEvery = "evaluate_every"
        case evaluationEpisodes = "evaluation_episodes", mediumScore = "medium_score", saveEvery = "save_every"
    }
}

/// The losses and temperature of one SAC gradient step.
public struct SACLosses: Sendable, Equatable {
    /// MSE(Q1, target) + MSE(Q2, target).
    public var criticLoss: Float
    /// mean(α log π(ã | s) − min(Q1, Q2)(s, ã)).
    public var policyLoss: Float
    /// −mean(log α · (log π(ã | s) + target entropy)).
    public var temperatureLoss: Float
    /// α before this step's update.
    public var temperature: Float
    /// mean log π(ã | s): minus the policy's entropy estimate.
    public var logProbability: Float
}

public enum SACError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(problems: [String])
    case nonFiniteLoss(name: String, value: Float, step: Int)

    public var description: String {
        switch self {
        case let .invalidConfig(problems): "invalid SAC configuration: " + problems.joined(separator: "; ")
        case let .nonFiniteLoss(name, value, step):
            "SAC's \(name) is \(value) at gradient step \(step + 1); training stopped before applying it"
        }
    }
}

/// Soft actor-critic with automatic entropy tuning (Haarnoja et al., 2018), one gradient step at a
/// time, as rlkit's SACTrainer:
///   1. TD target: r + γ (1 − done) (min of the target critics at a' ~ π(s') − α log π(a' | s'));
///   2. critics: MSE of both Q networks against it;
///   3. policy: mean(α log π(ã | s) − min(Q1, Q2)(s, ã)), ã reparameterized;
///   4. temperature: −mean(log α (log π(ã | s) − |A|)).
/// Every loss is taken with the networks and α as they were before the step, then all three
/// optimizers step and the target critics move by τ. Buffers are sized once; a step allocates nothing.
public final class SoftActorCritic {
    public let config: SACConfig
    public let stateDimension: Int
    public let actionDimension: Int
    public let policy: TanhGaussianPolicy
    public let critic: Critic
    public let criticTarget: Critic
    /// One tensor, `log_alpha`: the log of the entropy temperature α, which starts at 1.
    public let temperature = Parameters()
    public let policyOptimizer: Adam
    public let criticOptimizer: Adam
    public let temperatureOptimizer: Adam
    /// Gradient steps taken (set when a saved run is restored).
    public var step = 0

    private let targetEntropy: Float
    /// Shares the loops over all parameters (Adam, zeroing, target averaging) and the noise's transforms
    /// as it does the passes.
    private let pool: WorkerPool?
    private let noise: FloatBuffer
    /// The uniforms of that noise (`drawNoise`).
    private let noiseUniforms: UnsafeMutablePointer<Double>
    private let nextActions: FloatBuffer
    private let nextLogProbabilities: FloatBuffer
    private let newActions: FloatBuffer
    private let newLogProbabilities: FloatBuffer
    private let targets: FloatBuffer
    private let q1Gradient: FloatBuffer
    private let q2Gradient: FloatBuffer
    private let actionGradient: FloatBuffer

    /// `pool` shares the parts of every network pass; the numbers are the same on any number of threads.
    public init(config: SACConfig, stateDimension: Int, actionDimension: Int, pool: WorkerPool? = nil,
                generator: inout SeededGenerator) throws {
        let problems = config.problems()
        guard problems.isEmpty else { throw SACError.invalidConfig(problems: problems) }
        self.config = config
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        self.pool = pool
        let rows = config.batchSize
        policy = TanhGaussianPolicy(stateDimension: stateDimension, actionDimension: actionDimension,
                                    hiddenWidth: config.hiddenWidth, capacity: rows, pool: pool, generator: &generator)
        func twinCritic() -> Critic {
            Critic(stateDimension: stateDimension, actionDimension: actionDimension, hiddenWidth: config.hiddenWidth,
                   hiddenLayers: 2, activation: .relu, capacity: rows, pool: pool, generator: &generator)
        }
        critic = twinCritic()
        criticTarget = twinCritic()
        criticTarget.parameters.copyValues(from: critic.parameters)
        _ = temperature.add(name: "log_alpha", shape: [1], values: [0])
        // Adam is element-wise, so one optimizer over both Q networks is rlkit's two.
        policyOptimizer = Adam(policy.parameters, learningRate: config.policyLearningRate)
        criticOptimizer = Adam(critic.parameters, learningRate: config.criticLearningRate)
        temperatureOptimizer = Adam(temperature, learningRate: config.policyLearningRate)
        targetEntropy = SACConfig.targetEntropy(actionDimension: actionDimension)
        noise = FloatBuffer(count: rows * actionDimension)
        noiseUniforms = .allocate(capacity: rows * actionDimension + 1)
        nextActions = FloatBuffer(count: rows * actionDimension)
        nextLogProbabilities = FloatBuffer(count: rows)
        newActions = FloatBuffer(count: rows * actionDimension)
        newLogProbabilities = FloatBuffer(count: rows)
        targets = FloatBuffer(count: rows)
        q1Gradient = FloatBuffer(count: rows)
        q2Gradient = FloatBuffer(count: rows)
        actionGradient = FloatBuffer(count: rows * actionDimension)
    }

    deinit { noiseUniforms.deallocate() }

    /// The current temperature α = exp(log α).
    public var alpha: Float { exp(temperature.values[0]) }

    /// The networks and optimizers by the names a resume file stores them under.
    public var namedParameters: [(name: String, parameters: Parameters)] {
        [("policy", policy.parameters), ("critic", critic.parameters), ("critic_target", criticTarget.parameters),
         ("temperature", temperature)]
    }

    public var namedOptimizers: [(name: String, optimizer: Adam)] {
        [("policy", policyOptimizer), ("critic", criticOptimizer), ("temperature", temperatureOptimizer)]
    }

    /// One gradient step on `batch` (batchSize rows); `generator` draws the reparameterization noise.
    @discardableResult
    public func update(on batch: TransitionBatch, generator: inout SeededGenerator) throws -> SACLosses {
        try BLAS.atDefaultThreads { try gradientStep(on: batch, generator: &generator) }
    }

    private func gradientStep(on batch: TransitionBatch, generator: inout SeededGenerator) throws -> SACLosses {
        let rows = config.batchSize, width = actionDimension, scale = 1 / Float(rows)
        precondition(batch.rows == rows, "a batch of \(batch.rows) rows for a batch size of \(rows)")
        let alpha = self.alpha

        // 1. TD target at next actions from the current policy; no gradient flows into it.
        drawNoise(rows * width, &generator)
        policy.sample(states: batch.nextStates, rows: rows, noise: noise.pointer, actions: nextActions.pointer,
                      logProbabilities: nextLogProbabilities.pointer)
        let next = criticTarget.values(states: batch.nextStates, actions: nextActions.pointer, rows: rows)
        for row in 0..<rows {
            let softValue = min(next.q1[row], next.q2[row]) - alpha * nextLogProbabilities[row]
            targets[row] = batch.rewards[row] + batch.notDone[row] * config.discount * softValue
        }

        // 2. Critics: both Q networks regress the target.
        critic.parameters.zeroGradients(pool: pool)
        let current = critic.values(states: batch.states, actions: batch.actions, rows: rows)
        var criticLoss: Float = 0
        for row in 0..<rows {
            let error1 = current.q1[row] - targets[row], error2 = current.q2[row] - targets[row]
            criticLoss += (error1 * error1 + error2 * error2) * scale
            q1Gradient[row] = 2 * error1 * scale
            q2Gradient[row] = 2 * error2 * scale
        }
        critic.backward(q1Gradient: q1Gradient.pointer, q2Gradient: q2Gradient.pointer)

        // 3. Policy: through the smaller Q at each row, with the critics' weights held fixed.
        drawNoise(rows * width, &generator)
        policy.sample(states: batch.states, rows: rows, noise: noise.pointer, actions: newActions.pointer,
                      logProbabilities: newLogProbabilities.pointer)
        let fresh = critic.values(states: batch.states, actions: newActions.pointer, rows: rows)
        var policyLoss: Float = 0, meanLogProbability: Float = 0
        for row in 0..<rows {
            let firstIsSmaller = fresh.q1[row] <= fresh.q2[row]
            policyLoss += (alpha * newLogProbabilities[row] - min(fresh.q1[row], fresh.q2[row])) * scale
            meanLogProbability += newLogProbabilities[row] * scale
            q1Gradient[row] = firstIsSmaller ? -scale : 0
            q2Gradient[row] = firstIsSmaller ? 0 : -scale
        }
        actionGradient.fill(0)
        critic.backward(q1Gradient: q1Gradient.pointer, q2Gradient: q2Gradient.pointer,
                        actionGradient: actionGradient.pointer, parameterGradients: false)
        policy.parameters.zeroGradients(pool: pool)
        policy.backward(actionGradient: actionGradient.pointer, logProbabilityWeight: alpha * scale)

        // 4. Temperature: raise α while the entropy is below its target, lower it above.
        let logAlpha = temperature.values[0]
        let temperatureLoss = -logAlpha * (meanLogProbability + targetEntropy)
        temperature.gradients[0] = -(meanLogProbability + targetEntropy)

        let losses = SACLosses(criticLoss: criticLoss, policyLoss: policyLoss, temperatureLoss: temperatureLoss,
                               temperature: alpha, logProbability: meanLogProbability)
        for (name, value) in [("critic loss", criticLoss), ("policy loss", policyLoss)] where !value.isFinite {
            throw SACError.nonFiniteLoss(name: name, value: value, step: step)
        }
        criticOptimizer.update(pool: pool)
        policyOptimizer.update(pool: pool)
        temperatureOptimizer.update()
        criticTarget.parameters.blend(towards: critic.parameters, tau: config.targetUpdateRate, pool: pool)
        step += 1
        return losses
    }

    /// `count` normals from `generator` in turn, their transforms shared by the pool (`deferNormals`).
    private func drawNoise(_ count: Int, _ generator: inout SeededGenerator) {
        generator.deferNormals(count, uniforms: noiseUniforms).fill(into: noise.pointer, on: pool)
    }
}
