import Foundation
import MuJoCo
import SeededRandom

/// The ant in one of D4RL's mazes: the same MDP as the AntMaze benchmark. The observation is qpos ++
/// qvel (29 numbers: x and y included, the goal not), the action lives in [-1, 1]^8 and is written to
/// the motors as 30 × action, the reward is 1 within 0.5 m of the goal (in the plane) and 0 elsewhere,
/// and in evaluation reaching the goal ends the episode.
public final class AntMazeEnvironment: GoalConditionedEnvironment, @unchecked Sendable {
    /// How the evaluation goal is drawn around the goal cell's centre.
    public enum GoalNoise: Sendable, Equatable {
        /// The centre itself (reference trajectories).
        case none
        /// Drawn once for the environment, at its first episode (D4RL's v0 tasks).
        case oncePerEnvironment
        /// Drawn again at every reset (D4RL's v2 tasks).
        case everyReset
    }

    public static let modelFile = "ant.xml"
    public static let frameSkip = 5
    /// The motors' control is this times the action (their range is ±30).
    public static let controlScale = 30.0
    public static let nq = 15, nv = 14, nu = 8

    public let maze: Maze
    public let simulation: Simulation
    public let observationSpace = BoxSpace(dimension: nq + nv, low: -.infinity, high: .infinity)
    public let actionSpace = BoxSpace(dimension: nu, low: -1, high: 1)
    public let maxEpisodeSteps: Int
    public let goalNoise: GoalNoise
    /// Whether reaching the goal ends the episode (evaluation); data collection keeps going.
    public var terminatesAtGoal = true
    public let goalRadius = 0.5
    public var name: String { "antmaze-\(maze.name)" }
    public var controlPeriod: Double { simulation.model.timestep * Double(Self.frameSkip) }
    public var arena: PlanarBounds { maze.bounds }
    public var elapsedSteps: Int { episode.elapsedSteps }
    public private(set) var goal: PlanarPosition
    /// The cell whose centre the ant starts from (before the reset noise); the maze's 'r' unless chosen.
    public private(set) var startCell: Maze.Cell

    private var generator: SeededGenerator
    private var episode = EpisodeBookkeeping()
    private var commandedGoal: PlanarPosition?
    /// The v0 evaluation goal, once drawn.
    private var evaluationGoal: PlanarPosition?
    private let qpos0: [Double]

    /// The ant in `maze`, on a model built from `models/ant.xml` and the maze's walls.
    public convenience init(maze: Maze, goalNoise: GoalNoise, maxEpisodeSteps: Int, models: ModelDirectory) throws {
        try self.init(maze: maze, goalNoise: goalNoise, maxEpisodeSteps: maxEpisodeSteps,
                      model: Self.loadModel(maze: maze, models: models))
    }

    /// An environment on an already built model of `maze`, so that many copies share one compiled model.
    public init(maze: Maze, goalNoise: GoalNoise, maxEpisodeSteps: Int, model: PhysicsModel) throws {
        for (field, expected, actual) in [("nq", Self.nq, model.nq), ("nv", Self.nv, model.nv), ("nu", Self.nu, model.nu)]
        where expected != actual {
            throw EnvironmentError.modelDoesNotMatch(file: model.source, field: field, expected: expected, actual: actual)
        }
        self.maze = maze
        self.goalNoise = goalNoise
        self.maxEpisodeSteps = maxEpisodeSteps
        simulation = try Simulation(model: model)
        qpos0 = model.qpos0
        goal = maze.centre(of: maze.goal)
        startCell = maze.start
        var seeder = SystemRandomNumberGenerator()
        generator = SeededGenerator(seed: seeder.next())
    }

    /// Builds the model of `maze`: the ant's file with the maze's walls added.
    public static func loadModel(maze: Maze, models: ModelDirectory) throws -> PhysicsModel {
        let path = models.file(modelFile)
        guard let ant = try? String(contentsOfFile: path, encoding: .utf8) else { throw MuJoCoError.modelFileNotFound(path: path) }
        return try PhysicsModel(xml: try maze.model(antXML: ant), name: "\(modelFile) + the \(maze.name) maze")
    }

