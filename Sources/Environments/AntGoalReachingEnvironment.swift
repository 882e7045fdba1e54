import Foundation
import MuJoCo
import SeededRandom

/// The task the goal-reaching ant controller learns: AntMaze's ant (the same model, physics and action)
/// in an open arena, walking to a goal drawn around its start. The AntMaze datasets are made by this
/// controller steered along waypoints of a path planned on the maze grid (`MazePlanner`), as D4RL made
/// them, so what it sees is the goal relative to itself, never where it is in the maze.
///
/// - Observation (`ControllerObservation`, 29 numbers): qpos[2..<15] (height, orientation, joint
///   angles), qvel (14), then the goal relative to the torso in its heading frame (2).
/// - Reward (`shapedReward`): progress toward the goal per second, minus a small control cost, plus a
///   bonus on the step that reaches it. AntMaze's own reward (1 at the goal) is too sparse to learn
///   walking from; the datasets relabel rewards against their task's goal anyway.
/// - The episode terminates at the goal (within AntMaze's 0.5 m) and, when `endsWhenFlipped`, when the
///   torso turns upside down (AntMaze itself never ends on falling; an ant on its back cannot right
///   itself, so its remaining steps teach nothing). It is truncated after `maxEpisodeSteps`.
public final class AntGoalReachingEnvironment: GoalConditionedEnvironment, @unchecked Sendable {
    /// How episodes are drawn and rewarded. Saved with a controller run as snake_case JSON.
    public struct Settings: Codable, Sendable, Equatable {
        /// Free cells per side of the open arena (`Maze.open`); 9 cells are 36 m, walls 18 m from its centre.
        public var arenaCells = 9
        /// The start is drawn uniformly in a square of this half-width (m) around the arena's centre, on
        /// top of AntMaze's reset noise, so that starts vary while every goal stays clear of the walls.
        public var startSpread = 4.0
        /// Goals are drawn in a uniformly random direction from the start, at a distance uniform between
        /// this and `maximumGoalDistance` (m).
        public var minimumGoalDistance = 1.0
        /// See `minimumGoalDistance`; beyond the 8 m of the evaluation, so that it is not the edge of training.
        public var maximumGoalDistance = 10.0
        /// Steps after which an episode is truncated (50 s at AntMaze's 0.1 s per step).
        public var maxEpisodeSteps = 500
        /// Weight of the control cost Σ a² subtracted from every step's reward: small beside a walking
        /// pace (about 1 reward per m/s), enough to prefer a calm gait among equally fast ones.
        public var controlCostWeight = 0.05
        /// Reward added on the step that reaches the goal, so that the last half metre is worth taking.
        public var goalBonus = 10.0
        /// Whether the episode terminates when the torso turns upside down.
        public var endsWhenFlipped = true

        public init() {}

        /// The evaluation's episodes: a goal exactly `goalDistance` from a random start.
        public func evaluation(goalDistance: Double) -> Settings {
            var settings = self
            settings.minimumGoalDistance = goalDistance
            settings.maximumGoalDistance = goalDistance
            return settings
        }

        /// What is wrong with these settings, as sentences naming the field; empty when they are usable.
        public func problems() -> [String] {
            var problems: [String] = []
            if arenaCells < 3 || arenaCells % 2 == 0 { problems.append("arena_cells must be odd and at least 3 (got \(arenaCells))") }
            if maxEpisodeSteps < 1 { problems.append("max_episode_steps must be at least 1 (got \(maxEpisodeSteps))") }
            if !(0 < minimumGoalDistance && minimumGoalDistance <= maximumGoalDistance) {
                problems.append("goal distances must satisfy 0 < minimum <= maximum (got \(minimumGoalDistance), \(maximumGoalDistance))")
            }
            // The farthest goal must stay a cell's half-width inside the walls.
            let reach = startSpread * 2.squareRoot() + maximumGoalDistance
            let room = Double(arenaCells) * Maze.cellSize / 2 - Maze.cellSize / 2
            if startSpread < 0 || reach > room {
                problems.append("start_spread \(startSpread) and maximum_goal_distance \(maximumGoalDistance) reach "
                    + "\(reach) m from the centre; the arena of \(arenaCells) cells allows \(room) m")
            }
            return problems
        }

