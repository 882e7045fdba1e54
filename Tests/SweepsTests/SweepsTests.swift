import CleanProcesses
import Datasets
import Evaluation
import Foundation
import Sweeps
import Testing

/// The batch scripts `sweep` writes, their checks, and the training script's signal handling run by
/// bash with stand-ins for `train` and `scontrol` (SlurmSweepTests runs whole sweeps on Slurm itself).
@Suite struct SweepsTests {
    /// A folder with the tasks' datasets (empty files: a sweep only checks that they are there) and
    /// `bin/` for stand-in executables; removed afterwards.
    final class Workspace {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sweeps-\(UUID().uuidString)").path

        init(datasets: [String] = ["hopper_medium-v2.hdf5", "walker2d_medium-v2.hdf5"]) throws {
            try FileManager.default.createDirectory(atPath: path + "/datasets", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: path + "/bin", withIntermediateDirectories: true)
            for name in datasets { _ = FileManager.default.createFile(atPath: path + "/datasets/" + name, contents: nil) }
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// A bash script at bin/NAME.
        func standIn(_ name: String, _ body: String) throws {
            try ("#!/bin/bash\n" + body + "\n").write(toFile: path + "/bin/" + name, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path + "/bin/" + name)
        }

        var executables: SweepExecutables { SweepExecutables(folder: path + "/bin") }
    }

    static let resources = try! SlurmResources(cpusPerTask: 2, memory: "8G", timeLimit: "1-00:00:00", partition: "batch",
                                               constraint: "avx512f")

    @Test(arguments: [("90", 5400), ("90:30", 5430), ("2:00:00", 7200), ("1-0", 86_400), ("1-2:30", 95_400), ("2-00:00:10", 172_810)])
    func timeLimitsAreReadAsSbatchReadsThem(_ text: String, seconds: Int) throws {
        #expect(try SlurmResources(cpusPerTask: 1, memory: "1G", timeLimit: text, partition: nil).timeLimitSeconds == seconds)
    }

