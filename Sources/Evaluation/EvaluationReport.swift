import DiffusionQL
import Environments
import Foundation
import NeuralNet
import Persistence

/// One evaluated episode.
public struct EpisodeResult: Codable, Sendable, Equatable {
    /// Position of the episode in the evaluation (0-based).
    public let index: Int
    /// The environment seed the episode was reset with.
    public let seed: UInt64
    public let `return`: Double
    public let length: Int
    public let normalizedScore: Double
    /// The robot reached a terminal state (fell); otherwise the episode was truncated.
    public let terminated: Bool
    /// The episode was cut short by a physics instability, not by the MDP or the time limit.
    public let unstable: Bool
    /// For a goal-reaching task, whether the episode reached its goal; nil for the others.
    public let success: Bool?
    /// For a goal-reaching task, the distance in the plane from the robot to its goal when the episode
    /// ended (where a failed episode left it); nil for the others, and in reports written before it was recorded.
    public let finalDistance: Double?

    enum CodingKeys: String, CodingKey {
        case index, seed, `return`, length, terminated, unstable, success
        case normalizedScore = "normalized_score"
        case finalDistance = "final_distance"
    }

    public init(index: Int, seed: UInt64, return: Double, length: Int, normalizedScore: Double, terminated: Bool,
                unstable: Bool, success: Bool? = nil, finalDistance: Double? = nil) {
        self.index = index
        self.seed = seed
        self.return = `return`
        self.length = length
        self.normalizedScore = normalizedScore
        self.terminated = terminated
        self.unstable = unstable
        self.success = success
        self.finalDistance = finalDistance
    }

    /// The result of the episode that ended with `ending` on `task`: its success and final distance
    /// when the task has a goal.
    public init(index: Int, seed: UInt64, return: Double, length: Int, task: D4RLTask, ending: StepOutcome) {
        let goal = task.hasGoal ? ending.info.goal : nil
        self.init(index: index, seed: seed, return: `return`, length: length, normalizedScore: task.normalizedScore(`return`),
                  terminated: ending.terminated, unstable: ending.info.isUnstable,
                  success: task.hasGoal ? goal?.reached ?? false : nil, finalDistance: goal?.distance)
    }

    /// How the episode ended, as the report's table says it.
    var ending: String {
        if unstable { return "unstable" }
        if success == true { return "reached goal" }
        return terminated ? "terminated" : "truncated"
    }
}

/// The outcome of evaluating one policy on one task.
public struct EvaluationReport: Codable, Sendable, Equatable {
    public let task: String
    /// What was evaluated: a checkpoint path, or the name of a built-in policy.
    public let checkpoint: String
    public let seed: UInt64
    public let episodes: [EpisodeResult]
    public let meanNormalizedScore: Double
    /// Standard error of the mean normalized score (sample standard deviation / sqrt(episodes)).
    public let stderrNormalizedScore: Double
    public let meanReturn: Double
    /// For a goal-reaching task, the share of episodes that reached their goal (the normalized score is
    /// 100 times it); nil for the others.
    public let successRate: Double?
    /// For a part of a sharded evaluation, which part of which episodes; nil for a whole one.
    public let part: PartOfWhole?
    /// The arithmetic of the products that computed the policy's actions (`DenseProducts.arithmetic`):
    /// the episodes repeat to the bit on machines of the same arithmetic, and differ in their last
    /// bits, then drift apart, on others. Nil in reports written before it was recorded.
    public let arithmetic: String?

    enum CodingKeys: String, CodingKey {
        case task, checkpoint, seed, episodes, part, arithmetic
        case meanNormalizedScore = "mean_normalized_score"
        case stderrNormalizedScore = "stderr_normalized_score"
        case meanReturn = "mean_return"
        case successRate = "success_rate"
    }

