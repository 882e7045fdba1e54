/// A checkpoint with the mean behaviour-cloning loss L_d of the epochs it closes.
public struct CheckpointLoss: Sendable, Equatable {
    public var epoch: Int
    /// Mean L_d over the epochs after the previous checkpoint up to this one, as the reference
    /// averages the loss between two evaluations.
    public var meanBCLoss: Double

    public init(epoch: Int, meanBCLoss: Double) {
        self.epoch = epoch
        self.meanBCLoss = meanBCLoss
    }
}

/// Offline model selection (the paper's Section 6): rank the checkpoints by their mean L_d and take
/// the one at position `topK` (0 = lowest loss). This is the rule the paper describes; the reference
/// code's `argsort(x) == k` mask computes something else.
public enum OfflineSelection {
    /// Each checkpoint epoch with the mean L_d of its block of epochs; checkpoints whose block has no
    /// logged epoch are left out.
    public static func checkpointLosses(metrics: [EpochMetrics], checkpointEpochs: [Int]) -> [CheckpointLoss] {
        var previous = 0
        var result: [CheckpointLoss] = []
        for epoch in checkpointEpochs.sorted() {
            let block = metrics.filter { $0.epoch > previous && $0.epoch <= epoch }
            previous = epoch
            guard !block.isEmpty else { continue }
            result.append(CheckpointLoss(epoch: epoch, meanBCLoss: block.map(\.bcLoss).reduce(0, +) / Double(block.count)))
        }
        return result
    }

    /// The chosen checkpoint: the `topK`-th lowest mean L_d; nil when there is no such rank (fewer
    /// checkpoints than `topK` + 1). Ties keep the earlier epoch first.
    public static func choose(_ losses: [CheckpointLoss], topK: Int) -> CheckpointLoss? {
        guard losses.indices.contains(topK) else { return nil }
        let ranked = losses.enumerated().sorted { ($0.element.meanBCLoss, $0.offset) < ($1.element.meanBCLoss, $1.offset) }
        return ranked[topK].element
    }
}

/// The reference's early stop (its `--early_stop`): training ends at the first block of
/// `blockEpochs` epochs whose mean L_d rose above the previous block's. The reference checks it at
/// each evaluation, every 50 epochs, and the block that rose is still saved and evaluated.
public struct EarlyStopping: Codable, Sendable, Equatable {
    /// Epochs per block: the reference's evaluation interval.
    public var blockEpochs: Int

    public init(blockEpochs: Int = 50) {
        self.blockEpochs = blockEpochs
    }

    /// The block whose mean L_d rose, with the mean of the block before it.
    public struct Rise: Sendable, Equatable {
        /// The block's last epoch, where the run stops.
        public var epoch: Int
        public var previousMeanBCLoss: Double
        public var meanBCLoss: Double

        public init(epoch: Int, previousMeanBCLoss: Double, meanBCLoss: Double) {
            self.epoch = epoch
            self.previousMeanBCLoss = previousMeanBCLoss
            self.meanBCLoss = meanBCLoss
        }
    }

    /// Where a run with these metrics (epochs 1, 2, … in order) stops; nil while no complete block
    /// has risen. A block equal to the one before does not stop it.
    public func firstRise(in metrics: [EpochMetrics]) -> Rise? {
        guard blockEpochs >= 1, let last = metrics.last?.epoch, last >= 2 * blockEpochs else { return nil }
        let blocks = OfflineSelection.checkpointLosses(metrics: metrics, checkpointEpochs: Array(stride(from: blockEpochs, through: last, by: blockEpochs)))
        return zip(blocks, blocks.dropFirst()).first { $1.meanBCLoss > $0.meanBCLoss }
            .map { Rise(epoch: $1.epoch, previousMeanBCLoss: $0.meanBCLoss, meanBCLoss: $1.meanBCLoss) }
    }
}
