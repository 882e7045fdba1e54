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

            Example: rollout --task hopper-medium-v2 --policy random --episodes 10
            """)

    @Option(help: "D4RL task name, e.g. hopper-medium-v2 (fixes the environment and the reference scores).")
    var task: String

    @Option(help: "Policy to roll out. Available: random.")
    var policy: PolicyKind = .random

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
    }

    func run() throws {
        let task = try D4RLTask.named(self.task)
        let evaluator = Evaluator(task: task, models: try models.locate(), threads: threads.threads)
        let actionSpace = try task.environment.makeEnvironment(models: evaluator.models).actionSpace
        let policy = RandomPolicy(actionSpace: actionSpace, episodes: episodes, seed: seed)

        let progress = ProgressLine()
        let report = try evaluator.evaluate(policy, episodes: episodes, seed: seed) { state in
            progress.update(state.line(elapsedSeconds: progress.elapsedSeconds))
        }
        progress.finish()
        print(report.table())
        if let json {
            try report.writeJSON(to: json)
            print("wrote \(json)")
        }
    }
}
