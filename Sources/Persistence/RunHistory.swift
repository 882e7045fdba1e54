import Foundation

/// A run folder holding a run's history (checkpoints, logs) without the state to resume from: going on
/// would rewrite that history from the start, so it is refused unless the user asks to start over.
public struct RunHistoryError: Error, Equatable, CustomStringConvertible {
    public let folder: String
    /// What was found, e.g. "metrics.csv", "4 checkpoints (epochs 50 to 200)".
    public let found: [String]
    public let resumeFile: String
    /// The command-line flag that starts over.
    public let startOverFlag: String

    public var description: String {
        "\(folder) holds a run's history (\(found.joined(separator: ", "))) but no \(resumeFile) to continue from; "
            + "going on would rewrite it from the start. Use another folder, or pass \(startOverFlag) to delete "
            + "that history and start the run again."
    }
}

/// Run folders that never lose their history by accident.
public enum RunHistory {
    /// The files of `history` (named relative to `folder`, with how to describe each; files may share a
    /// description, which is said once) that exist there.
    /// Unless the resume state exists, finding any throws `RunHistoryError`; with `startOver` they, the
    /// resume state and `extraFiles` (the configuration) are deleted instead, and their paths returned.
    /// The temporaries of interrupted writes are removed either way.
    @discardableResult
    public static func requireResumable(
        folder: String, history: [(file: String, description: String)], resumeFile: String = "resume.safetensors",
        extraFiles: [String] = ["config.json"], startOver: Bool, startOverFlag: String = "--start-over"
    ) throws -> [String] {
        AtomicFile.removeInterruptedWrites(in: folder)
        let manager = FileManager.default
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let present = history.filter { manager.fileExists(atPath: path($0.file)) }
        if startOver {
            let doomed = (present.map(\.file) + [resumeFile] + extraFiles).map(path).filter { manager.fileExists(atPath: $0) }
            for file in doomed { try manager.removeItem(atPath: file) }
            return doomed
        }
        guard !present.isEmpty, !manager.fileExists(atPath: path(resumeFile)) else { return [] }
        var said = Set<String>()
        let found = present.map(\.description).filter { said.insert($0).inserted }
        throw RunHistoryError(folder: folder, found: found, resumeFile: resumeFile, startOverFlag: startOverFlag)
    }
}

extension AtomicFile {
    /// Removes the temporary files that `replace` leaves in `folder` when the process is killed
    /// mid-write (`.NAME.UUID.tmp`, and the probes of `requireWritable`); returns their names.
    @discardableResult
    public static func removeInterruptedWrites(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let leftovers = names.filter { name in
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            return name.hasPrefix(".") && parts.count >= 4 && ["tmp", "probe"].contains(parts.last!)
                && UUID(uuidString: String(parts[parts.count - 2])) != nil
        }
        for name in leftovers { try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name)) }
        return leftovers.sorted()
    }
}
