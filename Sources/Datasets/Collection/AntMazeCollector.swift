import Environments
import Foundation
import NeuralNet
import Parallel
import SeededRandom
import SoftActorCritic

/// How an AntMaze collection chooses where its ant starts and where it is sent, D4RL's three kinds.
public enum AntMazeLevel: String, CaseIterable, Sendable {
    /// From the maze's start to its goal, every episode (antmaze-umaze).
    case umaze
    /// From hand-picked cells to hand-picked goals: the maze's start and goal and the data-generation
    /// maps' extra goal cells (antmaze-medium-play, antmaze-large-play).
    case play
    /// From random free cells to random free cells (the -diverse datasets).
    case diverse

    /// The D4RL dataset this level makes in `maze` ("umaze", "umaze-diverse", "medium-play", ...); nil
    /// where D4RL has none (play in the umaze, umaze elsewhere).
    public func dataset(in maze: Maze) -> String? {
        switch (self, maze.name) {
        case (.umaze, "umaze"): "umaze"
        case (.diverse, _): "\(maze.name)-diverse"
        case (.play, "medium"), (.play, "large"): "\(maze.name)-play"
        default: nil
        }
    }
}

public enum AntMazeCollectionError: Error, Equatable, CustomStringConvertible {
    case noSuchDataset(maze: String, level: String)
    /// A file whose metadata does not say which maze and goal it was made for.
    case notMazeData(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notMazeData(path, reason):
            return "\(path): not AntMaze data of collect: \(reason)"
        case let .noSuchDataset(maze, level):
            let valid = Maze.all.flatMap { maze in
                AntMazeLevel.allCases.compactMap { level in level.dataset(in: maze).map { _ in "antmaze-\(maze.name) --level \(level.rawValue)" } }
            }
            return "D4RL has no antmaze-\(maze) dataset of level \(level); the datasets are " + valid.joined(separator: ", ")
        }
    }
}

/// AntMaze data made the way D4RL made it: the goal-reaching controller, steered along the maze's
/// shortest path by `MazePlanner`'s waypoints toward a commanded goal, its mean action plus Gaussian
/// noise (σ 0.2, clipped to the box: D4RL's noisy collection), in episodes of 1001 steps whatever
/// happens. In play and diverse data a reached goal is replaced by another, so the ant keeps moving.
///
/// Rewards and terminals are relabelled against the evaluation goal, drawn once from the seed as a v0
/// task draws it: 1 when the next position is within 0.5 of it. `infos/goal` holds the commanded goal,
/// `infos/qpos` and `infos/qvel` the state before the action. Copy i draws its starts, goals and noise
/// from its own stream, and the copies' actions come from one batched forward pass, so the data depends
/// on the seed and the number of copies, not the number of threads.
public struct AntMazeCollector {
    public let maze: Maze
    public let level: AntMazeLevel
    public var models: ModelDirectory
    /// Environments stepped together (part of what the data depends on; keep it fixed).
    public var copies = 16
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Steps of every collection episode: D4RL's counter ran from 0 to its limit of 1000 inclusive.
    public static let episodeSteps = 1001
    /// Standard deviation of the noise added to the controller's mean action (D4RL's `--noisy`).
    public static let actionNoise = 0.2
    /// A start is drawn this far (m) beyond its cell's centre on each axis, U(0, 1), in play and diverse data.
    public static let startSpread = 1.0

    public init(maze: Maze, level: AntMazeLevel, models: ModelDirectory) throws {
        guard level.dataset(in: maze) != nil else { throw AntMazeCollectionError.noSuchDataset(maze: maze.name, level: level.rawValue) }
        self.maze = maze
        self.level = level
        self.models = models
    }

    /// The evaluation goal the rewards are relabelled against: the maze's goal drawn as a v0 task draws
    /// it (the goal cell's centre plus U(0, 1) + U(0, 0.5) per axis), from the collection's seed.
    public func evaluationGoal(seed: UInt64) throws -> PlanarPosition {
        let environment = try AntMazeEnvironment(maze: maze, goalNoise: .oncePerEnvironment, maxEpisodeSteps: 1, models: models)
        var generator = SeededGenerator(.collection, seed: seed, index: copies)
        environment.reset(seed: generator.next())
        return environment.goal
    }

