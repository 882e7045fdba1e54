import DiffusionQL
import Environments
import Foundation
import Persistence

public enum SelectionError: Error, Equatable, CustomStringConvertible {
    /// Offline selection asked for a rank the run's checkpoints do not reach.
    case noSuchRank(run: String, topK: Int, fromPreset: Bool, ranked: Int)

    public var description: String {
        switch self {
        case let .noSuchRank(run, topK, fromPreset, ranked):
            "\(run): offline selection's top_k is \(topK)\(fromPreset ? " (the run's configuration)" : ""), but the run has "
                + "\(ranked) ranked checkpoint\(ranked == 1 ? "" : "s") (top_k 0 to \(ranked - 1)); give --top-k in that range"
        }
    }
}

/// One checkpoint of a run, evaluated, with the mean L_d of the epochs it closes.
public struct CheckpointScore: Codable, Sendable, Equatable {
    public let epoch: Int
    public let meanBCLoss: Double?
    public let report: EvaluationReport

    enum CodingKeys: String, CodingKey {
        case epoch, meanBCLoss = "mean_bc_loss", report
    }
}

/// Model selection over a run's checkpoints (the paper's Section 6 and Table 4): online, the
/// checkpoint with the best evaluated score; offline, the one the training log picks without any
/// evaluation (the top_k-th lowest mean L_d).
public struct RunSelection: Codable, Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable, Codable {
        case online, offline, both
    }

    public let mode: Mode
    public let task: String
    public let run: String
    public let topK: Int
    /// Every checkpoint evaluated (online and both), or the offline choice alone.
    public let checkpoints: [CheckpointScore]
    public let onlineEpoch: Int?
    public let offlineEpoch: Int?

    /// Evaluates the checkpoints `mode` needs, each on the same seeds; `episodes` defaults to the task's
    /// protocol (100 for AntMaze, 10 for locomotion).
    public static func run(
        _ folder: RunFolder, mode: Mode, topK: Int?, taskOverride: String?, episodes: Int?, seed: UInt64,
        rule: ActionSelector.Rule, models: ModelDirectory, threads: Int,
        progress: (_ epoch: Int, EvaluationProgress) -> Void = { _, _ in }
    ) throws -> RunSelection {
        let config = try folder.readConfig()
        let epochs = folder.checkpointEpochs()
        guard !epochs.isEmpty else { throw CheckpointLocationError.noCheckpoints(path: folder.path) }
        let losses = OfflineSelection.checkpointLosses(metrics: try folder.readMetrics(), checkpointEpochs: epochs)
        let rank = topK ?? config.topK
        let offlineEpoch = OfflineSelection.choose(losses, topK: rank)?.epoch
        if mode != .online && offlineEpoch == nil {
            if losses.isEmpty {
                throw RunFolderError.badFile(path: folder.metricsPath, reason: "no logged epoch before any checkpoint, so offline selection has nothing to rank")
            }
            throw SelectionError.noSuchRank(run: folder.path, topK: rank, fromPreset: topK == nil, ranked: losses.count)
        }
        let evaluated = mode == .offline ? [offlineEpoch!] : epochs
        var scores: [CheckpointScore] = []
        var task = taskOverride
        for epoch in evaluated {
            let (policy, resolved) = try CheckpointPolicy.load(
                try CheckpointLocation(folder.path, epoch: epoch), taskOverride: task, rule: rule)
            task = resolved.name
            let report = try Evaluator(task: resolved, models: models, threads: threads)
                .evaluate(policy, episodes: episodes ?? resolved.defaultEvaluationEpisodes, seed: seed) { progress(epoch, $0) }
            scores.append(CheckpointScore(epoch: epoch, meanBCLoss: losses.first { $0.epoch == epoch }?.meanBCLoss, report: report))
        }
        let best = mode == .offline ? nil : scores.max { $0.report.meanNormalizedScore < $1.report.meanNormalizedScore }?.epoch
        return RunSelection(mode: mode, task: task!, run: folder.path, topK: rank, checkpoints: scores,
                            onlineEpoch: best, offlineEpoch: mode == .online ? nil : offlineEpoch)
    }

    public func score(ofEpoch epoch: Int?) -> CheckpointScore? {
        checkpoints.first { $0.epoch == epoch }
    }

    /// The mean normalized score of the selected checkpoint (online's best, or offline's choice).
    public var selectedScore: Double {
        score(ofEpoch: mode == .offline ? offlineEpoch : onlineEpoch)!.report.meanNormalizedScore
    }

    public func table() -> String {
        var lines = ["task \(task), run \(run), \(checkpoints.first?.report.episodes.count ?? 0) episodes per checkpoint",
                     "epoch   normalized score      mean L_d"]
        for score in checkpoints {
            var marks: [String] = []
            if score.epoch == onlineEpoch { marks.append("best (online)") }
            if score.epoch == offlineEpoch { marks.append("offline choice (top_k \(topK))") }
            lines.append(String(score.epoch).leftPadded(5)
                + (format(score.report.meanNormalizedScore, 2) + " ± " + format(score.report.stderrNormalizedScore, 2)).leftPadded(19)
                + (score.meanBCLoss.map { format($0, 4) } ?? "-").leftPadded(14)
                + (marks.isEmpty ? "" : "   " + marks.joined(separator: ", ")))
        }
        if mode == .both, let online = score(ofEpoch: onlineEpoch), let offline = score(ofEpoch: offlineEpoch) {
            lines.append("online selection: epoch \(online.epoch), \(format(online.report.meanNormalizedScore, 2)) ± "
                + "\(format(online.report.stderrNormalizedScore, 2)); offline selection: epoch \(offline.epoch), "
                + "\(format(offline.report.meanNormalizedScore, 2)) ± \(format(offline.report.stderrNormalizedScore, 2))")
        }
        return lines.joined(separator: "\n")
    }

    public func writeJSON(to path: String) throws {
        try writeSortedJSON(self, to: path)
    }

    enum CodingKeys: String, CodingKey {
        case mode, task, run, topK = "top_k", checkpoints, onlineEpoch = "online_epoch", offlineEpoch = "offline_epoch"
    }
}
