import Environments
import Evaluation
import Foundation
import Testing

@Suite struct EvaluatorTests {
    let models: ModelDirectory

    init() throws {
        models = try ModelDirectory.locate()
    }

    func randomReport(_ taskName: String, episodes: Int, seed: UInt64, threads: Int) throws -> EvaluationReport {
        let task = try D4RLTask.named(taskName)
        let actionSpace = try task.environment.makeEnvironment(models: models).actionSpace
        let policy = RandomPolicy(actionSpace: actionSpace)
        return try Evaluator(task: task, models: models, threads: threads).evaluate(policy, episodes: episodes, seed: seed)
    }

    @Test func sameSeedSameNumbersWhateverTheThreadCount() throws {
        let one = try randomReport("walker2d-medium-v2", episodes: 6, seed: 3, threads: 1)
        let two = try randomReport("walker2d-medium-v2", episodes: 6, seed: 3, threads: 2)
        let three = try randomReport("walker2d-medium-v2", episodes: 6, seed: 3, threads: 3)
        #expect(one == two)
        #expect(one == three)
        let otherSeed = try randomReport("walker2d-medium-v2", episodes: 6, seed: 4, threads: 2)
        #expect(one.episodes.map(\.return) != otherSeed.episodes.map(\.return))
    }

    /// REF_MIN is the mean return of uniformly random actions, so a random policy scores near 0.
    @Test(arguments: ["hopper-random-v2", "walker2d-medium-v2", "halfcheetah-expert-v2"])
    func randomPolicyScoresNearZero(_ taskName: String) throws {
        let report = try randomReport(taskName, episodes: 20, seed: 0, threads: 2)
        #expect(abs(report.meanNormalizedScore) < 2.5, "\(taskName): \(report.meanNormalizedScore)")
    }

    @Test func episodesEndAsTheMDPSays() throws {
        let hopper = try randomReport("hopper-medium-v2", episodes: 5, seed: 1, threads: 2)
        // Random actions topple the hopper long before the time limit.
        #expect(hopper.episodes.allSatisfy { $0.terminated && $0.length < 1000 })
        let cheetah = try randomReport("halfcheetah-medium-v2", episodes: 2, seed: 1, threads: 2)
        #expect(cheetah.episodes.allSatisfy { !$0.terminated && $0.length == 1000 })
    }

    @Test func summaryStatistics() throws {
        let report = try randomReport("hopper-medium-v2", episodes: 8, seed: 5, threads: 2)
        let scores = report.episodes.map(\.normalizedScore)
        let mean = scores.reduce(0, +) / 8
        let variance = scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 7
        #expect(abs(report.meanNormalizedScore - mean) < 1e-12)
        #expect(abs(report.stderrNormalizedScore - (variance / 8).squareRoot()) < 1e-12)
        let task = try D4RLTask.named("hopper-medium-v2")
        for episode in report.episodes {
            #expect(abs(episode.normalizedScore - task.normalizedScore(episode.return)) < 1e-12)
            #expect(episode.seed == Evaluator.episodeSeed(5, episode: episode.index))
        }
    }

    @Test func jsonRoundTripWithTheDocumentedKeys() throws {
        let report = try randomReport("hopper-medium-v2", episodes: 3, seed: 2, threads: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try report.writeJSON(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: data) == report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["task", "checkpoint", "mean_normalized_score", "stderr_normalized_score", "episodes"] {
            #expect(object[key] != nil, "missing key \(key)")
        }
        let episode = try #require((object["episodes"] as? [[String: Any]])?.first)
        for key in ["return", "length", "normalized_score", "terminated"] {
            #expect(episode[key] != nil, "missing episode key \(key)")
        }
    }

    @Test func zeroEpisodesIsAnError() throws {
        #expect(throws: EvaluationError.noEpisodes(requested: 0)) {
            try randomReport("hopper-medium-v2", episodes: 0, seed: 0, threads: 1)
        }
    }
}
