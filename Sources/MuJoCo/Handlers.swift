import CMuJoCo
import Foundation

/// MuJoCo's default handlers print to stdout, append to MUJOCO_LOG.TXT in the working directory and,
/// for errors, wait for Enter before exiting. Warnings are reported per step through
/// `Simulation.step()` instead, so the global warning handler stays silent; a fatal error (which MuJoCo
/// cannot recover from) is written to stderr before the process exits with status 1.
enum MuJoCoHandlers {
    static let installed: Void = {
        cmujoco_set_handlers({ _ in }, { message in
            let text = message.map { String(cString: $0) } ?? "unknown error"
            FileHandle.standardError.write(Data("MuJoCo fatal error: \(text)\n".utf8))
            exit(1)
        })
    }()
}
