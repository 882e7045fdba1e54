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
        let input = tape.input.pointer, width = inputWidth, timeRow = tape.timeRow
        let time = timeFeatures(steps: steps, rows: rows, tape: tape, parameters: parameters, recording: recording)
        for row in 0..<rows {
            (input + row * width + actionDimension).update(from: time + timeRow[row] * 16, count: 16)
        }
        copyColumns(actionDimension, rows: rows, from: noisyActions, stride: actionDimension, to: input, stride: width)
        copyColumns(stateDimension, rows: rows, from: states, stride: stateDimension, to: input + actionDimension + 16,
                    stride: width)
        return network.forward(input, rows: rows, tape: tape.networkTape, parameters: parameters, recording: recording)
    }

    /// The time features of each distinct step among the rows' (rows sharing a step share its features:
    /// a sampling step's rows all do, a behaviour-cloning batch's have at most N), with `tape.timeRow`
    /// telling each row's. Row-independent products give a row's features the same numbers whatever
    /// rows share the pass (`DenseProducts`), so this changes no value, only the work.
    private func timeFeatures(steps: UnsafePointer<Int>, rows: Int, tape: NoiseModelTape, parameters: Parameters,
                              recording: Bool) -> UnsafeMutablePointer<Float> {
        let distinctSteps = tape.distinctSteps, timeRow = tape.timeRow
        var distinct = 0
        for row in 0..<rows {
            let step = steps[row]
            var index = 0
            while index < distinct && distinctSteps[index] != step { index += 1 }
            if index == distinct {
                distinctSteps[index] = step
                embedding.embed(step, into: tape.embedding.pointer + index * 16)
                distinct += 1
            }
            timeRow[row] = index
        }
        return timeMLP.forward(tape.embedding.pointer, rows: distinct, tape: tape.timeTape, parameters: parameters,
                               recording: recording)
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
        // Each distinct step's time features took the gradient of every row of that step, summed in row order.
        let timeGradient = tape.timeGradient.pointer, timeRow = tape.timeRow
        timeGradient.update(repeating: 0, count: tape.timeTape.rowsRecorded * 16)
        for row in 0..<rows {
            let source = inputGradient + row * width + actionDimension, target = timeGradient + timeRow[row] * 16
            for k in 0..<16 { target[k] += source[k] }
        }
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
    /// The steps whose time features the last pass computed, in order of first appearance.
    let distinctSteps: UnsafeMutablePointer<Int>
    /// For each row of the last pass, the index of its step in `distinctSteps`.
    let timeRow: UnsafeMutablePointer<Int>

    init(_ model: NoiseModel, capacity: Int, pool: WorkerPool?) {
        embedding = FloatBuffer(count: capacity * 16)
        timeTape = MLPTape(model.timeMLP, capacity: capacity, pool: pool)
        input = FloatBuffer(count: capacity * model.inputWidth)
        networkTape = MLPTape(model.network, capacity: capacity, pool: pool)
        inputGradient = FloatBuffer(count: capacity * model.inputWidth)
        timeGradient = FloatBuffer(count: capacity * 16)
        distinctSteps = .allocate(capacity: capacity)
        timeRow = .allocate(capacity: capacity)
    }

    deinit {
        distinctSteps.deallocate()
        timeRow.deallocate()
    }
}
