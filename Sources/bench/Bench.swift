import ArgumentParser
import Benchmarks
import Environments
import Foundation

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speed figures, each as a ratio to this machine's own ceiling measured in the same run.",
        discussion: "Build with -c release: swift run -c release bench envs",
        subcommands: [Envs.self, Lifetimes.self])
}

struct Envs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Environment steps per second: one environment and a vector of copies, against raw mj_step.")

    @Option(help: "Environment steps per timed run.")
    var steps = 20_000

    @Option(help: "Threads for the all-core figure (default: one per core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Folder of the MJCF models.")
    var models: String?

    func validate() throws {
        guard steps >= 1000 else { throw ValidationError("--steps must be at least 1000 (got \(steps))") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    }

    func run() throws {
        let benchmark = EnvironmentBenchmark(models: try ModelDirectory.locate(override: models), threads: threads, steps: steps)
        print(try benchmark.report())
    }
}

struct Lifetimes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resident memory across many create/destroy pairs of simulations and models (a leak check).")

    @Option(help: "Simulation create/destroy pairs.")
    var pairs = 1_000_000

    @Option(help: "Folder of the MJCF models.")
    var models: String?

    func run() throws {
        print(try LifetimeBenchmark(models: try ModelDirectory.locate(override: models), pairs: pairs).report())
    }
}
