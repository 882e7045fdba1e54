import Environments
import Foundation
import MuJoCo
import Testing

extension Maze: CustomTestStringConvertible {
    public var testDescription: String { name }
}

/// The ant in D4RL's three mazes: the models built from the grids, the MDP's rules, the goals of v0 and
/// v2, and the checks of goals and start cells against the maze.
@Suite struct AntMazeTests {
    static func environment(_ maze: Maze = .umaze, goalNoise: AntMazeEnvironment.GoalNoise = .everyReset,
                            maxEpisodeSteps: Int = 700) throws -> AntMazeEnvironment {
        try AntMazeEnvironment(maze: maze, goalNoise: goalNoise, maxEpisodeSteps: maxEpisodeSteps, models: TestSupport.models())
    }

    @Test(arguments: zip(Maze.all, [32, 52, 76]))
    func eachMazeCompilesWithItsWalls(_ maze: Maze, _ geoms: Int) throws {
        let model = try AntMazeEnvironment.loadModel(maze: maze, models: TestSupport.models())
        #expect(model.ngeom == geoms)
        #expect(model.nq == 15 && model.nv == 14 && model.nu == 8)
        #expect(abs(model.totalMass - 0.910880) < 1e-6, "total mass \(model.totalMass)")
        #expect(model.timestep == 0.02 && model.integrator == .rk4)
        #expect(model.controlRanges == Array(repeating: Optional(-30.0...30.0), count: 8))
        let wallCells = maze.walls.joined().filter { $0 }.count
        #expect(model.ngeom - wallCells == 14, "floor, torso and three geoms per leg")
    }

    @Test func theGridsPlaceStartGoalAndCellCentresAsD4RLDoes() throws {
        for (maze, goal, centre) in [(Maze.umaze, Maze.Cell(row: 3, column: 1), PlanarPosition(x: 0, y: 8)),
                                     (.medium, Maze.Cell(row: 6, column: 6), PlanarPosition(x: 20, y: 20)),
                                     (.large, Maze.Cell(row: 7, column: 9), PlanarPosition(x: 32, y: 24))] {
            #expect(maze.start == Maze.Cell(row: 1, column: 1))
            #expect(maze.centre(of: maze.start) == PlanarPosition(x: 0, y: 0))
            #expect(maze.goal == goal && maze.centre(of: goal) == centre)
            #expect(maze.cell(containing: PlanarPosition(x: centre.x + 1.9, y: centre.y - 1.9)) == goal)
        }
        #expect(Maze.umaze.cell(containing: PlanarPosition(x: 2, y: 0)) == Maze.Cell(row: 1, column: 2))
        #expect(Maze.umaze.cell(containing: PlanarPosition(x: -100, y: 0)) == nil)
        #expect(Maze.medium.extraGoalCells.count == 3 && Maze.large.extraGoalCells.count == 7)
        #expect(throws: EnvironmentError.unknownMaze(name: "small", valid: ["umaze", "medium", "large"])) { try Maze.named("small") }
    }

    @Test func observationIsQposAndQvelAndTheActionDrivesTheMotorsThirtyTimes() throws {
        let env = try Self.environment()
        #expect(env.observationSpace.dimension == 29 && env.actionSpace == BoxSpace(dimension: 8, low: -1, high: 1))
        let observation = env.reset(seed: 3)
        #expect(observation == Array(env.simulation.qpos) + Array(env.simulation.qvel))
        let action = (0..<8).map { 0.1 * Double($0) - 0.35 }
        let (next, _, _, _, info) = try env.step(action)
        #expect(Array(env.simulation.ctrl) == action.map { 30 * $0 })
        #expect(next == Array(env.simulation.qpos) + Array(env.simulation.qvel))
        #expect(info.goal?.goal == env.goal && info.goal?.reached == false)
        #expect(abs((info.goal?.distance ?? 0) - PlanarPosition(x: next[0], y: next[1]).distance(to: env.goal)) < 1e-12)
    }

    /// qpos0 + U(-0.1, 0.1) on every entry and 0.1 N(0, 1) on every velocity. The free joint's
    /// quaternion (qpos[3..<7]) comes out normalized: MuJoCo's forward pass normalizes it in place, as
    /// it does in the benchmark.
    @Test func resetNoiseIsUniformOnQposAndNormalOnQvel() throws {
        let env = try Self.environment()
        var positions: [Double] = [], velocities: [Double] = []
        for seed in 0..<1000 {
            env.reset(seed: UInt64(seed))
            let qpos = Array(env.simulation.qpos), qpos0 = env.simulation.model.qpos0
            positions += [0, 1, 2, 7, 8, 9, 10, 11, 12, 13, 14].map { qpos[$0] - qpos0[$0] }
            #expect(abs(qpos[3...6].reduce(0) { $0 + $1 * $1 } - 1) < 1e-12)
            velocities += Array(env.simulation.qvel)
        }
        let spread = SampleStatistics(values: positions), speeds = SampleStatistics(values: velocities)
        #expect(spread.largestMagnitude <= 0.1 && spread.largestMagnitude > 0.0999)
        #expect(abs(spread.standardDeviation - 0.2 / 12.0.squareRoot()) < 0.002)
        #expect(abs(speeds.standardDeviation - 0.1) < 0.003 && abs(speeds.mean) < 0.003)
    }

