import Environments
import Foundation
import MuJoCo

/// The torso is the first body after the world in every locomotion model (the ant's too).
let torsoBody = 1

extension SceneRenderer {
    /// Looks at the robot from its side, a little above it, 4 m away: the view that shows a gait. In a
    /// goal-reaching task, from 9 m and steeply above, so that the surroundings show and walls do not hide it.
    func viewFromTheSide(of environment: any Environment) {
        if environment is any GoalConditionedEnvironment {
            setCameraPose(distance: 9, elevation: -65, azimuth: 90)
        } else {
            setCameraPose(distance: 4, elevation: -15, azimuth: 90)
        }
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
    /// Whether the action bars show the spread of the candidates each action was chosen from.
    var showsCandidates = false
}

/// Draws one frame: the scene from the renderer's camera, the episode's numbers in the top-left
/// corner, the ending banner in the top-right one, and one bar per actuator in the bottom-left
/// one, red when the action is at its limit. For a goal-reaching task it also marks the goal (a disc of
/// the goal's radius and a pole), shows the whole arena from above in the bottom-right corner, and
/// gives the distance to the goal.
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
        "Space\nRight\nBackspace\n- / =\n[ / ]\nC\nLeft drag\nRight drag\nScroll\nF1\nEsc, Q",
        "pause / play\none step (paused)\nrestart the episode\nslower / faster\ncamera\ncandidates' spread\nrotate\npan\nzoom\nhelp\nquit"
    )

    func paint(_ viewport: PixelRect, status: OverlayStatus) {
        let goalTask = player.environment as? any GoalConditionedEnvironment
        renderer.render(player.environment.simulation, viewport: viewport, markers: goalTask.map(Self.goalMarkers) ?? [])
        if let goalTask { paintOverview(goalTask, viewport: viewport) }
        if status.showsHelp {
            renderer.overlay(Self.helpText.0, Self.helpText.1, corner: .topLeft, viewport: viewport)
        } else {
            renderer.overlay(infoLabels, infoValues(status), corner: .topLeft, viewport: viewport)
        }
        if let banner = status.banner {
            renderer.overlay(banner, corner: .topRight, viewport: viewport)
        }
        paintActionBars(viewport, candidates: status.showsCandidates ? player.candidateSpread : nil)
    }

    private var infoLabels: String {
        "task\nepisode\nstep\nreward\nreturn\nnormalized\n" + (player.environment is any GoalConditionedEnvironment ? "goal\n" : "")
            + "speed\ncamera\nhelp"
    }

    private func infoValues(_ status: OverlayStatus) -> String {
        let speed = status.speed >= 1 ? "\(Int(status.speed))x" : "1/\(Int((1 / status.speed).rounded()))x"
        let state = status.isPaused ? " (paused)" : status.isBehind ? " (physics behind)" : ""
        var values = [
            player.task.name,
            "\(player.episode + 1) / \(player.episodes)",
            "\(player.step) / \(player.environment.maxEpisodeSteps)",
            String(format: "%.3f", player.reward),
            String(format: "%.1f", player.episodeReturn),
            String(format: "%.1f (so far)", player.normalizedReturn),
        ]
        if let goalTask = player.environment as? any GoalConditionedEnvironment {
            values.append(Self.goalDistance(goalTask))
        }
        return (values + [speed + state, status.cameraName, "F1"]).joined(separator: "\n")
    }

    /// "3.21 m away" from the robot's root to the goal in the plane, or "reached".
    static func goalDistance(_ task: any GoalConditionedEnvironment) -> String {
        let root = task.simulation.qpos
        let distance = PlanarPosition(x: root[0], y: root[1]).distance(to: task.goal)
        return distance <= task.goalRadius ? "reached" : String(format: "%.2f m away", distance)
    }

    /// The goal as a translucent disc of the goal's radius, with a pole that shows from afar.
    static func goalMarkers(_ task: any GoalConditionedEnvironment) -> [SceneMarker] {
        let base = (x: task.goal.x, y: task.goal.y, z: 0.0)
        return [SceneMarker(.cylinder(radius: task.goalRadius, height: 0.02), at: base, color: Color(0.1, 0.85, 0.2), alpha: 0.6),
                SceneMarker(.cylinder(radius: 0.05, height: 2), at: base, color: Color(0.1, 0.85, 0.2))]
    }

    /// The whole arena from above in the bottom-right corner, a third of the frame's width, framed; the
    /// goal is a dot big enough to find at that scale.
    private func paintOverview(_ task: any GoalConditionedEnvironment, viewport: PixelRect) {
        let arena = task.arena
        let width = arena.maximum.x - arena.minimum.x, height = arena.maximum.y - arena.minimum.y
        let dot = SceneMarker(.sphere(radius: max(task.goalRadius, max(width, height) / 30)),
                              at: (task.goal.x, task.goal.y, 0), color: Color(0.1, 0.85, 0.2))
        let insetWidth = viewport.width / 3, insetHeight = Int(Double(insetWidth) * height / width)
        let margin = renderer.lineHeight / 2, border = 2
        let inset = PixelRect(left: viewport.left + viewport.width - insetWidth - margin, bottom: viewport.bottom + margin,
                              width: insetWidth, height: min(insetHeight, viewport.height / 2))
        renderer.rectangle(PixelRect(left: inset.left - border, bottom: inset.bottom - border,
                                     width: inset.width + 2 * border, height: inset.height + 2 * border), Color(1, 1, 1))
        renderer.renderFromAbove(task.simulation, viewport: inset, centre: (arena.centre.x, arena.centre.y),
                                 halfExtent: (width / 2, height / 2), markers: [dot])
    }

    /// One row per actuator from the bottom: its name, then a bar from the middle of the action
    /// range towards the action, a full half when the action sits at its limit; with `candidates`, a
    /// band over the bar from the lowest to the highest candidate and a tick at the chosen action.
    private func paintActionBars(_ viewport: PixelRect, candidates: (minimum: ArraySlice<Double>, maximum: ArraySlice<Double>)?) {
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
            guard let candidates else { continue }
            let low = normalized(candidates.minimum[candidates.minimum.startIndex + index], index)
            let high = normalized(candidates.maximum[candidates.maximum.startIndex + index], index)
            let from = bar.left + Int((Double(half) * (1 + low)).rounded()), to = bar.left + Int((Double(half) * (1 + high)).rounded())
            renderer.rectangle(PixelRect(left: from, bottom: bottom + rowHeight / 3, width: max(to - from, 1), height: rowHeight / 3),
                               Color(0.3, 0.6, 1), alpha: 0.85)
            renderer.rectangle(PixelRect(left: bar.left + Int((Double(half) * (1 + fraction)).rounded()) - 1, bottom: bottom,
                                         width: 3, height: rowHeight), Color(1, 0.85, 0.2))
        }
    }

    /// The last action of actuator `index` mapped from its range onto -1...1.
    private func normalizedAction(_ index: Int) -> Double { normalized(player.action[index], index) }

    /// An action of actuator `index` mapped from its range onto -1...1.
    private func normalized(_ value: Double, _ index: Int) -> Double {
        let low = actionLow[index], high = actionHigh[index]
        guard low.isFinite, high.isFinite, high > low else { return 0 }
        return min(max((2 * value - low - high) / (high - low), -1), 1)
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
        let ending = last.success == true ? "reached the goal" : last.terminated ? "terminated"
            : last.unstable ? "truncated (physics unstable)" : "truncated"
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
