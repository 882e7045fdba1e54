import DiffusionQL
import Foundation
import NeuralNet
import Persistence
import SeededRandom
import Testing

@Suite struct RunFolderTests {
    func contents(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    @Test func runWritesConfigMetricsCheckpointsAndResumeState() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        let run = try TrainingRun(folder: folder, config: SmallRun.config(), data: SmallRun.data())
        #expect(!run.resumed)
        try run.train()
        #expect(folder.checkpointEpochs() == [2, 4])
        #expect(try folder.readConfig() == SmallRun.config())
        let metrics = try folder.readMetrics()
        #expect(metrics.map(\.epoch) == [1, 2, 3, 4])
        #expect(metrics.map(\.step) == [5, 10, 15, 20])
        #expect(metrics == run.metrics)
        #expect(metrics.allSatisfy { $0.bcLoss > 0 && $0.criticLoss > 0 && $0.actorLearningRate == Double(Float(3e-4)) })
        let checkpoint = try CheckpointFile.read(contentsOf: folder.checkpointPath(epoch: 4))
        #expect(checkpoint.epoch == 4 && checkpoint.step == 20 && checkpoint.config == SmallRun.config())
    }

    /// A run stopped after two epochs and resumed ends with the same bytes as one never stopped.
    @Test func resumedRunMatchesAnUninterruptedOne() throws {
        let straight = RunFolder(path: SmallRun.temporaryFolder())
        try TrainingRun(folder: straight, config: SmallRun.config(), data: SmallRun.data()).train()

        let interrupted = RunFolder(path: SmallRun.temporaryFolder())
        try TrainingRun(folder: interrupted, config: SmallRun.config(), data: SmallRun.data()).train(untilEpoch: 2)
        // Files a killed process may leave behind past its last resume state: they get rewritten.
        try Data("partial".utf8).write(to: URL(fileURLWithPath: interrupted.checkpointPath(epoch: 4)))
        let resumed = try TrainingRun(folder: interrupted, config: SmallRun.config(), data: SmallRun.data())
        #expect(resumed.resumed && resumed.completedEpochs == 2)
        try resumed.train()

        for epoch in [2, 4] {
            #expect(contents(straight.checkpointPath(epoch: epoch)) == contents(interrupted.checkpointPath(epoch: epoch)))
        }
        #expect(contents(straight.metricsPath) == contents(interrupted.metricsPath))
        #expect(contents(straight.resumePath) == contents(interrupted.resumePath))
    }

    /// A run resumed where the products round differently from where it was saved says so.
    @Test func resumingOnAMachineOfAnotherArithmeticIsNamed() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        try TrainingRun(folder: folder, config: SmallRun.config(), data: SmallRun.data()).train(untilEpoch: 1)
        let sameMachine = try TrainingRun(folder: folder, config: SmallRun.config(), data: SmallRun.data())
        #expect(sameMachine.resumed && sameMachine.savedArithmetic == DenseProducts.arithmetic && sameMachine.arithmeticWarning == nil)