    @Test func reachingTheGoalPaysOneAndEndsTheEvaluationEpisode() throws {
        let env = try Self.environment(goalNoise: .none)
        var qpos = env.simulation.model.qpos0
        qpos[0] = 0.2
        qpos[1] = 8.1
        try env.setState(qpos: qpos, qvel: Array(repeating: 0, count: 14))
        let atGoal = try env.step(Array(repeating: 0, count: 8))
        #expect(atGoal.reward == 1 && atGoal.terminated && !atGoal.truncated)
        #expect(atGoal.info.goal == GoalStatus(goal: PlanarPosition(x: 0, y: 8), distance: atGoal.info.goal!.distance, reached: true))

        env.terminatesAtGoal = false
        try env.setState(qpos: qpos, qvel: Array(repeating: 0, count: 14))
        let kept = try env.step(Array(repeating: 0, count: 8))
        #expect(kept.reward == 1 && !kept.terminated)

        env.reset(seed: 1)
        let away = try env.step(Array(repeating: 0, count: 8))
        #expect(away.reward == 0 && !away.terminated)
    }

    @Test(arguments: [(Maze.umaze, 700), (.medium, 1000)])
    func anEpisodeIsTruncatedAtTheTaskLimit(_ maze: Maze, _ limit: Int) throws {
        let env = try EnvironmentID.allCases.first { $0.maze == maze }!.makeEnvironment(models: TestSupport.models())
        #expect(env.maxEpisodeSteps == limit)
        env.reset(seed: 2)
        var ends: [Int] = []
        for step in 1...limit {
            let outcome = try env.step(Array(repeating: 0, count: 8))
            if outcome.terminated || outcome.truncated { ends.append(step) }
            if step == limit { #expect(outcome.truncated && !outcome.terminated) }
        }
        #expect(ends == [limit])
    }

    @Test func v0DrawsItsGoalOnceAndV2AtEveryResetBothFromTheSeed() throws {
        let centre = PlanarPosition(x: 0, y: 8)
        func goals(_ noise: AntMazeEnvironment.GoalNoise, seeds: [UInt64]) throws -> [PlanarPosition] {
            let env = try Self.environment(goalNoise: noise)
            return seeds.map { env.reset(seed: $0); return env.goal }
        }
        let v0 = try goals(.oncePerEnvironment, seeds: [1, 2, 3]), v2 = try goals(.everyReset, seeds: [1, 2, 3])
        #expect(Set(v0.map(\.description)).count == 1)
        #expect(Set(v2.map(\.description)).count == 3)
        #expect(try goals(.everyReset, seeds: [1, 2, 3]) == v2)
        #expect(try goals(.oncePerEnvironment, seeds: [1, 9]).first == v0[0])
        for goal in v0 + v2 {
            #expect((0...1.5).contains(goal.x - centre.x) && (0...1.5).contains(goal.y - centre.y), "goal \(goal)")
        }
        #expect(try goals(.none, seeds: [1]) == [centre])
    }

    @Test func tasksChooseTheirGoalNoiseAndEpisodeCount() throws {
        let v0 = try D4RLTask.named("antmaze-medium-play-v0"), v2 = try D4RLTask.named("antmaze-large-diverse-v2")
        #expect(v0.goalNoise == .oncePerEnvironment && v2.goalNoise == .everyReset)
        #expect(v0.environment == .antmazeMedium && v2.environment == .antmazeLarge && v0.dataset == "medium-play")
        #expect(v0.hasGoal && v0.defaultEvaluationEpisodes == 100)
        let hopper = try D4RLTask.named("hopper-medium-v2")
        #expect(!hopper.hasGoal && hopper.defaultEvaluationEpisodes == 10)
        #expect(v0.normalizedScore(1) == 100 && v0.normalizedScore(0) == 0)
        let environment = try #require(try v0.makeEnvironment(models: TestSupport.models()) as? AntMazeEnvironment)
        #expect(environment.goalNoise == .oncePerEnvironment && environment.maxEpisodeSteps == 1000)
        let names = D4RLTask.all.filter(\.hasGoal).map(\.name)
        #expect(names.count == 12 && names.contains("antmaze-umaze-diverse-v2") && names.contains("antmaze-large-play-v0"))
    }

    @Test func goalsAndStartCellsAreCheckedAgainstTheMaze() throws {
        let env = try Self.environment()
        #expect(throws: EnvironmentError.inWall(maze: "umaze", what: "goal (4.0, 4.0)", cell: "(2, 2)")) {
            try env.setGoal(PlanarPosition(x: 4, y: 4))
        }
        #expect(throws: EnvironmentError.outsideMaze(maze: "umaze", what: "goal (50.0, 0.0)", rows: 5, columns: 5)) {
            try env.setGoal(PlanarPosition(x: 50, y: 0))
        }
        #expect(throws: EnvironmentError.inWall(maze: "umaze", what: "start cell (0, 0)", cell: "(0, 0)")) {
            try env.setStartCell(Maze.Cell(row: 0, column: 0))
        }
        #expect(throws: EnvironmentError.outsideMaze(maze: "umaze", what: "start cell (9, 1)", rows: 5, columns: 5)) {
            try env.setStartCell(Maze.Cell(row: 9, column: 1))
        }
        #expect(throws: EnvironmentError.self) { try env.setGoal(PlanarPosition(x: .nan, y: 0)) }

        try env.setGoal(PlanarPosition(x: 8, y: 1))
        try env.setStartCell(Maze.Cell(row: 3, column: 3))
        env.reset(seed: 4)
        #expect(env.goal == PlanarPosition(x: 8, y: 1))
        #expect(abs(env.simulation.qpos[0] - 8) <= 0.1 && abs(env.simulation.qpos[1] - 8) <= 0.1)
        try env.setGoal(nil)
        env.reset(seed: 4)
        #expect(env.goal.distance(to: PlanarPosition(x: 0, y: 8)) < 2.2)
    }
}
