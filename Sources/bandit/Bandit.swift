import ArgumentParser
import Bandit
import CommandLineOptions
import Foundation
import Persistence
import TerminalProgress

@main
struct BanditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bandit",
        abstract: "The paper's 2-D bandit: BC-diffusion against Diffusion-QL on four rewarded corners.",
        discussion: """
            Trains both policies on the same data (the paper's setup by default: N = 50, width 128, \
            eta 2.5, batch 100, 1000 epochs of 100 steps), prints the share of each policy's samples \
            on each corner, and writes the samples beside the data as an SVG picture.
            """,
        version: packageVersion)

    @Option(help: "Where to write the picture (SVG).")
    var out = "bandit.svg"

    @Option(parsing: .unconditional, help: "Epochs of training for each policy.")
    var epochs = 1000

    @Option(parsing: .unconditional, help: "Gradient steps per epoch.")
    var stepsPerEpoch = 100

    @Option(parsing: .unconditional, help: "Diffusion steps N.")
    var diffusionSteps = 50

    @Option(parsing: .unconditional, help: "Width of the hidden layers of the noise model and the critic.")
    var hiddenWidth = 128

    @Option(parsing: .unconditional, help: "Adam learning rate of both networks.")
    var learningRate: Float = 3e-4

    @Flag(help: "Decay both learning rates to 0 along a cosine over the training.")
    var learningRateDecay = false

    @Option(parsing: .unconditional, help: "Weight of Diffusion-QL's Q term.")
    var eta: Float = 2.5

    @Option(parsing: .unconditional, help: "Actions drawn from each trained policy.")
    var samples = 1000

    @Option(parsing: .unconditional, help: "Seed of the data, the networks and the sampling.")
    var seed: UInt64 = 0

    func checkOptions() throws {
        try OptionCheck.atLeast(1, ("--epochs", epochs), ("--steps-per-epoch", stepsPerEpoch), ("--diffusion-steps", diffusionSteps),
                                ("--samples", samples), ("--hidden-width", hiddenWidth))
        try OptionCheck.positive(("--learning-rate", learningRate), ("--eta", eta))
        try AtomicFile.requireWritable(out)
    }

    func run() throws {
        try checkOptions()
        var experiment = BanditExperiment()
        experiment.epochs = epochs
        experiment.stepsPerEpoch = stepsPerEpoch
        experiment.diffusionSteps = diffusionSteps
        experiment.samples = samples
        experiment.hiddenWidth = hiddenWidth
        experiment.learningRate = learningRate
        experiment.eta = eta
        experiment.learningRateDecay = learningRateDecay
        experiment.seed = seed
        let data = try experiment.dataset()
        let dataActions = (0..<min(samples, data.count)).map { SIMD2(data.actions[2 * $0], data.actions[2 * $0 + 1]) }
        var panels: [(title: String, actions: [SIMD2<Float>])] = [("data", dataActions)]
        for (title, eta) in [("BC-diffusion", Float(0)), ("Diffusion-QL", experiment.eta)] {
            let progress = ProgressLine()
            let actions = try experiment.trainAndSample(eta: eta, data: data) { done in
                progress.update("\(title): " + experiment.progressLine(done: done, elapsedSeconds: progress.elapsedSeconds))
            }
            progress.finish()
            print("\(title) trained in \(String(format: "%.0f", progress.elapsedSeconds)) s")
            panels.append((title, actions))
        }
        print(CornerFractions.table(panels))
        try AtomicFile.write(BanditPicture.svg(panels: panels), to: out)
        print("picture: \(out)")
    }
}
