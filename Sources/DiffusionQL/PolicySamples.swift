import NeuralNet
import RLCore
import SeededRandom

/// Many actions drawn from a checkpoint's actor for each of a few states, with their q_min under the
/// target critic: what the policy's action distribution looks like there (multimodal or not). State
/// i's samples come from its own random stream (`RandomStream.policySamples`, i), drawn in chunks of a
/// fixed size, so the same seed gives the same samples whatever the other states.
public struct PolicySamples: Sendable, Equatable {
    public let stateCount: Int
    public let samplesPerState: Int
    public let actionDimension: Int
    /// stateCount × samplesPerState × actionDimension, state-major.
    public let actions: [Float]
    /// stateCount × samplesPerState; nil unless asked for.
    public let qMin: [Float]?

    /// Rows sampled at once: bounds the networks' buffers whatever the number of samples.
    static let chunkRows = 1024

    /// Samples `samples` actions per row of `states` (stateCount × the checkpoint's state dimension)
    /// from `actor` (`.emaActor` or `.actor`), with q_min when `withQ`.
    public static func draw(from checkpoint: CheckpointFile, actor: CheckpointNetwork = .actor, states: [Float], samples: Int,
                            seed: UInt64, withQ: Bool) throws -> PolicySamples {
        let stateWidth = checkpoint.config.stateDimension, actionWidth = checkpoint.config.actionDimension
        precondition(samples >= 1 && states.count % stateWidth == 0, "states of \(stateWidth) values and at least one sample")
        let chunk = min(samples, chunkRows)
        let policy = try checkpoint.policy(actor, capacity: chunk)
        let critic = withQ ? try checkpoint.critic(.criticTarget, capacity: chunk) : nil
        let stateCount = states.count / stateWidth
        var actions = [Float](repeating: 0, count: stateCount * samples * actionWidth)
        var qMin = [Float](repeating: 0, count: withQ ? stateCount * samples : 0)
        let repeated = FloatBuffer(count: chunk * stateWidth)
        for state in 0..<stateCount {
            var generator = SeededGenerator(.policySamples, seed: seed, index: state)
            for row in 0..<chunk {
                for k in 0..<stateWidth { repeated.pointer[row * stateWidth + k] = states[state * stateWidth + k] }
            }
            for first in stride(from: 0, to: samples, by: chunk) {
                let rows = min(chunk, samples - first), offset = state * samples + first
                actions.withUnsafeMutableBufferPointer { actions in
                    policy.sample(states: repeated.pointer, rows: rows, generator: &generator,
                                  into: actions.baseAddress! + offset * actionWidth)
                    guard let critic else { return }
                    let (q1, q2) = critic.values(states: repeated.pointer, actions: actions.baseAddress! + offset * actionWidth,
                                                 rows: rows, recording: false)
                    for k in 0..<rows { qMin[offset + k] = min(q1[k], q2[k]) }
                }
            }
        }
        return PolicySamples(stateCount: stateCount, samplesPerState: samples, actionDimension: actionWidth, actions: actions,
                             qMin: withQ ? qMin : nil)
    }
}
