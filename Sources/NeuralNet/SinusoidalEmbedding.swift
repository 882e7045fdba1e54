import Foundation

/// The diffusion step embedding of the reference: for dimension d (half = d/2 frequencies
/// f_k = exp(-k ln(10000) / (half - 1))), step i maps to [sin(i f_0..), cos(i f_0..)].
public struct SinusoidalEmbedding: Sendable {
    public let dimension: Int
    private let frequencies: [Float]
    /// The embeddings of steps 0 ..< the `steps` given at creation, computed once: a diffusion model
    /// embeds the same few steps for every row of every pass.
    private let table: [Float]

    public init(dimension: Int, steps: Int = 0) {
        precondition(dimension >= 4 && dimension % 2 == 0, "the embedding needs an even dimension of at least 4")
        self.dimension = dimension
        let half = dimension / 2
        let scale = log(10000.0) / Double(half - 1)
        let frequencies = (0..<half).map { Float(exp(-Double($0) * scale)) }
        self.frequencies = frequencies
        table = (0..<steps).flatMap { step in
            (0..<dimension).map { k in k < half ? sin(Float(step) * frequencies[k]) : cos(Float(step) * frequencies[k - half]) }
        }
    }

    /// Writes the embedding of `step` into `output` (dimension values).
    public func embed(_ step: Int, into output: UnsafeMutablePointer<Float>) {
        if step >= 0 && (step + 1) * dimension <= table.count {
            table.withUnsafeBufferPointer { output.update(from: $0.baseAddress! + step * dimension, count: dimension) }
            return
        }
        let half = dimension / 2
        for k in 0..<half {
            let angle = Float(step) * frequencies[k]
            output[k] = sin(angle)
            output[half + k] = cos(angle)
        }
    }
}
