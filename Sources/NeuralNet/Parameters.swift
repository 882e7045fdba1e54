import NumericKernels
import Parallel

/// Every trainable tensor of a network in one flat buffer, with a gradient buffer of the same layout.
///
/// One buffer makes Adam, gradient-norm clipping, Polyak averaging and checkpointing single loops over
/// contiguous memory. Tensors keep PyTorch's names and layouts (weights [out, in]) so checkpoints
/// match the reference implementation's state_dict. Each starts on a cache line (a bias of 1 or 3
/// values would otherwise shift every later weight matrix off one, and the products' vector loads of
/// it across two); the few values between tensors stay zero, with zero gradients. Tensors are added
/// while a network is built; the buffers are then fixed.
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
    /// Number of trainable values (the gaps between tensors not counted).
    public private(set) var count = 0
    /// The tensors that are weight matrices, in order.
    private var matrices: [Tensor] = []
    /// The gradient norm's sum of squares of each part (`gradientNorm`), kept to allocate nothing per step.
    private var partSums: [Double] = []
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
    /// split between threads (not from within a loop of `pool`): it rebuilds what is stale, one
    /// matrix per index of `pool`'s loop.
    func transposedWeights(pool: WorkerPool?) -> UnsafePointer<Float> {
        guard DenseProducts.needsTransposedWeights else { return UnsafePointer(values.pointer) }
        if transposesAreStale {
            if transposedValues.count != values.count { transposedValues = FloatBuffer(count: values.count) }
            let matrices = matrices, source = values.pointer, target = transposedValues.pointer
            WorkerPool.forEach(matrices.count, on: pool) { index in
                let matrix = matrices[index]
                nk_transpose(source + matrix.offset, matrix.shape[0], matrix.shape[1], target + matrix.offset)
            }
            transposesAreStale = false
        }
        return UnsafePointer(transposedValues.pointer)
    }

    /// Values per part of the loops over all of them, for `pool`'s threads to share: a multiple of
    /// every vector unit's width, so that no element moves between a kernel's vector and tail code.
    static let valuesPerPart = 16_384

    /// `body(first, count)` over consecutive parts of all the values, on `pool` when there is one.
    func forEachPart(on pool: WorkerPool?, _ body: (_ first: Int, _ count: Int) -> Void) {
        Parts(of: values.count, size: Self.valuesPerPart).run(on: pool, body)
    }

    /// Appends a tensor with the given initial values and returns where it lives.
    public func add(name: String, shape: [Int], values initial: [Float]) -> Tensor {
        precondition(initial.count == shape.reduce(1, *), "\(name): \(initial.count) values for shape \(shape)")
        precondition(!tensors.contains { $0.name == name }, "duplicate parameter \(name)")
        let floatsPerLine = 16, offset = (values.count + floatsPerLine - 1) / floatsPerLine * floatsPerLine
        let tensor = Tensor(name: name, shape: shape, offset: offset)
        tensors.append(tensor)
        if shape.count == 2 { matrices.append(tensor) }
        count += initial.count
        values = FloatBuffer(values.array + [Float](repeating: 0, count: offset - values.count) + initial)
        gradients = FloatBuffer(count: values.count)
        partSums = [Double](repeating: 0, count: Parts(of: values.count, size: Self.valuesPerPart).count)
        valuesDidChange()
        return tensor
    }

    /// The tensors' values in `buffer` (laid out as `values`) one after another, without the gaps:
    /// how optimizer states are saved, whatever the alignment.
    func packed(_ buffer: FloatBuffer) -> [Float] {
        tensors.flatMap { UnsafeBufferPointer(start: buffer.pointer + $0.offset, count: $0.count) }
    }

    /// Writes `packed` (as `packed(_:)` gives it) into `buffer`, laid out as `values`.
    func unpack(_ packed: [Float], into buffer: FloatBuffer) {
        precondition(packed.count == count, "\(packed.count) values for \(count) parameters")
        packed.withUnsafeBufferPointer { packed in
            guard var next = packed.baseAddress else { return }
            for tensor in tensors {
                (buffer.pointer + tensor.offset).update(from: next, count: tensor.count)
                next += tensor.count
            }
        }
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
        values.pointer.update(from: other.values.pointer, count: values.count)
        valuesDidChange()
    }

    public func zeroGradients(pool: WorkerPool? = nil) {
        let gradients = gradients.pointer
        forEachPart(on: pool) { first, count in (gradients + first).update(repeating: 0, count: count) }
    }

    /// The L2 norm of all gradients together, its sum of squares in double: each part of the values
    /// (`forEachPart`) summed by `nk_sum_of_squares`, on `pool` when there is one, then the parts'
    /// sums added in order. The parts are fixed, so the bits do not depend on the threads.
    public func gradientNorm(pool: WorkerPool? = nil) -> Float {
        let gradients = UnsafePointer(gradients.pointer)
        return partSums.withUnsafeMutableBufferPointer { sums in
            forEachPart(on: pool) { first, count in sums[first / Self.valuesPerPart] = nk_sum_of_squares(gradients + first, count) }
            return Float(sums.reduce(0, +).squareRoot())
        }
    }

    /// Scales the gradients so that their norm is at most `maxNorm`, as PyTorch's clip_grad_norm_
    /// (which multiplies by maxNorm / (norm + 1e-6) when that is below 1); returns the norm before.
    /// Both the norm and the scaling are shared by `pool`, with the same bits on any threads.
    @discardableResult
    public func clipGradientNorm(_ maxNorm: Float, pool: WorkerPool? = nil) -> Float {
        let norm = gradientNorm(pool: pool)
        let scale = maxNorm / (norm + 1e-6)
        if scale < 1 {
            let gradients = gradients.pointer
            forEachPart(on: pool) { first, count in
                for i in first ..< first + count { gradients[i] *= scale }
            }
        }
        return norm
    }

    /// values += tau * (source - values): Polyak averaging of a target network (tau = 0.005) and
    /// the EMA of an actor (tau = 1 - decay), its parts shared by `pool`.
    public func blend(towards source: Parameters, tau: Float, pool: WorkerPool? = nil) {
        precondition(source.tensors == tensors, "parameter layouts differ")
        let target = values.pointer, source = source.values.pointer
        forEachPart(on: pool) { first, count in
            for i in first ..< first + count { target[i] += tau * (source[i] - target[i]) }
        }
        valuesDidChange()
    }
}
