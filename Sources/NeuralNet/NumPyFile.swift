import Foundation
import Persistence

/// An array read from or written to NumPy's `.npy` format (what `numpy.save` writes and `numpy.load`
/// reads): little-endian float32 or float64, C order, any rank. Values are held as Float.
public struct NumPyArray: Sendable, Equatable {
    public let shape: [Int]
    public let values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }
}

public enum NumPyFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notNumPy(path: String, reason: String)
    /// The array's element type is not a float this reader converts (e.g. '<i8', '>f4', '|b1').
    case unsupportedType(path: String, descr: String)
    case fortranOrder(path: String)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read the file: \(reason)"
        case let .notNumPy(path, reason): "\(path): not a NumPy .npy file: \(reason)"
        case let .unsupportedType(path, descr):
            "\(path): the array holds '\(descr)'; expected little-endian floats ('<f4' or '<f8')"
        case let .fortranOrder(path): "\(path): the array is in Fortran order; save it in C order (numpy.ascontiguousarray)"
        case let .truncated(path, expected, actual): "\(path): truncated: the header describes \(expected) bytes, the file has \(actual)"
        }
    }
}

/// NumPy's `.npy` format, version 1.0 to write and 1.0 to 3.0 to read: the magic string, a version,
/// the header's length, a Python dict literal with 'descr', 'fortran_order' and 'shape', then the data.
public enum NumPyFile {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Writes `array` as float32, atomically.
    public static func write(_ array: NumPyArray, to path: String) throws {
        let shape = array.shape.map(String.init).joined(separator: ", ") + (array.shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
        // The data starts at a multiple of 64 bytes; the header ends with a newline.
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes = Data(magic + [1, 0])
        let length = UInt16(header.utf8.count)
        bytes.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        bytes.append(contentsOf: Array(header.utf8))
        array.values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        try AtomicFile.write(bytes, to: path)
    }

    public static func read(_ path: String) throws -> NumPyArray {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw NumPyFileError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else {
            throw NumPyFileError.notNumPy(path: path, reason: "it does not start with \\x93NUMPY")
        }
        let major = bytes[bytes.startIndex + 6]
        let lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), bytes.count >= 8 + lengthBytes else {
            throw NumPyFileError.notNumPy(path: path, reason: "format version \(major) is not 1, 2 or 3")
        }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[bytes.startIndex + 8 + $1]) << (8 * $1) }
        let dataStart = 8 + lengthBytes + headerLength
        guard bytes.count >= dataStart, let header = String(data: bytes.subdata(in: 8 + lengthBytes ..< dataStart), encoding: .utf8) else {
            throw NumPyFileError.notNumPy(path: path, reason: "the header is cut off or not text")
        }
        guard let descr = field("descr", in: header), let order = field("fortran_order", in: header),
              let shapeText = field("shape", in: header) else {
            throw NumPyFileError.notNumPy(path: path, reason: "the header lacks 'descr', 'fortran_order' or 'shape': \(header)")
        }
        let type = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard type == "<f4" || type == "<f8" else { throw NumPyFileError.unsupportedType(path: path, descr: type) }
        guard order == "False" else { throw NumPyFileError.fortranOrder(path: path) }
        let dimensions = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dimensions.compactMap { Int($0) }
        guard shape.count == dimensions.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw NumPyFileError.notNumPy(path: path, reason: "shape \(shapeText) is not a tuple of sizes")
        }
        let count = shape.reduce(1, *), width = type == "<f4" ? 4 : 8
        guard bytes.count - dataStart >= count * width else {
            throw NumPyFileError.truncated(path: path, expectedBytes: dataStart + count * width, actualBytes: bytes.count)
        }
        let values = bytes.subdata(in: dataStart ..< dataStart + count * width).withUnsafeBytes { raw -> [Float] in
            width == 4 ? (0..<count).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
                : (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }
        }
        return NumPyArray(shape: shape, values: values)
    }

    /// The text of `key`'s value in the header's dict literal: up to the next top-level comma.
    private static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'"),
              let colon = header[keyRange.upperBound...].firstIndex(of: ":") else { return nil }
        var depth = 0, end = header.index(after: colon)
        while end < header.endIndex {
            let character = header[end]
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if (character == "," && depth == 0) || character == "}" { break }
            end = header.index(after: end)
        }
        return header[header.index(after: colon) ..< end].trimmingCharacters(in: .whitespaces)
    }
}
