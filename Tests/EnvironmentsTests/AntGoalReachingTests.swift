import Environments
import Foundation
import Testing

/// The goal-reaching controller's task: what it sees, how it is paid, how its episodes are drawn and end.
@Suite struct AntGoalReachingTests {
    static func environment(_ settings: AntGoalReachingEnvironment.Settings = .init()) throws -> AntGoalReachingEnvironment {
        try AntGoalReachingEnvironment(settings: settings, models: TestSupport.models())
    }

    /// The ant at (1, 2), turned a quarter turn to the left (yaw 90°: its forward axis is world +y).
    static func turnedAnt() -> (qpos: [Double], qvel: [Double]) {
        let half = Double.pi / 4
        let qpos = [1, 2, 0.6, cos(half), 0, 0, sin(half)] + (0..<8).map { 0.1 * Double($0) }
        return (qpos, (0..<14).map { -0.05 * Double($0) })
    }

    static func observation(qpos: [Double], qvel: [Double], goal: PlanarPosition) -> [Double] {
        [Double](unsafeUninitializedCapacity: ControllerObservation.dimension) { buffer, count in
            ControllerObservation.write(qpos: qpos, qvel: qvel, goal: goal, into: buffer)
            count = buffer.count
        }
    }

    @Test func theObservationIsTheAntWithoutItsPlaceAndTheGoalInItsHeadingFrame() {
        let (qpos, qvel) = Self.turnedAnt()
        // 3 m along world +x is 3 m to the ant's right (its −y); 4 m along world +y is straight ahead.
        let right = Self.observation(qpos: qpos, qvel: qvel, goal: PlanarPosition(x: 4, y: 2))
        #expect(Array(right[0..<27]) == Array(qpos[2...]) + qvel)
        #expect(abs(right[27]) < 1e-12 && abs(right[28] + 3) < 1e-12, "\(right[27...])")
        let ahead = Self.observation(qpos: qpos, qvel: qvel, goal: PlanarPosition(x: 1, y: 6))
        #expect(abs(ahead[27] - 4) < 1e-12 && abs(ahead[28]) < 1e-12)
        // A goal 30 m ahead reads as one at the horizon, in the same direction.
        let far = Self.observation(qpos: qpos, qvel: qvel, goal: PlanarPosition(x: 1, y: 32))
        #expect(abs(far[27] - ControllerObservation.goalHorizon) < 1e-12 && abs(far[28]) < 1e-12)
    }

    @Test func theRewardIsProgressPerSecondLessTheControlCostPlusTheBonusAtTheGoal() {
        let action = [Double](repeating: 0.5, count: 8)
        let cost = action.withUnsafeBufferPointer { AntGoalReachingEnvironment.controlCost($0, weight: 0.05) }
        #expect(abs(cost - 0.1) < 1e-12)
        let walking = AntGoalReachingEnvironment.shapedReward(previousDistance: 5, distance: 4.9, controlCost: cost,
                                                               reached: false, controlPeriod: 0.1, goalBonus: 10)
        #expect(abs(walking - 0.9) < 1e-12)
        let retreating = AntGoalReachingEnvironment.shapedReward(previousDistance: 5, distance: 5.2, controlCost: 0,
                                                                  reached: false, controlPeriod: 0.1, goalBonus: 10)
        #expect(abs(retreating + 2) < 1e-12)
        let arriving = AntGoalReachingEnvironment.shapedReward(previousDistance: 0.55, distance: 0.45, controlCost: cost,
                                                                reached: true, controlPeriod: 0.1, goalBonus: 10)
        #expect(abs(arriving - 10.9) < 1e-12)
    }

