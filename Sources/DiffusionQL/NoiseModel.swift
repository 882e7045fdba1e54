import NeuralNet
import Parallel
import SeededRandom

/// The reference's noise model eps(a_i, i, s): the step's sinusoidal embedding through a small MLP
/// (16 -> 32 -> Mish -> 16), concatenated as [noisy action, time features, state] and mapped by
/// three Mish layers of `hiddenWidth` to one noise estimate per action dimension.
public struct NoiseModel: Sendable {
    public let stateDimension: Int
    public let actionDimension: Int
    public let embedding: SinusoidalEmbedding
    public let timeMLP: MLP
    public let network: MLP

    /// Registers the model's tensors under the reference's names (`model.time_mlp.1.weight`, ...).
    /// `steps`: the diffusion steps, whose embeddings are computed once.
    public init(stateDimension: Int, actionDimension: Int, hiddenWidth: Int = 256, steps: Int,
                parameters: Parameters, generator: inout SeededGenerator) {
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        embedding = SinusoidalEmbedding(dimension: 16, steps: steps)
        timeMLP = MLP(sizes: [16, 32, 16], names: ["model.time_mlp.1", "model.time_mlp.3"], activation: .mish,
                      parameters: parameters, generator: &generator)
        network = MLP(
            sizes: [actionDimension + 16 + stateDimension, hiddenWidth, hiddenWidth, hiddenWidth, actionDimension],
            names: ["model.mid_layer.0", "model.mid_layer.2", "model.mid_layer.4", "model.final_layer"],
            activation: .mish, parameters: parameters, generator: &generator)
    }

    var inputWidth: Int { network.inputs }

    /// eps for `rows` rows: noisy actions (rows × action), states (rows × state), one step per row.
    /// The result lives in `tape` until its next use; `backward` needs a pass that was `recording`.
    func predict(
        noisyActions: UnsafePointer<Float>, states: UnsafePointer<Float>, steps: UnsafePointer<Int>, rows: Int,
        tape: NoiseModelTape, parameters: Parameters, recording: Bool
    ) -> UnsafeMutablePointer<Float> {
        let embedded = tape.embedding.pointer, input = tape.input.pointer, width = inputWidth
        // A sampling step's rows share their step, and row-independent products give a row alone the
        // numbers it gets among others (`DenseProducts`), so one row's time features serve all. A
        // recording pass keeps every row: the weight gradients sum over them.
        let shared = !recording && rows > 0 && (0..<rows).allSatisfy { steps[$0] == steps[0] }
        let timeRows = shared ? 1 : rows
        for row in 0..<timeRows { embedding.embed(steps[row], into: embedded + row * 16) }
        let time = timeMLP.forward(embedded, rows: timeRows, tape: tape.timeTape, parameters: parameters, recording: recording)
        copyColumns(16, rows: rows, from: time, stride: shared ? 0 : 16, to: input + actionDimension, stride: width)
        copyColumns(actionDimension, rows: rows, from: noisyActions, stride: actionDimension, to: input, stride: width)
        copyColumns(stateDimension, rows: rows, from: states, stride: stateDimension, to: input + actionDimension + 16,
                    stride: width)
        return network.forward(input, rows: rows, tape: tape.networkTape, parameters: parameters, recording: recording)
    }

    /// Backpropagates d loss / d eps through the last `predict` on `tape`: accumulates parameter
    /// gradients, and writes d loss / d noisy action when `actionGradient` is given.
    func backward(
        _ epsGradient: UnsafePointer<Float>, tape: NoiseModelTape, parameters: Parameters,
        actionGradient: UnsafeMutablePointer<Float>?
    ) {
        let rows = tape.networkTape.rowsRecorded, width = inputWidth
        let inputGradient = tape.inputGradient.pointer
        network.backward(epsGradient, tape: tape.networkTape, parameters: parameters, inputGradient: inputGradient)
        let timeGradient = tape.timeGradient.pointer
        copyColumns(16, rows: rows, from: inputGradient + actionDimension, stride: width, to: timeGradient, stride: 16)
        if let actionGradient {
            copyColumns(actionDimension, rows: rows, from: inputGradient, stride: width, to: actionGradient, stride: actionDimension)
        }
        timeMLP.backward(timeGradient, tape: tape.timeTape, parameters: parameters)
    }
}

/// What one evaluation of the noise model keeps for its backward pass, for up to `capacity` rows.
final class NoiseModelTape {
    let embedding: FloatBuffer
    let timeTape: MLPTape
    let input: FloatBuffer
    let networkTape: MLPTape
    let inputGradient: FloatBuffer
    let timeGradient: FloatBuffer

    init(_ model: NoiseModel, capacity: Int, pool: WorkerPool?) {
        embedding = FloatBuffer(count: capacity * 16)
        timeTape = MLPTape(model.timeMLP, capacity: capacity, pool: pool)
        input = FloatBuffer(count: capacity * model.inputWidth)
        networkTape = MLPTape(model.network, capacity: capacity, pool: pool)
        inputGradient = FloatBuffer(count: capacity * model.inputWidth)
        timeGradient = FloatBuffer(count: capacity * 16)
    }
}
