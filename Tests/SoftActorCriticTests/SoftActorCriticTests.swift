import Foundation
import NeuralNet
import RLCore
import SeededRandom
import SoftActorCritic
import Testing

@Suite struct SoftActorCriticTests {
    static func smallConfig() -> SACConfig {
        var config = SACConfig()
        config.hiddenWidth = 32
        config.batchSize = 64
        config.warmupSteps = 64
        config.policyLearningRate = 1e-3
        config.criticLearningRate = 1e-3
        return config
    }

    /// A one-step problem (γ = 0) with reward −|a − 0.6|²: the critic learns the reward and the policy
    /// moves its mean to 0.6 while the temperature falls from 1 as the entropy target allows.
    @Test func learnsTheBestActionOfAOneStepProblem() throws {
        var config = Self.smallConfig()
        config.discount = 0
        var generator = SeededGenerator(seed: 11)
        let agent = try SoftActorCritic(config: config, stateDimension: 2, actionDimension: 2, generator: &generator)
        let batch = TransitionBatch(rows: config.batchSize, stateDimension: 2, actionDimension: 2)
        for _ in 0..<1500 {
            for row in 0..<batch.rows {
                var reward: Float = 0
                for k in 0..<2 {
                    let action = Float(generator.uniform(-1, 1))
                    batch.actions[row * 2 + k] = action
                    batch.states[row * 2 + k] = 0.5
                    batch.nextStates[row * 2 + k] = 0.5
                    reward -= (action - 0.6) * (action - 0.6)
                }
                batch.rewards[row] = reward
                batch.notDone[row] = 0
            }
            try agent.update(on: batch, generator: &generator)
        }
        var mean = [Float](repeating: 0, count: 2)
        agent.policy.meanActions(states: [0.5, 0.5], rows: 1, into: &mean)
        #expect(mean.allSatisfy { abs($0 - 0.6) < 0.1 }, "mean action \(mean)")
        #expect(agent.alpha < 0.5, "alpha \(agent.alpha)")
        let q = agent.critic.values(states: [0.5, 0.5], actions: [0.6, 0.6], rows: 1)
        #expect(abs(q.q1[0]) < 0.1 && abs(q.q2[0]) < 0.1, "Q at the best action: \(q.q1[0]), \(q.q2[0])")
    }

    @Test func targetCriticsStartAsCopiesAndTrailTheCritics() throws {
        var generator = SeededGenerator(seed: 3)
        let agent = try SoftActorCritic(config: Self.smallConfig(), stateDimension: 3, actionDimension: 1, generator: &generator)
        #expect(agent.critic.parameters.values.array == agent.criticTarget.parameters.values.array)
        let batch = TransitionBatch(rows: 64, stateDimension: 3, actionDimension: 1)
        for i in 0..<(64 * 3) { batch.states[i] = Float(generator.normal()); batch.nextStates[i] = Float(generator.normal()) }
        for i in 0..<64 { batch.actions[i] = 0.1; batch.rewards[i] = 1; batch.notDone[i] = 1 }
        let before = agent.criticTarget.parameters.values.array
        try agent.update(on: batch, generator: &generator)
        let critic = agent.critic.parameters.values.array, after = agent.criticTarget.parameters.values.array
        // target ← target + τ (critic − target), τ = 0.005
        let index = critic.indices.first { critic[$0] != before[$0] }!
        #expect(abs(after[index] - (before[index] + 0.005 * (critic[index] - before[index]))) < 1e-7)
    }

    @Test func invalidSettingsAreNamed() {
        var config = SACConfig()
        config.batchSize = 0
        config.discount = 1.5
        var generator = SeededGenerator(seed: 0)
        #expect(throws: SACError.invalidConfig(problems: [
            "batch_size must be at least 1 (got 0)", "discount must be in [0, 1] (got 1.5)",
        ])) {
            try SoftActorCritic(config: config, stateDimension: 3, actionDimension: 1, generator: &generator)
        }
    }
}
