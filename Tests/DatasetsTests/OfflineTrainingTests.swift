import Datasets
import DiffusionQL
import Environments
import Foundation
import Testing

@Suite struct OfflineTrainingTests {
    /// A hopper-shaped dataset of `rows` rows with a timeout every 100.
    static func hopperData(rows: Int, observation: Int = 11) -> D4RLDataset {
        D4RLDataset(observationDimension: observation, actionDimension: 3,
                    observations: (0..<rows * observation).map { Float($0 % 13) / 13 },
                    actions: (0..<rows * 3).map { Float($0 % 7) / 7 - 0.5 }, rewards: (0..<rows).map { Float($0 % 5) },
                    terminals: (0..<rows).map { $0 == 50 }, timeouts: (0..<rows).map { $0 % 100 == 99 })
    }

    @Test func setupTakesThePresetThenTheOverridesAndRecordsTheData() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hopper_medium-v2.hdf5")
        try D4RLFile.write(Self.hopperData(rows: 300), to: path)
        var overrides = TrainingOverrides()
        overrides.epochs = 3
        overrides.seed = 9
        let setup = try OfflineTrainingSetup(task: D4RLTask.named("hopper-medium-v2"), datasetPath: path, overrides: overrides)
        #expect(setup.config.epochs == 3 && setup.config.seed == 9)
        #expect(setup.config.gradientNormClip == 9 && setup.config.topK == 2 && setup.config.stepsPerEpoch == 1000)
        #expect(setup.transitions.count == 297)  // 299 pairs less the timeouts at rows 99 and 199
        #expect(setup.config.dataset == DatasetIdentity(path: path, transitions: setup.transitions))
        #expect(setup.summary == "\(path): 300 rows, 297 transitions, 4 episodes (1 terminal, 3 timeouts)")
    }

    @Test func theDefaultDatasetIsWhereCollectWritesAndItsAbsenceIsNamed() throws {
        let task = try D4RLTask.named("walker2d-medium-replay-v2")
        #expect(OfflineTrainingSetup.defaultDatasetPath(for: task) == "datasets/walker2d_medium_replay-v2.hdf5")
        #expect(OfflineTrainingSetup.defaultDatasetPath(for: try D4RLTask.named("antmaze-medium-play-v0"))
                == "datasets/antmaze_medium_play-v2.hdf5")
        // full-replay is a level collect does not make, so its default file is absent even in a
        // checkout where datasets have been collected.
        let absent = try D4RLTask.named("walker2d-full-replay-v2")
        #expect {
            try OfflineTrainingSetup(task: absent, datasetPath: nil, overrides: TrainingOverrides())
        } throws: { "\($0)".contains("datasets/walker2d_full_replay-v2.hdf5") }
    }

    @Test func aDatasetOfAnotherEnvironmentOrATaskWithoutPresetIsRefused() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("cheetah.hdf5")
        try D4RLFile.write(Self.hopperData(rows: 200, observation: 17), to: path)
        #expect {
            try OfflineTrainingSetup(task: D4RLTask.named("hopper-medium-v2"), datasetPath: path, overrides: TrainingOverrides())
        } throws: { "\($0)" == "\(path): 'observations' has 17 columns, the task needs 11" }

        let hopperPath = folder.path("hopper.hdf5")
        try D4RLFile.write(Self.hopperData(rows: 200), to: hopperPath)
        let random = try D4RLTask.named("hopper-random-v2")
        #expect {
            try OfflineTrainingSetup(task: random, datasetPath: hopperPath, overrides: TrainingOverrides())
        } throws: { "\($0)".contains("no row for hopper-random-v2") && "\($0)".contains("--eta") }
        var overrides = TrainingOverrides()
        overrides.eta = 1
        overrides.gradientNormClip = 5
        #expect(try OfflineTrainingSetup(task: random, datasetPath: hopperPath, overrides: overrides).config.gradientNormClip == 5)
        #expect(try OfflineTrainingSetup.configuration(for: random, overrides: overrides).earlyStopping == nil)
        overrides.earlyStop = true
        #expect(try OfflineTrainingSetup.configuration(for: random, overrides: overrides).earlyStopping == EarlyStopping(blockEpochs: 50))
    }
}
