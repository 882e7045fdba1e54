import Environments
import Foundation
import MuJoCo
import Testing

/// Helpers shared by the environment tests.
enum TestSupport {
    static func models() throws -> ModelDirectory { try ModelDirectory.locate() }

    static func environment(_ spec: LocomotionSpec) throws -> LocomotionEnvironment {
        try LocomotionEnvironment(spec, models: models())
    }

    /// An environment placed at its model's reference state, without noise.
    static func environmentAtRest(_ spec: LocomotionSpec) throws -> LocomotionEnvironment {
        let environment = try environment(spec)
        try environment.setState(qpos: environment.simulation.model.qpos0, qvel: zeros(spec.nv))
        return environment
    }

    static func zeros(_ count: Int) -> [Double] { Array(repeating: 0, count: count) }

    /// The exact bit patterns, so that comparisons tell -0 from 0 and NaN equals itself.
    static func bits(_ values: some Sequence<Double>) -> [UInt64] { values.map(\.bitPattern) }

    /// Runs `body` with a new, empty folder that is removed afterwards.
    @discardableResult
    static func withTemporaryFolder<R>(_ body: (URL) throws -> R) throws -> R {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("environments-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(folder)
    }

    /// Writes `text` as `name` in `folder` and returns the file's path.
    @discardableResult
    static func write(_ text: String, as name: String, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

/// Sample statistics of a list of draws.
struct SampleStatistics {
    let values: [Double]

    var mean: Double { values.reduce(0, +) / Double(values.count) }
    var standardDeviation: Double {
        let mean = self.mean
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }
    var largestMagnitude: Double { values.map(abs).max() ?? 0 }

    func fraction(where predicate: (Double) -> Bool) -> Double {
        Double(values.count { predicate($0) }) / Double(values.count)
    }

    /// The share of draws in each of `bins` equal bins over [low, high).
    func histogram(bins: Int, low: Double, high: Double) -> [Double] {
        var counts = Array(repeating: 0, count: bins)
        for value in values {
            let bin = Int((value - low) / (high - low) * Double(bins))
            counts[min(max(bin, 0), bins - 1)] += 1
        }
        return counts.map { Double($0) / Double(values.count) }
    }
}

extension LocomotionSpec: CustomTestStringConvertible {
    public var testDescription: String { name }
}
