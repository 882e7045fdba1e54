import DiffusionQL
import Foundation
import GradientCheck
import SeededRandom
import Testing

@Suite struct ActionSelectorTests {
    static let candidates = 50

    static func selector(states: Int, rule: ActionSelector.Rule) -> ActionSelector {
        var generator = SeededGenerator(seed: 8)
        let rows = states * candidates
        let actor = DiffusionPolicy(stateDimension: 4, actionDimension: 2, maxAction: 1, schedule: NoiseSchedule(.vp, steps: 5),
                                    hiddenWidth: 32, capacity: rows, generator: &generator)
        let critic = Critic(stateDimension: 4, actionDimension: 2, hiddenWidth: 32, capacity: rows, generator: &generator)
        return ActionSelector(actor: actor, critic: critic, candidates: candidates, rule: rule)
    }

    /// The action the paper's rule picks, computed step by step here: 50 candidates, q_min of each,
    /// and a draw from softmax(q_min) (or the best) with the same random stream.
    static func expectedAction(_ selector: ActionSelector, state: [Float], generator: inout SeededGenerator) -> [Float] {
        let repeated = (0..<candidates).flatMap { _ in state }
        var actions = [Float](repeating: 0, count: candidates * 2)
        selector.actor.sample(states: repeated, rows: candidates, generator: &generator, into: &actions)
        let (q1, q2) = selector.critic.values(states: repeated, actions: actions, rows: candidates)
        let q = (0..<candidates).map { Double(min(q1[$0], q2[$0])) }
        var chosen = q.indices.max { q[$0] < q[$1] }!
        if selector.rule == .softmax {
            let weights = q.map { exp($0 - q[chosen]) }
            var remaining = generator.uniform() * weights.reduce(0, +)
            chosen = weights.indices.first { remaining -= weights[$0]; return remaining < 0 } ?? chosen
        }
        return Array(actions[chosen * 2 ..< chosen * 2 + 2])
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
            #expect(action == Self.expectedAction(selector, state: state, generator: &copy))
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
}