        enum CodingKeys: String, CodingKey {
            case arenaCells = "arena_cells", startSpread = "start_spread", minimumGoalDistance = "minimum_goal_distance"
            case maximumGoalDistance = "maximum_goal_distance", maxEpisodeSteps = "max_episode_steps"
            case controlCostWeight = "control_cost_weight", goalBonus = "goal_bonus", endsWhenFlipped = "ends_when_flipped"
        }
    }

    public let settings: Settings
    public let maze: Maze
    public let observationSpace = BoxSpace(dimension: ControllerObservation.dimension, low: -.infinity, high: .infinity)
    public var actionSpace: BoxSpace { ant.actionSpace }
    public var maxEpisodeSteps: Int { settings.maxEpisodeSteps }
    public var elapsedSteps: Int { episode.elapsedSteps }
    public var controlPeriod: Double { ant.controlPeriod }
    public var simulation: Simulation { ant.simulation }
    public var name: String { "ant-goal-reaching" }
    public private(set) var goal: PlanarPosition
    public var goalRadius: Double { ant.goalRadius }
    public var arena: PlanarBounds { maze.bounds }

    /// The physics, reset noise and time limit of AntMaze; its own goal and reward go unused.
    private let ant: AntMazeEnvironment
    private var generator: SeededGenerator
    private var episode = EpisodeBookkeeping()
    /// The distance to the goal before the step being taken, for the progress reward.
    private var previousDistance = 0.0
    /// A goal commanded with `setGoal`, used instead of drawn ones.
    private var commandedGoal: PlanarPosition?
    /// AntMaze's own observation (qpos ++ qvel), which this task does not show.
    private let antObservation: UnsafeMutableBufferPointer<Double>

    public init(settings: Settings, models: ModelDirectory) throws {
        let problems = settings.problems()
        guard problems.isEmpty else { throw EnvironmentError.invalidSettings(environment: "ant-goal-reaching", problems: problems) }
        self.settings = settings
        maze = .open(side: settings.arenaCells)
        ant = try AntMazeEnvironment(maze: maze, goalNoise: .none, maxEpisodeSteps: settings.maxEpisodeSteps, models: models)
        ant.terminatesAtGoal = false
        goal = maze.centre(of: maze.start)
        var seeder = SystemRandomNumberGenerator()
        generator = SeededGenerator(seed: seeder.next())
        antObservation = .allocate(capacity: ant.observationSpace.dimension)
    }

    deinit { antObservation.deallocate() }

    /// Commands `goal` from now on, the current episode included (a waypoint of a planned path); nil goes
    /// back to drawn goals at the next reset. A goal in a wall or outside the arena is an error naming the cell.
    public func setGoal(_ goal: PlanarPosition?) throws {
        if let goal {
            try maze.requireFree(goal, as: "goal")
            self.goal = goal
            previousDistance = distanceToGoal()
        }
        commandedGoal = goal
    }

    public func forgetEpisodes() {
        commandedGoal = nil
        ant.forgetEpisodes()
    }

