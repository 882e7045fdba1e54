import Foundation

/// Finds a folder of this package's checkout (`models/`, `checkpoints/`) the same way for every kind:
/// beside the working directory or one of its ancestors, then beside the executable or one of its
/// ancestors, then in the checkout this code was built from (which is also where a package that depends
/// on this one has its copy).
public enum CheckoutFolder {
    /// Every place a folder called `name` is looked for, in order, without duplicates. The working
    /// directory's own is given as the relative path `name`, so that what names it (a report's
    /// checkpoint path, say) reads the same wherever the checkout lives.
    public static func candidates(named name: String) -> [String] {
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent(),
        ]
        var seen: Set<String> = [starts[0].standardizedFileURL.appendingPathComponent(name).path]
        var candidates = [name]
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent(name).path
                if seen.insert(candidate).inserted { candidates.append(candidate) }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        return candidates
    }

    /// The first candidate for `name` that `isWanted` accepts, or nil with the candidates in order.
    public static func locate(named name: String, where isWanted: (String) -> Bool) -> (found: String?, searched: [String]) {
        let candidates = candidates(named: name)
        return (candidates.first(where: isWanted), candidates)
    }
}

/// The folders of trained runs, `checkpoints/`: the working directory's, its ancestors', the checkout's
/// beside the executable and the checkout of the sources (as `CheckoutFolder` orders them), so that a
/// run is found by its name from anywhere in or beside a checkout.
public enum RunsFolder {
    public static let name = "checkpoints"

    /// The `checkpoints/` folders that exist, in search order.
    public static func existing() -> [String] {
        CheckoutFolder.candidates(named: name).filter(isFolder)
    }

    /// The path of the run (or file) called `run` in the first runs folder that holds it; nil when none
    /// does.
    public static func find(_ run: String) -> String? {
        existing().lazy.map { "\($0)/\(run)" }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Where the run `run` lives: a path as given when it names a folder (it holds a slash), else where a
    /// run of that name already is, else `checkpoints/<run>` under the working directory, where a new
    /// run starts.
    public static func path(ofRun run: String) -> String {
        if run.contains("/") { return run }
        return find(run) ?? "\(name)/\(run)"
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
