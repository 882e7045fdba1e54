import Foundation

/// A point in the ground plane, in metres.
public struct PlanarPosition: Sendable, Equatable, CustomStringConvertible {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    public func distance(to other: PlanarPosition) -> Double {
        ((x - other.x) * (x - other.x) + (y - other.y) * (y - other.y)).squareRoot()
    }

    public var description: String { "(\(x), \(y))" }
}

/// A rectangle of the ground plane.
public struct PlanarBounds: Sendable, Equatable {
    public var minimum: PlanarPosition
    public var maximum: PlanarPosition

    public init(minimum: PlanarPosition, maximum: PlanarPosition) {
        self.minimum = minimum
        self.maximum = maximum
    }

    public var centre: PlanarPosition {
        PlanarPosition(x: (minimum.x + maximum.x) / 2, y: (minimum.y + maximum.y) / 2)
    }
}

/// One of D4RL's AntMaze layouts: a grid of cells, each a wall or free, 4 m to a cell. The ant starts
/// in cell `start` ('r', at the world origin) and is evaluated on reaching cell `goal` ('g').
public struct Maze: Sendable, Equatable, CustomStringConvertible {
    /// A cell by row and column, row 0 at the smallest y.
    public struct Cell: Sendable, Hashable, CustomStringConvertible {
        public var row: Int
        public var column: Int

        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }

