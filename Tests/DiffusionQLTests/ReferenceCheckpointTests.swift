import DiffusionQL
import Foundation
import NeuralNet
import Testing

/// The reference's actor_<epoch>.pth and critic_<epoch>.pth, made in torch.save's format by a fixture,
/// converted by tools/convert_reference_checkpoint.py and loaded with stand-ins for the EMA actor and
/// the target critic; and this project's checkpoints exported to them by
/// tools/export_reference_checkpoint.py and converted back.
@Suite struct ReferenceCheckpointTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let tools = repository.appendingPathComponent("tools").path
    static let torchImportable = (try? python(["-c", "import torch"]).status == 0) ?? false

    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func stateDict(_ parameters: Parameters, extra: [(name: String, values: [Double])] = []) -> [String: Any] {
        var entries: [String: Any] = [:]
        for tensor in parameters.tensors { entries[tensor.name] = [tensor.shape, parameters.values(of: tensor)] }
        for (name, values) in extra { entries[name] = [[values.count], values] }
        return entries
    }

    @Test func convertedReferenceLoadsWithStandIns() throws {
        let trainer = try Trainer(config: SmallRun.config())
        try trainer.step(on: SmallRun.data())
        let folder = SmallRun.temporaryFolder()
        let spec = ["actor_7.pth": stateDict(trainer.actor.parameters, extra: trainer.actor.schedule.namedBuffers),
                    "critic_7.pth": stateDict(trainer.critic.parameters)]
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: folder + "/spec.json"))
        let tools = Self.tools
        let made = try Self.python(["\(tools)/tests/make_reference_pth.py", folder + "/spec.json", folder])
        try #require(made.status == 0, "\(made.output)")
        let out = folder + "/epoch_0007.safetensors"
        let converted = try Self.python(["\(tools)/convert_reference_checkpoint.py", "--actor", folder + "/actor_7.pth",
                                         "--critic", folder + "/critic_7.pth", "--task", "toy", "--epoch", "7", "--out", out])
        try #require(converted.status == 0, "\(converted.output)")

        let checkpoint = try CheckpointFile.read(contentsOf: out)
        #expect(checkpoint.epoch == 7 && checkpoint.config.stateDimension == 3 && checkpoint.config.actionDimension == 2)
        #expect(checkpoint.config.diffusionSteps == 3 && checkpoint.config.hiddenWidth == 16)
        #expect(checkpoint.standIns == [.emaActor: .actor, .criticTarget: .critic])
        #expect(checkpoint.notes.count == 2 && checkpoint.notes[0].contains("critic stands in"))
        let ema = try checkpoint.policy(.emaActor, capacity: 1)
        #expect(ema.parameters.values.array == trainer.actor.parameters.values.array)
        let target = try checkpoint.critic(.criticTarget, capacity: 1)
        #expect(target.parameters.values.array == trainer.critic.parameters.values.array)

        let broken = try Self.python(["\(tools)/convert_reference_checkpoint.py", "--actor", folder + "/spec.json",
                                      "--critic", folder + "/critic_7.pth", "--task", "toy", "--epoch", "7", "--out", out + "2"])
        #expect(broken.status == 1 && broken.output.contains("spec.json: not a PyTorch zip checkpoint"))
    }

    /// A tensor as stored: its shape and its values' bit patterns.
    struct Stored: Equatable {
        let shape: [Int]
        let bits: [UInt32]
    }

    /// The tensors of a safetensors file under `prefix`, by their names after it.
    func tensors(_ path: String, prefix: String = "") throws -> [String: Stored] {
        let file = try SafetensorsFile.read(contentsOf: path)
        var tensors: [String: Stored] = [:]
        for name in file.names where name.hasPrefix(prefix) {
            let tensor = try file.tensor(name)
            tensors[String(name.dropFirst(prefix.count))] = Stored(shape: tensor.shape, bits: tensor.values.map(\.bitPattern))
        }
        return tensors
    }

    /// A small run's checkpoint of epoch 2: its folder and path.
    func smallCheckpoint() throws -> (folder: String, path: String) {
        let folder = RunFolder(path: SmallRun.temporaryFolder())
        var config = SmallRun.config()
        config.epochs = 2
        try TrainingRun(folder: folder, config: config, data: SmallRun.data()).train()
        return (folder.path, folder.checkpointPath(epoch: 2))
    }

    /// Exports `checkpoint` into `folder` and converts the two files back; returns the converted path.
    func exportAndConvert(_ checkpoint: String, into folder: String, options: [String] = []) throws -> (path: String, notes: String) {
        let exported = try Self.python(["\(Self.tools)/export_reference_checkpoint.py", "--ckpt", checkpoint, "--out", folder] + options)
        try #require(exported.status == 0, "\(exported.output)")
        let converted = folder + "/converted.safetensors"
        let back = try Self.python(["\(Self.tools)/convert_reference_checkpoint.py", "--actor", folder + "/actor_2.pth",
                                    "--critic", folder + "/critic_2.pth", "--task", "toy", "--epoch", "2", "--out", converted])
        try #require(back.status == 0, "\(back.output)")
        return (converted, exported.output)
    }

    /// Checkpoint → export → convert gives the chosen actor's and critic's tensors, bit for bit, under
    /// `actor.` and `critic.`; and a converted checkpoint exported and converted again is the same file's
    /// tensors, every one.
    @Test func exportedCheckpointConvertsBackToTheSameTensors() throws {
        let (folder, original) = try smallCheckpoint()
        let choices = [([String](), "actor.", "critic_target."), (["--actor", "ema", "--critic", "online"], "ema_actor.", "critic.")]
        var converted: [String] = []
        for (index, (options, actor, critic)) in choices.enumerated() {
            let (path, _) = try exportAndConvert(original, into: folder + "/export\(index)", options: options)
            #expect(try tensors(path, prefix: "actor.") == tensors(original, prefix: actor), "\(options)")
            #expect(try tensors(path, prefix: "critic.") == tensors(original, prefix: critic), "\(options)")
            #expect(try tensors(path).count == tensors(original, prefix: actor).count + tensors(original, prefix: critic).count)
            converted.append(path)
        }
        let (again, notes) = try exportAndConvert(converted[0], into: folder + "/again")
        #expect(notes.contains("the critic stands in"), "\(notes)")
        #expect(try tensors(again) == tensors(converted[0]))
    }

    @Test func exportRefusesWhatIsNotACheckpointNamingTheFileAndTensor() throws {
        let (folder, original) = try smallCheckpoint()
        let source = try SafetensorsFile.read(contentsOf: original)
        let partial = folder + "/partial.safetensors"
        try SafetensorsFile.write(source.names.filter { $0 != "critic_target.q2_model.6.bias" }.map { try source.tensor($0) },
                                  metadata: source.metadata, to: partial)
        let export = "\(Self.tools)/export_reference_checkpoint.py"
        let missing = try Self.python([export, "--ckpt", partial, "--out", folder + "/out"])
        #expect(missing.status == 1 && missing.output.contains("\(partial): no tensor 'critic_target.q2_model.6.bias'"), "\(missing)")
        let metrics = try Self.python([export, "--ckpt", folder + "/metrics.csv", "--out", folder + "/out"])
        #expect(metrics.status == 1 && metrics.output.contains("metrics.csv: not a safetensors file"), "\(metrics)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/out/actor_2.pth"))
    }

    /// The exported files load with load_state_dict(strict=True) into the reference's modules (rebuilt
    /// by tools/compare_pytorch.py): a small run's four networks, and run7's EMA actor, whose file was
    /// written before the EMA actor carried its schedule buffers.
    @Test(.enabled(if: torchImportable, "python3 cannot import torch (pip install torch --index-url https://download.pytorch.org/whl/cpu); the strict load into PyTorch modules is skipped"))
    func exportedFilesLoadStrictlyIntoThePyTorchModules() throws {
        let (folder, original) = try smallCheckpoint()
        let run7 = Self.repository.appendingPathComponent("checkpoints/run7/epoch_0050.safetensors").path
        let cases = [(original, [String](), "2", ["3", "2", "16", "3"]),
                     (original, ["--actor", "ema", "--critic", "online"], "2", ["3", "2", "16", "3"]),
                     (run7, ["--actor", "ema"], "50", ["11", "3", "256", "5"])]
        for (index, (checkpoint, options, epoch, dimensions)) in cases.enumerated() {
            let out = folder + "/torch\(index)"
            let exported = try Self.python(["\(Self.tools)/export_reference_checkpoint.py", "--ckpt", checkpoint, "--out", out] + options)
            try #require(exported.status == 0, "\(exported.output)")
            let loaded = try Self.python(["\(Self.tools)/tests/load_reference_strict.py", "\(out)/actor_\(epoch).pth",
                                          "\(out)/critic_\(epoch).pth"] + dimensions)
            #expect(loaded.status == 0 && loaded.output.contains("loaded strictly"), "\(checkpoint) \(options): \(loaded.output)")
        }
    }
}
