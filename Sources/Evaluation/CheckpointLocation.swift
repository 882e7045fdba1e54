import DiffusionQL
import Foundation
import Persistence

public enum CheckpointLocationError: Error, Equatable, CustomStringConvertible {
    /// `searched`: each runs folder there is, with the runs it holds.
    case notFound(argument: String, searched: [RunsFolderContents])
    case noCheckpoints(path: String)
    case noSuchEpoch(path: String, epoch: Int, available: [Int])
    /// An epoch was asked of a single checkpoint file.
    case epochOfAFile(path: String, epoch: Int)

    public var description: String {
        switch self {
        case let .notFound(argument, searched):
            "no run or checkpoint '\(argument)': not a file, not a folder, and not a run in "
                + (searched.isEmpty
                    ? "any \(RunsFolder.name)/ folder (none in the working directory, its parents or the checkout)"
                    : searched.map(\.description).joined(separator: ", "))
        case let .noCheckpoints(path):
            "\(path): the run has no checkpoint yet (epoch_NNNN.safetensors)"
        case let .epochOfAFile(path, epoch):
            "\(path) is one checkpoint file; an epoch (\(epoch)) picks a checkpoint of a run: give the run folder instead"
        case let .noSuchEpoch(path, epoch, available):
            "\(path): no checkpoint of epoch \(epoch); the run has epochs \(available.map(String.init).joined(separator: ", "))"
        }
    }
}

/// What `--ckpt` names: one checkpoint file, or a run (a folder, or the name of a run in a `checkpoints/`
/// folder, found as `RunsFolder` says) with its checkpoints, of which the newest is meant unless an
/// epoch is given.
public struct CheckpointLocation: Sendable {
    /// The run the checkpoint belongs to; nil for a file given on its own.
    public let run: RunFolder?
    /// The checkpoint meant.
    public let path: String

    public init(_ argument: String, epoch: Int? = nil) throws {
        var isFolder: ObjCBool = false
        guard let found = FileManager.default.fileExists(atPath: argument) ? argument : RunsFolder.find(argument),
              FileManager.default.fileExists(atPath: found, isDirectory: &isFolder)
        else {
            throw CheckpointLocationError.notFound(argument: argument, searched: Self.availableRuns())
        }
        guard isFolder.boolValue else {
            if let epoch { throw CheckpointLocationError.epochOfAFile(path: found, epoch: epoch) }
            run = nil
            path = found
            return
        }
        let folder = RunFolder(path: found)
        if folder.holdsRun { _ = try folder.readConfig() }
        let epochs = folder.checkpointEpochs()
        guard let newest = epochs.last else { throw CheckpointLocationError.noCheckpoints(path: found) }
        let chosen = epoch ?? newest
        guard epochs.contains(chosen) else {
            throw CheckpointLocationError.noSuchEpoch(path: found, epoch: chosen, available: epochs)
        }
        run = folder
        path = folder.checkpointPath(epoch: chosen)
    }

    /// Each runs folder there is, with the Diffusion-QL runs it holds (folders with a configuration).
    public static func availableRuns() -> [RunsFolderContents] {
        RunsFolder.existing().map { folder in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return RunsFolderContents(
                folder: folder, runs: names.filter { (try? RunFolder(path: "\(folder)/\($0)").readConfig()) != nil }.sorted())
        }
    }
}

/// A runs folder and the Diffusion-QL runs in it, for errors that say where a run was looked for.
public struct RunsFolderContents: Sendable, Equatable, CustomStringConvertible {
    public let folder: String
    public let runs: [String]

    public var description: String {
        "\(folder)/ (" + (runs.isEmpty ? "no runs" : "runs: " + runs.joined(separator: ", ")) + ")"
    }
}
