import CPNG
import DiffusionQL
import Environments
import Evaluation
import Foundation
import MuJoCo
import Testing
@testable import Viewer

/// Recording needs no display: it renders through EGL's surfaceless platform.
@Suite("Headless recording")
struct RecorderTests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "recorder-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    @Test("a video has the requested frames and size, as ffprobe reads it")
    func video() throws {
        let path = folder + "/gait.mp4"
        // Ten random episodes last longer than 12 frames; --max-frames ends the recording.
        let recorder = try Recorder(player: try randomHopperPlayer(episodes: 10),
                                    settings: RecordingSettings(width: 320, height: 240, framesPerSecond: 25, maxFrames: 12))
        #expect(try recorder.record(to: .video(path: path)) == 12)
        let probe = try ffprobe(path)
        #expect(probe == "320,240,12", "ffprobe read width,height,frames = \(probe)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0 != "gait.mp4" }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    /// MuJoCo ends the process on a framebuffer the driver refuses; the renderer turns that into an
    /// error with MuJoCo's message, and the recorder refuses such sizes before it asks.
    @Test("an offscreen buffer the driver refuses is an error, not an exit")
    func oversizedOffscreenBuffer() throws {
        let model = try D4RLTask.named("hopper-medium-v2").makeEnvironment(models: try ModelDirectory.locate()).simulation.model
        let failure = try #require(throws: MuJoCoError.self) {
            try SceneRenderer(model: model, graphicsContext: try HeadlessGLContext(), offscreen: (99_999, 99_999))
        }
        #expect(failure.description.contains("99999x99999") && failure.description.contains("framebuffer"), "\(failure)")
        let refused = try #require(throws: ViewerError.self) {
            try Recorder(player: try randomHopperPlayer(episodes: 1), settings: RecordingSettings(width: 20_000, height: 20_000))
        }
        #expect(refused.description.contains("20000x20000 is outside"))
        // The renderer still works after the failure.
        _ = try SceneRenderer(model: model, graphicsContext: try HeadlessGLContext(), offscreen: (64, 64))
    }

    /// The spread of the candidates (blue) over each actuator's bar and a tick (yellow) at the chosen
    /// action: drawn where asked for, and only there.
    @Test("frames can show the spread of the candidates over the action bars")
    func candidateBands() throws {
        let played = try randomHopperPlayer(episodes: 1)
        let spreads = played.evaluation.actions.map { actions in
            (0 ..< actions.count / 3).flatMap { _ in [-0.8, -0.8, -0.8, 0.8, 0.8, 0.8] }
        }
        let evaluation = RecordedEvaluation(report: played.evaluation.report, actionDimension: 3, actions: played.evaluation.actions,
                                            candidateSpreads: spreads)
        func frame(_ shown: Bool, _ name: String) throws -> DecodedPNG {
            let player = try EpisodePlayer(task: played.task, models: try ModelDirectory.locate(), evaluation: evaluation)
            let folder = self.folder + "/" + name
            try Recorder(player: player, settings: RecordingSettings(width: 320, height: 240, maxFrames: 3, showsCandidates: shown))
                .record(to: .frames(folder: folder))
            return try decodePNG(folder + "/frame_000002.png")
        }
        func bandPixels(_ image: DecodedPNG) -> Int {
            (image.height * 2 / 3 ..< image.height).reduce(0) { sum, y in
                sum + (0 ..< image.width / 2).count { x in
                    let pixel = image.pixel(x: x, y: y)
                    return pixel.blue > 200 && pixel.red < 120 && pixel.green > 120
                }
            }
        }
        #expect(bandPixels(try frame(true, "shown")) > 100)
        #expect(bandPixels(try frame(false, "hidden")) == 0)
    }

    @Test("PNG frames show the robot and a whole recording ends with its episodes")
    func pngFrames() throws {
        let player = try randomHopperPlayer(episodes: 1)
        let recorder = try Recorder(player: player, settings: RecordingSettings(width: 320, height: 240, framesPerSecond: 30))
        let frames = try recorder.record(to: .frames(folder: folder))
        // The episode's k steps of 8 ms take ceil(k * 0.008 * 30) frames after the first.
        let length = try #require(player.finished.first?.length)
        #expect(player.isDone)
        #expect(frames == 1 + Int((Double(length) * 0.008 * 30).rounded(.up)))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files.count == frames && files.first == "frame_000000.png")
        let image = try decodePNG(folder + "/frame_000000.png")
        #expect(image.width == 320 && image.height == 240)
        // The thin hopper covers about 0.2% of a 320x240 frame; floor, sky and overlay never pass as robot.
        #expect(image.robotFraction > 0.001, "the first frame shows no robot: \(image.robotFraction)")
    }

    /// A maze's frame marks the goal and shows the whole maze from above in the bottom-right corner:
    /// the goal's green shows there, and the maze's walls frame it.
    @Test("an AntMaze frame shows the goal in an overview of the maze")
    func mazeOverview() throws {
        let task = try D4RLTask.named("antmaze-umaze-v2")
        let models = try ModelDirectory.locate()
        let policy = RandomPolicy(actionSpace: try task.makeEnvironment(models: models).actionSpace)
        let evaluation = try Evaluator(task: task, models: models, threads: 1).record(policy, episodes: 1, seed: 0)
        let player = try EpisodePlayer(task: task, models: models, evaluation: evaluation)
        let recorder = try Recorder(player: player, settings: RecordingSettings(width: 320, height: 240, maxFrames: 1))
        #expect(try recorder.record(to: .frames(folder: folder)) == 1)
        let image = try decodePNG(folder + "/frame_000000.png")
        func isGoalGreen(_ pixel: (red: UInt8, green: UInt8, blue: UInt8)) -> Bool {
            Int(pixel.green) > Int(pixel.red) + 60 && Int(pixel.green) > Int(pixel.blue) + 60
        }
        // The inset is the right third of the frame, at the bottom (rows count from the top).
        var insetGreen = 0
        for y in image.height / 2..<image.height {
            for x in image.width * 2 / 3..<image.width where isGoalGreen(image.pixel(x: x, y: y)) { insetGreen += 1 }
        }
        #expect(insetGreen > 3, "no goal in the overview")
    }

    @Test("sizes that cannot be encoded and unknown formats are refused before anything is rendered")
    func badSettings() throws {
        let odd = try Recorder(player: try randomHopperPlayer(episodes: 1),
                               settings: RecordingSettings(width: 321, height: 240))
        #expect(throws: ViewerError.self) { try odd.record(to: .video(path: folder + "/odd.mp4")) }
        let recorder = try Recorder(player: try randomHopperPlayer(episodes: 1), settings: RecordingSettings(maxFrames: 2))
        let error = try #require(throws: ViewerError.self) { try recorder.record(to: .video(path: folder + "/gait.avi")) }
        #expect(error.description.contains(".mp4"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    private func ffprobe(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        process.arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0",
                             "-show_entries", "stream=width,height,nb_read_frames", "-of", "csv=p=0", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private struct DecodedPNG {
        let width: Int, height: Int
        let rgb: [UInt8]

        var robotFraction: Double {
            let robot = stride(from: 0, to: rgb.count, by: 3).count { isRobotColour((rgb[$0], rgb[$0 + 1], rgb[$0 + 2])) }
            return Double(robot) / Double(width * height)
        }

        /// The colour at column `x`, row `y` (from the top).
        func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
            let offset = (y * width + x) * 3
            return (rgb[offset], rgb[offset + 1], rgb[offset + 2])
        }
    }

    private func decodePNG(_ path: String) throws -> DecodedPNG {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else { throw SetupError("libpng cannot read \(path)") }
        image.format = UInt32(PNG_FORMAT_RGB)
        var rgb = [UInt8](repeating: 0, count: Int(image.width * image.height) * 3)
        guard png_image_finish_read(&image, nil, &rgb, 0, nil) != 0 else { throw SetupError("libpng cannot decode \(path)") }
        return DecodedPNG(width: Int(image.width), height: Int(image.height), rgb: rgb)
    }
}

