import Datasets
import Environments
import Foundation
import NeuralNet
import Persistence
import SeededRandom
import SoftActorCritic
import Testing

/// The SAC behaviour agent's run folder and the datasets collected from it, on hopper with small
/// networks and a few hundred steps.
@Suite struct BehaviourDataTests {
    let models: ModelDirectory

    init() throws {
        models = try ModelDirectory.locate()
    }

    static func tinyConfig() -> SACConfig {
        var config = SACConfig()
        config.hiddenWidth = 16
        config.batchSize = 16
        config.warmupSteps = 16
        config.totalSteps = 600
        config.evaluateEvery = 200
        config.evaluationEpisodes = 1
        config.saveEvery = 100
        config.mediumScore = -100  // the first evaluation keeps the medium policy and replay
        return config
    }

    func files(_ folder: TemporaryFolder, _ names: [String]) throws -> [Data] {
        try names.map { try Data(contentsOf: URL(fileURLWithPath: folder.path($0))) }
    }

    /// Widths and a batch that the passes split into several parts (of 32 rows, of 64 outputs), so that
    /// three threads share them out differently from one.
    @Test func aRunIsTheSameBytesOnAnyNumberOfThreads() throws {
        var config = Self.tinyConfig()
        config.hiddenWidth = 80
        config.batchSize = 80
        config.warmupSteps = 80
        config.totalSteps = 300
        let folders = try [TemporaryFolder(), TemporaryFolder()]
        for (folder, threads) in zip(folders, [1, 3]) {
            try SACRun(folder: folder.path("run"), environment: .hopper, config: config, models: models, threads: threads).train()
        }
        let names = ["run/resume.safetensors", "run/progress.csv", "run/expert_policy.safetensors"]
        #expect(try files(folders[0], names) == files(folders[1], names))
    }

    @Test func anInterruptedRunResumesToTheSameBytes() throws {
        let whole = try TemporaryFolder(), interrupted = try TemporaryFolder()
        try SACRun(folder: whole.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models).train()
        let first = try SACRun(folder: interrupted.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models)
        try first.train(untilStep: 250)
        #expect(first.step >= 250 && first.step < 600)
        let second = try SACRun(folder: interrupted.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models)
        #expect(second.resumed && second.step == first.step)
        try second.train()
        let names = ["run/resume.safetensors", "run/progress.csv", "run/medium_policy.safetensors",
                     "run/medium_replay.hdf5", "run/expert_policy.safetensors"]
        #expect(try files(whole, names) == files(interrupted, names))
        #expect(second.evaluations.map(\.step) == [200, 400, 600])
        #expect(second.mediumStep == 200)
    }

