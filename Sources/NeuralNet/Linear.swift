import NumericKernels
import SeededRandom

/// A fully connected layer, y = x Wᵀ + b, with W stored [out, in] as PyTorch does.
public struct Linear: Sendable {
    public let inputs: Int
    public let outputs: Int
    public let weight: Parameters.Tensor
    public let bias: Parameters.Tensor

    /// Registers `name.weight` and `name.bias` in `parameters`, initialised as PyTorch's nn.Linear:
    /// both uniform in ±1/sqrt(inputs).
    public init(_ name: String, inputs: Int, outputs: Int, parameters: Parameters, generator: inout SeededGenerator) {
        self.inputs = inputs
        self.outputs = outputs
        let bound = 1 / Double(inputs).squareRoot()
        let draw = { (count: Int, generator: inout SeededGenerator) in
            (0..<count).map { _ in Float(generator.uniform(-bound, bound)) }
        }
        weight = parameters.add(name: name + ".weight", shape: [outputs, inputs], values: draw(outputs * inputs, &generator))
        bias = parameters.add(name: name + ".bias", shape: [outputs], values: draw(outputs, &generator))
    }

    /// This layer's weights within `values` and `transposed` (`Parameters.transposedWeights()`).
    @inline(__always)
    func weights(values: UnsafePointer<Float>, transposed: UnsafePointer<Float>) -> DenseProducts.Weights {
        DenseProducts.Weights(standard: values + weight.offset, transposed: transposed + weight.offset)
    }

    /// z (rows × outputs) = x (rows × inputs) Wᵀ, without the bias: the activation that follows adds it
    /// in its own pass over z (`Activation.apply(_:bias:width:rows:into:)`), `addBias` where none does.
    @inline(__always)
    func product(_ x: UnsafePointer<Float>, rows: Int, into z: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>,
                 transposed: UnsafePointer<Float>) {
        DenseProducts.forward(x, rows: rows, inputs: inputs, outputs: outputs,
                              weights: weights(values: values, transposed: transposed), into: z)
    }

    /// This layer's bias within `values`.
    @inline(__always)
    func biasValues(_ values: UnsafePointer<Float>) -> UnsafePointer<Float> { values + bias.offset }

    /// z += b on each of `rows` rows.
    @inline(__always)
    func addBias(to z: UnsafeMutablePointer<Float>, rows: Int, values: UnsafePointer<Float>) {
        nk_add_row(biasValues(values), outputs, rows, z)
    }

    /// dx (rows × inputs) = dy (rows × outputs) W.
    @inline(__always)
    func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, into dx: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>,
                       transposed: UnsafePointer<Float>) {
        DenseProducts.inputGradient(dy, rows: rows, inputs: inputs, outputs: outputs,
                                    weights: weights(values: values, transposed: transposed), into: dx)
    }

    /// dW += dyᵀ x and db += Σ_rows dy for the outputs `first ..< first + count`, over all `rows`.
    @inline(__always)
    func accumulateGradients(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, rows: Int, outputs first: Int, count: Int,
                             into gradients: UnsafeMutablePointer<Float>) {
        DenseProducts.weightGradient(dy, x, rows: rows, inputs: inputs, outputs: outputs, first: first, count: count,
                                     into: gradients + weight.offset)
        nk_add_column_sums(dy + first, outputs, rows, count, gradients + bias.offset + first)
    }
}
