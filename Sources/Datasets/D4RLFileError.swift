/// Why a D4RL file could not be read or written. Every message starts with the file's path and,
/// where one is at fault, names the key, so that a message alone says which file and field to fix.
public enum D4RLFileError: Error, CustomStringConvertible {
    /// The file is missing or unreadable; `reason` is the system's.
    case cannotOpen(path: String, reason: String)
    case notHDF5(path: String)
    /// A required dataset is absent; `available` lists the file's top-level keys.
    case missingKey(path: String, key: String, available: [String])
    /// The dataset holds other values than numbers (`found`, e.g. "strings").
    case wrongType(path: String, key: String, found: String)
    case wrongShape(path: String, key: String, shape: [Int], expected: String)
    case rowMismatch(path: String, key: String, rows: Int, reference: String, referenceRows: Int)
    case columnMismatch(path: String, key: String, columns: Int, reference: String, referenceColumns: Int)
    /// A flat row-major array whose length is not a multiple of its width (only when writing).
    case notWholeRows(path: String, key: String, count: Int, width: Int)
    case nonFinite(path: String, key: String, row: Int, column: Int, value: Float)
    /// A flag (terminals, timeouts) other than 0 or 1.
    case notAFlag(path: String, key: String, row: Int, value: Double)
    /// The file's rows make no transition (one row, or every row the last of its episode).
    case noTransitions(path: String, rows: Int)
    /// The file's dimension differs from what the task (environment) needs.
    case wrongDimension(path: String, key: String, columns: Int, needed: Int)
    /// HDF5 refused an operation on the dataset, e.g. "read the values".
    case hdf5Failure(path: String, key: String, operation: String)
    /// The file itself could not be created, synced or put in place.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            "\(path): cannot open the file: \(reason)"
        case let .notHDF5(path):
            "\(path): not an HDF5 file"
        case let .missingKey(path, key, available):
            "\(path): key '\(key)' is missing (the file has: \(available.isEmpty ? "nothing" : available.joined(separator: ", ")))"
        case let .wrongType(path, key, found):
            "\(path): '\(key)' holds \(found), expected numbers"
        case let .wrongShape(path, key, shape, expected):
            "\(path): '\(key)' has shape (\(shape.map(String.init).joined(separator: ", "))), expected \(expected)"
        case let .rowMismatch(path, key, rows, reference, referenceRows):
            "\(path): '\(key)' has \(rows) rows, '\(reference)' has \(referenceRows)"
        case let .columnMismatch(path, key, columns, reference, referenceColumns):
            "\(path): '\(key)' has \(columns) columns, '\(reference)' has \(referenceColumns)"
        case let .notWholeRows(path, key, count, width):
            "\(path): '\(key)' holds \(count) values, not a whole number of rows of \(width)"
        case let .nonFinite(path, key, row, column, value):
            "\(path): '\(key)' row \(row) holds \(value.isNaN ? "NaN" : "\(value)") (column \(column))"
        case let .notAFlag(path, key, row, value):
            "\(path): '\(key)' row \(row) holds \(value.isNaN ? "NaN" : "\(value)"), expected 0 or 1"
        case let .noTransitions(path, rows):
            "\(path): its \(rows) row\(rows == 1 ? "" : "s") make no transition (each needs the next row of its episode)"
        case let .wrongDimension(path, key, columns, needed):
            "\(path): '\(key)' has \(columns) columns, the task needs \(needed)"
        case let .hdf5Failure(path, key, operation):
            "\(path): '\(key)': HDF5 could not \(operation)"
        case let .cannotWrite(path, reason):
            "\(path): cannot write the file: \(reason)"
        }
    }
}