    /// `transitions` rows (the last episode cut there), steered by `controller` (sized for `copies`
    /// rows); `metadata` is added to the file's.
    public func collect(controller: TanhGaussianPolicy, transitions target: Int, seed: UInt64, metadata: [String: String],
                        progress: ((CollectionProgress) -> Void)? = nil) throws -> D4RLDataset {
        precondition(target > 0, "a dataset needs at least one transition")
        precondition(controller.capacity >= copies && controller.stateDimension == ControllerObservation.dimension,
                     "the controller must take \(copies) rows of \(ControllerObservation.dimension) numbers")
        let relabelGoal = try evaluationGoal(seed: seed)
        let model = try AntMazeEnvironment.loadModel(maze: maze, models: models)
        let environments = try (0..<copies).map { _ in
            let environment = try AntMazeEnvironment(maze: maze, goalNoise: .none, maxEpisodeSteps: Self.episodeSteps, model: model)
            environment.terminatesAtGoal = false
            return environment
        }
        let vector = VectorEnvironment(environments: environments, pool: WorkerPool(threads: threads))
        var generators = (0..<copies).map { SeededGenerator(.collection, seed: seed, index: $0) }
        var plans = try (0..<copies).map { copy in
            try startEpisode(copy, environments[copy], of: vector, evaluationGoal: relabelGoal, generator: &generators[copy])
        }
        let (nq, nv, nu) = (AntMazeEnvironment.nq, AntMazeEnvironment.nv, AntMazeEnvironment.nu)
        let width = vector.observationDimension
        var episodes = [EpisodeColumns](repeating: EpisodeColumns(), count: copies)
        var kept = EpisodeColumns(), keptEpisodes = 0
        let inputs = FloatBuffer(count: copies * ControllerObservation.dimension), means = FloatBuffer(count: copies * nu)
        var actions = [Double](repeating: 0, count: copies * nu)
        var controllerRow = [Double](repeating: 0, count: ControllerObservation.dimension)
        var previous = [Double](repeating: 0, count: copies * width)

        while kept.rows < target {
            vector.withObservations { rows in previous.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: rows) } }
            for copy in 0..<copies {
                let simulation = environments[copy].simulation
                plans[copy].steer(from: PlanarPosition(x: simulation.qpos[0], y: simulation.qpos[1]))
                controllerRow.withUnsafeMutableBufferPointer { row in
                    ControllerObservation.write(qpos: simulation.qpos, qvel: simulation.qvel, goal: plans[copy].waypoint, into: row)
                }
                for k in 0..<controllerRow.count { inputs.pointer[copy * controllerRow.count + k] = Float(controllerRow[k]) }
                episodes[copy].appendState(qpos: simulation.qpos, qvel: simulation.qvel, goal: plans[copy].goal,
                                           observation: previous[copy * width ..< (copy + 1) * width])
            }
            controller.meanActions(states: inputs.pointer, rows: copies, into: means.pointer)
            for copy in 0..<copies {
                for k in 0..<nu {
                    let noisy = Double(means.pointer[copy * nu + k]) + Self.actionNoise * generators[copy].normal()
                    actions[copy * nu + k] = min(max(noisy, -1), 1)
                }
            }
            try vector.step(actions: actions)
            for copy in 0..<copies {
                let outcome = vector.outcome(copy), simulation = environments[copy].simulation
                let position = PlanarPosition(x: simulation.qpos[0], y: simulation.qpos[1])
                let reached = position.distance(to: relabelGoal) <= environments[copy].goalRadius
                vector.withObservations { next in
                    episodes[copy].appendOutcome(action: actions[copy * nu ..< (copy + 1) * nu], reached: reached,
                                                 timeout: outcome.truncated, nextObservation: next[copy * width ..< (copy + 1) * width])
                }
                if level != .umaze && position.distance(to: plans[copy].goal) <= environments[copy].goalRadius {
                    plans[copy] = try plan(from: maze.cell(containing: position) ?? plans[copy].goalCell, evaluationGoal: relabelGoal,
                                           generator: &generators[copy])
                }
                guard outcome.truncated else { continue }
                if kept.rows < target {
                    kept.append(episodes[copy], upTo: target)
                    keptEpisodes += 1
                }
                episodes[copy].removeAll()
                plans[copy] = try startEpisode(copy, environments[copy], of: vector, evaluationGoal: relabelGoal,
                                               generator: &generators[copy])
            }
            progress?(CollectionProgress(transitions: kept.rows, target: target, episodes: keptEpisodes))
        }
        var metadata = metadata
        metadata["environment"] = "antmaze-\(maze.name)"
        metadata["level"] = level.rawValue
        metadata["dataset"] = level.dataset(in: maze)
        metadata["seed"] = String(seed)
        metadata["episodes"] = String(keptEpisodes)
        metadata["evaluation_goal"] = "\(relabelGoal.x),\(relabelGoal.y)"
        metadata["action_noise"] = String(Self.actionNoise)
        return kept.dataset(observationDimension: width, actionDimension: nu, qposDimension: nq, qvelDimension: nv, metadata: metadata)
    }

    /// Chooses the episode's start and goal, resets the copy there and returns its plan.
    private func startEpisode(_ copy: Int, _ environment: AntMazeEnvironment, of vector: VectorEnvironment,
                              evaluationGoal: PlanarPosition, generator: inout SeededGenerator) throws -> Plan {
        let start = level == .umaze ? maze.start : draw(from: startCells, generator: &generator)
        try environment.setStartCell(start)
        vector.reset(copy: copy, seed: generator.next())
        if level != .umaze {
            var qpos = Array(environment.simulation.qpos)
            qpos[0] += generator.uniform(0, Self.startSpread)
            qpos[1] += generator.uniform(0, Self.startSpread)
            try vector.setState(copy: copy, qpos: qpos, qvel: Array(environment.simulation.qvel))
        }
        return try plan(from: start, evaluationGoal: evaluationGoal, generator: &generator)
    }

    /// A goal for an ant in `cell`: the maze's goal (umaze data), else another of the level's goal cells.
    /// The ant is sent to a cell's centre, and in the maze's goal cell to the evaluation goal itself,
    /// as D4RL's collection sent it to the target its rewards were computed against.
    private func plan(from cell: Maze.Cell, evaluationGoal: PlanarPosition, generator: inout SeededGenerator) throws -> Plan {
        let goalCell = level == .umaze ? maze.goal : draw(from: goalCells.filter { $0 != cell }, generator: &generator)
        return try Plan(maze: maze, goalCell: goalCell, goal: goalCell == maze.goal ? evaluationGoal : maze.centre(of: goalCell))
    }

    /// Play data's hand-picked cells, diverse data's free cells but the goal's.
    private var startCells: [Maze.Cell] {
        level == .play ? [maze.start, maze.goal] + maze.extraGoalCells : maze.freeCells.filter { $0 != maze.goal }
    }

    private var goalCells: [Maze.Cell] {
        level == .play ? [maze.start, maze.goal] + maze.extraGoalCells : maze.freeCells
    }

    private func draw(from cells: [Maze.Cell], generator: inout SeededGenerator) -> Maze.Cell {
        cells[min(Int(generator.uniform(0, Double(cells.count))), cells.count - 1)]
    }
}

