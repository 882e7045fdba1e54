import CGLFW
import Evaluation
import Foundation
import MuJoCo

/// What a key asks the viewer to do; the keys are those of MuJoCo's simulate.
public enum ViewerCommand: Sendable, Equatable {
    case togglePause, stepOnce, restartEpisode, slower, faster, previousCamera, nextCamera, toggleCandidates, toggleHelp, quit

    /// The command of a GLFW key code, or nil for a key the viewer ignores.
    public init?(glfwKey key: Int32) {
        switch key {
        case GLFW_KEY_SPACE: self = .togglePause
        case GLFW_KEY_RIGHT: self = .stepOnce
        case GLFW_KEY_BACKSPACE: self = .restartEpisode
        case GLFW_KEY_MINUS: self = .slower
        case GLFW_KEY_EQUAL: self = .faster
        case GLFW_KEY_LEFT_BRACKET: self = .previousCamera
        case GLFW_KEY_RIGHT_BRACKET: self = .nextCamera
        case GLFW_KEY_C: self = .toggleCandidates
        case GLFW_KEY_F1: self = .toggleHelp
        case GLFW_KEY_ESCAPE, GLFW_KEY_Q: self = .quit
        default: return nil
        }
    }
}

/// A window that plays a player's episodes at real time (times the chosen speed).
///
/// Each frame first advances the replayed episode by the wall time since the previous frame, then
/// draws the state it reached: rendering only decides which states are shown, never what happens.
/// When the physics cannot keep up, the playback falls behind real time and says so.
public final class LiveViewer {
    public let player: EpisodePlayer
    private let window: Window
    private let renderer: SceneRenderer
    private let painter: FramePainter

    public private(set) var isPaused = false
    /// Simulated seconds per wall-clock second, a power of two.
    public private(set) var speed = 1.0
    public private(set) var framesDrawn = 0
    public private(set) var showsHelp = false
    /// Whether the action bars show the spread of the candidates each action was chosen from (key C).
    public var showsCandidates = false
    public private(set) var quitRequested = false
    /// Index into `cameras`.
    public private(set) var cameraIndex = 0
    /// The cameras `[` and `]` cycle through: tracking the torso, free, then the model's own.
    public let cameras: [(name: String, mode: CameraMode)]

    private var pendingCommands: [ViewerCommand] = []
    private var banner = EndingBanner()
    private let start = ContinuousClock.now
    private var lastFrame: ContinuousClock.Instant?
    /// Simulated time owed to the wall clock.
    private var simulationDebt = 0.0
    private var isBehind = false
    private var drag = MouseDrag()

    public init(player: EpisodePlayer, width: Int = 1280, height: Int = 800) throws {
        self.player = player
        window = try Window(title: "\(player.task.name) · \(player.evaluation.report.checkpoint)", width: width, height: height)
        renderer = try SceneRenderer(model: player.environment.simulation.model, graphicsContext: window, fontScale: 150)
        painter = FramePainter(player: player, renderer: renderer)
        cameras = Self.cameras(renderer)
        selectCamera(0)
        installCallbacks()
    }

    deinit {
        glfwSetWindowUserPointer(window.handle, nil)
    }

    static func cameras(_ renderer: SceneRenderer) -> [(name: String, mode: CameraMode)] {
        [("tracking torso", .tracking(body: torsoBody)), ("free", .free)]
            + (0..<renderer.modelCameraCount).map { ("model: " + renderer.modelCameraName($0), .fixed(camera: $0)) }
    }

    /// Plays until the window is closed, a quit key is pressed, or `maxFrames` frames are drawn.
    public func run(maxFrames: Int? = nil) throws {
        while !quitRequested && !window.shouldClose && framesDrawn < (maxFrames ?? .max) {
            try frame()
        }
    }

    /// Handles events, advances the playback by the wall time since the last frame, and draws.
    public func frame() throws {
        glfwPollEvents()
        let now = ContinuousClock.now
        let elapsed = lastFrame.map { min((now - $0).inSeconds, 0.1) } ?? 0
        lastFrame = now
        let commands = pendingCommands
        pendingCommands.removeAll()
        for command in commands { try perform(command) }
        if !isPaused { try advance(bySimulatedSeconds: elapsed * speed, budgetSeconds: 0.05) }
        draw()
        glfwSwapBuffers(window.handle)
        framesDrawn += 1
    }

    /// Queues the command of a GLFW key, as the key callback does; it runs at the next frame.
    public func press(key: Int32) {
        if let command = ViewerCommand(glfwKey: key) { pendingCommands.append(command) }
    }

    /// The current state drawn into the window's back buffer and read back: a screenshot.
    public func screenshot() -> RGBImage {
        draw()
        let (width, height) = window.framebufferSize
        var image = RGBImage(width: width, height: height)
        image.read(from: renderer, viewport: PixelRect(left: 0, bottom: 0, width: width, height: height))
        return image
    }

