import ArgumentParser
import CommandLineOptions
import Environments

@main
struct Conformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay reference trajectories and check that the environments reproduce them.",
        discussion: """
            PATH is a JSON file whose keys are environment names (\(EnvironmentID.allCases.map(\.rawValue).joined(separator: ", "))) \
            and whose values are trajectories: arrays of steps with "action", "obs", "reward" and "terminated", \
            each starting at the model's initial state without reset noise (a maze's goal at its goal cell's \
            centre). String values such as "note" are skipped. For each trajectory it prints the steps \
            replayed, the worst observation and reward errors and whether the terminations agree, and it \
            exits with a failure when any is beyond the tolerance or disagrees.

            Example: conformance Tests/EnvironmentsTests/Fixtures/locomotion_trajectories.json
            """,
        version: packageVersion)

    @Argument(help: "Reference trajectory file (JSON).")
    var path: String

    @Option(parsing: .unconditional, help: "Largest absolute error allowed in any observation entry or reward.")
    var tolerance = 1e-6

    @OptionGroup var models: ModelsOption

    func run() throws {
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a finite number ≥ 0 (got \(tolerance))") }
        let file = try ReferenceTrajectories(contentsOf: path)
        let models = try self.models.locate()
        var failed: [String] = []
        for (environment, steps) in file.trajectories {
            let result = try ReferenceTrajectories.replay(steps, on: environment, models: models)
            let verdict = result.conforms(tolerance: tolerance)
            print((verdict ? "ok    " : "FAILED ") + result.summary)
            if !verdict { failed.append(environment.rawValue) }
        }
        guard failed.isEmpty else {
            print("\(failed.count) of \(file.trajectories.count) trajectories do not conform (tolerance \(tolerance)): \(failed.joined(separator: ", "))")
            throw ExitCode.failure
        }
        print("all \(file.trajectories.count) trajectories conform (tolerance \(tolerance))")
    }
}
