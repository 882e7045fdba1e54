import Foundation
import NeuralNet
import SeededRandom

/// A SAC behaviour policy on its own, in a small safetensors file: the tensors under rlkit's names and
/// metadata saying what it is (environment, training step, the score it reached).
public enum PolicyFile {
    /// A policy file named by its run's folder and its own name (`sac-hopper/medium_policy.safetensors`),
    /// for metadata: the same wherever the checkout lives, so a dataset regenerates to the same bytes.
    public static func portableName(_ path: String) -> String {
        URL(fileURLWithPath: path).pathComponents.suffix(2).joined(separator: "/")
    }

    static let format = "swift-diffusion-ql/sac-policy-v1"

    public static func write(_ policy: TanhGaussianPolicy, environment: String, metadata: [String: String],
                             to path: String) throws {
        var metadata = metadata
        metadata["format"] = format
        metadata["environment"] = environment
        metadata["observation_dimension"] = String(policy.stateDimension)
        metadata["action_dimension"] = String(policy.actionDimension)
        metadata["hidden_width"] = String(policy.network.layers[0].outputs)
        try SafetensorsFile.write(policy.parameters.namedTensors(prefix: ""), metadata: metadata, to: path)
    }

    /// The policy in `path`, sized for batches of `capacity` rows; errors name the file and what is
    /// wrong (not a policy file, another environment or dimensions, a bad tensor).
    public static func read(_ path: String, environment: String, observationDimension: Int, actionDimension: Int,
                            capacity: Int) throws -> (policy: TanhGaussianPolicy, metadata: [String: String]) {
        let file = try SafetensorsFile.read(contentsOf: path)
        let metadata = file.metadata
        guard metadata["format"] == format else {
            throw PolicyFileError.foreign(path: path, format: metadata["format"])
        }
        for (key, expected) in [("environment", environment), ("observation_dimension", String(observationDimension)),
                                ("action_dimension", String(actionDimension))] where metadata[key] != expected {
            throw PolicyFileError.mismatch(path: path, field: key, file: metadata[key] ?? "(none)", expected: expected)
        }
        guard let width = metadata["hidden_width"].flatMap({ Int($0) }), width > 0 else {
            throw PolicyFileError.mismatch(path: path, field: "hidden_width", file: metadata["hidden_width"] ?? "(none)",
                                           expected: "a positive integer")
        }
        var unused = SeededGenerator(seed: 0)
        let policy = TanhGaussianPolicy(stateDimension: observationDimension, actionDimension: actionDimension,
                                        hiddenWidth: width, capacity: capacity, generator: &unused)
        try policy.parameters.load(from: file, prefix: "")
        return (policy, metadata)
    }
}

public enum PolicyFileError: Error, Equatable, CustomStringConvertible {
    case foreign(path: String, format: String?)
    case mismatch(path: String, field: String, file: String, expected: String)

    public var description: String {
        switch self {
        case let .foreign(path, format):
            "\(path): not a SAC policy file (metadata format is \(format.map { "'\($0)'" } ?? "missing"), "
                + "expected '\(PolicyFile.format)')"
        case let .mismatch(path, field, file, expected):
            "\(path): the policy's \(field) is \(file), expected \(expected)"
        }
    }
}