    /// A state saved where the products round differently is resumed with a warning that says so.
    @Test func resumingOnAMachineOfAnotherArithmeticIsNamed() throws {
        let folder = try TemporaryFolder()
        try SACRun(folder: folder.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models).train(untilStep: 150)
        let resumePath = folder.path("run/resume.safetensors")
        #expect(try SACRun(folder: folder.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models)
            .arithmeticWarning == nil)
        let saved = try SafetensorsFile.read(contentsOf: resumePath)
        var metadata = saved.metadata
        metadata["arithmetic"] = "another machine's"
        try SafetensorsFile.write(try saved.names.map { try saved.tensor($0) },
                                  metadata: metadata, to: resumePath)
        let elsewhere = try SACRun(folder: folder.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models)
        #expect(elsewhere.resumed && elsewhere.arithmeticWarning?.contains("saved with products of another machine's") == true)
    }

    /// Asked to stop (a signal's flag), a run finishes the episode under way, saves and returns false;
    /// stopped twice and resumed, it ends with the same bytes as a run never stopped.
    @Test func aRunAskedToStopFinishesItsEpisodeAndResumesToTheSameBytes() throws {
        let whole = try TemporaryFolder(), stopped = try TemporaryFolder()
        #expect(try SACRun(folder: whole.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models).train())
        for stop in [130, 377] {
            let run = try SACRun(folder: stopped.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models)
            #expect(try run.train(stopWhen: { run.step >= stop }) == false)
            #expect(run.step >= stop && run.step < stop + 1000)
            let resumed = try SACRun(folder: stopped.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models)
            #expect(resumed.resumed && resumed.step == run.step)
        }
        #expect(try SACRun(folder: stopped.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models).train())
        let names = ["run/resume.safetensors", "run/progress.csv", "run/medium_policy.safetensors",
                     "run/medium_replay.hdf5", "run/expert_policy.safetensors"]
        #expect(try files(whole, names) == files(stopped, names))
    }

    @Test func aRunRefusesOtherSettings() throws {
        let folder = try TemporaryFolder()
        try SACRun(folder: folder.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models).train(untilStep: 20)
        var other = Self.tinyConfig()
        other.discount = 0.9
        other.totalSteps = 2000  // extending a run is allowed
        #expect(throws: SACRunError.configMismatch(path: folder.path("run"), fields: ["discount"])) {
            try SACRun(folder: folder.path("run"), environment: .hopper, config: other, models: models)
        }
        #expect(throws: SACRunError.configMismatch(path: folder.path("run"), fields: ["environment"])) {
            try SACRun(folder: folder.path("run"), environment: .walker2d, config: Self.tinyConfig(), models: models)
        }
    }

    /// A run folder whose resume state is gone keeps its history (progress, policies, medium-replay
    /// data, the record of an expert from a later run, as the committed folders hold): reopening it is
    /// refused, and only starting over, asked for, deletes it.
    @Test func historyWithoutResumeStateIsNeverOverwritten() throws {
        let (folder, run) = try trainedRunFolder()
        try FileManager.default.removeItem(atPath: run + "/resume.safetensors")
        try FileManager.default.copyItem(atPath: run + "/progress.csv", toPath: run + "/expert_progress.csv")
        let progress = try files(folder, ["run/progress.csv"])
        let refusal = try #require(throws: RunHistoryError.self) {
            try SACRun(folder: run, environment: .hopper, config: Self.tinyConfig(), models: models)
        }
        #expect(refusal.found == ["progress.csv", "medium_policy.safetensors", "expert_policy.safetensors", "medium_replay.hdf5",
                                  "expert_progress.csv"])
        #expect(try files(folder, ["run/progress.csv"]) == progress)
        let again = try SACRun(folder: run, environment: .hopper, config: Self.tinyConfig(), models: models, startOver: true)
        #expect(!again.resumed && again.step == 0 && again.deletedHistory.count == 6)
        #expect(!FileManager.default.fileExists(atPath: run + "/progress.csv"))
        #expect(!FileManager.default.fileExists(atPath: run + "/expert_progress.csv"))
    }

    /// A folder holding a finished tiny run, whose medium and expert policies the collection tests use.
    func trainedRunFolder() throws -> (TemporaryFolder, String) {
        let folder = try TemporaryFolder()
        try SACRun(folder: folder.path("run"), environment: .hopper, config: Self.tinyConfig(), models: models).train()
        return (folder, folder.path("run"))
    }

    @Test func collectionDependsOnTheSeedNotTheThreads() throws {
        let (folder, run) = try trainedRunFolder()
        _ = folder
        var datasets = BehaviourDatasets(environment: .hopper, models: models, runFolder: run)
        datasets.collector.copies = 4
        datasets.collector.threads = 1
        let single = try datasets.make(level: "medium", transitions: 500, seed: 5)
        datasets.collector.threads = 3
        #expect(try datasets.make(level: "medium", transitions: 500, seed: 5) == single)
        #expect(try datasets.make(level: "medium", transitions: 500, seed: 6) != single)
        #expect(single.metadata["algorithm"] == "SAC" && single.metadata["level"] == "medium")
    }

    /// The committed expert policies behave as the README's dataset table says: a few episodes of
    /// each (sampled actions, as the datasets are made) score above the targets.
    @Test(arguments: [(EnvironmentID.hopper, 90.0), (.walker2d, 90), (.halfcheetah, 80)])
    func theCommittedExpertsScoreAboveTheirTargets(environment: EnvironmentID, target: Double) throws {
        let folder = try #require(RunsFolder.find("sac-\(environment.rawValue)"), "no checkpoints/sac-\(environment.rawValue)")
        var datasets = BehaviourDatasets(environment: environment, models: models, runFolder: folder)
        datasets.collector.copies = 2
        let data = try datasets.make(level: "expert", transitions: 2000, seed: 0)
        let summary = DatasetSummary(data, task: try D4RLTask.named("\(environment.rawValue)-expert-v2"))
        #expect(summary.episodes >= 2 && summary.normalizedScore > target, "\(environment): \(summary)")
    }

    /// Whole episodes, each row's recorded simulator state reproduces its observation, the next
    /// observation is the next row within an episode, and every episode ends in a terminal or a time cut.
    @Test func collectedRowsAreConsecutiveStepsOfWholeEpisodes() throws {
        var datasets = BehaviourDatasets(environment: .hopper, models: models, runFolder: "/nonexistent")
        datasets.collector.copies = 3
        let data = try datasets.make(level: "random", transitions: 400, seed: 1)
        #expect(data.rows >= 400)
        let timeouts = try #require(data.timeouts), next = try #require(data.nextObservations)
        #expect(data.terminals.last! || timeouts.last!)
        #expect(data.episodeReturns().count == data.terminalCount + data.timeoutCount)
        let environment = try EnvironmentID.hopper.makeEnvironment(models: models)
        let qpos = try #require(data.infos["qpos"]), qvel = try #require(data.infos["qvel"])
        let width = data.observationDimension
        for row in stride(from: 0, to: data.rows, by: 37) {
            let observation = try environment.setState(qpos: qpos.values[row * 6 ..< row * 6 + 6].map(Double.init),
                                                       qvel: qvel.values[row * 6 ..< row * 6 + 6].map(Double.init))
            for k in 0..<width { #expect(abs(Float(observation[k]) - data.observations[row * width + k]) < 1e-5) }
            if row + 1 < data.rows && !data.terminals[row] && !timeouts[row] {
                #expect(Array(next[row * width ..< (row + 1) * width]) == Array(data.observations[(row + 1) * width ..< (row + 2) * width]))
            }
        }
        #expect(data.actions.allSatisfy { (-1...1).contains($0) })
        #expect(data.infos["action_log_probs"]!.values.allSatisfy { abs($0 - 3 * -log(2)) < 1e-6 })
    }

    @Test func mediumExpertIsMediumThenExpert() throws {
        let (folder, run) = try trainedRunFolder()
        _ = folder
        var datasets = BehaviourDatasets(environment: .hopper, models: models, runFolder: run)
        datasets.collector.copies = 2
        let medium = try datasets.make(level: "medium", transitions: 200, seed: 2)
        let expert = try datasets.make(level: "expert", transitions: 200, seed: 2)
        let both = try datasets.make(level: "medium-expert", transitions: 200, seed: 2)
        #expect(both.rows == medium.rows + expert.rows)
        #expect(both.observations == medium.observations + expert.observations)
        #expect(both.infos["qpos"]!.values == medium.infos["qpos"]!.values + expert.infos["qpos"]!.values)
        #expect(both.metadata["level"] == "medium-expert")
        let replay = try datasets.make(level: "medium-replay", transitions: 1, seed: 0)
        #expect(replay.rows == 200 && replay.metadata["level"] == "medium-replay")
    }

    @Test func missingOrForeignPoliciesAreNamed() throws {
        let folder = try TemporaryFolder()
        let datasets = BehaviourDatasets(environment: .hopper, models: models, runFolder: folder.path("sac"))
        let missing = try #require(throws: BehaviourDatasetError.self) { try datasets.make(level: "medium", transitions: 10, seed: 0) }
        #expect(missing.description.contains("medium_policy.safetensors") && missing.description.contains("collect sac --env hopper"))
        #expect(throws: BehaviourDatasetError.unknownLevel("meduim")) { try datasets.make(level: "meduim", transitions: 10, seed: 0) }

        var generator = SeededGenerator(seed: 0)
        let walkerPolicy = TanhGaussianPolicy(stateDimension: 17, actionDimension: 6, hiddenWidth: 8, capacity: 1, generator: &generator)
        try PolicyFile.write(walkerPolicy, environment: "walker2d", metadata: [:], to: folder.path("walker.safetensors"))
        #expect(throws: PolicyFileError.mismatch(path: folder.path("walker.safetensors"), field: "environment",
                                                 file: "walker2d", expected: "hopper")) {
            try PolicyFile.read(folder.path("walker.safetensors"), environment: "hopper", observationDimension: 11,
                                actionDimension: 3, capacity: 1)
        }
        let read = try PolicyFile.read(folder.path("walker.safetensors"), environment: "walker2d", observationDimension: 17,
                                       actionDimension: 6, capacity: 1)
        #expect(read.policy.parameters.values.array == walkerPolicy.parameters.values.array)
    }
}
