import Foundation
import NeuralNet
import Parallel
import SeededRandom

/// The diffusion policy: a conditional DDPM over actions (Wang, Hunt and Zhou, 2023, Section 3).
///
/// Buffers for a largest batch (`capacity` rows) are allocated once. `sample(..., recording: true)`
/// keeps every step's activations so that `backwardThroughSample` can differentiate the action with
/// respect to the parameters through all N steps, as the Q term of the actor loss needs.
public final class DiffusionPolicy {
    public let schedule: NoiseSchedule
    public let model: NoiseModel
    public let parameters: Parameters
    public let maxAction: Float
    public let capacity: Int
    public var stateDimension: Int { model.stateDimension }
    public var actionDimension: Int { model.actionDimension }

    /// One tape per diffusion step, so a recorded chain can be backpropagated.
    private let tapes: [NoiseModelTape]
    /// a_N, a_{N-1}, ..., a_0 before the final clamp, each capacity × actionDimension.
    private let chain: [FloatBuffer]
    /// The unclamped a_0 estimate of each step.
    private let x0Estimates: [FloatBuffer]
    private let steps: UnsafeMutablePointer<Int>
    /// The noise of one `sample`.
    private let noise: FloatBuffer
    /// The uniforms of that noise, drawn in order before the pool transforms them (`deferNormals`).
    private let noiseUniforms: UnsafeMutablePointer<Double>
    /// Shares the parts of the network passes and of the noise; nil runs them on the calling thread.
    private let pool: WorkerPool?
    private let scratch: FloatBuffer
    private let gradient: FloatBuffer
    private let modelActionGradient: FloatBuffer
    private var recordedRows = 0

    /// `pool` shares the parts of each network pass (`MLPTape`); nil runs them on the calling thread.
    public init(stateDimension: Int, actionDimension: Int, maxAction: Float, schedule: NoiseSchedule,
                hiddenWidth: Int = 256, capacity: Int, pool: WorkerPool? = nil, generator: inout SeededGenerator) {
        let parameters = Parameters()
        let model = NoiseModel(stateDimension: stateDimension, actionDimension: actionDimension, hiddenWidth: hiddenWidth,
                               steps: schedule.steps, parameters: parameters, generator: &generator)
        self.parameters = parameters
        self.model = model
        self.schedule = schedule
        self.maxAction = maxAction
        self.capacity = capacity
        let n = schedule.steps, size = capacity * actionDimension
        tapes = (0..<n).map { _ in NoiseModelTape(model, capacity: capacity, pool: pool) }
        chain = (0...n).map { _ in FloatBuffer(count: size) }
        x0Estimates = (0..<n).map { _ in FloatBuffer(count: size) }
        steps = .allocate(capacity: capacity)
        noise = FloatBuffer(count: n * size)
        noiseUniforms = .allocate(capacity: n * size + 1)
        self.pool = pool
        scratch = FloatBuffer(count: size)
        gradient = FloatBuffer(count: size)
        modelActionGradient = FloatBuffer(count: size)
    }

    deinit {
        steps.deallocate()
        noiseUniforms.deallocate()
    }

    /// Draws one action per state row: a_N ~ N(0, I), then N denoising steps, each clamping its
    /// a_0 estimate to ±maxAction, and a final clamp. With `recording`, every step is kept for
    /// `backwardThroughSample`.
    public func sample(
        states: UnsafePointer<Float>, rows: Int, generator: inout SeededGenerator,
        into actions: UnsafeMutablePointer<Float>, recording: Bool = false
    ) {
        precondition(rows <= capacity, "batch of \(rows) rows exceeds the policy's capacity \(capacity)")
        // The noise drawn in turn from the generator: a_N, then each step's, row by row.
        generator.deferNormals(noiseCount(rows: rows), uniforms: noiseUniforms).fill(into: noise.pointer, on: pool)
        denoise(states: states, rows: rows, noise: noise.pointer, noiseStride: rows * actionDimension, into: actions,
                recording: recording)
    }

    /// Floats of the noise that `rows` rows of `denoise` take: a_N and the noise of every step but the last.
    public func noiseCount(rows: Int) -> Int { schedule.steps * rows * actionDimension }

