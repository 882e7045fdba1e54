import Foundation
import GradientCheck
@testable import NeuralNet
import SeededRandom
import Testing

/// Backward passes against finite differences, for every layer kind and for whole MLPs.
@Suite struct LayerGradientTests {
    /// An MLP, a fixed input and a fixed weighting w of its outputs: loss = Σ w ⊙ MLP(x).
    struct Probe {
        let network: MLP
        let parameters = Parameters()
        let tape: MLPTape
        var input: [Float]
        let weights: [Float]
        let rows: Int

        init(sizes: [Int], activation: Activation, activateLast: Bool = false, rows: Int = 6, seed: UInt64 = 3) {
            var generator = SeededGenerator(seed: seed)
            network = MLP(sizes: sizes, names: (0..<sizes.count - 1).map { "layer\($0)" }, activation: activation,
                          activateLast: activateLast, parameters: parameters, generator: &generator)
            tape = MLPTape(network, capacity: rows)
            self.rows = rows
            input = GradientCheck.randomValues(rows * sizes[0], seed: seed + 1)
            weights = GradientCheck.randomValues(rows * sizes[sizes.count - 1], seed: seed + 2)
        }

        func loss(input: [Float]? = nil) -> Double {
            let output = (input ?? self.input).withUnsafeBufferPointer {
                network.forward($0.baseAddress!, rows: rows, tape: tape, parameters: parameters)
            }
            var sum = 0.0
            for i in weights.indices { sum += Double(weights[i]) * Double(output[i]) }
            return sum
        }

        /// Parameter gradients and the input gradient from the backward pass.
        func analytic() -> (parameters: [Float], input: [Float]) {
            parameters.zeroGradients()
            _ = loss()
            var inputGradient = [Float](repeating: 0, count: input.count)
            weights.withUnsafeBufferPointer { w in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    network.backward(w.baseAddress!, tape: tape, parameters: parameters, inputGradient: dx.baseAddress!)
                }
            }
            return (parameters.gradients.array, inputGradient)
        }
    }

    /// `step` is smaller for ReLU, whose kink a wide difference may straddle.
    static func check(_ probe: Probe, parameterSamples: Int = 60, step: Float = 1e-2) {
        let analytic = probe.analytic()
        let parameterMismatches = GradientCheck.compare(
            parameters: probe.parameters, analytic: analytic.parameters,
            indices: GradientCheck.sample(parameterSamples, below: probe.parameters.values.count), step: step) { probe.loss() }
        #expect(parameterMismatches.isEmpty, "parameters: \(parameterMismatches.prefix(5))")

        var input = probe.input
        let inputMismatches = input.withUnsafeMutableBufferPointer { x in
            GradientCheck.compare(values: x.baseAddress!, analytic: analytic.input, indices: Array(x.indices), step: step) {
                probe.loss(input: Array(x))
            }
        }
        #expect(inputMismatches.isEmpty, "input: \(inputMismatches.prefix(5))")
    }

    @Test func linearLayer() {
        Self.check(Probe(sizes: [5, 4], activation: .mish))
    }

    @Test func mishNetwork() {
        Self.check(Probe(sizes: [7, 16, 16, 3], activation: .mish))
    }

    @Test func mishNetworkActivatedAtTheEnd() {
        Self.check(Probe(sizes: [4, 12, 9], activation: .mish, activateLast: true))
    }

    @Test func reluNetwork() {
        Self.check(Probe(sizes: [6, 16, 2], activation: .relu, seed: 11), step: 1e-3)
    }

    @Test func mishDerivativeMatchesDifferences() {
        for x in stride(from: Float(-8), through: 25, by: 0.37) {
            let h: Float = 1e-2
            let numeric = (Double(mish(x + h)) - Double(mish(x - h))) / Double(2 * h)
            #expect(abs(Float(numeric) - mishDerivative(x)) < 2e-3, "x = \(x)")
        }
        #expect(abs(mish(1) - 0.8650984) < 1e-6)
        #expect(mish(30) == 30)
    }

    /// The branch-free exponential and Mish agree with libm's formulas (in Double) to a few ulp over
    /// the whole range activations take, including both tails (the derivative near its zero at
    /// x = -1.19 to an absolute 1e-7).
    @Test func fastMishAgreesWithTheLibmFormula() {
        var worstExp = 0.0, worstMish = 0.0, worstDerivative = 0.0
        for x in stride(from: Float(-87), through: 88, by: 0.0137) {
            let reference = Foundation.exp(Double(x))
            worstExp = max(worstExp, abs(Double(exponential(x)) - reference) / reference)
        }
        for x in stride(from: Float(-60), through: 60, by: 0.0031) {
            let sp = Double(x) > 20 ? Double(x) : log1p(Foundation.exp(Double(x)))
            let t = tanh(sp)
            let mishReference = Double(x) * t
            let sigmoid = 1 / (1 + Foundation.exp(-Double(x)))
            let derivativeReference = t + Double(x) * (1 - t * t) * sigmoid
            worstMish = max(worstMish, abs(Double(mish(x)) - mishReference) / max(abs(mishReference), 1e-30))
            worstDerivative = max(worstDerivative, abs(Double(mishDerivative(x)) - derivativeReference) / max(abs(derivativeReference), 0.1))
        }
        #expect(worstExp < 3e-7, "exp relative error \(worstExp)")
        #expect(worstMish < 1e-6, "mish relative error \(worstMish)")
        #expect(worstDerivative < 1e-6, "mish derivative error \(worstDerivative)")
    }

    /// The tape is reused: a second forward pass with more rows must not read stale rows.
    @Test func forwardIsAPureFunctionOfItsInput() {
        let probe = Probe(sizes: [3, 8, 2], activation: .mish)
        let first = probe.loss()
        _ = probe.loss(input: probe.input.map { $0 * 2 })
        #expect(probe.loss() == first)
    }
}
