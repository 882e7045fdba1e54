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

    @Option(help: "Exit with a failure when the mean normalized score is below this (for CI).")
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
    }

    func run() throws {
        let models = try self.models.locate()
        let report: EvaluationReport
        if let ckpt {
            let (policy, task) = try CheckpointPolicy.load(
                try CheckpointLocation(ckpt, epoch: epoch), taskOverride: task, episodes: episodes, seed: seed,
                rule: deterministic ? .argmax : .softmax, models: models)
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
        if let minScore, report.meanNormalizedScore < minScore {
            print("FAILED: mean normalized score \(String(format: "%.2f", report.meanNormalizedScore)) is below --min-score \(minScore)")
            throw ExitCode.failure
        }
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
