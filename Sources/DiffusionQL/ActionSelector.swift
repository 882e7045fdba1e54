import Foundation
import NeuralNet
import Parallel
import RLCore
import SeededRandom

/// The paper's acting rule: for each state, sample `candidates` actions from the actor, score them
/// with the (target) critic's q_min, and draw one from softmax(q) (or take the best, `.argmax`).
///
/// A batch's candidate rows are split into parts, each sampled and scored by a lane of its own (an
/// actor and a critic with the same parameters) with BLAS on one thread, and the parts are shared by
/// the threads of a pool: products of a few hundred rows run far below a large sgemm's rate on
/// several BLAS threads, but near it on one. OpenBLAS rounds a row differently in products of other
/// shapes or thread counts, so the split is fixed by the batch alone and every number is the same
/// whatever the pool. The noise of every row is drawn beforehand from its state's stream.
public final class ActionSelector {
    public enum Rule: String, Sendable, Codable, CaseIterable {
        /// Draw a candidate with probability softmax(q_min), temperature 1, as the paper evaluates.
        case softmax
        /// Take the candidate with the highest q_min.
        case argmax
    }

    /// An actor and a critic for one part of a batch's candidates.
    public struct Lane {
        public let actor: DiffusionPolicy
        public let critic: Critic

        public init(actor: DiffusionPolicy, critic: Critic) {
            precondition(actor.stateDimension == critic.stateDimension && actor.actionDimension == critic.actionDimension,
                         "actor and critic of different dimensions")
            self.actor = actor
            self.critic = critic
        }
    }

    public let lanes: [Lane]
    public let candidates: Int
    public let rule: Rule
    /// The most states one call takes.
    public let maxStates: Int
    public var actor: DiffusionPolicy { lanes[0].actor }
    public var critic: Critic { lanes[0].critic }

    private let repeatedStates: FloatBuffer
    private let candidateActions: FloatBuffer
    private let noise: FloatBuffer
    /// Each state's stream's uniforms for its noise, and that noise deferred (`deferNormals`).
    private let noiseUniforms: UnsafeMutablePointer<Double>
    private var deferredNoise: [DeferredNormals?]
    /// q_min of every candidate row.
    private let candidateScores: FloatBuffer
    /// One state's candidate scores, then their softmax weights.
    private let scores: UnsafeMutablePointer<Double>

    /// A selector for up to `maxStates` states at once. `lane(capacity)` makes an actor and a critic
    /// holding `capacity` rows, with the same parameters every time it is called.
    public init(maxStates: Int, candidates: Int = 50, rule: Rule = .softmax,
                lane: (_ capacity: Int) throws -> Lane) rethrows {
        precondition(maxStates >= 1, "at least one state")
        precondition(candidates >= 1, "at least one candidate per state")
        self.candidates = candidates
        self.rule = rule
        self.maxStates = maxStates
        let rows = maxStates * candidates
        let capacity = (1...maxStates).map { Self.partRows(total: $0 * candidates) }.max()!
        lanes = try (0..<Self.partCount(rows: rows)).map { _ in try lane(capacity) }
        repeatedStates = FloatBuffer(count: rows * lanes[0].actor.stateDimension)
        candidateActions = FloatBuffer(count: rows * lanes[0].actor.actionDimension)
        noise = FloatBuffer(count: lanes[0].actor.noiseCount(rows: rows))
        noiseUniforms = .allocate(capacity: maxStates * (lanes[0].actor.noiseCount(rows: candidates) + 1))
        deferredNoise = Array(repeating: nil, count: maxStates)
        candidateScores = FloatBuffer(count: rows)
        scores = .allocate(capacity: candidates)
    }

    deinit {
        scores.deallocate()
        noiseUniforms.deallocate()
    }

    /// Parts of a batch of `rows` candidate rows: two at least, so that a lone state keeps two cores
    /// busy, and twice as many for each doubling of the rows from 512 on (parts of 128 to 256 rows,
    /// large enough that packing the weights, which OpenBLAS does on every call, stays cheap), up to 16.
    static func partCount(rows: Int) -> Int {
        var parts = 2
        while parts < 16 && rows >= 256 * parts { parts *= 2 }
        return min(parts, rows)
    }

