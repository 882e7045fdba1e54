import GradientCheck
import NeuralNet
import RLCore
import SeededRandom
import Testing

@Suite struct CriticTests {
    static func critic(width: Int = 256, rows: Int = 1) -> Critic {
        var generator = SeededGenerator(seed: 4)
        return Critic(stateDimension: 11, actionDimension: 3, hiddenWidth: width, capacity: rows, generator: &generator)
    }

    @Test func referenceNamesShapesAndCount() {
        let critic = Self.critic()
        #expect(critic.parameters.count == 271_362)
        let shapes = Dictionary(uniqueKeysWithValues: critic.parameters.tensors.map { ($0.name, $0.shape) })
        #expect(shapes["q1_model.0.weight"] == [256, 14])
        #expect(shapes["q1_model.6.weight"] == [1, 256])
        #expect(shapes["q2_model.6.bias"] == [1])
    }

    /// loss = Σ u ⊙ Q1 + Σ v ⊙ Q2: parameter and action gradients against finite differences.
    @Test func gradientsOfBothHeads() {
        let rows = 4
        let critic = Self.critic(width: 16, rows: rows)
        let states = GradientCheck.randomValues(rows * 11, seed: 1)
        var actions = GradientCheck.randomValues(rows * 3, scale: 0.5, seed: 2)
        let u = GradientCheck.randomValues(rows, seed: 3), v = GradientCheck.randomValues(rows, seed: 4)
        func loss(_ actions: [Float]) -> Double {
            let (q1, q2) = critic.values(states: states, actions: actions, rows: rows)
            return (0..<rows).reduce(0) { $0 + Double(u[$1]) * Double(q1[$1]) + Double(v[$1]) * Double(q2[$1]) }
        }
        critic.parameters.zeroGradients()
        _ = loss(actions)
        var actionGradient = [Float](repeating: 0, count: rows * 3)
        u.withUnsafeBufferPointer { u in
            v.withUnsafeBufferPointer { v in
                actionGradient.withUnsafeMutableBufferPointer {
                    critic.backward(q1Gradient: u.baseAddress!, q2Gradient: v.baseAddress!, actionGradient: $0.baseAddress!)
                }
            }
        }
        let parameterMismatches = GradientCheck.compare(
            parameters: critic.parameters, analytic: critic.parameters.gradients.array,
            indices: GradientCheck.sample(80, below: critic.parameters.values.count)) { loss(actions) }
        #expect(parameterMismatches.isEmpty, "\(parameterMismatches.prefix(5))")
        let actionMismatches = actions.withUnsafeMutableBufferPointer { a in
            GradientCheck.compare(values: a.baseAddress!, analytic: actionGradient, indices: Array(a.indices)) { loss(Array(a)) }
        }
        #expect(actionMismatches.isEmpty, "\(actionMismatches.prefix(5))")
    }
}
