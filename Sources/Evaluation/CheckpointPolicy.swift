import DiffusionQL
import Environments
import NeuralNet
import Parallel
import SeededRandom

/// A Diffusion-QL checkpoint acting as the paper evaluates it: for every running episode, 50
/// candidates from the actor scored by the target critic, one drawn from softmax(q_min) (or the best,
/// with `.argmax`). All running episodes' candidates go through the networks as one batch, whose
/// parts the evaluation's threads share.
public final class CheckpointPolicy: CandidateSpreading {
    public let name: String
    public let checkpoint: CheckpointFile
    public let candidates: Int
    public let rule: ActionSelector.Rule
    /// What the checkpoint lacked and what stood in for it (converted reference checkpoints).
    public var notes: [String] { checkpoint.notes }
    /// The acting rule's networks, sized for the evaluation `begin` prepared.
    public private(set) var selector: ActionSelector
    private var generators: [SeededGenerator] = []
    /// The generators of the rows of one call, in row order (the selector takes them contiguous).
    private var rowGenerators: [SeededGenerator] = []
    private var states: FloatBuffer
    private var actions: FloatBuffer
    /// Rows of the last `act`.
    private var lastRows = 0

    /// Builds the networks once for a single state, so that a checkpoint they cannot be built from is
    /// refused here, before any evaluation starts; `begin` sizes them for the evaluation's episodes.
    public init(_ checkpoint: CheckpointFile, candidates: Int = 50, rule: ActionSelector.Rule = .softmax) throws {
        name = checkpoint.path
        self.checkpoint = checkpoint
        self.candidates = candidates
        self.rule = rule
        selector = try checkpoint.actionSelector(maxStates: 1, candidates: candidates, rule: rule)
        states = FloatBuffer(count: selector.actor.stateDimension)
        actions = FloatBuffer(count: selector.actor.actionDimension)
    }

    /// Sizes the networks' buffers for `concurrent` states at once; episode i draws its candidates and
    /// choices from its own stream, so its draws do not depend on which other episodes run beside it.
    public func begin(episodes: Int, concurrent: Int, seed: UInt64) throws {
        if selector.maxStates != concurrent {
            selector = try checkpoint.actionSelector(maxStates: concurrent, candidates: candidates, rule: rule)
            states = FloatBuffer(count: concurrent * selector.actor.stateDimension)
            actions = FloatBuffer(count: concurrent * selector.actor.actionDimension)
        }
        generators = (0..<episodes).map { SeededGenerator(.episodeActions, seed: seed, index: $0) }
        rowGenerators = Array(generators.prefix(concurrent))
    }

    public func act(observations: UnsafeBufferPointer<Double>, episodes: UnsafeBufferPointer<Int>,
                    actions output: UnsafeMutableBufferPointer<Double>, on pool: WorkerPool) {
        let rows = episodes.count
        lastRows = rows
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
    public func candidateSpread(into spread: UnsafeMutableBufferPointer<Double>) {
        precondition(spread.count >= lastRows * 2 * selector.actor.actionDimension, "room for every row's spread")
        selector.candidateSpread(rows: lastRows, into: spread.baseAddress!)
    }

    /// The checkpoint at `location` with the task it is evaluated on: the run's own task, or
    /// `taskOverride` when it drives the same robot (another dataset of the environment, another maze).
    /// Every network of the file is checked first, including those acting does not use.
    public static func load(_ location: CheckpointLocation, taskOverride: String?,
                            rule: ActionSelector.Rule) throws -> (CheckpointPolicy, D4RLTask) {
        let checkpoint = try CheckpointFile.read(contentsOf: location.path)
        try checkpoint.verifyNetworks()
        let task = try D4RLTask.named(taskOverride ?? checkpoint.config.task)
        try checkpoint.requireDimensions(state: task.environment.observationDimension, action: task.environment.actionDimension)
        if let own = try? D4RLTask.named(checkpoint.config.task), own.environment.robot != task.environment.robot {
            throw EvaluationError.otherRobot(path: location.path, trainedOn: own.name, task: task.name)
        }
        return (try CheckpointPolicy(checkpoint, rule: rule), task)
    }
}
