import ArgumentParser
import CommandLineOptions
import Evaluation
import Foundation
import Sweeps

@main
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write Slurm batch scripts for a grid of training runs or a sharded evaluation, and say how to submit them.",
        discussion: """
            Slurm schedules: sweep only writes the scripts (a job array, one task per run or shard) into \
            --folder and prints the sbatch line to run. Training jobs are requeued on Slurm's warning before \
            the time limit (the run saves its state and exits with 75); an evaluation's parts are merged by a \
            job that waits for the whole array.

            Examples: sweep train --tasks hopper-medium-v2 walker2d-medium-v2 --seeds 0 1 2 --folder sweeps/loco \\
                          --cpus-per-task 2 --mem 8G --time 1-00:00:00
                      sweep evaluate --ckpt sweeps/loco/hopper-medium-v2-seed0 run7 --shards 4 --folder sweeps/eval \\
                          --cpus-per-task 2 --mem 4G --time 1:00:00
            """,
        version: packageVersion,
        subcommands: [TrainingGrid.self, ShardedEvaluation.self])
}

/// What every job of a sweep asks Slurm for.
struct SlurmOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "CPUs of each job (rollout's --threads in an evaluation).")
    var cpusPerTask: Int

    @Option(help: "Memory of each job, as sbatch's --mem takes it (e.g. 8G).")
    var mem: String

    @Option(help: "Time limit of each job, as sbatch's --time takes it (e.g. 1-00:00:00 or 90 minutes as 90).")
    var time: String

    @Option(help: "Partition (when not given, Slurm's default).")
    var partition: String?

    @Option(help: "Node features every job needs, as sbatch's --constraint takes them (e.g. avx512f): on a cluster of mixed CPUs, keeps a sweep on machines whose numbers agree to the bit.")
    var constraint: String?

    func resources() throws -> SlurmResources {
        try usage { try SlurmResources(cpusPerTask: cpusPerTask, memory: mem, timeLimit: time, partition: partition,
                                   constraint: constraint) }
    }
}

/// Options that make no sweep are usage errors (exit 64), as for every command here.
func usage<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let SweepError.badOption(message) {
        throw ValidationError(message)
    }
}

struct TrainingGrid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train every task with every seed: one array task each, in --folder/<task>-seed<S>.",
        discussion: """
            Each job runs train as a person would (the dataset at datasets/<D4RL file name> under the working \
            directory, where the jobs start), with #SBATCH --requeue and --signal=B:USR1@120: on the warning the \
            script passes USR1 to train, which saves after its current step and exits with 75, and the job \
            requeues itself and resumes the run.
            """)

    @Option(parsing: .upToNextOption, help: "D4RL tasks, e.g. hopper-medium-v2 walker2d-medium-v2.")
    var tasks: [String] = []

    @Option(parsing: .upToNextOption, help: "Seeds, e.g. 0 1 2.")
    var seeds: [UInt64] = []

    @Option(help: "Folder of the sweep: its script, logs/ and the runs.")
    var folder: String

    @OptionGroup var settings: TrainingOptions
    @OptionGroup var slurm: SlurmOptions

    func run() throws {
        try settings.check()
        let resources = try slurm.resources()
        let sweep = try usage { try TrainingSweep(tasks: tasks, seeds: seeds, settings: settings.overrides, folder: folder) }
        let written = try usage { try sweep.write(resources: resources, executables: .besideThisOne) }
        print("wrote \(written.scripts.joined(separator: ", ")): \(sweep.runs.count) runs in \(sweep.folder); submit with")
        print(written.submission)
    }
}

struct ShardedEvaluation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate checkpoints in shards of their episodes, or select over runs' checkpoints in shards, then merge each one's parts.",
        discussion: """
            One array task per checkpoint and shard runs rollout --shard I/N --json --folder/parts/...; a job \
            submitted with --dependency=afterok on the array merges each checkpoint's parts into \
            --folder/<run>-<checkpoint>.json, the same bytes as the checkpoint evaluated whole. With --select, \
            each --ckpt is a run whose checkpoints the shards split, merged into --folder/<run>.json, the same \
            bytes as rollout --select run whole.
            """)

    @Option(parsing: .upToNextOption, help: "Checkpoints, as rollout's --ckpt takes them: a run's name or folder (its newest checkpoint), or a file; with --select, runs.")
    var ckpt: [String] = []

    @Option(help: "Model selection over each run's checkpoints, as rollout's: online (every checkpoint evaluated, the best taken) or both (and the offline choice).")
    var select: RunSelection.Mode?

    @Option(parsing: .unconditional, help: "With --select both: rank of offline selection, 0 = lowest mean L_d (default: the task preset's top_k).")
    var topK: Int?

    @Option(parsing: .unconditional, help: "With --select: the checkpoints at multiples of K epochs only, as rollout's --every.")
    var every: Int?

    @Option(parsing: .unconditional, help: "Shards of each checkpoint's episodes, or with --select of each run's checkpoints.")
    var shards: Int

    @Option(parsing: .unconditional, help: "Episodes of each checkpoint (default: the paper's protocol, 100 for AntMaze and 10 for locomotion).")
    var episodes: Int?

    @Option(parsing: .unconditional, help: "Seed of the environments' reset noise and of the policy's sampling.")
    var seed: UInt64 = 0

    @Option(help: "D4RL task to evaluate on (default: each checkpoint's own).")
    var task: String?

    @Flag(help: "Take the candidate with the highest Q instead of drawing from softmax(Q).")
    var deterministic = false

    @Option(help: "Folder of the sweep: its scripts, logs/, parts/ and the merged reports.")
    var folder: String

    @OptionGroup var slurm: SlurmOptions

    func run() throws {
        try OptionCheck.atLeast(1, ("--shards", shards), ("--episodes", episodes), ("--every", every))
        try OptionCheck.atLeast(0, ("--top-k", topK))
        let resources = try slurm.resources()
        let sweep = try usage {
            try EvaluationSweep(checkpoints: ckpt, select: select, topK: topK, every: every, shards: shards, episodes: episodes, seed: seed,
                                task: task, deterministic: deterministic, folder: folder)
        }
        let written = try usage { try sweep.write(resources: resources, executables: .besideThisOne) }
        print("wrote \(written.scripts.joined(separator: ", ")): \(sweep.summary); "
            + "reports \(sweep.targets.map { sweep.reportPath($0) }.joined(separator: ", ")); submit with")
        print(written.submission)
    }
}
