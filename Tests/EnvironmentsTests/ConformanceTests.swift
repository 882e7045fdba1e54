import Environments
import Foundation
import Testing

/// Replays the reference trajectories (MuJoCo 2.2.2 on the benchmark's own model files, kept in
/// `Fixtures/locomotion_trajectories.json`) from the noise-free initial state and compares every
/// observation, reward and the termination step.
@Suite struct ConformanceTests {
    struct Step: Decodable {
        let t: Int
        let action: [Double]
        let obs: [Double]
        let reward: Double
        let terminated: Bool
    }

    static func reference(_ name: String) throws -> [Step] {
        let url = try #require(Bundle.module.url(forResource: "locomotion_trajectories", withExtension: "json",
                                                 subdirectory: "Fixtures"), "the fixture is a resource of this test target")
        let all = try JSONDecoder().decode([String: ReferenceEntry].self, from: Data(contentsOf: url))
        guard case let .trajectory(steps)? = all[name] else {
            Issue.record("no trajectory named \(name) in \(url.path)")
            return []
        }
        return steps
    }

    enum ReferenceEntry: Decodable {
        case trajectory([Step])
        case note(String)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let steps = try? container.decode([Step].self) { self = .trajectory(steps) } else {
                self = .note(try container.decode(String.self))
            }
        }
    }

    @Test(arguments: [EnvironmentID.hopper, .walker2d, .halfcheetah])
    func replayMatchesReference(_ id: EnvironmentID) throws {
        let steps = try Self.reference(id.rawValue)
        #expect(!steps.isEmpty)
        let environment = try id.makeEnvironment(models: ModelDirectory.locate())
        let model = environment.simulation.model
        try environment.setState(qpos: model.qpos0, qvel: Array(repeating: 0, count: model.nv))

        var worstObservation = 0.0, worstReward = 0.0
        for step in steps {
            let result = try environment.step(step.action)
            #expect(result.observation.count == step.obs.count)
            for (actual, expected) in zip(result.observation, step.obs) {
                worstObservation = max(worstObservation, abs(actual - expected))
            }
            worstReward = max(worstReward, abs(result.reward - step.reward))
            #expect(result.terminated == step.terminated, "termination differs at t = \(step.t)")
            if result.terminated != step.terminated { break }
        }
        #expect(worstObservation < 1e-6, "largest observation error \(worstObservation)")
        #expect(worstReward < 1e-6, "largest reward error \(worstReward)")
    }
}
