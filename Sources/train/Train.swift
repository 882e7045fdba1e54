import ArgumentParser
import CommandLineOptions
import Datasets
import DiffusionQL
import Environments
import Foundation
import Persistence
import TerminalProgress

@main
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train Diffusion-QL on a D4RL dataset with the task's preset from the paper.",
        discussion: """
            The run lives in checkpoints/NAME (where a run of that name already is, else under the \
            working directory; or the folder NAME when it contains a slash): its \
            configuration, a metrics log, a checkpoint every --save-every epochs and the state to \
            resume from. Running the same command again resumes the run where it stopped. On SIGTERM or \
            SIGUSR1 (Slurm's warning before a preemption or the time limit) it saves its state after the \
            current step and exits with status 75, for the job to be requeued.

            Example: train --task hopper-medium-v2 --run hopper-medium-1
            """,
        version: packageVersion)

    @Option(help: "D4RL task, e.g. hopper-medium-v2: picks the preset and the dataset's dimensions.")
    var task: String

    @Option(help: "D4RL HDF5 file (default: datasets/<D4RL file name>, where collect writes).")
    var dataset: String?

    @Option(name: .customLong("run"), help: "Run name under checkpoints/, or a folder path.")
    var runName: String

    @Option(parsing: .unconditional, help: "Epochs (default: the paper's, 2000 for locomotion).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Gradient steps per epoch (default 1000).")
    var stepsPerEpoch: Int?

    @Option(parsing: .unconditional, help: "Save a checkpoint every K epochs (default 50).")
    var saveEvery: Int?

    @Option(parsing: .unconditional, help: "Seed of the weights and every random draw of training (default 0).")
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Weight of the Q term (default: the task preset's).")
    var eta: Float?

    @Option(parsing: .unconditional, help: "Gradient-norm clipping, 0 for none (default: the task preset's).")
    var gradNorm: Float?

    @OptionGroup var startOver: StartOverOption

    func checkOptions() throws {
        try OptionCheck.atLeast(1, ("--epochs", epochs), ("--steps-per-epoch", stepsPerEpoch), ("--save-every", saveEvery))
        try OptionCheck.positive(("--eta", eta))
        if let gradNorm, !(gradNorm >= 0 && gradNorm.isFinite) {
            throw ValidationError("--grad-norm must be 0 (no clipping) or a positive number (got \(gradNorm))")
        }
    }

    func run() throws {
        // First of all: a signal during the setup (reading a large dataset) then stops the run at its
        // first step, with its state saved, instead of ending the process.
        StopSignals.install()
        try checkOptions()
        let folder = RunFolder(path: RunsFolder.path(ofRun: runName))
        if !startOver.startOver { try folder.requireResumable(startOver: false) }
        var overrides = TrainingOverrides()
        overrides.epochs = epochs
        overrides.stepsPerEpoch = stepsPerEpoch
        overrides.saveEvery = saveEvery
        overrides.seed = seed
        overrides.eta = eta
        overrides.gradientNormClip = gradNorm
        let setup = try OfflineTrainingSetup(task: try D4RLTask.named(task), datasetPath: dataset, overrides: overrides)
        print(setup.summary)
        let training = try TrainingRun(folder: folder, config: setup.config, data: setup.transitions, startOver: startOver.startOver)
        startOver.report(deleted: training.deletedHistory)
        print(training.resumed ? "resuming \(folder.path) after epoch \(training.completedEpochs)" : "new run in \(folder.path)")

        let progress = ProgressLine(), firstStep = training.trainer.step
        var logged = training.completedEpochs
        let finished = try training.train(stopWhen: { StopSignals.requested }) { state in
            progress.update(state.line(stepsThisRun: state.step - firstStep, elapsedSeconds: progress.elapsedSeconds))
            if let last = state.lastEpoch, last.epoch > logged, last.epoch % setup.config.saveEvery == 0 {
                logged = last.epoch
                progress.finish()
                print(last.logLine)
            }
        }
        progress.finish()
        guard finished else {
            print(StopSignals.stopReport("at step \(training.trainer.step)"))
            throw ExitCode(StopSignals.requeueExitStatus)
        }
        if let last = training.metrics.last { print(last.logLine) }
        print("done: \(training.completedEpochs) epochs, checkpoints in \(folder.path)")
    }
}
