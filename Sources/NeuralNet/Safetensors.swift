import Foundation
import Persistence
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The safetensors format (Hugging Face): an unsigned little-endian 64-bit header length N, N bytes of
// UTF-8 JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (plus an
// optional "__metadata__" object of strings), then the tensors' bytes, little-endian and row-major,
// with offsets relative to the end of the header.

/// One named Float32 tensor, row-major: the unit a checkpoint is saved and restored in.
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Why a safetensors file could not be read or written; each message names the file and, where one
/// is at fault, the tensor, so that a bad checkpoint can be found without a debugger.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    /// The file is missing or the system could not read it.
    case unreadable(path: String, reason: String)
    /// The bytes are not a well-formed safetensors header.
    case notSafetensors(path: String, reason: String)
    /// The file ends before the data the header describes; usually an interrupted copy.
    /// `lastTensor` is the tensor reaching furthest, the one the file does not hold whole.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int, lastTensor: String)
    case missingTensor(path: String, name: String, available: [String])
    case shapeMismatch(path: String, name: String, expected: [Int], actual: [Int])
    /// The tensor's dtype has no lossless or meaningful conversion to Float.
    case unsupportedDType(path: String, name: String, dtype: String)
    /// The data_offsets disagree with the dtype and shape, or the tensors overlap or leave gaps.
    case invalidOffsets(path: String, name: String, reason: String)
    /// A NaN or infinity, which would silently poison every computation that uses the tensor.
    case nonFinite(path: String, name: String, index: Int)
    /// A tensor handed to the writer is malformed; nothing was written.
    case invalidTensor(path: String, name: String, reason: String)
    /// The system refused to create, write or rename the file.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read the file: \(reason)"
        case let .notSafetensors(path, reason):
            return "\(path): not a safetensors file: \(reason)"
        case let .truncated(path, expectedBytes, actualBytes, lastTensor):
            return "\(path): truncated: the header describes \(expectedBytes) bytes (to the end of '\(lastTensor)'), "
                + "the file has \(actualBytes)"
        case let .missingTensor(path, name, available):
            // A model can hold hundreds of tensors; the first few are enough to spot a naming mismatch.
            let shown = available.prefix(20).joined(separator: ", ")
            let more = available.count > 20 ? " and \(available.count - 20) more" : ""
            return "\(path): no tensor '\(name)'; the file has: \(shown.isEmpty ? "(none)" : shown)\(more)"
        case let .shapeMismatch(path, name, expected, actual):
            return "\(path): tensor '\(name)' has shape \(actual), expected \(expected)"
        case let .unsupportedDType(path, name, dtype):
            return "\(path): tensor '\(name)' is \(dtype); only F32, F64, F16 and BF16 convert to Float"
        case let .invalidOffsets(path, name, reason):
            return "\(path): tensor '\(name)' has bad data_offsets: \(reason)"
        case let .nonFinite(path, name, index):
            return "\(path): tensor '\(name)' has a NaN or infinity at flat index \(index)"
        case let .invalidTensor(path, name, reason):
            return "\(path): cannot write tensor '\(name)': \(reason)"
        case let .unwritable(path, reason):
            return "\(path): cannot write the file: \(reason)"
        }
    }
}

/// A safetensors file held in memory (mapped, so a large checkpoint costs address space rather than
/// RAM until its tensors are read), with every header entry already validated.
public struct SafetensorsFile: Sendable {
    public let path: String
    public let metadata: [String: String]
    private let entries: [String: Entry]
    private let bytes: Data
    /// Where the data buffer starts in `bytes`: 8 + the header length.
    private let dataStart: Int

    /// Above this a header length is taken as garbage rather than tried; real headers are kilobytes.
    static let maximumHeaderLength = 100_000_000
    /// The key the format reserves for free-form string metadata.
    static let metadataKey = "__metadata__"

    public var names: [String] { entries.keys.sorted() }

    public func shape(of name: String) throws -> [Int] {
        try entry(name).shape
    }

    /// Reads a tensor as Float32, converting F64/F16/BF16 (F16 and BF16 decode exactly), so that
    /// checkpoints saved in half precision load without a separate conversion step.
    public func tensor(_ name: String) throws -> NamedTensor {
        let entry = try entry(name)
        return NamedTensor(name: name, shape: entry.shape, values: try floats(of: entry, name: name))
    }

