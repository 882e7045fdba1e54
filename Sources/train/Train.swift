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

    @OptionGroup var settings: TrainingOptions

    @Option(parsing: .unconditional, help: "Seed of the weights and every random draw of training (default 0).")
    var seed: UInt64?

    @OptionGroup var startOver: StartOverOption

    func run() throws {
        // First of all: a signal during the setup (reading a large dataset) then stops the run at its
        // first step, with its state saved, instead of ending the process.
        StopSignals.install()
        try settings.check()
        let folder = RunFolder(path: RunsFolder.path(ofRun: runName))
        if !startOver.startOver { try folder.requireResumable(startOver: false) }
        var overrides = settings.overrides
        overrides.seed = seed
        let setup = try OfflineTrainingSetup(task: try D4RLTask.named(task), datasetPath: dataset, overrides: overrides)
        print(setup.summary)
        let training = try TrainingRun(folder: folder, config: setup.config, data: setup.transitions, startOver: startOver.startOver)
        startOver.report(deleted: training.deletedHistory)
        print(training.resumed ? "resuming \(folder.path) after epoch \(training.completedEpochs)" : "new run in \(folder.path)")
        warn(training.arithmeticWarning)

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
        if let rise = training.earlyStop { print(rise.report) }
        print("done: \(training.completedEpochs) epochs, checkpoints in \(folder.path)")
    }
}
