import Environments
import NeuralNet
import Parallel
import SeededRandom

/// A policy that acts for a batch of episodes at once, one observation row per running episode.
public protocol BatchPolicy: AnyObject {
    /// A short name for reports, e.g. "random" or a checkpoint path.
    var name: String { get }

    /// The arithmetic of the products behind the actions (`DenseProducts.arithmetic`), for reports; nil
    /// for a policy without networks, whose actions do not depend on it.
    var arithmetic: String? { get }

    /// Prepares for an evaluation of `episodes` episodes seeded with `seed`, of which at most
    /// `concurrent` run at once (so a call has at most that many rows): episode i's random draws come
    /// from `SeededGenerator(.episodeActions, seed: seed, index: i)`. The evaluator calls it before the
    /// first step, with its own counts and seed, so the two cannot disagree.
    func begin(episodes: Int, concurrent: Int, seed: UInt64) throws

    /// Writes one action row per observation row (both row-major). Row k belongs to episode
    /// `episodes[k]`; a stochastic policy keeps one random stream per episode, so its random draws do
    /// not depend on which other episodes happen to share the batch. `pool`'s threads are idle while the
    /// policy acts, which may spread its work over them; its actions must not depend on how many there are.
    func act(observations: UnsafeBufferPointer<Double>, episodes: UnsafeBufferPointer<Int>,
             actions: UnsafeMutableBufferPointer<Double>, on pool: WorkerPool)
}

extension BatchPolicy {
    public var arithmetic: String? { DenseProducts.arithmetic }
}

/// A policy that chooses each action among candidates and can tell, after `act`, how far they spread.
public protocol CandidateSpreading: BatchPolicy {
    /// For each row of the last `act`, the lowest then the highest candidate of every action dimension:
    /// row k's `2 × width` values at `spread[k * 2 * width ...]`.
    func candidateSpread(into spread: UnsafeMutableBufferPointer<Double>)
}

/// Uniformly random actions over the action space: the policy behind D4RL's REF_MIN.
public final class RandomPolicy: BatchPolicy {
    public let name = "random"
    public let arithmetic: String? = nil
    private let actionSpace: BoxSpace
    private var generators: [SeededGenerator] = []

    public init(actionSpace: BoxSpace) {
        self.actionSpace = actionSpace
    }

    public func begin(episodes: Int, concurrent: Int, seed: UInt64) {
        generators = (0..<episodes).map { SeededGenerator(.episodeActions, seed: seed, index: $0) }
    }

    public func act(observations: UnsafeBufferPointer<Double>, episodes: UnsafeBufferPointer<Int>,
                    actions: UnsafeMutableBufferPointer<Double>, on pool: WorkerPool) {
        let width = actionSpace.dimension
        for (row, episode) in episodes.enumerated() {
            for k in 0..<width {
                actions[row * width + k] = generators[episode].uniform(actionSpace.low[k], actionSpace.high[k])
            }
        }
    }
}
