import CHDF5
import Datasets
import DiffusionQL
import Foundation
import Testing

@Suite struct D4RLFileTests {
    @Test func writingThenReadingKeepsEveryField() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hopper_medium-v2.hdf5")
        let dataset = sample(rows: 6)
        try D4RLFile.write(dataset, to: path)
        let read = try D4RLFile.read(path: path)
        #expect(read == dataset)
        #expect(read.rows == 6 && read.terminalCount == 1 && read.timeoutCount == 1 && read.episodes() == 3)
    }

    /// HDF5 stamps objects with their creation time unless told not to; datasets regenerated from a
    /// seed must come out byte for byte the same, so nothing time-dependent may enter the file.
    @Test func theSameDataMakesTheSameBytesAtAnotherTime() throws {
        let folder = try TemporaryFolder()
        var dataset = sample(rows: 6)
        dataset.infos["qpos"] = D4RLMatrix(width: 2, values: (0..<12).map(Float.init))
        dataset.metadata["algorithm"] = "SAC"
        try D4RLFile.write(dataset, to: folder.path("first.hdf5"))
        Thread.sleep(forTimeInterval: 1.1)
        try D4RLFile.write(dataset, to: folder.path("second.hdf5"))
        #expect(try Data(contentsOf: folder.url.appendingPathComponent("first.hdf5"))
            == Data(contentsOf: folder.url.appendingPathComponent("second.hdf5")))
    }

    @Test func rewritingReplacesTheFileAndLeavesNoTemporary() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("data.hdf5")
        try D4RLFile.write(sample(rows: 6), to: path)
        try D4RLFile.write(sample(rows: 4), to: path)
        #expect(try D4RLFile.read(path: path).rows == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["data.hdf5"])
    }

    @Test func transitionsPairConsecutiveRowsAndSkipTimeouts() throws {
        var dataset = sample(rows: 6)
        dataset.terminals = [false, false, false, true, false, false]
        dataset.timeouts = [false, true, false, false, false, false]
        let transitions = try dataset.transitions()
        // Row 1 is cut by its time limit and row 5 has no next row.
        #expect(transitions.count == 4)
        #expect(transitions.states == [0, 1, 2, 20, 21, 22, 30, 31, 32, 40, 41, 42].map(Float.init))
        #expect(transitions.nextStates == [10, 11, 12, 30, 31, 32, 40, 41, 42, 50, 51, 52].map(Float.init))
        #expect(transitions.actions == [0, -1, -20, -21, -30, -31, -40, -41].map(Float.init))
        #expect(transitions.rewards == [0, 2, 3, 4])
        #expect(transitions.notDone == [1, 1, 0, 1])
    }

    @Test func withoutTimeoutsEpisodesAreCutEvery1000Steps() throws {
        var dataset = sample(rows: 2_500)
        dataset.timeouts = nil
        dataset.terminals = Array(repeating: false, count: 2_500)
        let kept = try dataset.transitions().states.enumerated().filter { $0.offset % 3 == 0 }.map { Int($0.element) / 10 }
        #expect(kept == Array(0..<2_499).filter { $0 != 999 && $0 != 1_999 })
        #expect(dataset.episodes() == 3)

        // As in D4RL's loader, the step counter restarts at 1 after a terminal.
        dataset.terminals[10] = true
        let afterTerminal = try dataset.transitions().states.enumerated().filter { $0.offset % 3 == 0 }
            .map { Int($0.element) / 10 }
        #expect(afterTerminal == Array(0..<2_499).filter { $0 != 1_009 && $0 != 2_009 })
    }

    @Test func readsFloat64ValuesAndFlagsStoredAsIntegersOrFloats() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("replay.hdf5")
        try writeRaw(path, [
            .init("observations", [Double]([0.5, 1, 2, 3, 4, 5]), shape: [3, 2], type: chdf5_native_double()),
            .init("actions", [Float]([1, 2, 3]), shape: [3, 1], type: chdf5_native_float()),
            .init("rewards", [Double]([0.25, 0, -1]), shape: [3], type: chdf5_native_double()),
            .init("terminals", [UInt8]([0, 1, 0]), shape: [3], type: chdf5_native_uint8()),
            .init("timeouts", [Float]([0, 0, 1]), shape: [3], type: chdf5_native_float()),
        ])
        let read = try D4RLFile.read(path: path)
        #expect(read.observationDimension == 2 && read.observations == [0.5, 1, 2, 3, 4, 5])
        #expect(read.actionDimension == 1 && read.rewards == [0.25, 0, -1])
        #expect(read.terminals == [false, true, false] && read.timeouts == [false, false, true])
        #expect(read.nextObservations == nil && read.infos.isEmpty && read.metadata.isEmpty)
    }

    @Test func aMissingKeyIsNamedWithWhatTheFileHas() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("no-rewards.hdf5")
        try writeRaw(path, [
            .init("observations", [Float](repeating: 0, count: 4), shape: [2, 2], type: chdf5_native_float()),
            .init("actions", [Float](repeating: 0, count: 2), shape: [2, 1], type: chdf5_native_float()),
        ])
        try expectError("\(path): key 'rewards' is missing (the file has: actions, observations)") {
            _ = try D4RLFile.read(path: path)
        }
    }

    @Test func unequalLengthsAreRefusedWhenReadingAndWriting() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("short.hdf5")
        try writeRaw(path, [
            .init("observations", [Float](repeating: 0, count: 20), shape: [10, 2], type: chdf5_native_float()),
            .init("actions", [Float](repeating: 0, count: 10), shape: [10, 1], type: chdf5_native_float()),
            .init("rewards", [Float](repeating: 0, count: 9), shape: [9], type: chdf5_native_float()),
            .init("terminals", [UInt8](repeating: 0, count: 10), shape: [10], type: chdf5_native_uint8()),
        ])
        try expectError("\(path): 'rewards' has 9 rows, 'observations' has 10") { _ = try D4RLFile.read(path: path) }

        var dataset = sample(rows: 6)
        dataset.terminals.removeLast()
        let written = folder.path("written.hdf5")
        try expectError("\(written): 'terminals' has 5 rows, 'observations' has 6") {
            try D4RLFile.write(dataset, to: written)
        }
        #expect(!FileManager.default.fileExists(atPath: written))
    }

    @Test func aNaNIsReportedWithItsRow() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("nan.hdf5")
        var observations = [Float](repeating: 0, count: 8)
        observations[5] = .nan
        try writeRaw(path, [
            .init("observations", observations, shape: [4, 2], type: chdf5_native_float()),
            .init("actions", [Float](repeating: 0, count: 4), shape: [4, 1], type: chdf5_native_float()),
            .init("rewards", [Float](repeating: 0, count: 4), shape: [4], type: chdf5_native_float()),
            .init("terminals", [UInt8](repeating: 0, count: 4), shape: [4], type: chdf5_native_uint8()),
        ])
        try expectError("\(path): 'observations' row 2 holds NaN (column 1)") { _ = try D4RLFile.read(path: path) }
    }

    @Test func aDatasetOfOtherDimensionsThanTheTaskIsRefused() throws {
        let dataset = sample(rows: 2)
        try expectError("hopper.hdf5: 'observations' has 3 columns, the task needs 11") {
            try dataset.requireDimensions(observation: 11, action: 2, path: "hopper.hdf5")
        }
        try expectError("hopper.hdf5: 'actions' has 2 columns, the task needs 3") {
            try dataset.requireDimensions(observation: 3, action: 3, path: "hopper.hdf5")
        }
        try dataset.requireDimensions(observation: 3, action: 2, path: "hopper.hdf5")
    }

    @Test func aFileThatIsNotHDF5IsNamed() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("notes.hdf5")
        try Data("observations, actions, rewards\n".utf8).write(to: URL(fileURLWithPath: path))
        try expectError("\(path): not an HDF5 file") { _ = try D4RLFile.read(path: path) }
    }

    @Test func aMissingFileIsNamed() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("absent.hdf5")
        try expectError("\(path): cannot open the file: No such file or directory") { _ = try D4RLFile.read(path: path) }
    }
}

