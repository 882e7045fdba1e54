import DiffusionQL
import Environments
import Evaluation
import Foundation
import Testing

/// Rollouts of a Diffusion-QL checkpoint: a tiny hopper run trained for two epochs on noise.
@Suite struct CheckpointRolloutTests {
    let models: ModelDirectory
    let folder: RunFolder

    init() throws {
        models = try ModelDirectory.locate()
        folder = try tinyRun(task: "hopper-medium-v2", stateDimension: 11, actionDimension: 3, epochs: 2, seed: 9)
    }

    func report(episodes: Int, seed: UInt64, threads: Int, rule: ActionSelector.Rule = .softmax,
                task: String? = nil, concurrentEpisodes: Int? = nil) throws -> EvaluationReport {
        let (policy, task) = try CheckpointPolicy.load(try CheckpointLocation(folder.path), taskOverride: task,
                                                       rule: rule)
        return try Evaluator(task: task, models: models, threads: threads, concurrentEpisodes: concurrentEpisodes)
            .evaluate(policy, episodes: episodes, seed: seed)
    }

    /// However many episodes run at once, each starts on a fresh copy with its own seeds, so the
    /// report is the same: memory stays bounded for any number of episodes without changing a number.
    @Test
    func theNumberOfEpisodesAtOnceChangesNoNumber() throws {
        let allAtOnce = try report(episodes: 6, seed: 5, threads: 2, concurrentEpisodes: 6)
        #expect(try report(episodes: 6, seed: 5, threads: 2, concurrentEpisodes: 2) == allAtOnce)
        #expect(try report(episodes: 6, seed: 5, threads: 1, concurrentEpisodes: 1) == allAtOnce)
        #expect(Set(allAtOnce.episodes.map(\.length)).count > 1, "episodes of one length would not test the hand-over")
    }

