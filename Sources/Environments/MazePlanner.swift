/// Shortest paths on a maze's grid toward one goal, and the waypoints that steer the goal-reaching
/// controller along them, as D4RL's data generation steered its ant: from the cell the ant is in, the
/// centre of the next cell on a shortest path, and the goal itself once the next cell is the goal's.
///
/// Paths step between free cells that share a side; a breadth-first search from the goal's cell gives
/// every free cell its distance in steps once, so that each waypoint after that is a look-up.
public struct MazePlanner: Sendable {
    public let maze: Maze
    public let goal: PlanarPosition
    public let goalCell: Maze.Cell
    /// `stepsToGoal[row][column]`: steps from that cell to the goal's; nil for walls and cells cut off from it.
    private let stepsToGoal: [[Int?]]

    /// Neighbours in a fixed order (+x, +y, −x, −y), so that among equally short paths the same is taken.
    private static let moves = [(row: 0, column: 1), (row: 1, column: 0), (row: 0, column: -1), (row: -1, column: 0)]

    /// A planner toward `goal`, which must lie in a free cell of `maze` (else an error naming the cell).
    public init(maze: Maze, goal: PlanarPosition) throws {
        try maze.requireFree(goal, as: "goal")
        self.maze = maze
        self.goal = goal
        // requireFree has checked that the goal lies in a cell of the grid.
        goalCell = maze.cell(containing: goal)!
        var steps = [[Int?]](repeating: [Int?](repeating: nil, count: maze.columnCount), count: maze.rowCount)
        steps[goalCell.row][goalCell.column] = 0
        var frontier = [goalCell], next = 0
        while next < frontier.count {
            let cell = frontier[next]
            next += 1
            let distance = steps[cell.row][cell.column]! + 1
            for neighbour in Self.neighbours(of: cell, in: maze) where steps[neighbour.row][neighbour.column] == nil {
                steps[neighbour.row][neighbour.column] = distance
                frontier.append(neighbour)
            }
        }
        stepsToGoal = steps
    }

    /// The cells of a shortest path from `start` to the goal's cell, both included. Throws when `start` is
    /// not a free cell or no path joins them, naming the cells.
    public func path(from start: Maze.Cell) throws -> [Maze.Cell] {
        try maze.requireFree(start, as: "start cell")
        guard var remaining = stepsToGoal[start.row][start.column] else {
            throw EnvironmentError.unreachable(maze: maze.name, from: start.description, to: goalCell.description)
        }
        var path = [start]
        while remaining > 0 {
            path.append(nextCell(after: path[path.count - 1], steps: remaining))
            remaining -= 1
        }
        return path
    }

    /// Where the controller should walk from `position`: the centre of the next cell on a shortest path,
    /// or the goal when the ant is in the goal's cell or the next cell is the goal's. Throws when the
    /// position is not in a free cell or the goal cannot be reached from it. Allocates nothing, as it runs
    /// at every step of a collection.
    public func waypoint(from position: PlanarPosition) throws -> PlanarPosition {
        try maze.requireFree(position, as: "position")
        // requireFree has checked that the position lies in a cell of the grid.
        let cell = maze.cell(containing: position)!
        guard let steps = stepsToGoal[cell.row][cell.column] else {
            throw EnvironmentError.unreachable(maze: maze.name, from: cell.description, to: goalCell.description)
        }
        return steps <= 1 ? goal : maze.centre(of: nextCell(after: cell, steps: steps))
    }

    /// The first neighbour (in `moves` order) one step nearer the goal than `cell`, which is `steps` away:
    /// breadth-first distances fall by exactly one along some neighbour of every reachable cell but the goal's.
    private func nextCell(after cell: Maze.Cell, steps: Int) -> Maze.Cell {
        for move in Self.moves {
            let neighbour = Maze.Cell(row: cell.row + move.row, column: cell.column + move.column)
            if maze.contains(neighbour) && stepsToGoal[neighbour.row][neighbour.column] == steps - 1 { return neighbour }
        }
        preconditionFailure("no neighbour of \(cell) is \(steps - 1) steps from the goal")
    }

    private static func neighbours(of cell: Maze.Cell, in maze: Maze) -> [Maze.Cell] {
        moves.map { Maze.Cell(row: cell.row + $0.row, column: cell.column + $0.column) }
            .filter { maze.contains($0) && !maze.isWall($0) }
    }
}
