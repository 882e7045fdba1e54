import CMuJoCo
import Environments
import Evaluation
import Foundation
import MuJoCo
import Parallel
import SeededRandom

/// Environment steps per second against the raw physics floor measured in the same run.
///
/// The floor replays the very same trajectory (the same reset states and actions) with nothing but
/// MuJoCo's C calls: `mj_resetData` + state copy + `mj_forward` at each episode start, then `ctrl` and
/// frame_skip × `mj_step` per step. The difference to the wrapped environment is the wrapper's cost:
/// action checks, observation, reward and termination.
public struct EnvironmentBenchmark {
    public struct Result: Sendable {
        public let environment: EnvironmentID
        /// Environment steps per second of the bare C replay.
        public let floorStepsPerSecond: Double
        /// Environment steps per second of one environment on one thread.
        public let singleThreadStepsPerSecond: Double
        /// Steps per second of a `VectorEnvironment` on one thread and on `threads` threads.
        public let vectorOneThreadStepsPerSecond: Double
        public let vectorAllThreadsStepsPerSecond: Double
        public let threads: Int

        /// Time the wrapper adds per step, as a fraction of the floor's time.
        public var wrapperOverhead: Double { floorStepsPerSecond / singleThreadStepsPerSecond - 1 }
        /// All-thread throughput over one-thread throughput of the same vector environment.
        public var parallelSpeedup: Double { vectorAllThreadsStepsPerSecond / vectorOneThreadStepsPerSecond }
    }

    public let models: ModelDirectory
    public let threads: Int
    /// Environment steps per timed run.
    public let steps: Int
    /// Copies per thread in the vector measurements.
    public let copiesPerThread = 8

    public init(models: ModelDirectory, threads: Int, steps: Int) {
        self.models = models
        self.threads = threads
        self.steps = steps
    }

    /// Steps per second of the bare physics (frame_skip × `mj_step` on a recorded trajectory of random
    /// actions) on one thread: the floor every environment figure is compared with.
    public func floorStepsPerSecond(_ environment: EnvironmentID) throws -> Double {
        let env = try environment.makeEnvironment(models: models)
        let actions = randomActions(rows: 4096, width: environment.actionDimension)
        let trajectory = try Trajectory.record(env, actions: actions, steps: steps)
        let floor = try bestSeconds { try trajectory.replayRaw(on: Simulation(model: env.simulation.model), environment: environment, actions: actions) }
        return Double(steps) / floor
    }

    public func run(_ environment: EnvironmentID) throws -> Result {
        let copies = copiesPerThread * threads
        let environments = try environment.makeEnvironments(count: copies + 1, models: models)
        let env = environments[copies], model = env.simulation.model
        let actions = randomActions(rows: 4096, width: environment.actionDimension)
        let trajectory = try Trajectory.record(env, actions: actions, steps: steps)

        let single = try bestSeconds { try trajectory.replay(through: env, actions: actions) }
        let floor = try bestSeconds { try trajectory.replayRaw(on: Simulation(model: model), environment: environment, actions: actions) }
        let copiesOnly = Array(environments.prefix(copies))
        let vectorOne = try vectorSeconds(copiesOnly, threads: 1, actions: actions)
        let vectorAll = try vectorSeconds(copiesOnly, threads: threads, actions: actions)
        let vectorSteps = Double(steps)
        return Result(
            environment: environment,
            floorStepsPerSecond: Double(steps) / floor,
            singleThreadStepsPerSecond: Double(steps) / single,
            vectorOneThreadStepsPerSecond: vectorSteps / vectorOne,
            vectorAllThreadsStepsPerSecond: vectorSteps / vectorAll,
            threads: threads)
    }

    /// Seconds for `steps` environment steps of a vector of copiesPerThread × `threads` copies (the
    /// same copy count for one thread and for all), ended episodes reset in parallel.
    private func vectorSeconds(_ environments: [any Environment], threads: Int, actions: [Double]) throws -> Double {
        let copies = environments.count, width = environments[0].actionSpace.dimension
        let vector = VectorEnvironment(environments: environments, pool: WorkerPool(threads: threads))
        let rows = actions.count / width
        let batches = (0..<(rows / copies)).map { Array(actions[$0 * copies * width ..< ($0 + 1) * copies * width]) }
        return try bestSeconds {
            vector.reset(seeds: (0..<copies).map(UInt64.init))
            for step in 0..<(steps / copies) {
                try vector.step(actions: batches[step % batches.count])
                vector.resetEndedCopies()
            }
        }
    }