        let saved = try SafetensorsFile.read(contentsOf: folder.resumePath)
        var metadata = saved.metadata
        #expect(metadata["arithmetic"] == DenseProducts.arithmetic)
        metadata["arithmetic"] = "another machine's"
        try SafetensorsFile.write(try saved.names.map { try saved.tensor($0) }, metadata: metadata, to: folder.resumePath)
        let elsewhere = try TrainingRun(folder: folder, config: SmallRun.config(), data: SmallRun.data())
        #expect(elsewhere.resumed && elsewhere.savedArithmetic == "another machine's")
        #expect(elsewhere.arithmeticWarning?.contains("saved with products of another machine's and resumes with "
            + DenseProducts.arithmetic) == true)
    }

    /// A stop asked for before any gradient step (a signal's flag) saves the state mid-epoch; resumed
    /// each time, the run ends with the same bytes as one never stopped.
    @Test(arguments: [[3], [5, 6], [1, 9, 14, 19]])
    func aRunStoppedAtAnyStepResumesToTheSameBytes(_ stops: [Int]) throws {
        let straight = RunFolder(path: SmallRun.temporaryFolder())
        try TrainingRun(folder: straight, config: SmallRun.config(), data: SmallRun.data()).train()
        let stopped = RunFolder(path: SmallRun.temporaryFolder())
        for stop in stops {
            let run = try TrainingRun(folder: stopped, config: SmallRun.config(), data: SmallRun.data())
            #expect(try run.train(stopWhen: { run.trainer.step == stop }) == false)
            #expect(run.trainer.step == stop)
        }
        let last = try TrainingRun(folder: stopped, config: SmallRun.config(), data: SmallRun.data())
        #expect(last.resumed && last.trainer.step == stops.last!)
        #expect(try last.train())
        for name in ["metrics.csv", "resume.safetensors", "epoch_0002.safetensors", "epoch_0004.safetensors"] {
            #expect(contents(straight.path + "/" + name) == contents(stopped.path + "/" + name), "\(name)")
        }
    }

    /// A run whose resume state is gone keeps its history: reopening it is refused with what it holds,
    /// and only starting over, asked for, deletes it. A write killed midway leaves a temporary file,
    /// which reopening removes.
    @Test func historyWithoutResumeStateIsNeverOverwritten() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        try TrainingRun(folder: folder, config: SmallRun.config(), data: SmallRun.data()).train()
        try FileManager.default.removeItem(atPath: folder.resumePath)
        let leftover = folder.path + "/.epoch_0004.safetensors.\(UUID().uuidString).tmp"
        try Data("partial".utf8).write(to: URL(fileURLWithPath: leftover))
        let metrics = contents(folder.metricsPath), checkpoint = contents(folder.checkpointPath(epoch: 4))

        let refusal = try #require(throws: RunHistoryError.self) {
            try TrainingRun(folder: folder, config: SmallRun.config(), data: SmallRun.data())
        }
        #expect(refusal.found == ["metrics.csv", "2 checkpoints (epochs 2 to 4)"], "\(refusal)")
        #expect(refusal.description.contains("no resume.safetensors") && refusal.description.contains("--start-over"))
        #expect(contents(folder.metricsPath) == metrics && contents(folder.checkpointPath(epoch: 4)) == checkpoint)
        #expect(!FileManager.default.fileExists(atPath: leftover))

        let again = try TrainingRun(folder: folder, config: SmallRun.config(), data: SmallRun.data(), startOver: true)
        #expect(!again.resumed && Set(again.deletedHistory.map { ($0 as NSString).lastPathComponent })
                == ["metrics.csv", "epoch_0002.safetensors", "epoch_0004.safetensors", "config.json"])
        try again.train()
        #expect(contents(folder.checkpointPath(epoch: 4)) == checkpoint, "the same run again gives the same bytes")
    }

    @Test func resumingWithAnotherConfigurationOrDatasetIsRefused() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        var config = SmallRun.config()
        config.dataset = DatasetIdentity(path: "a.hdf5", transitions: SmallRun.data())
        try TrainingRun(folder: folder, config: config, data: SmallRun.data()).train()
        var other = config
        other.eta = 2.5
        other.batchSize = 16
        #expect {
            try TrainingRun(folder: folder, config: other, data: SmallRun.data())
        } throws: { error in
            guard case let RunFolderError.configMismatch(_, fields) = error else { return false }
            return fields == ["batchSize", "eta"]
        }
        let otherData = SmallRun.data(rewardScale: 2)
        var otherDataConfig = config
        otherDataConfig.dataset = DatasetIdentity(path: "b.hdf5", transitions: otherData)
        #expect(throws: RunFolderError.self) {
            try TrainingRun(folder: folder, config: otherDataConfig, data: otherData)
        }
        // More epochs on the same data extend the run.
        var longer = config
        longer.epochs = 6
        let extended = try TrainingRun(folder: folder, config: longer, data: SmallRun.data())
        #expect(extended.resumed && extended.completedEpochs == 4)
    }

    /// A loss that overflows stops training at its step and leaves the last checkpoint untouched.
    @Test func nonFiniteLossStopsAndKeepsTheLastCheckpoint() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        var config = SmallRun.config()
        config.epochs = 2
        try TrainingRun(folder: folder, config: config, data: SmallRun.data()).train()
        let saved = contents(folder.checkpointPath(epoch: 2))
        config.epochs = 4
        let poisoned = SmallRun.data(rewardScale: 1e37)
        let run = try TrainingRun(folder: folder, config: config, data: poisoned)
        #expect {
            try run.train()
        } throws: { error in
            guard case let TrainingError.nonFiniteLoss(name, _, step, last) = error else { return false }
            return name == "critic loss" && step == 10 && last == folder.checkpointPath(epoch: 2)
                && "\(error)".contains("gradient step 11") && "\(error)".contains("epoch_0002.safetensors")
        }
        #expect(contents(folder.checkpointPath(epoch: 2)) == saved)
        #expect(folder.checkpointEpochs() == [2])
    }

    /// With the early stop a run trains exactly as without it up to the first block whose mean L_d rose,
    /// saves that block's checkpoint (off the save interval), and stays stopped when run again or extended.
    @Test func earlyStopEndsTheRunAtTheFirstRiseOfTheBlockLoss() throws {
        var config = SmallRun.config()
        config.epochs = 30
        config.saveEvery = 4
        let plain = try TrainingRun(folder: RunFolder(path: SmallRun.temporaryFolder()), config: config, data: SmallRun.data())
        try plain.train()
        config.earlyStopping = EarlyStopping(blockEpochs: 3)
        let rise = try #require(config.earlyStopping?.firstRise(in: plain.metrics))
        #expect(rise.epoch % 4 != 0 && rise.epoch < 30, "the test needs a stop off the save interval, before the end")

        let folder = RunFolder(path: SmallRun.temporaryFolder())
        let run = try TrainingRun(folder: folder, config: config, data: SmallRun.data())
        #expect(try run.train())
        #expect(run.earlyStop == rise && run.completedEpochs == rise.epoch)
        #expect(run.metrics == Array(plain.metrics.prefix(rise.epoch)))
        #expect(folder.checkpointEpochs() == Array(stride(from: 4, to: rise.epoch, by: 4)) + [rise.epoch])
        #expect(rise.report.contains("after epoch \(rise.epoch)"))

        config.epochs = 60
        let extended = try TrainingRun(folder: folder, config: config, data: SmallRun.data())
        #expect(try extended.train())
        #expect(extended.completedEpochs == rise.epoch && extended.trainer.step == rise.epoch * config.stepsPerEpoch)
        #expect(try folder.readMetrics() == run.metrics)
    }

    @Test func checkpointLoadsBackIntoEqualNetworks() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        var config = SmallRun.config()
        config.epochs = 2
        let run = try TrainingRun(folder: folder, config: config, data: SmallRun.data())
        try run.train()
        let file = try CheckpointFile.read(contentsOf: folder.checkpointPath(epoch: 2))
        #expect(try file.policy(.actor, capacity: 1).parameters.values.array == run.trainer.actor.parameters.values.array)
        #expect(try file.policy(.emaActor, capacity: 1).parameters.values.array == run.trainer.emaActor.parameters.values.array)
        #expect(try file.critic(.critic, capacity: 1).parameters.values.array == run.trainer.critic.parameters.values.array)
        #expect(try file.critic(.criticTarget, capacity: 1).parameters.values.array
            == run.trainer.criticTarget.parameters.values.array)
        try file.requireDimensions(state: 3, action: 2)
        #expect {
            try file.requireDimensions(state: 11, action: 2)
        } throws: { "\($0)".contains("state dimension is 3, the task's is 11") && "\($0)".contains("epoch_0002") }
    }

    /// Both policies carry the reference's schedule buffers, so each prefix loads strictly into its
    /// Diffusion module; the EMA actor's are checked like the actor's, and a file without them (as
    /// run7's, written before) loads with the actor's standing for them.
    @Test func everyPolicyCarriesItsScheduleBuffers() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        var config = SmallRun.config()
        config.epochs = 2
        try TrainingRun(folder: folder, config: config, data: SmallRun.data()).train()
        let source = try SafetensorsFile.read(contentsOf: folder.checkpointPath(epoch: 2))
        let buffers = NoiseSchedule(config.schedule, steps: config.diffusionSteps).namedBuffers.map(\.name)
        for prefix in ["actor.", "ema_actor."] {
            #expect(buffers.allSatisfy { source.names.contains(prefix + $0) }, "\(prefix)")
        }

        let older = folder.path + "/older.safetensors", emaBuffers = Set(buffers.map { "ema_actor." + $0 })
        try SafetensorsFile.write(source.names.filter { !emaBuffers.contains($0) }.map { try source.tensor($0) },
                                  metadata: source.metadata, to: older)
        try CheckpointFile.read(contentsOf: older).verifyNetworks()

        let changed = folder.path + "/changed.safetensors"
        try SafetensorsFile.write(source.names.map { name in
            var tensor = try source.tensor(name)
            if name == "ema_actor.posterior_mean_coef2" { tensor.values[1] *= 1.5 }
            return tensor
        }, metadata: source.metadata, to: changed)
        #expect(throws: CheckpointError.scheduleMismatch(path: changed, name: "ema_actor.posterior_mean_coef2")) {
            try CheckpointFile.read(contentsOf: changed).verifyNetworks()
        }
        #expect(throws: Never.self) { try CheckpointFile.read(contentsOf: changed).policy(.actor, capacity: 1) }
    }

    @Test func badCheckpointsNameTheFileAndTensor() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        var config = SmallRun.config()
        config.epochs = 2
        try TrainingRun(folder: folder, config: config, data: SmallRun.data()).train()
        let path = folder.checkpointPath(epoch: 2)
        let bytes = contents(path)

        let truncated = folder.path + "/truncated.safetensors"
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect { try CheckpointFile.read(contentsOf: truncated) } throws: { "\($0)".contains("truncated.safetensors") }

        let foreign = folder.path + "/foreign.safetensors"
        try SafetensorsFile.write([NamedTensor(name: "w", shape: [1], values: [1])], metadata: [:], to: foreign)
        #expect { try CheckpointFile.read(contentsOf: foreign) } throws: { error in
            "\(error)".contains("foreign.safetensors") && "\(error)".contains("not a Diffusion-QL checkpoint")
        }

        let text = folder.path + "/notes.safetensors"
        try Data("hello, world, this is not a checkpoint".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: SafetensorsError.self) { try CheckpointFile.read(contentsOf: text) }

        // A file whose networks are narrower than its configuration says: the first tensor is named.
        let original = try CheckpointFile.read(contentsOf: path)
        var wider = original.config
        wider.hiddenWidth = 32
        let mislabeled = folder.path + "/mislabeled.safetensors"
        let source = try SafetensorsFile.read(contentsOf: path)
        var metadata = source.metadata
        metadata["config"] = try wider.encodedJSON()
        try SafetensorsFile.write(source.names.map { try source.tensor($0) }, metadata: metadata, to: mislabeled)
        let file = try CheckpointFile.read(contentsOf: mislabeled)
        #expect { try file.policy(.actor, capacity: 1) } throws: { error in
            "\(error)".contains("mislabeled.safetensors") && "\(error)".contains("actor.model.")
        }

        // A checkpoint missing the target critic says which tensor is absent.
        let partial = folder.path + "/partial.safetensors"
        try SafetensorsFile.write(source.names.filter { !$0.hasPrefix("critic_target.") }.map { try source.tensor($0) },
                                  metadata: source.metadata, to: partial)
        #expect { try CheckpointFile.read(contentsOf: partial).critic(.criticTarget, capacity: 1) } throws: { error in
            "\(error)".contains("partial.safetensors") && "\(error)".contains("critic_target.q1_model.0.weight")
        }
    }

    @Test func metricsLogWithAGarbledLineIsReported() throws {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        var config = SmallRun.config()
        config.epochs = 1
        try TrainingRun(folder: folder, config: config, data: SmallRun.data()).train()
        var text = try String(contentsOfFile: folder.metricsPath, encoding: .utf8)
        text += "2,10,abc\n"
        try text.write(toFile: folder.metricsPath, atomically: true, encoding: .utf8)
        #expect { try folder.readMetrics() } throws: { "\($0)".contains("metrics.csv") && "\($0)".contains("line 3") }
    }
}

