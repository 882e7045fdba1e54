/// The environments behind D4RL's tasks.
public enum EnvironmentID: String, Sendable, CaseIterable {
    case hopper
    case walker2d
    case halfcheetah
    case antmazeUmaze = "antmaze-umaze"
    case antmazeMedium = "antmaze-medium"
    case antmazeLarge = "antmaze-large"

    /// What an environment is: a locomotion robot, or the ant in a maze.
    public enum Kind: Sendable, Equatable {
        case locomotion(LocomotionSpec)
        case antMaze(Maze)
    }

    public static let locomotion: [EnvironmentID] = [.hopper, .walker2d, .halfcheetah]

    public var kind: Kind {
        switch self {
        case .hopper: .locomotion(.hopper)
        case .walker2d: .locomotion(.walker2d)
        case .halfcheetah: .locomotion(.halfCheetah)
        case .antmazeUmaze: .antMaze(.umaze)
        case .antmazeMedium: .antMaze(.medium)
        case .antmazeLarge: .antMaze(.large)
        }
    }

    /// The robot the environment drives: the three mazes share the ant, so a policy of one can act in another.
    public var robot: String { locomotionSpec == nil ? "ant" : rawValue }

    /// The locomotion facts; nil for the mazes.
    public var locomotionSpec: LocomotionSpec? {
        if case let .locomotion(spec) = kind { spec } else { nil }
    }

    /// The maze; nil for the locomotion robots.
    public var maze: Maze? {
        if case let .antMaze(maze) = kind { maze } else { nil }
    }

    public var observationDimension: Int {
        switch kind {
        case let .locomotion(spec): spec.observationDimension
        case .antMaze: AntMazeEnvironment.nq + AntMazeEnvironment.nv
        }
    }

    public var actionDimension: Int {
        switch kind {
        case let .locomotion(spec): spec.nu
        case .antMaze: AntMazeEnvironment.nu
        }
    }

    /// The simulator state's sizes, as datasets record them.
    public var stateDimensions: (nq: Int, nv: Int) {
        switch kind {
        case let .locomotion(spec): (spec.nq, spec.nv)
        case .antMaze: (AntMazeEnvironment.nq, AntMazeEnvironment.nv)
        }
    }

    /// Physics steps per environment step.
    public var frameSkip: Int {
        switch kind {
        case let .locomotion(spec): spec.frameSkip
        case .antMaze: AntMazeEnvironment.frameSkip
        }
    }

    /// The motors' control per unit of action (the ant's actions in [-1, 1] drive motors of range ±30).
    public var controlScale: Double {
        switch kind {
        case .locomotion: 1
        case .antMaze: AntMazeEnvironment.controlScale
        }
    }

    /// The time limit: 1000 steps, 700 in the umaze.
    public var maxEpisodeSteps: Int {
        switch kind {
        case let .locomotion(spec): spec.maxEpisodeSteps
        case let .antMaze(maze): maze == .umaze ? 700 : 1000
        }
    }

    /// D4RL's reference returns: REF_MIN (uniformly random actions) and REF_MAX (an expert); for the mazes
    /// 0 and 1, so that the normalized score is 100 × the success rate.
    var referenceScores: (min: Double, max: Double) {
        switch self {
        case .hopper: (-20.272305, 3234.3)
        case .walker2d: (1.629008, 4592.3)
        case .halfcheetah: (-280.178953, 12135.0)
        case .antmazeUmaze, .antmazeMedium, .antmazeLarge: (0, 1)
        }
    }

    /// D4RL's normalized score of an episode return: 100 * (return - REF_MIN) / (REF_MAX - REF_MIN).
    public func normalizedScore(_ episodeReturn: Double) -> Double {
        let scores = referenceScores
        return 100 * (episodeReturn - scores.min) / (scores.max - scores.min)
    }

