import DiffusionQL
import Environments
import Evaluation
import Foundation
import Testing

/// Sharded evaluation: parts evaluated apart and merged give the unsharded report, to the byte; parts
/// that do not make one whole are refused by name.
@Suite struct ShardTests {
    let models: ModelDirectory
    let folder: RunFolder

    init() throws {
        models = try ModelDirectory.locate()
        folder = try tinyRun(task: "hopper-medium-v2", stateDimension: 11, actionDimension: 3, epochs: 3, seed: 4)
    }

    func report(seed: UInt64 = 6, shard: Shard? = nil, epoch: Int? = nil) throws -> EvaluationReport {
        let (policy, task) = try CheckpointPolicy.load(try CheckpointLocation(folder.path, epoch: epoch), taskOverride: nil, rule: .softmax)
        return try Evaluator(task: task, models: models, threads: 2).evaluate(policy, episodes: 7, seed: seed, shard: shard)
    }

    @Test func shardsAreContiguousBlocksThatCoverEveryItemOnce() throws {
        let blocks = try (1...3).map { try Shard(index: $0, count: 3).block(of: 7) }
        #expect(blocks == [0..<2, 2..<4, 4..<7])
        #expect(try Shard("2/3") == Shard(index: 2, count: 3))
        for text in ["0/3", "4/3", "1/0", "x/2", "1-2", "1/2/3"] {
            #expect(throws: ShardError.invalid(text)) { try Shard(text) }
        }
    }

    @Test
    func mergedPartsAreTheUnshardedReportToTheByte() throws {
        let whole = try report()
        let parts = try (1...3).map { ("part_\($0).json", try report(shard: Shard(index: $0, count: 3))) }
        #expect(parts.map(\.1.episodes.count) == [2, 2, 3] && parts.allSatisfy { $0.1.part != nil })
        let merged = try EvaluationReport.merge(parts.reversed())
        #expect(merged == whole)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(merged) == encoder.encode(whole))
        #expect(merged.table() == whole.table())
    }

    @Test func partsThatDoNotMakeOneWholeAreRefusedByName() throws {
        let one = try report(shard: Shard(index: 1, count: 2)), two = try report(shard: Shard(index: 2, count: 2))
        func refusal(_ parts: [(String, EvaluationReport)]) throws -> String {
            try #require(throws: ShardError.self) { try EvaluationReport.merge(parts) }.description
        }
        #expect(try refusal([("a.json", one)]).contains("part 2/2 missing"))
        #expect(try refusal([("a.json", one), ("b.json", one), ("c.json", two)]).contains("part 1/2 twice: a.json and b.json"))
        let otherSeed = try report(seed: 7, shard: Shard(index: 2, count: 2))
        let seedRefusal = try refusal([("a.json", one), ("b.json", otherSeed)])
        #expect(seedRefusal.contains("b.json has seed 7, a.json has 6"), "\(seedRefusal)")
        let otherCheckpoint = try report(shard: Shard(index: 2, count: 2), epoch: 1)
        #expect(try refusal([("a.json", one), ("b.json", otherCheckpoint)]).contains("b.json has checkpoint"))
        let thirds = try report(shard: Shard(index: 2, count: 3))
        #expect(try refusal([("a.json", one), ("b.json", thirds)]).contains("a.json is a part of 2, b.json of 3"))
        #expect(try refusal([("a.json", one), ("w.json", try report())]).contains("w.json is a whole report"))
        // A part run on a machine of another kind, whose products round differently.
        let elsewhere = one.arithmetic == "libxsmm AVX2" ? "libxsmm AVX-512" : "libxsmm AVX2"
        let otherMachine = EvaluationReport(task: two.task, checkpoint: two.checkpoint, seed: two.seed, episodes: two.episodes,
                                            part: two.part, arithmetic: elsewhere)
        let machineRefusal = try refusal([("a.json", one), ("b.json", otherMachine)])
        #expect(machineRefusal.contains("b.json has products \(elsewhere), a.json has \(one.arithmetic ?? "")"), "\(machineRefusal)")
    }

    @Test func aShardedSelectionMergesIntoTheWholeSelection() throws {
        func selection(_ shard: Shard?) throws -> RunSelection {
            try RunSelection.run(folder, mode: .both, topK: 0, taskOverride: nil, episodes: 2, seed: 1, rule: .softmax,
                                 models: models, threads: 2, shard: shard)
        }
        let whole = try selection(nil)
        let parts = try (1...2).map { ("s\($0).json", try selection(Shard(index: $0, count: 2))) }
        #expect(parts.map { $0.1.checkpoints.map(\.epoch) } == [[1], [2, 3]] && parts.allSatisfy { $0.1.onlineEpoch == nil })
        let merged = try RunSelection.merge(parts)
        #expect(merged == whole)
        #expect(merged.onlineEpoch != nil && merged.offlineEpoch == whole.offlineEpoch)
        #expect(throws: ShardError.self) { try RunSelection.merge([parts[1]]) }
    }
}

/// Successive halving: the pick's evaluation is its full evaluation, and the episodes spent are what
/// the rounds say.
@Suite struct SuccessiveHalvingTests {
    @Test func halvingKeepsTheBetterHalfAndEvaluatesThePickInFull() throws {
        let models = try ModelDirectory.locate()
        let folder = try tinyRun(task: "hopper-medium-v2", stateDimension: 11, actionDimension: 3, epochs: 3, seed: 8)
        let halving = try SuccessiveHalving.run(folder, taskOverride: nil, episodes: 4, seed: 2, rule: .softmax, models: models, threads: 2)
        #expect(halving.rounds.map(\.episodes) == [1, 2, 4])
        #expect(halving.rounds.map { $0.scores.count } == [3, 2, 1] && halving.rounds.map { $0.kept.count } == [2, 1, 1])
        #expect(halving.episodesSpent == 3 * 1 + 2 * 1 + 1 * 2 && halving.episodesOfFullEvaluation == 12)
        for (round, next) in zip(halving.rounds, halving.rounds.dropFirst()) {
            #expect(next.scores.map(\.epoch) == round.kept)
            let best = round.scores.map(\.meanNormalizedScore).max()!
            #expect(round.kept.contains { epoch in round.scores.first { $0.epoch == epoch }!.meanNormalizedScore == best })
        }
        let (policy, task) = try CheckpointPolicy.load(try CheckpointLocation(folder.path, epoch: halving.pick), taskOverride: nil, rule: .softmax)
        let full = try Evaluator(task: task, models: models, threads: 2).evaluate(policy, episodes: 4, seed: 2)
        #expect(halving.pickReport == full)
        #expect(halving.pickReport.episodes.map(\.index) == [0, 1, 2, 3])
    }
}
