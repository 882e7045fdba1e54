import Foundation
import NumericKernels
import Parallel

/// Adam as PyTorch implements it (betas 0.9 / 0.999, eps 1e-8 added after the bias-corrected
/// square root), over one `Parameters` buffer.
public final class Adam {
    public let parameters: Parameters
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Steps taken so far (for the bias corrections); saved with the moments to resume training.
    public private(set) var step = 0
    public let firstMoment: FloatBuffer
    public let secondMoment: FloatBuffer

    public init(_ parameters: Parameters, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = FloatBuffer(count: parameters.values.count)
        secondMoment = FloatBuffer(count: parameters.values.count)
    }

    /// Applies one update from `parameters.gradients`, its parts shared by `pool`.
    public func update(pool: WorkerPool? = nil) {
        step += 1
        let correction1 = 1 - pow(Double(beta1), Double(step))
        let correction2 = 1 - pow(Double(beta2), Double(step))
        let stepSize = learningRate / Float(correction1)
        let sqrtCorrection2 = Float(correction2.squareRoot())
        let values = parameters.values.pointer, gradients = parameters.gradients.pointer
        let m = firstMoment.pointer, v = secondMoment.pointer
        parameters.forEachPart(on: pool) { first, count in
            nk_adam(values + first, gradients + first, m + first, v + first, count, beta1, beta2, stepSize,
                    sqrtCorrection2, epsilon)
        }
        parameters.valuesDidChange()
    }

    /// Restores a saved state (step count and moments, one value per parameter, tensor after tensor).
    public func restore(step: Int, firstMoment m: [Float], secondMoment v: [Float]) {
        precondition(m.count == parameters.count && v.count == parameters.count, "optimizer state of another size")
        self.step = step
        parameters.unpack(m, into: firstMoment)
        parameters.unpack(v, into: secondMoment)
    }
}