/// A copy's commanded goal, the planner toward it and the waypoint it last gave.
private struct Plan {
    let goalCell: Maze.Cell
    let goal: PlanarPosition
    let planner: MazePlanner
    private(set) var waypoint: PlanarPosition

    init(maze: Maze, goalCell: Maze.Cell, goal: PlanarPosition) throws {
        self.goalCell = goalCell
        self.goal = goal
        planner = try MazePlanner(maze: maze, goal: goal)
        waypoint = goal
    }

    /// The waypoint from `position`; where the torso's centre sits over a wall's edge (a planner error),
    /// the last one stands.
    mutating func steer(from position: PlanarPosition) {
        if let next = try? planner.waypoint(from: position) { waypoint = next }
    }
}

/// The columns of a D4RL file for one or more episodes, row by row.
private struct EpisodeColumns {
    var observations: [Float] = [], actions: [Float] = [], rewards: [Float] = []
    var terminals: [Bool] = [], timeouts: [Bool] = [], nextObservations: [Float] = []
    var qpos: [Float] = [], qvel: [Float] = [], goals: [Float] = []

    var rows: Int { rewards.count }

    mutating func appendState(qpos: some Collection<Double>, qvel: some Collection<Double>, goal: PlanarPosition,
                              observation: ArraySlice<Double>) {
        self.qpos.append(contentsOf: qpos.lazy.map(Float.init))
        self.qvel.append(contentsOf: qvel.lazy.map(Float.init))
        goals.append(Float(goal.x))
        goals.append(Float(goal.y))
        observations.append(contentsOf: observation.lazy.map(Float.init))
    }

    mutating func appendOutcome(action: ArraySlice<Double>, reached: Bool, timeout: Bool, nextObservation: UnsafeBufferPointer<Double>.SubSequence) {
        actions.append(contentsOf: action.lazy.map(Float.init))
        rewards.append(reached ? 1 : 0)
        terminals.append(reached)
        timeouts.append(timeout)
        nextObservations.append(contentsOf: nextObservation.lazy.map(Float.init))
    }

