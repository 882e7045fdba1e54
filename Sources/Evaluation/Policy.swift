import Environments
import Parallel
import SeededRandom

/// A policy that acts for a batch of episodes at once, one observation row per running episode.
public protocol BatchPolicy: AnyObject {
    /// A short name for reports, e.g. "random" or a checkpoint path.
    var name: String { get }

    /// Writes one action row per observation row (both row-major). Row k belongs to episode
    /// `episodes[k]`; a stochastic policy keeps one random stream per episode, so its random draws do
    /// not depend on which other episodes happen to share the batch. `pool`'s threads are idle while the
    /// policy acts, which may spread its work over them; its actions must not depend on how many there are.
    func act(observations: UnsafeBufferPointer<Double>, episodes: UnsafeBufferPointer<Int>,
             actions: UnsafeMutableBufferPointer<Double>, on pool: WorkerPool)
}

extension SeededGenerator {
    /// The acting stream of episode `episode` in an evaluation seeded with `seed`.
    static func acting(seed: UInt64, episode: Int) -> SeededGenerator {
        SeededGenerator(seeds: seed, 0x6163_7469_6F6E, UInt64(episode))
    }
}

/// Uniformly random actions over the action space: the policy behind D4RL's REF_MIN.
public final class RandomPolicy: BatchPolicy {
    public let name = "random"
    private let actionSpace: BoxSpace
    private var generators: [SeededGenerator]

    /// Episode i draws from a generator seeded by (seed, i).
    public init(actionSpace: BoxSpace, episodes: Int, seed: UInt64) {
        self.actionSpace = actionSpace
        generators = (0..<episodes).map { SeededGenerator.acting(seed: seed, episode: $0) }
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
