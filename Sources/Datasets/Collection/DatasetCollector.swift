import Environments
import Foundation
import NeuralNet
import Parallel
import SeededRandom
import SoftActorCritic
import TerminalProgress

/// What acts while a dataset is collected.
public enum Behaviour {
    /// Actions uniform in the action box (D4RL's random datasets).
    case uniform(BoxSpace)
    /// A SAC policy's sampled actions (not its mean), as D4RL's medium and expert datasets.
    case policy(TanhGaussianPolicy)
}

/// How far a collection has come, for a progress display.
public struct CollectionProgress: Sendable {
    public var transitions: Int
    public var target: Int
    public var episodes: Int

    /// "412000/1000000 transitions · 1034 episodes · 18.3k steps/s · 32 s left"
    public func line(elapsedSeconds: Double) -> String {
        let rate = Double(transitions) / elapsedSeconds
        return "\(transitions)/\(target) transitions · \(episodes) episodes · " + ProgressFormat.rate(rate, unit: "steps")
            + " · " + ProgressFormat.timeLeft(remaining: Double(max(target - transitions, 0)), perSecond: rate)
    }
}

/// Rolls a behaviour out in many copies of an environment at once and keeps whole episodes, in the
/// order they finish, until they hold at least the requested number of transitions.
///
/// Copy i draws its reset seeds and action noise from its own stream (`RandomStream.collection`, i)
/// and the copies' actions come from one batched forward pass, so the dataset depends on the seed and
/// the number of copies only, not on the number of threads.
public struct DatasetCollector {
    public var environment: EnvironmentID
    public var models: ModelDirectory
    /// Environments stepped together (part of what the data depends on; keep it fixed).
    public var copies = 16
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init(environment: EnvironmentID, models: ModelDirectory) {
        self.environment = environment
        self.models = models
    }

    public func collect(_ behaviour: Behaviour, transitions target: Int, seed: UInt64, metadata: [String: String],
                        progress: ((CollectionProgress) -> Void)? = nil) throws -> D4RLDataset {
        precondition(target > 0, "a dataset needs at least one transition")
        let vector = try VectorEnvironment(environment, count: copies, threads: threads, models: models)
        let (nq, nv) = environment.stateDimensions
        let observationWidth = vector.observationDimension, actionWidth = vector.actionDimension
        var generators = (0..<copies).map { SeededGenerator(.collection, seed: seed, index: $0) }
        let episodeBuffer = ReplayBuffer(capacity: environment.maxEpisodeSteps, observationDimension: observationWidth,
                                         actionDimension: actionWidth, qposDimension: nq, qvelDimension: nv)
        var running = Array(repeating: episodeBuffer, count: copies)
        var kept: [String: [Float]] = [:], keptTransitions = 0, keptEpisodes = 0

        vector.reset(seeds: generators.indices.map { generators[$0].next() })
        let states = FloatBuffer(count: copies * observationWidth)
        let noise = FloatBuffer(count: copies * actionWidth)
        let actions = FloatBuffer(count: copies * actionWidth)
        let logProbabilities = FloatBuffer(count: copies)
        var environmentActions = [Double](repeating: 0, count: copies * actionWidth)
        // Each copy's observation and simulator state before the step, one row per copy.
        var previous = [Double](repeating: 0, count: copies * observationWidth)
        var qpos = [Double](repeating: 0, count: copies * nq), qvel = [Double](repeating: 0, count: copies * nv)
        while keptTransitions < target {
            vector.withObservations { rows in
                for i in 0..<rows.count { states.pointer[i] = Float(rows[i]) }
                previous.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: rows) }
            }
            qpos.withUnsafeMutableBufferPointer { qpos in
                qvel.withUnsafeMutableBufferPointer { qvel in
                    for (copy, environment) in vector.environments.enumerated() {
                        environment.simulation.qpos.copy(to: UnsafeMutableBufferPointer(rebasing: qpos[copy * nq ..< (copy + 1) * nq]))
                        environment.simulation.qvel.copy(to: UnsafeMutableBufferPointer(rebasing: qvel[copy * nv ..< (copy + 1) * nv]))
                    }
                }
            }
            choose(behaviour, rows: copies, states: states, noise: noise, actions: actions,
                   logProbabilities: logProbabilities, generators: &generators)
            for i in 0..<environmentActions.count { environmentActions[i] = Double(actions.pointer[i]) }
            try vector.step(actions: environmentActions)
            for copy in 0..<copies {
                let outcome = vector.outcome(copy)
                func row(_ values: UnsafeBufferPointer<Double>, _ width: Int) -> UnsafeBufferPointer<Double> {
                    UnsafeBufferPointer(rebasing: values[copy * width ..< (copy + 1) * width])
                }
                previous.withUnsafeBufferPointer { previous in
                    qpos.withUnsafeBufferPointer { qpos in
                        qvel.withUnsafeBufferPointer { qvel in
                            vector.withObservations { next in
                                running[copy].append(ReplayBuffer.Step(
                                    qpos: row(qpos, nq), qvel: row(qvel, nv), observation: row(previous, observationWidth),
                                    action: UnsafeBufferPointer(start: actions.pointer + copy * actionWidth, count: actionWidth),
                                    logProbability: logProbabilities.pointer[copy], reward: outcome.reward,
                                    nextObservation: row(next, observationWidth),
                                    terminal: outcome.terminated, timeout: outcome.truncated && !outcome.terminated))
                            }
                        }
                    }
                }
                guard outcome.terminated || outcome.truncated else { continue }
                if keptTransitions < target {
                    let episode = running[copy].chronological(rows: running[copy].count)
                    for (name, values) in episode { kept[name, default: []] += values }
                    keptTransitions += running[copy].count
                    keptEpisodes += 1
                }
                running[copy] = episodeBuffer
                vector.reset(copy: copy, seed: generators[copy].next())
            }
            progress?(CollectionProgress(transitions: keptTransitions, target: target, episodes: keptEpisodes))
        }
        var metadata = metadata
        metadata["environment"] = environment.rawValue
        metadata["seed"] = String(seed)
        metadata["episodes"] = String(keptEpisodes)
        return D4RLDataset(steps: kept, observationDimension: observationWidth, actionDimension: actionWidth,
                           qposDimension: nq, qvelDimension: nv, metadata: metadata)
    }

    private func choose(_ behaviour: Behaviour, rows: Int, states: FloatBuffer, noise: FloatBuffer, actions: FloatBuffer,
                        logProbabilities: FloatBuffer, generators: inout [SeededGenerator]) {
        let width = noise.count / rows
        switch behaviour {
        case let .uniform(space):
            let logDensity = -zip(space.low, space.high).map { log($1 - $0) }.reduce(0, +)
            for row in 0..<rows {
                for k in 0..<width {
                    actions.pointer[row * width + k] = Float(generators[row].uniform(space.low[k], space.high[k]))
                }
                logProbabilities.pointer[row] = Float(logDensity)
            }
        case let .policy(policy):
            for row in 0..<rows {
                for k in 0..<width { noise.pointer[row * width + k] = Float(generators[row].normal()) }
            }
            policy.sample(states: states.pointer, rows: rows, noise: noise.pointer, actions: actions.pointer,
                          logProbabilities: logProbabilities.pointer)
        }
    }
}