    /// Where the torso appeared in the last frame, in pixels from the top-left corner.
    public func torsoPixel() -> (x: Int, y: Int)? {
        let (width, height) = window.framebufferSize
        guard let pixel = renderer.pixel(of: player.environment.simulation.bodyPosition(torsoBody),
                                         viewport: PixelRect(left: 0, bottom: 0, width: width, height: height))
        else { return nil }
        return (Int(pixel.x), height - 1 - Int(pixel.y))
    }

    public func perform(_ command: ViewerCommand) throws {
        switch command {
        case .togglePause: isPaused.toggle()
        case .stepOnce:
            if isPaused { try player.advance() }
        case .restartEpisode:
            player.restartEpisode()
            simulationDebt = 0
        case .slower: speed = max(speed / 2, 1.0 / 32)
        case .faster: speed = min(speed * 2, 32)
        case .previousCamera: selectCamera((cameraIndex + cameras.count - 1) % cameras.count)
        case .nextCamera: selectCamera((cameraIndex + 1) % cameras.count)
        case .toggleCandidates: showsCandidates.toggle()
        case .toggleHelp: showsHelp.toggle()
        case .quit: quitRequested = true
        }
        banner.update(player, now: wallSeconds)
    }

    private var wallSeconds: Double { (ContinuousClock.now - start).inSeconds }

    private func selectCamera(_ index: Int) {
        cameraIndex = index
        renderer.setCamera(cameras[index].mode)
        if index < 2 { renderer.viewFromTheSide(of: player.environment) }
    }

    /// Steps until the playback has caught up with `seconds` more of simulated time, or until
    /// `budgetSeconds` of wall time are spent (then the rest is dropped: the playback falls behind).
    private func advance(bySimulatedSeconds seconds: Double, budgetSeconds: Double) throws {
        simulationDebt += seconds
        let period = player.environment.controlPeriod
        let deadline = ContinuousClock.now + .milliseconds(Int(budgetSeconds * 1000))
        isBehind = false
        while simulationDebt >= period && !player.isDone {
            try player.advance()
            simulationDebt -= period
            banner.update(player, now: wallSeconds)
            if ContinuousClock.now > deadline {
                isBehind = simulationDebt >= period
                simulationDebt = 0
                break
            }
        }
        if player.isDone { simulationDebt = 0 }
    }

    private func draw() {
        let (width, height) = window.framebufferSize
        painter.paint(PixelRect(left: 0, bottom: 0, width: width, height: height), status: OverlayStatus(
            speed: speed, isPaused: isPaused, cameraName: cameras[cameraIndex].name,
            banner: banner.text(now: wallSeconds), showsHelp: showsHelp, isBehind: isBehind, showsCandidates: showsCandidates))
    }

    // MARK: Input

    /// Which button is held and where the cursor was, for turning drags into camera motions.
    private struct MouseDrag {
        var button: Int32?
        var x = 0.0, y = 0.0
    }

    private func installCallbacks() {
        glfwSetWindowUserPointer(window.handle, Unmanaged.passUnretained(self).toOpaque())
        glfwSetKeyCallback(window.handle) { handle, key, _, action, _ in
            guard action == GLFW_PRESS || action == GLFW_REPEAT else { return }
            LiveViewer.owner(of: handle)?.press(key: key)
        }
        glfwSetMouseButtonCallback(window.handle) { handle, button, action, _ in
            guard let viewer = LiveViewer.owner(of: handle) else { return }
            viewer.drag.button = action == GLFW_PRESS ? button : nil
            glfwGetCursorPos(handle, &viewer.drag.x, &viewer.drag.y)
        }
        glfwSetCursorPosCallback(window.handle) { handle, x, y in
            LiveViewer.owner(of: handle)?.dragged(toX: x, y: y)
        }
        glfwSetScrollCallback(window.handle) { handle, _, yOffset in
            LiveViewer.owner(of: handle)?.renderer.moveCamera(.zoom, dx: 0, dy: -0.05 * yOffset)
        }
    }

    private static func owner(of handle: OpaquePointer?) -> LiveViewer? {
        glfwGetWindowUserPointer(handle).map { Unmanaged<LiveViewer>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Left drag rotates, right drag pans, middle drag zooms; with Shift, rotation and panning
    /// work in the horizontal plane, as in MuJoCo's simulate.
    private func dragged(toX x: Double, y: Double) {
        guard let button = drag.button else { return }
        let height = Double(max(window.windowHeight, 1))
        let dx = (x - drag.x) / height, dy = (y - drag.y) / height
        drag.x = x
        drag.y = y
        let shift = glfwGetKey(window.handle, GLFW_KEY_LEFT_SHIFT) == GLFW_PRESS
            || glfwGetKey(window.handle, GLFW_KEY_RIGHT_SHIFT) == GLFW_PRESS
        let motion: CameraMotion
        switch button {
        case GLFW_MOUSE_BUTTON_LEFT: motion = shift ? .rotateHorizontal : .rotateVertical
        case GLFW_MOUSE_BUTTON_RIGHT: motion = shift ? .moveHorizontal : .moveVertical
        default: motion = .zoom
        }
        renderer.moveCamera(motion, dx: dx, dy: dy)
    }
}
