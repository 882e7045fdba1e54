import ArgumentParser
import AtomicFile
import Bandit
import Evaluation
import Foundation

@main
struct BanditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bandit",
        abstract: "The paper's 2-D bandit: BC-diffusion against Diffusion-QL on four rewarded corners.",
        discussion: """
            Trains both policies on the same data (the paper's setup by default: N = 50, width 128, \
            eta 2.5, batch 100, 1000 epochs of 100 steps), prints the share of each policy's samples \
            on each corner, and writes the samples beside the data as an SVG picture.
            """)

    @Option(help: "Where to write the picture (SVG).")
    var out = "bandit.svg"

    @Option(help: "Epochs of training for each policy.")
    var epochs = 1000

    @Option(help: "Gradient steps per epoch.")
    var stepsPerEpoch = 100

    @Option(help: "Diffusion steps N.")
    var diffusionSteps = 50

    @Option(help: "Width of the hidden layers of the noise model and the critic.")
    var hiddenWidth = 128

    @Option(help: "Adam learning rate of both networks.")
    var learningRate: Float = 3e-4

    @Flag(help: "Decay both learning rates to 0 along a cosine over the training.")
    var learningRateDecay = false

    @Option(help: "Weight of Diffusion-QL's Q term.")
    var eta: Float = 2.5

    @Option(help: "Actions drawn from each trained policy.")
    var samples = 1000

    @Option(help: "Seed of the data, the networks and the sampling.")
    var seed: UInt64 = 0

    func validate() throws {
        for (name, value) in [("--epochs", epochs), ("--steps-per-epoch", stepsPerEpoch), ("--diffusion-steps", diffusionSteps),
                              ("--samples", samples), ("--hidden-width", hiddenWidth)] where value < 1 {
            throw ValidationError("\(name) must be at least 1 (got \(value))")
        }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive (got \(learningRate))") }
        guard eta > 0, eta.isFinite else { throw ValidationError("--eta must be positive (got \(eta))") }
    }

    func run() throws {
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
                let left = progress.elapsedSeconds * (1 - done) / max(done, 1e-9)
                progress.update("\(title): \(Int(100 * done))% of \(epochs * stepsPerEpoch) steps · \(Int(left.rounded(.up))) s left")
            }
            progress.finish()
            print("\(title) trained in \(String(format: "%.0f", progress.elapsedSeconds)) s")
            panels.append((title, actions))
        }
        print(Self.table(panels))
        try AtomicFile.write(BanditPicture.svg(panels: panels), to: out)
        print("picture: \(out)")
    }

    static func table(_ panels: [(title: String, actions: [SIMD2<Float>])]) -> String {
        let corners = BanditExperiment.modes.map { "(\($0.center.x), \($0.center.y)) r=\($0.rewardMean)" }
        var lines = ["share of samples within \(BanditExperiment.cornerRadius) of each corner",
                     "".padding(toLength: 14, withPad: " ", startingAt: 0)
                        + corners.map { $0.padding(toLength: 21, withPad: " ", startingAt: 0) }.joined() + "any corner"]
        for panel in panels {
            let fractions = CornerFractions(panel.actions)
            lines.append(panel.title.padding(toLength: 14, withPad: " ", startingAt: 0)
                + fractions.perMode.map { String(format: "%5.1f%%", 100 * $0).padding(toLength: 21, withPad: " ", startingAt: 0) }.joined()
                + String(format: "%5.1f%%", 100 * fractions.onAnyCorner))
        }
        return lines.joined(separator: "\n")
    }
}