    /// Commands a goal (checked against the maze: a goal in a wall or outside it is an error naming the
    /// cell), or with nil goes back to the task's evaluation goal at the next reset.
    public func setGoal(_ goal: PlanarPosition?) throws {
        if let goal {
            try maze.requireFree(goal, as: "goal")
            self.goal = goal
        }
        commandedGoal = goal
    }

    /// Starts the following episodes from the centre of `cell` (a free cell of the maze).
    public func setStartCell(_ cell: Maze.Cell) throws {
        try maze.requireFree(cell, as: "start cell")
        startCell = cell
    }

    public func forgetEpisodes() {
        commandedGoal = nil
        evaluationGoal = nil
        startCell = maze.start
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        chooseGoal()
        simulation.reset()
        let qpos = simulation.qpos, qvel = simulation.qvel
        for i in qpos.indices { qpos[i] = qpos0[i] + generator.uniform(-0.1, 0.1) }
        let start = maze.centre(of: startCell)
        qpos[0] += start.x
        qpos[1] += start.y
        for i in qvel.indices { qvel[i] = 0.1 * generator.normal() }
        simulation.forward()
        beginEpisode(observation: observation)
    }

    public func setState(qpos: [Double], qvel: [Double], observation: UnsafeMutableBufferPointer<Double>) throws {
        try simulation.setState(qpos: qpos, qvel: qvel)
        chooseGoal()
        beginEpisode(observation: observation)
    }

    public func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome {
        try episode.validate(action, dimension: Self.nu, environment: name)
        let ctrl = simulation.ctrl
        for i in ctrl.indices { ctrl[i] = min(max(Self.controlScale * action[i], -Self.controlScale), Self.controlScale) }

        var info = StepInfo()
        info.physicsWarnings = simulation.step(frames: Self.frameSkip)
        let qpos = simulation.qpos
        info.xPosition = qpos[0]
        let distance = PlanarPosition(x: qpos[0], y: qpos[1]).distance(to: goal)
        let reached = distance <= goalRadius && !info.isUnstable
        info.goal = GoalStatus(goal: goal, distance: distance, reached: reached)

        episode.countStep()
        let terminated = reached && terminatesAtGoal
        let truncated = elapsedSteps >= maxEpisodeSteps || info.isUnstable
        if terminated || truncated { episode.end() }
        writeObservation(into: observation)
        return StepOutcome(reward: reached ? 1 : 0, terminated: terminated, truncated: truncated, info: info)
    }

    /// The goal of the episode about to start: the commanded one, else the evaluation goal, the goal
    /// cell's centre plus U(0, 1) + U(0, 0.5) on each axis (floored at 0), drawn as `goalNoise` says.
    private func chooseGoal() {
        if let commandedGoal {
            goal = commandedGoal
            return
        }
        switch goalNoise {
        case .none:
            goal = maze.centre(of: maze.goal)
        case .oncePerEnvironment:
            let drawn = evaluationGoal ?? noisyGoal()
            evaluationGoal = drawn
            goal = drawn
        case .everyReset:
            goal = noisyGoal()
        }
    }

    private func noisyGoal() -> PlanarPosition {
        let centre = maze.centre(of: maze.goal)
        let cellNoise = (x: generator.uniform(0, 1), y: generator.uniform(0, 1))
        let extraNoise = (x: generator.uniform(0, 0.5), y: generator.uniform(0, 0.5))
        return PlanarPosition(x: max(centre.x + cellNoise.x + extraNoise.x, 0), y: max(centre.y + cellNoise.y + extraNoise.y, 0))
    }

    private func beginEpisode(observation: UnsafeMutableBufferPointer<Double>) {
        episode.begin()
        writeObservation(into: observation)
    }

    /// qpos (15, x and y included) then qvel (14).
    private func writeObservation(into observation: UnsafeMutableBufferPointer<Double>) {
        precondition(observation.count == Self.nq + Self.nv, "observation buffer of the wrong size")
        let qpos = simulation.qpos, qvel = simulation.qvel
        for i in qpos.indices { observation[i] = qpos[i] }
        for i in qvel.indices { observation[Self.nq + i] = qvel[i] }
    }
}
