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

    /// dx = dy * f'(x) for `count` elements (dx may alias dy).
    @inline(__always)
    func backward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .mish: for i in 0..<count { dx[i] = dy[i] * mishDerivative(x[i]) }
        case .relu: for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
        }
    }
}

/// PyTorch's softplus with its threshold: above 20 it returns x, where log1p(exp(x)) == x in Float.
@inline(__always)
func softplus(_ x: Float) -> Float {
    x > 20 ? x : log1p(exp(x))
}

/// Mish(x) = x * tanh(softplus(x)).
@inline(__always)
public func mish(_ x: Float) -> Float {
    x * tanh(softplus(x))
}

/// d/dx Mish = tanh(sp) + x * (1 - tanh²(sp)) * sigmoid(x), with sp = softplus(x).
@inline(__always)
public func mishDerivative(_ x: Float) -> Float {
    let t = tanh(softplus(x))
    let sigmoid = 1 / (1 + exp(-x))
    return t + x * (1 - t * t) * sigmoid
}
