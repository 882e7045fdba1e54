import Datasets
import Environments
import Evaluation
import Foundation
import Persistence

/// A sweep written to its folder: the batch scripts and the shell line that submits them.
public struct WrittenSweep: Sendable, Equatable {
    public let scripts: [String]
    /// One line for a shell: `sbatch` of the array, and for an evaluation the merge job after it.
    public let submission: String
}

/// Training runs of a grid of tasks × seeds as one Slurm job array, one run per array task, in
/// `folder/<task>-seed<S>`. Each task runs `train` with the same command a person would, so a job
/// that is requeued resumes its run, and the runs are the same, byte for byte, as those run by hand.
public struct TrainingSweep: Sendable {
    public struct Run: Sendable, Equatable {
        public let task: String
        public let seed: UInt64
        public let folder: String
    }

    /// The sweep's folder (absolute): its script, `logs/` and the runs.
    public let folder: String
    public let runs: [Run]
    /// Where the jobs start (`--chdir`), and where each task's dataset must be.
    public let workingDirectory: String
    private let settings: TrainingOverrides

    /// `settings`: what every run sets beside its task and seed (its seed is ignored). Each task must be
    /// trainable with them (a task without the paper's preset needs eta and the gradient-norm clip), and its
    /// dataset must be where `train` reads it by default: `datasets/<D4RL file name>` under
    /// `workingDirectory` (by default the working directory), where the jobs start.
    public init(tasks: [String], seeds: [UInt64], settings: TrainingOverrides, folder: String,
                workingDirectory: String = FileManager.default.currentDirectoryPath) throws {
        try requireGrid(tasks, option: "--tasks")
        try requireGrid(seeds, option: "--seeds")
        for name in tasks {
            let task = try D4RLTask.named(name)
            _ = try OfflineTrainingSetup.configuration(for: task, overrides: settings)
            let dataset = OfflineTrainingSetup.defaultDatasetPath(for: task)
            guard FileManager.default.fileExists(atPath: absolute(dataset, from: workingDirectory)) else {
                throw SweepError.missing("\(name): its dataset \(dataset) is not in \(workingDirectory), where the jobs start and "
                    + "train reads it (collect writes it there)")
            }
        }
        self.workingDirectory = absolute(workingDirectory)
        let root = absolute(folder, from: workingDirectory)
        self.folder = root
        runs = tasks.flatMap { task in seeds.map { Run(task: task, seed: $0, folder: root + "/\(task)-seed\($0)") } }
        self.settings = settings
    }

    /// Writes `train.sbatch` (and makes `logs/`). The time limit must leave room for Slurm's warning.
    @discardableResult
    public func write(resources: SlurmResources, executables: SweepExecutables) throws -> WrittenSweep {
        guard resources.timeLimitSeconds > 2 * SlurmScript.warningSeconds else {
            throw SweepError.badOption("--time \(resources.timeLimit) is too short: Slurm warns a run \(SlurmScript.warningSeconds) s "
                + "before the limit to save and requeue, so give more than \(2 * SlurmScript.warningSeconds / 60) minutes")
        }
        let train = try executables.path(of: "train")
        let commands = runs.map { run in
            var settings = self.settings
            settings.seed = run.seed
            return [train, "--task", run.task, "--run", run.folder] + settings.trainArguments
        }
        let script = folder + "/train.sbatch"
        try prepare(folder)
        let header = ["Written by `sweep train`: \(runs.count) training runs, one per array task "
            + "(\(Set(runs.map(\.task)).count) tasks × \(Set(runs.map(\.seed)).count) seeds).",
                      "Submit: sbatch \(script)"]
        let name = URL(fileURLWithPath: folder).lastPathComponent + "-train"
        try AtomicFile.write(Data(SlurmScript.array(name: name, header: header, resources: resources,
                                                    workingDirectory: workingDirectory, logs: folder + "/logs",
                                                    commands: commands, runner: .requeuedOnWarning).utf8), to: script)
        return WrittenSweep(scripts: [script], submission: "sbatch " + SlurmScript.quoted(script))
    }
}

