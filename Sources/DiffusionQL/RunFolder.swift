import Foundation
import Persistence

/// The means over one epoch's gradient steps: one row of a run's `metrics.csv`.
public struct EpochMetrics: Sendable, Equatable {
    public var epoch: Int
    /// Gradient steps taken by the end of the epoch.
    public var step: Int
    public var bcLoss: Double
    public var qLoss: Double
    public var criticLoss: Double
    public var actorLoss: Double
    /// The learning rates of the epoch's last step.
    public var actorLearningRate: Double
    public var criticLearningRate: Double
    /// Mean gradient norms before clipping.
    public var actorGradientNorm: Double
    public var criticGradientNorm: Double

    static let header = "epoch,step,bc_loss,q_loss,critic_loss,actor_loss,actor_lr,critic_lr,actor_grad_norm,critic_grad_norm"

    var csvLine: String {
        "\(epoch),\(step)," + [bcLoss, qLoss, criticLoss, actorLoss, actorLearningRate, criticLearningRate,
                               actorGradientNorm, criticGradientNorm].map { "\($0)" }.joined(separator: ",")
    }

    init?(csvLine: String) {
        let fields = csvLine.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 10, let epoch = Int(fields[0]), let step = Int(fields[1]) else { return nil }
        let values = fields[2...].compactMap(Double.init)
        guard values.count == 8 else { return nil }
        self.init(epoch: epoch, step: step, bcLoss: values[0], qLoss: values[1], criticLoss: values[2], actorLoss: values[3],
                  actorLearningRate: values[4], criticLearningRate: values[5], actorGradientNorm: values[6],
                  criticGradientNorm: values[7])
    }

    public init(epoch: Int, step: Int, bcLoss: Double, qLoss: Double, criticLoss: Double, actorLoss: Double,
                actorLearningRate: Double, criticLearningRate: Double, actorGradientNorm: Double, criticGradientNorm: Double) {
        self.epoch = epoch
        self.step = step
        self.bcLoss = bcLoss
        self.qLoss = qLoss
        self.criticLoss = criticLoss
        self.actorLoss = actorLoss
        self.actorLearningRate = actorLearningRate
        self.criticLearningRate = criticLearningRate
        self.actorGradientNorm = actorGradientNorm
        self.criticGradientNorm = criticGradientNorm
    }
}

public enum RunFolderError: Error, Equatable, CustomStringConvertible {
    case noRun(path: String)
    case badFile(path: String, reason: String)
    case configMismatch(path: String, fields: [String])
    case datasetMismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case let .noRun(path):
            "\(path): no training run here (no config.json)"
        case let .badFile(path, reason):
            "\(path): \(reason)"
        case let .configMismatch(path, fields):
            "\(path): the run was started with another configuration (\(fields.joined(separator: ", ")) differ); "
                + "resume with the same settings or choose a new run name"
        case let .datasetMismatch(path, reason):
            "\(path): the run was trained on other data: \(reason)"
        }
    }
}

/// A run on disk: `config.json`, `metrics.csv` (one row per epoch), `epoch_NNNN.safetensors` (one
/// checkpoint per saved epoch) and `resume.safetensors` (the newest complete state: networks,
/// optimizer moments, step and random stream). Every file is replaced atomically.
public struct RunFolder: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var configPath: String { file("config.json") }
    public var metricsPath: String { file("metrics.csv") }
    public var resumePath: String { file("resume.safetensors") }

    public func checkpointPath(epoch: Int) -> String {
        file(String(format: "epoch_%04d.safetensors", epoch))
    }

    /// Whether a run has been started here.
    public var holdsRun: Bool { FileManager.default.fileExists(atPath: configPath) }

    /// The epochs that have a checkpoint, oldest first.
    public func checkpointEpochs() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("epoch_"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst("epoch_".count).dropLast(".safetensors".count))
        }.sorted()
    }

    /// Throws `RunHistoryError` when the folder holds metrics or checkpoints but no resume state; with
    /// `startOver`, deletes them, the resume state and the configuration instead and returns their paths.
    /// Interrupted writes' temporary files are removed either way.
    @discardableResult
    public func requireResumable(startOver: Bool) throws -> [String] {
        let epochs = checkpointEpochs()
        var history: [(file: String, description: String)] = [("metrics.csv", "metrics.csv")]
        for epoch in epochs {
            let name = (checkpointPath(epoch: epoch) as NSString).lastPathComponent
            let summary = epochs.count == 1 ? "1 checkpoint (epoch \(epoch))"
                : "\(epochs.count) checkpoints (epochs \(epochs.first!) to \(epochs.last!))"
            history.append((name, summary))
        }
        return try RunHistory.requireResumable(folder: path, history: history, startOver: startOver)
    }

    public func readConfig() throws -> TrainingConfig {
        guard holdsRun else { throw RunFolderError.noRun(path: path) }
        do {
            return try TrainingConfig.decode(json: String(contentsOfFile: configPath, encoding: .utf8))
        } catch {
            throw RunFolderError.badFile(path: configPath, reason: "not a run configuration: \(plainDescription(of: error))")
        }
    }

    func writeConfig(_ config: TrainingConfig) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try AtomicFile.write(config.encodedJSON() + "\n", to: configPath)
    }

    /// The metrics log; empty before the first epoch ends.
    public func readMetrics() throws -> [EpochMetrics] {
        guard FileManager.default.fileExists(atPath: metricsPath) else { return [] }
        let lines = try String(contentsOfFile: metricsPath, encoding: .utf8).split(separator: "\n").map(String.init)
        guard lines.first == EpochMetrics.header else {
            throw RunFolderError.badFile(path: metricsPath, reason: "the first line is not the expected header '\(EpochMetrics.header)'")
        }
        return try lines.dropFirst().enumerated().map { index, line in
            guard let metrics = EpochMetrics(csvLine: line) else {
                throw RunFolderError.badFile(path: metricsPath, reason: "line \(index + 2) is not 10 numbers: '\(line)'")
            }
            return metrics
        }
    }

    func writeMetrics(_ metrics: [EpochMetrics]) throws {
        let text = ([EpochMetrics.header] + metrics.map(\.csvLine)).joined(separator: "\n") + "\n"
        try AtomicFile.write(text, to: metricsPath)
    }

    /// A file of the run, relative when the run's path is (so reports say `checkpoints/run7/...`
    /// wherever the checkout lives).
    private func file(_ name: String) -> String {
        (path as NSString).appendingPathComponent(name)
    }
}
