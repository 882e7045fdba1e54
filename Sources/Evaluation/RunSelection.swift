import DiffusionQL
import Environments
import Foundation
import Persistence

public enum SelectionError: Error, Equatable, CustomStringConvertible {
    /// Offline selection asked for a rank the run's checkpoints do not reach.
    case noSuchRank(run: String, topK: Int, fromPreset: Bool, ranked: Int)
    case emptyShard(run: String, shard: Shard, checkpoints: Int)
    /// `--every` left none of the run's checkpoints.
    case noneAtInterval(run: String, every: Int, epochs: [Int])

    public var description: String {
        switch self {
        case let .noSuchRank(run, topK, fromPreset, ranked):
            "\(run): offline selection's top_k is \(topK)\(fromPreset ? " (the run's configuration)" : ""), but the run has "
                + "\(ranked) ranked checkpoint\(ranked == 1 ? "" : "s") (top_k 0 to \(ranked - 1)); give --top-k in that range"
        case let .emptyShard(run, shard, checkpoints):
            "\(run): shard \(shard) of \(checkpoints) checkpoints holds none; use at most \(checkpoints) shards"
        case let .noneAtInterval(run, every, epochs):
            "\(run): none of its checkpoints (epochs \(epochs.map(String.init).joined(separator: ", "))) is at a multiple of "
                + "\(every) epochs; give another --every"
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
    /// For a part of a sharded selection, which part of which checkpoints; nil for a whole one.
    public let part: PartOfWhole?

    /// Evaluates the checkpoints `mode` needs, each on the same seeds; `episodes` defaults to the task's
    /// protocol (100 for AntMaze, 10 for locomotion). With a shard, only that part's block of the
    /// checkpoints (online and both), each evaluated whole. With `every`, only the checkpoints at its
    /// multiples (`selectable(_:every:)`).
    public static func run(
        _ folder: RunFolder, mode: Mode, topK: Int?, every: Int? = nil, taskOverride: String?, episodes: Int?, seed: UInt64,
        rule: ActionSelector.Rule, models: ModelDirectory, threads: Int, shard: Shard? = nil,
        progress: (_ epoch: Int, EvaluationProgress) -> Void = { _, _ in }
    ) throws -> RunSelection {
        let plan = try Plan(folder, mode: mode, topK: topK, every: every)
        let part = shard.map { PartOfWhole(shard: $0, items: plan.epochs) }
        let evaluated = part.map { Array($0.mine) } ?? plan.epochs
        if let shard, evaluated.isEmpty { throw SelectionError.emptyShard(run: folder.path, shard: shard, checkpoints: plan.epochs.count) }
        let losses = plan.losses, offlineEpoch = plan.offlineEpoch, rank = plan.rank
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
        return RunSelection(mode: mode, task: task!, run: folder.path, topK: rank, checkpoints: scores,
                            offlineEpoch: mode == .online ? nil : offlineEpoch, part: part)
    }

    /// What a selection of a run evaluates, read from the run's files before any evaluation.
    public struct Plan: Sendable {
        /// The epochs of the checkpoints `mode` evaluates: every one (online and both) or the offline choice.
        public let epochs: [Int]
        /// The offline choice (the `rank`-th lowest mean L_d); nil when the run ranks none at `rank`.
        public let offlineEpoch: Int?
        public let rank: Int
        let losses: [CheckpointLoss]

        /// Throws where `mode` cannot select over the run: no checkpoints (at `every`'s multiples), or
        /// none ranked at `topK` (the run's preset when nil) for offline and both.
        public init(_ folder: RunFolder, mode: Mode, topK: Int?, every: Int? = nil) throws {
            let config = try folder.readConfig()
            let epochs = try RunSelection.selectable(folder, every: every)
            losses = OfflineSelection.checkpointLosses(metrics: try folder.readMetrics(), checkpointEpochs: epochs)
            rank = topK ?? config.topK
            offlineEpoch = OfflineSelection.choose(losses, topK: rank)?.epoch
            if mode != .online && offlineEpoch == nil {
                if losses.isEmpty {
                    throw RunFolderError.badFile(path: folder.metricsPath, reason: "no logged epoch before any checkpoint, so offline selection has nothing to rank")
                }
                throw SelectionError.noSuchRank(run: folder.path, topK: rank, fromPreset: topK == nil, ranked: losses.count)
            }
            self.epochs = mode == .offline ? [offlineEpoch!] : epochs
        }
    }

    /// The run's checkpoint epochs a selection chooses among: all of them, or with `every` those at its
    /// multiples, as the reference evaluates every 50 epochs of a run that saved more often. Offline
    /// selection's blocks of L_d then run between these checkpoints.
    public static func selectable(_ folder: RunFolder, every: Int?) throws -> [Int] {
        let all = folder.checkpointEpochs()
        guard !all.isEmpty else { throw CheckpointLocationError.noCheckpoints(path: folder.path) }
        guard let every else { return all }
        let kept = all.filter { $0 % every == 0 }
        guard !kept.isEmpty else { throw SelectionError.noneAtInterval(run: folder.path, every: every, epochs: all) }
        return kept
    }

    init(mode: Mode, task: String, run: String, topK: Int, checkpoints: [CheckpointScore], offlineEpoch: Int?,
         part: PartOfWhole?) {
        self.mode = mode
        self.task = task
        self.run = run
        self.topK = topK
        self.checkpoints = checkpoints
        self.offlineEpoch = offlineEpoch
        self.part = part
        // A part cannot tell the best of the whole.
        onlineEpoch = mode == .offline || part != nil
            ? nil : checkpoints.max { $0.report.meanNormalizedScore < $1.report.meanNormalizedScore }?.epoch
    }

    /// The whole selection from its parts (each with the file it came from): the same report as the
    /// selection unsharded. Parts that are missing, repeated, of another run, or that disagree on the
    /// settings are refused by name.
    public static func merge(_ parts: [(file: String, selection: RunSelection)]) throws -> RunSelection {
        try Merging.requireWhole(parts.map { file, selection in
            (file, selection.part, ["run": selection.run, "task": selection.task, "mode": selection.mode.rawValue,
                                    "top_k": String(selection.topK), "offline epoch": selection.offlineEpoch.map(String.init) ?? "none",
                                    "seed": selection.checkpoints.first.map { String($0.report.seed) } ?? "none",
                                    "products": selection.checkpoints.first.map { $0.report.arithmetic ?? "not recorded" } ?? "none"])
        })
        let first = parts[0].selection
        let scores = parts.flatMap(\.selection.checkpoints).sorted { $0.epoch < $1.epoch }
        guard scores.map(\.epoch) == first.part!.items else {
            throw ShardError.partsDoNotFit(reason: "the parts' checkpoints are not each of epochs "
                + first.part!.items.map(String.init).joined(separator: ", ") + " once")
        }
        return RunSelection(mode: first.mode, task: first.task, run: first.run, topK: first.topK, checkpoints: scores,
                            offlineEpoch: first.offlineEpoch, part: nil)
    }

    public func score(ofEpoch epoch: Int?) -> CheckpointScore? {
        checkpoints.first { $0.epoch == epoch }
    }

    /// The mean normalized score of the selected checkpoint (online's best, or offline's choice); nil
    /// for a part, which cannot tell.
    public var selectedScore: Double? {
        score(ofEpoch: mode == .offline ? offlineEpoch : onlineEpoch)?.report.meanNormalizedScore
    }

    public func table() -> String {
        // A goal-reaching task's checkpoints, all evaluated since distances were recorded, get a column of
        // their mean final distance to the goal.
        let showsDistances = !checkpoints.isEmpty && checkpoints.allSatisfy { $0.report.meanFinalDistance != nil }
        var lines = ["task \(task), run \(run), \(checkpoints.first?.report.episodes.count ?? 0) episodes per checkpoint"
                        + (part.map { ", part \($0.shard) of \($0.items.count) checkpoints" } ?? ""),
                     "epoch   normalized score      mean L_d" + (showsDistances ? "   final distance" : "")]
        for score in checkpoints {
            var marks: [String] = []
            if score.epoch == onlineEpoch { marks.append("best (online)") }
            if score.epoch == offlineEpoch { marks.append("offline choice (top_k \(topK))") }
            lines.append(String(score.epoch).leftPadded(5)
                + (format(score.report.meanNormalizedScore, 2) + " ± " + format(score.report.stderrNormalizedScore, 2)).leftPadded(19)
                + (score.meanBCLoss.map { format($0, 4) } ?? "-").leftPadded(14)
                + (showsDistances ? (format(score.report.meanFinalDistance ?? .nan, 2) + " m").leftPadded(17) : "")
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
        case mode, task, run, topK = "top_k", checkpoints, onlineEpoch = "online_epoch", offlineEpoch = "offline_epoch", part
    }
}
