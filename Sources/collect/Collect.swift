import ArgumentParser
import CommandLineOptions
import Datasets
import Environments
import Foundation
import Persistence
import SoftActorCritic
import TerminalProgress

@main
struct Collect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make D4RL-style datasets: train the SAC behaviour agent, then roll its policies out.",
        version: packageVersion,
        subcommands: [CollectDataset.self, TrainBehaviour.self, DrawMazeData.self, TrainController.self],
        defaultSubcommand: CollectDataset.self)
}

struct CollectDataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Write a D4RL-style dataset of one level (the default subcommand).",
        discussion: """
            random rolls out uniform actions; medium and expert roll out the SAC policies kept in \
            checkpoints/sac-ENV (sampled actions, whole episodes); medium-expert is medium then expert; \
            medium-replay is the SAC run's replay buffer up to its medium policy. In a maze, the goal-reaching \
            controller (checkpoints/ant-controller) is steered along planned paths: umaze from the start to \
            the goal, play between hand-picked cells, diverse between random cells, in episodes of 1001 steps. \
            The same seed writes the same data.

            Examples: collect --env hopper --level medium --out datasets/hopper_medium-v2.hdf5
                      collect --env antmaze-medium --level play
            """)

    @Option(help: "Environment: \((EnvironmentID.locomotion + [.antmazeUmaze, .antmazeMedium, .antmazeLarge]).map(\.rawValue).joined(separator: ", ")).")
    var env: String

    @Option(help: "Dataset level: \(BehaviourDatasets.levels.joined(separator: ", ")); in a maze \(AntMazeLevel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var level: String

    @Option(help: "Output HDF5 file (default: datasets/<D4RL file name>, where train looks).")
    var out: String?

    @Option(parsing: .unconditional, help: "Transitions to collect, whole episodes (medium-expert: this many of each).")
    var transitions = 1_000_000

    @Option(parsing: .unconditional, help: "Seed of the resets and the action noise.")
    var seed: UInt64 = 0

    @Option(help: "SAC run folder holding the behaviour policies (default: checkpoints/sac-ENV).")
    var sacRun: String?

    @Option(help: "Controller run folder holding controller_policy.safetensors, for a maze (default: checkpoints/ant-controller).")
    var controller: String?

    @OptionGroup var models: ModelsOption
    @OptionGroup var threads: ThreadsOption

    func checkOptions() throws {
        try OptionCheck.atLeast(1, ("--transitions", transitions))
        try threads.check()
        if EnvironmentID(rawValue: env)?.maze != nil {
            guard AntMazeLevel(rawValue: level) != nil else {
                throw ValidationError("unknown --level '\(level)' for a maze; the levels are \(AntMazeLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        } else if !BehaviourDatasets.levels.contains(level) {
            throw ValidationError("unknown --level '\(level)'; the levels are \(BehaviourDatasets.levels.joined(separator: ", "))")
        }
    }

    func run() throws {
        try checkOptions()
        if let maze = EnvironmentID(rawValue: env)?.maze {
            try collectMaze(maze, level: AntMazeLevel(rawValue: level)!)
            return
        }
        let environment = try environmentID(env)
        var datasets = BehaviourDatasets(environment: environment, models: try models.locate(), runFolder: sacRun)
        datasets.collector.threads = threads.count
        let task = try D4RLTask.named("\(environment.rawValue)-\(level)-v2")
        let path = try prepareOutput(for: task)
        let line = ProgressLine()
        let dataset = try datasets.make(level: level, transitions: transitions, seed: seed) { state in
            line.update(state.line(elapsedSeconds: line.elapsedSeconds))
        }
        line.finish()
        try D4RLFile.write(dataset, to: path)
        let summary = DatasetSummary(dataset, task: task)
        print("\(path): \(summary)")
    }

    private func collectMaze(_ maze: Maze, level: AntMazeLevel) throws {
        guard let name = level.dataset(in: maze) else {
            throw AntMazeCollectionError.noSuchDataset(maze: maze.name, level: level.rawValue)
        }
        let task = try D4RLTask.named("antmaze-\(name)-v2")
        let path = try prepareOutput(for: task)

        let folder = controller ?? RunsFolder.path(ofRun: AntMazeDatasets.defaultControllerFolder)
        let line = ProgressLine()
        let dataset = try AntMazeDatasets.make(maze: maze, level: level, transitions: transitions, seed: seed, controllerFolder: folder,
                                               models: try models.locate(), threads: threads.count) { state in
            line.update(state.line(elapsedSeconds: line.elapsedSeconds))
        }
        line.finish()
        try D4RLFile.write(dataset, to: path)
        print("\(path): \(DatasetSummary(dataset, task: task))")
    }

    /// The output path, its folder made and tried with a file before any work.
    private func prepareOutput(for task: D4RLTask) throws -> String {
        let path = out ?? OfflineTrainingSetup.defaultDatasetPath(for: task)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try AtomicFile.requireWritable(path)
        return path
    }
}

struct TrainBehaviour: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sac",
        abstract: "Train the SAC behaviour agent online, keeping its medium and expert policies.",
        discussion: """
            The run lives in checkpoints/sac-ENV (or --run). It keeps the policy at the first evaluation \
            reaching --medium-score (with the replay buffer so far, the medium-replay data) and the \
            policy after the last step (the expert). Running the same command again resumes the run. On \
            SIGTERM or SIGUSR1 (Slurm's warning before a preemption or the time limit) it finishes the \
            episode under way, saves its state and exits with status 75, for the job to be requeued.

            Example: collect sac --env hopper --steps 1000000
            """)

    @Option(help: "Environment: \(EnvironmentID.locomotion.map(\.rawValue).joined(separator: ", ")).")
    var env: String

    @Option(name: .customLong("run"), help: "Run folder (default: checkpoints/sac-ENV).")
    var runFolder: String?

    @Option(parsing: .unconditional, help: "Environment steps of the whole run.")
    var steps = 1_000_000

    @Option(parsing: .unconditional, help: "Stop this process after this many steps of the run (it resumes later).")
    var until: Int?

    @Option(parsing: .unconditional, help: "Normalized score at which the medium policy is kept.")
    var mediumScore = 40.0

    @Option(parsing: .unconditional, help: "Seed of the weights, minibatches, noise and resets.")
    var seed: UInt64 = 0

    @OptionGroup var startOver: StartOverOption

    @OptionGroup var models: ModelsOption
    @OptionGroup var threads: ThreadsOption

    func checkOptions() throws {
        try OptionCheck.atLeast(1, ("--steps", steps), ("--until", until))
        try threads.check()
        guard mediumScore.isFinite else { throw ValidationError("--medium-score must be a number (got \(mediumScore))") }
    }

    func run() throws {
        StopSignals.install()  // first, as in train: a signal during the setup stops the run at its first episode end
        try checkOptions()
        let environment = try environmentID(env)
        var config = SACConfig()
        config.totalSteps = steps
        config.mediumScore = mediumScore
        config.seed = seed
        let folder = runFolder ?? BehaviourDatasets.defaultRunFolder(environment)
        let training = try SACRun(folder: folder, environment: environment, config: config, models: try models.locate(),
                                  threads: threads.count, startOver: startOver.startOver)
        startOver.report(deleted: training.deletedHistory)
        print(training.resumed ? "resuming \(folder) at step \(training.step)" : "new SAC run in \(folder)")
        warn(training.arithmeticWarning)
        try trainShowingProgress(training, untilStep: until)
        print("stopped at step \(training.step) of \(steps)"
            + (training.mediumStep.map { "; medium policy kept at step \($0)" } ?? "; medium score not reached yet"))
    }
}