    /// Loads the model once and returns `count` independent environments sharing it. A maze's goal is
    /// drawn at every reset (D4RL's v2 tasks) unless `goalNoise` says otherwise.
    public func makeEnvironments(count: Int, models: ModelDirectory,
                                 goalNoise: AntMazeEnvironment.GoalNoise = .everyReset) throws -> [any Environment] {
        switch kind {
        case let .locomotion(spec):
            let model = try LocomotionEnvironment.loadModel(spec, models: models)
            return try (0..<count).map { _ in try LocomotionEnvironment(spec, model: model) }
        case let .antMaze(maze):
            let model = try AntMazeEnvironment.loadModel(maze: maze, models: models)
            return try (0..<count).map { _ in
                try AntMazeEnvironment(maze: maze, goalNoise: goalNoise, maxEpisodeSteps: maxEpisodeSteps, model: model)
            }
        }
    }

    public func makeEnvironment(models: ModelDirectory) throws -> any Environment {
        try makeEnvironments(count: 1, models: models)[0]
    }
}

/// A D4RL task by name (`hopper-medium-v2`, `antmaze-umaze-v0`): its environment, dataset and reference
/// scores.
public struct D4RLTask: Sendable, Hashable, CustomStringConvertible {
    /// The full D4RL name, e.g. "walker2d-medium-replay-v2".
    public let name: String
    public let environment: EnvironmentID
    /// The dataset level, e.g. "medium-replay" or, for a maze, "umaze", "medium-play", "large-diverse".
    public let dataset: String
    /// D4RL's version of the task, "v0" or "v2".
    public let version: String
    /// Mean return of uniformly random actions: a normalized score of 0.
    public let referenceMinScore: Double
    /// Return of D4RL's expert: a normalized score of 100.
    public let referenceMaxScore: Double

    public var description: String { name }

    /// D4RL's normalized score of an episode return: 100 * (return - REF_MIN) / (REF_MAX - REF_MIN).
    public func normalizedScore(_ episodeReturn: Double) -> Double {
        environment.normalizedScore(episodeReturn)
    }

    /// Whether the task is about reaching a goal, so that an episode succeeds or fails.
    public var hasGoal: Bool { environment.maze != nil }

    /// The episodes an evaluation runs unless told otherwise: the paper's protocol, 100 for the mazes and
    /// 10 for locomotion.
    public var defaultEvaluationEpisodes: Int { hasGoal ? 100 : 10 }

    /// How a maze's evaluation goal is drawn: once per environment (v0), at every reset (v2).
    public var goalNoise: AntMazeEnvironment.GoalNoise { version == "v0" ? .oncePerEnvironment : .everyReset }

    /// `count` environments of this task sharing one loaded model.
    public func makeEnvironments(count: Int, models: ModelDirectory) throws -> [any Environment] {
        try environment.makeEnvironments(count: count, models: models, goalNoise: goalNoise)
    }

    public func makeEnvironment(models: ModelDirectory) throws -> any Environment {
        try makeEnvironments(count: 1, models: models)[0]
    }

    /// The dataset levels D4RL publishes for every locomotion environment (v2).
    public static let locomotionDatasets = ["random", "medium", "medium-replay", "medium-expert", "expert", "full-replay"]

    /// D4RL's AntMaze datasets, each with its maze, in v0 and v2.
    public static let antMazeDatasets: [(EnvironmentID, String)] = [
        (.antmazeUmaze, "umaze"), (.antmazeUmaze, "umaze-diverse"), (.antmazeMedium, "medium-play"),
        (.antmazeMedium, "medium-diverse"), (.antmazeLarge, "large-play"), (.antmazeLarge, "large-diverse"),
    ]

    /// Every task this project knows, in a stable order.
    public static let all: [D4RLTask] = {
        let locomotion = EnvironmentID.locomotion.flatMap { environment in
            locomotionDatasets.map { dataset in task(environment, "\(environment.rawValue)-\(dataset)", dataset: dataset, version: "v2") }
        }
        let mazes = ["v0", "v2"].flatMap { version in
            antMazeDatasets.map { environment, dataset in task(environment, "antmaze-\(dataset)", dataset: dataset, version: version) }
        }
        return locomotion + mazes
    }()

    private static func task(_ environment: EnvironmentID, _ stem: String, dataset: String, version: String) -> D4RLTask {
        let scores = environment.referenceScores
        return D4RLTask(name: "\(stem)-\(version)", environment: environment, dataset: dataset, version: version,
                        referenceMinScore: scores.min, referenceMaxScore: scores.max)
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
