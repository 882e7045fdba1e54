import CleanProcesses
import Foundation
import Testing

/// `sweep` for real: a one-node Slurm cluster on this machine (`LocalSlurm`) runs a training grid, with
/// one job stopped by Slurm's warning signal and requeued, a sharded evaluation and a sharded model
/// selection, each with its merge job;
/// every file comes out as the same work run by hand gives it, byte for byte.
@Suite struct SlurmSweepTests {
    @Test func aSweepOnSlurmWritesTheFilesOfTheSameWorkRunByHand() throws {
        let slurm: LocalSlurm
        do {
            slurm = try LocalSlurm.start()
        } catch let unavailable as LocalSlurm.Unavailable {
            try Test.cancel("skipped: no Slurm cluster could be started on this machine: \(unavailable)")
        }
        defer { slurm.stop() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let tasks = ["hopper-medium-v2", "hopper-medium-replay-v2"], seeds = ["0", "1"]
        // Runs long enough (about 10 s on a loaded 2-core machine) that the warning reaches the first one
        // while it trains.
        let settings = ["--epochs", "2", "--steps-per-epoch", "25", "--save-every", "1"]
        // One small file of random actions serves as both tasks' data: each task only names its file.
        let made = try CommandLineTests.run(["collect", "--env", "hopper", "--level", "random", "--transitions", "2000",
                                             "--out", work + "/datasets/hopper_medium-v2.hdf5"])
        try #require(made.status == 0, "\(made)")
        try FileManager.default.copyItem(atPath: work + "/datasets/hopper_medium-v2.hdf5", toPath: work + "/datasets/hopper_medium_replay-v2.hdf5")
        let run7 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("checkpoints/run7").path
        let checkpoint = run7 + "/epoch_0200.safetensors"
        let resources = ["--cpus-per-task", "1", "--mem", "256M", "--time", "10"]

        let training = try CommandLineTests.run(["sweep", "train", "--tasks"] + tasks + ["--seeds"] + seeds + ["--folder", "grid"]
            + settings + resources, in: work)
        try #require(training.status == 0, "\(training)")
        let evaluation = try CommandLineTests.run(["sweep", "evaluate", "--ckpt", checkpoint, "--shards", "2", "--episodes", "3",
                                                   "--folder", "evaluation"] + resources, in: work)
        try #require(evaluation.status == 0, "\(evaluation)")
        // Online selection over run7's four checkpoints, one episode each, in two shards of two checkpoints.
        let selection = try CommandLineTests.run(["sweep", "evaluate", "--ckpt", run7, "--select", "online", "--shards", "2",
                                                  "--episodes", "1", "--folder", "selection"] + resources, in: work)
        try #require(selection.status == 0, "\(selection)")
        func submit(_ outcome: CommandLineTests.Outcome) throws -> String {
            let line = try #require(outcome.output.split(separator: "\n").last.map(String.init))
            let submitted = try CleanProcess.run("/bin/bash", ["-c", line], environment: slurm.environment)
            try #require(submitted.status == 0, "\(line): \(submitted.output)")
            return submitted.output
        }
        let arrayJob = try #require(try submit(training).split(separator: " ").last.map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines))
        _ = try submit(evaluation)
        _ = try submit(selection)

        // Slurm's warning to the first run once it is under way (its configuration is written after the
        // handlers are installed), as the time limit would send it: the run stops, the job requeues itself.
        let firstRun = work + "/grid/\(tasks[0])-seed0"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: firstRun + "/config.json") && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        // scancel fails (exit 229 seen) while Slurm still counts the job as starting: try again briefly. On a
        // loaded machine it has also failed after the signal went through, so it tries again only when
        // the run has not said that it stopped: a second signal would stop the requeued job as well.
        let firstLogPath = work + "/grid/logs/grid-train-\(arrayJob)_0.out"
        func runStopped(within seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            repeat {
                if let log = try? String(contentsOfFile: firstLogPath, encoding: .utf8), log.contains("stopped by SIGUSR1") { return true }
                Thread.sleep(forTimeInterval: 0.05)
            } while Date() < deadline
            return false
        }
        var signalled: (any Error)?
        for _ in 0..<20 {
            do {
                _ = try slurm.command("scancel", ["--batch", "--signal=USR1", arrayJob + "_0"])
                signalled = nil
                break
            } catch {
                signalled = error
                if runStopped(within: 2) {
                    signalled = nil
                    break
                }
            }
        }
        if let signalled { throw signalled }
        let drained = slurm.waitForEmptyQueue(seconds: 180)
        let logs = try FileManager.default.contentsOfDirectory(atPath: work + "/grid/logs").sorted().map { name in
            "\(name):\n" + ((try? String(contentsOfFile: work + "/grid/logs/" + name, encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
        try #require(drained, "the jobs did not finish in 180 s: \((try? slurm.command("squeue", [])) ?? "")\n\(logs)\n\(slurm.logs())")
        let firstLog = (try? String(contentsOfFile: firstLogPath, encoding: .utf8)) ?? ""
        #expect(firstLog.contains("stopped by SIGUSR1") && firstLog.contains("requeueing job") && firstLog.contains("resuming"), "\(logs)")

        // The same work by hand.
        for task in tasks {
            for seed in seeds {
                let run = try CommandLineTests.run(["train", "--task", task, "--run", work + "/by-hand/\(task)-seed\(seed)", "--seed", seed]
                    + settings, in: work)
                try #require(run.status == 0, "\(run)")
                let names = try FileManager.default.contentsOfDirectory(atPath: work + "/by-hand/\(task)-seed\(seed)").sorted()
                let swept = work + "/grid/\(task)-seed\(seed)"
                #expect(try FileManager.default.contentsOfDirectory(atPath: swept).sorted() == names, "\(logs)")
                for name in names {
                    #expect(FileManager.default.contents(atPath: swept + "/" + name)
                            == FileManager.default.contents(atPath: work + "/by-hand/\(task)-seed\(seed)/" + name), "\(task) seed \(seed): \(name)")
                }
            }
        }
        let whole = try CommandLineTests.run(["rollout", "--ckpt", checkpoint, "--episodes", "3", "--seed", "0", "--json", work + "/by-hand.json"])
        try #require(whole.status == 0, "\(whole)")
        let merged = FileManager.default.contents(atPath: work + "/evaluation/run7-epoch_0200.json")
        #expect(merged != nil && merged == FileManager.default.contents(atPath: work + "/by-hand.json"),
                "\((try? FileManager.default.contentsOfDirectory(atPath: work + "/evaluation/logs")) ?? [])")
        let wholeSelection = try CommandLineTests.run(["rollout", "--ckpt", run7, "--select", "online", "--episodes", "1",
                                                       "--json", work + "/selection-by-hand.json"])
        try #require(wholeSelection.status == 0, "\(wholeSelection)")
        let mergedSelection = FileManager.default.contents(atPath: work + "/selection/run7.json")
        #expect(mergedSelection != nil && mergedSelection == FileManager.default.contents(atPath: work + "/selection-by-hand.json"),
                "\((try? FileManager.default.contentsOfDirectory(atPath: work + "/selection/logs")) ?? [])")
    }
}
