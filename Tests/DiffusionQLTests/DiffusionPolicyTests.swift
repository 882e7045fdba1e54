@testable import DiffusionQL
import GradientCheck
import NeuralNet
import Parallel
import SeededRandom
import Testing

@Suite struct DiffusionPolicyTests {
    static func policy(state: Int = 4, action: Int = 2, width: Int = 16, steps: Int = 5, rows: Int = 5,
                       pool: WorkerPool? = nil) -> DiffusionPolicy {
        var generator = SeededGenerator(seed: 21)
        return DiffusionPolicy(stateDimension: state, actionDimension: action, maxAction: 1,
                               schedule: NoiseSchedule(.vp, steps: steps), hiddenWidth: width,
                               capacity: rows, pool: pool, generator: &generator)
    }

    static func values(_ count: Int, seed: UInt64, scale: Double = 1) -> [Float] {
        GradientCheck.randomValues(count, scale: scale, seed: seed)
    }

    /// Finite differences of `loss` in `samples` random parameters against `analytic`.
    static func mismatches(_ policy: DiffusionPolicy, analytic: [Float], samples: Int, step h: Float,
                           loss: () -> Double) -> [GradientCheck.Mismatch] {
        GradientCheck.compare(
            parameters: policy.parameters, analytic: analytic,
            indices: GradientCheck.sample(samples, below: policy.parameters.values.count, seed: 5), step: h,
            relativeTolerance: 0.03, loss: loss)
    }

    @Test func referenceNamesShapesAndCount() {
        var generator = SeededGenerator(seed: 0)
        let hopper = DiffusionPolicy(stateDimension: 11, actionDimension: 3, maxAction: 1,
                                     schedule: NoiseSchedule(.vp, steps: 5), capacity: 1, generator: &generator)
        #expect(hopper.parameters.count == 141_363)
        let shapes = Dictionary(uniqueKeysWithValues: hopper.parameters.tensors.map { ($0.name, $0.shape) })
        #expect(shapes["model.time_mlp.1.weight"] == [32, 16])
        #expect(shapes["model.time_mlp.3.weight"] == [16, 32])
        #expect(shapes["model.mid_layer.0.weight"] == [256, 30])
        #expect(shapes["model.mid_layer.4.bias"] == [256])
        #expect(shapes["model.final_layer.weight"] == [3, 256])
    }

    @Test func behaviorCloningLossGradient() {
        let policy = Self.policy()
        let states = Self.values(5 * 4, seed: 1), actions = Self.values(5 * 2, seed: 2, scale: 0.5)
        func loss(accumulating: Bool) -> Double {
            var generator = SeededGenerator(seed: 9)
            return Double(policy.behaviorCloningLoss(states: states, actions: actions, rows: 5, generator: &generator,
                                                     accumulatingGradient: accumulating))
        }
        policy.parameters.zeroGradients()
        #expect(loss(accumulating: true) > 0)
        let found = Self.mismatches(policy, analytic: policy.parameters.gradients.array, samples: 80, step: 1e-2) {
            loss(accumulating: false)
        }
        #expect(found.isEmpty, "\(found.prefix(5))")
    }

    /// Rows that share a diffusion step share one evaluation of the time MLP; with row-independent
    /// products a row's noise estimate is then the one it gets alone, whatever steps the other rows have.
    @Test
    func aRowsNoiseEstimateDoesNotDependOnTheOtherRowsSteps() {
        let rows = 7, steps = [0, 3, 3, 1, 4, 0, 2]
        let policy = Self.policy(width: 256, rows: rows), model = policy.model
        let states = Self.values(rows * 4, seed: 6), noisy = Self.values(rows * 2, seed: 7)
        let together = NoiseModelTape(model, capacity: rows, pool: nil), alone = NoiseModelTape(model, capacity: 1, pool: nil)
        let all = Array(UnsafeBufferPointer(
            start: model.predict(noisyActions: noisy, states: states, steps: steps, rows: rows, tape: together,
                                 parameters: policy.parameters, recording: true), count: rows * 2))
        #expect(together.timeTape.rowsRecorded == 5, "the time MLP ran on each distinct step once")
        for row in 0..<rows {
            let eps = model.predict(noisyActions: Array(noisy[row * 2 ..< row * 2 + 2]), states: Array(states[row * 4 ..< row * 4 + 4]),
                                    steps: [steps[row]], rows: 1, tape: alone, parameters: policy.parameters, recording: false)
            #expect([eps[0], eps[1]] == Array(all[row * 2 ..< row * 2 + 2]), "row \(row), step \(steps[row])")
        }
    }

