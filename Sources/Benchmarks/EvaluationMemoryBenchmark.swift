import DiffusionQL
import Environments
import Evaluation
import Foundation
import SeededRandom

/// Peak memory of an evaluation against its number of episodes: with a bounded number of episodes
/// under way at once it must not grow with the count. The policy is an untrained Diffusion-QL
/// checkpoint of run7's shapes (hopper, the paper's networks: width 256, N = 5, 50 candidates), whose
/// hopper falls within tens of steps, so that thousands of episodes take seconds; the buffers per
/// episode are those of any hopper checkpoint.
public struct EvaluationMemoryBenchmark {
    public let episodeCounts: [Int]
    public let models: ModelDirectory
    public let threads: Int
    /// The budget: the largest count's peak over the smallest's.
    public static let allowedRatio = 1.5

    public init(episodeCounts: [Int], models: ModelDirectory, threads: Int) {
        self.episodeCounts = episodeCounts.sorted()
        self.models = models
        self.threads = threads
    }

    public func report() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("evaluation-memory-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try untrainedRun(in: folder.path)
        let task = try D4RLTask.named("hopper-medium-v2")
        let evaluator = Evaluator(task: task, models: models, threads: threads)
        var lines = ["\(evaluator.concurrentEpisodes) episodes at once (\(threads) threads), an untrained checkpoint of hopper's networks"]
        var peaks: [Int] = []
        for episodes in episodeCounts {
            let (policy, _) = try CheckpointPolicy.load(try CheckpointLocation(run.path), taskOverride: nil, rule: .softmax)
            guard DatasetMemoryBenchmark.resetPeakResident() else {
                return "peak memory cannot be measured here (needs Linux's /proc/self/clear_refs)"
            }
            let start = ContinuousClock.now
            let report = try evaluator.evaluate(policy, episodes: episodes, seed: 0)
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            let peak = DatasetMemoryBenchmark.status("VmHWM")
            peaks.append(peak)
            let steps = report.episodes.map(\.length).reduce(0, +)
            lines.append("\(episodes) episodes (\(steps) steps, \(String(format: "%.1f", seconds)) s): peak resident \(DatasetMemoryBenchmark.megabytes(peak))")
        }
        let ratio = Double(peaks.last!) / Double(peaks.first!)
        lines.append("peak at \(episodeCounts.last!) episodes over the peak at \(episodeCounts.first!): \(String(format: "%.2f", ratio))× "
            + "(budget \(Self.allowedRatio)×: \(ratio < Self.allowedRatio ? "within" : "OVER"))")
        return lines.joined(separator: "\n")
    }

    /// A run of hopper's preset networks after a single gradient step on noise, saved as a checkpoint.
    private func untrainedRun(in path: String) throws -> RunFolder {
        var config = TrainingConfig.preset(task: "hopper-medium-v2", stateDimension: 11, actionDimension: 3)!
        config.epochs = 1
        config.stepsPerEpoch = 1
        config.saveEvery = 1
        var generator = SeededGenerator(seed: 0)
        let rows = config.batchSize
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(generator.normal()) } }
        let data = try Transitions(stateDimension: 11, actionDimension: 3, states: values(rows * 11), actions: values(rows * 3),
                                   rewards: values(rows), nextStates: values(rows * 11), notDone: Array(repeating: 1, count: rows))
        let folder = RunFolder(path: path)
        try TrainingRun(folder: folder, config: config, data: data).train()
        return folder
    }
}
