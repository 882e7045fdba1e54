import Environments
import Foundation
import Persistence
import RLCore
import NeuralNet
import Parallel
import SeededRandom

/// What every online SAC run shares, whatever it trains for (the behaviour agent of the locomotion
/// datasets, the goal-reaching ant controller): one environment step with a sampled action, then one
/// gradient step on a minibatch from the replay buffer; evaluations at fixed steps; training state saved
/// at episode ends (at fixed steps, and when asked to stop), where a resumed run continues exactly as an
/// uninterrupted one.
final class OnlineSAC {
    let config: SACConfig
    let agent: SoftActorCritic
    private(set) var replay: ReplayBuffer
    private(set) var episodes = 0
    private(set) var episodeRunning = false

    private var generator: SeededGenerator
    private let environment: any Environment
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
    private var lossSums = [Double](repeating: 0, count: 3)
    /// The products' arithmetic of the state this run resumed from (`DenseProducts.arithmetic`); nil for
    /// a new run or a state saved before it was recorded.
    private(set) var savedArithmetic: String?
    private var updatesSinceEvaluation = 0

    var step: Int { replay.stepsAppended }

    /// SAC on `environment`, its weights drawn from the run's initialization stream and everything it
    /// draws afterwards (resets, action noise, minibatches) from its training stream. Its network passes
    /// run on `threads` threads, to the same numbers on any number.
    init(config: SACConfig, environment: any Environment, threads: Int) throws {
        self.config = config
        self.environment = environment
        let nq = environment.simulation.qpos.count, nv = environment.simulation.qvel.count
        let observationDimension = environment.observationSpace.dimension, actionDimension = environment.actionSpace.dimension
        var initializer = SeededGenerator(.initialization, seed: config.seed)
        agent = try SoftActorCritic(config: config, stateDimension: observationDimension, actionDimension: actionDimension,
                                    pool: WorkerPool(threads: threads), generator: &initializer)
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
    }

    deinit {
        for buffer in [observation, nextObservation, qpos, qvel, actionForEnvironment] { buffer.deallocate() }
    }

    /// Trains until the first episode end at or after `end` environment steps: `evaluate` runs after every
    /// `config.evaluateEvery`-th step, `save` at the first episode end after every `config.saveEvery` steps,
    /// and `afterStep` after each step. Once `shouldStop` says stop (asked between steps), the episode under
    /// way is finished (at most its time limit of steps, seconds of work), then `save` runs and `train`
    /// returns false: the environment's state mid-episode is not part of the saved state, so an episode end
    /// is where a resumed run continues exactly as an uninterrupted one. Returns true when it reached `end`.
    func train(until end: Int, stopWhen shouldStop: () -> Bool, evaluate: () throws -> Void, save: () throws -> Void,
               afterStep: () -> Void) throws -> Bool {
        var nextSave = (step / config.saveEvery + 1) * config.saveEvery
        while step < end || episodeRunning {
            if !episodeRunning && shouldStop() {
                try save()
                return false
            }
            try environmentStep()
            if replay.count >= config.warmupSteps { try gradientStep() }
            if step % config.evaluateEvery == 0 { try evaluate() }
            if !episodeRunning && step >= nextSave {
                try save()
                nextSave = (step / config.saveEvery + 1) * config.saveEvery
            }
            afterStep()
        }
        return true
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

    /// The means of α and of the two losses over the gradient steps since the last call (zeros when
    /// there were none); the sums then start again.
    func takeLossMeans() -> (alpha: Double, criticLoss: Double, policyLoss: Double) {
        let updates = Double(max(updatesSinceEvaluation, 1))
        defer {
            lossSums = [0, 0, 0]
            updatesSinceEvaluation = 0
        }
        return (lossSums[0] / updates, lossSums[1] / updates, lossSums[2] / updates)
    }

    /// The policy's action for `observation` of an environment shaped as the training one, sampled with
    /// `generator`'s standard normals. Valid until the next call.
    func act(on observation: UnsafeBufferPointer<Double>, generator: inout SeededGenerator) -> UnsafeBufferPointer<Double> {
        for i in 0..<observation.count { input.pointer[i] = Float(observation[i]) }
        for i in 0..<noise.count { noise.pointer[i] = Float(generator.normal()) }
        var logProbability: Float = 0
        agent.policy.sample(states: input.pointer, rows: 1, noise: noise.pointer, actions: action.pointer,
                            logProbabilities: &logProbability)
        for i in 0..<action.count { actionForEnvironment[i] = Double(action.pointer[i]) }
        return UnsafeBufferPointer(actionForEnvironment)
    }

    // MARK: Resume

    /// The training state (networks, optimizers, replay buffer, random stream, counters) as tensors and
    /// metadata, to which a run adds its own.
    func resumeState() -> (tensors: [NamedTensor], metadata: [String: String]) {
        var tensors: [NamedTensor] = []
        var metadata = ["generator": generator.snapshot, "gradient_steps": String(agent.step), "arithmetic": DenseProducts.arithmetic,
                        "steps_appended": String(replay.stepsAppended), "episodes": String(episodes),
                        "updates_since_evaluation": String(updatesSinceEvaluation),
                        "loss_sums": lossSums.map { String($0.bitPattern, radix: 16) }.joined(separator: ":")]
        for (name, parameters) in agent.namedParameters { tensors += parameters.namedTensors(prefix: name + ".") }
        for (name, optimizer) in agent.namedOptimizers {
            let state = optimizer.state(named: "optimizer." + name)
            tensors += state.tensors
            metadata.merge(state.metadata) { $1 }
        }
        for (name, width) in replay.layout {
            tensors.append(NamedTensor(name: "replay." + name, shape: [replay.count, width], values: replay.columns[name]!))
        }
        return (tensors, metadata)
    }

    /// Restores what `resumeState` saved, from `file` (read from `path`, which errors name).
    func restore(from file: SafetensorsFile, path: String) throws {
        func number(_ key: String) throws -> Int {
            guard let value = file.metadata[key].flatMap({ Int($0) }), value >= 0 else {
                throw SACRunError.badFile(path: path, reason: "metadata '\(key)' missing or malformed")
            }
            return value
        }
        guard let generator = file.metadata["generator"].flatMap(SeededGenerator.init(snapshot:)) else {
            throw SACRunError.badFile(path: path, reason: "metadata 'generator' missing or malformed")
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
            throw SACRunError.badFile(path: path, reason: "metadata 'loss_sums' missing or malformed")
        }
        lossSums = sums.map(Double.init(bitPattern:))
        self.generator = generator
        savedArithmetic = file.metadata["arithmetic"]
    }
}

extension SACConfig {
    /// The fields of these settings that stop a run saved with `stored` from continuing with them: a run
    /// may be given more steps or another save interval, nothing else.
    func fieldsStoppingResume(stored: SACConfig) -> [String] {
        var comparable = self
        comparable.totalSteps = stored.totalSteps
        comparable.saveEvery = stored.saveEvery
        return differingFields(stored, comparable)
    }
}