    private func randomActions(rows: Int, width: Int) -> [Double] {
        var generator = SeededGenerator(seed: 7)
        return (0..<rows * width).map { _ in generator.uniform(-1, 1) }
    }
}

/// The reset states of a run of random actions, so that it can be replayed exactly.
struct Trajectory {
    /// (step at which the episode starts, qpos, qvel after the reset).
    var episodeStarts: [(step: Int, qpos: [Double], qvel: [Double])] = []
    let steps: Int

    static func record(_ env: any Environment, actions: [Double], steps: Int) throws -> Trajectory {
        var trajectory = Trajectory(steps: steps)
        var episode: UInt64 = 0
        var ended = true
        let width = env.actionSpace.dimension
        let rows = actions.count / width
        for step in 0..<steps {
            if ended {
                env.reset(seed: episode)
                episode += 1
                trajectory.episodeStarts.append((step, Array(env.simulation.qpos), Array(env.simulation.qvel)))
            }
            let row = step % rows
            let outcome = try env.step(Array(actions[row * width ..< (row + 1) * width]))
            ended = outcome.terminated || outcome.truncated
        }
        return trajectory
    }

    /// The timed environment run: the same resets (by seed) and actions as `record`.
    func replay(through env: any Environment, actions: [Double]) throws {
        let width = env.actionSpace.dimension
        let rows = actions.count / width
        var observation = [Double](repeating: 0, count: env.observationSpace.dimension)
        var nextEpisode = 0
        try actions.withUnsafeBufferPointer { actions in
            try observation.withUnsafeMutableBufferPointer { observation in
                for step in 0..<steps {
                    if nextEpisode < episodeStarts.count && episodeStarts[nextEpisode].step == step {
                        env.reset(seed: UInt64(nextEpisode), observation: observation)
                        nextEpisode += 1
                    }
                    let row = step % rows
                    _ = try env.step(action: UnsafeBufferPointer(rebasing: actions[row * width ..< (row + 1) * width]),
                                     observation: observation)
                }
            }
        }
    }

    /// The floor: the same physics with bare C calls (the control is the action times the motors' scale).
    func replayRaw(on simulation: Simulation, environment: EnvironmentID, actions: [Double]) {
        let frameSkip = environment.frameSkip, scale = environment.controlScale
        simulation.withUnsafePointers { model, data in
            let nq = Int(model.pointee.nq), nv = Int(model.pointee.nv), nu = Int(model.pointee.nu)
            let rows = actions.count / nu
            var nextEpisode = 0
            for step in 0..<steps {
                if nextEpisode < episodeStarts.count && episodeStarts[nextEpisode].step == step {
                    mj_resetData(model, data)
                    data.pointee.qpos.update(from: episodeStarts[nextEpisode].qpos, count: nq)
                    data.pointee.qvel.update(from: episodeStarts[nextEpisode].qvel, count: nv)
                    mj_forward(model, data)
                    nextEpisode += 1
                }
                let row = step % rows
                for k in 0..<nu { data.pointee.ctrl[k] = scale * actions[row * nu + k] }
                for _ in 0..<frameSkip { mj_step(model, data) }
            }
        }
    }
}

extension EnvironmentBenchmark.Result {
    static let tableHeader =
        "env              floor steps/s   1 env steps/s   wrapper overhead   vector 1 thread   vector \("N") threads   speedup"

    /// One line of the benchmark table.
    var tableRow: String {
        [environment.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0),
         formatRate(floorStepsPerSecond).leftPadded(15),
         formatRate(singleThreadStepsPerSecond).leftPadded(15),
         String(format: "%+.1f%%", wrapperOverhead * 100).leftPadded(18),
         formatRate(vectorOneThreadStepsPerSecond).leftPadded(17),
         formatRate(vectorAllThreadsStepsPerSecond).leftPadded(18),
         String(format: "%.2fx", parallelSpeedup).leftPadded(9)].joined(separator: " ")
    }
}

extension EnvironmentBenchmark {
    /// Runs every environment and returns the report as printable lines.
    public func report() throws -> String {
        var lines = [
            "MuJoCo \(mujocoVersion), \(steps) env steps per run, best of 3; vector: \(copiesPerThread * threads) copies on 1 and \(threads) threads; \(CPU.current)",
            Result.tableHeader.replacingOccurrences(of: " N threads", with: " \(threads) threads"),
        ]
        for environment in EnvironmentID.allCases {
            lines.append(try run(environment).tableRow)
        }
        return lines.joined(separator: "\n")
    }
}
