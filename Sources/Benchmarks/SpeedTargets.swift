import Environments
import Evaluation
import Foundation
import NeuralNet

/// The project's speed targets, measured in one run on this machine and judged: a training step at
/// hopper's dimensions (with and without the max-Q backup) at 70% or more of a large sgemm's GFLOP/s,
/// an acting call for 1 and for 10 states at 60% or more, and run7's evaluation within 1.5× its floor
/// (the strictest reading). Every share is of the same run's ceilings, so that the verdict holds on a
/// noisy machine and means the same on any CPU.
public struct SpeedTargets {
    public static let trainingShare = 0.70
    public static let actingShare = 0.60

    public let models: ModelDirectory
    public let threads: Int
    /// The run whose evaluation is timed against its floor.
    public let checkpoint: String

    public init(models: ModelDirectory, threads: Int, checkpoint: String = "run7") {
        self.models = models
        self.threads = threads
        self.checkpoint = checkpoint
    }

    /// What a figure must be: a share of the same run's sgemm at least this, or the rollout's ratio to
    /// its floor at most this.
    public enum Bound: Sendable {
        case shareAtLeast(Double)
        case ratioAtMost(Double)

        func admits(_ value: Double) -> Bool {
            switch self {
            case let .shareAtLeast(bound): value >= bound
            case let .ratioAtMost(bound): value <= bound
            }
        }

        /// "70%" or "1.25×"; without the unit for the low end of a range.
        func format(_ value: Double, unit: Bool = true) -> String {
            switch self {
            case .shareAtLeast: String(format: "%.0f", 100 * value) + (unit ? "%" : "")
            case .ratioAtMost: String(format: "%.2f", value) + (unit ? "×" : "")
            }
        }

        public var text: String {
            switch self {
            case let .shareAtLeast(bound): "≥ " + format(bound) + " of sgemm"
            case let .ratioAtMost(bound): "≤ " + format(bound) + " the floor"
            }
        }
    }

    /// One figure against its target, over every run: judged by its median, so that one noisy run
    /// does not decide.
    public struct Verdict: Sendable {
        public let call: String
        /// The figure of each run, in order.
        public let readings: [Double]
        public let bound: Bound

        public init(call: String, readings: [Double], bound: Bound) {
            self.call = call
            self.readings = readings
            self.bound = bound
        }

        public var median: Double {
            let sorted = readings.sorted(), middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }

        public var met: Bool { bound.admits(median) }

        /// "70%", or over several runs "70% (67–72%)": the median, then the range.
        public var measured: String {
            guard readings.count > 1, let low = readings.min(), let high = readings.max() else { return bound.format(median) }
            return bound.format(median) + " (" + bound.format(low, unit: false) + "–" + bound.format(high) + ")"
        }
    }

    public struct Outcome {
        /// The measurements' own reports, run by run, then the verdicts as a table.
        public let text: String
        public let verdicts: [Verdict]
        public var allMet: Bool { verdicts.allSatisfy(\.met) }
    }

    /// Refuses, before minutes of measuring, an sgemm ceiling that does not use the vector unit the
    /// networks' kernels use: OpenBLAS gives a CPU newer than itself an old kernel (SSE3's
    /// "Prescott"), whose low GFLOP/s would let every share pass.
    public static func checkCeiling(kernel: String = BLAS.kernelName, vectorUnit: String = VectorUnit.current) throws {
        guard let kernelWidth = openBLASKernelWidth(kernel), kernelWidth < width(vectorUnit) else { return }
        throw SpeedTargetsError.narrowCeiling(kernel: kernel, vectorUnit: vectorUnit,
                                              coreType: vectorUnit == "avx512f" ? "SkylakeX" : "Haswell")
    }

