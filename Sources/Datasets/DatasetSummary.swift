import Environments
import Foundation

/// What a dataset holds and how good its behaviour was: counts, and the mean episode return with its
/// D4RL normalized score, the numbers a dataset's table row reports.
public struct DatasetSummary: Sendable, CustomStringConvertible {
    public let rows: Int
    public let episodes: Int
    public let terminals: Int
    public let timeouts: Int
    public let meanReturn: Double
    public let normalizedScore: Double

    public init(_ dataset: D4RLDataset, task: D4RLTask) {
        let returns = dataset.episodeReturns()
        rows = dataset.rows
        episodes = returns.count
        terminals = dataset.terminalCount
        timeouts = dataset.timeoutCount
        meanReturn = returns.isEmpty ? .nan : returns.reduce(0, +) / Double(returns.count)
        normalizedScore = task.normalizedScore(meanReturn)
    }

    public var description: String {
        "\(rows) transitions, \(episodes) episodes (\(terminals) terminal, \(timeouts) time cuts), "
            + String(format: "mean return %.1f, normalized score %.1f", meanReturn, normalizedScore)
    }
}
