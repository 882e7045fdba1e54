import DiffusionQL
import Foundation
import SeededRandom

/// A tiny Diffusion-QL run in a temporary folder, trained on noise: a checkpoint per epoch to act with.
func tinyRun(task: String, stateDimension: Int, actionDimension: Int, epochs: Int, seed: UInt64) throws -> RunFolder {
    var config = TrainingConfig(task: task, stateDimension: stateDimension, actionDimension: actionDimension)
    config.diffusionSteps = 3
    config.hiddenWidth = 16
    config.batchSize = 8
    config.epochs = epochs
    config.stepsPerEpoch = 3
    config.saveEvery = 1
    var generator = SeededGenerator(seed: seed)
    func values(_ count: Int, _ scale: Double = 1) -> [Float] { (0..<count).map { _ in Float(scale * generator.normal()) } }
    let data = try Transitions(
        stateDimension: stateDimension, actionDimension: actionDimension, states: values(64 * stateDimension),
        actions: values(64 * actionDimension, 0.3), rewards: values(64), nextStates: values(64 * stateDimension),
        notDone: Array(repeating: 1, count: 64))
    let folder = RunFolder(path: FileManager.default.temporaryDirectory.appendingPathComponent("tiny-run-\(UUID().uuidString)").path)
    try TrainingRun(folder: folder, config: config, data: data).train()
    return folder
}