    /// Empties the columns for the copy's next episode, keeping their storage.
    mutating func removeAll() {
        observations.removeAll(keepingCapacity: true)
        actions.removeAll(keepingCapacity: true)
        rewards.removeAll(keepingCapacity: true)
        terminals.removeAll(keepingCapacity: true)
        timeouts.removeAll(keepingCapacity: true)
        nextObservations.removeAll(keepingCapacity: true)
        qpos.removeAll(keepingCapacity: true)
        qvel.removeAll(keepingCapacity: true)
        goals.removeAll(keepingCapacity: true)
    }

    /// Appends `episode`'s rows until this holds `limit`; a cut episode's last row becomes a timeout.
    mutating func append(_ episode: EpisodeColumns, upTo limit: Int) {
        let taken = min(episode.rows, limit - rows)
        func head<T>(_ values: [T], _ width: Int) -> ArraySlice<T> { values[0 ..< taken * width] }
        let observationWidth = episode.observations.count / max(episode.rows, 1)
        let actionWidth = episode.actions.count / max(episode.rows, 1)
        observations += head(episode.observations, observationWidth)
        nextObservations += head(episode.nextObservations, observationWidth)
        actions += head(episode.actions, actionWidth)
        rewards += head(episode.rewards, 1)
        terminals += head(episode.terminals, 1)
        timeouts += head(episode.timeouts, 1)
        qpos += head(episode.qpos, AntMazeEnvironment.nq)
        qvel += head(episode.qvel, AntMazeEnvironment.nv)
        goals += head(episode.goals, 2)
        if taken < episode.rows && !terminals[terminals.count - 1] { timeouts[timeouts.count - 1] = true }
    }

    func dataset(observationDimension: Int, actionDimension: Int, qposDimension: Int, qvelDimension: Int,
                 metadata: [String: String]) -> D4RLDataset {
        D4RLDataset(observationDimension: observationDimension, actionDimension: actionDimension, observations: observations,
                    actions: actions, rewards: rewards, terminals: terminals, timeouts: timeouts, nextObservations: nextObservations,
                    infos: ["qpos": D4RLMatrix(width: qposDimension, values: qpos), "qvel": D4RLMatrix(width: qvelDimension, values: qvel),
                            "goal": D4RLMatrix(width: 2, values: goals)],
                    metadata: metadata)
    }
}

/// The six D4RL AntMaze datasets, made with the controller kept in a controller run's folder
/// (`checkpoints/ant-controller` by default).
public enum AntMazeDatasets {
    public static let defaultControllerFolder = "ant-controller"

    /// The maze and the evaluation goal a file's metadata names (metadata/environment, evaluation_goal).
    public static func mazeAndGoal(of dataset: D4RLDataset, path: String) throws -> (Maze, PlanarPosition) {
        guard let environment = dataset.metadata["environment"], let maze = EnvironmentID(rawValue: environment)?.maze else {
            throw AntMazeCollectionError.notMazeData(path: path, reason: "metadata/environment names no maze")
        }
        let coordinates = (dataset.metadata["evaluation_goal"] ?? "").split(separator: ",").compactMap { Double($0) }
        guard coordinates.count == 2 else {
            throw AntMazeCollectionError.notMazeData(path: path, reason: "metadata/evaluation_goal is not 'x,y'")
        }
        return (maze, PlanarPosition(x: coordinates[0], y: coordinates[1]))
    }

    /// The dataset of `level` in `maze`: `transitions` rows; the same seed and controller give the same bytes.
    public static func make(maze: Maze, level: AntMazeLevel, transitions: Int, seed: UInt64, controllerFolder: String,
                            models: ModelDirectory, threads: Int,
                            progress: ((CollectionProgress) -> Void)? = nil) throws -> D4RLDataset {
        var collector = try AntMazeCollector(maze: maze, level: level, models: models)
        collector.threads = threads
        let path = controllerFolder + "/controller_policy.safetensors"
        let (controller, stored) = try PolicyFile.read(path, environment: AntControllerRun.environmentName,
                                                       observationDimension: ControllerObservation.dimension,
                                                       actionDimension: AntMazeEnvironment.nu, capacity: collector.copies)
        var metadata = ["algorithm": "goal-reaching SAC controller steered by a shortest-path planner",
                        "policy": PolicyFile.portableName(path)]
        metadata["iteration"] = stored["step"]
        return try collector.collect(controller: controller, transitions: transitions, seed: seed, metadata: metadata,
                                     progress: progress)
    }
}