        public var description: String { "(\(row), \(column))" }
    }

    /// Metres per cell side (D4RL's maze_size_scaling).
    public static let cellSize = 4.0
    /// Walls are boxes of this half-height (D4RL's wall height 0.5, scaled), standing on the floor.
    public static let wallHalfHeight = 1.0

    public let name: String
    /// `walls[row][column]`: whether the cell is a wall.
    public let walls: [[Bool]]
    public let start: Cell
    public let goal: Cell
    /// The cells D4RL's data generation also commands as goals, besides `goal`.
    public let extraGoalCells: [Cell]

    /// A maze from its layout: '1' a wall, '0' free, 'r' the start, 'g' the goal; the first string is row 0.
    public init(name: String, layout: [String], extraGoalCells: [Cell] = []) {
        self.name = name
        var walls: [[Bool]] = [], start: Cell?, goal: Cell?
        for (row, text) in layout.enumerated() {
            walls.append(text.map { $0 == "1" })
            for (column, character) in text.enumerated() {
                if character == "r" { start = Cell(row: row, column: column) }
                if character == "g" { goal = Cell(row: row, column: column) }
            }
        }
        precondition(Set(walls.map(\.count)).count == 1, "\(name): rows of unequal length")
        self.walls = walls
        self.start = start!
        self.goal = goal!
        self.extraGoalCells = extraGoalCells
    }

    public static let umaze = Maze(name: "umaze", layout: [
        "11111",
        "1r001",
        "11101",
        "1g001",
        "11111",
    ])

    public static let medium = Maze(name: "medium", layout: [
        "11111111",
        "1r011001",
        "10010001",
        "11000111",
        "10010001",
        "10100101",
        "100010g1",
        "11111111",
    ], extraGoalCells: [Cell(row: 2, column: 6), Cell(row: 5, column: 1), Cell(row: 6, column: 5)])

    public static let large = Maze(name: "large", layout: [
        "111111111111",
        "1r0001000001",
        "101101010101",
        "100000010001",
        "101111011101",
        "100101000001",
        "110101010111",
        "100100010g01",
        "111111111111",
    ], extraGoalCells: [
        Cell(row: 1, column: 6), Cell(row: 3, column: 5), Cell(row: 3, column: 10), Cell(row: 5, column: 2),
        Cell(row: 7, column: 4), Cell(row: 7, column: 6), Cell(row: 7, column: 9),
    ])

    public static let all = [umaze, medium, large]

    /// An open arena: `side` × `side` free cells inside a ring of walls, the start at its centre (the
    /// world origin) and the goal cell in a corner. The goal-reaching controller trains here, on the
    /// same ant and physics as the mazes, with room to walk about 8 m in any direction.
    public static func open(side: Int) -> Maze {
        precondition(side >= 3 && side % 2 == 1, "an open arena needs an odd side of at least 3 cells (got \(side))")
        let wall = String(repeating: "1", count: side + 2)
        let rows = (1...side).map { row -> String in
            let cells = (1...side).map { column -> Character in
                if row == (side + 1) / 2 && column == (side + 1) / 2 { return "r" }
                return row == side && column == side ? "g" : "0"
            }
            return "1" + String(cells) + "1"
        }
        return Maze(name: "open\(side)", layout: [wall] + rows + [wall])
    }

    /// The maze of that name, or an error listing the valid ones.
    public static func named(_ name: String) throws -> Maze {
        guard let maze = all.first(where: { $0.name == name }) else {
            throw EnvironmentError.unknownMaze(name: name, valid: all.map(\.name))
        }
        return maze
    }

    public var description: String { "the \(name) maze" }
    public var rowCount: Int { walls.count }
    public var columnCount: Int { walls[0].count }

    public func isWall(_ cell: Cell) -> Bool { walls[cell.row][cell.column] }

    public func contains(_ cell: Cell) -> Bool {
        (0..<rowCount).contains(cell.row) && (0..<columnCount).contains(cell.column)
    }

    /// The free cells, row by row.
    public var freeCells: [Cell] {
        (0..<rowCount).flatMap { row in (0..<columnCount).map { Cell(row: row, column: $0) } }.filter { !isWall($0) }
    }

    /// The centre of a cell: the start cell's centre is the world origin.
    public func centre(of cell: Cell) -> PlanarPosition {
        PlanarPosition(x: Double(cell.column - start.column) * Self.cellSize, y: Double(cell.row - start.row) * Self.cellSize)
    }

    /// The cell a point lies in (a point on a border belongs to the cell of larger index); nil outside the grid.
    public func cell(containing point: PlanarPosition) -> Cell? {
        let column = (point.x / Self.cellSize + Double(start.column) + 0.5).rounded(.down)
        let row = (point.y / Self.cellSize + Double(start.row) + 0.5).rounded(.down)
        // Checked as numbers first: NaN, infinities and far points have no Int.
        guard (0..<Double(columnCount)).contains(column), (0..<Double(rowCount)).contains(row) else { return nil }
        return Cell(row: Int(row), column: Int(column))
    }

    /// Throws unless `cell` is a free cell of this maze; `role` says what it was meant to be ("start cell").
    public func requireFree(_ cell: Cell, as role: String) throws {
        guard contains(cell) else {
            throw EnvironmentError.outsideMaze(maze: name, what: "\(role) \(cell)", rows: rowCount, columns: columnCount)
        }
        guard !isWall(cell) else { throw EnvironmentError.inWall(maze: name, what: "\(role) \(cell)", cell: cell.description) }
    }

    /// Throws unless `point` lies in a free cell; `role` says what it was meant to be ("goal").
    public func requireFree(_ point: PlanarPosition, as role: String) throws {
        guard let cell = cell(containing: point) else {
            throw EnvironmentError.outsideMaze(maze: name, what: "\(role) \(point)", rows: rowCount, columns: columnCount)
        }
        guard !isWall(cell) else { throw EnvironmentError.inWall(maze: name, what: "\(role) \(point)", cell: cell.description) }
    }

    /// The ground the maze covers, walls included.
    public var bounds: PlanarBounds {
        let half = Self.cellSize / 2
        let first = centre(of: Cell(row: 0, column: 0)), last = centre(of: Cell(row: rowCount - 1, column: columnCount - 1))
        return PlanarBounds(minimum: PlanarPosition(x: first.x - half, y: first.y - half),
                            maximum: PlanarPosition(x: last.x + half, y: last.y + half))
    }

    /// The walls as MJCF geoms for the world body, as D4RL's maze environment adds them: one box per
    /// wall cell, named `block_ROW_COLUMN`, colliding with everything.
    public var wallGeoms: String {
        let half = Self.cellSize / 2
        return (0..<rowCount).flatMap { row in
            (0..<columnCount).compactMap { column -> String? in
                let cell = Cell(row: row, column: column)
                guard isWall(cell) else { return nil }
                let centre = centre(of: cell)
                return "<geom name=\"block_\(row)_\(column)\" type=\"box\" pos=\"\(centre.x) \(centre.y) \(Self.wallHalfHeight)\" "
                    + "size=\"\(half) \(half) \(Self.wallHalfHeight)\" contype=\"1\" conaffinity=\"1\" material=\"wall\"/>"
            }
        }.joined(separator: "\n    ")
    }

    /// The ant's model file with this maze's walls added at the end of its world body.
    public func model(antXML: String) throws -> String {
        guard let end = antXML.range(of: "</worldbody>", options: .backwards) else {
            throw EnvironmentError.modelWithoutWorldBody(maze: name)
        }
        return antXML.replacingCharacters(in: end, with: "  " + wallGeoms + "\n  </worldbody>")
    }
}
