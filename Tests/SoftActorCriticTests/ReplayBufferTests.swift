import RLCore
import SeededRandom
import SoftActorCritic
import Testing

@Suite struct ReplayBufferTests {
    /// Appends steps whose every value is the step's index.
    static func filled(capacity: Int, steps: Int) -> ReplayBuffer {
        var buffer = ReplayBuffer(capacity: capacity, observationDimension: 2, actionDimension: 1, qposDimension: 2, qvelDimension: 1)
        for step in 0..<steps {
            let value = Double(step)
            [value, value].withUnsafeBufferPointer { pair in
                [Float(value)].withUnsafeBufferPointer { action in
                    buffer.append(ReplayBuffer.Step(qpos: pair, qvel: UnsafeBufferPointer(rebasing: pair[0..<1]), observation: pair,
                                                    action: action, logProbability: Float(value), reward: value,
                                                    nextObservation: pair, terminal: step % 3 == 2, timeout: false))
                }
            }
        }
        return buffer
    }

    @Test func keepsTheNewestStepsOldestFirst() {
        let buffer = Self.filled(capacity: 4, steps: 6)
        #expect(buffer.count == 4)
        let steps = buffer.chronological(rows: 4)
        #expect(steps["rewards"] == [2, 3, 4, 5])
        #expect(steps["observations"] == [2, 2, 3, 3, 4, 4, 5, 5])
        #expect(steps["terminals"] == [1, 0, 0, 1])
        #expect(Self.filled(capacity: 10, steps: 3).chronological(rows: 2)["qpos"] == [0, 0, 1, 1])
    }

    @Test func minibatchesBootstrapExceptAtTerminals() {
        let buffer = Self.filled(capacity: 8, steps: 8)
        let batch = TransitionBatch(rows: 64, stateDimension: 2, actionDimension: 1)
        var generator = SeededGenerator(seed: 1)
        buffer.sample(into: batch, generator: &generator)
        for row in 0..<64 {
            let step = Int(batch.rewards[row])
            #expect(batch.states[row * 2] == Float(step) && batch.actions[row] == Float(step))
            #expect(batch.notDone[row] == (step % 3 == 2 ? 0 : 1))
        }
    }

    @Test func restoreChecksEveryColumn() throws {
        let saved = Self.filled(capacity: 4, steps: 6)
        var restored = Self.filled(capacity: 4, steps: 0)
        try restored.restore(columns: saved.columns, stepsAppended: 6)
        #expect(restored.chronological(rows: 4) == saved.chronological(rows: 4))
        var columns = saved.columns
        columns["qvel"] = nil
        #expect(throws: ReplayBufferError.missingColumn("qvel")) { try restored.restore(columns: columns, stepsAppended: 6) }
        #expect(throws: ReplayBufferError.wrongLength(column: "observations", count: 8, expected: 6)) {
            try restored.restore(columns: saved.columns, stepsAppended: 3)
        }
    }
}
