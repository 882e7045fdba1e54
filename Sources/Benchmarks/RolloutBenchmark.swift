import DiffusionQL
import Environments
import Evaluation
import Foundation
import NeuralNet

/// Wall time of evaluating a checkpoint (the paper's acting rule, full episodes) against the floor
/// measured in the same run: the acting calls' dense-layer FLOPs at the large-sgemm rate, plus the raw
/// physics of the same number of environment steps spread over the cores.
public struct RolloutBenchmark {
    public let checkpoint: String
    public let episodes: Int
    public let models: ModelDirectory
    public let threads: Int
    /// The target: the evaluation within this factor of the floor.
    public static let targetRatio = 1.5

    public init(checkpoint: String, episodes: Int, models: ModelDirectory, threads: Int) {
        self.checkpoint = checkpoint
        self.episodes = episodes
        self.models = models
        self.threads = threads
    }

    public func report() throws -> String {
        let location = try CheckpointLocation(checkpoint)
        let file = try CheckpointFile.read(contentsOf: location.path)
        let (policy, task) = try CheckpointPolicy.load(location, taskOverride: nil, rule: .softmax)
        let start = ContinuousClock.now
        let report = try Evaluator(task: task, models: models, threads: threads).evaluate(policy, episodes: episodes, seed: 0)
        let seconds = (ContinuousClock.now - start) / .seconds(1)

        // The physics first: OpenBLAS's threads go on spinning for a while after the sgemm.
        let physicsRate = try EnvironmentBenchmark(models: models, threads: threads, steps: 20_000)
            .floorStepsPerSecond(task.environment)
        // The faster of OpenBLAS's large sgemm and the networks' own products: no slower product engine
        // makes the floor easier to meet.
        let sgemm = BLAS.withThreads(threads) { TrainingBenchmark.sgemmGFLOPS() }
        let dense = TrainingBenchmark.denseGFLOPS(threads: threads), ceiling = max(sgemm, dense)
        let steps = report.episodes.map(\.length).reduce(0, +)
        let flops = 2 * TrainingBenchmark.actingMACs(file.config, candidates: policy.selector.candidates) * Double(steps)
        let actingFloor = flops / (ceiling * 1e9)
        let physicsFloor = Double(steps) / (physicsRate * Double(min(threads, episodes)))
        let floor = actingFloor + physicsFloor
        return """
            \(location.path): \(episodes) episodes, \(steps) steps, mean normalized score \(String(format: "%.2f", report.meanNormalizedScore)); Mish on \(VectorUnit.current)
            wall time \(String(format: "%.2f", seconds)) s (\(String(format: "%.2f", 1000 * seconds / Double(steps))) ms per step of all episodes)
            floor \(String(format: "%.2f", floor)) s: acting \(String(format: "%.2f", actingFloor)) s (\(String(format: "%.1f", flops / 1e9)) GFLOP at \(String(format: "%.0f", ceiling)) GFLOP/s, the faster of the sgemm's \(String(format: "%.0f", sgemm)) (OpenBLAS \(BLAS.kernelName) kernel) and the dense products' \(String(format: "%.0f", dense))) + physics \(String(format: "%.2f", physicsFloor)) s (\(String(format: "%.0f", physicsRate)) raw steps/s per thread × \(min(threads, episodes)))
            ratio to the floor \(String(format: "%.2f", seconds / floor))× (target ≤ \(Self.targetRatio)×)
            """
    }
}
