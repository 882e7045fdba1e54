import Foundation
import NeuralNet
import Parallel
import RLCore
import SeededRandom

/// The losses of one gradient step.
public struct StepLosses: Sendable, Equatable {
    /// L_d, the behaviour-cloning diffusion loss.
    public var bcLoss: Float
    /// The normalized Q loss -mean(Q_k(s, a_new)) / mean(|Q_other(s, a_new)|) (0 when eta = 0).
    public var qLoss: Float
    /// MSE(Q1, target) + MSE(Q2, target).
    public var criticLoss: Float
    /// L_d + eta * q loss.
    public var actorLoss: Float
    /// Gradient norms before clipping.
    public var actorGradientNorm: Float
    public var criticGradientNorm: Float
}

public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(problems: [String])
    case datasetMismatch(String)
    /// A loss went NaN or infinite; `lastCheckpoint` is the newest file the run had saved before.
    case nonFiniteLoss(name: String, value: Float, step: Int, lastCheckpoint: String?)

    public var description: String {
        switch self {
        case let .invalidConfig(problems):
            "invalid training configuration: " + problems.joined(separator: "; ")
        case let .datasetMismatch(message):
            message
        case let .nonFiniteLoss(name, value, step, lastCheckpoint):
            "\(name) is \(value) at gradient step \(step + 1); training stopped before applying it. "
                + (lastCheckpoint.map { "The last good checkpoint is \($0)." } ?? "No checkpoint had been saved yet.")
        }
    }
}

/// Diffusion-QL's Algorithm 1 (Wang, Hunt and Zhou, 2023), one gradient step at a time:
///   1. critic: TD target from the target critic at the EMA actor's next actions (optionally the
///      max over several), MSE of both Q networks, Adam;
///   2. actor: L_d + eta * normalized Q loss, the Q term differentiated through the whole sampling
///      chain, with Q1 or Q2 in the numerator at random, Adam;
///   3. target critic Polyak-averaged every step; EMA actor every `emaEvery` steps from `emaStartStep`.
/// Buffers are sized once; a step allocates nothing.
public final class Trainer {
    public let config: TrainingConfig
    public let actor: DiffusionPolicy
    /// The EMA of the actor; it supplies the next actions of the TD target.
    public let emaActor: DiffusionPolicy
    public let critic: Critic
    public let criticTarget: Critic
    public let actorOptimizer: Adam
    public let criticOptimizer: Adam
    /// Gradient steps taken.
    public internal(set) var step = 0
    /// The stream of every draw of training: minibatches, diffusion noise, the Q1/Q2 choice.
    public internal(set) var generator: SeededGenerator

    /// The threads that share the step's loops; nil when it runs on the calling thread alone.
    private let pool: WorkerPool?
    private let batch: TransitionBatch
    /// Next states repeated for the max-Q backup (each row `nextActionSamples` times in a row).
    private let repeatedNextStates: FloatBuffer
    private let nextActions: FloatBuffer
    private let targets: FloatBuffer
    private let q1Gradient: FloatBuffer
    private let q2Gradient: FloatBuffer
    private let newActions: FloatBuffer
    private let newActionGradient: FloatBuffer

