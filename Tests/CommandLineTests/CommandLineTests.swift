import Benchmarks
import CommandLineOptions
import Foundation
import NeuralNet
import Testing

/// The executables as a user meets them, built beside this test bundle by `swift test`.
@Suite struct CommandLineTests {
    struct Outcome: CustomStringConvertible {
        let status: Int32
        let output: String
        let errors: String

        var description: String { "exit \(status)\nstdout: \(output)\nstderr: \(errors)" }
    }

    /// Runs an executable of this build (in `directory`, by default this process's working directory, and
    /// with `environment` added to this process's); with `signal`, sends it that signal `after` seconds.
    static func run(_ arguments: [String], signal: Int32? = nil, after delay: Double = 0, in directory: String? = nil,
                    environment: [String: String] = [:]) throws -> Outcome {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let binary = folder.appendingPathComponent(arguments[0])
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "\(binary.path) is not built")
        let process = Process()
        process.executableURL = binary
        process.arguments = Array(arguments.dropFirst())
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        if let signal {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { kill(pid, signal) }
        }
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                       errors: String(decoding: errorData, as: UTF8.self))
    }

    @Test(arguments: ["rollout", "train", "collect", "conformance", "bench", "bandit", "policy", "sweep"])
    func everyExecutablePrintsThePackageVersion(_ executable: String) throws {
        let outcome = try Self.run([executable, "--version"])
        #expect(outcome.status == 0 && outcome.output == packageVersion + "\n", "\(outcome)")
    }

    @Test func negativeAndNaNValuesAreReportedAsWhatTheyAre() throws {
        let episodes = try Self.run(["rollout", "--ckpt", "run7", "--episodes", "-3"])
        #expect(episodes.status == 64 && episodes.errors.contains("--episodes must be at least 1 (got -3)"), "\(episodes)")
        let threshold = try Self.run(["rollout", "--ckpt", "run7", "--min-score", "nan"])
        #expect(threshold.status == 64 && threshold.errors.contains("--min-score must be a number"), "\(threshold)")
        let steps = try Self.run(["collect", "sac", "--env", "hopper", "--steps", "-5"])
        #expect(steps.status == 64 && steps.errors.contains("--steps must be at least 1 (got -5)"), "\(steps)")
    }

    /// Values out of range and outputs that could not be written: refused before any work, with the
    /// option or the path named (64: a usage error, 1: an input error).
    @Test(arguments: [
        (["rollout", "--ckpt", "run7", "--episodes", "0"], 64, "--episodes must be at least 1 (got 0)"),
        (["bench", "rollout", "--rounds", "0"], 64, "--rounds must be at least 1 (got 0)"),
        (["rollout", "--ckpt", "run7", "--threads", "0"], 64, "--threads must be at least 1 (got 0)"),
        (["rollout", "--ckpt", "run7", "--epoch", "-1"], 64, "--epoch must be at least 0 (got -1)"),
        (["rollout", "--ckpt", "run7", "--select", "offline", "--top-k", "-1"], 64, "--top-k must be at least 0 (got -1)"),
        (["rollout", "--ckpt", "run7", "--select", "offline", "--top-k", "99"], 1,
         "offline selection's top_k is 99, but the run has 4 ranked checkpoints (top_k 0 to 3)"),
        (["rollout", "--ckpt", "checkpoints/run7/epoch_0050.safetensors", "--epoch", "50"], 1,
         "checkpoints/run7/epoch_0050.safetensors is one checkpoint file; an epoch (50) picks a checkpoint of a run"),
        (["rollout", "--ckpt", "run7", "--task", "halfcheetah-medium-v2"], 1, "the checkpoint's state dimension is 11, the task's is 17"),
        (["rollout", "--ckpt", "run7", "--record", "/tmp/x.mp4", "--fps", "0"], 64, "--fps must be at least 1 (got 0)"),
        (["rollout", "--ckpt", "run7", "--record", "/tmp/x.mp4", "--max-frames", "0"], 64, "--max-frames must be at least 1 (got 0)"),
        (["rollout", "--ckpt", "run7", "--record", "/tmp/x.mp4", "--size", "99999x99999"], 1, "the recording size 99999x99999 is outside"),
        (["rollout", "--ckpt", "run7", "--frames", "/tmp/frames", "--size", "0x0"], 1, "the recording size 0x0 is outside"),
        (["rollout", "--ckpt", "run7", "--record", "/tmp/x.mp4", "--size", "641x480"], 1, "video needs an even width and height"),
        (["rollout", "--ckpt", "run7", "--record", "/tmp/x.avi"], 1, "cannot tell the video format of /tmp/x.avi"),
        (["rollout", "--ckpt", "run7", "--record", "/no-such-folder/x.mp4"], 1, "/no-such-folder/x.mp4: cannot write the file"),
        (["rollout", "--ckpt", "run7", "--json", "/no-such-folder/report.json"], 1, "/no-such-folder/report.json: cannot write the file"),
        (["rollout", "--ckpt", "run7", "--json", "/tmp"], 1, "/tmp: cannot write the file: it is a folder"),
        (["train", "--task", "hopper-medium-v2", "--run", "/tmp/never", "--epochs", "0"], 64, "--epochs must be at least 1 (got 0)"),
        (["train", "--task", "hopper-medium-v2", "--run", "/tmp/never", "--eta", "-1"], 64, "--eta must be a positive number"),
        (["train", "--task", "hopper-medium-v2", "--run", "/tmp/never", "--grad-norm", "nan"], 64, "--grad-norm must be 0 (no clipping)"),
        (["train", "--task", "hopper-medium-v2", "--run", "/tmp/never", "--save-every", "0"], 64, "--save-every must be at least 1"),
        (["train", "--task", "hopper-medium-v2", "--run", "/tmp/never", "--dataset", "/no-such.hdf5"], 1,
         "/no-such.hdf5: cannot open the file"),
        (["collect", "dataset", "--env", "hopper", "--level", "medium", "--transitions", "0"], 64, "--transitions must be at least 1"),
        (["collect", "dataset", "--env", "hopper", "--level", "bogus"], 64, "unknown --level 'bogus'"),
        (["collect", "sac", "--env", "hopper", "--medium-score", "nan"], 64, "--medium-score must be a number (got nan)"),
        (["policy", "sample", "--ckpt", "run7", "--out", "/tmp/x.npy"], 64, "give the states"),
        (["policy", "sample", "--ckpt", "run7", "--states", "s.npy", "--samples", "0", "--out", "/tmp/x.npy"], 64, "--samples must be at least 1 (got 0)"),
        (["policy", "sample", "--ckpt", "run7", "--states", "s.npy", "--out", "/tmp/x.txt"], 64, "--out must end in .npy or .safetensors"),
        (["policy", "sample", "--ckpt", "run7", "--rows", "0", "--out", "/tmp/x.npy"], 64, "--rows picks rows of --dataset"),
        (["policy", "sample", "--ckpt", "run7", "--states", "/no-such.npy", "--out", "/tmp/x.npy"], 1, "/no-such.npy: cannot read the file"),
        (["policy", "plot", "--ckpt", "run7", "--states", "s.npy", "--neighbours", "0", "--out", "/tmp/x.svg"], 64, "--neighbours must be at least 1"),
        (["collect", "dataset", "--env", "hopper", "--level", "random", "--out", "/proc/x.hdf5"], 1, "/proc/x.hdf5: cannot write the file"),
        (["bandit", "--out", "/no-such-folder/bandit.svg"], 1, "/no-such-folder/bandit.svg: cannot write the file"),
    ] as [([String], Int32, String)])
    func badValuesAndOutputsAreRefusedUpFront(_ arguments: [String], status: Int32, message: String) throws {
        let outcome = try Self.run(arguments)
        #expect(outcome.status == status && outcome.errors.contains(message), "\(outcome)")
        #expect(!outcome.output.contains("episode") && !outcome.output.contains("resuming"), "work started: \(outcome)")
    }

    /// `bench targets` judges each figure against the same run's sgemm. OpenBLAS's SSE3 kernel, which a
    /// CPU newer than OpenBLAS gets, would let every figure pass; it is refused before any measuring,
    /// with the setting that gives a fair ceiling.
    @Test(.enabled(if: VectorUnit.isAvailable("avx2")))
    func speedTargetsRefuseACeilingNarrowerThanTheNetworksKernels() throws {
        let outcome = try Self.run(["bench", "targets", "--vector-unit", "avx2"], environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(outcome.status == 1 && outcome.errors.contains("OpenBLAS picked its Prescott kernel, which does not use avx2")
                    && outcome.errors.contains("OPENBLAS_CORETYPE=Haswell") && outcome.output.isEmpty, "\(outcome)")
    }

    /// Over several runs a figure is judged by its median, so one noisy run neither passes nor fails it.
    @Test func speedTargetsJudgeTheMedianOfTheirRuns() {
        let step = SpeedTargets.Verdict(call: "train step", readings: [0.72, 0.64, 0.71], bound: .shareAtLeast(0.70))
        #expect(step.median == 0.71 && step.met)
        #expect(step.measured == "71% (64–72%)", "\(step.measured)")
        let act = SpeedTargets.Verdict(call: "act", readings: [0.66, 0.52, 0.58, 0.61], bound: .shareAtLeast(0.60))
        #expect(abs(act.median - 0.595) < 1e-12 && !act.met)
        let rollout = SpeedTargets.Verdict(call: "rollout", readings: [1.61], bound: .ratioAtMost(1.5))
        #expect(!rollout.met && rollout.measured == "1.61×" && rollout.bound.text == "≤ 1.50× the floor")
    }

    /// Slurm's warning signals at random moments: `train` saves its state and exits with 75 (requeue);
    /// run again until it finishes, it leaves the same files, byte for byte, as a run never stopped.
    @Test(arguments: ["SIGUSR1", "SIGTERM"])
    func trainingStoppedBySignalsResumesToTheSameBytes(_ signalName: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("signals-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = folder + "/hopper.hdf5"
        let made = try Self.run(["collect", "--env", "hopper", "--level", "random", "--transitions", "2000", "--out", data])
        try #require(made.status == 0, "\(made)")
        try Self.expectSignalsStopAndResume(signalName, delays: 0.05...0.5, in: folder) { run in
            ["train", "--task", "hopper-medium-v2", "--dataset", data, "--run", folder + "/" + run, "--epochs", "3",
             "--steps-per-epoch", "8", "--save-every", "1"]
        }
    }

    /// The same for the online SAC runs of `collect`, which finish the episode under way before they save.
    /// sac: 1000 steps of warm-up then about 200 gradient steps; controller: warm-up steps only (its
    /// gradient steps start at 10,000; AntControllerRunTests stops a smaller run mid-training).
    @Test(arguments: [(["sac", "--env", "hopper", "--steps", "1200"], "SIGUSR1", 0.05...0.5),
                      (["controller", "--steps", "4000"], "SIGTERM", 0.05...0.5)] as [([String], String, ClosedRange<Double>)])
    func collectionStoppedBySignalsResumesToTheSameBytes(_ command: [String], signalName: String,
                                                         delays: ClosedRange<Double>) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("signals-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.expectSignalsStopAndResume(signalName, delays: delays, in: folder) { run in
            ["collect"] + command + ["--run", folder + "/" + run]
        }
    }

    /// Runs `command("straight")` to its end; then sends `command("stopped")` the signal at three random
    /// moments, `delays` being fractions of the straight run's wall time, so that they fall while the
    /// work runs however fast the machine is (a signal before the work starts stops it at its first
    /// step), each stop exiting with 75, and lets a last run finish. The two folders must hold the same
    /// files, byte for byte.
    static func expectSignalsStopAndResume(_ signalName: String, delays: ClosedRange<Double>, in folder: String,
                                           command: (String) -> [String]) throws {
        let start = ContinuousClock.now
        let straight = try run(command("straight"))
        try #require(straight.status == 0, "\(straight)")
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        // A run that ends before its signal (a warm second start is faster) is started again, up to eight times.
        var stops = 0, attempts = 0
        while stops < 3 && attempts < 8 {
            attempts += 1
            let outcome = try run(command("stopped"), signal: signalName == "SIGUSR1" ? SIGUSR1 : SIGTERM,
                                  after: seconds * Double.random(in: delays))
            if outcome.status == 0 {
                guard stops == 0 else { break }
                try? FileManager.default.removeItem(atPath: folder + "/stopped")
                continue
            }
            #expect(outcome.status == 75 && outcome.output.contains("stopped by \(signalName)"), "\(outcome)")
            stops += 1
        }
        #expect(stops >= 1, "no signal arrived during the run")
        let last = try run(command("stopped"))
        #expect(last.status == 0 && (stops == 3 || last.output.contains("resuming")), "\(last)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/straight").sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/stopped").sorted() == names)
        for name in names {
            #expect(FileManager.default.contents(atPath: folder + "/straight/" + name)
                    == FileManager.default.contents(atPath: folder + "/stopped/" + name), "\(name) differs")
        }
    }

    /// Writes a .npy file (format 1.0) of `bytes` as the header describes them; returns its path.
    static func writeNumPy(_ path: String, descr: String, shape: String, bytes: [UInt8]) throws -> String {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + bytes)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `policy sample` writes .npy files numpy reads; states of another width or type are named.
    @Test func policySamplesAreWrittenAndBadStatesNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func npy(_ name: String, descr: String, shape: String, bytes: [UInt8]) throws -> String {
            try Self.writeNumPy(folder + "/" + name, descr: descr, shape: shape, bytes: bytes)
        }
        let good = try npy("good.npy", descr: "<f4", shape: "(2, 11)", bytes: [UInt8](repeating: 0, count: 88))
        let out = folder + "/samples.npy"
        let sampled = try Self.run(["policy", "sample", "--ckpt", "run7", "--states", good, "--samples", "7", "--q", "--out", out])
        #expect(sampled.status == 0 && sampled.output.contains("wrote \(folder)/samples_q.npy"), "\(sampled)")
        let header = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)).prefix(128), as: UTF8.self)
        #expect(header.contains("'shape': (2, 7, 3)"), "\(header)")
        let wide = try npy("wide.npy", descr: "<f4", shape: "(1, 17)", bytes: [UInt8](repeating: 0, count: 68))
        let wrongWidth = try Self.run(["policy", "sample", "--ckpt", "run7", "--states", wide, "--out", folder + "/x.npy"])
        #expect(wrongWidth.status == 1 && wrongWidth.errors.contains("\(wide): states of 17 values"), "\(wrongWidth)")
        let integers = try npy("int.npy", descr: "<i8", shape: "(1, 11)", bytes: [UInt8](repeating: 0, count: 88))
        let wrongType = try Self.run(["policy", "plot", "--ckpt", "run7", "--states", integers, "--out", folder + "/x.svg"])
        #expect(wrongType.status == 1 && wrongType.errors.contains("\(integers): the array holds '<i8'"), "\(wrongType)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/x.npy") && !FileManager.default.fileExists(atPath: folder + "/x.svg"))
    }

    /// Where libxsmm writes no kernels (a CPU without SSE4.2; `LIBXSMM_TARGET=generic` makes any
    /// machine one) the products run on the portable kernels, with their numbers, instead of stopping.
    @Test func aMachineWithoutLibxsmmKernelsGetsThePortableProducts() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("generic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let values = (0..<33).flatMap { withUnsafeBytes(of: (Float($0 % 11) * 0.1 - 0.5).bitPattern.littleEndian, Array.init) }
        let states = try Self.writeNumPy(folder + "/states.npy", descr: "<f4", shape: "(3, 11)", bytes: values)
        func samples(_ name: String, _ environment: [String: String]) throws -> Data {
            let out = folder + "/" + name + ".npy"
            let outcome = try Self.run(["policy", "sample", "--ckpt", "run7", "--states", states, "--samples", "50", "--q", "--out", out],
                                       environment: environment)
            try #require(outcome.status == 0, "\(name): \(outcome)")
            return try Data(contentsOf: URL(fileURLWithPath: out)) + Data(contentsOf: URL(fileURLWithPath: folder + "/" + name + "_q.npy"))
        }
        #expect(try samples("generic", ["LIBXSMM_TARGET": "generic"])
                == samples("portable", ["DIFFUSION_QL_DENSE_PRODUCTS": "portable"]))
    }

    @Test func anUnknownOptionIsReportedBeforeTheOthersAreChecked() throws {
        let outcome = try Self.run(["rollout", "--bogus"])
        #expect(outcome.status == 64 && outcome.errors.contains("Unknown option '--bogus'"), "\(outcome)")
        #expect(!outcome.errors.contains("--ckpt or --policy"), "\(outcome)")
    }

    @Test func aMissingRunNamesTheFoldersSearchedAndTheirRuns() throws {
        let outcome = try Self.run(["rollout", "--ckpt", "no-such-run"])
        #expect(outcome.status == 1 && outcome.errors.contains("checkpoints/ (runs: ") && outcome.errors.contains("run7"), "\(outcome)")
    }

    @Test func conformanceChecksTheFixtureAndNamesWhatIsWrongWithABadFile() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("EnvironmentsTests/Fixtures/locomotion_trajectories.json").path
        let good = try Self.run(["conformance", fixture])
        #expect(good.status == 0 && good.output.contains("ok    antmaze-umaze: 60 of 60 steps")
                    && good.output.contains("all 4 trajectories conform"), "\(good)")
        let strict = try Self.run(["conformance", fixture, "--tolerance", "0"])
        #expect(strict.status == 1 && strict.output.contains("FAILED walker2d"), "\(strict)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"hopper": [{"action": [0, 0, 0], "obs": "x", "reward": 0, "terminated": false}]}"#.write(to: file, atomically: true, encoding: .utf8)
        let bad = try Self.run(["conformance", file.path])
        #expect(bad.status == 1 && bad.errors.contains("hopper[0].obs: expected"), "\(bad)")
    }

    /// ArgumentParser appends "(default: …)" to an option with a value in code; the help text must not
    /// say it again.
    @Test(arguments: [["rollout"], ["train"], ["collect", "dataset"], ["collect", "sac"], ["bench", "act"], ["bandit"],
                      ["sweep", "train"], ["sweep", "evaluate"]])
    func helpGivesEachDefaultOnce(_ command: [String]) throws {
        let help = try Self.run(command + ["--help"]).output
        let options = help.components(separatedBy: "\n  -").dropFirst()
        #expect(options.count > 2, "\(command): \(help)")
        for option in options {
            #expect(option.components(separatedBy: "default").count <= 2, "\(command): \(option)")
        }
    }
}