    /// The sampling chain of `sample` on noise drawn beforehand: block b of the noise starts at
    /// `noise + b * noiseStride`. Rows are independent given their noise, so a batch may be split
    /// into parts denoised on different threads (by different policies with the same parameters).
    public func denoise(
        states: UnsafePointer<Float>, rows: Int, noise: UnsafePointer<Float>, noiseStride: Int,
        into actions: UnsafeMutablePointer<Float>, recording: Bool = false
    ) {
        precondition(rows <= capacity, "batch of \(rows) rows exceeds the policy's capacity \(capacity)")
        let count = rows * actionDimension, n = schedule.steps
        chain[0].pointer.update(from: noise, count: count)
        for (position, i) in (0..<n).reversed().enumerated() {
            for row in 0..<rows { steps[row] = i }
            let tape = recording ? tapes[i] : tapes[0]
            let current = chain[position].pointer, next = chain[position + 1].pointer
            let eps = model.predict(noisyActions: current, states: states, steps: steps, rows: rows, tape: tape,
                                    parameters: parameters, recording: recording)
            let r1 = Float(schedule.sqrtRecipAlphasCumprod(i)), r2 = Float(schedule.sqrtRecipMinusOneAlphasCumprod(i))
            let c1 = Float(schedule.posteriorMeanCoef1[i]), c2 = Float(schedule.posteriorMeanCoef2[i])
            let x0 = x0Estimates[i].pointer
            for k in 0..<count {
                x0[k] = r1 * current[k] - r2 * eps[k]
                next[k] = c1 * min(max(x0[k], -maxAction), maxAction) + c2 * current[k]
            }
            guard i > 0 else { continue }
            let sigma = Float(exp(0.5 * schedule.posteriorLogVarianceClipped[i]))
            let stepNoise = noise + (position + 1) * noiseStride
            for k in 0..<count { next[k] += sigma * stepNoise[k] }
        }
        let last = chain[n].pointer
        for k in 0..<count { actions[k] = min(max(last[k], -maxAction), maxAction) }
        recordedRows = recording ? rows : 0
    }

    /// Accumulates into `parameters.gradients` the gradient of a loss whose gradient with respect to
    /// the actions of the last recorded `sample` is `actionGradient` (rows × actionDimension).
    public func backwardThroughSample(_ actionGradient: UnsafePointer<Float>) {
        let rows = recordedRows
        precondition(rows > 0, "backwardThroughSample needs a sample(..., recording: true) first")
        let count = rows * actionDimension, n = schedule.steps
        let g = gradient.pointer
        let last = chain[n].pointer
        for k in 0..<count { g[k] = abs(last[k]) <= maxAction ? actionGradient[k] : 0 }
        // Undo the steps in reverse order of sampling: i = 0 produced the last action.
        for i in 0..<n {
            let r1 = Float(schedule.sqrtRecipAlphasCumprod(i)), r2 = Float(schedule.sqrtRecipMinusOneAlphasCumprod(i))
            let c1 = Float(schedule.posteriorMeanCoef1[i]), c2 = Float(schedule.posteriorMeanCoef2[i])
            let x0 = x0Estimates[i].pointer, epsGradient = scratch.pointer, throughModel = modelActionGradient.pointer
            for k in 0..<count {
                // The clamp of the a_0 estimate passes gradient only inside ±maxAction (as torch.clamp).
                let x0Gradient = abs(x0[k]) <= maxAction ? c1 * g[k] : 0
                epsGradient[k] = -r2 * x0Gradient
                g[k] = c2 * g[k] + r1 * x0Gradient
            }
            model.backward(epsGradient, tape: tapes[i], parameters: parameters, actionGradient: throughModel)
            for k in 0..<count { g[k] += throughModel[k] }
        }
    }

    /// The behaviour-cloning loss L_d on (state, action) rows: a random step i and noise z per row,
    /// a_i = sqrt(ac_i) a + sqrt(1 - ac_i) z, and the mean squared error between z and eps(a_i, i, s).
    /// With `accumulatingGradient`, d L_d / d parameters is added to `parameters.gradients`.
    @discardableResult
    public func behaviorCloningLoss(
        states: UnsafePointer<Float>, actions: UnsafePointer<Float>, rows: Int,
        generator: inout SeededGenerator, accumulatingGradient: Bool
    ) -> Float {
        precondition(rows <= capacity, "batch of \(rows) rows exceeds the policy's capacity \(capacity)")
        let width = actionDimension, count = rows * width
        let noise = gradient.pointer, noisy = scratch.pointer
        for row in 0..<rows {
            let i = Int(generator.next() % UInt64(schedule.steps))
            steps[row] = i
            let signal = Float(schedule.alphasCumprod[i].squareRoot()), spread = Float((1 - schedule.alphasCumprod[i]).squareRoot())
            for k in row * width ..< (row + 1) * width {
                noise[k] = Float(generator.normal())
                noisy[k] = signal * actions[k] + spread * noise[k]
            }
        }
        let eps = model.predict(noisyActions: noisy, states: states, steps: steps, rows: rows, tape: tapes[0],
                                parameters: parameters, recording: accumulatingGradient)
        var sum: Double = 0
        let scale = 2 / Float(count)
        for k in 0..<count {
            let difference = eps[k] - noise[k]
            sum += Double(difference * difference)
            noise[k] = scale * difference  // now d L_d / d eps
        }
        if accumulatingGradient {
            model.backward(noise, tape: tapes[0], parameters: parameters, actionGradient: nil)
        }
        recordedRows = 0
        return Float(sum / Double(count))
    }
}
