/// The environments behind D4RL's tasks.
public enum EnvironmentID: String, Sendable, CaseIterable {
    case hopper
    case walker2d
    case halfcheetah

    public var locomotionSpec: LocomotionSpec {
        switch self {
        case .hopper: return .hopper
        case .walker2d: return .walker2d
        case .halfcheetah: return .halfCheetah
        }
    }

    /// D4RL's reference returns: REF_MIN (uniformly random actions) and REF_MAX (an expert).
    var referenceScores: (min: Double, max: Double) {
        switch self {
        case .hopper: return (-20.272305, 3234.3)
        case .walker2d: return (1.629008, 4592.3)
        case .halfcheetah: return (-280.178953, 12135.0)
        }
    }

    /// D4RL's normalized score of an episode return: 100 * (return - REF_MIN) / (REF_MAX - REF_MIN).
    public func normalizedScore(_ episodeReturn: Double) -> Double {
        let scores = referenceScores
        return 100 * (episodeReturn - scores.min) / (scores.max - scores.min)
    }

    /// Loads the model once and returns `count` independent environments sharing it.
    public func makeEnvironments(count: Int, models: ModelDirectory) throws -> [any Environment] {
        let model = try LocomotionEnvironment.loadModel(locomotionSpec, models: models)
        return try (0..<count).map { _ in try LocomotionEnvironment(locomotionSpec, model: model) }
    }

    public func makeEnvironment(models: ModelDirectory) throws -> any Environment {
        try makeEnvironments(count: 1, models: models)[0]
    }
}

/// A D4RL task by name (`hopper-medium-v2`): its environment, dataset and reference scores.
public struct D4RLTask: Sendable, Hashable, CustomStringConvertible {
    /// The full D4RL name, e.g. "walker2d-medium-replay-v2".
    public let name: String
    public let environment: EnvironmentID
    /// The dataset level, e.g. "medium-replay".
    public let dataset: String
    /// Mean return of uniformly random actions: a normalized score of 0.
    public let referenceMinScore: Double
    /// Return of D4RL's expert: a normalized score of 100.
    public let referenceMaxScore: Double

    public var description: String { name }

    /// D4RL's normalized score of an episode return: 100 * (return - REF_MIN) / (REF_MAX - REF_MIN).
    public func normalizedScore(_ episodeReturn: Double) -> Double {
        environment.normalizedScore(episodeReturn)
    }

    /// The dataset levels D4RL publishes for every locomotion environment (v2).
    public static let locomotionDatasets = ["random", "medium", "medium-replay", "medium-expert", "expert", "full-replay"]

    /// Every task this project knows, in a stable order.
    public static let all: [D4RLTask] = EnvironmentID.allCases.flatMap { environment in
        locomotionDatasets.map { dataset in
            let scores = environment.referenceScores
            return D4RLTask(
                name: "\(environment.rawValue)-\(dataset)-v2", environment: environment, dataset: dataset,
                referenceMinScore: scores.min, referenceMaxScore: scores.max)
        }
    }

    /// The task of that name, or an error listing the valid names (and the closest one).
    public static func named(_ name: String) throws -> D4RLTask {
        if let task = all.first(where: { $0.name == name }) { return task }
        let names = all.map(\.name)
        let closest = names.min { editDistance($0, name) < editDistance($1, name) }
        let suggestion = closest.flatMap { editDistance($0, name) <= max(3, name.count / 4) ? $0 : nil }
        throw EnvironmentError.unknownTask(name: name, suggestion: suggestion, valid: names)
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
