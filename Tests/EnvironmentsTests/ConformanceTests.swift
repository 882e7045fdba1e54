import Environments
import Foundation
import Testing

/// Replays the reference trajectories (MuJoCo 2.2.2 on the benchmark's own model files, kept in
/// `Fixtures/locomotion_trajectories.json`) with the code `conformance` runs: every observation and
/// reward within 1e-6, the same termination at every step.
@Suite struct ConformanceTests {
    static func fixture() throws -> ReferenceTrajectories {
        let url = try #require(Bundle.module.url(forResource: "locomotion_trajectories", withExtension: "json",
                                                 subdirectory: "Fixtures"), "the fixture is a resource of this test target")
        return try ReferenceTrajectories(contentsOf: url.path)
    }

    @Test func theFixtureHoldsEveryLocomotionEnvironmentAndTheUmaze() throws {
        #expect(try Self.fixture().trajectories.map(\.environment) == [.hopper, .walker2d, .halfcheetah, .antmazeUmaze])
    }

    @Test(arguments: [EnvironmentID.hopper, .walker2d, .halfcheetah, .antmazeUmaze])
    func replayMatchesReference(_ id: EnvironmentID) throws {
        let steps = try #require(try Self.fixture().trajectories.first { $0.environment == id }?.steps)
        let result = try ReferenceTrajectories.replay(steps, on: id, models: ModelDirectory.locate())
        #expect(result.conforms(), "\(result.summary)")
        #expect(result.worstObservationError < 1e-6 && result.replayedSteps == steps.count)
    }
}
