/// Every random stream the package draws from, each under a key of its own, so that no two purposes
/// share a stream: a run's numbers depend only on its seed, the stream's key and the stream's index.
public enum RandomStream: UInt64, CaseIterable, Sendable {
    /// A training run's initial weights (Diffusion-QL's trainer, SAC).
    case initialization = 1
    /// What a training run draws after that: minibatches, diffusion noise and timesteps; for SAC also
    /// the resets and the action noise of its environment steps.
    case training = 2
    /// SAC's periodic evaluations, one stream per evaluation (indexed by the step), so that evaluating
    /// changes nothing in training.
    case behaviourEvaluation = 3
    /// The goal-reaching ant controller's evaluation tries, one stream per try (indexed by the try, the
    /// same tries at every evaluation), so that evaluating changes nothing in training.
    case controllerEvaluation = 4
    /// Actions sampled from a checkpoint's actor to look at its distribution, one stream per state.
    case policySamples = 5
    /// The bandit's data.
    case banditData = 10
    /// Actions sampled from a trained bandit policy.
    case banditSamples = 20
    /// The reset seeds of an evaluation's episodes, one stream per episode.
    case episodeReset = 0x72_6573_6574 // "reset"
    /// A policy's draws while it acts in an evaluation, one stream per episode.
    case episodeActions = 0x6163_7469_6F6E // "action"
    /// A collection copy's resets and behaviour noise, one stream per environment copy.
    case collection = 0x63_6F6C_6C65_6374 // "collect"
}

extension SeededGenerator {
    /// `stream` of a run seeded with `seed`; `index` tells apart the streams of one kind (episode i,
    /// copy i, the evaluation at step s).
    public init(_ stream: RandomStream, seed: UInt64, index: Int? = nil) {
        if let index {
            self.init(seeds: seed, stream.rawValue, UInt64(index))
        } else {
            self.init(seeds: seed, stream.rawValue)
        }
    }
}
