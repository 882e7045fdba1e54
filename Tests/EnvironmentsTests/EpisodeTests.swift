import Environments
import Foundation
import MuJoCo
import Testing

@Suite struct EpisodeTests {
    @Test(arguments: [LocomotionSpec.hopper, .walker2d, .halfCheetah])
    func spacesAndLimits(_ spec: LocomotionSpec) throws {
        let environment = try TestSupport.environment(spec)
        #expect(environment.name == spec.name)
        #expect(environment.actionSpace == BoxSpace(dimension: spec.nu, low: -1, high: 1))
        #expect(environment.observationSpace.dimension == (spec == .hopper ? 11 : 17))
        #expect(environment.maxEpisodeSteps == 1000)
        #expect(environment.elapsedSteps == 0)
    }

    @Test(arguments: [LocomotionSpec.hopper, .walker2d, .halfCheetah])
    func oneStepIsFrameSkipPhysicsSteps(_ spec: LocomotionSpec) throws {
        let environment = try TestSupport.environmentAtRest(spec)
        _ = try environment.step(TestSupport.zeros(spec.nu))
        let expected = Double(spec.frameSkip) * environment.simulation.model.timestep
        #expect(abs(environment.simulation.time - expected) < 1e-12)
        #expect(environment.elapsedSteps == 1)
    }

    /// Steps a seeded episode with varied actions and checks every reward against its parts.
    @Test(arguments: [LocomotionSpec.hopper, .walker2d, .halfCheetah])
    func rewardIsForwardPlusHealthyMinusControl(_ spec: LocomotionSpec) throws {
        let environment = try TestSupport.environment(spec)
        environment.reset(seed: 3)
        let dt = Double(spec.frameSkip) * environment.simulation.model.timestep
        for t in 0..<20 {
            let action = (0..<spec.nu).map { sin(Double(t * spec.nu + $0)) }
            let xBefore = environment.simulation.qpos[0]
            let result = try environment.step(action)
            let info = result.info
            #expect(info.xPosition == environment.simulation.qpos[0])
            #expect(abs(info.forwardReward - (info.xPosition - xBefore) / dt) < 1e-9)
            #expect(abs(info.controlCost - spec.controlCostWeight * action.map { $0 * $0 }.reduce(0, +)) < 1e-15)
            #expect(info.healthyReward == spec.healthyReward)
            #expect(abs(result.reward - (info.forwardReward + info.healthyReward - info.controlCost)) < 1e-12)
            if result.terminated || result.truncated { break }
        }
    }

    @Test func controlCostUsesTheRawActionWhileMuJoCoClampsTheControl() throws {
        let clamped = try TestSupport.environmentAtRest(.hopper), saturated = try TestSupport.environmentAtRest(.hopper)
        let beyond = try clamped.step([2, 0, 0]), atLimit = try saturated.step([1, 0, 0])
        #expect(abs(beyond.info.controlCost - 4e-3) < 1e-15)
        #expect(abs(atLimit.info.controlCost - 1e-3) < 1e-15)
        #expect(TestSupport.bits(beyond.observation) == TestSupport.bits(atLimit.observation), "ctrl is clamped to 1")
        #expect(abs((atLimit.reward - beyond.reward) - 3e-3) < 1e-12)
    }

    @Test func halfCheetahHasNoHealthyReward() throws {
        let result = try TestSupport.environmentAtRest(.halfCheetah).step(TestSupport.zeros(6))
        #expect(result.info.healthyReward == 0)
        #expect(result.reward == result.info.forwardReward)
    }

    /// Hopper and walker2d velocities are clipped to ±10 in the observation; halfcheetah's are not.
    @Test(arguments: [LocomotionSpec.hopper, .walker2d, .halfCheetah])
    func observationIsQposWithoutXThenQvel(_ spec: LocomotionSpec) throws {
        let environment = try TestSupport.environment(spec)
        let qpos = (0..<spec.nq).map { 0.01 * Double($0) + (($0 == 1) ? 1.2 : 0) }
        let qvel = [50, -50, 9.5] + TestSupport.zeros(spec.nv - 3)
        let observation = try environment.setState(qpos: qpos, qvel: qvel)
        let clip = spec.observationVelocityClip
        let expectedVelocity = clip.map { limit in qvel.map { min(max($0, -limit), limit) } } ?? qvel
        #expect(observation == Array(qpos.dropFirst()) + expectedVelocity)
        #expect((clip == nil) == (spec == .halfCheetah))
        #expect(Array(environment.simulation.qvel) == qvel, "the simulation keeps the unclipped velocity")
    }