    @Test(arguments: [
        (0, "8G", "10", nil, nil, "--cpus-per-task must be at least 1 (got 0)"),
        (1, "8 G", "10", nil, nil, "--mem must be a size as Slurm takes it"),
        (1, "G", "10", nil, nil, "--mem must be a size as Slurm takes it"),
        (1, "8G", "1:2:3:4", nil, nil, "--time must be a time limit as Slurm takes it"),
        (1, "8G", "a day", nil, nil, "(got 'a day')"),
        (1, "8G", "0", nil, nil, "--time must be a time limit"),
        (1, "8G", "10", "gpu;rm", nil, "--partition must be a partition's name"),
        (1, "8G", "10", nil, "avx2 $(rm)", "--constraint must be node features as Slurm takes them"),
        (1, "8G", "10", nil, "", "--constraint must be node features"),
    ] as [(Int, String, String, String?, String?, String)])
    func badResourcesAreRefusedNamingTheOption(_ cpus: Int, memory: String, time: String, partition: String?, constraint: String?,
                                               message: String) {
        let error = #expect(throws: SweepError.self) {
            try SlurmResources(cpusPerTask: cpus, memory: memory, timeLimit: time, partition: partition, constraint: constraint)
        }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func aTrainingGridIsOneArrayTaskPerTaskAndSeed() throws {
        let workspace = try Workspace()
        try workspace.standIn("train", "exit 0")
        var settings = TrainingOverrides()
        settings.epochs = 3
        settings.eta = 0.5
        settings.earlyStop = true
        let sweep = try TrainingSweep(tasks: ["hopper-medium-v2", "walker2d-medium-v2"], seeds: [0, 7], settings: settings,
                                      folder: "grid", workingDirectory: workspace.path)
        let written = try sweep.write(resources: Self.resources, executables: workspace.executables)
        #expect(written.submission == "sbatch \(workspace.path)/grid/train.sbatch")
        let script = try String(contentsOfFile: workspace.path + "/grid/train.sbatch", encoding: .utf8)
        for directive in ["--array=0-3", "--cpus-per-task=2", "--mem=8G", "--time=1-00:00:00", "--partition=batch",
                          "--constraint=avx512f", "--requeue",
                          "--signal=B:USR1@120", "--chdir=\(workspace.path)", "--output=\(workspace.path)/grid/logs/%x-%A_%a.out"] {
            #expect(script.contains("#SBATCH \(directive)\n"), "\(directive)")
        }
        #expect(script.contains("  3) run=(\(workspace.path)/bin/train --task walker2d-medium-v2 --run \(workspace.path)/grid/walker2d-medium-v2-seed7 "
            + "--epochs 3 --seed 7 --eta 0.5 --early-stop) ;;"), "\(script)")
        #expect(FileManager.default.fileExists(atPath: workspace.path + "/grid/logs"))
    }

    @Test func badGridsAreRefusedWithWhatIsWrong() throws {
        let workspace = try Workspace()
        try workspace.standIn("train", "exit 0")
        func refusal(_ tasks: [String], _ seeds: [UInt64], _ settings: TrainingOverrides = TrainingOverrides(),
                     resources: SlurmResources = SweepsTests.resources) -> String {
            do {
                _ = try TrainingSweep(tasks: tasks, seeds: seeds, settings: settings, folder: "grid", workingDirectory: workspace.path)
                    .write(resources: resources, executables: workspace.executables)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal([], [0]) == "--tasks needs at least one value")
        #expect(refusal(["hopper-medium-v2"], [0, 1, 0]) == "--seeds names 0 twice")
        #expect(refusal(["hopper-medium-v2", "hopper-medium-v2"], [0]) == "--tasks names hopper-medium-v2 twice")
        #expect(refusal(["hopper-medium-replay-v2"], [0]).hasPrefix("hopper-medium-replay-v2: its dataset datasets/hopper_medium_replay-v2.hdf5 is not in"))
        #expect(refusal(["hopper-expert-v2"], [0]).hasPrefix("the paper's hyperparameter table has no row for hopper-expert-v2"))
        #expect(refusal(["hopper-bogus-v2"], [0]).contains("hopper-bogus-v2"))
        let short = try SlurmResources(cpusPerTask: 1, memory: "1G", timeLimit: "4", partition: nil)
        #expect(refusal(["hopper-medium-v2"], [0], resources: short).hasPrefix("--time 4 is too short"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path + "/grid/train.sbatch"))
        #expect(throws: SweepError.self) {
            try TrainingSweep(tasks: ["hopper-medium-v2"], seeds: [0], settings: TrainingOverrides(), folder: "grid", workingDirectory: workspace.path)
                .write(resources: Self.resources, executables: SweepExecutables(folder: workspace.path + "/no-such-folder"))
        }
    }

    /// The training script under bash as Slurm would run it: Slurm's warning (USR1 to the shell) reaches the
    /// run, which exits with 75, and the job requeues itself; a TERM (scancel, a preemption) reaches the
    /// run too, but the job is left to Slurm; a run that ends by itself is not requeued.
    @Test(arguments: [("USR1", Int32(75), true), ("TERM", Int32(75), false), (nil, Int32(0), false)] as [(String?, Int32, Bool)])
    func theTrainingScriptPassesSignalsOnAndRequeuesOnTheWarning(_ signalName: String?, status: Int32, requeued: Bool) throws {
        let workspace = try Workspace()
        let path = workspace.path
        // The stand-in run says it has started, then on USR1 "saves" for a moment and exits with 75.
        try workspace.standIn("train", """
            trap 'sleep 0.2; echo saved >> \(path)/run.log; exit 75' USR1
            echo started >> \(path)/run.log
            [ -n "$STAND_IN_FINISHES" ] && exit 0
            while :; do sleep 0.05; done
            """)
        try workspace.standIn("scontrol", "echo \"$@\" >> \(path)/scontrol.log")
        let sweep = try TrainingSweep(tasks: ["hopper-medium-v2"], seeds: [0], settings: TrainingOverrides(), folder: "grid",
                                      workingDirectory: path)
        try sweep.write(resources: Self.resources, executables: workspace.executables)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = path + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["SLURM_ARRAY_TASK_ID"] = "0"
        environment["SLURM_JOB_ID"] = "4242"
        if signalName == nil { environment["STAND_IN_FINISHES"] = "1" }
        let batch = try CleanProcess.start("/bin/bash", [path + "/grid/train.sbatch"], environment: environment, output: path + "/batch.out")
        if let signalName {
            let deadline = Date().addingTimeInterval(30)
            while (try? String(contentsOfFile: path + "/run.log", encoding: .utf8)) == nil && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            kill(batch, signalName == "USR1" ? SIGUSR1 : SIGTERM)
        }
        #expect(CleanProcess.waitForExit(batch) == status)
        let log = (try? String(contentsOfFile: path + "/run.log", encoding: .utf8)) ?? ""
        #expect(log == (signalName == nil ? "started\n" : "started\nsaved\n"))
        let scontrol = try? String(contentsOfFile: path + "/scontrol.log", encoding: .utf8)
        #expect(scontrol == (requeued ? "requeue 4242\n" : nil))
    }

    @Test func anEvaluationIsOneArrayTaskPerCheckpointAndShardAndAMergeAfter() throws {
        let workspace = try Workspace()
        try workspace.standIn("rollout", "exit 0")
        let sweep = try EvaluationSweep(checkpoints: ["run7"], shards: 2, episodes: nil, seed: 3, task: nil, deterministic: true,
                                        folder: workspace.path + "/evaluation")
        #expect(sweep.targets.map(\.label) == ["run7-epoch_0200"] && sweep.targets[0].items == 10)
        let written = try sweep.write(resources: Self.resources, executables: workspace.executables)
        let folder = workspace.path + "/evaluation"
        #expect(written.submission == "array=$(sbatch --parsable \(folder)/evaluate.sbatch) && "
            + "sbatch --dependency=afterok:${array%%;*} \(folder)/merge.sbatch")
        let array = try String(contentsOfFile: folder + "/evaluate.sbatch", encoding: .utf8)
        let checkpoint = sweep.targets[0].path
        #expect(array.contains("#SBATCH --array=0-1\n") && !array.contains("--signal"))
        #expect(array.contains("  1) run=(\(workspace.path)/bin/rollout --ckpt \(checkpoint) --episodes 10 --seed 3 --deterministic "
            + "--threads 2 --shard 2/2 --json \(folder)/parts/run7-epoch_0200.part-2-of-2.json) ;;"), "\(array)")
        let merge = try String(contentsOfFile: folder + "/merge.sbatch", encoding: .utf8)
        #expect(merge.contains("#SBATCH --kill-on-invalid-dep=yes\n") && merge.contains("#SBATCH --cpus-per-task=1\n"))
        #expect(merge.contains("\n\(workspace.path)/bin/rollout --merge \(folder)/parts/run7-epoch_0200.part-1-of-2.json "
            + "\(folder)/parts/run7-epoch_0200.part-2-of-2.json --json \(folder)/run7-epoch_0200.json\n"), "\(merge)")
        #expect(FileManager.default.fileExists(atPath: folder + "/parts"))
    }

    @Test func aSelectionSplitsEachRunsCheckpointsIntoShards() throws {
        let workspace = try Workspace()
        try workspace.standIn("rollout", "exit 0")
        let sweep = try EvaluationSweep(checkpoints: ["run7"], select: .both, topK: 1, shards: 2, episodes: 3, seed: 0, task: nil,
                                        deterministic: false, folder: workspace.path + "/selection")
        #expect(sweep.targets.map(\.label) == ["run7"] && sweep.targets[0].items == 4)
        #expect(sweep.summary == "1 run × 2 shards of their checkpoints")
        _ = try sweep.write(resources: Self.resources, executables: workspace.executables)
        let folder = workspace.path + "/selection", run = sweep.targets[0].path
        #expect(run.hasSuffix("/checkpoints/run7"))
        let array = try String(contentsOfFile: folder + "/evaluate.sbatch", encoding: .utf8)
        #expect(array.contains("  0) run=(\(workspace.path)/bin/rollout --ckpt \(run) --select both --top-k 1 --episodes 3 --seed 0 "
            + "--threads 2 --shard 1/2 --json \(folder)/parts/run7.part-1-of-2.json) ;;"), "\(array)")
        let merge = try String(contentsOfFile: folder + "/merge.sbatch", encoding: .utf8)
        #expect(merge.contains("\n\(workspace.path)/bin/rollout --merge \(folder)/parts/run7.part-1-of-2.json "
            + "\(folder)/parts/run7.part-2-of-2.json --json \(folder)/run7.json\n"), "\(merge)")

        let every100 = try EvaluationSweep(checkpoints: ["run7"], select: .online, every: 100, shards: 2, episodes: 3, seed: 0,
                                           task: nil, deterministic: false, folder: workspace.path + "/every100")
        #expect(every100.targets[0].items == 2)
        _ = try every100.write(resources: Self.resources, executables: workspace.executables)
        let everyArray = try String(contentsOfFile: workspace.path + "/every100/evaluate.sbatch", encoding: .utf8)
        #expect(everyArray.contains("--select online --every 100 --episodes 3 --seed 0"), "\(everyArray)")
    }

    @Test func badEvaluationsAreRefusedWithWhatIsWrong() throws {
        func refusal(_ checkpoints: [String], shards: Int, episodes: Int? = nil) -> String {
            do {
                _ = try EvaluationSweep(checkpoints: checkpoints, shards: shards, episodes: episodes, seed: 0, task: nil,
                                        deterministic: false, folder: "/tmp/never")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal([], shards: 1) == "--ckpt needs at least one value")
        #expect(refusal(["run7"], shards: 11) == "--shards 11 is more than the 10 episodes of run7-epoch_0200: each shard needs one at least")
        #expect(refusal(["run7"], shards: 4, episodes: 3).hasPrefix("--shards 4 is more than the 3 episodes"))
        let file = try #require(try? EvaluationSweep(checkpoints: ["run7"], shards: 1, episodes: nil, seed: 0, task: nil,
                                                      deterministic: false, folder: "/tmp/never").targets[0].path)
        #expect(refusal(["run7", file], shards: 1).contains("which is already in the sweep"))
        #expect(refusal(["no-such-run"], shards: 1).contains("no run or checkpoint 'no-such-run'"))
        func selectionRefusal(_ mode: RunSelection.Mode, _ arguments: [String], shards: Int = 1, topK: Int? = nil) -> String {
            do {
                _ = try EvaluationSweep(checkpoints: arguments, select: mode, topK: topK, shards: shards, episodes: nil, seed: 0,
                                        task: nil, deterministic: false, folder: "/tmp/never")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(selectionRefusal(.online, ["run7"], shards: 5) == "--shards 5 is more than the 4 checkpoints of run7: each shard needs one at least")
        #expect(selectionRefusal(.online, [file]) == "--select needs runs, and \(file) is a single checkpoint file")
        #expect(selectionRefusal(.offline, ["run7"]).hasPrefix("--select offline evaluates one checkpoint of each run"))
        #expect(selectionRefusal(.both, ["run7"], topK: 9).contains("offline selection's top_k is 9"))
        #expect(throws: SweepError.badOption("--every belongs to --select")) {
            try EvaluationSweep(checkpoints: ["run7"], every: 50, shards: 1, episodes: nil, seed: 0, task: nil, deterministic: false,
                                folder: "/tmp/never")
        }
        #expect(throws: SweepError.badOption("--top-k belongs to --select both")) {
            try EvaluationSweep(checkpoints: ["run7"], topK: 1, shards: 1, episodes: nil, seed: 0, task: nil, deterministic: false,
                                folder: "/tmp/never")
        }
    }
}
