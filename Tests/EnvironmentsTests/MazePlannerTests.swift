import Environments
import Testing

/// Shortest paths on the three mazes' grids and the waypoints that steer the controller along them.
@Suite struct MazePlannerTests {
    typealias Cell = Maze.Cell

    static func cells(_ pairs: [(Int, Int)]) -> [Cell] { pairs.map { Cell(row: $0.0, column: $0.1) } }

    /// Consecutive cells share a side, and none is a wall.
    static func isWalkable(_ path: [Cell], in maze: Maze) -> Bool {
        path.allSatisfy { !maze.isWall($0) }
            && zip(path, path.dropFirst()).allSatisfy { abs($0.row - $1.row) + abs($0.column - $1.column) == 1 }
    }

    @Test func theUmazePathGoesAroundItsWall() throws {
        let planner = try MazePlanner(maze: .umaze, goal: PlanarPosition(x: 0.3, y: 8.2))
        let path = try planner.path(from: Maze.umaze.start)
        #expect(path == Self.cells([(1, 1), (1, 2), (1, 3), (2, 3), (3, 3), (3, 2), (3, 1)]))
        #expect(try planner.path(from: Cell(row: 3, column: 1)) == [Cell(row: 3, column: 1)])
    }

    @Test func theMediumPathWindsThroughTheOpenings() throws {
        let planner = try MazePlanner(maze: .medium, goal: Maze.medium.centre(of: Maze.medium.goal))
        #expect(try planner.path(from: Maze.medium.start) == Self.cells([
            (1, 1), (1, 2), (2, 2), (3, 2), (3, 3), (3, 4), (4, 4), (4, 5), (4, 6), (5, 6), (6, 6),
        ]))
    }

    /// From the start to the task's goal the path is as short as the cells' Manhattan distance, a lower bound.
    @Test(arguments: [Maze.medium, .large])
    func pathsToTheTaskGoalAreShortestAndAvoidWalls(_ maze: Maze) throws {
        let planner = try MazePlanner(maze: maze, goal: maze.centre(of: maze.goal))
        let path = try planner.path(from: maze.start)
        #expect(path.first == maze.start && path.last == maze.goal)
        #expect(Self.isWalkable(path, in: maze))
        #expect(path.count - 1 == abs(maze.goal.row - maze.start.row) + abs(maze.goal.column - maze.start.column), "\(path)")
        // Every free cell reaches the goal: the mazes are connected.
        for cell in maze.freeCells {
            let path = try planner.path(from: cell)
            #expect(Self.isWalkable(path, in: maze) && path.last == maze.goal)
        }
    }

    @Test func theWaypointIsTheNextCellCentreThenTheGoal() throws {
        let goal = PlanarPosition(x: 0.3, y: 8.2)
        let planner = try MazePlanner(maze: .umaze, goal: goal)
        // From the start cell (1, 1) the next cell is (1, 2), centred at (4, 0).
        #expect(try planner.waypoint(from: PlanarPosition(x: 0.5, y: -0.4)) == PlanarPosition(x: 4, y: 0))
        // In (2, 3), the cell below the turn, the next is (3, 3) at (8, 8).
        #expect(try planner.waypoint(from: PlanarPosition(x: 8.2, y: 4.5)) == PlanarPosition(x: 8, y: 8))
        // In (3, 2), next to the goal's cell, and in the goal's cell: the goal itself.
        #expect(try planner.waypoint(from: PlanarPosition(x: 4.1, y: 8)) == goal)
        #expect(try planner.waypoint(from: PlanarPosition(x: -1, y: 7)) == goal)
    }

    @Test func goalsAndStartsInWallsOrCutOffAreErrorsNamingTheCell() throws {
        #expect(throws: EnvironmentError.inWall(maze: "umaze", what: "goal (4.0, 4.0)", cell: "(2, 2)")) {
            try MazePlanner(maze: .umaze, goal: PlanarPosition(x: 4, y: 4))
        }
        let planner = try MazePlanner(maze: .umaze, goal: PlanarPosition(x: 0, y: 8))
        #expect(throws: EnvironmentError.inWall(maze: "umaze", what: "start cell (2, 1)", cell: "(2, 1)")) {
            try planner.path(from: Cell(row: 2, column: 1))
        }
        let split = Maze(name: "split", layout: ["11111", "1r1g1", "11111"])
        let cutOff = try MazePlanner(maze: split, goal: split.centre(of: split.goal))
        let unreachable = EnvironmentError.unreachable(maze: "split", from: "(1, 1)", to: "(1, 3)")
        #expect(throws: unreachable) { try cutOff.path(from: split.start) }
        #expect(throws: unreachable) { try cutOff.waypoint(from: PlanarPosition(x: 0, y: 0)) }
        #expect("\(unreachable)" == "split maze: no path of free cells leads from cell (1, 1) to the goal's cell (1, 3)")
    }
}
