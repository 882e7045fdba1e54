import Foundation
import NeuralNet
import SeededRandom

/// The paper's acting rule: for each state, sample `candidates` actions from the actor, score them
/// with the (target) critic's q_min, and draw one from softmax(q) (or take the best, `.argmax`).
public final class ActionSelector {
    public enum Rule: String, Sendable, Codable, CaseIterable {
        /// Draw a candidate with probability softmax(q_min), temperature 1, as the paper evaluates.
        case softmax
        /// Take the candidate with the highest q_min.
        case argmax
    }

    public let actor: DiffusionPolicy
    public let critic: Critic
    public let candidates: Int
    public let rule: Rule
    /// The most states one call takes: the networks' capacity over the candidates per state.
    public let maxStates: Int

    private let repeatedStates: FloatBuffer
    private let candidateActions: FloatBuffer
    /// One state's candidate scores, then their softmax weights.
    private let scores: UnsafeMutablePointer<Double>

    /// `actor` and `critic` must hold at least `candidates` rows; their capacity fixes `maxStates`.
    public init(actor: DiffusionPolicy, critic: Critic, candidates: Int = 50, rule: Rule = .softmax) {
        precondition(actor.stateDimension == critic.stateDimension && actor.actionDimension == critic.actionDimension,
                     "actor and critic of different dimensions")
        precondition(candidates >= 1, "at least one candidate per state")
        self.actor = actor
        self.critic = critic
        self.candidates = candidates
        self.rule = rule
        maxStates = min(actor.capacity, critic.capacity) / candidates
        precondition(maxStates >= 1, "networks hold fewer rows than \(candidates) candidates")
        repeatedStates = FloatBuffer(count: maxStates * candidates * actor.stateDimension)
        candidateActions = FloatBuffer(count: maxStates * candidates * actor.actionDimension)
        scores = .allocate(capacity: candidates)
    }

    deinit { scores.deallocate() }

    /// One action per state row (`rows` ≤ `maxStates`). Row r's candidates and its draw use only
    /// `generators[r]`, so an episode's actions do not depend on the other rows of the batch.
    public func selectActions(
        states: UnsafePointer<Float>, rows: Int, generators: UnsafeMutablePointer<SeededGenerator>,
        into actions: UnsafeMutablePointer<Float>
    ) {
        precondition(rows <= maxStates, "\(rows) states exceed the selector's \(maxStates)")
        let stateWidth = actor.stateDimension, actionWidth = actor.actionDimension
        repeatInterleave(states, rows: rows, width: stateWidth, times: candidates, into: repeatedStates.pointer)
        let total = rows * candidates
        actor.sample(states: repeatedStates.pointer, rows: total, generators: generators, rowsPerGenerator: candidates,
                     into: candidateActions.pointer)
        let (q1, q2) = critic.values(states: repeatedStates.pointer, actions: candidateActions.pointer, rows: total)
        for row in 0..<rows {
            let first = row * candidates
            for k in 0..<candidates { scores[k] = Double(min(q1[first + k], q2[first + k])) }
            let chosen = chooseCandidate(generator: &generators[row])
            (actions + row * actionWidth).update(from: candidateActions.pointer + (first + chosen) * actionWidth, count: actionWidth)
        }
    }

    /// The index the rule picks from `scores` (q_min of each candidate), which it overwrites.
    private func chooseCandidate(generator: inout SeededGenerator) -> Int {
        var best = 0
        for k in 1..<candidates where scores[k] > scores[best] { best = k }
        guard rule == .softmax else { return best }
        let top = scores[best]
        var total = 0.0
        for k in 0..<candidates {
            scores[k] = exp(scores[k] - top)
            total += scores[k]
        }
        var remaining = generator.uniform() * total
        for k in 0..<candidates {
            remaining -= scores[k]
            if remaining < 0 { return k }
        }
        return best
    }
}
