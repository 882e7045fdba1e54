import DiffusionQL
import Environments
import Evaluation
import Foundation
import NeuralNet

/// Wall time of evaluating a checkpoint (the paper's acting rule, full episodes) against the floor
/// measured in the same run: the acting calls' dense-layer FLOPs at the large-sgemm rate, plus the raw
/// physics of the same number of environment steps spread over the cores. Each round times the
/// evaluation and then measures its floor, so that a ratio compares moments close together (a shared
/// machine's speed drifts by tens of percent within a minute); the report gives every round's ratio
/// and their median.
public struct RolloutBenchmark {
    public let checkpoint: String
    public let episodes: Int
    public let models: ModelDirectory
    public let threads: Int
    public let rounds: Int
    /// The target: the evaluation within this factor of the floor.
    public static let targetRatio = 1.5

    public init(checkpoint: String, episodes: Int, models: ModelDirectory, threads: Int, rounds: Int = 3) {
        self.checkpoint = checkpoint
        self.episodes = episodes
        self.models = models
        self.threads = threads
        precondition(rounds >= 1, "at least one round")
        self.rounds = rounds
    }

    /// One evaluation and the floor measured right after it.
    struct Round {
        let seconds: Double
        let sgemm: Double
        let dense: Double
        let physicsRate: Double
        let actingFloor: Double
        let physicsFloor: Double
        var floor: Double { actingFloor + physicsFloor }
        var ratio: Double { seconds / floor }
    }

    /// The rounds' figures and the ratios they give.
    public struct Measured {
        /// The rounds' report: the evaluation, every round's wall time, floor and ratio, and the ratios.
        public let text: String
        /// The fastest wall time against the lowest floor any round allows (the fastest ceiling's acting
        /// and the fastest physics): the strictest reading.
        public let strictestRatio: Double
    }

    public func report() throws -> String { try measure().text }

    public func measure() throws -> Measured {
        let location = try CheckpointLocation(checkpoint)
        let file = try CheckpointFile.read(contentsOf: location.path)
        let (policy, task) = try CheckpointPolicy.load(location, taskOverride: nil, rule: .softmax)
        let flopsPerStep = 2 * TrainingBenchmark.actingMACs(file.config, candidates: policy.selector.candidates)
        var evaluation: EvaluationReport?
        var measured: [Round] = []
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            let report = try Evaluator(task: task, models: models, threads: threads).evaluate(policy, episodes: episodes, seed: 0)
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            let steps = Double(report.episodes.map(\.length).reduce(0, +))
            measured.append(try floor(seconds: seconds, steps: steps, flops: flopsPerStep * steps, environment: task.environment))
            evaluation = report
        }
        let report = evaluation!, steps = report.episodes.map(\.length).reduce(0, +)
        let flops = flopsPerStep * Double(steps)
        let median = measured.sorted { $0.ratio < $1.ratio }[measured.count / 2]
        let format = { (value: Double, digits: Int) in String(format: "%.\(digits)f", value) }
        var lines = ["""
            \(location.path): \(episodes) episodes, \(steps) steps, mean normalized score \(format(report.meanNormalizedScore, 2)); \
            \(CPU.current); Mish on \(VectorUnit.current); acting \(format(flops / 1e9, 1)) GFLOP; the acting floor at the faster of \
            OpenBLAS's sgemm (\(BLAS.kernelName) kernel) and the dense products
            """]
        for (index, round) in measured.enumerated() {
            lines.append("""
                round \(index + 1): wall \(format(round.seconds, 2)) s (\(format(1000 * round.seconds / Double(steps), 2)) ms a step); \
                floor \(format(round.floor, 2)) s = acting \(format(round.actingFloor, 2)) s (sgemm \(format(round.sgemm, 0)), \
                dense \(format(round.dense, 0)) GFLOP/s) + physics \(format(round.physicsFloor, 2)) s \
                (\(format(round.physicsRate, 0)) raw steps/s per thread × \(min(threads, episodes))); ratio \(format(round.ratio, 2))×
                """)
        }
        let fastestCeiling = measured.map { max($0.sgemm, $0.dense) }.max()!
        let fastestPhysics = measured.map(\.physicsFloor).min()!
        let strictest = measured.map(\.seconds).min()! / (flops / (fastestCeiling * 1e9) + fastestPhysics)
        lines.append("""
            median ratio to the floor over \(rounds) rounds \(format(median.ratio, 2))× (target ≤ \(Self.targetRatio)×); \
            the fastest wall time against the fastest ceiling and physics of all rounds (\(format(fastestCeiling, 0)) GFLOP/s, \
            \(format(fastestPhysics, 2)) s) \(format(strictest, 2))×
            """)
        return Measured(text: lines.joined(separator: "\n"), strictestRatio: strictest)
    }

    private func floor(seconds: Double, steps: Double, flops: Double, environment: EnvironmentID) throws -> Round {
        let physicsRate = try EnvironmentBenchmark(models: models, threads: threads, steps: 20_000)
            .floorStepsPerSecond(environment)
        // The faster of OpenBLAS's large sgemm and the networks' own products: no slower product engine
        // makes the floor easier to meet.
        let sgemm = BLAS.withThreads(threads) { TrainingBenchmark.sgemmGFLOPS() }
        let dense = TrainingBenchmark.denseGFLOPS(threads: threads)
        return Round(seconds: seconds, sgemm: sgemm, dense: dense, physicsRate: physicsRate,
                     actingFloor: flops / (max(sgemm, dense) * 1e9),
                     physicsFloor: steps / (physicsRate * Double(min(threads, episodes))))
    }
}
