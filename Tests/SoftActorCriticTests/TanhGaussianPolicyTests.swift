import Foundation
import GradientCheck
import NeuralNet
import SeededRandom
import SoftActorCritic
import Testing

@Suite struct TanhGaussianPolicyTests {
    static let rows = 5, stateWidth = 4, actionWidth = 3

    static func policy(capacity: Int = rows) -> TanhGaussianPolicy {
        var generator = SeededGenerator(seed: 7)
        return TanhGaussianPolicy(stateDimension: stateWidth, actionDimension: actionWidth, hiddenWidth: 16,
                                  capacity: capacity, generator: &generator)
    }

    @Test func rlkitNamesAndShapes() {
        let policy = Self.policy()
        let shapes = Dictionary(uniqueKeysWithValues: policy.parameters.tensors.map { ($0.name, $0.shape) })
        #expect(shapes == ["fcs.0.weight": [16, 4], "fcs.0.bias": [16], "fcs.1.weight": [16, 16], "fcs.1.bias": [16],
                           "last_fc.weight": [6, 16], "last_fc.bias": [6]])
    }

    /// log π(a) against the change-of-variables formula in Double, from the network's own μ and log σ
    /// (read back as the mean action and from the sample with ε = 1).
    @Test func logProbabilityIsTheSquashedGaussianDensity() {
        let policy = Self.policy(capacity: 1)
        let state = GradientCheck.randomValues(Self.stateWidth, seed: 3)
        var mean = [Float](repeating: 0, count: Self.actionWidth)
        policy.meanActions(states: state, rows: 1, into: &mean)
        let noise = GradientCheck.randomValues(Self.actionWidth, seed: 4)
        var unitSample = [Float](repeating: 0, count: Self.actionWidth), unused: Float = 0
        policy.sample(states: state, rows: 1, noise: [Float](repeating: 1, count: Self.actionWidth),
                      actions: &unitSample, logProbabilities: &unused)
        var action = [Float](repeating: 0, count: Self.actionWidth), logProbability: Float = 0
        policy.sample(states: state, rows: 1, noise: noise, actions: &action, logProbabilities: &logProbability)
        var expected = 0.0
        for k in 0..<Self.actionWidth {
            let mu = atanh(Double(mean[k])), sigma = atanh(Double(unitSample[k])) - mu
            let u = mu + sigma * Double(noise[k])
            #expect(abs(tanh(u) - Double(action[k])) < 1e-5)
            let gaussian = -0.5 * pow((u - mu) / sigma, 2) - log(sigma) - 0.5 * log(2 * Double.pi)
            expected += gaussian - log(1 - tanh(u) * tanh(u) + 1e-6)
        }
        #expect(abs(Double(logProbability) - expected) < 1e-3 * max(1, abs(expected)))
    }

    /// loss = Σ_rows [w log π(a) + c · a] with ε held fixed: parameter gradients against finite differences.
    @Test func reparameterizedGradientMatchesFiniteDifferences() {
        let policy = Self.policy()
        let rows = Self.rows, width = Self.actionWidth
        let states = GradientCheck.randomValues(rows * Self.stateWidth, seed: 1)
        let noise = GradientCheck.randomValues(rows * width, seed: 2)
        let c = GradientCheck.randomValues(rows * width, seed: 5)
        let weight: Float = 0.3
        var actions = [Float](repeating: 0, count: rows * width), logProbabilities = [Float](repeating: 0, count: rows)
        func loss() -> Double {
            policy.sample(states: states, rows: rows, noise: noise, actions: &actions, logProbabilities: &logProbabilities)
            return (0..<rows).reduce(0.0) { total, row in
                total + Double(weight * logProbabilities[row])
                    + (0..<width).reduce(0.0) { $0 + Double(c[row * width + $1] * actions[row * width + $1]) }
            }
        }
        _ = loss()
        policy.parameters.zeroGradients()
        policy.backward(actionGradient: c, logProbabilityWeight: weight)
        let mismatches = GradientCheck.compare(
            parameters: policy.parameters, analytic: policy.parameters.gradients.array,
            indices: GradientCheck.sample(120, below: policy.parameters.values.count), step: 1e-3, loss: loss)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// Where log σ is beyond the clamp, the loss does not depend on it and its gradient is zero.
    @Test func clampedLogStandardDeviationGetsNoGradient() throws {
        let policy = Self.policy(capacity: 1)
        let bias = try #require(policy.parameters.tensor(named: "last_fc.bias"))
        var values = policy.parameters.values(of: bias)
        values[Self.actionWidth] = 50  // log σ of the first action dimension far above 2
        policy.parameters.setValues(of: bias, to: values)
        var action = [Float](repeating: 0, count: Self.actionWidth), logProbability: Float = 0
        policy.sample(states: [Float](repeating: 0.1, count: Self.stateWidth), rows: 1,
                      noise: [Float](repeating: 0.5, count: Self.actionWidth), actions: &action,
                      logProbabilities: &logProbability)
        policy.parameters.zeroGradients()
        policy.backward(actionGradient: [Float](repeating: 1, count: Self.actionWidth), logProbabilityWeight: 1)
        #expect(policy.parameters.gradients[bias.offset + Self.actionWidth] == 0)
        #expect(policy.parameters.gradients[bias.offset] != 0)
    }
}