    /// AntMaze's reset (its noise drawn from a seed of this task's stream), the torso moved to a random
    /// start, then a goal drawn around it unless one is commanded. Settings.problems() keeps every
    /// drawn start and goal inside the arena.
    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        ant.reset(seed: generator.next(), observation: antObservation)
        let qpos = simulation.qpos
        qpos[0] += generator.uniform(-settings.startSpread, settings.startSpread)
        qpos[1] += generator.uniform(-settings.startSpread, settings.startSpread)
        simulation.forward()
        let direction = generator.uniform(-Double.pi, Double.pi)
        let distance = generator.uniform(settings.minimumGoalDistance, settings.maximumGoalDistance)
        goal = commandedGoal ?? PlanarPosition(x: qpos[0] + distance * cos(direction), y: qpos[1] + distance * sin(direction))
        beginEpisode(observation: observation)
    }

    public func setState(qpos: [Double], qvel: [Double], observation: UnsafeMutableBufferPointer<Double>) throws {
        try ant.setState(qpos: qpos, qvel: qvel, observation: antObservation)
        beginEpisode(observation: observation)
    }

    public func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws -> StepOutcome {
        try episode.validate(action, dimension: AntMazeEnvironment.nu, environment: name)
        var outcome = try ant.step(action: action, observation: antObservation)
        episode.countStep()
        let distance = distanceToGoal()
        let reached = distance <= goalRadius && !outcome.info.isUnstable
        let controlCost = Self.controlCost(action, weight: settings.controlCostWeight)
        outcome.reward = Self.shapedReward(previousDistance: previousDistance, distance: distance, controlCost: controlCost,
                                           reached: reached, controlPeriod: controlPeriod, goalBonus: settings.goalBonus)
        outcome.info.controlCost = controlCost
        outcome.info.goal = GoalStatus(goal: goal, distance: distance, reached: reached)
        previousDistance = distance
        let flipped = settings.endsWhenFlipped && Self.isUpsideDown(qpos: simulation.qpos)
        outcome.terminated = (reached || flipped) && !outcome.info.isUnstable
        if outcome.terminated || outcome.truncated { episode.end() }
        ControllerObservation.write(qpos: simulation.qpos, qvel: simulation.qvel, goal: goal, into: observation)
        return outcome
    }

    /// (previous distance − distance) / control period − control cost (+ the goal bonus when reached): the
    /// speed toward the goal in m/s, so that a good walk earns about 1 a step whatever the goal's distance.
    public static func shapedReward(previousDistance: Double, distance: Double, controlCost: Double, reached: Bool,
                                    controlPeriod: Double, goalBonus: Double) -> Double {
        (previousDistance - distance) / controlPeriod - controlCost + (reached ? goalBonus : 0)
    }

    /// weight × Σ a².
    public static func controlCost(_ action: UnsafeBufferPointer<Double>, weight: Double) -> Double {
        weight * action.reduce(0) { $0 + $1 * $1 }
    }

    /// Whether the torso's up axis points below the horizon: its world z component, 1 − 2(qx² + qy²)
    /// for the free joint's quaternion (qw, qx, qy, qz) = qpos[3..<7], is negative.
    public static func isUpsideDown(qpos: some RandomAccessCollection<Double>) -> Bool {
        let x = qpos[qpos.index(qpos.startIndex, offsetBy: 4)], y = qpos[qpos.index(qpos.startIndex, offsetBy: 5)]
        return 1 - 2 * (x * x + y * y) < 0
    }

    private func beginEpisode(observation: UnsafeMutableBufferPointer<Double>) {
        episode.begin()
        previousDistance = distanceToGoal()
        ControllerObservation.write(qpos: simulation.qpos, qvel: simulation.qvel, goal: goal, into: observation)
    }

    private func distanceToGoal() -> Double {
        PlanarPosition(x: simulation.qpos[0], y: simulation.qpos[1]).distance(to: goal)
    }
}

/// What the goal-reaching controller sees: qpos[2..<15] (torso height, orientation quaternion, the eight
/// joint angles), qvel (14), then the goal relative to the torso, rotated into its heading frame (the
/// yaw of its orientation) and shortened to at most `goalHorizon` metres. D4RL's controller saw
/// qpos[2:] ++ qvel ++ (goal − xy) in world axes; the heading frame makes a gait learned toward one
/// direction serve every heading, and the cap keeps a far goal (a commanded one) within what training
/// showed, pointing the same way.
public enum ControllerObservation {
    public static let dimension = 29
    /// Relative goals longer than this (m) are shortened to it.
    public static let goalHorizon = 10.0

    /// Writes the controller's observation of the ant at (qpos, qvel) told to walk to `goal`.
    public static func write<State: RandomAccessCollection<Double>>(
        qpos: State, qvel: State, goal: PlanarPosition, into observation: UnsafeMutableBufferPointer<Double>
    ) where State.Index == Int {
        precondition(qpos.count == AntMazeEnvironment.nq && qvel.count == AntMazeEnvironment.nv
            && observation.count == dimension, "the controller's observation needs the ant's qpos, qvel and 29 numbers")
        for i in 2..<qpos.count { observation[i - 2] = qpos[qpos.startIndex + i] }
        for i in 0..<qvel.count { observation[qpos.count - 2 + i] = qvel[qvel.startIndex + i] }
        let first = qpos.startIndex
        let (w, x, y, z) = (qpos[first + 3], qpos[first + 4], qpos[first + 5], qpos[first + 6])
        let yaw = atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        let dx = goal.x - qpos[first], dy = goal.y - qpos[first + 1]
        let length = (dx * dx + dy * dy).squareRoot()
        let shrink = length > goalHorizon ? goalHorizon / length : 1
        observation[dimension - 2] = shrink * (cos(yaw) * dx + sin(yaw) * dy)
        observation[dimension - 1] = shrink * (-sin(yaw) * dx + cos(yaw) * dy)
    }
}