struct TrainController: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Train the goal-reaching ant controller online with SAC, the walker of the AntMaze datasets.",
        discussion: """
            The run lives in checkpoints/ant-controller (or --run). The ant learns to walk to goals drawn \
            around random starts in an open arena; every evaluation tries 100 goals 8 m away and keeps the \
            best policy so far as controller_policy.safetensors. Running the same command again resumes \
            the run; --steps may grow. On SIGTERM or SIGUSR1 it finishes the episode under way, saves its \
            state and exits with status 75, as collect sac does. --evaluate tries the kept policy on other goals instead of training: \
            tries from --first-try on, which the run's own evaluations (tries 0-99) never saw.

            Example: collect controller --steps 2000000
                     collect controller --evaluate --tries 100
            """)

    @Option(name: .customLong("run"), help: "Run folder (default: checkpoints/ant-controller).")
    var runFolder: String?

    @Option(parsing: .unconditional, help: "Environment steps of the whole run.")
    var steps = AntControllerConfig.standard.sac.totalSteps

    @Option(parsing: .unconditional, help: "Stop this process after this many steps of the run (it resumes later).")
    var until: Int?

    @Option(parsing: .unconditional, help: "Seed of the weights, minibatches, noise, resets and evaluation tries.")
    var seed: UInt64 = 0

    @OptionGroup var startOver: StartOverOption

    @Flag(help: "Evaluate the run's kept policy instead of training.")
    var evaluate = false

    @Option(parsing: .unconditional, help: "With --evaluate: the number of tries.")
    var tries = 100

    @Option(parsing: .unconditional, help: "With --evaluate: the index of the first try in the run's evaluation stream.")
    var firstTry = 1000

    @OptionGroup var models: ModelsOption
    @OptionGroup var threads: ThreadsOption

    func run() throws {
        try OptionCheck.atLeast(1, ("--steps", steps), ("--until", until), ("--tries", tries))
        try threads.check()
        try OptionCheck.atLeast(0, ("--first-try", firstTry))
        if evaluate {
            let folder = runFolder ?? AntControllerRun.defaultFolder
            let (trials, metadata) = try AntControllerRun.evaluateKeptPolicy(
                folder: folder, tries: firstTry ..< firstTry + tries, models: try models.locate())
            print("\(folder)/controller_policy.safetensors (step \(metadata["step"] ?? "?")), tries \(firstTry)-\(firstTry + tries - 1): "
                + trials.summary)
            return
        }
        StopSignals.install()  // before the setup, as for collect sac
        var config = AntControllerConfig.standard
        config.sac.totalSteps = steps
        config.sac.seed = seed
        let folder = runFolder ?? AntControllerRun.defaultFolder
        let training = try AntControllerRun(folder: folder, config: config, models: try models.locate(), threads: threads.count,
                                            startOver: startOver.startOver)
        startOver.report(deleted: training.deletedHistory)
        print(training.resumed ? "resuming \(folder) at step \(training.step)" : "new controller run in \(folder)")
        warn(training.arithmeticWarning)
        try trainShowingProgress(training, untilStep: until)
        let best = training.evaluations.map(\.successRate).max()
        print("stopped at step \(training.step) of \(steps)" + (best.map { String(format: "; best success %.0f%%", 100 * $0) } ?? ""))
    }
}

