import Foundation
@testable import NeuralNet
import Testing

/// Each test gets its own empty folder, removed afterwards, so tests can run in parallel and the
/// atomic-write tests can list exactly what was left behind.
@Suite final class SafetensorsTests {
    let folder: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("SafetensorsTests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func file(_ name: String) -> String { "\(folder)/\(name)" }

    /// Tensors of every rank the format allows, with values whose bits a lossy path would change.
    let sample = [
        NamedTensor(name: "layer.weight", shape: [2, 3], values: [1, -2.5, 0x1p-140, -0.0, .greatestFiniteMagnitude, 3.25]),
        NamedTensor(name: "layer.bias", shape: [3], values: [0.1, 0.2, 0.3]),
        NamedTensor(name: "alpha", shape: [], values: [42]),
        NamedTensor(name: "empty", shape: [0], values: []),
        NamedTensor(name: "blocks/0", shape: [1, 2, 1], values: [.leastNonzeroMagnitude, -7]),
    ]

    func writeSample(_ name: String = "model.safetensors") throws -> String {
        let path = file(name)
        try SafetensorsFile.write(sample, metadata: ["format": "pt", "step": "1200"], to: path)
        return path
    }

    /// A file built byte by byte: the 8-byte length, the header as given (unpadded) and the data.
    func fixture(_ name: String, header: String, data: [UInt8]) throws -> String {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8) + data)
        let path = file(name)
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The error that reading `path` (and then calling `use`) throws, after checking that its
    /// description names the file and each of `mentioning`.
    func readError(
        _ path: String, mentioning: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
        _ use: (SafetensorsFile) throws -> Void = { _ in }
    ) throws -> SafetensorsError {
        let error = try #require(throws: SafetensorsError.self, sourceLocation: sourceLocation) {
            try use(SafetensorsFile.read(contentsOf: path))
        }
        for fragment in [path] + mentioning {
            #expect(error.description.contains(fragment), "\(error) should mention \(fragment)", sourceLocation: sourceLocation)
        }
        return error
    }

    // MARK: Round trip and layout

    @Test func roundTripKeepsNamesShapesMetadataAndEveryBit() throws {
        let file = try SafetensorsFile.read(contentsOf: try writeSample())
        #expect(file.names == sample.map(\.name).sorted())
        #expect(file.metadata == ["format": "pt", "step": "1200"])
        for expected in sample {
            let tensor = try file.tensor(expected.name, shape: expected.shape)
            #expect(tensor.name == expected.name)
            #expect(try file.shape(of: expected.name) == expected.shape)
            #expect(tensor.values.map(\.bitPattern) == expected.values.map(\.bitPattern), "\(expected.name)")
        }
    }

    @Test func nonFiniteValuesRoundTripWhenNotRequiredFinite() throws {
        let path = file("nan.safetensors")
        let values: [Float] = [.nan, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234)]
        try SafetensorsFile.write([NamedTensor(name: "x", shape: [4], values: values)], metadata: [:], to: path)
        let read = try SafetensorsFile.read(contentsOf: path)
        #expect(read.metadata.isEmpty)
        #expect(try read.tensor("x", shape: [4], requireFinite: false).values.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func writtenLayoutFollowsTheSpecification() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try writeSample()))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0, "the data should start 8-byte aligned")
        let headerBytes = bytes[8 ..< 8 + headerLength]
        let json = try #require(String(data: headerBytes, encoding: .utf8))
        #expect(json.hasPrefix("{") && json.trimmingCharacters(in: CharacterSet(charactersIn: " ")).hasSuffix("}"),
                "the header should be padded with spaces only")
        let header = try #require(try JSONSerialization.jsonObject(with: headerBytes) as? [String: Any])
        #expect(header["__metadata__"] as? [String: String] == ["format": "pt", "step": "1200"])

        var cursor = 0
        for expected in sample.sorted(by: { $0.name < $1.name }) {
            let entry = try #require(header[expected.name] as? [String: Any], "\(expected.name)")
            #expect(entry["dtype"] as? String == "F32")
            #expect(entry["shape"] as? [Int] == expected.shape)
            #expect(entry["data_offsets"] as? [Int] == [cursor, cursor + 4 * expected.values.count], "\(expected.name)")
            let start = 8 + headerLength + cursor
            let stored = (0 ..< expected.values.count).map { index in
                bytes[start + 4 * index ..< start + 4 * index + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            #expect(stored == expected.values.map(\.bitPattern), "\(expected.name) should be little-endian")
            cursor += 4 * expected.values.count
        }
        #expect(header.count == sample.count + 1)
        #expect(bytes.count == 8 + headerLength + cursor, "the tensors should fill the data buffer exactly")
    }

    @Test func sameTensorsInAnyOrderGiveTheSameBytes() throws {
        try SafetensorsFile.write(sample, metadata: ["a": "1", "b": "2"], to: file("one"))
        try SafetensorsFile.write(sample.reversed(), metadata: ["b": "2", "a": "1"], to: file("two"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: file("one"))) == Data(contentsOf: URL(fileURLWithPath: file("two"))))
    }

    // MARK: Other dtypes

    @Test func readsF64F16AndBF16AsExactFloats() throws {
        let f64: [Double] = [1.5, -0.25, 0.1]
        let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x8000, 0x7C00, 0xFC00]
        let bf16: [UInt16] = [0x3F80, 0xC040, 0x0001, 0x7F7F]
        let data = f64.flatMap { littleEndianBytes($0.bitPattern) } + f16.flatMap(littleEndianBytes) + bf16.flatMap(littleEndianBytes)
        let path = try fixture("mixed.safetensors", header: """
            {"d":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},
             "h":{"dtype":"F16","shape":[2,4],"data_offsets":[24,40]},
             "b":{"dtype":"BF16","shape":[2,2],"data_offsets":[40,48]},
             "__metadata__":{"source":"hand"}}
            """, data: data)
        let file = try SafetensorsFile.read(contentsOf: path)
        #expect(file.names == ["b", "d", "h"])
        #expect(file.metadata == ["source": "hand"])
        #expect(try file.tensor("d", shape: [3]).values == [1.5, -0.25, Float(0.1)])
        let half = try file.tensor("h", shape: [2, 4], requireFinite: false).values
        #expect(half == [1, -2, 65504, 5.960464477539063e-08, 1023 * 0x1p-24, -0.0, .infinity, -.infinity])
        #expect(half[5].sign == .minus)
        #expect(try file.tensor("b").values == [1, -3, Float(bitPattern: 0x0001_0000), Float(bitPattern: 0x7F7F_0000)])
    }

    @Test func halfDecodingMatchesTheIEEEDefinitionForEveryBitPattern() {
        for bits in UInt16.min ... UInt16.max {
            let decoded = SafetensorsFile.floatFromHalf(bits)
            let sign: Float = bits & 0x8000 == 0 ? 1 : -1
            let exponent = Int(bits >> 10 & 0x1F), mantissa = Float(bits & 0x3FF)
            switch exponent {
            case 0x1F where mantissa == 0: #expect(decoded == sign * .infinity)
            case 0x1F: #expect(decoded.isNaN)
            case 0: #expect(decoded == sign * mantissa * 0x1p-24 && decoded.sign == (sign < 0 ? .minus : .plus))
            default: #expect(decoded == sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1))
            }
        }
    }

    // MARK: Reading errors

    @Test func missingFileOrAFolder() throws {
        #expect(try readError(file("absent.safetensors"), mentioning: ["no such file"]).caseName == "unreadable")
        #expect(try readError(folder).caseName == "unreadable")
    }

    @Test(arguments: [0, 3, 7])
    func fileTooShortForTheHeaderLength(size: Int) throws {
        let path = file("short")
        try Data(repeating: 1, count: size).write(to: URL(fileURLWithPath: path))
        #expect(try readError(path).caseName == "notSafetensors")
    }

    @Test(arguments: [UInt64(3), 1000, UInt64.max])
    func headerLengthBeyondTheFile(length: UInt64) throws {
        var bytes = Data()
        withUnsafeBytes(of: length.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
        let path = file("long-header")
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(try readError(path).caseName == "notSafetensors")
    }

    @Test(arguments: ["not json", "[1, 2]", "{\"x\": ", "\"just a string\""])
    func headerNotAJSONObject(header: String) throws {
        let path = try fixture("bad-json", header: header, data: [])
        #expect(try readError(path, mentioning: ["JSON"]).caseName == "notSafetensors")
    }

    /// Entries whose fields are the wrong type: rejected when the file is opened, naming the tensor.
    @Test(arguments: [
        #"{"w":[1,2]}"#,
        #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F24","shape":[1],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#,
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#,
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551620]}}"#,
    ])
    func malformedEntry(header: String) throws {
        let path = try fixture("bad-entry", header: header, data: [0, 0, 0, 0])
        #expect(try readError(path, mentioning: ["'w'"]).caseName == "notSafetensors")
    }

    @Test func metadataThatIsNotStrings() throws {
        let path = try fixture("bad-metadata", header: #"{"__metadata__":{"step":3}}"#, data: [])
        #expect(try readError(path, mentioning: ["__metadata__"]).caseName == "notSafetensors")
    }

    @Test func bytesAfterTheLastTensor() throws {
        let path = try fixture("trailing", header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0, 9])
        #expect(try readError(path).caseName == "notSafetensors")
    }

    @Test func truncatedData() throws {
        let path = try writeSample()
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.dropLast(3).write(to: URL(fileURLWithPath: path))
        // The tensors are stored in the order of their names, so the cut one is the last name.
        let last = sample.map(\.name).max()!
        #expect(try readError(path) == .truncated(path: path, expectedBytes: whole.count, actualBytes: whole.count - 3, lastTensor: last))
    }

    @Test func missingTensorListsTheAvailableNames() throws {
        let path = try writeSample()
        let error = try readError(path, mentioning: ["layer.wieght", "layer.weight", "alpha"]) { _ = try $0.tensor("layer.wieght") }
        #expect(error == .missingTensor(path: path, name: "layer.wieght", available: sample.map(\.name).sorted()))
        #expect(try readError(path, mentioning: ["nope"]) { _ = try $0.shape(of: "nope") }.caseName == "missingTensor")
    }

    @Test func wrongShape() throws {
        let path = try writeSample()
        let error = try readError(path, mentioning: ["layer.weight", "[3, 2]", "[2, 3]"]) {
            _ = try $0.tensor("layer.weight", shape: [3, 2])
        }
        #expect(error == .shapeMismatch(path: path, name: "layer.weight", expected: [3, 2], actual: [2, 3]))
    }

    @Test func integerTensorsOpenButDoNotConvert() throws {
        let path = try fixture("ints", header: #"{"steps":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#,
                               data: littleEndianBytes(UInt64(7)) + littleEndianBytes(UInt64(8)))
        #expect(try SafetensorsFile.read(contentsOf: path).shape(of: "steps") == [2])
        let error = try readError(path, mentioning: ["steps", "I64"]) { _ = try $0.tensor("steps") }
        #expect(error == .unsupportedDType(path: path, name: "steps", dtype: "I64"))
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteValueWhenRequiredFinite(bad: Float) throws {
        let path = file("bad-values")
        try SafetensorsFile.write([NamedTensor(name: "w", shape: [2, 2], values: [0, 1, bad, 3])], metadata: [:], to: path)
        let error = try readError(path, mentioning: ["'w'", "index 2"]) { _ = try $0.tensor("w", shape: [2, 2]) }
        #expect(error == .nonFinite(path: path, name: "w", index: 2))
    }

    /// Offsets that disagree with the shape or do not tile the buffer, and the tensor blamed.
    @Test(arguments: [
        (#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}"#, "b"),
        (#""a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}"#, "c"),
        (#""a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}"#, "a"),
        (#""a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"#, "a"),
        (#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}"#, "a"),
        (#""a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}"#, "a"),
        (#""a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,12]}"#, "a"),
    ])
    func invalidOffsets(entries: String, blamed: String) throws {
        let path = try fixture("offsets", header: "{\(entries)}", data: Array(repeating: 0, count: 12))
        let error = try readError(path, mentioning: ["'\(blamed)'"])
        #expect(error.caseName == "invalidOffsets")
    }

    @Test func offsetsPastTheEndOfTheFileAreTruncation() throws {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        let path = try fixture("short-data", header: header, data: [0, 0, 0, 0])
        let headerEnd = 8 + header.utf8.count
        #expect(try readError(path) == .truncated(path: path, expectedBytes: headerEnd + 16, actualBytes: headerEnd + 4, lastTensor: "a"))
    }

    // MARK: Writing

    @Test func writingOverAFileReplacesItCompletelyAndLeavesNoTemporaries() throws {
        let path = file("model.safetensors")
        let big = NamedTensor(name: "big", shape: [1000], values: (0 ..< 1000).map(Float.init))
        try SafetensorsFile.write([big], metadata: ["version": "1"], to: path)
        let small = NamedTensor(name: "small", shape: [2], values: [5, 6])
        try SafetensorsFile.write([small], metadata: [:], to: path)
        let file = try SafetensorsFile.read(contentsOf: path)
        #expect(file.names == ["small"])
        #expect(file.metadata.isEmpty)
        #expect(try file.tensor("small") == small)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.safetensors"])
    }

    @Test func writingIntoAMissingFolderThrows() throws {
        let path = "\(folder)/no/such/folder/model.safetensors"
        let error = try #require(throws: SafetensorsError.self) { try SafetensorsFile.write(sample, metadata: [:], to: path) }
        #expect(error.caseName == "unwritable")
        #expect(error.description.contains(path))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func failedRenameRemovesTheTemporaryFile() throws {
        let path = file("a-folder")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let error = try #require(throws: SafetensorsError.self) { try SafetensorsFile.write(sample, metadata: [:], to: path) }
        #expect(error.caseName == "unwritable")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["a-folder"])
    }

    /// Malformed tensors are refused before the disk is touched, so the existing file survives.
    @Test(arguments: [
        ([NamedTensor(name: "w", shape: [2], values: [1]), NamedTensor(name: "v", shape: [], values: [])], "w"),
        ([NamedTensor(name: "w", shape: [1], values: [1]), NamedTensor(name: "w", shape: [1], values: [2])], "w"),
        ([NamedTensor(name: "w", shape: [-1], values: [])], "w"),
        ([NamedTensor(name: "w", shape: [Int.max, 2], values: [])], "w"),
        ([NamedTensor(name: "__metadata__", shape: [1], values: [1])], "__metadata__"),
    ])
    func invalidTensorsAreNotWritten(tensors: [NamedTensor], blamed: String) throws {
        let path = try writeSample()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = try #require(throws: SafetensorsError.self) { try SafetensorsFile.write(tensors, metadata: [:], to: path) }
        #expect(error.caseName == "invalidTensor")
        #expect(error.description.contains(path) && error.description.contains("'\(blamed)'"), "\(error)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}

private func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

extension SafetensorsError {
    /// The case's name, for errors whose reason text comes from the system or is not worth pinning.
    var caseName: String { Mirror(reflecting: self).children.first?.label ?? "\(self)" }
}