    /// Reads a tensor like `tensor(_:)` and checks it is the shape the caller's layer needs, and (when
    /// `requireFinite`) that it holds no NaN or infinity, so a bad checkpoint fails at load time
    /// rather than as NaN losses later.
    public func tensor(_ name: String, shape: [Int], requireFinite: Bool = true) throws -> NamedTensor {
        let actual = try entry(name).shape
        guard actual == shape else {
            throw SafetensorsError.shapeMismatch(path: path, name: name, expected: shape, actual: actual)
        }
        let result = try tensor(name)
        if requireFinite, let index = result.values.firstIndex(where: { !$0.isFinite }) {
            throw SafetensorsError.nonFinite(path: path, name: name, index: index)
        }
        return result
    }

    public static func read(contentsOf path: String) throws -> SafetensorsFile {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            let exists = FileManager.default.fileExists(atPath: path)
            throw SafetensorsError.unreadable(path: path, reason: exists ? error.localizedDescription : "no such file")
        }
        return try SafetensorsFile(path: path, bytes: bytes)
    }

    /// Writes F32 tensors and metadata atomically: to a temporary file in the same folder, fsync, then
    /// rename over `path`, so an interrupted write never leaves a partial file at `path` (and a reader
    /// that mapped the old file keeps a valid mapping). Tensors are laid out in sorted-name order, as
    /// the reference Python writer does, so equal inputs give byte-identical files.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String], to path: String) throws {
        try validateForWriting(tensors, path: path)
        let sorted = tensors.sorted { $0.name < $1.name }
        var file = try headerBytes(for: sorted, metadata: metadata, path: path)
        for tensor in sorted {
            appendLittleEndian(tensor.values, to: &file)
        }
        do {
            try AtomicFile.write(file, to: path)
        } catch {
            throw SafetensorsError.unwritable(path: path, reason: error.reason)
        }
    }
}

// MARK: - Reading

extension SafetensorsFile {
    /// The element types the format defines, with their sizes in bytes. The 8-bit floats and unsigned
    /// integers are newer than the original list; knowing their sizes lets a file that holds them
    /// alongside Float tensors still be validated and read.
    enum DType: String, Sendable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case f8E5M2 = "F8_E5M2", f8E4M3 = "F8_E4M3"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
        case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"