/// Evaluations split into shards: of a checkpoint's episodes, or with a selection of a run's checkpoints.
/// One Slurm array task per target and shard (`rollout --shard I/N --json folder/parts/...`), then a job
/// that waits for the whole array (`--dependency=afterok`) and merges each target's parts into
/// `folder/<label>.json`, the same bytes as the target evaluated whole.
public struct EvaluationSweep: Sendable {
    /// What one set of parts evaluates and merges into one report.
    public struct Target: Sendable, Equatable {
        /// The checkpoint file, or the run folder of a selection (absolute), as every command names it.
        public let path: String
        /// `<run folder>-<file name>` for a checkpoint (e.g. run7-epoch_0200), the run's name for a
        /// selection: the name of its parts and its report.
        public let label: String
        /// What its shards split: the checkpoint's episodes, or the checkpoints the selection evaluates.
        public let items: Int
        fileprivate let arguments: [String]
    }

    public let folder: String
    public let targets: [Target]
    /// The selection each run's parts make, or nil for evaluations of checkpoints.
    public let select: RunSelection.Mode?
    public let shards: Int
    private let rolloutArguments: [String]

    /// Every checkpoint is loaded and checked now (as `rollout` would), so that a bad one fails here and
    /// not in the queue; `episodes` defaults to each checkpoint task's protocol. With `select` (online or
    /// both), each argument is a run whose checkpoints are selected over, as `rollout --select` does.
    public init(checkpoints arguments: [String], select: RunSelection.Mode? = nil, topK: Int? = nil, every: Int? = nil, shards: Int,
                episodes: Int?, seed: UInt64, task: String?, deterministic: Bool, folder: String) throws {
        try requireGrid(arguments, option: "--ckpt")
        guard shards >= 1 else { throw SweepError.badOption("--shards must be at least 1 (got \(shards))") }
        if select == .offline {
            throw SweepError.badOption("--select offline evaluates one checkpoint of each run, which needs no array: run rollout --select offline")
        }
        if select == nil && topK != nil { throw SweepError.badOption("--top-k belongs to --select both") }
        if select == nil && every != nil { throw SweepError.badOption("--every belongs to --select") }
        var targets: [Target] = []
        for argument in arguments {
            let target = try select.map { mode in
                try Self.selection(of: argument, mode: mode, topK: topK, every: every, episodes: episodes, task: task, deterministic: deterministic)
            } ?? Self.evaluation(of: argument, episodes: episodes, task: task, deterministic: deterministic)
            if let same = targets.first(where: { $0.path == target.path || $0.label == target.label }) {
                throw SweepError.badOption("--ckpt \(argument) is \(target.path), which is already in the sweep as \(same.path) (\(same.label))")
            }
            guard shards <= target.items else {
                let what = select == nil ? "episodes" : "checkpoints"
                throw SweepError.badOption("--shards \(shards) is more than the \(target.items) \(what) of \(target.label): each shard needs one at least")
            }
            targets.append(target)
        }
        self.folder = absolute(folder)
        self.targets = targets
        self.select = select
        self.shards = shards
        rolloutArguments = ["--seed", String(seed)] + (task.map { ["--task", $0] } ?? []) + (deterministic ? ["--deterministic"] : [])
    }

    private static func evaluation(of argument: String, episodes: Int?, task: String?, deterministic: Bool) throws -> Target {
        let location = try CheckpointLocation(argument)
        let (_, checkpointTask) = try CheckpointPolicy.load(location, taskOverride: task, rule: deterministic ? .argmax : .softmax)
        let path = absolute(location.path), file = URL(fileURLWithPath: path)
        let count = episodes ?? checkpointTask.defaultEvaluationEpisodes
        return Target(path: path, label: file.deletingLastPathComponent().lastPathComponent + "-" + file.deletingPathExtension().lastPathComponent,
                      items: count, arguments: ["--ckpt", path, "--episodes", String(count)])
    }

    private static func selection(of argument: String, mode: RunSelection.Mode, topK: Int?, every: Int?, episodes: Int?,
                                  task: String?, deterministic: Bool) throws -> Target {
        guard let run = try CheckpointLocation(argument).run else {
            throw SweepError.badOption("--select needs runs, and \(argument) is a single checkpoint file")
        }
        let plan = try RunSelection.Plan(run, mode: mode, topK: topK, every: every)
        for epoch in plan.epochs {
            _ = try CheckpointPolicy.load(try CheckpointLocation(run.path, epoch: epoch), taskOverride: task,
                                          rule: deterministic ? .argmax : .softmax)
        }
        let path = absolute(run.path)
        return Target(path: path, label: URL(fileURLWithPath: path).lastPathComponent, items: plan.epochs.count,
                      arguments: ["--ckpt", path, "--select", mode.rawValue] + (topK.map { ["--top-k", String($0)] } ?? [])
                          + (every.map { ["--every", String($0)] } ?? [])
                          + (episodes.map { ["--episodes", String($0)] } ?? []))
    }

