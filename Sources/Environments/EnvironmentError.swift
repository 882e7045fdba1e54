/// Errors of the environment layer; each message names the environment, file or value at fault.
public enum EnvironmentError: Error, Equatable, CustomStringConvertible {
    case wrongActionLength(environment: String, expected: Int, actual: Int)
    case nonFiniteAction(environment: String, index: Int, value: Double)
    case stepBeforeReset(environment: String)
    case stepAfterEpisodeEnd(environment: String)
    case modelsDirectoryNotFound(searched: [String])
    case modelDoesNotMatch(file: String, field: String, expected: Int, actual: Int)
    case unknownTask(name: String, suggestion: String?, valid: [String])
    case unknownMaze(name: String, valid: [String])
    /// `what` (a cell or a point, and its role) lies outside the maze's grid.
    case outsideMaze(maze: String, what: String, rows: Int, columns: Int)
    /// `what` (a cell or a point, and its role) lies in a wall cell.
    case inWall(maze: String, what: String, cell: String)
    case modelWithoutWorldBody(maze: String)
    /// No path of free cells joins the cell `from` to the cell `to`.
    case unreachable(maze: String, from: String, to: String)
    /// An environment's settings cannot be used; each problem names its field.
    case invalidSettings(environment: String, problems: [String])
    /// An error of one copy of a vector environment.
    indirect case inCopy(copy: Int, error: EnvironmentError)

    public var description: String {
        switch self {
        case let .wrongActionLength(environment, expected, actual):
            return "\(environment): action has \(actual) entries, expected \(expected)"
        case let .nonFiniteAction(environment, index, value):
            return "\(environment): action[\(index)] is \(value); actions must be finite"
        case let .stepBeforeReset(environment):
            return "\(environment): step() called before reset()"
        case let .stepAfterEpisodeEnd(environment):
            return "\(environment): step() called after the episode ended; call reset() first"
        case let .modelsDirectoryNotFound(searched):
            return "no models folder with the environment MJCF files was found; looked in:\n"
                + searched.map { "  \($0)" }.joined(separator: "\n")
                + "\nPass --models DIR or set \(ModelDirectory.environmentVariable)."
        case let .modelDoesNotMatch(file, field, expected, actual):
            return "\(file): the model has \(field) = \(actual), the environment needs \(expected)"
        case let .unknownTask(name, suggestion, valid):
            let hint = suggestion.map { " Did you mean \($0)?" } ?? ""
            return "unknown task '\(name)'.\(hint) Valid tasks:\n" + valid.map { "  \($0)" }.joined(separator: "\n")
        case let .unknownMaze(name, valid):
            return "unknown maze '\(name)'; the mazes are \(valid.joined(separator: ", "))"
        case let .outsideMaze(maze, what, rows, columns):
            return "\(maze) maze: the \(what) lies outside its \(rows) × \(columns) grid"
        case let .inWall(maze, what, cell):
            return "\(maze) maze: the \(what) lies in the wall cell \(cell)"
        case let .modelWithoutWorldBody(maze):
            return "\(maze) maze: the ant's model has no </worldbody> to add the walls to"
        case let .unreachable(maze, from, to):
            return "\(maze) maze: no path of free cells leads from cell \(from) to the goal's cell \(to)"
        case let .invalidSettings(environment, problems):
            return "\(environment): invalid settings: " + problems.joined(separator: "; ")
        case let .inCopy(copy, error):
            return "copy \(copy): \(error)"
        }
    }
}
