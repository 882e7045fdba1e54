import DiffusionQL
import Foundation
import NeuralNet
import SeededRandom
import TerminalProgress

/// The paper's 2-D bandit (Section 5, Appendix A): a constant state, actions in [-1, 1]², data from
/// four Gaussians at the corners with rewards of different means. Behaviour-cloning diffusion should
/// reproduce all four modes; Diffusion-QL should put its samples on the best corner (0.8, -0.8).
public struct BanditExperiment: Sendable {
    /// One corner of the data: where its actions are and what they pay.
    public struct Mode: Sendable {
        public let center: SIMD2<Float>
        public let rewardMean: Float
    }

    /// The appendix's centres and reward means.
    public static let modes: [Mode] = [
        Mode(center: [-0.8, 0.8], rewardMean: 3.0), Mode(center: [-0.8, -0.8], rewardMean: 0.0),
        Mode(center: [0.8, 0.8], rewardMean: 1.5), Mode(center: [0.8, -0.8], rewardMean: 5.0),
    ]
    /// The corner with the highest reward.
    public static var bestMode: Mode { modes.max { $0.rewardMean < $1.rewardMean }! }
    /// A sample counts as on a corner within this distance.
    public static let cornerRadius: Float = 0.25

    /// Actions in the dataset (a quarter from each mode).
    public var dataCount = 10_000
    /// Spread of each mode's actions.
    public var actionStd: Float = 0.05
    /// Spread of the rewards around each mode's mean.
    public var rewardStd: Float = 0.5
    /// Diffusion steps of both policies.
    public var diffusionSteps = 50
    /// Hidden width of the noise model and the critic.
    public var hiddenWidth = 128
    /// Weight of the Q term of Diffusion-QL.
    public var eta: Float = 2.5
    public var batchSize = 100
    public var learningRate: Float = 3e-4
    /// Cosine decay of the learning rate to 0 over the training.
    public var learningRateDecay = false
    public var epochs = 1000
    public var stepsPerEpoch = 100
    /// Actions drawn from each trained policy for the fractions and the picture.
    public var samples = 1000
    public var seed: UInt64 = 0

    public init() {}

    /// The dataset: state 0 ∈ R², each action from its mode (clipped to [-1, 1]), reward ~ N(mean, std),
    /// every transition terminal, so the critic regresses the reward.
    public func dataset() throws -> Transitions {
        var generator = SeededGenerator(.banditData, seed: seed)
        var actions: [Float] = [], rewards: [Float] = []
        for index in 0..<dataCount {
            let mode = Self.modes[index % Self.modes.count]
            for axis in 0..<2 {
                actions.append(min(max(mode.center[axis] + actionStd * Float(generator.normal()), -1), 1))
            }
            rewards.append(mode.rewardMean + rewardStd * Float(generator.normal()))
        }
        let zeros = [Float](repeating: 0, count: dataCount * 2)
        return try Transitions(stateDimension: 2, actionDimension: 2, states: zeros, actions: actions, rewards: rewards,
                               nextStates: zeros, notDone: [Float](repeating: 0, count: dataCount))
    }

    /// The training configuration: BC-diffusion when `eta` is 0, Diffusion-QL otherwise.
    public func config(eta: Float) -> TrainingConfig {
        var config = TrainingConfig(task: eta == 0 ? "bandit-bc" : "bandit-ql", stateDimension: 2, actionDimension: 2)
        config.diffusionSteps = diffusionSteps
        config.hiddenWidth = hiddenWidth
        config.batchSize = batchSize
        config.actorLearningRate = learningRate
        config.criticLearningRate = learningRate
        config.learningRateDecay = learningRateDecay
        config.eta = eta
        config.discount = 0
        config.epochs = epochs
        config.stepsPerEpoch = stepsPerEpoch
        config.seed = seed
        return config
    }

    /// "37% of 100000 steps · 4 min left", for `done`, the fraction of the training done.
    public func progressLine(done: Double, elapsedSeconds: Double) -> String {
        "\(Int(100 * done))% of \(epochs * stepsPerEpoch) steps · "
            + ProgressFormat.timeLeft(remaining: 1 - done, perSecond: done / elapsedSeconds)
    }

