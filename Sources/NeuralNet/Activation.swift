import NumericKernels

/// Element-wise activations with their derivatives.
public enum Activation: Sendable {
    case mish
    case relu

    /// y = f(x + bias) for `rows` rows of `width` (the bias one row, added to each); y may be x.
    @inline(__always)
    func apply(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>, width: Int, rows: Int, into y: UnsafeMutablePointer<Float>) {
        switch self {
        case .mish: nk_mish(x, bias, width, rows, y)
        case .relu: nk_relu(x, bias, width, rows, y)
        }
    }

    /// y = f(x + bias) as `apply` gives it, x then overwritten with what `backward` reads: f'(x + bias)
    /// for Mish, from the exponential f took (the backward pass then multiplies only), x + bias for ReLU.
    /// y must not overlap x.
    @inline(__always)
    func applyRecording(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, width: Int, rows: Int,
                        into y: UnsafeMutablePointer<Float>) {
        switch self {
        case .mish: nk_mish_recording(x, bias, width, rows, y, x)
        case .relu: nk_relu_recording(x, bias, width, rows, y, x)
        }
    }

    /// gradient *= f'(x) for `count` elements, in place, given what `applyRecording` left in place of x
    /// (which must not overlap gradient).
    @inline(__always)
    func backward(_ recorded: UnsafePointer<Float>, scaling gradient: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: nk_multiply(recorded, gradient, count)
        case .relu: nk_relu_backward(recorded, gradient, count)
        }
    }
}

/// Mish on one value, by the same kernel as the layers (NumericKernels: a vectorized exponential of
/// its own, since loops over libm's expf do not vectorize).
public func mish(_ x: Float) -> Float {
    var x = x, y: Float = 0, noBias: Float = -0.0
    nk_mish(&x, &noBias, 1, 1, &y)
    return y
}

/// Mish's derivative on one value, by the same kernel as the backward pass.
public func mishDerivative(_ x: Float) -> Float {
    var x = x, y: Float = 0, derivative: Float = 0, noBias: Float = -0.0
    nk_mish_recording(&x, &noBias, 1, 1, &y, &derivative)
    return derivative
}

/// The kernels' e^x (Cephes' expf, within 2 ulp of exp on [-87, 88]).
func exponential(_ x: Float) -> Float {
    var x = x, y: Float = 0
    nk_exponential(&x, &y, 1)
    return y
}

/// The vector unit the C kernels (Mish, Adam, the thin products) run on: the widest this CPU has unless
/// chosen ("avx2" stands for AVX2 with FMA, which CPUs with AVX2 have beside it).
/// Every unit gives the same bits, so the choice changes the speed only, except x86-64's baseline,
/// which has no fused multiply-add and rounds the product and the sum in turn.
public enum VectorUnit {
    public static let all = ["baseline", "avx2", "avx512f"]

    public static var current: String { String(cString: nk_vector_unit()) }

    /// Whether the unit in use fuses the kernels' multiply-adds (all but x86-64's baseline).
    public static var fusesMultiplyAdd: Bool { nk_vector_unit_fuses() == 1 }

    /// Makes the kernels use `name`; false, changing nothing, when this CPU does not have it.
    public static func use(_ name: String) -> Bool { nk_use_vector_unit(name) == 1 }

    /// Whether this CPU has `name`.
    public static func isAvailable(_ name: String) -> Bool {
        onThisThread(name) {}
    }

    /// Runs `body` with the kernels that this thread calls on `name`, other threads keeping theirs (for
    /// tests, which run beside others); false, without running it, when this CPU does not have `name`.
    @discardableResult
    public static func onThisThread(_ name: String, _ body: () throws -> Void) rethrows -> Bool {
        guard nk_use_vector_unit_on_this_thread(name) == 1 else { return false }
        defer { nk_use_vector_unit_on_this_thread(nil) }
        try body()
        return true
    }
}
