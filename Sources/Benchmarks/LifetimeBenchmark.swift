import Environments
import Evaluation
import Foundation
import MuJoCo
import TerminalProgress

/// Creates and destroys many simulations and models and reports the resident memory before and
/// after: a leak in the owning wrappers shows as growth proportional to the count.
public struct LifetimeBenchmark {
    public let models: ModelDirectory
    /// Simulation create/destroy pairs (models: one per 100).
    public let pairs: Int

    public init(models: ModelDirectory, pairs: Int) {
        self.models = models
        self.pairs = pairs
    }

    public func report() throws -> String {
        let path = models.file(LocomotionSpec.hopper.modelFile)
        let model = try PhysicsModel(contentsOf: path)
        _ = try Simulation(model: model)  // the first allocation grows the heap once; measure after it
        let before = residentBytes()
        let start = ContinuousClock.now
        for _ in 0..<pairs {
            let simulation = try Simulation(model: model)
            simulation.step()
        }
        let afterSimulations = residentBytes()
        for _ in 0..<max(1, pairs / 100) {
            _ = try PhysicsModel(contentsOf: path)
        }
        let afterModels = residentBytes()
        let seconds = Int((ContinuousClock.now - start).inSeconds.rounded())
        return """
            \(pairs) Simulation create/step/destroy pairs and \(max(1, pairs / 100)) model loads of hopper.xml in \(seconds) s
            resident memory: \(megabytes(before)) before, \(megabytes(afterSimulations)) after the simulations, \(megabytes(afterModels)) after the models
            """
    }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

    /// Resident set size from /proc/self/statm (Linux); 0 where it is not available.
    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
