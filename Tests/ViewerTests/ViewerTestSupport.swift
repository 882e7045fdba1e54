import Environments
import Evaluation
import Foundation
import Viewer

/// A player of random-policy hopper episodes, the same ones `rollout --policy random` evaluates.
func randomHopperPlayer(episodes: Int, seed: UInt64 = 0) throws -> EpisodePlayer {
    let task = try D4RLTask.named("hopper-medium-v2")
    let models = try ModelDirectory.locate()
    let policy = RandomPolicy(actionSpace: try task.makeEnvironment(models: models).actionSpace)
    let evaluation = try Evaluator(task: task, models: models, threads: 1).record(policy, episodes: episodes, seed: seed)
    return try EpisodePlayer(task: task, models: models, evaluation: evaluation)
}

/// The hopper's material is (0.8, 0.6, 0.4); the floor and the sky are grey and blue. Shading
/// scales the colour, so a robot pixel is one clearly redder than it is blue.
func isRobotColour(_ pixel: (red: UInt8, green: UInt8, blue: UInt8)) -> Bool {
    Int(pixel.red) > Int(pixel.blue) + 25 && pixel.red >= pixel.green && pixel.green >= pixel.blue
}

func robotPixelFraction(_ image: RGBImage) -> Double {
    var count = 0
    for y in 0..<image.height {
        for x in 0..<image.width where isRobotColour(image.pixel(x: x, y: y)) { count += 1 }
    }
    return Double(count) / Double(image.width * image.height)
}

/// A private X server for one test: started with -terminate, so it exits when the test's window
/// closes its connection (or the test process dies), and never outlives the test run.
final class VirtualDisplay {
    let name: String
    private let process = Process()

    init() throws {
        guard let xvfb = ["/usr/bin/Xvfb", "/usr/local/bin/Xvfb"].first(where: FileManager.default.isExecutableFile)
        else { throw SetupError("Xvfb not found: run tools/setup (Debian package xvfb)") }
        let number = 100 + Int(getpid() % 800)
        name = ":\(number)"
        process.executableURL = URL(fileURLWithPath: xvfb)
        process.arguments = [name, "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-terminate"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let socket = "/tmp/.X11-unix/X\(number)"
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(50_000) }
        guard FileManager.default.fileExists(atPath: socket) else { throw SetupError("Xvfb \(name) did not start") }
        setenv("DISPLAY", name, 1)
    }

    deinit {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        unsetenv("DISPLAY")
    }
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
