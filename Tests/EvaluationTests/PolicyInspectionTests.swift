import Datasets
import DiffusionQL
import Evaluation
import Foundation
import NeuralNet
import Testing

/// Samples of a checkpoint's actor at chosen states, the .npy files they travel in, and their picture.
@Suite struct PolicyInspectionTests {
    let folder: RunFolder
    let directory: String

    init() throws {
        folder = try tinyRun(task: "hopper-medium-v2", stateDimension: 11, actionDimension: 3, epochs: 1, seed: 5)
        directory = NSTemporaryDirectory() + "policy-inspection-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func checkpoint() throws -> CheckpointFile { try CheckpointFile.read(contentsOf: folder.checkpointPath(epoch: 1)) }

    func states(_ count: Int) -> [Float] { (0..<count * 11).map { Float($0 % 13) / 13 - 0.5 } }

    @Test func theSameSeedGivesTheSameSamplesAndAStateDoesNotDependOnTheOthers() throws {
        let file = try checkpoint()
        let three = try PolicySamples.draw(from: file, states: states(3), samples: 1_100, seed: 4, withQ: true)
        #expect(three.actions.count == 3 * 1_100 * 3 && three.qMin?.count == 3 * 1_100)
        #expect(try PolicySamples.draw(from: file, states: states(3), samples: 1_100, seed: 4, withQ: true) == three)
        let first = try PolicySamples.draw(from: file, states: Array(states(3)[0..<11]), samples: 1_100, seed: 4, withQ: false)
        #expect(first.actions == Array(three.actions[0 ..< 1_100 * 3]) && first.qMin == nil)
        #expect(try PolicySamples.draw(from: file, states: states(3), samples: 1_100, seed: 5, withQ: false).actions != three.actions)
        #expect(three.actions.allSatisfy { abs($0) <= 1 } && three.qMin!.allSatisfy(\.isFinite))
        // Samples spread: not one action repeated.
        #expect(Set(three.actions[0 ..< 300].map { $0 }).count > 50)
    }

    @Test func npyFilesRoundTripAndBadOnesAreNamed() throws {
        let path = directory + "/a.npy"
        let array = NumPyArray(shape: [2, 3, 2], values: (0..<12).map { Float($0) * 0.5 - 1 })
        try NumPyFile.write(array, to: path)
        #expect(try NumPyFile.read(path) == array)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.starts(with: [0x93] + Array("NUMPY".utf8)) && (bytes.count - 12 * 4) % 64 == 0)
        func damaged(_ name: String, _ edit: (inout Data) -> Void) throws -> String {
            var copy = bytes
            edit(&copy)
            let damagedPath = directory + "/" + name
            try copy.write(to: URL(fileURLWithPath: damagedPath))
            return try #require(throws: NumPyFileError.self) { try NumPyFile.read(damagedPath) }.description
        }
        #expect(try damaged("magic.npy") { $0[0] = 0x41 }.contains("magic.npy: not a NumPy .npy file"))
        #expect(try damaged("short.npy") { $0.removeLast(5) }.contains("short.npy: truncated"))
        #expect(try damaged("int.npy") { data in
            data.replaceSubrange(data.range(of: Data("<f4".utf8))!, with: Data("<i4".utf8))
        }.contains("int.npy: the array holds '<i4'"))
        #expect(try damaged("fortran.npy") { data in
            data.replaceSubrange(data.range(of: Data("False".utf8))!, with: Data("True ".utf8))
        }.contains("fortran.npy: the array is in Fortran order"))
    }

    /// numpy reads what this writes and this reads what numpy writes (float64, rank 1), where numpy is there.
    @Test(.enabled(if: PolicyInspectionTests.hasNumPy, "python3 with numpy is not installed"))
    func numpyReadsAndWritesTheSameFiles() throws {
        let ours = directory + "/ours.npy", theirs = directory + "/theirs.npy"
        try NumPyFile.write(NumPyArray(shape: [2, 2], values: [1, -2, 0.25, 3]), to: ours)
        let script = "import numpy as np; a = np.load('\(ours)'); assert a.dtype == np.float32 and a.shape == (2, 2) "
            + "and a.tolist() == [[1, -2], [0.25, 3]], a; np.save('\(theirs)', np.arange(5, dtype=np.float64) / 4)"
        #expect(try Self.python(script) == 0)
        #expect(try NumPyFile.read(theirs) == NumPyArray(shape: [5], values: [0, 0.25, 0.5, 0.75, 1]))
    }

    @Test func statesOfTheWrongShapeAreRefusedByName() throws {
        let wide = directory + "/wide.npy", deep = directory + "/deep.npy"
        try NumPyFile.write(NumPyArray(shape: [2, 17], values: [Float](repeating: 0, count: 34)), to: wide)
        try NumPyFile.write(NumPyArray(shape: [1, 1, 11], values: [Float](repeating: 0, count: 11)), to: deep)
        #expect(throws: PolicyInspectionError.self) { try PolicyInspection.states(npy: wide, stateDimension: 11) }
        let message = try #require(throws: PolicyInspectionError.self) { try PolicyInspection.states(npy: wide, stateDimension: 11) }
        #expect(message.description.contains("wide.npy: states of 17 values") && message.description.contains("have 11"))
        #expect(throws: PolicyInspectionError.self) { try PolicyInspection.states(npy: deep, stateDimension: 11) }
    }

    @Test func datasetRowsBecomeStatesAndRowsOutOfRangeAreNamed() throws {
        let rows = 4
        let data = D4RLDataset(observationDimension: 11, actionDimension: 3, observations: (0..<rows * 11).map(Float.init),
                               actions: [Float](repeating: 0.5, count: rows * 3), rewards: [Float](repeating: 0, count: rows),
                               terminals: [Bool](repeating: false, count: rows))
        #expect(try PolicyInspection.states(of: data, path: "d.hdf5", rows: [2], stateDimension: 11) == (22..<33).map(Float.init))
        #expect(throws: PolicyInspectionError.rowOutOfRange(path: "d.hdf5", row: 4, rows: 4)) {
            try PolicyInspection.states(of: data, path: "d.hdf5", rows: [0, 4], stateDimension: 11)
        }
        #expect(throws: D4RLFileError.self) { try PolicyInspection.states(of: data, path: "d.hdf5", rows: [0], stateDimension: 17) }
        // The nearest rows' actions: row 2's observation is nearest itself, then its neighbours.
        #expect(PolicyInspection.actionsNear(data.observations[22..<33], in: data, count: 2).count == 2 * 3)
    }

    @Test func thePictureHasAHistogramPerDimensionAndAScatterPerState() throws {
        let samples = try PolicySamples.draw(from: try checkpoint(), states: states(2), samples: 50, seed: 1, withQ: false)
        let svg = PolicyPicture.svg(samples, stateLabels: ["a", "b"], nearby: [[0, 0, 0], [0.5, 0.5, 0.5]], pair: (0, 2), title: "t")
        #expect(svg.components(separatedBy: "stroke=\"#999\"").count - 1 == 2 * 4)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2 * (50 + 1))
        #expect(svg.components(separatedBy: "stroke=\"#ff7f0e\"").count - 1 == 2 * 3)
    }

    static let hasNumPy = (try? python("import numpy")) == 0

    static func python(_ script: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
