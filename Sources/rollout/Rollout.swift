import ArgumentParser
import CommandLineOptions
import Environments
import Evaluation

@main
struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Roll a policy out in-process and report D4RL normalized scores.",
        discussion: """
            Episodes run in parallel, one environment copy each. The same --seed gives the same \
            numbers whatever --threads is.

            Examples: rollout --ckpt run7 --episodes 10
                      rollout --task hopper-medium-v2 --policy random --episodes 10
            """)

    @Option(help: "Diffusion-QL checkpoint: a run name under checkpoints/, a run folder, or one checkpoint file.")
    var ckpt: String?

    @Option(help: "Epoch of the run's checkpoint to evaluate (default: the newest).")
    var epoch: Int?

    @Option(help: "D4RL task name, e.g. hopper-medium-v2 (default: the checkpoint's own task).")
    var task: String?

    @Option(help: "Policy to roll out without a checkpoint. Available: random.")
    var policy: PolicyKind?

    @Flag(help: "Take the candidate with the highest Q instead of drawing from softmax(Q).")
    var deterministic = false

    @Option(help: "Model selection over the run's checkpoints: online (evaluate every one, take the best), offline (the one the L_d log picks), or both.")
    var select: RunSelection.Mode?

    @Option(help: "Rank of offline selection, 0 = lowest mean L_d (default: the task preset's top_k).")
    var topK: Int?

    @Option(help: "Exit with a failure when the mean normalized score (of the selected checkpoint) is below this.")
    var minScore: Double?

    @Option(help: "Number of episodes.")
    var episodes = 10

    @Option(help: "Seed of the environments' reset noise and of the policy's sampling.")
    var seed: UInt64 = 0

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var models: ModelsOption

    @Option(help: "Also write the report as JSON to this path.")
    var json: String?

    enum PolicyKind: String, ExpressibleByArgument, CaseIterable {
        case random
    }

    func validate() throws {
        guard episodes > 0 else { throw ValidationError("--episodes must be at least 1 (got \(episodes))") }
        guard (ckpt == nil) != (policy == nil) else { throw ValidationError("give either --ckpt or --policy") }
        if policy != nil && task == nil { throw ValidationError("--policy needs --task") }
        if select != nil && epoch != nil { throw ValidationError("--select chooses the epoch; leave out --epoch") }
        if select == nil && topK != nil { throw ValidationError("--top-k belongs to --select offline or both") }
    }

    func run() throws {
        let models = try self.models.locate()
        if let select, let ckpt {
            try selectCheckpoint(select, run: ckpt, models: models)
            return
        }
        let report: EvaluationReport
        if let ckpt {
            let (policy, task) = try CheckpointPolicy.load(
                try CheckpointLocation(ckpt, epoch: epoch), taskOverride: task, episodes: episodes, seed: seed,
                rule: deterministic ? .argmax : .softmax, models: models)
            for note in policy.notes { print("note: \(note)") }
            report = try evaluate(policy, task: task, models: models)
        } else {
            let task = try D4RLTask.named(self.task!)
            let actionSpace = try task.environment.makeEnvironment(models: models).actionSpace
            report = try evaluate(RandomPolicy(actionSpace: actionSpace, episodes: episodes, seed: seed), task: task, models: models)
        }
        print(report.table())
        if let json {
            try report.writeJSON(to: json)
            print("wrote \(json)")
        }
        try requireMinimum(report.meanNormalizedScore)
    }

    private func selectCheckpoint(_ mode: RunSelection.Mode, run: String, models: ModelDirectory) throws {
        let location = try CheckpointLocation(run)
        guard let folder = location.run else { throw ValidationError("--select needs a run, not the single file \(run)") }
        let progress = ProgressLine()
        let selection = try RunSelection.run(
            folder, mode: mode, topK: topK, taskOverride: task, episodes: episodes, seed: seed,
            rule: deterministic ? .argmax : .softmax, models: models, threads: threads.threads) { epoch, state in
            progress.update("epoch \(epoch) · " + state.line(elapsedSeconds: progress.elapsedSeconds))
        }
        progress.finish()
        print(selection.table())
        if let json {
            try selection.writeJSON(to: json)
            print("wrote \(json)")
        }
        try requireMinimum(selection.selectedScore)
    }

    private func requireMinimum(_ score: Double) throws {
        guard let minScore, score < minScore else { return }
        print("FAILED: mean normalized score \(String(format: "%.2f", score)) is below --min-score \(minScore)")
        throw ExitCode.failure
    }

    private func evaluate(_ policy: some BatchPolicy, task: D4RLTask, models: ModelDirectory) throws -> EvaluationReport {
        let evaluator = Evaluator(task: task, models: models, threads: threads.threads)
        let progress = ProgressLine()
        defer { progress.finish() }
        return try evaluator.evaluate(policy, episodes: episodes, seed: seed) { state in
            progress.update(state.line(elapsedSeconds: progress.elapsedSeconds))
        }
    }
}

extension RunSelection.Mode: ExpressibleByArgument {}