    /// A trainer whose network passes are split between `threads` threads (the calling one included).
    /// The numbers do not depend on how many there are when the dense products are row-independent
    /// (`DenseProducts.isRowIndependent`).
    public init(config: TrainingConfig, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let problems = config.problems()
        guard problems.isEmpty else { throw TrainingError.invalidConfig(problems: problems) }
        self.config = config
        var initializer = SeededGenerator(.initialization, seed: config.seed)
        generator = SeededGenerator(.training, seed: config.seed)
        let schedule = NoiseSchedule(config.schedule, steps: config.diffusionSteps)
        let rows = config.batchSize, nextRows = rows * config.nextActionsPerState
        let pool = threads > 1 ? WorkerPool(threads: threads) : nil
        self.pool = pool
        func policy(capacity: Int) -> DiffusionPolicy {
            DiffusionPolicy(stateDimension: config.stateDimension, actionDimension: config.actionDimension,
                            maxAction: config.maxAction, schedule: schedule, hiddenWidth: config.hiddenWidth,
                            capacity: capacity, pool: pool, generator: &initializer)
        }
        func critic(capacity: Int) -> Critic {
            Critic(stateDimension: config.stateDimension, actionDimension: config.actionDimension,
                   hiddenWidth: config.hiddenWidth, capacity: capacity, pool: pool, generator: &initializer)
        }
        actor = policy(capacity: rows)
        emaActor = policy(capacity: nextRows)
        emaActor.parameters.copyValues(from: actor.parameters)
        self.critic = critic(capacity: rows)
        criticTarget = critic(capacity: nextRows)
        criticTarget.parameters.copyValues(from: self.critic.parameters)
        actorOptimizer = Adam(actor.parameters, learningRate: config.actorLearningRate)
        criticOptimizer = Adam(self.critic.parameters, learningRate: config.criticLearningRate)
        batch = TransitionBatch(rows: rows, stateDimension: config.stateDimension, actionDimension: config.actionDimension)
        repeatedNextStates = FloatBuffer(count: nextRows * config.stateDimension)
        nextActions = FloatBuffer(count: nextRows * config.actionDimension)
        targets = FloatBuffer(count: rows)
        q1Gradient = FloatBuffer(count: rows)
        q2Gradient = FloatBuffer(count: rows)
        newActions = FloatBuffer(count: rows * config.actionDimension)
        newActionGradient = FloatBuffer(count: rows * config.actionDimension)
    }

    /// The four networks under their checkpoint prefixes.
    var networks: [(CheckpointNetwork, Parameters)] {
        [(.actor, actor.parameters), (.emaActor, emaActor.parameters), (.critic, critic.parameters),
         (.criticTarget, criticTarget.parameters)]
    }

    /// The optimizers under the names their state is saved with.
    var namedOptimizers: [(String, Adam)] {
        [("actor_optimizer", actorOptimizer), ("critic_optimizer", criticOptimizer)]
    }

    /// One gradient step of Algorithm 1 on a minibatch drawn from `data`. Throws when a loss is not
    /// finite, before the update that loss would drive; the trainer is then not fit to be saved.
    /// The step's products run in a BLAS region, at the default thread count unless the caller opened
    /// a region of its own.
    @discardableResult
    public func step(on data: Transitions) throws -> StepLosses {
        try BLAS.atDefaultThreads { try gradientStep(on: data) }
    }

    private func gradientStep(on data: Transitions) throws -> StepLosses {
        precondition(data.stateDimension == config.stateDimension && data.actionDimension == config.actionDimension,
                     "dataset of other dimensions than the run")
        data.sample(into: batch, generator: &generator)
        setLearningRates()
        let (criticLoss, criticNorm) = try updateCritic()
        let (bcLoss, qLoss, actorNorm) = try updateActor()
        if step % config.emaEvery == 0 && step >= config.emaStartStep {
            emaActor.parameters.blend(towards: actor.parameters, tau: 1 - config.emaDecay, pool: pool)
        }
        criticTarget.parameters.blend(towards: critic.parameters, tau: config.targetUpdateRate, pool: pool)
        step += 1
        return StepLosses(bcLoss: bcLoss, qLoss: qLoss, criticLoss: criticLoss, actorLoss: bcLoss + config.eta * qLoss,
                          actorGradientNorm: actorNorm, criticGradientNorm: criticNorm)
    }

    /// Cosine decay to 0 over the run, one notch per gradient step, when the config asks for it.
    private func setLearningRates() {
        guard config.learningRateDecay else { return }
        let factor = Float(0.5 * (1 + cos(Double.pi * Double(step) / Double(config.totalSteps))))
        actorOptimizer.learningRate = config.actorLearningRate * factor
        criticOptimizer.learningRate = config.criticLearningRate * factor
    }