    @Test func aStepPaysTheShapedRewardOfTheAntItMoved() throws {
        let env = try Self.environment()
        let (qpos, qvel) = Self.turnedAnt()
        try env.setGoal(PlanarPosition(x: 5, y: 5))
        let before = PlanarPosition(x: qpos[0], y: qpos[1]).distance(to: env.goal)
        try env.setState(qpos: qpos, qvel: qvel)
        let action = (0..<8).map { 0.2 * Double($0) - 0.7 }
        let (observation, reward, terminated, truncated, info) = try env.step(action)
        let after = try #require(info.goal).distance
        let cost = action.withUnsafeBufferPointer { AntGoalReachingEnvironment.controlCost($0, weight: 0.05) }
        #expect(abs(reward - ((before - after) / 0.1 - cost)) < 1e-12)
        #expect(!terminated && !truncated && info.controlCost == cost)
        #expect(observation == Self.observation(qpos: Array(env.simulation.qpos), qvel: Array(env.simulation.qvel), goal: env.goal))
    }

    @Test func anEpisodeEndsAtTheGoalUpsideDownOrAtTheLimit() throws {
        var settings = AntGoalReachingEnvironment.Settings()
        settings.maxEpisodeSteps = 3
        let env = try Self.environment(settings)
        let still = [Double](repeating: 0, count: 8), qvel = [Double](repeating: 0, count: 14)
        var qpos = env.simulation.model.qpos0
        try env.setGoal(PlanarPosition(x: 0.2, y: 0.1))
        try env.setState(qpos: qpos, qvel: qvel)
        let atGoal = try env.step(still)
        #expect(atGoal.terminated && atGoal.info.goal?.reached == true && atGoal.reward > settings.goalBonus - 1)

        try env.setGoal(PlanarPosition(x: 6, y: 0))
        qpos[3...6] = [0, 1, 0, 0]  // half a turn about x: on its back
        try env.setState(qpos: qpos, qvel: qvel)
        #expect(AntGoalReachingEnvironment.isUpsideDown(qpos: env.simulation.qpos))
        let flipped = try env.step(still)
        #expect(flipped.terminated && flipped.info.goal?.reached == false)

        env.reset(seed: 4)
        let ends = try (1...3).map { _ in try env.step(still) }
        #expect(ends.map(\.truncated) == [false, false, true] && !ends.contains(where: \.terminated))
        #expect(throws: EnvironmentError.stepAfterEpisodeEnd(environment: "ant-goal-reaching")) { try env.step(still) }
    }

    @Test func goalsAreDrawnAroundARandomStartFromTheSeed() throws {
        let settings = AntGoalReachingEnvironment.Settings()
        let training = try Self.environment(settings), evaluation = try Self.environment(settings.evaluation(goalDistance: 8))
        var starts: [PlanarPosition] = []
        for seed in 0..<50 as Range<UInt64> {
            training.reset(seed: seed)
            evaluation.reset(seed: seed)
            let start = PlanarPosition(x: training.simulation.qpos[0], y: training.simulation.qpos[1])
            let evaluationStart = PlanarPosition(x: evaluation.simulation.qpos[0], y: evaluation.simulation.qpos[1])
            #expect(abs(start.x) <= 4.1 && abs(start.y) <= 4.1)
            #expect((1...10).contains(start.distance(to: training.goal)))
            #expect(abs(evaluationStart.distance(to: evaluation.goal) - 8) < 1e-9)
            starts.append(start)
        }
        #expect(Set(starts.map(\.description)).count == 50)
        training.reset(seed: 7)
        let goal = training.goal
        training.reset(seed: 7)
        #expect(training.goal == goal)
    }

    @Test func badSettingsAndGoalsAreNamed() throws {
        var settings = AntGoalReachingEnvironment.Settings()
        settings.arenaCells = 5
        #expect(throws: EnvironmentError.invalidSettings(environment: "ant-goal-reaching", problems: [
            "start_spread 4.0 and maximum_goal_distance 10.0 reach 15.65685424949238 m from the centre; the arena of 5 cells allows 8.0 m",
        ])) { try Self.environment(settings) }
        let env = try Self.environment()
        #expect(throws: EnvironmentError.inWall(maze: "open9", what: "goal (18.5, 0.0)", cell: "(5, 10)")) {
            try env.setGoal(PlanarPosition(x: 18.5, y: 0))
        }
    }
}
