import ArgumentParser
import Benchmarks
import CommandLineOptions
import NeuralNet

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speed figures, each as a ratio to this machine's own ceiling measured in the same run.",
        discussion: "Build with -c release: swift run -c release bench envs",
        version: packageVersion,
        subcommands: [Targets.self, Envs.self, Lifetimes.self, Train.self, Act.self, SAC.self, Rollout.self, DatasetMemory.self, EvaluationMemory.self])
}

struct Targets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The speed targets judged on this CPU: train steps ≥ 70% of the same run's sgemm, acting ≥ 60%, run7's rollout ≤ 1.5× its floor.",
        discussion: """
            Runs bench train, act and rollout on all cores (under a minute on two idle ones) and exits 1 when a \
            target is missed; with --runs N, N times, judging each figure's median. Where OpenBLAS's kernel \
            does not use the vector unit the networks use (a CPU newer than OpenBLAS gets SSE3), it stops at \
            once and names the OPENBLAS_CORETYPE to set.
            """)

    @Option(parsing: .unconditional, help: "Measure everything this many times and judge each figure's median.")
    var runs = 1

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var models: ModelsOption
    @OptionGroup var vectorUnit: VectorUnitOption

    func run() throws {
        try OptionCheck.atLeast(1, ("--runs", runs))
        try threads.check()
        try vectorUnit.apply()
        let outcome = try SpeedTargets(models: try models.locate(), threads: threads.count).judge(runs: runs)
        print(outcome.text)
        if !outcome.allMet { throw ExitCode(1) }
    }
}

struct Envs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Environment steps per second: one environment and a vector of copies, against raw mj_step.")

    @Option(parsing: .unconditional, help: "Environment steps per timed run.")
    var steps = 20_000

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var models: ModelsOption

    func run() throws {
        try OptionCheck.atLeast(1000, ("--steps", steps))
        try threads.check()
        let benchmark = EnvironmentBenchmark(models: try models.locate(), threads: threads.count, steps: steps)
        print(try benchmark.report())
    }
}

struct Lifetimes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resident memory across many create/destroy pairs of simulations and models (a leak check).")

    @Option(parsing: .unconditional, help: "Simulation create/destroy pairs.")
    var pairs = 1_000_000

    @OptionGroup var models: ModelsOption

    func run() throws {
        try OptionCheck.atLeast(1, ("--pairs", pairs))
        print(try LifetimeBenchmark(models: try models.locate(), pairs: pairs).report())
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Milliseconds per Diffusion-QL training step (hopper dimensions, batch 256, N = 5), with and without max-Q backup.")

    @Option(parsing: .unconditional, help: "Timed steps; the median is reported.")
    var repeats = TrainingBenchmark.stepRepeats

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var vectorUnit: VectorUnitOption

    func run() throws {
        try OptionCheck.atLeast(1, ("--repeats", repeats))
        try threads.check()
        try vectorUnit.apply()
        let benchmark = TrainingBenchmark(repeats: repeats)
        print(try TrainingBenchmark.report(threads: threads.count) { try benchmark.trainSteps(threads: threads.count) })
    }
}

struct Act: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Milliseconds per acting call: 50 candidates per state sampled and scored by the critic (hopper dimensions).")

    @Option(parsing: .unconditional, help: "Timed calls; the median is reported.")
    var repeats = TrainingBenchmark.callRepeats

    @Option(help: "States per call, comma-separated, one figure each (an evaluation acts for all its running episodes at once).")
    var states = "1,10"

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var vectorUnit: VectorUnitOption

    private var stateCounts: [Int?] { states.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) } }

    func checkOptions() throws {
        try OptionCheck.atLeast(1, ("--repeats", repeats))
        try threads.check()
        guard stateCounts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--states must list positive counts, e.g. 1,2,10 (got \(states))")
        }
    }

    func run() throws {
        try checkOptions()
        try vectorUnit.apply()
        let benchmark = TrainingBenchmark(repeats: repeats)
        // The ceilings on as many cores as the acting calls had.
        print(try TrainingBenchmark.report(threads: threads.count) {
            try stateCounts.map { try benchmark.act(states: $0!, threads: threads.count) }
        })
    }
}

struct SAC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sac",
        abstract: "Milliseconds per gradient step of collect sac's agent (hopper dimensions, batch 256, widths 256), one figure per thread count.")

    @Option(parsing: .unconditional, help: "Timed steps; the median is reported.")
    var repeats = 101

    @OptionGroup var threads: ThreadsOption

    func run() throws {
        try OptionCheck.atLeast(1, ("--repeats", repeats))
        try threads.check()
        // One thread and then all of them, each against the ceilings on as many cores.
        for count in Set([1, threads.count]).sorted() {
            print(try TrainingBenchmark.report(threads: count) { [try SACBenchmark.gradientStep(threads: count, repeats: repeats)] })
        }
    }
}

struct DatasetMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset-memory",
        abstract: "Peak memory of reading a large D4RL file (2,000,000 × 17 by default) over its raw size; the budget is 1.5×.")

    @Option(parsing: .unconditional, help: "Rows of the synthetic file.")
    var rows = 2_000_000

    func run() throws {
        try OptionCheck.atLeast(1, ("--rows", rows))
        print(try DatasetMemoryBenchmark(rows: rows).report())
    }
}

struct EvaluationMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluation-memory",
        abstract: "Peak memory of evaluations of 10 and 2,000 episodes (an untrained hopper checkpoint); the budget is 1.5× apart.")

    @Option(parsing: .unconditional, help: "Episode counts, comma-separated.")
    var episodes = "10,2000"

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var models: ModelsOption

    func run() throws {
        let counts = episodes.split(separator: ",").compactMap { Int($0) }
        guard counts.count == episodes.split(separator: ",").count, counts.count >= 2, counts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--episodes takes two or more counts of at least 1, comma-separated (got '\(episodes)')")
        }
        try threads.check()
        print(try EvaluationMemoryBenchmark(episodeCounts: counts, models: try models.locate(), threads: threads.count).report())
    }
}

struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wall time of evaluating a checkpoint against the floor: acting FLOPs at the sgemm rate plus raw physics.")

    @Option(help: "Checkpoint: the name of a run in a checkpoints/ folder, a run folder or a file.")
    var ckpt = "run7"

    @Option(parsing: .unconditional, help: "Episodes.")
    var episodes = 10

    @Option(parsing: .unconditional, help: "Rounds, each an evaluation and then its floor; the median ratio is reported.")
    var rounds = 3

    @OptionGroup var threads: ThreadsOption
    @OptionGroup var models: ModelsOption
    @OptionGroup var vectorUnit: VectorUnitOption

    func run() throws {
        try OptionCheck.atLeast(1, ("--episodes", episodes), ("--rounds", rounds))
        try threads.check()
        try vectorUnit.apply()
        print(try RolloutBenchmark(checkpoint: ckpt, episodes: episodes, models: try models.locate(), threads: threads.count,
                                   rounds: rounds).report())
    }
}
