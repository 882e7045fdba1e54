import DiffusionQL
import Environments
import NeuralNet
import Parallel
import SeededRandom

/// A Diffusion-QL checkpoint acting as the paper evaluates it: for every running episode, 50
/// candidates from the actor scored by the target critic, one drawn from softmax(q_min) (or the best,
/// with `.argmax`). All running episodes' candidates go through the networks as one batch, whose
/// parts the evaluation's threads share.
public final class CheckpointPolicy: BatchPolicy {
    public let name: String
    public let selector: ActionSelector
    /// What the checkpoint lacked and what stood in for it (converted reference checkpoints).
    public let notes: [String]
    private var generators: [SeededGenerator]
    /// The generators of the rows of one call, in row order (the selector takes them contiguous).
    private var rowGenerators: [SeededGenerator]
    private let states: FloatBuffer
    private let actions: FloatBuffer

    /// Episode i draws its candidates and choices from a generator seeded by (seed, i), so its
    /// random draws do not depend on how many other episodes run beside it.
    public init(_ checkpoint: CheckpointFile, episodes: Int, seed: UInt64, candidates: Int = 50,
                rule: ActionSelector.Rule = .softmax) throws {
        name = checkpoint.path
        notes = checkpoint.notes
        selector = try checkpoint.actionSelector(maxStates: episodes, candidates: candidates, rule: rule)
        generators = (0..<episodes).map { SeededGenerator.acting(seed: seed, episode: $0) }
        rowGenerators = generators
        states = FloatBuffer(count: episodes * selector.actor.stateDimension)
        actions = FloatBuffer(count: episodes * selector.actor.actionDimension)
    }

    public func act(observations: UnsafeBufferPointer<Double>, episodes: UnsafeBufferPointer<Int>,
                    actions output: UnsafeMutableBufferPointer<Double>, on pool: WorkerPool) {
        let rows = episodes.count
        for i in 0..<observations.count { states.pointer[i] = Float(observations[i]) }
        for (row, episode) in episodes.enumerated() { rowGenerators[row] = generators[episode] }
        rowGenerators.withUnsafeMutableBufferPointer { rowGenerators in
            selector.selectActions(states: states.pointer, rows: rows, generators: rowGenerators.baseAddress!,
                                   into: actions.pointer, on: pool)
        }
        for (row, episode) in episodes.enumerated() { generators[episode] = rowGenerators[row] }
        for i in 0..<output.count { output[i] = Double(actions.pointer[i]) }
    }
}

extension CheckpointPolicy {
    /// The checkpoint at `location` with the task it is evaluated on: the run's own task, or
    /// `taskOverride` when its environment has the same dimensions (another dataset of it, say).
    public static func load(_ location: CheckpointLocation, taskOverride: String?, episodes: Int, seed: UInt64,
                            rule: ActionSelector.Rule, models: ModelDirectory) throws -> (CheckpointPolicy, D4RLTask) {
        let checkpoint = try CheckpointFile.read(contentsOf: location.path)
        let task = try D4RLTask.named(taskOverride ?? checkpoint.config.task)
        let spec = task.environment.locomotionSpec
        try checkpoint.requireDimensions(state: spec.observationDimension, action: spec.nu)
        return (try CheckpointPolicy(checkpoint, episodes: episodes, seed: seed, rule: rule), task)
    }
}