    @Test func aRunMeansItsNewestCheckpointUnlessAnEpochIsGiven() throws {
        #expect(try CheckpointLocation(folder.path).path == folder.checkpointPath(epoch: 2))
        #expect(try CheckpointLocation(folder.path, epoch: 1).path == folder.checkpointPath(epoch: 1))
        #expect(try CheckpointLocation(folder.checkpointPath(epoch: 1)).run == nil)
        #expect(throws: CheckpointLocationError.noSuchEpoch(path: folder.path, epoch: 7, available: [1, 2])) {
            try CheckpointLocation(folder.path, epoch: 7)
        }
        let missing = try #require(throws: CheckpointLocationError.self) { try CheckpointLocation("no-such-run-\(UUID())") }
        // The error names each checkpoints/ folder searched (the checkout's, with run7) and its runs.
        #expect(missing.description.contains("checkpoints/ (runs: ") && missing.description.contains("run7"), "\(missing)")
    }

    /// The numbers do not depend on the thread count. Each episode has its own random stream, so with
    /// more episodes beside it an episode draws the same noise, and with row-independent products it
    /// takes the same actions to the same return.
    @Test func episodesDoNotDependOnThreadsOrOnEachOther() throws {
        let three = try report(episodes: 3, seed: 4, threads: 1)
        #expect(try report(episodes: 3, seed: 4, threads: 2) == three)
        let five = try report(episodes: 5, seed: 4, threads: 2)
        for (alone, beside) in zip(three.episodes, five.episodes) {
            #expect(alone == beside)
        }
        #expect(three.checkpoint == folder.checkpointPath(epoch: 2) && three.task == "hopper-medium-v2")
        let greedy = try report(episodes: 3, seed: 4, threads: 2, rule: .argmax)
        #expect(greedy.episodes.map(\.return) != three.episodes.map(\.return))
    }

    /// Recording a checkpoint keeps, per step, the spread of the 50 candidates; each chosen action lies
    /// within it. Random actions have no candidates.
    @Test func aRecordedEvaluationKeepsTheCandidatesSpread() throws {
        let (policy, task) = try CheckpointPolicy.load(try CheckpointLocation(folder.path), taskOverride: nil, rule: .softmax)
        let recorded = try Evaluator(task: task, models: models, threads: 2).record(policy, episodes: 2, seed: 1)
        let spreads = try #require(recorded.candidateSpreads)
        for (actions, spread) in zip(recorded.actions, spreads) {
            #expect(spread.count == 2 * actions.count)
            for step in 0..<(actions.count / 3) {
                for k in 0..<3 {
                    let low = spread[step * 6 + k], high = spread[step * 6 + 3 + k], chosen = actions[step * 3 + k]
                    #expect(low <= chosen && chosen <= high && low < high)
                }
            }
        }
        let random = RandomPolicy(actionSpace: try task.makeEnvironment(models: models).actionSpace)
        #expect(try Evaluator(task: task, models: models, threads: 1).record(random, episodes: 1, seed: 1).candidateSpreads == nil)
    }

    /// walker2d and halfcheetah share their dimensions (17 and 6), not their robot.
    @Test func aTaskOfAnotherRobotIsRefusedEvenWithTheSameDimensions() throws {
        let walker = try tinyRun(task: "walker2d-medium-v2", stateDimension: 17, actionDimension: 6, epochs: 1, seed: 3)
        #expect(throws: EvaluationError.otherRobot(path: walker.checkpointPath(epoch: 1), trainedOn: "walker2d-medium-v2",
                                                   task: "halfcheetah-medium-v2")) {
            try CheckpointPolicy.load(try CheckpointLocation(walker.path), taskOverride: "halfcheetah-medium-v2", rule: .softmax)
        }
        let (_, expert) = try CheckpointPolicy.load(try CheckpointLocation(walker.path), taskOverride: "walker2d-expert-v2", rule: .softmax)
        #expect(expert.name == "walker2d-expert-v2")
    }

    @Test func anotherEnvironmentsTaskIsRefusedByDimension() throws {
        #expect(throws: CheckpointError.dimensionMismatch(path: folder.checkpointPath(epoch: 2), what: "state dimension",
                                                          checkpoint: 11, task: 17)) {
            try report(episodes: 1, seed: 0, threads: 1, task: "walker2d-medium-v2")
        }
        #expect(try report(episodes: 1, seed: 0, threads: 1, task: "hopper-expert-v2").task == "hopper-expert-v2")
    }

    @Test func selectionEvaluatesOnTheSameSeedsAndMarksBothChoices() throws {
        let both = try RunSelection.run(folder, mode: .both, topK: 0, taskOverride: nil, episodes: 2, seed: 1,
                                        rule: .softmax, models: models, threads: 2)
        #expect(both.checkpoints.map(\.epoch) == [1, 2])
        #expect(both.checkpoints.allSatisfy { $0.report.episodes.map(\.seed) == both.checkpoints[0].report.episodes.map(\.seed) })
        let best = both.checkpoints.max { $0.report.meanNormalizedScore < $1.report.meanNormalizedScore }!
        #expect(both.onlineEpoch == best.epoch)
        let losses = OfflineSelection.checkpointLosses(metrics: try folder.readMetrics(), checkpointEpochs: [1, 2])
        #expect(both.offlineEpoch == OfflineSelection.choose(losses, topK: 0)?.epoch)
        #expect(both.checkpoints.allSatisfy { $0.meanBCLoss != nil })
        #expect(both.table().contains("best (online)") && both.table().contains("offline choice (top_k 0)"))
        #expect(!both.table().contains("final distance"))

        let offline = try RunSelection.run(folder, mode: .offline, topK: 0, taskOverride: nil, episodes: 2, seed: 1,
                                           rule: .softmax, models: models, threads: 1)
        #expect(offline.checkpoints == [both.score(ofEpoch: both.offlineEpoch)!])
        #expect(offline.selectedScore == both.score(ofEpoch: both.offlineEpoch)!.report.meanNormalizedScore)
    }

    /// `every` keeps the checkpoints at its multiples: each evaluated as in the full selection, with the
    /// L_d block running from the previous kept checkpoint.
    @Test func selectionAtAnIntervalKeepsItsMultiplesAndWidensTheBlocks() throws {
        let all = try RunSelection.run(folder, mode: .both, topK: 0, taskOverride: nil, episodes: 2, seed: 1,
                                       rule: .softmax, models: models, threads: 2)
        let even = try RunSelection.run(folder, mode: .both, topK: 0, every: 2, taskOverride: nil, episodes: 2, seed: 1,
                                        rule: .softmax, models: models, threads: 2)
        #expect(even.checkpoints.map(\.epoch) == [2] && even.onlineEpoch == 2 && even.offlineEpoch == 2)
        #expect(even.checkpoints[0].report == all.score(ofEpoch: 2)?.report)
        let metrics = try folder.readMetrics()
        #expect(even.checkpoints[0].meanBCLoss == (metrics[0].bcLoss + metrics[1].bcLoss) / 2)
        #expect(throws: SelectionError.noneAtInterval(run: folder.path, every: 3, epochs: [1, 2])) {
            try RunSelection.run(folder, mode: .online, topK: nil, every: 3, taskOverride: nil, episodes: 2, seed: 1,
                                 rule: .softmax, models: models, threads: 2)
        }
    }
}