    public init(task: String, checkpoint: String, seed: UInt64, episodes: [EpisodeResult], part: PartOfWhole? = nil,
                arithmetic: String? = nil) {
        self.part = part
        self.arithmetic = arithmetic
        self.task = task
        self.checkpoint = checkpoint
        self.seed = seed
        self.episodes = episodes
        let scores = episodes.map(\.normalizedScore)
        meanNormalizedScore = Self.mean(scores)
        stderrNormalizedScore = Self.standardError(scores)
        meanReturn = Self.mean(episodes.map(\.return))
        let successes = episodes.compactMap(\.success)
        successRate = successes.isEmpty || successes.count < episodes.count
            ? nil : Double(successes.count { $0 }) / Double(successes.count)
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    static func standardError(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        let mean = mean(values)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (variance / Double(values.count)).squareRoot()
    }

    /// Every episode's final distance to its goal, when every episode has one (a goal-reaching task's
    /// report written since it was recorded).
    private var distances: [Double]? {
        let distances = episodes.compactMap(\.finalDistance)
        return distances.isEmpty || distances.count < episodes.count ? nil : distances
    }

    /// The mean of the episodes' final distances to their goals, where every episode has one.
    public var meanFinalDistance: Double? { distances.map(Self.mean) }

    /// The report as a table of episodes followed by the mean normalized score.
    public func table() -> String {
        let distances = distances
        var lines = ["task \(task), \(checkpoint), seed \(seed)" + (part.map { ", part \($0.shard) of \($0.items.count) episodes" } ?? "")
                        + (arithmetic.map { ", products \($0)" } ?? ""),
                     "episode   return   length   normalized   " + (distances == nil ? "" : "distance   ") + "end"]
        for (index, episode) in episodes.enumerated() {
            lines.append(
                String(episode.index).leftPadded(7) + format(episode.return, 1).leftPadded(9)
                    + String(episode.length).leftPadded(9) + format(episode.normalizedScore, 2).leftPadded(13)
                    + (distances.map { format($0[index], 2).leftPadded(11) } ?? "") + "   " + episode.ending)
        }
        if let successRate {
            let reached = episodes.count { $0.success == true }
            lines.append("success rate \(format(100 * successRate, 1))% (\(reached) of \(episodes.count) episodes reached the goal)"
                + (distances.map { ", mean final distance to the goal \(format(Self.mean($0), 2)) m" } ?? ""))
        }
        lines.append("mean normalized score \(format(meanNormalizedScore, 2)) ± \(format(stderrNormalizedScore, 2)) (stderr over \(episodes.count) episodes), mean return \(format(meanReturn, 1))")
        return lines.joined(separator: "\n")
    }

    /// This report marked as `part` of a sharded evaluation (or as whole, for nil).
    func part(_ part: PartOfWhole?) -> EvaluationReport {
        EvaluationReport(task: task, checkpoint: checkpoint, seed: seed, episodes: episodes, part: part, arithmetic: arithmetic)
    }

    /// The report of this evaluation's episodes and `more` (other episodes of the same evaluation), in
    /// episode order: what the evaluation of them all together reports.
    public func adding(_ more: EvaluationReport) -> EvaluationReport {
        precondition(more.task == task && more.checkpoint == checkpoint && more.seed == seed && more.arithmetic == arithmetic,
                     "episodes of another evaluation")
        return EvaluationReport(task: task, checkpoint: checkpoint, seed: seed,
                                episodes: (episodes + more.episodes).sorted { $0.index < $1.index }, arithmetic: arithmetic)
    }

    /// The whole evaluation from its parts (each with the file it came from): the same report, to the
    /// byte, as the evaluation unsharded. Parts that are missing, repeated, of another whole, or that
    /// disagree on the task, checkpoint, seed or the products' arithmetic (parts run on machines of
    /// different kinds) are refused by name.
    public static func merge(_ parts: [(file: String, report: EvaluationReport)]) throws -> EvaluationReport {
        try Merging.requireWhole(parts.map { file, report in
            (file, report.part, ["task": report.task, "checkpoint": report.checkpoint, "seed": String(report.seed),
                                 "products": report.arithmetic ?? "not recorded"])
        })
        let episodes = parts.flatMap(\.report.episodes).sorted { $0.index < $1.index }
        let first = parts[0].report
        guard episodes.map(\.index) == first.part!.items else {
            throw ShardError.partsDoNotFit(reason: "the parts' episodes are not each of episodes 0..<\(first.part!.items.count) once")
        }
        return EvaluationReport(task: first.task, checkpoint: first.checkpoint, seed: first.seed, episodes: episodes,
                                arithmetic: first.arithmetic)
    }

    /// Writes the report as JSON, atomically (a temporary file renamed into place).
    public func writeJSON(to path: String) throws {
        try writeSortedJSON(self, to: path)
    }
}

/// Pretty JSON with sorted keys (the same report always gives the same bytes), written atomically.
func writeSortedJSON(_ value: some Encodable, to path: String) throws {
    try AtomicFile.write(JSONEncoder.sorted().encode(value), to: path)
}

func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

extension String {
    /// The string right-aligned in a column of `width` characters, for plain-text tables.
    public func leftPadded(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
