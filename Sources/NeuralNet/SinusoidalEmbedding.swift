import Foundation

/// The diffusion step embedding of the reference: for dimension d (half = d/2 frequencies
/// f_k = exp(-k ln(10000) / (half - 1))), step i maps to [sin(i f_0..), cos(i f_0..)].
public struct SinusoidalEmbedding: Sendable {
    public let dimension: Int
    private let frequencies: [Float]

    public init(dimension: Int) {
        precondition(dimension >= 4 && dimension % 2 == 0, "the embedding needs an even dimension of at least 4")
        self.dimension = dimension
        let half = dimension / 2
        let scale = log(10000.0) / Double(half - 1)
        frequencies = (0..<half).map { Float(exp(-Double($0) * scale)) }
    }

    /// Writes the embedding of `step` into `output` (dimension values).
    public func embed(_ step: Int, into output: UnsafeMutablePointer<Float>) {
        let half = dimension / 2
        for k in 0..<half {
            let angle = Float(step) * frequencies[k]
            output[k] = sin(angle)
            output[half + k] = cos(angle)
        }
    }
}
