import NeuralNet
import SeededRandom

/// Central finite differences in Float32 against an analytic gradient.
///
/// Tolerance: with step h the difference quotient is off by about h² f''' (truncation) plus
/// ε·|f|/h (rounding, ε = 6e-8 in Float32), so h = 1e-2 on losses of order 1 leaves errors near
/// 1e-4; entries must agree to 2% of their size or 2e-3 absolute, whichever is larger.
public enum GradientCheck {
    public struct Mismatch: CustomStringConvertible {
        let index: Int, analytic: Float, numeric: Float
        public var description: String { "entry \(index): analytic \(analytic), numeric \(numeric)" }
    }

    /// Compares `analytic[i]` with the finite difference of `loss` in `values[i]` for each index.
    public static func compare(
        values: UnsafeMutablePointer<Float>, analytic: [Float], indices: [Int], step h: Float = 1e-2,
        relativeTolerance: Float = 0.02, absoluteTolerance: Float = 2e-3, loss: () -> Double
    ) -> [Mismatch] {
        indices.compactMap { index in
            let original = values[index]
            values[index] = original + h
            let plus = loss()
            values[index] = original - h
            let minus = loss()
            values[index] = original
            let numeric = Float((plus - minus) / Double(2 * h))
            let allowed = max(absoluteTolerance, relativeTolerance * max(abs(numeric), abs(analytic[index])))
            return abs(numeric - analytic[index]) <= allowed ? nil : Mismatch(index: index, analytic: analytic[index], numeric: numeric)
        }
    }

    /// `compare` on a network's parameters, which are told of every change (the forward pass reads
    /// its weights from a copy rebuilt after one).
    public static func compare(
        parameters: Parameters, analytic: [Float], indices: [Int], step h: Float = 1e-2,
        relativeTolerance: Float = 0.02, absoluteTolerance: Float = 2e-3, loss: () -> Double
    ) -> [Mismatch] {
        compare(values: parameters.values.pointer, analytic: analytic, indices: indices, step: h,
                relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance) {
            parameters.valuesDidChange()
            return loss()
        }
    }

    /// `count` distinct indices below `limit`, drawn with a fixed seed, plus the last index.
    public static func sample(_ count: Int, below limit: Int, seed: UInt64 = 1) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        var chosen = Set<Int>([limit - 1])
        while chosen.count < min(count, limit) { chosen.insert(Int(generator.next() % UInt64(limit))) }
        return chosen.sorted()
    }

    public static func randomValues(_ count: Int, scale: Double = 1, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(scale * generator.normal()) }
    }
}