/// The locomotion environment `name`: collect makes D4RL's locomotion datasets.
func environmentID(_ name: String) throws -> EnvironmentID {
    let valid = EnvironmentID.locomotion.map(\.rawValue).joined(separator: ", ")
    guard let id = EnvironmentID(rawValue: name), id.locomotionSpec != nil else {
        let reason = EnvironmentID(rawValue: name) == nil ? "unknown --env '\(name)'" : "collect does not make \(name) data"
        throw ValidationError("\(reason); it makes the locomotion datasets: \(valid)")
    }
    return id
}

struct DrawMazeData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "picture",
        abstract: "Draw an AntMaze dataset's trajectories over its maze as SVG.",
        discussion: "Example: collect picture --dataset datasets/antmaze_umaze-v2.hdf5 --out umaze.svg")

    @Option(help: "An AntMaze D4RL file written by collect (its metadata names the maze and the evaluation goal).")
    var dataset: String

    @Option(help: "The SVG file to write.")
    var out: String

    func run() throws {
        try AtomicFile.requireWritable(out)
        let data = try D4RLFile.read(path: dataset)
        let (maze, goal) = try AntMazeDatasets.mazeAndGoal(of: data, path: dataset)
        let task = try D4RLTask.named("antmaze-\(data.metadata["dataset"] ?? maze.name)-v2")
        let summary = DatasetSummary(data, task: task)
        let subtitle = "\(summary.rows) rows, \(summary.episodes) episodes, "
            + String(format: "%.1f%% reach the goal", 100 * (summary.successRate ?? 0))
        try AtomicFile.write(AntMazePicture.svg(data, maze: maze, title: String(task.name.dropLast(3)), subtitle: subtitle,
                                                evaluationGoal: goal), to: out)
        print("wrote \(out)")
    }
}

/// Trains an online run with a progress line on a terminal and a line per evaluation; when a signal
/// stopped it (its state saved), says so and exits with the status that asks for a requeue.
func trainShowingProgress(_ training: some OnlineRunDisplay, untilStep: Int?) throws {
    let line = ProgressLine(), firstStep = training.step
    var logged = training.evaluations.count
    let finished = try training.train(untilStep: untilStep, stopWhen: { StopSignals.requested }) { state in
        line.update(state.line(stepsThisRun: state.step - firstStep, elapsedSeconds: line.elapsedSeconds))
        if training.evaluations.count > logged {
            logged = training.evaluations.count
            line.finish()
            print(training.evaluations[logged - 1].logLine)
        }
    }
    line.finish()
    guard finished else {
        print(StopSignals.stopReport("at step \(training.step), the end of the episode under way"))
        throw ExitCode(StopSignals.requeueExitStatus)
    }
}
