import ArgumentParser
import Environments
import Foundation

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
    @Option(help: "Worker threads (default: one per core).")
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}

    public func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    }
}
