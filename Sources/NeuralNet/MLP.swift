import Parallel
import SeededRandom

/// Linear layers with an activation between them (and after the last one when `activateLast`).
public struct MLP: Sendable {
    public let layers: [Linear]
    public let activation: Activation
    public let activateLast: Bool

    /// Rows per part of a pass: parts are the units the tape's pool shares. The products give every
    /// row the same numbers whatever part it is in when they are row-independent (`DenseProducts`).
    static let rowsPerPart = 32
    /// Outputs per part of a weight gradient, which sums over all rows.
    static let outputsPerPart = 64

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
    /// unless `recording` is false (inference: the hidden layers of a part in its thread's scratch,
    /// activations in place, so that they stay in the core's cache however many rows there are).
    /// Returns the output (rows × outputs), which lives in the tape until its next forward pass.
    /// Parts of rows go through all layers on the tape's pool.
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, rows: Int, tape: MLPTape, parameters: Parameters,
                        recording: Bool = true) -> UnsafeMutablePointer<Float> {
        precondition(rows <= tape.capacity, "batch of \(rows) rows exceeds the tape's \(tape.capacity)")
        tape.rows = recording ? rows : 0
        var source = input
        if recording {
            tape.input.pointer.update(from: input, count: rows * inputs)
            source = UnsafePointer(tape.input.pointer)
        }
        let values = UnsafePointer(parameters.values.pointer), transposed = parameters.transposedWeights(pool: tape.pool)
        let firstInput = source
        let last = layers.count - 1
        tape.runOnThreads(Parts(of: rows, size: Self.rowsPerPart)) { first, count, thread in
            var x = firstInput + first * inputs
            for (index, layer) in layers.enumerated() {
                let z = recording || index == last
                    ? tape.preActivations[index].pointer + first * layer.outputs
                    : tape.scratch(thread: thread, layer: index)
                layer.product(x, rows: count, into: z, values: values, transposed: transposed)
                let bias = layer.biasValues(values)
                if !isActivated(index) {
                    layer.addBias(to: z, rows: count, values: values)
                    x = UnsafePointer(z)
                } else if recording {
                    let y = tape.outputs[index].pointer + first * layer.outputs
                    activation.applyRecording(z, bias: bias, width: layer.outputs, rows: count, into: y)
                    x = UnsafePointer(y)
                } else {
                    activation.apply(z, bias: bias, width: layer.outputs, rows: count, into: z)
                    x = UnsafePointer(z)
                }
            }
        }
        return recording || !isActivated(last) ? layerOutput(last, tape) : tape.preActivations[last].pointer
    }

    /// Backpropagates `outputGradient` (rows × outputs) through the pass recorded in `tape`:
    /// accumulates parameter gradients into `parameters.gradients` (unless `parameterGradients` is
    /// false, when only the input gradient is wanted) and, when `inputGradient` is given, writes the
    /// gradient with respect to the input (rows × inputs) there. Each layer's weight gradient is
    /// split by outputs and its input gradient by rows, the parts shared by the tape's pool.
    public func backward(
        _ outputGradient: UnsafePointer<Float>, tape: MLPTape, parameters: Parameters,
        inputGradient: UnsafeMutablePointer<Float>? = nil, parameterGradients: Bool = true
    ) {
        let rows = tape.rows
        precondition(rows > 0, "backward needs a forward pass that recorded")
        let last = layers.count - 1
        let values = UnsafePointer(parameters.values.pointer), gradients = parameters.gradients.pointer
        let transposed = parameters.transposedWeights(pool: tape.pool)
        // The gradient of a layer's output; the last layer's is the caller's own unless an activation
        // follows it, whose derivative then scales a copy. Layers' input gradients alternate between
        // the tape's two buffers.
        var dy = outputGradient
        var spare = tape.gradientA.pointer, other = tape.gradientB.pointer
        if isActivated(last) {
            let scaled = spare
            tape.run(Parts(of: rows, size: Self.rowsPerPart)) { first, count in
                (scaled + first * outputs).update(from: outputGradient + first * outputs, count: count * outputs)
                applyActivationBackward(last, tape: tape, to: scaled, first: first, count: count)
            }
            dy = UnsafePointer(scaled)
            swap(&spare, &other)
        }
        for index in stride(from: last, through: 0, by: -1) {
            let layer = layers[index]
            let x = UnsafePointer(index == 0 ? tape.input.pointer : layerOutput(index - 1, tape))
            let dx = index == 0 ? inputGradient : spare
            let weightParts = Parts(of: parameterGradients ? layer.outputs : 0, size: Self.outputsPerPart)
            let inputParts = Parts(of: dx == nil ? 0 : rows, size: Self.rowsPerPart)
            let gradient = dy
            tape.run(weightParts.count + inputParts.count) { task in
                if task < weightParts.count {
                    let (first, count) = weightParts[task]
                    layer.accumulateGradients(x, gradient, rows: rows, outputs: first, count: count, into: gradients)
                } else if let dx {
                    let (first, count) = inputParts[task - weightParts.count]
                    layer.inputGradient(gradient + first * layer.outputs, rows: count, into: dx + first * layer.inputs,
                                        values: values, transposed: transposed)
                    if index > 0 { applyActivationBackward(index - 1, tape: tape, to: dx, first: first, count: count) }
                }
            }
            if let dx { dy = UnsafePointer(dx) }
            swap(&spare, &other)
        }
    }

    /// gradient *= f'(z) on rows `first ..< first + count` of layer `index`'s output gradient, from what
    /// the recording pass left in place of z.
    private func applyActivationBackward(_ index: Int, tape: MLPTape, to gradient: UnsafeMutablePointer<Float>,
                                         first: Int, count: Int) {
        guard isActivated(index) else { return }
        let width = layers[index].outputs
        activation.backward(tape.preActivations[index].pointer + first * width, scaling: gradient + first * width,
                            count: count * width)
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
    /// The threads that share the parts of a pass; nil runs them on the calling thread.
    public let pool: WorkerPool?
    let input: FloatBuffer
    /// Each layer's z = x Wᵀ + b; after a recording pass, an activated layer's holds what its
    /// activation's backward reads instead (`Activation.applyRecording`, which adds the bias).
    let preActivations: [FloatBuffer]
    let outputs: [FloatBuffer]
    let gradientA: FloatBuffer
    let gradientB: FloatBuffer
    /// Per thread of the pool, two parts' worth of the widest layer, for the hidden layers of a pass
    /// that does not record (each layer reads the one before it, so two alternate).
    private let scratch: FloatBuffer
    private let scratchPerLayer: Int

    public init(_ network: MLP, capacity: Int, pool: WorkerPool? = nil) {
        self.capacity = capacity
        self.pool = pool
        input = FloatBuffer(count: capacity * network.inputs)
        preActivations = network.layers.map { FloatBuffer(count: capacity * $0.outputs) }
        outputs = network.layers.map { FloatBuffer(count: capacity * $0.outputs) }
        let widest = network.layers.map { max($0.inputs, $0.outputs) }.max()!
        gradientA = FloatBuffer(count: capacity * widest)
        gradientB = FloatBuffer(count: capacity * widest)
        // A whole number of cache lines, so that every thread's scratch starts on one as the buffer does.
        scratchPerLayer = (MLP.rowsPerPart * widest + 15) / 16 * 16
        scratch = FloatBuffer(count: (pool?.threadCount ?? 1) * 2 * scratchPerLayer)
    }

    /// Where hidden layer `layer` of a part run by `thread` goes in a pass that does not record.
    func scratch(thread: Int, layer: Int) -> UnsafeMutablePointer<Float> {
        scratch.pointer + (2 * thread + layer % 2) * scratchPerLayer
    }

    /// Runs `body` for each part, on the pool when there is one.
    func run(_ parts: Parts, _ body: (Int, Int) -> Void) {
        parts.run(on: pool, body)
    }

    func run(_ count: Int, _ body: (Int) -> Void) {
        WorkerPool.forEach(count, on: pool, body)
    }

    /// `run`, telling `body` which of the pool's threads runs the part as well (0 without a pool).
    func runOnThreads(_ parts: Parts, _ body: (_ first: Int, _ count: Int, _ thread: Int) -> Void) {
        WorkerPool.forEachOnThread(parts.count, on: pool) { body(parts[$0].first, parts[$0].count, $1) }
    }
}

/// `total` split into parts of `size`, the last possibly shorter; computed, not stored, so that a pass
/// allocates nothing.
struct Parts {
    let total: Int
    let size: Int

    init(of total: Int, size: Int) {
        self.total = total
        self.size = size
    }

    var count: Int { (total + size - 1) / size }

    subscript(index: Int) -> (first: Int, count: Int) {
        let first = index * size
        return (first, min(size, total - first))
    }

    /// `body(first, count)` for each part, on `pool` when there is one.
    func run(on pool: WorkerPool?, _ body: (_ first: Int, _ count: Int) -> Void) {
        WorkerPool.forEach(count, on: pool) { body(self[$0].first, self[$0].count) }
    }
}