        var size: Int {
            switch self {
            case .f64, .i64, .u64: return 8
            case .f32, .i32, .u32: return 4
            case .f16, .bf16, .i16, .u16: return 2
            case .f8E5M2, .f8E4M3, .i8, .u8, .bool: return 1
            }
        }
    }

    /// One validated header entry; `begin` and `end` are offsets into the data buffer.
    struct Entry: Sendable {
        var dtype: DType
        var shape: [Int]
        var elementCount: Int
        var begin: Int
        var end: Int
    }

    /// Parses and validates the header of `bytes`, so that later tensor reads cannot run off the end.
    init(path: String, bytes: Data) throws {
        let headerLength = try Self.headerLength(of: bytes, path: path)
        let dataStart = 8 + headerLength
        let json = try Self.headerObject(bytes[bytes.startIndex + 8 ..< bytes.startIndex + dataStart], path: path)
        var entries: [String: Entry] = [:]
        for (name, value) in json where name != Self.metadataKey {
            entries[name] = try Self.entry(name: name, from: value, path: path)
        }
        try Self.validateLayout(entries, dataStart: dataStart, fileSize: bytes.count, path: path)
        self.path = path
        self.metadata = try Self.metadata(from: json[Self.metadataKey], path: path)
        self.entries = entries
        self.bytes = bytes
        self.dataStart = dataStart
    }

    private func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            throw SafetensorsError.missingTensor(path: path, name: name, available: names)
        }
        return entry
    }

    /// The header length from the first 8 bytes, checked against the file size before it is used.
    private static func headerLength(of bytes: Data, path: String) throws -> Int {
        guard bytes.count >= 8 else {
            throw SafetensorsError.notSafetensors(
                path: path, reason: "the file has \(bytes.count) bytes, fewer than the 8-byte header length")
        }
        let length = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        // Compared as UInt64 so that a garbage length cannot overflow Int.
        guard length <= UInt64(bytes.count - 8), length <= UInt64(maximumHeaderLength) else {
            throw SafetensorsError.notSafetensors(
                path: path, reason: "the header length \(length) is more than the \(bytes.count - 8) bytes after it or over 100 MB")
        }
        return Int(length)
    }

    private static func headerObject(_ header: Data, path: String) throws -> [String: Any] {
        guard let parsed = try? JSONSerialization.jsonObject(with: header),
              let object = parsed as? [String: Any]
        else {
            throw SafetensorsError.notSafetensors(path: path, reason: "the header is not a JSON object")
        }
        return object
    }

    private static func metadata(from value: Any?, path: String) throws -> [String: String] {
        guard let value else { return [:] }
        guard let metadata = value as? [String: String] else {
            throw SafetensorsError.notSafetensors(path: path, reason: "\(metadataKey) is not an object of strings")
        }
        return metadata
    }

    /// One header entry with its fields type-checked and its byte size checked against dtype × shape.
    private static func entry(name: String, from value: Any, path: String) throws -> Entry {
        func malformed(_ reason: String) -> SafetensorsError {
            .notSafetensors(path: path, reason: "tensor '\(name)': \(reason)")
        }
        guard let fields = value as? [String: Any] else { throw malformed("the entry is not a JSON object") }
        guard let dtypeName = fields["dtype"] as? String else { throw malformed("no dtype string") }
        guard let dtype = DType(rawValue: dtypeName) else { throw malformed("unknown dtype '\(dtypeName)'") }
        guard let shape = nonNegativeInts(fields["shape"]) else {
            throw malformed("shape is not a list of non-negative integers")
        }
        guard let offsets = nonNegativeInts(fields["data_offsets"]), offsets.count == 2 else {
            throw malformed("data_offsets is not a pair of non-negative integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        func invalid(_ reason: String) -> SafetensorsError {
            .invalidOffsets(path: path, name: name, reason: reason)
        }
        guard begin <= end else { throw invalid("begin \(begin) is after end \(end)") }
        guard let size = byteCount(of: shape, elementSize: dtype.size) else {
            throw invalid("shape \(shape) has more elements than any file can hold")
        }
        guard end - begin == size else {
            throw invalid("[\(begin), \(end)] spans \(end - begin) bytes; \(dtype.rawValue) \(shape) needs \(size)")
        }
        return Entry(dtype: dtype, shape: shape, elementCount: size / dtype.size, begin: begin, end: end)
    }

    /// JSON integers as Ints; nil for anything else, including booleans, which Foundation would
    /// otherwise turn into 0 and 1 (JSON booleans are the only NSNumbers of type "c", char).
    private static func nonNegativeInts(_ value: Any?) -> [Int]? {
        guard let items = value as? [Any] else { return nil }
        let ints = items.compactMap { item -> Int? in
            guard let number = item as? NSNumber, String(cString: number.objCType) != "c",
                  let int = item as? Int, int >= 0
            else { return nil }
            return int
        }
        return ints.count == items.count ? ints : nil
    }

    /// Checks that the tensors tile the data buffer exactly, as the format requires: a file whose
    /// offsets overlap or leave holes was not written by a conforming writer and may alias data.
    private static func validateLayout(_ entries: [String: Entry], dataStart: Int, fileSize: Int, path: String) throws {
        let bufferSize = fileSize - dataStart
        let furthest = entries.max { ($0.value.end, $1.key) < ($1.value.end, $0.key) }
        let needed = furthest?.value.end ?? 0
        guard needed <= bufferSize else {
            // An offset near Int.max is a corrupt header rather than a cut-off file.
            let (expected, overflow) = dataStart.addingReportingOverflow(needed)
            if overflow { throw SafetensorsError.notSafetensors(path: path, reason: "data_offsets \(needed) is absurd") }
            throw SafetensorsError.truncated(path: path, expectedBytes: expected, actualBytes: fileSize, lastTensor: furthest!.key)
        }
        let ordered = entries.sorted { ($0.value.begin, $0.value.end) < ($1.value.begin, $1.value.end) }
        var cursor = 0
        var previous = ""
        for (name, entry) in ordered {
            if entry.begin < cursor {
                throw SafetensorsError.invalidOffsets(
                    path: path, name: name, reason: "[\(entry.begin), \(entry.end)] overlaps tensor '\(previous)'")
            }
            if entry.begin > cursor {
                throw SafetensorsError.invalidOffsets(
                    path: path, name: name, reason: "bytes \(cursor)..<\(entry.begin) before it belong to no tensor")
            }
            (cursor, previous) = (entry.end, name)
        }
        guard cursor == bufferSize else {
            throw SafetensorsError.notSafetensors(
                path: path, reason: "\(bufferSize - cursor) bytes after the last tensor belong to no tensor")
        }
    }

    private func floats(of entry: Entry, name: String) throws -> [Float] {
        switch entry.dtype {
        case .f32: return load(entry, as: UInt32.self) { Float(bitPattern: $0) }
        case .f64: return load(entry, as: UInt64.self) { Float(Double(bitPattern: $0)) }
        case .f16: return load(entry, as: UInt16.self, Self.floatFromHalf)
        case .bf16: return load(entry, as: UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
        default: throw SafetensorsError.unsupportedDType(path: path, name: name, dtype: entry.dtype.rawValue)
        }
    }

    /// Decodes the entry's little-endian elements of `Raw` with `convert`; offsets were validated at
    /// init, so every load is in bounds.
    private func load<Raw: FixedWidthInteger>(_ entry: Entry, as _: Raw.Type, _ convert: (Raw) -> Float) -> [Float] {
        bytes.withUnsafeBytes { raw in
            let base = dataStart + entry.begin
            let stride = MemoryLayout<Raw>.size
            return (0 ..< entry.elementCount).map { index in
                convert(Raw(littleEndian: raw.loadUnaligned(fromByteOffset: base + index * stride, as: Raw.self)))
            }
        }
    }

    /// IEEE half precision to Float, by hand because `Float16` is missing on some x86 builds. Every
    /// half is exactly representable as a Float, subnormals included.
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign: UInt32 = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2^-24, which becomes a normal Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity or NaN; the NaN payload is kept in the top mantissa bits.
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            // Rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// The bytes a tensor of `shape` takes; nil on a negative dimension or on overflow, which a corrupt
    /// header or a bug in the caller can produce.
    static func byteCount(of shape: [Int], elementSize: Int) -> Int? {
        var count = elementSize
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }
}

// MARK: - Writing

extension SafetensorsFile {
    /// Checks the tensors before anything touches the disk, so a bad call leaves an existing file alone.
    private static func validateForWriting(_ tensors: [NamedTensor], path: String) throws {
        var seen = Set<String>()
        for tensor in tensors {
            func invalid(_ reason: String) -> SafetensorsError {
                .invalidTensor(path: path, name: tensor.name, reason: reason)
            }
            guard tensor.name != metadataKey else { throw invalid("the name is reserved for metadata") }
            guard seen.insert(tensor.name).inserted else { throw invalid("the name is used twice") }
            guard let size = byteCount(of: tensor.shape, elementSize: 4) else {
                throw invalid("shape \(tensor.shape) has a negative dimension or too many elements")
            }
            guard tensor.values.count == size / 4 else {
                throw invalid("shape \(tensor.shape) needs \(size / 4) values, got \(tensor.values.count)")
            }
        }
    }

    /// The 8-byte length and the JSON header, padded with spaces so the data starts 8-byte aligned
    /// (readers may then map F64 and I64 tensors in place).
    private static func headerBytes(for sorted: [NamedTensor], metadata: [String: String], path: String) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for tensor in sorted {
            let end = offset + tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, end]] as [String: Any]
            offset = end
        }
        if !metadata.isEmpty { header[metadataKey] = metadata }
        var json: Data
        do {
            // Sorted keys make the same tensors give the same bytes.
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw SafetensorsError.unwritable(path: path, reason: "cannot encode the header: \(error)")
        }
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var file = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        return file
    }

    private static func appendLittleEndian(_ values: [Float], to file: inout Data) {
        #if _endian(little)
        values.withUnsafeBytes { file.append(contentsOf: $0) }
        #else
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { file.append(contentsOf: $0) }
        }
        #endif
    }
}