    private func updateCritic() throws -> (loss: Float, gradientNorm: Float) {
        let rows = batch.rows
        computeTargets()
        critic.parameters.zeroGradients(pool: pool)
        let (q1, q2) = critic.values(states: batch.states, actions: batch.actions, rows: rows)
        var loss: Double = 0
        let scale = 2 / Float(rows)
        for row in 0..<rows {
            let e1 = q1[row] - targets[row], e2 = q2[row] - targets[row]
            loss += Double(e1 * e1 + e2 * e2)
            q1Gradient[row] = scale * e1
            q2Gradient[row] = scale * e2
        }
        let criticLoss = Float(loss / Double(rows))
        try requireFinite(criticLoss, "critic loss")
        critic.backward(q1Gradient: q1Gradient.pointer, q2Gradient: q2Gradient.pointer)
        let norm = clip(critic.parameters)
        criticOptimizer.update(pool: pool)
        return (criticLoss, norm)
    }

    /// target = r + discount * not_done * min(max_k Q1'(s', a'_k), max_k Q2'(s', a'_k)), the a'_k
    /// from the EMA actor (one of them without the max-Q backup).
    private func computeTargets() {
        let rows = batch.rows
        guard config.discount != 0 else {
            targets.pointer.update(from: batch.rewards, count: rows)
            return
        }
        let samples = config.nextActionsPerState, width = config.stateDimension
        repeatInterleave(batch.nextStates, rows: rows, width: width, times: samples, into: repeatedNextStates.pointer)
        emaActor.sample(states: repeatedNextStates.pointer, rows: rows * samples, generator: &generator, into: nextActions.pointer)
        let (q1, q2) = criticTarget.values(states: repeatedNextStates.pointer, actions: nextActions.pointer, rows: rows * samples,
                                           recording: false)
        for row in 0..<rows {
            var best1 = -Float.infinity, best2 = -Float.infinity
            for k in row * samples ..< (row + 1) * samples {
                best1 = max(best1, q1[k])
                best2 = max(best2, q2[k])
            }
            targets[row] = batch.rewards[row] + config.discount * batch.notDone[row] * min(best1, best2)
        }
    }

    private func updateActor() throws -> (bcLoss: Float, qLoss: Float, gradientNorm: Float) {
        let rows = batch.rows
        actor.parameters.zeroGradients(pool: pool)
        let bcLoss = actor.behaviorCloningLoss(states: batch.states, actions: batch.actions, rows: rows,
                                               generator: &generator, accumulatingGradient: true)
        try requireFinite(bcLoss, "behaviour-cloning loss L_d")
        var qLoss: Float = 0
        if config.eta != 0 {
            actor.sample(states: batch.states, rows: rows, generator: &generator, into: newActions.pointer, recording: true)
            let (q1, q2) = critic.values(states: batch.states, actions: newActions.pointer, rows: rows)
            let numeratorIsQ1 = generator.uniform() > 0.5
            let (numerator, denominator) = numeratorIsQ1 ? (q1, q2) : (q2, q1)
            var sum: Double = 0, absoluteSum: Double = 0
            for row in 0..<rows {
                sum += Double(numerator[row])
                absoluteSum += Double(abs(denominator[row]))
            }
            let meanAbsolute = Float(absoluteSum / Double(rows))
            qLoss = -Float(sum / Double(rows)) / meanAbsolute
            try requireFinite(qLoss, "Q loss")
            // The denominator is detached, so only the numerator's network carries gradient.
            q1Gradient.fill(-config.eta / (Float(rows) * meanAbsolute))
            newActionGradient.fill(0)
            critic.backward(q1Gradient: numeratorIsQ1 ? q1Gradient.pointer : nil,
                            q2Gradient: numeratorIsQ1 ? nil : q1Gradient.pointer,
                            actionGradient: newActionGradient.pointer, parameterGradients: false)
            actor.backwardThroughSample(newActionGradient.pointer)
        }
        let norm = clip(actor.parameters)
        actorOptimizer.update(pool: pool)
        return (bcLoss, qLoss, norm)
    }

    private func clip(_ parameters: Parameters) -> Float {
        config.gradientNormClip > 0 ? parameters.clipGradientNorm(config.gradientNormClip, pool: pool) : parameters.gradientNorm(pool: pool)
    }

    private func requireFinite(_ value: Float, _ name: String) throws {
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(name: name, value: value, step: step, lastCheckpoint: nil) }
    }
}
