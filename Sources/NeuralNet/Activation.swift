import Foundation

/// Element-wise activations with their derivatives.
public enum Activation: Sendable {
    case mish
    case relu

    /// y = f(x) for `count` elements.
    @inline(__always)
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: for i in 0..<count { y[i] = NeuralNet.mish(x[i]) }
        case .relu: for i in 0..<count { y[i] = max(x[i], 0) }
        }
    }

    /// x = f(x) for `count` elements. (`apply` with y = x would not vectorize: its loop keeps
    /// the scalar path for overlapping arrays.)
    @inline(__always)
    func applyInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: for i in 0..<count { x[i] = NeuralNet.mish(x[i]) }
        case .relu: for i in 0..<count { x[i] = max(x[i], 0) }
        }
    }

    /// gradient *= f'(x) for `count` elements, in place (x must not overlap gradient).
    @inline(__always)
    func backward(_ x: UnsafePointer<Float>, scaling gradient: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: for i in 0..<count { gradient[i] *= mishDerivative(x[i]) }
        case .relu: for i in 0..<count where x[i] <= 0 { gradient[i] = 0 }
        }
    }
}

/// e^x for x in Float, without libm: Cephes' expf (range reduction by n = round(x / ln 2), a degree-5
/// polynomial, scaling by 2^n through the exponent bits), within 2 ulp of exp on [-87, 88]. Written
/// without branches or calls so that loops over it vectorize; libm's expf does not.
@inline(__always)
func exponential(_ x: Float) -> Float {
    let x = min(max(x, -87), 88)
    // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
    let shifted = x * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let powerOfTwo = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23)
    return (p * r * r + r + 1) * powerOfTwo
}

/// tanh(softplus(x)) with one exponential: with w = e^x, tanh(log(1 + w)) = w(w + 2) / (w(w + 2) + 2).
/// Above x = 20 it is 1 in Float (PyTorch's softplus threshold), so x is capped there.
@inline(__always)
func tanhSoftplus(_ w: Float) -> Float {
    let n = w * (w + 2)
    return n / (n + 2)
}

/// Mish(x) = x * tanh(softplus(x)).
@inline(__always)
public func mish(_ x: Float) -> Float {
    x * tanhSoftplus(exponential(min(x, 20)))
}

/// d/dx Mish = tanh(sp) + x * (1 - tanh²(sp)) * sigmoid(x), with sp = softplus(x). With n = w(w + 2),
/// 1 - tanh²(sp) = 4(n + 1) / (n + 2)², which keeps its precision where tanh(sp) is near 1.
@inline(__always)
public func mishDerivative(_ x: Float) -> Float {
    let w = exponential(min(x, 20))
    let n = w * (w + 2), d = n + 2
    return n / d + x * (4 * (n + 1) / (d * d)) * (w / (1 + w))
}