    /// The Q term differentiates the sampled action through all N denoising steps.
    @Test(arguments: [2, 5])
    func samplingChainGradient(_ steps: Int) {
        let policy = Self.policy(steps: steps)
        let states = Self.values(5 * 4, seed: 3)
        let weights = Self.values(5 * 2, seed: 4)
        func loss(recording: Bool) -> Double {
            var generator = SeededGenerator(seed: 17)
            var actions = [Float](repeating: 0, count: 10)
            actions.withUnsafeMutableBufferPointer {
                policy.sample(states: states, rows: 5, generator: &generator, into: $0.baseAddress!, recording: recording)
            }
            return zip(actions, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        policy.parameters.zeroGradients()
        _ = loss(recording: true)
        weights.withUnsafeBufferPointer { policy.backwardThroughSample($0.baseAddress!) }
        let analytic = policy.parameters.gradients.array
        #expect(analytic.contains { $0 != 0 })
        let found = Self.mismatches(policy, analytic: analytic, samples: 80, step: 1e-3) { loss(recording: false) }
        #expect(found.isEmpty, "\(found.prefix(5))")
    }

    /// `sample` makes its noise in parts on its pool; the actions are those of the noise drawn in
    /// turn from the one generator, which is left as that drawing leaves it.
    @Test(arguments: [1, 2, 3])
    func samplingOnAPoolTakesTheNoiseOfOneGeneratorInOrder(_ threads: Int) {
        let rows = 150, policy = Self.policy(rows: rows, pool: WorkerPool(threads: threads))
        let states = Self.values(rows * 4, seed: 8)
        #expect(policy.noiseCount(rows: rows) > 4 * DeferredNormals.drawsPerPart, "several parts of noise")
        var generator = SeededGenerator(seed: 3), reference = generator
        _ = generator.normal()
        _ = reference.normal()
        var actions = [Float](repeating: 0, count: rows * 2), expected = actions
        actions.withUnsafeMutableBufferPointer { policy.sample(states: states, rows: rows, generator: &generator, into: $0.baseAddress!) }
        let noise = (0..<policy.noiseCount(rows: rows)).map { _ in Float(reference.normal()) }
        expected.withUnsafeMutableBufferPointer {
            policy.denoise(states: states, rows: rows, noise: noise, noiseStride: rows * 2, into: $0.baseAddress!)
        }
        let differing = zip(actions, expected).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(actions.count) action values differ")
        #expect(generator.snapshot == reference.snapshot)
    }

    @Test func samplesStayWithinTheActionBoundsAndRepeatPerSeed() {
        let policy = Self.policy(rows: 5)
        let states = Self.values(5 * 4, seed: 8, scale: 3)
        func draw(seed: UInt64) -> [Float] {
            var generator = SeededGenerator(seed: seed)
            var actions = [Float](repeating: 0, count: 10)
            actions.withUnsafeMutableBufferPointer { policy.sample(states: states, rows: 5, generator: &generator, into: $0.baseAddress!) }
            return actions
        }
        let first = draw(seed: 1)
        #expect(first.allSatisfy { abs($0) <= 1 })
        #expect(draw(seed: 1) == first)
        #expect(draw(seed: 2) != first)
    }
}
