import DiffusionQL
import Environments
import Evaluation
import Foundation
import Testing

/// Evaluations on AntMaze: success per episode and the success rate, random actions scoring 0, and
/// Diffusion-QL checkpoints of the ant's dimensions (29 / 8) acting in the maze.
@Suite struct AntMazeEvaluationTests {
    let models: ModelDirectory

    init() throws {
        models = try ModelDirectory.locate()
    }

    @Test func randomActionsNeverReachTheGoalAndTheReportSaysSo() throws {
        let task = try D4RLTask.named("antmaze-umaze-v0")
        let policy = RandomPolicy(actionSpace: try task.makeEnvironment(models: models).actionSpace)
        let report = try Evaluator(task: task, models: models, threads: 2).evaluate(policy, episodes: 3, seed: 0)
        #expect(report.episodes.allSatisfy { $0.success == false && $0.length == 700 && !$0.terminated })
        #expect(report.successRate == 0 && report.meanNormalizedScore == 0)
        // Random actions leave the ant near its start, the origin; the goal is about 8 to 9.5 m away.
        #expect(report.episodes.allSatisfy { (6...11).contains($0.finalDistance ?? 0) }, "\(report.episodes.map(\.finalDistance))")
        #expect(report.table().contains("success rate 0.0% (0 of 3 episodes reached the goal), mean final distance to the goal"))
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains("\"success_rate\":0") && json.contains("\"success\":false") && json.contains("\"final_distance\":"))
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: Data(json.utf8)) == report)
    }

    /// A v0 maze draws its goal once per environment: each episode gets a fresh copy, so its goal and
    /// its numbers do not depend on how many episodes run at once.
    @Test func episodesAtOnceChangeNoGoal() throws {
        let task = try D4RLTask.named("antmaze-umaze-v0")
        let policy = RandomPolicy(actionSpace: try task.makeEnvironment(models: models).actionSpace)
        func record(_ concurrent: Int) throws -> RecordedEvaluation {
            try Evaluator(task: task, models: models, threads: 2, concurrentEpisodes: concurrent).record(policy, episodes: 3, seed: 2)
        }
        let oneAtATime = try record(1), allAtOnce = try record(3)
        #expect(oneAtATime.report == allAtOnce.report && oneAtATime.actions == allAtOnce.actions)
    }

    @Test func theSuccessRateIsTheShareOfEpisodesThatReachedTheGoal() throws {
        let episodes = (0..<4).map { index in
            EpisodeResult(index: index, seed: 0, return: index < 1 ? 1 : 0, length: index < 1 ? 120 : 700,
                          normalizedScore: index < 1 ? 100 : 0, terminated: index < 1, unstable: false, success: index < 1)
        }
        let report = EvaluationReport(task: "antmaze-umaze-v2", checkpoint: "x", seed: 0, episodes: episodes)
        #expect(report.successRate == 0.25 && report.meanNormalizedScore == 25)
        #expect(report.table().contains("reached goal") && report.table().contains("success rate 25.0% (1 of 4 episodes"))
        let locomotion = EvaluationReport(task: "hopper-medium-v2", checkpoint: "x", seed: 0, episodes: [
            EpisodeResult(index: 0, seed: 0, return: 10, length: 9, normalizedScore: 0.9, terminated: true, unstable: false),
        ])
        #expect(locomotion.successRate == nil && !locomotion.table().contains("success"))
        #expect(!String(decoding: try JSONEncoder().encode(locomotion), as: UTF8.self).contains("success"))
    }

    @Test func aCheckpointOfTheAntsDimensionsActsInTheMaze() throws {
        let folder = try tinyRun(task: "antmaze-umaze-v0", stateDimension: 29, actionDimension: 8, epochs: 1, seed: 2)
        let (policy, task) = try CheckpointPolicy.load(try CheckpointLocation(folder.path), taskOverride: nil, rule: .softmax)
        #expect(task.name == "antmaze-umaze-v0")
        let report = try Evaluator(task: task, models: models, threads: 2).evaluate(policy, episodes: 2, seed: 1)
        #expect(report.episodes.count == 2 && report.successRate != nil)
        #expect(report.episodes.allSatisfy { $0.length <= 700 && $0.success != nil })
        let (_, medium) = try CheckpointPolicy.load(try CheckpointLocation(folder.path), taskOverride: "antmaze-medium-diverse-v2", rule: .softmax)
        #expect(medium.environment == .antmazeMedium)
    }

    /// Selection over a maze run's checkpoints gives each one's mean final distance to the goal.
    @Test func selectionTellsHowCloseEachCheckpointGot() throws {
        let folder = try tinyRun(task: "antmaze-umaze-v0", stateDimension: 29, actionDimension: 8, epochs: 2, seed: 2)
        let selection = try RunSelection.run(folder, mode: .online, topK: nil, taskOverride: nil, episodes: 2, seed: 1,
                                             rule: .softmax, models: models, threads: 2)
        let lines = selection.table().split(separator: "\n")
        #expect(lines[1].hasSuffix("final distance"))
        for (line, score) in zip(lines.dropFirst(2), selection.checkpoints) {
            let distance = try #require(score.report.meanFinalDistance)
            #expect(line.contains(String(format: "%.2f m", distance)), "\(line)")
        }
    }

    @Test func checkpointsOfOtherDimensionsAreRefusedOnEitherSide() throws {
        let ant = try tinyRun(task: "antmaze-umaze-v0", stateDimension: 29, actionDimension: 8, epochs: 1, seed: 2)
        let hopper = try tinyRun(task: "hopper-medium-v2", stateDimension: 11, actionDimension: 3, epochs: 1, seed: 2)
        let onMaze = try #require(throws: CheckpointError.self) {
            try CheckpointPolicy.load(try CheckpointLocation(hopper.path), taskOverride: "antmaze-umaze-v0", rule: .softmax)
        }
        #expect(onMaze.description.contains("state dimension") && onMaze.description.contains("11") && onMaze.description.contains("29"))
        #expect(throws: CheckpointError.self) {
            try CheckpointPolicy.load(try CheckpointLocation(ant.path), taskOverride: "hopper-medium-v2", rule: .softmax)
        }
    }
}
