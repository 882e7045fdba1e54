import DiffusionQL
import Foundation
import NeuralNet
import Testing

/// The reference's actor_<epoch>.pth and critic_<epoch>.pth, made in torch.save's format by a fixture,
/// converted by tools/convert_reference_checkpoint.py and loaded with stand-ins for the EMA actor and
/// the target critic.
@Suite struct ReferenceCheckpointTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
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
        let tools = Self.repository.appendingPathComponent("tools").path
        let made = try python(["\(tools)/tests/make_reference_pth.py", folder + "/spec.json", folder])
        try #require(made.status == 0, "\(made.output)")
        let out = folder + "/epoch_0007.safetensors"
        let converted = try python(["\(tools)/convert_reference_checkpoint.py", "--actor", folder + "/actor_7.pth",
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

        let broken = try python(["\(tools)/convert_reference_checkpoint.py", "--actor", folder + "/spec.json",
                                 "--critic", folder + "/critic_7.pth", "--task", "toy", "--epoch", "7", "--out", out + "2"])
        #expect(broken.status == 1 && broken.output.contains("spec.json: not a PyTorch zip checkpoint"))
    }
}
