import NumericKernels

/// Every trainable tensor of a network in one flat buffer, with a gradient buffer of the same layout.
///
/// One buffer makes Adam, gradient-norm clipping, Polyak averaging and checkpointing single loops over
/// contiguous memory. Tensors keep PyTorch's names and layouts (weights [out, in]) so checkpoints
/// match the reference implementation's state_dict. Tensors are added while a network is built;
/// the buffers are then fixed.
public final class Parameters {
    /// A named tensor's place in the flat buffers.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var values = FloatBuffer(count: 0)
    public private(set) var gradients = FloatBuffer(count: 0)
    public private(set) var tensors: [Tensor] = []
    /// Each weight matrix [out, in] also as [in, out], in the same place (`transposedWeights`).
    /// Rebuilt on demand after the values change.
    private var transposedValues = FloatBuffer(count: 0)
    private var transposesAreStale = true

    public init() {}

    /// Says that `values` were written directly (through their pointer): the next forward pass reads
    /// them afresh. Every method of this type that writes values says so itself.
    public func valuesDidChange() {
        transposesAreStale = true
    }

    /// Every weight matrix transposed, Wᵀ [in, out] at W's offset, for the products that read it
    /// (`DenseProducts.Weights`); the values themselves where no product does. Call it before work is
    /// split between threads: it rebuilds what is stale.
    func transposedWeights() -> UnsafePointer<Float> {
        guard DenseProducts.needsTransposedWeights else { return UnsafePointer(values.pointer) }
        if transposesAreStale {
            if transposedValues.count != values.count { transposedValues = FloatBuffer(count: values.count) }
            for tensor in tensors where tensor.shape.count == 2 {
                nk_transpose(values.pointer + tensor.offset, tensor.shape[0], tensor.shape[1],
                             transposedValues.pointer + tensor.offset)
            }
            transposesAreStale = false
        }
        return UnsafePointer(transposedValues.pointer)
    }

    /// Total number of scalars.
    public var count: Int { values.count }

    /// Appends a tensor with the given initial values and returns where it lives.
    public func add(name: String, shape: [Int], values initial: [Float]) -> Tensor {
        precondition(initial.count == shape.reduce(1, *), "\(name): \(initial.count) values for shape \(shape)")
        precondition(!tensors.contains { $0.name == name }, "duplicate parameter \(name)")
        let tensor = Tensor(name: name, shape: shape, offset: values.count)
        tensors.append(tensor)
        values = FloatBuffer(values.array + initial)
        gradients = FloatBuffer(count: values.count)
        valuesDidChange()
        return tensor
    }

    public func tensor(named name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }

    /// The values of one tensor.
    public func values(of tensor: Tensor) -> [Float] {
        Array(UnsafeBufferPointer(start: values.pointer + tensor.offset, count: tensor.count))
    }

    /// Overwrites one tensor's values (e.g. from a checkpoint).
    public func setValues(of tensor: Tensor, to newValues: [Float]) {
        precondition(newValues.count == tensor.count, "\(tensor.name): \(newValues.count) values for \(tensor.shape)")
        (values.pointer + tensor.offset).update(from: newValues, count: tensor.count)
        valuesDidChange()
    }

    /// Copies every value from `other`, which must have the same layout (a target network, an EMA).
    public func copyValues(from other: Parameters) {
        precondition(other.tensors == tensors, "parameter layouts differ")
        values.pointer.update(from: other.values.pointer, count: count)
        valuesDidChange()
    }

    public func zeroGradients() {
        gradients.fill(0)
    }

    /// The L2 norm of all gradients together.
    public func gradientNorm() -> Float {
        var sum: Double = 0
        for i in 0..<count { sum += Double(gradients.pointer[i]) * Double(gradients.pointer[i]) }
        return Float(sum.squareRoot())
    }

    /// Scales the gradients so that their norm is at most `maxNorm`, as PyTorch's clip_grad_norm_
    /// (which multiplies by maxNorm / (norm + 1e-6) when that is below 1); returns the norm before.
    @discardableResult
    public func clipGradientNorm(_ maxNorm: Float) -> Float {
        let norm = gradientNorm()
        let scale = maxNorm / (norm + 1e-6)
        if scale < 1 {
            for i in 0..<count { gradients.pointer[i] *= scale }
        }
        return norm
    }

    /// values += tau * (source - values): Polyak averaging of a target network (tau = 0.005) and
    /// the EMA of an actor (tau = 1 - decay).
    public func blend(towards source: Parameters, tau: Float) {
        precondition(source.tensors == tensors, "parameter layouts differ")
        let target = values.pointer, source = source.values.pointer
        for i in 0..<count { target[i] += tau * (source[i] - target[i]) }
        valuesDidChange()
    }
}
