import Foundation
import NeuralNet
import Persistence
import SeededRandom

/// Where a training run is, for a progress display.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    /// Gradient steps taken in this process and in the whole run.
    public var step: Int
    public var totalSteps: Int
    /// The last finished epoch's means.
    public var lastEpoch: EpochMetrics?
}

/// A Diffusion-QL run in its folder: trains epoch by epoch, logs each epoch's means, saves a
/// checkpoint every `saveEvery` epochs and the resume state after every epoch. Opening a folder
/// that already holds the run resumes it, and the resumed run continues exactly as an
/// uninterrupted one would have.
public final class TrainingRun {
    public let folder: RunFolder
    public let trainer: Trainer
    /// The transitions trained on: the dataset's, with the configuration's reward transform applied.
    public let data: Transitions
    public private(set) var metrics: [EpochMetrics]
    public private(set) var completedEpochs: Int
    /// Sums of the losses and gradient norms over the epoch under way, for its means.
    private var epochSums = TrainingRun.noSums
    private static let noSums = [Double](repeating: 0, count: 6)
    /// Whether this run continued from a saved state.
    public let resumed: Bool
    /// The files of an earlier run that `startOver` deleted.
    public let deletedHistory: [String]
    /// The products' arithmetic (`DenseProducts.arithmetic`) of the state the run resumed from; nil for a
    /// new run or a state saved before it was recorded.
    public let savedArithmetic: String?

    /// Where the run resumed on a machine whose products round differently from the one that saved it,
    /// what to tell the person who resumed it (`DenseProducts.resumeWarning`).
    public var arithmeticWarning: String? { DenseProducts.resumeWarning(path: folder.path, savedWith: savedArithmetic) }

    /// Opens the run in `folder`, resuming it when its resume state is there. A folder holding
    /// checkpoints or metrics without a resume state is refused (`RunHistoryError`) unless `startOver`,
    /// which deletes them first.
    public init(folder: RunFolder, config: TrainingConfig, data: Transitions, startOver: Bool = false) throws {
        guard data.stateDimension == config.stateDimension, data.actionDimension == config.actionDimension else {
            throw TrainingError.datasetMismatch("the dataset has states of \(data.stateDimension) and actions of "
                + "\(data.actionDimension) values; the run \(config.task) needs \(config.stateDimension) and \(config.actionDimension)")
        }
        self.folder = folder
        self.data = config.rewardTransform.map(data.transformingRewards) ?? data
        trainer = try Trainer(config: config)
        deletedHistory = try folder.requireResumable(startOver: startOver)
        if folder.holdsRun {
            try Self.requireCompatible(folder.readConfig(), config, folder: folder)
        }
        try folder.writeConfig(config)
        if FileManager.default.fileExists(atPath: folder.resumePath) {
            let (completed, sums, arithmetic) = try Self.restore(trainer, from: folder.resumePath)
            completedEpochs = completed
            epochSums = sums
            savedArithmetic = arithmetic
            metrics = try folder.readMetrics().filter { $0.epoch <= completed }
            resumed = true
        } else {
            completedEpochs = 0
            metrics = []
            resumed = false
            savedArithmetic = nil
        }
    }

    /// Where the configuration's early stop ended the run: the block whose mean L_d rose; nil while
    /// it has not (or without an early stop).
    public var earlyStop: EarlyStopping.Rise? { trainer.config.earlyStopping?.firstRise(in: metrics) }

    /// Trains until `config.epochs` (or an earlier `untilEpoch`, or the early stop's block). A
    /// non-finite loss stops it with an error naming the step and the last saved checkpoint, which is
    /// left as it was. `stopWhen` is asked before every gradient step (a signal's flag): when it says
    /// stop, the resume state is saved mid-epoch and `train` returns false; resumed, the run goes on to
    /// the same bytes as one never stopped. Returns true when it reached its end: its last epoch or its
    /// early stop.
    @discardableResult
    public func train(untilEpoch: Int? = nil, stopWhen shouldStop: () -> Bool = { false },
                      progress: ((TrainingProgress) -> Void)? = nil) throws -> Bool {
        let config = trainer.config
        while completedEpochs < min(untilEpoch ?? config.epochs, config.epochs), earlyStop == nil {
            let epoch = completedEpochs + 1
            while trainer.step < epoch * config.stepsPerEpoch {
                if shouldStop() {
                    try saveResumeState()
                    return false
                }
                let losses: StepLosses
                do {
                    losses = try trainer.step(on: data)
                } catch let TrainingError.nonFiniteLoss(name, value, step, _) {
                    let saved = folder.checkpointEpochs().last.map { folder.checkpointPath(epoch: $0) }
                    throw TrainingError.nonFiniteLoss(name: name, value: value, step: step, lastCheckpoint: saved)
                }
                for (index, value) in [losses.bcLoss, losses.qLoss, losses.criticLoss, losses.actorLoss,
                                       losses.actorGradientNorm, losses.criticGradientNorm].enumerated() {
                    epochSums[index] += Double(value)
                }
                progress?(TrainingProgress(epoch: epoch, epochs: config.epochs, step: trainer.step,
                                           totalSteps: config.totalSteps, lastEpoch: metrics.last))
            }
            let means = epochSums.map { $0 / Double(config.stepsPerEpoch) }
            metrics.append(EpochMetrics(
                epoch: epoch, step: trainer.step, bcLoss: means[0], qLoss: means[1], criticLoss: means[2], actorLoss: means[3],
                actorLearningRate: Double(trainer.actorOptimizer.learningRate),
                criticLearningRate: Double(trainer.criticOptimizer.learningRate),
                actorGradientNorm: means[4], criticGradientNorm: means[5]))
            epochSums = Self.noSums
            completedEpochs = epoch
            try save(epoch: epoch)
        }
        return true
    }

