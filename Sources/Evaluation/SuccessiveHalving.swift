import DiffusionQL
import Environments
import Foundation

/// Online model selection on a budget: every checkpoint is evaluated on a few episodes, the better
/// half kept, more episodes added to the survivors, and so on until one is left, evaluated on the
/// protocol's full number of episodes. With n checkpoints there are ceil(log2 n) halvings; round k
/// brings its survivors to ceil(N / 2^(rounds − k)) episodes, the same episodes (seeds) for all, and
/// adds only the episodes a survivor lacks: an episode's numbers do not depend on the episodes beside
/// it, so a checkpoint's episodes 0..<e are those of its full evaluation.
public struct SuccessiveHalving: Codable, Sendable, Equatable {
    /// One round: each checkpoint still in, with its score over the round's episodes.
    public struct Round: Codable, Sendable, Equatable {
        public let episodes: Int
        public let scores: [EpochScore]
        /// The checkpoints kept for the next round.
        public let kept: [Int]
    }

    public struct EpochScore: Codable, Sendable, Equatable {
        public let epoch: Int
        public let meanNormalizedScore: Double
        public let stderrNormalizedScore: Double

        enum CodingKeys: String, CodingKey {
            case epoch, meanNormalizedScore = "mean_normalized_score", stderrNormalizedScore = "stderr_normalized_score"
        }
    }

    public let task: String
    public let run: String
    public let seed: UInt64
    public let rounds: [Round]
    /// The chosen checkpoint's epoch and its evaluation over the full number of episodes.
    public let pick: Int
    public let pickReport: EvaluationReport
    /// Episodes run in all, and what evaluating every checkpoint fully would have run.
    public let episodesSpent: Int
    public let episodesOfFullEvaluation: Int

    enum CodingKeys: String, CodingKey {
        case task, run, seed, rounds, pick, pickReport = "pick_report", episodesSpent = "episodes_spent"
        case episodesOfFullEvaluation = "episodes_of_full_evaluation"
    }

    /// Runs the selection over `folder`'s checkpoints (with `every`, those at its multiples); `episodes`
    /// (N) defaults to the task's protocol.
    public static func run(
        _ folder: RunFolder, every: Int? = nil, taskOverride: String?, episodes: Int?, seed: UInt64, rule: ActionSelector.Rule,
        models: ModelDirectory, threads: Int, progress: (_ epoch: Int, EvaluationProgress) -> Void = { _, _ in }
    ) throws -> SuccessiveHalving {
        let epochs = try RunSelection.selectable(folder, every: every)
        var policies: [Int: (CheckpointPolicy, D4RLTask)] = [:]
        for epoch in epochs {
            policies[epoch] = try CheckpointPolicy.load(try CheckpointLocation(folder.path, epoch: epoch), taskOverride: taskOverride, rule: rule)
        }
        let task = policies[epochs[0]]!.1
        let total = episodes ?? task.defaultEvaluationEpisodes
        let evaluator = Evaluator(task: task, models: models, threads: threads)
        let halvings = Int(log2(Double(epochs.count)).rounded(.up))
        var reports: [Int: EvaluationReport] = [:], survivors = epochs, rounds: [Round] = [], spent = 0
        for round in 0...halvings {
            let target = min(total, max(1, Int((Double(total) / pow(2, Double(halvings - round))).rounded(.up))))
            for epoch in survivors {
                let done = reports[epoch]?.episodes.count ?? 0
                guard done < target else { continue }
                let more = try evaluator.evaluate(policies[epoch]!.0, episodes: total, seed: seed, only: done..<target) { progress(epoch, $0) }
                reports[epoch] = reports[epoch].map { $0.adding(more) } ?? more
                spent += target - done
            }
            let ranked = survivors.sorted { (reports[$0]!.meanNormalizedScore, $1) > (reports[$1]!.meanNormalizedScore, $0) }
            let kept = round == halvings ? Array(ranked.prefix(1)) : Array(ranked.prefix((survivors.count + 1) / 2))
            rounds.append(Round(episodes: target, scores: survivors.map { epoch in
                EpochScore(epoch: epoch, meanNormalizedScore: reports[epoch]!.meanNormalizedScore,
                           stderrNormalizedScore: reports[epoch]!.stderrNormalizedScore)
            }, kept: kept.sorted()))
            survivors = kept.sorted()
        }
        let pick = survivors[0]
        return SuccessiveHalving(task: task.name, run: folder.path, seed: seed, rounds: rounds, pick: pick, pickReport: reports[pick]!,
                                 episodesSpent: spent, episodesOfFullEvaluation: total * epochs.count)
    }

    public func table() -> String {
        var lines = ["task \(task), run \(run), successive halving"]
        for (index, round) in rounds.enumerated() {
            let scores = round.scores.map { score in
                "\(score.epoch): " + format(score.meanNormalizedScore, 2) + (round.kept.contains(score.epoch) ? "*" : "")
            }
            lines.append("round \(index + 1), \(round.episodes) episodes each: " + scores.joined(separator: ", "))
        }
        lines.append("pick: epoch \(pick), \(format(pickReport.meanNormalizedScore, 2)) ± \(format(pickReport.stderrNormalizedScore, 2)) "
            + "over \(pickReport.episodes.count) episodes; \(episodesSpent) episodes run, against \(episodesOfFullEvaluation) "
            + "to evaluate every checkpoint fully (" + format(100 * (1 - Double(episodesSpent) / Double(episodesOfFullEvaluation)), 0) + "% saved)")
        return lines.joined(separator: "\n")
    }

    public func writeJSON(to path: String) throws {
        try writeSortedJSON(self, to: path)
    }
}
