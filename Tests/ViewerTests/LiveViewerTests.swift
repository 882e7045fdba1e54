import CGLFW
import Environments
import Evaluation
import Foundation
import Testing
import Viewer

/// The window tests share the process's DISPLAY and GLFW's global state, so they run one at a time.
@Suite("Live viewer under Xvfb", .serialized)
struct LiveViewerTests {
    @Test("the window shows the robot where its torso is")
    func screenshotShowsTheRobot() throws {
        let display = try VirtualDisplay()
        let viewer = try LiveViewer(player: try randomHopperPlayer(episodes: 1), width: 640, height: 480)
        for _ in 0..<3 { try viewer.frame() }
        let image = viewer.screenshot()
        #expect(image.width == 640 && image.height == 480)
        let torso = try #require(viewer.torsoPixel())
        #expect((0..<640).contains(torso.x) && (0..<480).contains(torso.y))
        var robotNearTorso = 0
        for dy in -3...3 {
            for dx in -3...3 where isRobotColour(image.pixel(x: torso.x + dx, y: torso.y + dy)) { robotNearTorso += 1 }
        }
        #expect(robotNearTorso >= 40, "only \(robotNearTorso) of 49 pixels around the torso have the robot's colour")
        #expect(robotPixelFraction(image) > 0.005)
        withExtendedLifetime(display) {}
    }

    @Test("keys pause, step, restart, change speed and camera, and quit")
    func keys() throws {
        let display = try VirtualDisplay()
        let viewer = try LiveViewer(player: try randomHopperPlayer(episodes: 1), width: 320, height: 240)
        let player = viewer.player
        viewer.press(key: GLFW_KEY_SPACE)
        try viewer.frame()
        #expect(viewer.isPaused)
        let pausedAt = player.step
        usleep(50_000)
        try viewer.frame()
        #expect(player.step == pausedAt, "the physics ran while paused")

        viewer.press(key: GLFW_KEY_RIGHT)
        try viewer.frame()
        #expect(player.step == pausedAt + 1)
        viewer.press(key: GLFW_KEY_RIGHT)
        viewer.press(key: GLFW_KEY_RIGHT)
        try viewer.frame()
        #expect(player.step == pausedAt + 3)

        viewer.press(key: GLFW_KEY_BACKSPACE)
        try viewer.frame()
        #expect(player.step == 0 && player.episode == 0 && player.episodeReturn == 0)

        viewer.press(key: GLFW_KEY_EQUAL)
        try viewer.frame()
        #expect(viewer.speed == 2)
        viewer.press(key: GLFW_KEY_MINUS)
        viewer.press(key: GLFW_KEY_MINUS)
        try viewer.frame()
        #expect(viewer.speed == 0.5)

        viewer.press(key: GLFW_KEY_RIGHT_BRACKET)
        try viewer.frame()
        #expect(viewer.cameras[viewer.cameraIndex].name == "free")
        viewer.press(key: GLFW_KEY_LEFT_BRACKET)
        viewer.press(key: GLFW_KEY_LEFT_BRACKET)
        try viewer.frame()
        #expect(viewer.cameraIndex == viewer.cameras.count - 1, "[ wraps around to the last camera")

        viewer.press(key: GLFW_KEY_F1)
        try viewer.frame()
        #expect(viewer.showsHelp)

        viewer.press(key: GLFW_KEY_SPACE)
        try viewer.frame()
        #expect(!viewer.isPaused)

        viewer.press(key: GLFW_KEY_Q)
        let before = viewer.framesDrawn
        try viewer.run()
        #expect(viewer.quitRequested)
        #expect(viewer.framesDrawn == before + 1, "the frame that handled Q is the last one")
        #expect(ViewerCommand(glfwKey: GLFW_KEY_ESCAPE) == .quit)
        #expect(ViewerCommand(glfwKey: GLFW_KEY_A) == nil)
        withExtendedLifetime(display) {}
    }

    @Test("--max-frames closes the viewer after that many frames")
    func maxFrames() throws {
        let display = try VirtualDisplay()
        let viewer = try LiveViewer(player: try randomHopperPlayer(episodes: 1), width: 320, height: 240)
        try viewer.run(maxFrames: 7)
        #expect(viewer.framesDrawn == 7)
        withExtendedLifetime(display) {}
    }

    @Test("episodes watched in the viewer have the headless evaluation's returns")
    func viewerPlaysTheEvaluationsEpisodes() throws {
        let display = try VirtualDisplay()
        let viewer = try LiveViewer(player: try randomHopperPlayer(episodes: 3, seed: 4), width: 320, height: 240)
        for _ in 0..<5 { viewer.press(key: GLFW_KEY_EQUAL) }
        var frames = 0
        while !viewer.player.isDone && frames < 2000 {
            try viewer.frame()
            frames += 1
        }
        let task = try D4RLTask.named("hopper-medium-v2")
        let environment = try task.environment.makeEnvironment(models: try ModelDirectory.locate())
        let headless = try Evaluator(task: task, models: try ModelDirectory.locate(), threads: 2).evaluate(
            RandomPolicy(actionSpace: environment.actionSpace), episodes: 3, seed: 4)
        #expect(viewer.player.finished == headless.episodes)
        withExtendedLifetime(display) {}
    }

    @Test("without a display the viewer says how to get one")
    func noDisplay() throws {
        unsetenv("DISPLAY")
        let error = try #require(throws: ViewerError.self) {
            try LiveViewer(player: try randomHopperPlayer(episodes: 1))
        }
        #expect(error.description.contains("DISPLAY"))
        #expect(error.description.contains("Xvfb"))
    }
}
