import NeuralNet
import Parallel
import SeededRandom

/// The double critic: two independent Q networks, each concat[state, action] -> `hiddenLayers` layers
/// of `hiddenWidth` -> 1. Diffusion-QL's are three Mish layers, under the reference's names
/// (`q1_model.0.weight`, ..., `q2_model.6.bias`); SAC's twin critics are two ReLU layers.
public final class Critic {
    public let stateDimension: Int
    public let actionDimension: Int
    public let parameters = Parameters()
    public let q1: MLP
    public let q2: MLP
    public let capacity: Int

    private let input: FloatBuffer
    private let tape1: MLPTape
    private let tape2: MLPTape
    private let inputGradient: FloatBuffer

    /// `pool` shares the parts of each network pass (`MLPTape`); nil runs them on the calling thread.
    public init(stateDimension: Int, actionDimension: Int, hiddenWidth: Int = 256, hiddenLayers: Int = 3,
                activation: Activation = .mish, capacity: Int, pool: WorkerPool? = nil, generator: inout SeededGenerator) {
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        self.capacity = capacity
        let sizes = [stateDimension + actionDimension] + Array(repeating: hiddenWidth, count: hiddenLayers) + [1]
        // nn.Sequential numbers the activations too, so the linear layers are 0, 2, 4, ...
        func names(_ prefix: String) -> [String] { (0...hiddenLayers).map { "\(prefix).\(2 * $0)" } }
        q1 = MLP(sizes: sizes, names: names("q1_model"), activation: activation, parameters: parameters, generator: &generator)
        q2 = MLP(sizes: sizes, names: names("q2_model"), activation: activation, parameters: parameters, generator: &generator)
        input = FloatBuffer(count: capacity * sizes[0])
        tape1 = MLPTape(q1, capacity: capacity, pool: pool)
        tape2 = MLPTape(q2, capacity: capacity, pool: pool)
        inputGradient = FloatBuffer(count: capacity * sizes[0])
    }

    /// Q1 and Q2 (each `rows` values) of the (state, action) rows; they live in the critic's tapes
    /// until its next evaluation. `backward` needs an evaluation that was `recording`.
    public func values(states: UnsafePointer<Float>, actions: UnsafePointer<Float>, rows: Int, recording: Bool = true)
        -> (q1: UnsafeMutablePointer<Float>, q2: UnsafeMutablePointer<Float>) {
        precondition(rows <= capacity, "batch of \(rows) rows exceeds the critic's capacity \(capacity)")
        let width = stateDimension + actionDimension
        copyColumns(stateDimension, rows: rows, from: states, stride: stateDimension, to: input.pointer, stride: width)
        copyColumns(actionDimension, rows: rows, from: actions, stride: actionDimension, to: input.pointer + stateDimension,
                    stride: width)
        return (q1.forward(input.pointer, rows: rows, tape: tape1, parameters: parameters, recording: recording),
                q2.forward(input.pointer, rows: rows, tape: tape2, parameters: parameters, recording: recording))
    }

    /// Backpropagates d loss / d Q1 and d loss / d Q2 (either may be nil) through the last `values`:
    /// accumulates parameter gradients (unless `parameterGradients` is false, as for the actor's Q
    /// term, which moves only the actor), and adds d loss / d action to `actionGradient` when given.
    public func backward(q1Gradient: UnsafePointer<Float>?, q2Gradient: UnsafePointer<Float>?,
                         actionGradient: UnsafeMutablePointer<Float>? = nil, parameterGradients: Bool = true) {
        backward(q1, tape: tape1, gradient: q1Gradient, actionGradient: actionGradient, parameterGradients: parameterGradients)
        backward(q2, tape: tape2, gradient: q2Gradient, actionGradient: actionGradient, parameterGradients: parameterGradients)
    }

    private func backward(_ network: MLP, tape: MLPTape, gradient: UnsafePointer<Float>?,
                          actionGradient: UnsafeMutablePointer<Float>?, parameterGradients: Bool) {
        guard let gradient else { return }
        network.backward(gradient, tape: tape, parameters: parameters,
                         inputGradient: actionGradient == nil ? nil : inputGradient.pointer,
                         parameterGradients: parameterGradients)
        guard let actionGradient else { return }
        let width = stateDimension + actionDimension
        for row in 0..<tape.rowsRecorded {
            let source = inputGradient.pointer + row * width + stateDimension
            for k in 0..<actionDimension { actionGradient[row * actionDimension + k] += source[k] }
        }
    }
}
