import Environments
import Testing

/// One state handed to a health rule, and the verdict Gym gives it.
struct HealthCase: Sendable, CustomTestStringConvertible {
    let label: String
    let rule: HealthRule
    let qpos: [Double]
    let qvel: [Double]
    let healthy: Bool

    var testDescription: String { "\(rule) \(label) -> \(healthy ? "healthy" : "unhealthy")" }

    /// Hopper standing upright at rest, with `changes` applied to qpos and qvel.
    static func hopper(_ label: String, _ healthy: Bool, qpos: [Int: Double] = [:], qvel: [Int: Double] = [:]) -> Self {
        Self(label: label, rule: .hopper, qpos: apply(qpos, to: [0, 1.25, 0, 0, 0, 0]),
             qvel: apply(qvel, to: Array(repeating: 0, count: 6)), healthy: healthy)
    }

    static func walker(_ label: String, _ healthy: Bool, qpos: [Int: Double] = [:], qvel: [Int: Double] = [:]) -> Self {
        Self(label: label, rule: .walker2d, qpos: apply(qpos, to: [0, 1.25] + Array(repeating: 0, count: 7)),
             qvel: apply(qvel, to: Array(repeating: 0, count: 9)), healthy: healthy)
    }

    private static func apply(_ changes: [Int: Double], to values: [Double]) -> [Double] {
        var values = values
        for (index, value) in changes { values[index] = value }
        return values
    }

    static let all: [HealthCase] = [
        hopper("upright", true),
        hopper("z 0.7", false, qpos: [1: 0.7]),
        hopper("z 0.70001", true, qpos: [1: 0.70001]),
        hopper("angle 0.2", false, qpos: [2: 0.2]),
        hopper("angle -0.2", false, qpos: [2: -0.2]),
        hopper("angle 0.19999", true, qpos: [2: 0.19999]),
        hopper("angle -0.19999", true, qpos: [2: -0.19999]),
        hopper("qvel[0] 100", false, qvel: [0: 100]),
        hopper("qvel[5] -100", false, qvel: [5: -100]),
        hopper("qvel[3] 99.9", true, qvel: [3: 99.9]),
        hopper("qvel[3] -99.9", true, qvel: [3: -99.9]),
        hopper("joint qpos[4] 100", false, qpos: [4: 100]),
        hopper("joint qpos[4] 99.9", true, qpos: [4: 99.9]),
        hopper("far along x", true, qpos: [0: 500]),
        walker("upright", true),
        walker("z 0.8", false, qpos: [1: 0.8]),
        walker("z 0.8001", true, qpos: [1: 0.8001]),
        walker("z 2.0", false, qpos: [1: 2.0]),
        walker("z 1.999", true, qpos: [1: 1.999]),
        walker("angle 1", false, qpos: [2: 1]),
        walker("angle -1", false, qpos: [2: -1]),
        walker("angle 0.999", true, qpos: [2: 0.999]),
        walker("angle -0.999", true, qpos: [2: -0.999]),
        walker("fast joints", true, qvel: [0: 1000, 8: -1000]),
    ]
}

@Suite struct HealthRuleTests {
    @Test(arguments: HealthCase.all)
    func boundaries(_ testCase: HealthCase) {
        #expect(testCase.rule.isHealthy(qpos: testCase.qpos, qvel: testCase.qvel) == testCase.healthy)
    }

    /// Slices keep their parent's indices; the rule must count from their start.
    @Test func ruleReadsSlicesFromTheirStart() {
        let qvel = ArraySlice(Array(repeating: 0.0, count: 6))
        let fallen = ([7.0, 7.0] + [0, 0.5, 0, 0, 0, 0]).dropFirst(2)
        let upright = ([0.5, 0.5] + [0, 1.25, 0, 0, 0, 0]).dropFirst(2)
        #expect(!HealthRule.hopper.isHealthy(qpos: fallen, qvel: qvel))
        #expect(HealthRule.hopper.isHealthy(qpos: upright, qvel: qvel))
    }

    @Test func specsUseTheirRules() {
        #expect(LocomotionSpec.hopper.health == .hopper)
        #expect(LocomotionSpec.walker2d.health == .walker2d)
        #expect(LocomotionSpec.halfCheetah.health == nil)
    }
}
