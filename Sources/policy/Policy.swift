import ArgumentParser
import CommandLineOptions
import Datasets
import DiffusionQL
import Evaluation
import Foundation
import Persistence

@main
struct Policy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look inside a checkpoint's policy: many action samples at chosen states, and their picture.",
        version: packageVersion,
        subcommands: [Sample.self, Plot.self])
}

/// The checkpoint, the states and the sampling, shared by both subcommands.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Diffusion-QL checkpoint: a run (its newest checkpoint unless --epoch), a run folder or one file.")
    var ckpt: String

    @Option(parsing: .unconditional, help: "Epoch of the run's checkpoint (default: the newest).")
    var epoch: Int?

    @Option(help: "Which actor: online (the one the paper acts with) or ema.")
    var actor: ActorChoice = .online

    @Option(help: "States: a .npy file of float32 or float64, rank 2 (states × state dimension) or rank 1 (one state).")
    var states: String?

    @Option(help: "A D4RL file: states from its --rows (and, for plot, the actions at the states nearest them).")
    var dataset: String?

    @Option(help: "Rows of --dataset whose observations are the states, comma-separated (e.g. 0,4000,8000).")
    var rows: String?

    @Option(parsing: .unconditional, help: "Actions sampled per state.")
    var samples = 500

    @Option(parsing: .unconditional, help: "Seed of the samples.")
    var seed: UInt64 = 0

    enum ActorChoice: String, ExpressibleByArgument, CaseIterable {
        case online, ema
        var network: CheckpointNetwork { self == .online ? .actor : .emaActor }
    }

    func check() throws {
        try OptionCheck.atLeast(1, ("--samples", samples))
        try OptionCheck.atLeast(0, ("--epoch", epoch))
        if (states == nil) == (rows == nil) { throw ValidationError("give the states: either --states FILE.npy or --dataset FILE --rows LIST") }
        if rows != nil && dataset == nil { throw ValidationError("--rows picks rows of --dataset; give the file") }
    }

    /// The checkpoint, its states (with a label each) and the dataset, if one was given.
    func load() throws -> (CheckpointFile, [Float], [String], D4RLDataset?) {
        let checkpoint = try CheckpointFile.read(contentsOf: try CheckpointLocation(ckpt, epoch: epoch).path)
        try checkpoint.verifyNetworks()
        let width = checkpoint.config.stateDimension
        let data = try dataset.map { try D4RLFile.read(path: $0) }
        if let states {
            let values = try PolicyInspection.states(npy: states, stateDimension: width)
            return (checkpoint, values, (0..<values.count / width).map { "\(states) state \($0)" }, data)
        }
        let rowNumbers = try parsedRows()
        let values = try PolicyInspection.states(of: data!, path: dataset!, rows: rowNumbers, stateDimension: width)
        return (checkpoint, values, rowNumbers.map { "row \($0) of \(dataset!)" }, data)
    }

    private func parsedRows() throws -> [Int] {
        let parts = (rows ?? "").split(separator: ",", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, numbers.count == parts.count else { throw ValidationError("--rows takes row numbers, comma-separated (got '\(rows ?? "")')") }
        return numbers
    }
}

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample actions from the actor at each state and write them (.npy or .safetensors).",
        discussion: """
            .npy: the actions, shape (states, samples, action dimension), and with --q their q_min beside \
            them as NAME_q.npy, shape (states, samples); numpy.load reads both. .safetensors: tensors \
            actions, q_min and states. The same seed gives the same samples.

            Example: policy sample --ckpt run7 --dataset datasets/hopper_medium-v2.hdf5 --rows 0,4000 --samples 1000 --q --out samples.npy
            """)

    @OptionGroup var sampling: SamplingOptions

    @Flag(help: "Also score each sample by the target critic's q_min.")
    var q = false

    @Option(help: "Output file: .npy or .safetensors.")
    var out: String

    func run() throws {
        try sampling.check()
        guard out.hasSuffix(".npy") || out.hasSuffix(".safetensors") else {
            throw ValidationError("--out must end in .npy or .safetensors (got \(out))")
        }
        try AtomicFile.requireWritable(out)
        if q && out.hasSuffix(".npy") { try AtomicFile.requireWritable(PolicyInspection.qPath(for: out)) }
        let (checkpoint, states, labels, _) = try sampling.load()
        let samples = try PolicySamples.draw(from: checkpoint, actor: sampling.actor.network, states: states,
                                             samples: sampling.samples, seed: sampling.seed, withQ: q)
        for path in try PolicyInspection.write(samples, states: states, to: out) { print("wrote \(path)") }
        print("\(labels.count) state\(labels.count == 1 ? "" : "s") × \(sampling.samples) samples of \(samples.actionDimension) actions")
    }
}

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the actor's samples at each state: a histogram per action dimension and a scatter of a pair (SVG).",
        discussion: """
            With --dataset, the dataset's actions at the --neighbours states nearest each state are drawn \
            beside the samples, so a multimodal policy and the modes of the data show side by side.

            Example: policy plot --ckpt run7 --dataset datasets/hopper_medium-v2.hdf5 --rows 0,4000 --out run7.svg
            """)

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "The two action dimensions of the scatter, e.g. 0,1.")
    var pair = "0,1"

    @Option(parsing: .unconditional, help: "Dataset rows nearest each state whose actions are drawn beside the samples.")
    var neighbours = 200

    @Option(help: "The SVG file to write.")
    var out: String

    func run() throws {
        try sampling.check()
        try OptionCheck.atLeast(1, ("--neighbours", neighbours))
        try AtomicFile.requireWritable(out)
        let (checkpoint, states, labels, dataset) = try sampling.load()
        let dimensions = pair.split(separator: ",").compactMap { Int($0) }
        let actionWidth = checkpoint.config.actionDimension
        guard dimensions.count == 2, dimensions[0] != dimensions[1], dimensions.allSatisfy({ (0..<actionWidth).contains($0) }) else {
            throw PolicyInspectionError.badPair(pair: dimensions, actionDimension: actionWidth)
        }
        let samples = try PolicySamples.draw(from: checkpoint, actor: sampling.actor.network, states: states,
                                             samples: sampling.samples, seed: sampling.seed, withQ: false)
        let width = checkpoint.config.stateDimension
        let nearby = dataset.map { data in
            (0..<labels.count).map { PolicyInspection.actionsNear(states[$0 * width ..< ($0 + 1) * width], in: data, count: neighbours) }
        }
        let title = "\(checkpoint.config.task), epoch \(checkpoint.epoch), \(sampling.actor.rawValue) actor: \(sampling.samples) samples per state"
        try AtomicFile.write(PolicyPicture.svg(samples, stateLabels: labels, nearby: nearby, pair: (dimensions[0], dimensions[1]),
                                               title: title, maxAction: checkpoint.config.maxAction), to: out)
        print("wrote \(out)")
    }
}
