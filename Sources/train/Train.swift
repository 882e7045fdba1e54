import ArgumentParser
import Datasets
import DiffusionQL
import Environments
import Evaluation
import Foundation

@main
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train Diffusion-QL on a D4RL dataset with the task's preset from the paper.",
        discussion: """
            The run lives in checkpoints/NAME (or the folder NAME when it contains a slash): its \
            configuration, a metrics log, a checkpoint every --save-every epochs and the state to \
            resume from. Running the same command again resumes the run where it stopped.

            Example: train --task hopper-medium-v2 --run hopper-medium-1
            """)

    @Option(help: "D4RL task, e.g. hopper-medium-v2: picks the preset and the dataset's dimensions.")
    var task: String

    @Option(help: "D4RL HDF5 file (default: datasets/<D4RL file name>, where collect writes).")
    var dataset: String?

    @Option(name: .customLong("run"), help: "Run name under checkpoints/, or a folder path.")
    var runName: String

    @Option(help: "Epochs (default: the paper's, 2000 for locomotion).")
    var epochs: Int?

    @Option(help: "Gradient steps per epoch (default 1000).")
    var stepsPerEpoch: Int?

    @Option(help: "Save a checkpoint every K epochs (default 50).")
    var saveEvery: Int?

    @Option(help: "Seed of the weights and every random draw of training (default 0).")
    var seed: UInt64?

    @Option(help: "Weight of the Q term (default: the task preset's).")
    var eta: Float?

    @Option(help: "Gradient-norm clipping, 0 for none (default: the task preset's).")
    var gradNorm: Float?

    func validate() throws {
        for (name, value) in [("--epochs", epochs), ("--steps-per-epoch", stepsPerEpoch), ("--save-every", saveEvery)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1 (got \(value))") }
        }
    }

    func run() throws {
        var overrides = TrainingOverrides()
        overrides.epochs = epochs
        overrides.stepsPerEpoch = stepsPerEpoch
        overrides.saveEvery = saveEvery
        overrides.seed = seed
        overrides.eta = eta
        overrides.gradientNormClip = gradNorm
        let setup = try OfflineTrainingSetup(task: try D4RLTask.named(task), datasetPath: dataset, overrides: overrides)
        print(setup.summary)
        let folder = RunFolder(path: runName.contains("/") ? runName : "checkpoints/\(runName)")
        let training = try TrainingRun(folder: folder, config: setup.config, data: setup.transitions)
        print(training.resumed ? "resuming \(folder.path) after epoch \(training.completedEpochs)" : "new run in \(folder.path)")

        let progress = ProgressLine(), firstStep = training.trainer.step
        var logged = training.completedEpochs
        try training.train { state in
            progress.update(state.line(stepsThisRun: state.step - firstStep, elapsedSeconds: progress.elapsedSeconds))
            if let last = state.lastEpoch, last.epoch > logged, last.epoch % setup.config.saveEvery == 0 {
                logged = last.epoch
                progress.finish()
                print(last.logLine)
            }
        }
        progress.finish()
        if let last = training.metrics.last { print(last.logLine) }
        print("done: \(training.completedEpochs) epochs, checkpoints in \(folder.path)")
    }
}
