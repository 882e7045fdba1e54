import Foundation
import Persistence

/// The folder that holds the environments' MJCF files (`models/` in a checkout).
public struct ModelDirectory: Sendable, Equatable {
    /// Overrides the search when set: the path of a models folder.
    public static let environmentVariable = "DIFFUSION_QL_MODELS"
    /// A file every models folder has; it tells a models folder from any other `models/`.
    static let markerFile = "hopper.xml"

    public let path: String

    /// Uses `path` as the models folder without looking for it.
    public init(path: String) {
        self.path = path
    }

    /// Finds the models folder: `override` if given, else the environment variable, else the checkout's
    /// `models/` (see `CheckoutFolder`). An explicit choice that does not exist is an error, not a fallback.
    public static func locate(override: String? = nil) throws -> ModelDirectory {
        if let explicit = override ?? ProcessInfo.processInfo.environment[environmentVariable] {
            guard isModelsFolder(explicit) else { throw EnvironmentError.modelsDirectoryNotFound(searched: [explicit]) }
            return ModelDirectory(path: explicit)
        }
        let (found, searched) = CheckoutFolder.locate(named: "models", where: isModelsFolder)
        guard let found else { throw EnvironmentError.modelsDirectoryNotFound(searched: searched) }
        return ModelDirectory(path: found)
    }

    /// The full path of a model file in this folder.
    public func file(_ name: String) -> String {
        URL(fileURLWithPath: path).appendingPathComponent(name).path
    }

    private static func isModelsFolder(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent(markerFile).path)
    }
}
