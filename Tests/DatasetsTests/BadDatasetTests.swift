import CHDF5
import Datasets
import DiffusionQL
import Environments
import Foundation
import Testing

/// Bad D4RL files met by a training run: each is refused with a message that names the file and the
/// key at fault, before the run folder is created.
@Suite struct BadDatasetTests {
    /// One way to spoil a hopper file (11 observations, 3 actions) of `rows` rows, and what the
    /// message must say beside the file's path.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let expected: [String]
        let arrays: @Sendable (_ rows: Int) -> [RawArray]
        var testDescription: String { name }
    }

    /// A valid file's arrays, with `replacing` put in place of (or beside) those of the same key and
    /// `dropping` left out.
    static func arrays(rows: Int = 6, replacing: [RawArray] = [], dropping: Set<String> = []) -> [RawArray] {
        let base = [
            RawArray("observations", (0..<rows * 11).map { Float($0 % 7) / 7 }, shape: [rows, 11], type: chdf5_native_float()),
            RawArray("actions", [Float](repeating: 0.1, count: rows * 3), shape: [rows, 3], type: chdf5_native_float()),
            RawArray("rewards", [Float](repeating: 1, count: rows), shape: [rows], type: chdf5_native_float()),
            RawArray("terminals", [UInt8](repeating: 0, count: rows), shape: [rows], type: chdf5_native_uint8()),
            RawArray("timeouts", [UInt8](repeating: 0, count: rows), shape: [rows], type: chdf5_native_uint8()),
        ]
        let replaced = Set(replacing.map(\.key))
        return base.filter { !replaced.contains($0.key) && !dropping.contains($0.key) } + replacing
    }

    /// Zeros, with `poison` at row 1, column 0.
    static func floats(_ key: String, rows: Int, width: Int, poison: Float? = nil) -> RawArray {
        var values = [Float](repeating: 0, count: rows * width)
        if let poison { values[width] = poison }
        return RawArray(key, values, shape: width == 1 ? [rows] : [rows, width], type: chdf5_native_float())
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        for key in ["observations", "actions", "rewards", "terminals"] {
            cases.append(Case(name: "no \(key)", expected: ["key '\(key)' is missing"]) { _ in arrays(dropping: [key]) })
        }
        for (key, width) in [("actions", 3), ("rewards", 1), ("timeouts", 1), ("next_observations", 11)] {
            cases.append(Case(name: "\(key) one row short", expected: ["'\(key)' has 5 rows, 'observations' has 6"]) { _ in
                arrays(replacing: [floats(key, rows: 5, width: width)])
            })
        }
        for (key, width) in [("observations", 11), ("actions", 3), ("rewards", 1)] {
            for poison in [Float.nan, .infinity, -.infinity] {
                let shown = poison.isNaN ? "NaN" : "\(poison)"
                cases.append(Case(name: "\(shown) in \(key)", expected: ["'\(key)' row 1 holds \(shown) (column 0)"]) { _ in
                    arrays(replacing: [floats(key, rows: 6, width: width, poison: poison)])
                })
            }
        }
        cases += [
            Case(name: "observations of 10 columns", expected: ["'observations' has 10 columns, the task needs 11"]) { _ in
                arrays(replacing: [floats("observations", rows: 6, width: 10)])
            },
            Case(name: "actions of 2 columns", expected: ["'actions' has 2 columns, the task needs 3"]) { _ in
                arrays(replacing: [floats("actions", rows: 6, width: 2)])
            },
            Case(name: "observations of one dimension", expected: ["'observations' has shape (66), expected (N, columns)"]) { _ in
                arrays(replacing: [RawArray("observations", [Float](repeating: 0, count: 66), shape: [66], type: chdf5_native_float())])
            },
            Case(name: "no rows", expected: ["'observations'", "at least one row"]) { _ in arrays(rows: 0) },
            Case(name: "one row", expected: ["its 1 row make no transition"]) { _ in arrays(rows: 1) },
            Case(name: "two rows, the first a timeout", expected: ["its 2 rows make no transition"]) { _ in
                arrays(rows: 2, replacing: [RawArray("timeouts", [UInt8]([1, 0]), shape: [2], type: chdf5_native_uint8())])
            },
            Case(name: "a terminal of 0.5", expected: ["'terminals' row 1 holds 0.5, expected 0 or 1"]) { _ in
                arrays(replacing: [RawArray("terminals", [Float]([0, 0.5, 0, 0, 0, 0]), shape: [6], type: chdf5_native_float())])
            },
            Case(name: "a timeout of 2", expected: ["'timeouts' row 3 holds 2.0, expected 0 or 1"]) { _ in
                arrays(replacing: [RawArray("timeouts", [UInt8]([0, 0, 0, 2, 0, 0]), shape: [6], type: chdf5_native_uint8())])
            },
            Case(name: "a NaN terminal", expected: ["'terminals' row 0 holds NaN, expected 0 or 1"]) { _ in
                arrays(replacing: [RawArray("terminals", [Double]([.nan, 0, 0, 0, 0, 0]), shape: [6], type: chdf5_native_double())])
            },
            Case(name: "observations as strings", expected: ["'observations' has shape (6), expected (N, columns)"]) { _ in
                arrays(replacing: [.strings("observations", rows: 6)])
            },
            Case(name: "rewards as strings", expected: ["'rewards' holds strings, expected numbers"]) { _ in
                arrays(replacing: [.strings("rewards", rows: 6)])
            },
            Case(name: "terminals as strings", expected: ["'terminals' holds strings, expected numbers"]) { _ in
                arrays(replacing: [.strings("terminals", rows: 6)])
            },
        ]
        return cases
    }()

    @Test(arguments: cases)
    func aBadFileIsRefusedByNameAndKeyBeforeTheRunStarts(_ bad: Case) throws {
        let folder = try TemporaryFolder()
        let path = folder.path("bad.hdf5"), run = RunFolder(path: folder.path("run"))
        try writeRaw(path, bad.arrays(6))
        var overrides = TrainingOverrides()
        overrides.epochs = 1
        overrides.stepsPerEpoch = 1
        do {
            let setup = try OfflineTrainingSetup(task: try D4RLTask.named("hopper-medium-v2"), datasetPath: path, overrides: overrides)
            try TrainingRun(folder: run, config: setup.config, data: setup.transitions).train()
            Issue.record("\(bad.name): accepted")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(path + ": "), "\(bad.name): \(message)")
            for part in bad.expected { #expect(message.contains(part), "\(bad.name): \(message)") }
        }
        #expect(!FileManager.default.fileExists(atPath: run.path), "\(bad.name): the run folder was created")
    }
}
