import NumericKernels

/// Element-wise activations with their derivatives.
public enum Activation: Sendable {
    case mish
    case relu

    /// y = f(x) for `count` elements.
    @inline(__always)
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: nk_mish(x, y, count)
        case .relu: for i in 0..<count { y[i] = max(x[i], 0) }
        }
    }

    /// x = f(x) for `count` elements. (`apply` with y = x would not vectorize: its loop keeps
    /// the scalar path for overlapping arrays.)
    @inline(__always)
    func applyInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: nk_mish(x, x, count)
        case .relu: for i in 0..<count { x[i] = max(x[i], 0) }
        }
    }

    /// gradient *= f'(x) for `count` elements, in place (x must not overlap gradient).
    @inline(__always)
    func backward(_ x: UnsafePointer<Float>, scaling gradient: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: nk_mish_backward(x, gradient, count)
        case .relu: for i in 0..<count where x[i] <= 0 { gradient[i] = 0 }
        }
    }
}

/// Mish on one value, by the same kernel as the layers (NumericKernels: a vectorized exponential of
/// its own, since loops over libm's expf do not vectorize).
public func mish(_ x: Float) -> Float {
    var x = x, y: Float = 0
    nk_mish(&x, &y, 1)
    return y
}

/// Mish's derivative on one value, by the same kernel as the backward pass.
public func mishDerivative(_ x: Float) -> Float {
    var x = x, gradient: Float = 1
    nk_mish_backward(&x, &gradient, 1)
    return gradient
}

/// The kernels' e^x (Cephes' expf, within 2 ulp of exp on [-87, 88]).
func exponential(_ x: Float) -> Float {
    var x = x, y: Float = 0
    nk_exponential(&x, &y, 1)
    return y
}
