import Environments
import Evaluation
import Foundation
import NeuralNet
import Testing

/// run7 is the committed Diffusion-QL run, trained on this project's own hopper-medium data.
/// `checkpoints/run7/evaluation.json` is its record: `rollout --ckpt run7 --episodes 10 --json ...`.
@Suite struct Run7Tests {
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

    @Test func run7ReachesTheScoreItsRecordSays() throws {
        let record = try JSONDecoder().decode(
            EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: "checkpoints/run7/evaluation.json")))
        let models = try ModelDirectory.locate()
        let episodes = 3
        let (policy, task) = try CheckpointPolicy.load(
            try CheckpointLocation(record.checkpoint), taskOverride: nil, rule: .softmax)
        let report = try Evaluator(task: task, models: models, threads: 2).evaluate(policy, episodes: episodes, seed: record.seed)

        #expect(task.name == record.task)
        if record.arithmetic == DenseProducts.arithmetic {
            // Row-independent products of the record's arithmetic: its first episodes to the bit.
            #expect(report.episodes == Array(record.episodes.prefix(episodes)),
                    "run7's first \(episodes) episodes with \(DenseProducts.arithmetic) differ from its record, made with the same")
            return
        }
        // Another arithmetic gives the record's first three episodes up to the last bits of the matrix
        // products, which a falling hopper can amplify. So the test asks for the record's mean within
        // three standard errors of a three-episode mean, judged by the record's own spread.
        let scores = record.episodes.map(\.normalizedScore)
        let spread = (scores.map { ($0 - record.meanNormalizedScore) * ($0 - record.meanNormalizedScore) }
            .reduce(0, +) / Double(scores.count - 1)).squareRoot()
        let margin = max(3 * spread / Double(episodes).squareRoot(), 3)
        #expect(abs(report.meanNormalizedScore - record.meanNormalizedScore) <= margin,
                "run7 scored \(report.meanNormalizedScore) over \(episodes) episodes; its record says \(record.meanNormalizedScore) ± \(margin)")
    }
}
