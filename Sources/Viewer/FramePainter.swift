import Foundation
import MuJoCo

/// The torso is the first body after the world in every locomotion model (the ant's too).
let torsoBody = 1

extension SceneRenderer {
    /// Looks at the robot from its side, a little above it, 4 m away: the view that shows a gait.
    func viewFromTheSide() {
        setCameraPose(distance: 4, elevation: -15, azimuth: 90)
    }
}

/// What the overlay shows besides the player's own state.
struct OverlayStatus {
    var speed = 1.0
    var isPaused = false
    var cameraName = ""
    /// A line about the episode that just ended, or about the whole run once it is done.
    var banner: String?
    var showsHelp = false
    /// The physics could not keep up with the requested speed.
    var isBehind = false
}

/// Draws one frame: the scene from the renderer's camera, the episode's numbers in the top-left
/// corner, the ending banner in the top-right one, and one bar per actuator in the bottom-left
/// one, red when the action is at its limit.
struct FramePainter {
    let player: EpisodePlayer
    let renderer: SceneRenderer
    private let actuatorNames: [String]
    private let actionLow: [Double]
    private let actionHigh: [Double]

    init(player: EpisodePlayer, renderer: SceneRenderer) {
        self.player = player
        self.renderer = renderer
        let model = player.environment.simulation.model
        actuatorNames = (0..<model.nu).map { model.name(of: .actuator, id: $0) ?? "actuator \($0)" }
        actionLow = player.environment.actionSpace.low
        actionHigh = player.environment.actionSpace.high
    }

    static let helpText = (
        "Space\nRight\nBackspace\n- / =\n[ / ]\nLeft drag\nRight drag\nScroll\nF1\nEsc, Q",
        "pause / play\none step (paused)\nrestart the episode\nslower / faster\ncamera\nrotate\npan\nzoom\nhelp\nquit"
    )

    func paint(_ viewport: PixelRect, status: OverlayStatus) {
        renderer.render(player.environment.simulation, viewport: viewport)
        if status.showsHelp {
            renderer.overlay(Self.helpText.0, Self.helpText.1, corner: .topLeft, viewport: viewport)
        } else {
            renderer.overlay(infoLabels, infoValues(status), corner: .topLeft, viewport: viewport)
        }
        if let banner = status.banner {
            renderer.overlay(banner, corner: .topRight, viewport: viewport)
        }
        paintActionBars(viewport)
    }

    private let infoLabels = "task\nepisode\nstep\nreward\nreturn\nnormalized\nspeed\ncamera\nhelp"

    private func infoValues(_ status: OverlayStatus) -> String {
        let speed = status.speed >= 1 ? "\(Int(status.speed))x" : "1/\(Int((1 / status.speed).rounded()))x"
        let state = status.isPaused ? " (paused)" : status.isBehind ? " (physics behind)" : ""
        return [
            player.task.name,
            "\(player.episode + 1) / \(player.episodes)",
            "\(player.step) / \(player.environment.maxEpisodeSteps)",
            String(format: "%.3f", player.reward),
            String(format: "%.1f", player.episodeReturn),
            String(format: "%.1f (so far)", player.normalizedReturn),
            speed + state,
            status.cameraName,
            "F1",
        ].joined(separator: "\n")
    }

    /// One row per actuator from the bottom: its name, then a bar from the middle of the action
    /// range towards the action, a full half when the action sits at its limit.
    private func paintActionBars(_ viewport: PixelRect) {
        let rowHeight = renderer.lineHeight + 6
        let labelWidth = renderer.lineHeight * 6, barWidth = renderer.lineHeight * 10, margin = renderer.lineHeight / 2
        for (index, name) in actuatorNames.enumerated() {
            let bottom = viewport.bottom + margin + (actuatorNames.count - 1 - index) * (rowHeight + 2)
            let left = viewport.left + margin
            renderer.label(name, in: PixelRect(left: left, bottom: bottom, width: labelWidth, height: rowHeight),
                           background: Color(0.1, 0.1, 0.1), alpha: 0.8, textColor: Color(1, 1, 1))
            let bar = PixelRect(left: left + labelWidth, bottom: bottom, width: barWidth, height: rowHeight)
            renderer.rectangle(bar, Color(0.25, 0.25, 0.25), alpha: 0.8)
            let fraction = normalizedAction(index)
            let half = barWidth / 2, fill = Int((Double(half) * abs(fraction)).rounded())
            let saturated = abs(fraction) >= 0.99
            renderer.rectangle(
                PixelRect(left: bar.left + half - (fraction < 0 ? fill : 0), bottom: bottom + 2, width: fill,
                          height: rowHeight - 4),
                saturated ? Color(0.9, 0.15, 0.1) : Color(0.2, 0.75, 0.3))
            renderer.rectangle(PixelRect(left: bar.left + half, bottom: bottom, width: 1, height: rowHeight), Color(1, 1, 1))
        }
    }

    /// The last action of actuator `index` mapped from its range onto -1...1.
    private func normalizedAction(_ index: Int) -> Double {
        let low = actionLow[index], high = actionHigh[index]
        guard low.isFinite, high.isFinite, high > low else { return 0 }
        return min(max((2 * player.action[index] - low - high) / (high - low), -1), 1)
    }
}

/// The line shown after an episode ends, kept on screen for a few seconds of the given clock
/// (wall time in the viewer, simulated time in a recording).
struct EndingBanner {
    private var text: String?
    private var shownUntil = 0.0
    private var announcedEpisodes = 0
    let duration: Double

    init(duration: Double = 3) {
        self.duration = duration
    }

    /// Picks up an episode that ended since the last call; `now` is in seconds of the chosen clock.
    mutating func update(_ player: EpisodePlayer, now: Double) {
        if player.finished.count < announcedEpisodes { announcedEpisodes = player.finished.count }
        guard player.finished.count > announcedEpisodes, let last = player.finished.last else { return }
        announcedEpisodes = player.finished.count
        let ending = last.terminated ? "terminated" : last.unstable ? "truncated (physics unstable)" : "truncated"
        text = String(format: "episode %d %@ at step %d: return %.1f, normalized %.1f",
                      last.index + 1, ending, last.length, last.return, last.normalizedScore)
        shownUntil = player.isDone ? .infinity : now + duration
        if player.isDone {
            let mean = player.finished.map(\.normalizedScore).reduce(0, +) / Double(player.finished.count)
            text! += String(format: "\nall %d episodes done: mean normalized %.1f", player.episodes, mean)
        }
    }

    func text(now: Double) -> String? { now <= shownUntil ? text : nil }
}