    /// Measures every figure `runs` times (each run under a minute on two idle cores) and judges each
    /// figure's median against its target.
    public func judge(runs: Int = 1) throws -> Outcome {
        try Self.checkCeiling()
        let measured = try (1...runs).map { _ in try measure() }
        let texts = measured.enumerated().map { run, one in runs == 1 ? one.text : "run \(run + 1) of \(runs)\n\n" + one.text }
        let verdicts = measured[0].figures.indices.map { index in
            let figure = measured[0].figures[index]
            return Verdict(call: figure.call, readings: measured.map { $0.figures[index].value }, bound: figure.bound)
        }
        let rows = verdicts.map { verdict in
            verdict.call.padding(toLength: 34, withPad: " ", startingAt: 0) + verdict.measured.leftPadded(18) + "   "
                + verdict.bound.text.padding(toLength: 20, withPad: " ", startingAt: 0) + (verdict.met ? "met" : "MISSED")
        }
        let header = "call" + String(repeating: " ", count: 30) + (runs == 1 ? "measured" : "median (range)").leftPadded(18)
            + "   target" + String(repeating: " ", count: 14) + "verdict"
        let missed = verdicts.filter { !$0.met }.count
        let over = runs == 1 ? "" : " (medians of \(runs) runs)"
        let summary = missed == 0
            ? "every target met on this \(CPU.current)\(over)"
            : "\(missed) of \(verdicts.count) targets missed on this \(CPU.current)\(over)"
        return Outcome(text: (texts + [([header] + rows).joined(separator: "\n"), summary]).joined(separator: "\n\n"),
                       verdicts: verdicts)
    }

    /// One run of every measurement: their reports, and each figure with its bound.
    private func measure() throws -> (text: String, figures: [(call: String, value: Double, bound: Bound)]) {
        let training = try TrainingBenchmark.measure(threads: threads) {
            try TrainingBenchmark(repeats: TrainingBenchmark.stepRepeats).trainSteps(threads: threads)
        }
        let acting = try TrainingBenchmark.measure(threads: threads) {
            let benchmark = TrainingBenchmark(repeats: TrainingBenchmark.callRepeats)
            return try [1, 10].map { try benchmark.act(states: $0, threads: threads) }
        }
        let rollout = try RolloutBenchmark(checkpoint: checkpoint, episodes: 10, models: models, threads: threads).measure()
        let figures = Self.shares(training, atLeast: Self.trainingShare) + Self.shares(acting, atLeast: Self.actingShare)
            + [("rollout \(checkpoint), strictest reading", rollout.strictestRatio, Bound.ratioAtMost(RolloutBenchmark.targetRatio))]
        return ([training.table, acting.table, rollout.text].joined(separator: "\n\n"), figures)
    }

    private static func shares(_ measured: TrainingBenchmark.Measured, atLeast target: Double)
        -> [(call: String, value: Double, bound: Bound)] {
        measured.figures.map { ($0.name, $0.gflops / measured.sgemm, Bound.shareAtLeast(target)) }
    }

    /// Vector widths in order: 2 for AVX-512, 1 for AVX2, 0 below.
    private static func width(_ vectorUnit: String) -> Int {
        switch vectorUnit {
        case "avx512f": 2
        case "avx2": 1
        default: 0
        }
    }

    /// The width of an OpenBLAS x86-64 kernel family by its name; nil for a name not listed (arm64's).
    static func openBLASKernelWidth(_ kernel: String) -> Int? {
        switch kernel.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": 2
        case "haswell", "zen": 1
        case "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn", "dunnington", "nehalem",
             "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "sandybridge", "bobcat", "bulldozer", "piledriver",
             "steamroller", "excavator":
            0
        default: nil
        }
    }
}

public enum SpeedTargetsError: Error, CustomStringConvertible {
    case narrowCeiling(kernel: String, vectorUnit: String, coreType: String)

    public var description: String {
        switch self {
        case let .narrowCeiling(kernel, vectorUnit, coreType):
            "OpenBLAS picked its \(kernel) kernel, which does not use \(vectorUnit), the vector unit the networks' kernels use "
                + "on this CPU, so its sgemm is no ceiling to judge them against; run again with OPENBLAS_CORETYPE=\(coreType)"
        }
    }
}
