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

    /// One figure against its target.
    public struct Verdict: Sendable {
        public let call: String
        public let measured: String
        public let target: String
        public let met: Bool
    }

    public struct Outcome {
        /// The measurements' own reports, then the verdicts as a table.
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

    /// Measures every figure (under a minute on two idle cores) and judges each against its target.
    public func judge() throws -> Outcome {
        try Self.checkCeiling()
        let training = try TrainingBenchmark.measure(threads: threads) {
            try TrainingBenchmark(repeats: TrainingBenchmark.stepRepeats).trainSteps(threads: threads)
        }
        let acting = try TrainingBenchmark.measure(threads: threads) {
            let benchmark = TrainingBenchmark(repeats: TrainingBenchmark.callRepeats)
            return try [1, 10].map { try benchmark.act(states: $0, threads: threads) }
        }
        let rollout = try RolloutBenchmark(checkpoint: checkpoint, episodes: 10, models: models, threads: threads).measure()
        let verdicts = Self.shares(training, atLeast: Self.trainingShare) + Self.shares(acting, atLeast: Self.actingShare) + [
            Verdict(call: "rollout \(checkpoint), strictest reading", measured: String(format: "%.2f× the floor", rollout.strictestRatio),
                    target: "≤ \(RolloutBenchmark.targetRatio)×", met: rollout.strictestRatio <= RolloutBenchmark.targetRatio),
        ]
        let rows = verdicts.map { verdict in
            let call = verdict.call.padding(toLength: 34, withPad: " ", startingAt: 0)
            let target = verdict.target.padding(toLength: 16, withPad: " ", startingAt: 0)
            return call + verdict.measured.leftPadded(16) + "   " + target + (verdict.met ? "met" : "MISSED")
        }
        let table = (["call                                      measured   target          verdict"] + rows).joined(separator: "\n")
        let missed = verdicts.filter { !$0.met }.count
        let summary = missed == 0
            ? "every target met on this \(CPU.current)"
            : "\(missed) of \(verdicts.count) targets missed on this \(CPU.current)"
        let text = [training.table, acting.table, rollout.text, table, summary].joined(separator: "\n\n")
        return Outcome(text: text, verdicts: verdicts)
    }

    private static func shares(_ measured: TrainingBenchmark.Measured, atLeast target: Double) -> [Verdict] {
        measured.figures.map { figure in
            let share = figure.gflops / measured.sgemm
            return Verdict(call: figure.name, measured: String(format: "%.0f%% of sgemm", 100 * share),
                           target: String(format: "≥ %.0f%%", 100 * target), met: share >= target)
        }
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