    /// Rows of the largest part of a batch of `total` rows.
    static func partRows(total: Int) -> Int {
        let parts = partCount(rows: total)
        return (total + parts - 1) / parts
    }

    /// One action per state row (`rows` ≤ `maxStates`). Row r's candidates and its draw use only
    /// `generators[r]`. The parts run on `pool` (one by one without it), with the same numbers.
    public func selectActions(
        states: UnsafePointer<Float>, rows: Int, generators: UnsafeMutablePointer<SeededGenerator>,
        into actions: UnsafeMutablePointer<Float>, on pool: WorkerPool? = nil
    ) {
        precondition(rows <= maxStates, "\(rows) states exceed the selector's \(maxStates)")
        guard rows > 0 else { return }
        let total = rows * candidates
        repeatInterleave(states, rows: rows, width: actor.stateDimension, times: candidates, into: repeatedStates.pointer)
        drawNoise(states: rows, generators: generators, on: pool)
        let parts = Self.partCount(rows: total), partRows = Self.partRows(total: total)
        let scorePart = { (part: Int) in
            self.scoreCandidates(lane: self.lanes[part], first: part * partRows,
                                 count: min(partRows, total - part * partRows), total: total)
        }
        BLAS.withThreads(1) {
            WorkerPool.forEach(parts, on: pool, scorePart)
        }
        let actionWidth = actor.actionDimension
        for row in 0..<rows {
            let first = row * candidates
            for k in 0..<candidates { scores[k] = Double(candidateScores.pointer[first + k]) }
            let chosen = chooseCandidate(generator: &generators[row])
            (actions + row * actionWidth).update(from: candidateActions.pointer + (first + chosen) * actionWidth, count: actionWidth)
        }
    }

    /// For each of the last call's `rows` states, the lowest then the highest of its candidates in every
    /// action dimension: row r's `2 × actionDimension` values at `spread + r * 2 * actionDimension`. What
    /// the rule chose from, for viewers.
    public func candidateSpread(rows: Int, into spread: UnsafeMutablePointer<Double>) {
        let width = actor.actionDimension
        for row in 0..<rows {
            for k in 0..<width {
                var low = Float.infinity, high = -Float.infinity
                for candidate in 0..<candidates {
                    let value = candidateActions.pointer[(row * candidates + candidate) * width + k]
                    low = min(low, value)
                    high = max(high, value)
                }
                spread[row * 2 * width + k] = Double(low)
                spread[row * 2 * width + width + k] = Double(high)
            }
        }
    }

    /// The noise of every candidate row of `states` states: N blocks (a_N, then each step's) of all rows,
    /// a state's rows drawn from its own stream block after block, in turn. Each stream's uniforms are
    /// taken now; the Box-Muller transforms, which cost far more, are made a state's block at a time on
    /// the pool, so that a lone state's noise is shared too. The numbers are the same on any pool.
    private func drawNoise(states: Int, generators: UnsafeMutablePointer<SeededGenerator>, on pool: WorkerPool?) {
        let block = candidates * actor.actionDimension, blocks = actor.schedule.steps, perState = blocks * block
        for state in 0..<states {
            deferredNoise[state] = generators[state].deferNormals(perState, uniforms: noiseUniforms + state * (perState + 1))
        }
        let deferred = deferredNoise, noise = noise.pointer, blockStride = states * block
        WorkerPool.forEach(states * blocks, on: pool) { task in
            let state = task / blocks, index = task % blocks
            deferred[state]!.fill(index * block ..< (index + 1) * block, into: noise + index * blockStride + state * block)
        }
    }

    /// Samples candidate rows first..<first + count of a batch of `total` with `lane`, and scores them.
    private func scoreCandidates(lane: Lane, first: Int, count: Int, total: Int) {
        guard count > 0 else { return }
        let stateWidth = actor.stateDimension, actionWidth = actor.actionDimension
        let states = repeatedStates.pointer + first * stateWidth, actions = candidateActions.pointer + first * actionWidth
        lane.actor.denoise(states: states, rows: count, noise: noise.pointer + first * actionWidth,
                           noiseStride: total * actionWidth, into: actions)
        let (q1, q2) = lane.critic.values(states: states, actions: actions, rows: count, recording: false)
        for k in 0..<count { candidateScores.pointer[first + k] = min(q1[k], q2[k]) }
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
