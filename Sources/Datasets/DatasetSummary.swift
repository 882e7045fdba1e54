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
    /// For a goal-reaching task, the share of the collection's episodes (delimited by its time cuts:
    /// reaching the goal ends none) in which the ant reached the evaluation goal; nil for the others.
    public let successRate: Double?

    public init(_ dataset: D4RLDataset, task: D4RLTask) {
        rows = dataset.rows
        terminals = dataset.terminalCount
        timeouts = dataset.timeoutCount
        if task.hasGoal {
            let reached = Self.goalReached(dataset)
            episodes = reached.count
            successRate = reached.isEmpty ? .nan : Double(reached.count { $0 }) / Double(reached.count)
            meanReturn = Double(dataset.rewards.reduce(0, +)) / Double(max(reached.count, 1))
            normalizedScore = 100 * successRate!
        } else {
            let returns = dataset.episodeReturns()
            episodes = returns.count
            successRate = nil
            meanReturn = returns.isEmpty ? .nan : returns.reduce(0, +) / Double(returns.count)
            normalizedScore = task.normalizedScore(meanReturn)
        }
    }

    /// Per episode ended by a time cut, whether any of its rows has a reward.
    private static func goalReached(_ dataset: D4RLDataset) -> [Bool] {
        var reached: [Bool] = [], current = false
        for row in 0..<dataset.rows {
            current = current || dataset.rewards[row] > 0
            if dataset.timeouts?[row] == true {
                reached.append(current)
                current = false
            }
        }
        return reached
    }

    public var description: String {
        if let successRate {
            return "\(rows) transitions, \(episodes) episodes, \(terminals) rows at the goal, "
                + String(format: "behaviour success rate %.1f%% (the evaluation goal reached in an episode)", 100 * successRate)
        }
        return "\(rows) transitions, \(episodes) episodes (\(terminals) terminal, \(timeouts) time cuts), "
            + String(format: "mean return %.1f, normalized score %.1f", meanReturn, normalizedScore)
    }
}
