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

    /// y (rows × outputs) = x (rows × inputs) Wᵀ + b.
    @inline(__always)
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>) {
        let b = values + bias.offset
        for row in 0..<rows { (y + row * outputs).update(from: b, count: outputs) }
        BLAS.gemm(transposeB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs,
                  b: values + weight.offset, ldb: inputs, beta: 1, c: y, ldc: outputs)
    }

    /// Accumulates dW += dyᵀ x and db += Σ_rows dy when `gradients` is given; writes dx = dy W when
    /// `dx` is given.
    @inline(__always)
    func backward(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>?,
        values: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>?
    ) {
        if let gradients { accumulateGradients(x, dy, rows: rows, into: gradients) }
        if let dx {
            BLAS.gemm(m: rows, n: inputs, k: outputs, a: dy, lda: outputs, b: values + weight.offset, ldb: inputs,
                      beta: 0, c: dx, ldc: inputs)
        }
    }

    @inline(__always)
    private func accumulateGradients(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, rows: Int,
                                     into gradients: UnsafeMutablePointer<Float>) {
        BLAS.gemm(transposeA: true, m: outputs, n: inputs, k: rows, a: dy, lda: outputs, b: x, ldb: inputs,
                  beta: 1, c: gradients + weight.offset, ldc: inputs)
        let db = gradients + bias.offset
        for row in 0..<rows {
            let r = dy + row * outputs
            for j in 0..<outputs { db[j] += r[j] }
        }
    }
}