    /// With zero actions from a reset, hopper and walker2d topple: the episode terminates on the first
    /// unhealthy state, still paying the healthy reward, and is not truncated.
    @Test(arguments: [LocomotionSpec.hopper, .walker2d])
    func zeroActionsTopple(_ spec: LocomotionSpec) throws {
        let environment = try TestSupport.environment(spec)
        let rule = try #require(spec.health)
        environment.reset(seed: 0)
        var last: (terminated: Bool, truncated: Bool, reward: Double, info: StepInfo)?
        for _ in 0..<1000 {
            let result = try environment.step(TestSupport.zeros(spec.nu))
            let healthy = rule.isHealthy(qpos: environment.simulation.qpos, qvel: environment.simulation.qvel)
            #expect(result.terminated == !healthy)
            last = (result.terminated, result.truncated, result.reward, result.info)
            if result.terminated || result.truncated { break }
        }
        let final = try #require(last)
        #expect(final.terminated)
        #expect(!final.truncated)
        #expect(environment.elapsedSteps < 1000)
        #expect(final.info.healthyReward == 1)
        #expect(final.reward == final.info.forwardReward + 1)
        #expect(throws: EnvironmentError.stepAfterEpisodeEnd(environment: spec.name)) {
            try environment.step(TestSupport.zeros(spec.nu))
        }
    }

    @Test func halfCheetahIsTruncatedAtExactlyStep1000AndNeverTerminates() throws {
        let environment = try TestSupport.environment(.halfCheetah)
        environment.reset(seed: 0)
        let zero = TestSupport.zeros(6)
        for step in 1...1000 {
            let result = try environment.step(zero)
            #expect(!result.terminated, "terminated at step \(step)")
            #expect(result.truncated == (step == 1000), "truncated = \(result.truncated) at step \(step)")
            #expect(environment.elapsedSteps == step)
        }
        let error = try #require(throws: EnvironmentError.self) { try environment.step(zero) }
        #expect(error == .stepAfterEpisodeEnd(environment: "halfcheetah"))
        #expect(error.description.contains("reset()"))

        environment.reset()
        #expect(environment.elapsedSteps == 0)
        #expect(try !environment.step(zero).truncated, "a reset starts a new episode")
    }

    @Test func stepBeforeResetThrows() throws {
        let environment = try TestSupport.environment(.hopper)
        let error = try #require(throws: EnvironmentError.self) { try environment.step([0, 0, 0]) }
        #expect(error == .stepBeforeReset(environment: "hopper"))
        #expect(error.description.contains("hopper"))
        environment.reset(seed: 1)
        _ = try environment.step([0, 0, 0])
    }

    @Test func setStateStartsAnEpisode() throws {
        let environment = try TestSupport.environmentAtRest(.walker2d)
        _ = try environment.step(TestSupport.zeros(6))
        #expect(environment.elapsedSteps == 1)
        try environment.setState(qpos: environment.simulation.model.qpos0, qvel: TestSupport.zeros(9))
        #expect(environment.elapsedSteps == 0)
        #expect(environment.simulation.time == 0)
    }

    /// A diverged state makes MuJoCo reset the physics; the environment cuts the episode as unstable.
    @Test func divergedPhysicsTruncatesTheEpisode() throws {
        let environment = try TestSupport.environment(.hopper)
        try environment.setState(qpos: environment.simulation.model.qpos0, qvel: [1e30, 0, 0, 0, 0, 0])
        let result = try environment.step([0, 0, 0])
        #expect(result.info.isUnstable)
        #expect(result.info.physicsWarnings.contains(.badQvel))
        #expect(result.truncated)
        #expect(!result.terminated)
        #expect(throws: EnvironmentError.stepAfterEpisodeEnd(environment: "hopper")) { try environment.step([0, 0, 0]) }
    }

    @Test func ordinaryStepsRaiseNoWarnings() throws {
        let environment = try TestSupport.environment(.walker2d)
        environment.reset(seed: 5)
        for _ in 0..<10 {
            let result = try environment.step([0.3, -0.3, 0.1, -0.1, 0.2, 0])
            #expect(result.info.physicsWarnings.isEmpty)
            #expect(!result.info.isUnstable)
        }
    }
}
