import DiffusionQL
import Foundation
import NeuralNet
import Parallel
import RLCore
import SeededRandom
import TerminalProgress

/// Milliseconds per Diffusion-QL training step and per acting call, with the dense-layer FLOPs each
/// needs and the GFLOP/s achieved, against a large sgemm measured in the same run.
public struct TrainingBenchmark {
    public struct Figure: Sendable {
        public let name: String
        /// Median milliseconds per call.
        public let milliseconds: Double
        /// Multiply-adds of the dense layers × 2 (activations and the rest not counted).
        public let flops: Double
        public var gflops: Double { flops / milliseconds / 1e6 }
    }

    /// Timed training steps and acting calls a figure is the median of, unless told otherwise.
    public static let stepRepeats = 30
    public static let callRepeats = 300

    /// Hopper's dimensions and the paper's networks and batch.
    public let config: TrainingConfig
    public let repeats: Int

    public init(stateDimension: Int = 11, actionDimension: Int = 3, repeats: Int) {
        var config = TrainingConfig(task: "hopper-medium-v2", stateDimension: stateDimension, actionDimension: actionDimension)
        config.gradientNormClip = 9
        self.config = config
        self.repeats = repeats
    }

    /// GFLOP/s of a 2048³ sgemm on all of BLAS's threads: the ceiling the figures are compared with.
    /// Returns once OpenBLAS's threads have stopped spinning, so that they take no core from what is
    /// measured next.
    public static func sgemmGFLOPS(size: Int = 2048) -> Double {
        let a = FloatBuffer(GradientFreeRandom.values(size * size, seed: 1))
        let b = FloatBuffer(GradientFreeRandom.values(size * size, seed: 2))
        let c = FloatBuffer(count: size * size)
        let seconds = bestSeconds(repeats: 5) {
            BLAS.gemm(m: size, n: size, k: size, a: a.pointer, lda: size, b: b.pointer, ldb: size, beta: 0, c: c.pointer, ldc: size)
        }
        awaitIdleProcess()
        return 2 * pow(Double(size), 3) / seconds / 1e9
    }

    /// GFLOP/s of the networks' own products at their widest shape (256 × 256 weights, parts of 32
    /// rows) on `threads` threads at once, each on its own operands: what the products can reach here.
    public static func denseGFLOPS(threads: Int, width: Int = 256, rows: Int = 32) -> Double {
        let values = FloatBuffer(GradientFreeRandom.values(width * width, seed: 1))
        let weights = DenseProducts.Weights(standard: values.pointer, transposed: values.pointer)
        let inputs = (0..<threads).map { FloatBuffer(GradientFreeRandom.values(rows * width, seed: UInt64(2 + $0))) }
        let outputs = (0..<threads).map { _ in FloatBuffer(count: rows * width) }
        let pool = WorkerPool(threads: threads), repeats = 400
        let seconds = medianSeconds {
            pool.forEach(threads) { thread in
                for _ in 0..<repeats {
                    DenseProducts.forward(inputs[thread].pointer, rows: rows, inputs: width, outputs: width, weights: weights,
                                          into: outputs[thread].pointer)
                }
            }
        }
        return 2 * Double(width * width * rows * repeats * threads) / seconds / 1e9
    }

    /// A training step without and with the max-Q backup, OpenBLAS held at `threads` threads.
    public func trainSteps(threads: Int) throws -> [Figure] {
        try BLAS.withThreads(threads) {
            [try trainStep(maxQBackup: false, threads: threads), try trainStep(maxQBackup: true, threads: threads)]
        }
    }

    /// One training step on a batch of 256, its network passes shared by `threads` threads.
    public func trainStep(maxQBackup: Bool, threads: Int) throws -> Figure {
        var config = self.config
        config.maxQBackup = maxQBackup
        let trainer = try Trainer(config: config, threads: threads)
        let data = try syntheticData(rows: 10_000)
        for _ in 0..<3 { try trainer.step(on: data) }
        let milliseconds = try median { try trainer.step(on: data) }
        return Figure(name: maxQBackup ? "train step, max-Q backup" : "train step", milliseconds: milliseconds,
                      flops: 2 * trainStepMACs(config))
    }

    /// One acting call for `states` states at once (the rows of an evaluation's running episodes),
    /// its parts shared by `threads` threads.
    public func act(states: Int = 1, candidates: Int = 50, threads: Int = 1) throws -> Figure {
        let schedule = NoiseSchedule(config.schedule, steps: config.diffusionSteps)
        let selector = ActionSelector(maxStates: states, candidates: candidates) { capacity in
            var generator = SeededGenerator(seed: 1)
            return ActionSelector.Lane(
                actor: DiffusionPolicy(stateDimension: config.stateDimension, actionDimension: config.actionDimension,
                                       maxAction: 1, schedule: schedule, capacity: capacity, generator: &generator),
                critic: Critic(stateDimension: config.stateDimension, actionDimension: config.actionDimension,
                               capacity: capacity, generator: &generator))
        }
        let pool = WorkerPool(threads: threads)
        let input = GradientFreeRandom.values(states * config.stateDimension, seed: 3)
        var generators = (0..<states).map { SeededGenerator(.episodeActions, seed: 1, index: $0) }
        var actions = [Float](repeating: 0, count: states * config.actionDimension)
        let call = { selector.selectActions(states: input, rows: states, generators: &generators, into: &actions, on: pool) }
        for _ in 0..<10 { call() }
        let milliseconds = median(call)
        return Figure(name: "act (\(states) × \(candidates) candidates)", milliseconds: milliseconds,
                      flops: 2 * Double(states) * Self.actingMACs(config, candidates: candidates))
    }

