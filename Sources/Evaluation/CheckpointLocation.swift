import DiffusionQL
import Foundation

public enum CheckpointLocationError: Error, Equatable, CustomStringConvertible {
    case notFound(argument: String, runs: [String])
    case noCheckpoints(path: String)
    case noSuchEpoch(path: String, epoch: Int, available: [Int])

    public var description: String {
        switch self {
        case let .notFound(argument, runs):
            "no run or checkpoint '\(argument)': not a file, not a folder, and not a run under checkpoints/ "
                + (runs.isEmpty ? "(which holds none)" : "(which holds \(runs.joined(separator: ", ")))")
        case let .noCheckpoints(path):
            "\(path): the run has no checkpoint yet (epoch_NNNN.safetensors)"
        case let .noSuchEpoch(path, epoch, available):
            "\(path): no checkpoint of epoch \(epoch); the run has epochs \(available.map(String.init).joined(separator: ", "))"
        }
    }
}

/// What `--ckpt` names: one checkpoint file, or a run (a folder, or a name under `checkpoints/`) with
/// its checkpoints, of which the newest is meant unless an epoch is given.
public struct CheckpointLocation: Sendable {
    /// The run the checkpoint belongs to; nil for a file given on its own.
    public let run: RunFolder?
    /// The checkpoint meant.
    public let path: String

    public static let runsFolder = "checkpoints"

    public init(_ argument: String, epoch: Int? = nil) throws {
        var isFolder: ObjCBool = false
        let candidates = [argument, "\(Self.runsFolder)/\(argument)"]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) }) else {
            throw CheckpointLocationError.notFound(argument: argument, runs: Self.availableRuns())
        }
        guard isFolder.boolValue else {
            run = nil
            path = found
            return
        }
        let folder = RunFolder(path: found)
        let epochs = folder.checkpointEpochs()
        guard let newest = epochs.last else { throw CheckpointLocationError.noCheckpoints(path: found) }
        let chosen = epoch ?? newest
        guard epochs.contains(chosen) else {
            throw CheckpointLocationError.noSuchEpoch(path: found, epoch: chosen, available: epochs)
        }
        run = folder
        path = folder.checkpointPath(epoch: chosen)
    }

    /// The runs under `checkpoints/` (folders holding a Diffusion-QL configuration).
    public static func availableRuns() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsFolder)) ?? []
        return names.filter { (try? RunFolder(path: "\(runsFolder)/\($0)").readConfig()) != nil }.sorted()
    }
}