    /// Trains a policy with `eta` on the data and returns `samples` actions drawn from it.
    /// `progress` receives the fraction of training done.
    public func trainAndSample(eta: Float, data: Transitions, progress: ((Double) -> Void)? = nil) throws -> [SIMD2<Float>] {
        // Products of 100 × 128 matrices are too small to share between threads.
        let trainer = try Trainer(config: config(eta: eta), threads: 1)
        let total = epochs * stepsPerEpoch
        for step in 0..<total {
            // Nor between OpenBLAS's threads, where it computes them (measured: no faster on 2 cores, and
            // far slower when the cores are busy); one thread also makes the results the same everywhere.
            try BLAS.withThreads(1) { _ = try trainer.step(on: data) }
            if step % 100 == 99 { progress?(Double(step + 1) / Double(total)) }
        }
        var generator = SeededGenerator(.banditSamples, seed: seed)
        var actions: [SIMD2<Float>] = []
        let chunk = batchSize
        var buffer = [Float](repeating: 0, count: chunk * 2)
        let states = [Float](repeating: 0, count: chunk * 2)
        while actions.count < samples {
            BLAS.withThreads(1) { trainer.actor.sample(states: states, rows: chunk, generator: &generator, into: &buffer) }
            for row in 0..<min(chunk, samples - actions.count) { actions.append([buffer[2 * row], buffer[2 * row + 1]]) }
        }
        return actions
    }
}

/// Where a set of 2-D actions lies relative to the bandit's corners.
public struct CornerFractions: Sendable, Equatable {
    /// Fraction of the actions within `cornerRadius` of each mode, in `BanditExperiment.modes` order:
    /// how closely a policy reproduces the modes.
    public let perMode: [Double]
    /// Fraction of the actions nearer each mode than any other, in `BanditExperiment.modes` order: which
    /// mode a policy chose, whether or not it lands within the radius (Diffusion-QL's samples often sit
    /// at the edge of the action box beyond the best corner, where its critic extrapolates higher values).
    public let nearest: [Double]
    /// Fraction within `cornerRadius` of any corner.
    public var onAnyCorner: Double { perMode.reduce(0, +) }

    public init(_ actions: [SIMD2<Float>]) {
        let modes = BanditExperiment.modes
        let count = Double(max(actions.count, 1))
        func distanceSquared(_ action: SIMD2<Float>, _ mode: BanditExperiment.Mode) -> Float {
            let d = action - mode.center
            return (d * d).sum()
        }
        perMode = modes.map { mode in
            let radius = BanditExperiment.cornerRadius
            return Double(actions.count { distanceSquared($0, mode) <= radius * radius }) / count
        }
        var nearestCounts = [Int](repeating: 0, count: modes.count)
        for action in actions {
            nearestCounts[modes.indices.min { distanceSquared(action, modes[$0]) < distanceSquared(action, modes[$1]) }!] += 1
        }
        nearest = nearestCounts.map { Double($0) / count }
    }

    private static var bestIndex: Int {
        BanditExperiment.modes.firstIndex { $0.center == BanditExperiment.bestMode.center }!
    }

    /// Fraction within `cornerRadius` of the best corner.
    public var onBestCorner: Double { perMode[Self.bestIndex] }

    /// Fraction nearer the best corner than any other.
    public var nearestTheBestCorner: Double { nearest[Self.bestIndex] }
}

extension CornerFractions {
    /// Each panel's shares within the radius of each corner, on any corner, and nearest the best one,
    /// as a text table.
    public static func table(_ panels: [(title: String, actions: [SIMD2<Float>])]) -> String {
        let corners = BanditExperiment.modes.map { "(\($0.center.x), \($0.center.y)) r=\($0.rewardMean)" }
        let best = BanditExperiment.bestMode.center
        func column(_ text: String) -> String { text.padding(toLength: 21, withPad: " ", startingAt: 0) }
        func percent(_ share: Double) -> String { String(format: "%5.1f%%", 100 * share) }
        var lines = ["share of samples within \(BanditExperiment.cornerRadius) of each corner, and nearest the best one",
                     "".padding(toLength: 14, withPad: " ", startingAt: 0) + corners.map(column).joined()
                        + column("any corner") + "nearest (\(best.x), \(best.y))"]
        for panel in panels {
            let fractions = CornerFractions(panel.actions)
            lines.append(panel.title.padding(toLength: 14, withPad: " ", startingAt: 0)
                + fractions.perMode.map { column(percent($0)) }.joined() + column(percent(fractions.onAnyCorner))
                + percent(fractions.nearestTheBestCorner))
        }
        return lines.joined(separator: "\n")
    }
}