    /// The two ceilings the figures are compared with: a large sgemm (OpenBLAS), and the networks' own
    /// products at their widest shape.
    struct Ceilings {
        let sgemm: Double
        let dense: Double

        init(threads: Int) {
            sgemm = BLAS.withThreads(threads) { sgemmGFLOPS() }
            dense = denseGFLOPS(threads: threads)
        }
    }

    /// The ceilings' swing between the two measurements beyond which the report says the ratios are uncertain.
    static let tolerableSwing = 0.15

    /// Figures measured between two measurements of the ceilings (a shared machine's speed drifts
    /// within a minute), each compared with the faster of each ceiling's two measurements: the
    /// stricter reading.
    public struct Measured {
        public let figures: [Figure]
        let threads: Int
        let before: Ceilings
        let after: Ceilings

        /// GFLOP/s of the large sgemm, the faster of its two measurements.
        public var sgemm: Double { max(before.sgemm, after.sgemm) }
        /// GFLOP/s of the networks' widest product, the faster of its two measurements.
        public var dense: Double { max(before.dense, after.dense) }

        /// The figures as a table, each GFLOP/s also as a fraction of each ceiling; a swing of the
        /// ceilings beyond `tolerableSwing` is said.
        public var table: String {
            let number = { (value: Double) in String(format: "%.1f", value) }
            var lines = ["large sgemm (2048³, OpenBLAS \(BLAS.kernelName) kernel, \(threads) threads): \(number(sgemm)) GFLOP/s "
                            + "(before \(number(before.sgemm)), after \(number(after.sgemm))); dense products "
                            + "(\(DenseProducts.arithmetic), 256 × 256 × 32, \(threads) threads): \(number(dense)) GFLOP/s "
                            + "(before \(number(before.dense)), after \(number(after.dense))); Mish on \(VectorUnit.current); "
                            + CPU.current.description]
            let swing = max(sgemm / min(before.sgemm, after.sgemm), dense / min(before.dense, after.dense)) - 1
            if swing > tolerableSwing {
                lines.append("the machine's speed changed by \(Int((100 * swing).rounded()))% during the run: the ratios are uncertain by as much")
            }
            lines.append("call                         median ms   GFLOP/call   GFLOP/s   of sgemm   of dense")
            for figure in figures {
                lines.append(figure.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + String(format: "%10.2f %12.3f %9.1f %9.0f%% %9.0f%%", figure.milliseconds, figure.flops / 1e9, figure.gflops,
                             100 * figure.gflops / sgemm, 100 * figure.gflops / dense))
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Measures `figures` between two measurements of the ceilings on `threads` threads.
    public static func measure(threads: Int, _ figures: () throws -> [Figure]) rethrows -> Measured {
        let before = Ceilings(threads: threads)
        let measured = try figures()
        return Measured(figures: measured, threads: threads, before: before, after: Ceilings(threads: threads))
    }

    /// `measure`'s table.
    public static func report(threads: Int, _ figures: () throws -> [Figure]) rethrows -> String {
        try measure(threads: threads, figures).table
    }

    /// Multiply-adds of choosing one state's action: N denoising steps for each candidate, then both
    /// Q networks on every candidate.
    public static func actingMACs(_ config: TrainingConfig, candidates: Int) -> Double {
        Double(config.diffusionSteps * candidates) * noiseModelMACs(config) + Double(candidates) * 2 * qNetworkMACs(config)
    }

    private static func noiseModelMACs(_ config: TrainingConfig) -> Double {
        let a = config.actionDimension, s = config.stateDimension, h = config.hiddenWidth
        return Double(16 * 32 + 32 * 16 + (a + 16 + s) * h + 2 * h * h + h * a)
    }

    private static func qNetworkMACs(_ config: TrainingConfig) -> Double {
        let h = config.hiddenWidth
        return Double((config.stateDimension + config.actionDimension) * h + 2 * h * h + h)
    }

    private var noiseModelMACs: Double { Self.noiseModelMACs(config) }
    private var qNetworkMACs: Double { Self.qNetworkMACs(config) }

    /// Forward passes cost one unit, backward passes two (weight and input gradients); the actor's
    /// Q term backpropagates through one Q network for its input gradient only.
    private func trainStepMACs(_ config: TrainingConfig) -> Double {
        let b = Double(config.batchSize), n = Double(config.diffusionSteps)
        let next = b * Double(config.nextActionsPerState)
        let critic = n * next * noiseModelMACs + next * 2 * qNetworkMACs + 3 * b * 2 * qNetworkMACs
        let actor = 3 * b * noiseModelMACs + 3 * n * b * noiseModelMACs + b * 2 * qNetworkMACs + b * qNetworkMACs
        return critic + actor
    }

    private func syntheticData(rows: Int) throws -> Transitions {
        let s = config.stateDimension, a = config.actionDimension
        return try Transitions(
            stateDimension: s, actionDimension: a, states: GradientFreeRandom.values(rows * s, seed: 4),
            actions: GradientFreeRandom.values(rows * a, seed: 5).map { $0 / 4 }, rewards: GradientFreeRandom.values(rows, seed: 6),
            nextStates: GradientFreeRandom.values(rows * s, seed: 7), notDone: [Float](repeating: 1, count: rows))
    }

    private func median(_ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            try body()
            times.append((ContinuousClock.now - start).inSeconds * 1000)
        }
        return times.sorted()[times.count / 2]
    }
}

/// Standard normal values from a fixed seed, for inputs whose values do not matter.
enum GradientFreeRandom {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(generator.normal()) }
    }
}