@Suite("Episode player")
struct EpisodePlayerTests {
    @Test("plays the evaluation's episodes one after another, and a restart replays an episode exactly")
    func matchesEvaluation() throws {
        let player = try randomHopperPlayer(episodes: 3, seed: 9)
        try player.advance()
        try player.advance()
        player.restartEpisode()
        #expect(player.step == 0)
        while !player.isDone { try player.advance() }
        let task = try D4RLTask.named("hopper-medium-v2")
        let models = try ModelDirectory.locate()
        let actionSpace = try task.environment.makeEnvironment(models: models).actionSpace
        let headless = try Evaluator(task: task, models: models, threads: 1).evaluate(
            RandomPolicy(actionSpace: actionSpace), episodes: 3, seed: 9)
        #expect(player.finished == headless.episodes)
        #expect(player.report.meanNormalizedScore == headless.meanNormalizedScore)
    }

    /// A checkpoint acting for one episode alone rounds its products differently than beside nine
    /// others, and a hopper amplifies that; the replay takes the evaluation's own actions.
    @Test("replays run7's batched evaluation to the same returns")
    func replaysACheckpointsEvaluation() throws {
        let models = try ModelDirectory.locate()
        let (policy, task) = try CheckpointPolicy.load(try CheckpointLocation("run7"), taskOverride: nil, rule: .softmax)
        let evaluation = try Evaluator(task: task, models: models, threads: 2).record(policy, episodes: 4, seed: 0)
        #expect(evaluation.actions.map(\.count) == evaluation.report.episodes.map { 3 * $0.length })
        let player = try EpisodePlayer(task: task, models: models, evaluation: evaluation)
        while !player.isDone { try player.advance() }
        #expect(player.finished == evaluation.report.episodes)
        #expect(player.report.checkpoint == evaluation.report.checkpoint)
    }
}
