import SeededRandom

/// Linear layers with an activation between them (and after the last one when `activateLast`).
public struct MLP: Sendable {
    public let layers: [Linear]
    public let activation: Activation
    public let activateLast: Bool

    /// Layers named `names[i]` (PyTorch's module paths, e.g. "q1_model.0") mapping `sizes[i]` to
    /// `sizes[i + 1]` features.
    public init(
        sizes: [Int], names: [String], activation: Activation, activateLast: Bool = false,
        parameters: Parameters, generator: inout SeededGenerator
    ) {
        precondition(names.count == sizes.count - 1, "one name per layer")
        var layers: [Linear] = []
        for (index, name) in names.enumerated() {
            layers.append(Linear(name, inputs: sizes[index], outputs: sizes[index + 1],
                                 parameters: parameters, generator: &generator))
        }
        self.layers = layers
        self.activation = activation
        self.activateLast = activateLast
    }

    public var inputs: Int { layers[0].inputs }
    public var outputs: Int { layers[layers.count - 1].outputs }

    func isActivated(_ layer: Int) -> Bool { layer < layers.count - 1 || activateLast }

    /// Runs the network on `rows` rows of `input`, keeping what the backward pass needs in `tape`
    /// unless `recording` is false (inference: activations in place, half the memory traffic).
    /// Returns the output (rows × outputs), which lives in the tape until its next forward pass.
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, rows: Int, tape: MLPTape, parameters: Parameters,
                        recording: Bool = true) -> UnsafeMutablePointer<Float> {
        precondition(rows <= tape.capacity, "batch of \(rows) rows exceeds the tape's \(tape.capacity)")
        tape.rows = recording ? rows : 0
        var x = input
        if recording {
            tape.input.pointer.update(from: input, count: rows * inputs)
            x = UnsafePointer(tape.input.pointer)
        }
        for (index, layer) in layers.enumerated() {
            let z = tape.preActivations[index].pointer
            layer.forward(x, rows: rows, into: z, values: parameters.values.pointer)
            guard isActivated(index) else {
                x = UnsafePointer(z)
                continue
            }
            if recording {
                activation.apply(z, tape.outputs[index].pointer, count: rows * layer.outputs)
                x = UnsafePointer(tape.outputs[index].pointer)
            } else {
                activation.applyInPlace(z, count: rows * layer.outputs)
                x = UnsafePointer(z)
            }
        }
        return UnsafeMutablePointer(mutating: x)
    }

    /// Backpropagates `outputGradient` (rows × outputs) through the pass recorded in `tape`:
    /// accumulates parameter gradients into `parameters.gradients` (unless `parameterGradients` is
    /// false, when only the input gradient is wanted) and, when `inputGradient` is given, writes the
    /// gradient with respect to the input (rows × inputs) there.
    public func backward(
        _ outputGradient: UnsafePointer<Float>, tape: MLPTape, parameters: Parameters,
        inputGradient: UnsafeMutablePointer<Float>? = nil, parameterGradients: Bool = true
    ) {
        let rows = tape.rows
        precondition(rows > 0, "backward needs a forward pass that recorded")
        var dy = tape.gradientA.pointer
        var spare = tape.gradientB.pointer
        let last = layers.count - 1
        dy.update(from: outputGradient, count: rows * outputs)
        for index in stride(from: last, through: 0, by: -1) {
            let layer = layers[index]
            if isActivated(index) {
                activation.backward(tape.preActivations[index].pointer, scaling: dy, count: rows * layer.outputs)
            }
            let x = index == 0 ? tape.input.pointer : layerOutput(index - 1, tape)
            let dx = index == 0 ? inputGradient : spare
            layer.backward(x, dy, rows: rows, dx: dx, values: parameters.values.pointer,
                           gradients: parameterGradients ? parameters.gradients.pointer : nil)
            swap(&dy, &spare)
        }
    }

    private func layerOutput(_ index: Int, _ tape: MLPTape) -> UnsafeMutablePointer<Float> {
        isActivated(index) ? tape.outputs[index].pointer : tape.preActivations[index].pointer
    }
}

/// The activations of one forward pass of an `MLP`, for its backward pass. Allocated once for a
/// largest batch and reused, so training steps allocate nothing.
public final class MLPTape {
    public let capacity: Int
    var rows = 0
    /// Rows of the last forward pass.
    public var rowsRecorded: Int { rows }
    let input: FloatBuffer
    let preActivations: [FloatBuffer]
    let outputs: [FloatBuffer]
    let gradientA: FloatBuffer
    let gradientB: FloatBuffer

    public init(_ network: MLP, capacity: Int) {
        self.capacity = capacity
        input = FloatBuffer(count: capacity * network.inputs)
        preActivations = network.layers.map { FloatBuffer(count: capacity * $0.outputs) }
        outputs = network.layers.map { FloatBuffer(count: capacity * $0.outputs) }
        let widest = network.layers.map { max($0.inputs, $0.outputs) }.max()!
        gradientA = FloatBuffer(count: capacity * widest)
        gradientB = FloatBuffer(count: capacity * widest)
    }
}
