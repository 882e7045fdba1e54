import Environments
import Foundation
import Persistence
import SoftActorCritic
import Testing

/// The goal-reaching ant controller's run folder, at a tiny scale: small networks, short episodes.
@Suite struct AntControllerRunTests {
    static func tinyConfig() -> AntControllerConfig {
        var config = AntControllerConfig.standard
        config.sac.hiddenWidth = 16
        config.sac.batchSize = 16
        config.sac.warmupSteps = 16
        config.sac.totalSteps = 300
        config.sac.evaluateEvery = 100
        config.sac.evaluationEpisodes = 2
        config.sac.saveEvery = 50
        config.task.maxEpisodeSteps = 40
        return config
    }

    /// Runs `body` with a new, empty folder that is removed afterwards.
    static func withFolder(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ant-controller-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder.path)
    }

    @Test func anInterruptedRunResumesToTheSameBytes() throws {
        let models = try ModelDirectory.locate()
        try Self.withFolder { whole in
            try Self.withFolder { interrupted in
                try AntControllerRun(folder: whole, config: Self.tinyConfig(), models: models).train()
                let first = try AntControllerRun(folder: interrupted, config: Self.tinyConfig(), models: models)
                try first.train(untilStep: 130)
                #expect(first.step >= 130 && first.step < 300)
                let second = try AntControllerRun(folder: interrupted, config: Self.tinyConfig(), models: models)
                #expect(second.resumed && second.step == first.step && second.evaluations.map(\.step) == [100])
                try second.train()
                for name in ["resume.safetensors", "progress.csv", "controller_policy.safetensors", "config.json"] {
                    let expected = try Data(contentsOf: URL(fileURLWithPath: whole + "/" + name))
                    #expect(try Data(contentsOf: URL(fileURLWithPath: interrupted + "/" + name)) == expected, "\(name)")
                }
                #expect(second.evaluations.map(\.step) == [100, 200, 300])
                #expect(second.evaluations.allSatisfy { (0...1).contains($0.successRate) && $0.meanSteps <= 40 })
                // The kept policy is the last evaluation's that was at least as good as every earlier one,
                // and tried again from its file on the same tries it does the same.
                let kept = second.evaluations.indices.last { index in
                    second.evaluations[..<index].allSatisfy { $0.successRate <= second.evaluations[index].successRate }
                }!
                let (trials, metadata) = try AntControllerRun.evaluateKeptPolicy(folder: interrupted, tries: 0..<2, models: models)
                #expect(metadata["step"] == String(second.evaluations[kept].step))
                #expect(trials.successRate == second.evaluations[kept].successRate
                    && trials.meanSteps == second.evaluations[kept].meanSteps
                    && trials.meanFinalDistance == second.evaluations[kept].meanFinalDistance)
            }
        }
    }

    @Test func aFolderWithHistoryButNoResumeStateIsRefusedUnlessStartingOver() throws {
        let models = try ModelDirectory.locate()
        try Self.withFolder { folder in
            try AntControllerRun(folder: folder, config: Self.tinyConfig(), models: models).train(untilStep: 120)
            try FileManager.default.removeItem(atPath: folder + "/resume.safetensors")
            #expect(throws: RunHistoryError.self) { try AntControllerRun(folder: folder, config: Self.tinyConfig(), models: models) }
            let again = try AntControllerRun(folder: folder, config: Self.tinyConfig(), models: models, startOver: true)
            #expect(again.deletedHistory.map { URL(fileURLWithPath: $0).lastPathComponent }.sorted()
                == ["config.json", "controller_policy.safetensors", "progress.csv"])
            #expect(!again.resumed && again.step == 0)
        }
    }

    @Test func aRunRefusesOtherSettings() throws {
        let models = try ModelDirectory.locate()
        try Self.withFolder { folder in
            try AntControllerRun(folder: folder, config: Self.tinyConfig(), models: models).train(untilStep: 20)
            var other = Self.tinyConfig()
            other.sac.totalSteps = 5000  // extending a run is allowed
            _ = try AntControllerRun(folder: folder, config: other, models: models)
            other.sac.discount = 0.9
            other.task.goalBonus = 1
            #expect(throws: SACRunError.configMismatch(path: folder, fields: ["discount", "task"])) {
                try AntControllerRun(folder: folder, config: other, models: models)
            }
        }
    }
}
