import ArgumentParser
import Datasets
import Environments
import Evaluation
import Foundation
import NeuralNet

/// The package's version, which every executable prints with `--version`.
public let packageVersion = "0.1.0"

/// `--models DIR`, shared by every command that builds environments.
public struct ModelsOption: ParsableArguments {
    @Option(help: "Folder of the MJCF models (default: models/ of this checkout, or $\(ModelDirectory.environmentVariable)).")
    public var models: String?

    public init() {}

    public func locate() throws -> ModelDirectory {
        try ModelDirectory.locate(override: models)
    }
}

/// `--threads N`, shared by every command that runs work in parallel.
public struct ThreadsOption: ParsableArguments {
    @Option(name: .customLong("threads"), parsing: .unconditional, help: "Worker threads (default: one per core).")
    public var requested: Int?

    public init() {}

    /// The threads to use.
    public var count: Int { requested ?? ProcessInfo.processInfo.activeProcessorCount }

    public func check() throws {
        try OptionCheck.atLeast(1, ("--threads", requested))
    }
}

/// Checks of option values, which commands make at the start of `run()`. ArgumentParser calls
/// `validate()` before it looks for unknown options, so a check there would hide an unknown option
/// behind a message about the others.
public enum OptionCheck {
    /// Throws, naming the option and the value, unless every given value is at least `minimum`.
    public static func atLeast<Value: BinaryInteger>(_ minimum: Value, _ options: (String, Value?)...) throws {
        for (name, value) in options {
            if let value, value < minimum { throw ValidationError("\(name) must be at least \(minimum) (got \(value))") }
        }
    }

    /// Throws, naming the option and the value, unless every given value is finite and positive.
    public static func positive<Value: BinaryFloatingPoint>(_ options: (String, Value?)...) throws {
        for (name, value) in options {
            if let value, !(value > 0 && value.isFinite) {
                throw ValidationError("\(name) must be a positive number (got \(value))")
            }
        }
    }
}

/// `--vector-unit U`, for benchmarks: the unit the C kernels run on.
public struct VectorUnitOption: ParsableArguments {
    @Option(help: "Vector unit of the C kernels (Mish, Adam, the thin products): \(VectorUnit.all.joined(separator: ", ")) (default: the widest this CPU has).")
    public var vectorUnit: String?

    public init() {}

    /// Switches the kernels to the chosen unit; throws, naming the units, when this CPU lacks it.
    public func apply() throws {
        guard let vectorUnit else { return }
        guard VectorUnit.use(vectorUnit) else {
            throw ValidationError("--vector-unit \(vectorUnit) is not available on this CPU; it has \(VectorUnit.all.filter(VectorUnit.isAvailable).joined(separator: ", "))")
        }
    }
}

/// `--start-over`, shared by the commands that train in a run folder.
public struct StartOverOption: ParsableArguments {
    @Flag(help: "Delete the run's history (checkpoints, logs, kept policies) and resume state, and train it again from the start.")
    public var startOver = false

    public init() {}

    /// Says what starting over deleted, when it was asked for.
    public func report(deleted: [String]) {
        guard startOver else { return }
        print("starting over: deleted " + (deleted.isEmpty ? "nothing" : deleted.joined(separator: ", ")))
    }
}

/// The training settings `train` takes beside the task, the run and the seed, shared with `sweep train`,
/// which passes them on to every run of its grid.
public struct TrainingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Epochs (default: the paper's, 2000 for locomotion).")
    public var epochs: Int?

    @Option(parsing: .unconditional, help: "Gradient steps per epoch (default 1000).")
    public var stepsPerEpoch: Int?

    @Option(parsing: .unconditional, help: "Save a checkpoint every K epochs (default 50).")
    public var saveEvery: Int?

    @Option(parsing: .unconditional, help: "Weight of the Q term (default: the task preset's).")
    public var eta: Float?

    @Option(parsing: .unconditional, help: "Gradient-norm clipping, 0 for none (default: the task preset's).")
    public var gradNorm: Float?

    @Flag(help: "Stop at the first 50-epoch block whose mean L_d rose above the previous block's, as the reference's --early_stop does.")
    public var earlyStop = false

    public init() {}

    public func check() throws {
        try OptionCheck.atLeast(1, ("--epochs", epochs), ("--steps-per-epoch", stepsPerEpoch), ("--save-every", saveEvery))
        try OptionCheck.positive(("--eta", eta))
        if let gradNorm, !(gradNorm >= 0 && gradNorm.isFinite) {
            throw ValidationError("--grad-norm must be 0 (no clipping) or a positive number (got \(gradNorm))")
        }
    }

    /// The settings given; nil where the task's preset decides.
    public var overrides: TrainingOverrides {
        var overrides = TrainingOverrides()
        overrides.epochs = epochs
        overrides.stepsPerEpoch = stepsPerEpoch
        overrides.saveEvery = saveEvery
        overrides.eta = eta
        overrides.gradientNormClip = gradNorm
        overrides.earlyStop = earlyStop
        return overrides
    }
}

extension RunSelection.Mode: ExpressibleByArgument {}

/// Writes `warning` to standard error, when there is one.
public func warn(_ warning: String?) {
    if let warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
}
