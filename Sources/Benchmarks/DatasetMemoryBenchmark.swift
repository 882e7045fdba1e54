import Datasets
import Foundation
import SeededRandom

/// Peak memory of reading a large D4RL file against the size of its data: the reader must hold each
/// array once, in its final place, not a staging copy beside it.
public struct DatasetMemoryBenchmark {
    public let rows: Int
    public let observationDimension: Int
    public let actionDimension: Int
    /// The budget: peak growth during the read over the raw size of the arrays read.
    public static let allowedRatio = 1.5

    public init(rows: Int = 2_000_000, observationDimension: Int = 17, actionDimension: Int = 6) {
        self.rows = rows
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
    }

    /// Writes a synthetic file of `rows` rows to a temporary folder, reads it back and reports the
    /// growth of the peak resident set during the read.
    public func report() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-memory-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("synthetic.hdf5").path
        try D4RLFile.write(syntheticDataset(), to: path)

        guard Self.resetPeakResident() else { return "peak memory cannot be measured here (needs Linux's /proc/self/clear_refs)" }
        let before = Self.status("VmRSS")
        let start = ContinuousClock.now
        let dataset = try D4RLFile.read(path: path)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        let growth = Self.status("VmHWM") - before
        let raw = Self.rawBytes(dataset)
        let ratio = Double(growth) / Double(raw)
        return """
            read \(dataset.rows) × \(dataset.observationDimension) (observations, actions, rewards, flags, next observations) in \(String(format: "%.2f", seconds)) s
            raw data \(Self.megabytes(raw)), peak resident growth \(Self.megabytes(growth)): \(String(format: "%.2f", ratio))× \
            (budget \(Self.allowedRatio)×: \(ratio < Self.allowedRatio ? "within" : "OVER"))
            """
    }

    private func syntheticDataset() -> D4RLDataset {
        var generator = SeededGenerator(seed: 1)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float(generator.uniform(-1, 1)) } }
        return D4RLDataset(
            observationDimension: observationDimension, actionDimension: actionDimension,
            observations: values(rows * observationDimension), actions: values(rows * actionDimension), rewards: values(rows),
            terminals: (0..<rows).map { $0 % 997 == 996 }, timeouts: (0..<rows).map { $0 % 1000 == 999 },
            nextObservations: values(rows * observationDimension))
    }

    /// Bytes of every array the dataset holds: 4 per float, 1 per flag.
    static func rawBytes(_ dataset: D4RLDataset) -> Int {
        4 * (dataset.observations.count + dataset.actions.count + dataset.rewards.count + (dataset.nextObservations?.count ?? 0)
            + dataset.infos.values.map(\.values.count).reduce(0, +))
            + dataset.terminals.count + (dataset.timeouts?.count ?? 0)
    }

    /// Writing 5 to clear_refs resets VmHWM to the current resident size (Linux 4.0 and later).
    static func resetPeakResident() -> Bool {
        FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs")
            && (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    /// A "kB" line of /proc/self/status, in bytes.
    static func status(_ key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return kilobytes * 1024
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.0f MB", Double(bytes) / 1_000_000) }
}
