import Foundation

/// Reference trajectories of the benchmark's environments and their replay: what tells that a MuJoCo
/// build and these environments still give the benchmark's MDPs.
///
/// The file is a JSON object whose keys are environment names (`hopper`, ..., `antmaze-umaze`) and
/// whose values are trajectories, arrays of steps `{"t", "action", "obs", "reward", "terminated"}`;
/// string values (a `note`) are skipped. Each trajectory starts at the model's initial state without
/// reset noise, a maze's goal at its goal cell's centre; `obs` is the observation after the step, and a
/// trajectory stops at its first terminated step.
public struct ReferenceTrajectories: Sendable {
    public struct Step: Decodable, Sendable {
        public let action: [Double]
        public let obs: [Double]
        public let reward: Double
        public let terminated: Bool
    }

    /// The trajectories in the file, in `EnvironmentID.allCases` order.
    public let trajectories: [(environment: EnvironmentID, steps: [Step])]
    public let path: String

    public init(contentsOf path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { throw ReferenceTrajectoryError.unreadable(path: path) }
        let entries: [String: Entry]
        do {
            entries = try JSONDecoder().decode([String: Entry].self, from: data)
        } catch let error as DecodingError {
            throw ReferenceTrajectoryError.malformed(path: path, reason: error.readableDescription)
        } catch {
            throw ReferenceTrajectoryError.malformed(path: path, reason: "not JSON (\(error.localizedDescription))")
        }
        var found: [EnvironmentID: [Step]] = [:]
        for (name, entry) in entries {
            guard case let .trajectory(steps) = entry else { continue }
            guard let environment = EnvironmentID(rawValue: name) else {
                throw ReferenceTrajectoryError.unknownEnvironment(path: path, name: name, valid: EnvironmentID.allCases.map(\.rawValue))
            }
            found[environment] = steps
        }
        guard !found.isEmpty else { throw ReferenceTrajectoryError.malformed(path: path, reason: "it holds no trajectory") }
        trajectories = EnvironmentID.allCases.compactMap { id in found[id].map { (id, $0) } }
    }

    /// A trajectory, or a note beside them.
    private enum Entry: Decodable {
        case trajectory([Step])
        case note

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if (try? container.decode(String.self)) != nil {
                self = .note
            } else {
                self = .trajectory(try container.decode([Step].self))
            }
        }
    }

    /// Replays `steps` on `environment` from its model's initial state without noise (a maze's goal at
    /// its goal cell's centre) and measures how far it strays from them.
    public static func replay(_ steps: [Step], on environment: EnvironmentID, models: ModelDirectory) throws -> ReplayResult {
        let env = try environment.makeEnvironments(count: 1, models: models, goalNoise: .none)[0]
        let model = env.simulation.model
        try env.setState(qpos: model.qpos0, qvel: Array(repeating: 0, count: model.nv))
        var result = ReplayResult(environment: environment, referenceSteps: steps.count)
        for (index, step) in steps.enumerated() {
            let outcome = try env.step(step.action)
            guard outcome.observation.count == step.obs.count else {
                result.disagreement = "step \(index): the observation has \(outcome.observation.count) numbers, the reference \(step.obs.count)"
                break
            }
            result.replayedSteps += 1
            for (actual, expected) in zip(outcome.observation, step.obs) {
                result.worstObservationError = max(result.worstObservationError, abs(actual - expected))
            }
            result.worstRewardError = max(result.worstRewardError, abs(outcome.reward - step.reward))
            guard outcome.terminated == step.terminated else {
                result.disagreement = "step \(index): terminated is \(outcome.terminated), the reference says \(step.terminated)"
                break
            }
            if (outcome.terminated || outcome.truncated) && index < steps.count - 1 {
                result.disagreement = "step \(index): the episode ended (\(outcome.terminated ? "terminated" : "truncated")) "
                    + "before the reference's \(steps.count) steps"
                break
            }
        }
        return result
    }
}

/// How a replay compared with its reference trajectory.
public struct ReplayResult: Sendable, Equatable {
    public let environment: EnvironmentID
    public let referenceSteps: Int
    public var replayedSteps = 0
    /// The largest absolute difference of any observation entry, and of any reward.
    public var worstObservationError = 0.0
    public var worstRewardError = 0.0
    /// Where the replay stopped agreeing on the shape of an observation or the end of the episode.
    public var disagreement: String?

    /// The benchmark's bar: every step replayed, observations and rewards within `tolerance`, the same
    /// termination at every step.
    public func conforms(tolerance: Double = 1e-6) -> Bool {
        disagreement == nil && replayedSteps == referenceSteps
            && worstObservationError <= tolerance && worstRewardError <= tolerance
    }

    public var summary: String {
        "\(environment.rawValue): \(replayedSteps) of \(referenceSteps) steps, worst observation error "
            + String(format: "%.2e", worstObservationError) + ", worst reward error " + String(format: "%.2e", worstRewardError)
            + ", " + (disagreement ?? "terminations agree")
    }
}

public enum ReferenceTrajectoryError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    case malformed(path: String, reason: String)
    case unknownEnvironment(path: String, name: String, valid: [String])

    public var description: String {
        switch self {
        case let .unreadable(path):
            "\(path): no such file, or it cannot be read"
        case let .malformed(path, reason):
            "\(path): not a reference trajectory file: \(reason)"
        case let .unknownEnvironment(path, name, valid):
            "\(path): unknown environment '\(name)'; the environments are \(valid.joined(separator: ", "))"
        }
    }
}

extension DecodingError {
    /// What went wrong and where, e.g. "hopper[3].obs: expected an array of numbers".
    var readableDescription: String {
        func place(_ path: [any CodingKey]) -> String {
            guard !path.isEmpty else { return "the top level" }
            return path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch self {
        case let .typeMismatch(type, context):
            return "\(place(context.codingPath)): expected \(type)"
        case let .valueNotFound(type, context):
            return "\(place(context.codingPath)): missing \(type)"
        case let .keyNotFound(key, context):
            return "\(place(context.codingPath + [key])): missing"
        case let .dataCorrupted(context):
            return "\(place(context.codingPath)): " + context.debugDescription
        @unknown default:
            return "\(self)"
        }
    }
}