    /// The part `shard` (1-based) of `target` writes.
    public func partPath(_ target: Target, shard: Int) -> String {
        folder + "/parts/\(target.label).part-\(shard)-of-\(shards).json"
    }

    /// The merged report of `target`.
    public func reportPath(_ target: Target) -> String { folder + "/\(target.label).json" }

    /// Writes `evaluate.sbatch` (the array) and `merge.sbatch` (the dependent merge), and makes `logs/` and `parts/`.
    @discardableResult
    public func write(resources: SlurmResources, executables: SweepExecutables) throws -> WrittenSweep {
        let rollout = try executables.path(of: "rollout")
        let commands = targets.flatMap { target in
            (1...shards).map { shard in
                [rollout] + target.arguments + rolloutArguments
                    + ["--threads", String(resources.cpusPerTask), "--shard", "\(shard)/\(shards)", "--json", partPath(target, shard: shard)]
            }
        }
        let merges = targets.map { target in
            [rollout, "--merge"] + (1...shards).map { partPath(target, shard: $0) } + ["--json", reportPath(target)]
        }
        try prepare(folder)
        try FileManager.default.createDirectory(atPath: folder + "/parts", withIntermediateDirectories: true)
        let array = folder + "/evaluate.sbatch", merge = folder + "/merge.sbatch"
        let submission = "array=$(sbatch --parsable \(SlurmScript.quoted(array))) && "
            + "sbatch --dependency=afterok:${array%%;*} \(SlurmScript.quoted(merge))"
        let name = URL(fileURLWithPath: folder).lastPathComponent
        let workingDirectory = FileManager.default.currentDirectoryPath
        try AtomicFile.write(Data(SlurmScript.array(
            name: name + "-evaluate",
            header: ["Written by `sweep evaluate`: \(summary), one per array task; merge.sbatch merges them after.",
                     "Submit: \(submission)"],
            resources: resources, workingDirectory: workingDirectory, logs: folder + "/logs", commands: commands,
            runner: .plain).utf8), to: array)
        let mergeResources = try SlurmResources(cpusPerTask: 1, memory: resources.memory, timeLimit: resources.timeLimit,
                                                partition: resources.partition)
        try AtomicFile.write(Data(SlurmScript.single(
            name: name + "-merge",
            header: ["Written by `sweep evaluate`: merges each \(targetKind)'s parts once the whole array has succeeded.",
                     "Submit after evaluate.sbatch: \(submission)"],
            resources: mergeResources, workingDirectory: workingDirectory, logs: folder + "/logs", commands: merges).utf8), to: merge)
        return WrittenSweep(scripts: [array, merge], submission: submission)
    }
}

extension EvaluationSweep {
    /// "2 checkpoints × 4 shards of their episodes", or of the runs' checkpoints for a selection.
    public var summary: String {
        "\(targets.count) \(targetKind)\(targets.count == 1 ? "" : "s") × \(shards) shards of their \(select == nil ? "episodes" : "checkpoints")"
    }

    private var targetKind: String { select == nil ? "checkpoint" : "run" }
}

/// A grid axis must name something and name it once: two array tasks on one run folder would write the
/// same files at once.
private func requireGrid<Value: Hashable>(_ values: [Value], option: String) throws {
    guard !values.isEmpty else { throw SweepError.badOption("\(option) needs at least one value") }
    var seen: Set<Value> = []
    for value in values where !seen.insert(value).inserted {
        throw SweepError.badOption("\(option) names \(value) twice")
    }
}

/// `path` from `folder` (the working directory by default) as an absolute path, as a job on another node
/// must see it.
private func absolute(_ path: String, from folder: String = FileManager.default.currentDirectoryPath) -> String {
    URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: folder + "/")).standardizedFileURL.path
}

/// Makes the sweep's folder and its `logs/`, which Slurm needs before a job starts.
private func prepare(_ folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
}
