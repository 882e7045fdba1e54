import Foundation
import MuJoCo
import Persistence

/// Where a recording goes: a video file (encoded by ffmpeg) or a folder of PNG frames.
public enum RecordingOutput: Sendable, Equatable {
    case video(path: String)
    case frames(folder: String)
}

/// Size and pace of a recording.
public struct RecordingSettings: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Frames per second of simulated time.
    public var framesPerSecond: Int
    /// Stop after this many frames even when episodes remain.
    public var maxFrames: Int?
    /// Whether the action bars show the spread of the candidates each action was chosen from.
    public var showsCandidates: Bool

    public init(width: Int = 640, height: Int = 480, framesPerSecond: Int = 30, maxFrames: Int? = nil, showsCandidates: Bool = false) {
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.maxFrames = maxFrames
        self.showsCandidates = showsCandidates
    }

    /// Throws unless the settings can record into `output`: sizes, rates, the video container and
    /// ffmpeg, and a destination that takes files. A caller can refuse them before any work.
    public func validate(for output: RecordingOutput) throws(ViewerError) {
        try validate()
        switch output {
        case let .video(path):
            guard width.isMultiple(of: 2) && height.isMultiple(of: 2) else {
                throw .invalidRecording("video needs an even width and height (H.264 with 4:2:0 chroma); got \(width)x\(height)")
            }
            _ = try VideoEncoder.container(of: path)
            guard VideoEncoder.locateFFmpeg() != nil else { throw .ffmpegNotFound }
            try requireWritable(path)
        case let .frames(folder):
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
                guard isFolder.boolValue else { throw .invalidRecording("\(folder): exists and is not a folder for the frames") }
                try requireWritable(folder + "/frame_00000.png")
            } else {
                try requireWritable(folder)
            }
        }
    }

    /// Sizes and rates alone: before a renderer is made for them.
    func validate() throws(ViewerError) {
        guard width >= 16, height >= 16, width <= 8192, height <= 8192 else {
            throw .invalidRecording("the recording size \(width)x\(height) is outside 16x16 ... 8192x8192")
        }
        guard framesPerSecond >= 1, framesPerSecond <= 240 else {
            throw .invalidRecording("the frame rate \(framesPerSecond) is outside 1 ... 240 frames per second")
        }
        if let maxFrames, maxFrames < 1 { throw .invalidRecording("--max-frames must be at least 1 (got \(maxFrames))") }
    }

    private func requireWritable(_ path: String) throws(ViewerError) {
        do {
            try AtomicFile.requireWritable(path)
        } catch {
            throw .invalidRecording(error.description)
        }
    }
}

/// Renders a player's episodes offscreen, with no window and no display, one frame every
/// 1/fps seconds of simulated time (the video plays at real time), overlay included: the episodes
/// of the evaluation the player replays.
public final class Recorder {
    public let player: EpisodePlayer
    public let settings: RecordingSettings
    private let renderer: SceneRenderer
    private let painter: FramePainter
    private var image: RGBImage

    public init(player: EpisodePlayer, settings: RecordingSettings) throws {
        self.player = player
        self.settings = settings
        try settings.validate()
        renderer = try SceneRenderer(model: player.environment.simulation.model, graphicsContext: try HeadlessGLContext(),
                                     offscreen: (settings.width, settings.height))
        renderer.useOffscreenBuffer()
        renderer.setCamera(.tracking(body: torsoBody))
        renderer.viewFromTheSide(of: player.environment)
        painter = FramePainter(player: player, renderer: renderer)
        image = RGBImage(width: settings.width, height: settings.height)
    }

    /// Plays the episodes into `output` and returns the number of frames written. `progress` gets
    /// the frame count after every frame.
    @discardableResult
    public func record(to output: RecordingOutput, progress: (Int) -> Void = { _ in }) throws -> Int {
        try settings.validate(for: output)
        switch output {
        case let .video(path):
            var frames = 0
            try AtomicFile.replace(path) { temporary in
                let encoder = try VideoEncoder(path: temporary, finalPath: path, settings: settings)
                frames = try play { try encoder.write($0); progress(encoder.framesWritten) }
                try encoder.finish()
            }
            return frames
        case let .frames(folder):
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var index = 0
            return try play { image in
                try image.writePNG(to: (folder as NSString).appendingPathComponent(String(format: "frame_%06d.png", index)))
                index += 1
                progress(index)
            }
        }
    }

    /// Renders frame k at simulated time k/fps until every episode is done (its last state
    /// included) or `maxFrames` frames are out.
    private func play(_ emit: (RGBImage) throws -> Void) throws -> Int {
        let viewport = PixelRect(left: 0, bottom: 0, width: settings.width, height: settings.height)
        var banner = EndingBanner()
        var frames = 0, simulatedTime = 0.0
        while true {
            painter.paint(viewport, status: OverlayStatus(cameraName: "tracking torso", banner: banner.text(now: simulatedTime),
                                                          showsCandidates: settings.showsCandidates))
            image.read(from: renderer, viewport: viewport)
            try emit(image)
            frames += 1
            if frames == settings.maxFrames || player.isDone { return frames }
            let due = Double(frames) / Double(settings.framesPerSecond)
            while simulatedTime < due && !player.isDone {
                try player.advance()
                simulatedTime += player.environment.controlPeriod
                banner.update(player, now: simulatedTime)
            }
        }
    }
}

/// Raw RGB frames piped into ffmpeg, which encodes them into the container of the file's extension.
final class VideoEncoder {
    private let process = Process()
    private let input = Pipe()
    private let errors = Pipe()
    private let finalPath: String
    private(set) var framesWritten = 0

    /// `path` is where ffmpeg writes (a temporary name); `finalPath` names the container and the errors.
    init(path: String, finalPath: String, settings: RecordingSettings) throws {
        self.finalPath = finalPath
        guard let ffmpeg = Self.locateFFmpeg() else { throw ViewerError.ffmpegNotFound }
        let container = try Self.container(of: finalPath)
        // A closed pipe must surface as an error from write, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = [
            "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pixel_format", "rgb24", "-video_size", "\(settings.width)x\(settings.height)",
            "-framerate", "\(settings.framesPerSecond)", "-i", "pipe:0",
        ] + container.codecArguments + ["-f", container.format, path]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
    }

    func write(_ image: RGBImage) throws {
        do {
            try input.fileHandleForWriting.write(contentsOf: image.pixels)
            framesWritten += 1
        } catch {
            process.waitUntilExit()
            throw failure()
        }
    }

    /// Closes ffmpeg's input and waits for the file to be complete.
    func finish() throws {
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw failure() }
    }

    private func failure() -> ViewerError {
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return .ffmpegFailed(path: finalPath, status: process.terminationStatus, message: message)
    }

    struct Container {
        let format: String
        let codecArguments: [String]
    }

    /// The muxer and codec settings for a file name's extension.
    static func container(of path: String) throws(ViewerError) -> Container {
        switch (path as NSString).pathExtension.lowercased() {
        case "mp4", "mov":
            // yuv420p: the pixel format every player decodes.
            return Container(format: path.lowercased().hasSuffix("mov") ? "mov" : "mp4",
                             codecArguments: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        case "mkv": return Container(format: "matroska", codecArguments: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        case "webm": return Container(format: "webm", codecArguments: ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p"])
        case "gif": return Container(format: "gif", codecArguments: [])
        default:
            throw .invalidRecording("cannot tell the video format of \(path): use .mp4, .mov, .mkv, .webm or .gif")
        }
    }

    static func locateFFmpeg() -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/ffmpeg" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