/// Six-ish rows whose values tell where they came from: observation (row, column) is 10 row + column,
/// action (row, column) is -(10 row + column), the reward is the row.
private func sample(rows: Int) -> D4RLDataset {
    let indices = 0..<rows
    return D4RLDataset(
        observationDimension: 3, actionDimension: 2,
        observations: indices.flatMap { row in (0..<3).map { Float(10 * row + $0) } },
        actions: indices.flatMap { row in (0..<2).map { -Float(10 * row + $0) } },
        rewards: indices.map(Float.init),
        terminals: indices.map { $0 == 2 }, timeouts: indices.map { $0 == 4 },
        nextObservations: indices.flatMap { row in (0..<3).map { Float(10 * row + 10 + $0) } },
        infos: ["qpos": D4RLMatrix(width: 4, values: (0..<4 * rows).map { Float($0) / 8 }),
                "qvel": D4RLMatrix(width: 3, values: (0..<3 * rows).map { -Float($0) })],
        metadata: ["algorithm": "SAC", "policy/nonlinearity": "relu", "note": "ünïcode"])
}

private func expectError(_ message: String, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) throws {
    do {
        try body()
        Issue.record("no error; expected \(message)", sourceLocation: sourceLocation)
    } catch {
        #expect("\(error)" == message, sourceLocation: sourceLocation)
    }
}

