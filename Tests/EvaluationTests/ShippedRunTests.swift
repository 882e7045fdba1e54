import Environments
import Evaluation
import Foundation
import NeuralNet
import Testing

/// The committed Diffusion-QL runs, each trained by this project on its own data, against their
/// records: `checkpoints/RUN/evaluation.json`, written by `rollout --ckpt RUN --json ...`. run7 is
/// hopper-medium; antmaze-umaze-2 is antmaze-umaze.
@Suite struct ShippedRunTests {
    /// Episodes rolled out per run: a few of the record's, enough to tell a working policy.
    static let episodes = 3

    /// With row-independent products an episode of run7 (hopper's full-size networks) is
    /// the same whichever episodes share its batch: two alone, then among five.
    @Test
    func anEpisodeDoesNotDependOnTheEpisodesBesideIt() throws {
        let models = try ModelDirectory.locate()
        func report(_ episodes: Int) throws -> EvaluationReport {
            let (policy, task) = try CheckpointPolicy.load(try CheckpointLocation("run7"), taskOverride: nil, rule: .softmax)
            return try Evaluator(task: task, models: models, threads: 2).evaluate(policy, episodes: episodes, seed: 3)
        }
        let two = try report(2), five = try report(5)
        #expect(Array(five.episodes.prefix(2)) == two.episodes)
    }

    @Test(arguments: ["run7", "antmaze-umaze-2"])
    func theRunReachesTheScoreItsRecordSays(_ run: String) throws {
        let record = try JSONDecoder().decode(
            EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: "checkpoints/\(run)/evaluation.json")))
        let (policy, task) = try CheckpointPolicy.load(
            try CheckpointLocation(record.checkpoint), taskOverride: nil, rule: .softmax)
        let report = try Evaluator(task: task, models: try ModelDirectory.locate(), threads: 2)
            .evaluate(policy, episodes: Self.episodes, seed: record.seed)

        #expect(task.name == record.task)
        if task.hasGoal {
            #expect(report.episodes.allSatisfy { $0.success == ($0.finalDistance.map { $0 <= 0.5 } ?? false) },
                    "\(run): an episode's success disagrees with its final distance to the goal")
        }
        if record.arithmetic == DenseProducts.arithmetic {
            // Row-independent products of the record's arithmetic: its first episodes to the bit.
            #expect(report.episodes == Array(record.episodes.prefix(Self.episodes)),
                    "\(run)'s first \(Self.episodes) episodes with \(DenseProducts.arithmetic) differ from its record, made with the same")
            return
        }
        // Another arithmetic gives the record's first episodes up to the last bits of the matrix
        // products, which a falling hopper or a stumbling ant can amplify: the test asks for a score the
        // record makes likely.
        if let rate = record.successRate {
            let reached = report.episodes.filter { $0.success == true }.count
            #expect(Self.binomialTail(atMost: reached, of: Self.episodes, rate: rate) >= 0.001,
                    "\(run) reached the goal in \(reached) of \(Self.episodes) episodes; its record says \(rate)")
            return
        }
        // Locomotion: the record's mean within three standard errors of a three-episode mean, judged by
        // the record's own spread (its standard deviation, from its standard error).
        let spread = record.stderrNormalizedScore * Double(record.episodes.count).squareRoot()
        let margin = max(3 * spread / Double(Self.episodes).squareRoot(), 3)
        #expect(abs(report.meanNormalizedScore - record.meanNormalizedScore) <= margin,
                "\(run) scored \(report.meanNormalizedScore) over \(Self.episodes) episodes; its record says \(record.meanNormalizedScore) ± \(margin)")
    }

    /// P(X ≤ k) for X ~ Binomial(n, p).
    static func binomialTail(atMost k: Int, of n: Int, rate p: Double) -> Double {
        (0...k).map { i in
            let ways = (0..<i).reduce(1.0) { $0 * Double(n - $1) / Double($1 + 1) }
            return ways * pow(p, Double(i)) * pow(1 - p, Double(n - i))
        }.reduce(0, +)
    }
}
