import Parallel
import RLCore
import SeededRandom
import SoftActorCritic

/// Milliseconds per gradient step of the SAC behaviour agent that `collect sac` trains (one per
/// environment step, so the step is what a run's rate is made of), at hopper's dimensions, batch 256
/// and widths 256, with the dense-layer FLOPs it needs.
public enum SACBenchmark {
    public static func gradientStep(threads: Int, repeats: Int, stateDimension: Int = 11, actionDimension: Int = 3) throws
        -> TrainingBenchmark.Figure
    {
        let config = SACConfig()
        var generator = SeededGenerator(seed: 1)
        let agent = try SoftActorCritic(config: config, stateDimension: stateDimension, actionDimension: actionDimension,
                                        pool: WorkerPool(threads: threads), generator: &generator)
        let batch = syntheticBatch(rows: config.batchSize, stateDimension: stateDimension, actionDimension: actionDimension)
        for _ in 0..<3 { try agent.update(on: batch, generator: &generator) }
        let seconds = try medianSeconds(repeats: repeats) { try agent.update(on: batch, generator: &generator) }
        return TrainingBenchmark.Figure(name: "SAC gradient step", milliseconds: seconds * 1000,
                                        flops: 2 * gradientStepMACs(config, stateDimension: stateDimension, actionDimension: actionDimension))
    }

    /// Forward passes one unit, backward passes two (weight and input gradients), the critics'
    /// backward pass for the policy's loss one (input gradients only): the policy runs forward twice
    /// (next and fresh actions) and backward once; both critics run forward three times (targets,
    /// regression, fresh actions), backward once with weights and once without.
    static func gradientStepMACs(_ config: SACConfig, stateDimension: Int, actionDimension: Int) -> Double {
        let h = config.hiddenWidth, b = Double(config.batchSize)
        let policy = Double(stateDimension * h + h * h + h * 2 * actionDimension)
        let qNetwork = Double((stateDimension + actionDimension) * h + h * h + h)
        return b * (4 * policy + 2 * (3 + 2 + 1) * qNetwork)
    }

    private static func syntheticBatch(rows: Int, stateDimension: Int, actionDimension: Int) -> TransitionBatch {
        let batch = TransitionBatch(rows: rows, stateDimension: stateDimension, actionDimension: actionDimension)
        let states = GradientFreeRandom.values(rows * stateDimension, seed: 4), next = GradientFreeRandom.values(rows * stateDimension, seed: 7)
        let actions = GradientFreeRandom.values(rows * actionDimension, seed: 5), rewards = GradientFreeRandom.values(rows, seed: 6)
        for i in 0..<(rows * stateDimension) { batch.states[i] = states[i]; batch.nextStates[i] = next[i] }
        for i in 0..<(rows * actionDimension) { batch.actions[i] = max(-0.99, min(0.99, actions[i] / 4)) }
        for i in 0..<rows { batch.rewards[i] = rewards[i]; batch.notDone[i] = 1 }
        return batch
    }
}
