import Foundation
import NeuralNet
import Parallel
import SeededRandom

/// SAC's policy as rlkit builds it (D4RL's behaviour agents came from rlkit): two hidden ReLU layers,
/// then one linear layer giving each action dimension's mean μ and log standard deviation log σ of a
/// Gaussian over the pre-squash action u; the action is a = tanh(u), inside (-1, 1)ᴬ. log σ is clamped
/// to [-20, 2]. The last layer's rows are [μ₁ … μ_A, log σ₁ … log σ_A]; rlkit keeps them as two
/// layers (`last_fc`, `last_fc_log_std`), which is the same function.
public final class TanhGaussianPolicy {
    public let stateDimension: Int
    public let actionDimension: Int
    public let capacity: Int
    public let parameters = Parameters()
    public let network: MLP

    static let logStandardDeviationRange: ClosedRange<Float> = -20...2
    /// rlkit's guard inside log(1 - tanh²(u) + ε), which keeps the log finite where tanh saturates.
    static let squashEpsilon: Float = 1e-6
    private static let halfLogTwoPi = Float(0.5 * log(2 * Double.pi))

    private let tape: MLPTape
    // Per row of the last `sample`, what its backward pass needs.
    private let noise: FloatBuffer
    private let standardDeviations: FloatBuffer
    private let unclampedLogStandardDeviations: FloatBuffer
    private let squashedActions: FloatBuffer
    private let outputGradient: FloatBuffer

    /// `pool` shares the parts of each network pass (`MLPTape`); nil runs them on the calling thread.
    public init(stateDimension: Int, actionDimension: Int, hiddenWidth: Int = 256, capacity: Int, pool: WorkerPool? = nil,
                generator: inout SeededGenerator) {
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        self.capacity = capacity
        network = MLP(sizes: [stateDimension, hiddenWidth, hiddenWidth, 2 * actionDimension],
                      names: ["fcs.0", "fcs.1", "last_fc"], activation: .relu,
                      parameters: parameters, generator: &generator)
        tape = MLPTape(network, capacity: capacity, pool: pool)
        let cells = capacity * actionDimension
        noise = FloatBuffer(count: cells)
        standardDeviations = FloatBuffer(count: cells)
        unclampedLogStandardDeviations = FloatBuffer(count: cells)
        squashedActions = FloatBuffer(count: cells)
        outputGradient = FloatBuffer(count: 2 * cells)
    }

    /// Samples a = tanh(μ + σ ε) for `rows` states, with ε the caller's standard normals (rows × A),
    /// and writes the actions (rows × A) and log π(a | s) (rows), the density of a itself:
    /// Σ_k [log N(u_k; μ_k, σ_k) − log(1 − a_k² + ε)]. Keeps what `backward` needs. The products run
    /// in a BLAS region (the caller's, else one at the default thread count).
    public func sample(states: UnsafePointer<Float>, rows: Int, noise standardNormals: UnsafePointer<Float>,
                       actions: UnsafeMutablePointer<Float>, logProbabilities: UnsafeMutablePointer<Float>) {
        let output = BLAS.atDefaultThreads { network.forward(states, rows: rows, tape: tape, parameters: parameters) }
        let width = actionDimension
        noise.pointer.update(from: standardNormals, count: rows * width)
        for row in 0..<rows {
            let mean = output + row * 2 * width, logStd = mean + width
            var logProbability: Float = 0
            for k in 0..<width {
                let cell = row * width + k
                let clamped = min(max(logStd[k], Self.logStandardDeviationRange.lowerBound),
                                  Self.logStandardDeviationRange.upperBound)
                let sigma = exp(clamped), epsilon = noise.pointer[cell]
                let action = tanh(mean[k] + sigma * epsilon)
                unclampedLogStandardDeviations.pointer[cell] = logStd[k]
                standardDeviations.pointer[cell] = sigma
                squashedActions.pointer[cell] = action
                actions[cell] = action
                logProbability += -0.5 * epsilon * epsilon - clamped - Self.halfLogTwoPi
                    - log(1 - action * action + Self.squashEpsilon)
            }
            logProbabilities[row] = logProbability
        }
    }

    /// tanh(μ) for `rows` states: the policy's deterministic action.
    public func meanActions(states: UnsafePointer<Float>, rows: Int, into actions: UnsafeMutablePointer<Float>) {
        let output = network.forward(states, rows: rows, tape: tape, parameters: parameters)
        for row in 0..<rows {
            for k in 0..<actionDimension {
                actions[row * actionDimension + k] = tanh(output[row * 2 * actionDimension + k])
            }
        }
    }

    /// Accumulates into `parameters.gradients` the gradient of a loss Σ_rows [w · log π(a_row) + ℓ(a_row)]
    /// through the last `sample`, reparameterized (ε held fixed), given d ℓ / d a (rows × A) and the
    /// weight w of the log-probabilities (SAC's α / batch size).
    ///
    /// With u = μ + σε and a = tanh(u): d log π / du = 2a(1 − a²) / (1 − a² + ε), d a / du = 1 − a²;
    /// d / dμ = d / du; d / d log σ = (d / du) σε − w (the −log σ term), zero where log σ was clamped.
    public func backward(actionGradient: UnsafePointer<Float>, logProbabilityWeight weight: Float) {
        let rows = tape.rowsRecorded, width = actionDimension
        for row in 0..<rows {
            let meanGradient = outputGradient.pointer + row * 2 * width, logStdGradient = meanGradient + width
            for k in 0..<width {
                let cell = row * width + k
                let action = squashedActions.pointer[cell], slope = 1 - action * action
                let dLogProbability = 2 * action * slope / (slope + Self.squashEpsilon)
                let du = weight * dLogProbability + actionGradient[cell] * slope
                meanGradient[k] = du
                let inRange = Self.logStandardDeviationRange.contains(unclampedLogStandardDeviations.pointer[cell])
                logStdGradient[k] = inRange ? du * standardDeviations.pointer[cell] * noise.pointer[cell] - weight : 0
            }
        }
        network.backward(outputGradient.pointer, tape: tape, parameters: parameters)
    }
}
