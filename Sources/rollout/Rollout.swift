import ArgumentParser
import CommandLineOptions
import Environments
import Evaluation
import Foundation
import Persistence
import TerminalProgress
import Viewer

@main
struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Roll a policy out in-process and report D4RL normalized scores.",
        discussion: """
            Episodes run in parallel, one environment copy each. The same --seed gives the same \
            numbers whatever --threads is.

            --viewer plays the episodes live in a window (keys as in MuJoCo's simulate; F1 lists them). \
            --record and --frames render them offscreen, without any display, into a video or PNG frames.

            Examples: rollout --ckpt run7 --episodes 10
                      rollout --task hopper-medium-v2 --policy random --episodes 10
                      rollout --task antmaze-umaze-v0 --policy random
                      rollout --ckpt run7 --viewer
                      rollout --ckpt run7 --episodes 1 --record hopper.mp4
            """,
        version: packageVersion)

    @Option(help: "Diffusion-QL checkpoint: the name of a run in a checkpoints/ folder (this checkout's, or the working directory's), a run folder, or one checkpoint file.")
    var ckpt: String?

    @Option(parsing: .unconditional, help: "Epoch of the run's checkpoint to evaluate (default: the newest).")
    var epoch: Int?

    @Option(help: "D4RL task name, e.g. hopper-medium-v2 (default: the checkpoint's own task).")
    var task: String?

    @Option(help: "Policy to roll out without a checkpoint. Available: random.")
    var policy: PolicyKind?

    @Flag(help: "Take the candidate with the highest Q instead of drawing from softmax(Q).")
    var deterministic = false

    @Option(help: "Model selection over the run's checkpoints: online (evaluate every one, take the best), offline (the one the L_d log picks), or both.")
    var select: RunSelection.Mode?

    @Option(help: "Episodes of online selection: full (every checkpoint on every episode) or successive-halving (a few episodes each, the better half kept and given more, until one is left with all).")
    var budget: SelectionBudget = .full

    @Option(parsing: .unconditional, help: "Rank of offline selection, 0 = lowest mean L_d (default: the task preset's top_k).")
    var topK: Int?

    @Option(parsing: .unconditional, help: "Select among the checkpoints at multiples of K epochs only, e.g. 50, the reference's evaluation interval, in a run saved every 25 (default: every checkpoint).")
    var every: Int?

    @Option(parsing: .unconditional, help: "Exit with a failure when the mean normalized score (of the selected checkpoint) is below this.")
    var minScore: Double?

    @Option(parsing: .unconditional, help: "Number of episodes (default: the paper's protocol, 100 for AntMaze and 10 for locomotion).")
    var episodes: Int?

    @Option(parsing: .unconditional, help: "Seed of the environments' reset noise and of the policy's sampling.")
    var seed: UInt64 = 0

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var models: ModelsOption

    @Option(help: "Also write the report as JSON to this path.")
    var json: String?

    @Option(help: "Evaluate part I of N (1-based, e.g. 2/8) of the episodes, or of the checkpoints with --select online|both, into --json; --merge combines the parts.",
            transform: { try Shard($0) })
    var shard: Shard?

    @Option(parsing: .upToNextOption, help: "Combine the parts' JSON files (from --shard) into the report of the whole, written to --json.")
    var merge: [String] = []

    @Flag(help: "Play the episodes live in a window, at real time.")
    var viewer = false

    @Option(help: "Record the episodes offscreen into a video: .mp4, .mov, .mkv, .webm or .gif (encoded by ffmpeg).")
    var record: String?

    @Option(help: "Record the episodes offscreen as PNG frames into this folder.")
    var frames: String?

    @Option(help: "Size of recorded frames, WIDTHxHEIGHT.")
    var size = FrameSize(width: 640, height: 480)

    @Option(parsing: .unconditional, help: "Recorded frames per second of simulated time (the video plays at real time).")
    var fps = 30

    @Option(parsing: .unconditional, help: "Close the viewer, or end the recording, after this many frames.")
    var maxFrames: Int?

    @Flag(help: "Show, over each actuator's bar, the spread of the 50 candidates the action was chosen from (the viewer toggles it with C).")
    var candidates = false

    enum PolicyKind: String, ExpressibleByArgument, CaseIterable {
        case random
    }

    func checkOptions() throws {
        try OptionCheck.atLeast(1, ("--episodes", episodes), ("--fps", fps), ("--max-frames", maxFrames))
        try OptionCheck.atLeast(0, ("--epoch", epoch), ("--top-k", topK))
        try OptionCheck.atLeast(1, ("--every", every))
        try threads.check()
        if let minScore, minScore.isNaN { throw ValidationError("--min-score must be a number (got nan)") }
        if !merge.isEmpty {
            let others = [ckpt.map { _ in "--ckpt" }, policy.map { _ in "--policy" }, shard.map { _ in "--shard" },
                          select.map { _ in "--select" }, viewer ? "--viewer" : nil, record.map { _ in "--record" },
                          frames.map { _ in "--frames" }].compactMap { $0 }
            if !others.isEmpty { throw ValidationError("--merge combines finished parts; leave out \(others.joined(separator: ", "))") }
            try checkOutputs()
            return
        }
        guard (ckpt == nil) != (policy == nil) else { throw ValidationError("give either --ckpt or --policy") }
        if shard != nil {
            if json == nil { throw ValidationError("--shard writes its part to --json; give the path") }
            if minScore != nil { throw ValidationError("--min-score judges the whole evaluation; give it to --merge") }
            if select == .offline { throw ValidationError("--select offline evaluates one checkpoint; shard its episodes with --epoch instead") }
        }
        if policy != nil && task == nil { throw ValidationError("--policy needs --task") }
        if select != nil && epoch != nil { throw ValidationError("--select chooses the epoch; leave out --epoch") }
        if select == nil && topK != nil { throw ValidationError("--top-k belongs to --select offline or both") }
        if select == nil && every != nil { throw ValidationError("--every belongs to --select") }
        if budget == .successiveHalving && select != .online {
            throw ValidationError("--budget successive-halving is a way of online selection; give --select online")
        }
        if budget == .successiveHalving && shard != nil { throw ValidationError("--budget successive-halving runs whole; leave out --shard") }
        let outputs = [viewer ? "--viewer" : nil, record.map { _ in "--record" }, frames.map { _ in "--frames" }].compactMap { $0 }
        if outputs.count > 1 { throw ValidationError("choose one of \(outputs.joined(separator: ", "))") }
        if !outputs.isEmpty && shard != nil { throw ValidationError("\(outputs[0]) plays the whole evaluation; leave out --shard") }
        if !outputs.isEmpty && select != nil { throw ValidationError("\(outputs[0]) plays one checkpoint; leave out --select") }
        if maxFrames != nil && outputs.isEmpty { throw ValidationError("--max-frames belongs to --viewer, --record or --frames") }
        if candidates && (outputs.isEmpty || ckpt == nil) { throw ValidationError("--candidates shows a checkpoint's candidates in --viewer, --record or --frames") }
        try checkOutputs()
    }

    /// Refuses, before any episode runs, outputs that could not be written at the end.
    private func checkOutputs() throws {
        if let json { try AtomicFile.requireWritable(json) }
        if let output = recordingOutput { try recordingSettings.validate(for: output) }
    }

    private var recordingOutput: RecordingOutput? {
        record.map { .video(path: $0) } ?? frames.map { .frames(folder: $0) }
    }

    private var recordingSettings: RecordingSettings {
        RecordingSettings(width: size.width, height: size.height, framesPerSecond: fps, maxFrames: maxFrames, showsCandidates: candidates)
    }

    func run() throws {
        try checkOptions()
        if !merge.isEmpty {
            try mergeParts()
            return
        }
        let models = try self.models.locate()
        if budget == .successiveHalving, let ckpt {
            try selectByHalving(run: ckpt, models: models)
            return
        }
        if let select, let ckpt {
            try selectCheckpoint(select, run: ckpt, models: models)
            return
        }
        let (policy, task) = try makePolicy(models: models)
        let report: EvaluationReport
        if viewer || record != nil || frames != nil {
            report = try play(policy, task: task, models: models)
        } else {
            report = try evaluate(policy, task: task, models: models)
        }
        guard !report.episodes.isEmpty else {
            print("no episode finished, so there is no score")
            if minScore != nil { throw ExitCode.failure }
            return
        }
        print(report.table())
        if let json {
            try report.writeJSON(to: json)
            print("wrote \(json)")
        }
        try requireMinimum(report.meanNormalizedScore)
    }

    private func makePolicy(models: ModelDirectory) throws -> (any BatchPolicy, D4RLTask) {
        if let ckpt {
            let (policy, task) = try CheckpointPolicy.load(
                try CheckpointLocation(ckpt, epoch: epoch), taskOverride: task, rule: deterministic ? .argmax : .softmax)
            for note in policy.notes { print("note: \(note)") }
            return (policy, task)
        }
        let task = try D4RLTask.named(self.task!)
        let actionSpace = try task.environment.makeEnvironment(models: models).actionSpace
        return (RandomPolicy(actionSpace: actionSpace), task)
    }

    /// Evaluates the episodes, then replays them in the viewer or into a recording; reports the
    /// episodes that finished playing.
    private func play(_ policy: some BatchPolicy, task: D4RLTask, models: ModelDirectory) throws -> EvaluationReport {
        let evaluator = Evaluator(task: task, models: models, threads: threads.count)
        let episodes = self.episodes ?? task.defaultEvaluationEpisodes
        let evaluation = try withProgress { try evaluator.record(policy, episodes: episodes, seed: seed, progress: $0) }
        let player = try EpisodePlayer(task: task, models: models, evaluation: evaluation)
        if viewer {
            let viewer = try LiveViewer(player: player)
            viewer.showsCandidates = candidates
            try viewer.run(maxFrames: maxFrames)
        } else {
            let recorder = try Recorder(player: player, settings: recordingSettings)
            let progress = ProgressLine()
            let written = try recorder.record(to: recordingOutput!) { frame in
                progress.update("frame \(frame) · episode \(player.episode + 1)/\(episodes) · step \(player.step)")
            }
            progress.finish()
            print("wrote \(written) frames (\(size.width)x\(size.height), \(fps) fps) to \(record ?? frames!)")
        }
        print("\(player.finished.count) of \(episodes) episodes finished")
        return player.report
    }

    private func selectCheckpoint(_ mode: RunSelection.Mode, run: String, models: ModelDirectory) throws {
        let location = try CheckpointLocation(run)
        guard let folder = location.run else { throw ValidationError("--select needs a run, not the single file \(run)") }
        let progress = ProgressLine()
        let selection = try RunSelection.run(
            folder, mode: mode, topK: topK, every: every, taskOverride: task, episodes: episodes, seed: seed,
            rule: deterministic ? .argmax : .softmax, models: models, threads: threads.count,
            shard: shard) { epoch, state in
            progress.update("epoch \(epoch) · " + state.line(elapsedSeconds: progress.elapsedSeconds))
        }
        progress.finish()
        try report(selection)
    }

    private func selectByHalving(run: String, models: ModelDirectory) throws {
        guard let folder = try CheckpointLocation(run).run else { throw ValidationError("--select needs a run, not the single file \(run)") }
        let progress = ProgressLine()
        let selection = try SuccessiveHalving.run(
            folder, every: every, taskOverride: task, episodes: episodes, seed: seed, rule: deterministic ? .argmax : .softmax, models: models,
            threads: threads.count) { epoch, state in
            progress.update("epoch \(epoch) · " + state.line(elapsedSeconds: progress.elapsedSeconds))
        }
        progress.finish()
        print(selection.table())
        if let json {
            try selection.writeJSON(to: json)
            print("wrote \(json)")
        }
        try requireMinimum(selection.pickReport.meanNormalizedScore)
    }

    private func report(_ selection: RunSelection) throws {
        print(selection.table())
        if let json {
            try selection.writeJSON(to: json)
            print("wrote \(json)")
        }
        try requireMinimum(selection.selectedScore)
    }

    /// Reads the parts (evaluation reports or selections, as --shard wrote them) and reports the whole.
    private func mergeParts() throws {
        let parts = try merge.map { path in (path, try ShardedReport.read(path)) }
        switch parts[0].1 {
        case .evaluation:
            let whole = try EvaluationReport.merge(try parts.map { path, part in
                guard case let .evaluation(report) = part else { throw ShardError.partsDoNotFit(reason: "\(path) is a model selection, \(parts[0].0) an evaluation") }
                return (path, report)
            })
            print(whole.table())
            if let json {
                try whole.writeJSON(to: json)
                print("wrote \(json)")
            }
            try requireMinimum(whole.meanNormalizedScore)
        case .selection:
            try report(try RunSelection.merge(try parts.map { path, part in
                guard case let .selection(selection) = part else { throw ShardError.partsDoNotFit(reason: "\(path) is an evaluation, \(parts[0].0) a model selection") }
                return (path, selection)
            }))
        }
    }

    private func requireMinimum(_ score: Double?) throws {
        guard let minScore, let score, score < minScore else { return }
        print("FAILED: mean normalized score \(String(format: "%.2f", score)) is below --min-score \(minScore)")
        throw ExitCode.failure
    }

    private func evaluate(_ policy: some BatchPolicy, task: D4RLTask, models: ModelDirectory) throws -> EvaluationReport {
        let evaluator = Evaluator(task: task, models: models, threads: threads.count)
        let episodes = self.episodes ?? task.defaultEvaluationEpisodes
        return try withProgress { try evaluator.evaluate(policy, episodes: episodes, seed: seed, shard: shard, progress: $0) }
    }

    /// Runs `body` with a progress line that its evaluation updates.
    private func withProgress<Result>(_ body: ((EvaluationProgress) -> Void) throws -> Result) rethrows -> Result {
        let progress = ProgressLine()
        defer { progress.finish() }
        return try body { state in progress.update(state.line(elapsedSeconds: progress.elapsedSeconds)) }
    }
}

/// How many episodes online selection spends.
enum SelectionBudget: String, ExpressibleByArgument, CaseIterable {
    case full
    case successiveHalving = "successive-halving"
}

/// `--size WIDTHxHEIGHT`.
struct FrameSize: ExpressibleByArgument {
    let width: Int
    let height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else { return nil }
        self.init(width: width, height: height)
    }

    var defaultValueDescription: String { "\(width)x\(height)" }
}