    /// Metrics first, then the checkpoint, then the resume state: a run killed in between resumes
    /// from the previous state and rewrites the same files with the same bytes.
    private func save(epoch: Int) throws {
        try folder.writeMetrics(metrics)
        if epoch % trainer.config.saveEvery == 0 || epoch == trainer.config.epochs || earlyStop?.epoch == epoch {
            try CheckpointFile.write(trainer, epoch: epoch, to: folder.checkpointPath(epoch: epoch))
        }
        try saveResumeState()
    }

    /// Networks, optimizers, the random stream, and the sums of the epoch under way (as bit patterns,
    /// so that a resume mid-epoch ends the epoch with the same means).
    private func saveResumeState() throws {
        var optimizerTensors: [NamedTensor] = []
        var metadata = ["generator": trainer.generator.snapshot, "arithmetic": DenseProducts.arithmetic,
                        "epoch_sums": epochSums.map { String($0.bitPattern, radix: 16) }.joined(separator: ":")]
        for (name, optimizer) in trainer.namedOptimizers {
            let state = optimizer.state(named: name)
            optimizerTensors += state.tensors
            metadata.merge(state.metadata) { $1 }
        }
        try CheckpointFile.write(trainer, epoch: completedEpochs, extraTensors: optimizerTensors, extraMetadata: metadata,
                                 to: folder.resumePath)
    }

    /// Loads every network, both optimizers and the random stream; returns the completed epochs, the
    /// sums of the epoch under way and the arithmetic of the products that made the state (nil in
    /// states saved before it was recorded).
    private static func restore(_ trainer: Trainer, from path: String) throws -> (epochs: Int, sums: [Double], arithmetic: String?) {
        let file = try CheckpointFile.read(contentsOf: path)
        for (network, parameters) in trainer.networks { try file.load(network, into: parameters) }
        for (name, optimizer) in trainer.namedOptimizers {
            try optimizer.restoreState(named: name, from: file.file)
        }
        guard let generator = file.file.metadata["generator"].flatMap(SeededGenerator.init(snapshot:)) else {
            throw RunFolderError.badFile(path: path, reason: "metadata 'generator' missing or malformed")
        }
        trainer.generator = generator
        trainer.step = file.step
        // Resume states written before runs could stop mid-epoch have no sums: they were saved at an epoch's end.
        let sums = file.file.metadata["epoch_sums"].map { $0.split(separator: ":").compactMap { UInt64($0, radix: 16) } }
            .map { $0.map(Double.init(bitPattern:)) } ?? noSums
        guard sums.count == noSums.count, file.step >= file.epoch * trainer.config.stepsPerEpoch else {
            throw RunFolderError.badFile(path: path, reason: "metadata 'epoch_sums' or 'step' malformed")
        }
        return (file.epoch, sums, file.file.metadata["arithmetic"])
    }

    /// A run may be extended (more epochs, another save interval) but not changed.
    private static func requireCompatible(_ stored: TrainingConfig, _ requested: TrainingConfig, folder: RunFolder) throws {
        var comparable = requested
        if !stored.learningRateDecay {
            comparable.epochs = stored.epochs
        }
        comparable.saveEvery = stored.saveEvery
        comparable.dataset = stored.dataset
        if let storedData = stored.dataset, let requestedData = requested.dataset,
           storedData.checksum != requestedData.checksum || storedData.transitions != requestedData.transitions {
            throw RunFolderError.datasetMismatch(
                path: folder.path, reason: "it had \(storedData.transitions) transitions (checksum \(storedData.checksum)) "
                    + "from \(storedData.path); this dataset has \(requestedData.transitions) (checksum \(requestedData.checksum))")
        }
        guard comparable != stored else { return }
        throw RunFolderError.configMismatch(path: folder.path, fields: differingFields(stored, comparable))
    }
}
