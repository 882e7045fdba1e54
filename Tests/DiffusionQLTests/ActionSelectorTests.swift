import DiffusionQL
import Foundation
import GradientCheck
import NeuralNet
import Parallel
import RLCore
import SeededRandom
import Testing

@Suite struct ActionSelectorTests {
    static let candidates = 50

    /// An actor and a critic with the same parameters whatever their capacity.
    static func lane(capacity: Int, stateDimension: Int = 4, actionDimension: Int = 2, hiddenWidth: Int = 32) -> ActionSelector.Lane {
        var generator = SeededGenerator(seed: 8)
        return ActionSelector.Lane(
            actor: DiffusionPolicy(stateDimension: stateDimension, actionDimension: actionDimension, maxAction: 1,
                                   schedule: NoiseSchedule(.vp, steps: 5), hiddenWidth: hiddenWidth, capacity: capacity,
                                   generator: &generator),
            critic: Critic(stateDimension: stateDimension, actionDimension: actionDimension, hiddenWidth: hiddenWidth,
                           capacity: capacity, generator: &generator))
    }

    static func selector(states: Int, rule: ActionSelector.Rule) -> ActionSelector {
        ActionSelector(maxStates: states, candidates: candidates, rule: rule) { lane(capacity: $0) }
    }

    /// The action the paper's rule picks, computed step by step here: 50 candidates (sampled in the
    /// selector's two halves, as OpenBLAS may round a product of 50 rows differently), q_min of
    /// each, and a draw from softmax(q_min) (or the best) with the same random stream.
    static func expectedAction(_ rule: ActionSelector.Rule, state: [Float], generator: inout SeededGenerator) -> [Float] {
        let lane = Self.lane(capacity: candidates)
        let repeated = (0..<candidates).flatMap { _ in state }
        let noise = (0..<lane.actor.noiseCount(rows: candidates)).map { _ in Float(generator.normal()) }
        var actions = [Float](repeating: 0, count: candidates * 2), q = [Double]()
        let half = candidates / 2
        for first in [0, half] {
            actions.withUnsafeMutableBufferPointer { actions in
                lane.actor.denoise(states: repeated, rows: half, noise: Array(noise[(first * 2)...]), noiseStride: candidates * 2,
                                   into: actions.baseAddress! + first * 2)
            }
            let (q1, q2) = lane.critic.values(states: repeated, actions: Array(actions[(first * 2)...]), rows: half)
            q += (0..<half).map { Double(min(q1[$0], q2[$0])) }
        }
        var chosen = q.indices.max { q[$0] < q[$1] }!
        if rule == .softmax {
            let weights = q.map { exp($0 - q[chosen]) }
            var remaining = generator.uniform() * weights.reduce(0, +)
            chosen = weights.indices.first { remaining -= weights[$0]; return remaining < 0 } ?? chosen
        }
        return Array(actions[chosen * 2 ..< chosen * 2 + 2])
    }

    /// No running episode, no work: nothing drawn, nothing written.
    @Test func noStatesIsNoCall() {
        let selector = Self.selector(states: 2, rule: .softmax)
        var generators = [SeededGenerator(seed: 1)], actions: [Float] = [7]
        let before = generators[0].snapshot
        selector.selectActions(states: [Float](repeating: 0, count: 4), rows: 0, generators: &generators, into: &actions,
                               on: WorkerPool(threads: 2))
        #expect(generators[0].snapshot == before && actions == [7])
    }

    @Test(arguments: ActionSelector.Rule.allCases)
    func picksTheCandidateTheRuleSays(_ rule: ActionSelector.Rule) {
        let selector = Self.selector(states: 1, rule: rule)
        var chosenIndices = Set<[Float]>()
        for trial in 0..<20 {
            let state = GradientCheck.randomValues(4, seed: UInt64(100 + trial))
            var generator = SeededGenerator(seed: UInt64(trial)), copy = generator
            var action: [Float] = [0, 0]
            selector.selectActions(states: state, rows: 1, generators: &generator, into: &action)
            #expect(action == Self.expectedAction(rule, state: state, generator: &copy))
            chosenIndices.insert(action)
        }
        #expect(chosenIndices.count > 1)
    }

    /// An episode's action depends on its own state and stream only, not on the rows beside it.
    @Test func rowsAreIndependentOfTheirBatch() {
        let selector = Self.selector(states: 3, rule: .softmax)
        let states = GradientCheck.randomValues(3 * 4, seed: 4)
        var generators = (0..<3).map { SeededGenerator(seeds: 77, UInt64($0)) }
        var batch = [Float](repeating: 0, count: 6)
        selector.selectActions(states: states, rows: 3, generators: &generators, into: &batch)
        for row in 0..<3 {
            var alone = [SeededGenerator(seeds: 77, UInt64(row))]
            var action: [Float] = [0, 0]
            selector.selectActions(states: Array(states[row * 4 ..< row * 4 + 4]), rows: 1, generators: &alone, into: &action)
            #expect(action == Array(batch[row * 2 ..< row * 2 + 2]))
            #expect(alone[0].snapshot == generators[row].snapshot)
        }
    }

    /// Hopper's sizes, where OpenBLAS rounds products differently on more threads or in other
    /// shapes: the same actions and streams with no pool, pools of 1 to 3 threads, and BLAS set to 1
    /// or 2 threads beforehand.
    @Test func numbersDoNotDependOnThreads() {
        let states = 10
        let selector = ActionSelector(maxStates: states, candidates: Self.candidates) {
            Self.lane(capacity: $0, stateDimension: 11, actionDimension: 3, hiddenWidth: 256)
        }
        let input = GradientCheck.randomValues(states * 11, seed: 5)
        func act(pool: WorkerPool?, blasThreads: Int) -> ([Float], [String]) {
            BLAS.withThreads(blasThreads) {
                var generators = (0..<states).map { SeededGenerator(seeds: 3, UInt64($0)) }
                var actions = [Float](repeating: 0, count: states * 3)
                for _ in 0..<3 { selector.selectActions(states: input, rows: states, generators: &generators, into: &actions, on: pool) }
                return (actions, generators.map(\.snapshot))
            }
        }
        let reference = act(pool: nil, blasThreads: 2)
        for threads in 1...3 {
            for blasThreads in 1...2 {
                let (actions, streams) = act(pool: WorkerPool(threads: threads), blasThreads: blasThreads)
                #expect(actions == reference.0 && streams == reference.1, "\(threads) threads, BLAS on \(blasThreads)")
            }
        }
    }
}