@Suite struct OfflineSelectionTests {
    static func metrics(_ losses: [Double]) -> [EpochMetrics] {
        losses.enumerated().map { index, loss in
            EpochMetrics(epoch: index + 1, step: (index + 1) * 10, bcLoss: loss, qLoss: 0, criticLoss: 0, actorLoss: loss,
                         actorLearningRate: 3e-4, criticLearningRate: 3e-4, actorGradientNorm: 1, criticGradientNorm: 1)
        }
    }

    @Test func blocksAverageTheEpochsSinceThePreviousCheckpoint() {
        let losses = OfflineSelection.checkpointLosses(metrics: Self.metrics([4, 2, 3, 1, 5, 6]), checkpointEpochs: [2, 4, 6])
        #expect(losses == [CheckpointLoss(epoch: 2, meanBCLoss: 3), CheckpointLoss(epoch: 4, meanBCLoss: 2),
                           CheckpointLoss(epoch: 6, meanBCLoss: 5.5)])
    }

    /// Mean losses [0.30, 0.10, 0.20, 0.40]: argsort = [1, 2, 0, 3], so the intended argsort[k] gives
    /// epochs 20, 30, 10, 40 for k = 0...3. The reference's mask `argsort == k` would, for k = 1, pick
    /// index 0 (epoch 10, the third lowest loss).
    @Test func topKIsTheKthLowestLoss() {
        let losses = [0.3, 0.1, 0.2, 0.4].enumerated().map { CheckpointLoss(epoch: ($0.offset + 1) * 10, meanBCLoss: $0.element) }
        #expect(OfflineSelection.choose(losses, topK: 0)?.epoch == 20)
        #expect(OfflineSelection.choose(losses, topK: 1)?.epoch == 30)
        #expect(OfflineSelection.choose(losses, topK: 2)?.epoch == 10)
        #expect(OfflineSelection.choose(losses, topK: 3)?.epoch == 40)
        #expect(OfflineSelection.choose(losses, topK: 4) == nil && OfflineSelection.choose(losses, topK: -1) == nil)
        #expect(OfflineSelection.choose([], topK: 0) == nil)
    }

    /// Blocks of two epochs average 4.5, 3, 3.5 and 1: the third rose above the second, so the run stops
    /// after epoch 6. Only complete blocks count, and an equal block does not stop it.
    @Test func earlyStopIsTheFirstBlockWhoseMeanLossRose() {
        let rule = EarlyStopping(blockEpochs: 2)
        let rise = rule.firstRise(in: OfflineSelectionTests.metrics([5, 4, 3, 3, 3.5, 3.5, 1, 1]))
        #expect(rise == EarlyStopping.Rise(epoch: 6, previousMeanBCLoss: 3, meanBCLoss: 3.5))
        #expect(rule.firstRise(in: OfflineSelectionTests.metrics([5, 4, 3, 3, 9])) == nil)
        #expect(rule.firstRise(in: OfflineSelectionTests.metrics([2, 2, 1, 3, 0.5, 0.5])) == nil)
        #expect(EarlyStopping(blockEpochs: 1).firstRise(in: OfflineSelectionTests.metrics([2, 2, 1, 3]))?.epoch == 4)
    }
}
