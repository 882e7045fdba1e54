import RLCore
import SeededRandom

/// An offline dataset held in memory as transitions (s, a, r, s', not_done), row-major, the form
/// Algorithm 1 samples minibatches from. Dataset readers (D4RL files, collected data) build one.
public struct Transitions: Sendable {
    public let stateDimension: Int
    public let actionDimension: Int
    public private(set) var states: [Float]
    public private(set) var actions: [Float]
    public private(set) var rewards: [Float]
    public private(set) var nextStates: [Float]
    /// 0 where the episode terminated at this transition (no bootstrapping), else 1.
    public private(set) var notDone: [Float]

    public var count: Int { rewards.count }

    /// The same transitions with every reward passed through `transform`.
    public func transformingRewards(_ transform: RewardTransform) -> Transitions {
        var transformed = self
        transformed.rewards = rewards.map(transform.callAsFunction)
        return transformed
    }

    public init(stateDimension: Int, actionDimension: Int, states: [Float], actions: [Float], rewards: [Float],
                nextStates: [Float], notDone: [Float]) throws {
        let count = rewards.count
        let expected: [(String, Int, Int)] = [
            ("states", states.count, count * stateDimension), ("actions", actions.count, count * actionDimension),
            ("next_states", nextStates.count, count * stateDimension), ("not_done", notDone.count, count),
        ]
        for (name, actual, wanted) in expected where actual != wanted {
            throw TransitionsError.lengthMismatch(field: name, count: actual, expected: wanted)
        }
        guard count > 0 else { throw TransitionsError.empty }
        for (name, values) in [("states", states), ("actions", actions), ("rewards", rewards), ("next_states", nextStates)] {
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                let width = values.count / count
                throw TransitionsError.nonFinite(field: name, row: index / width, column: index % width)
            }
        }
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        self.states = states
        self.actions = actions
        self.rewards = rewards
        self.nextStates = nextStates
        self.notDone = notDone
    }

    /// A checksum of every value (FNV-1a over the float bits), recorded with a run so that resuming
    /// on a different dataset is caught.
    public var checksum: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for array in [states, actions, rewards, nextStates, notDone] {
            for value in array {
                hash ^= UInt64(value.bitPattern)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return hash
    }

    /// Fills `batch` with rows drawn uniformly with replacement.
    public func sample(into batch: TransitionBatch, generator: inout SeededGenerator) {
        precondition(batch.stateDimension == stateDimension && batch.actionDimension == actionDimension,
                     "batch of other dimensions than the dataset")
        let sw = stateDimension, aw = actionDimension
        states.withUnsafeBufferPointer { s in
            actions.withUnsafeBufferPointer { a in
                nextStates.withUnsafeBufferPointer { n in
                    for row in 0..<batch.rows {
                        let index = Int(generator.next() % UInt64(count))
                        (batch.states + row * sw).update(from: s.baseAddress! + index * sw, count: sw)
                        (batch.actions + row * aw).update(from: a.baseAddress! + index * aw, count: aw)
                        (batch.nextStates + row * sw).update(from: n.baseAddress! + index * sw, count: sw)
                        batch.rewards[row] = rewards[index]
                        batch.notDone[row] = notDone[index]
                    }
                }
            }
        }
    }
}

public enum TransitionsError: Error, Equatable, CustomStringConvertible {
    case lengthMismatch(field: String, count: Int, expected: Int)
    case nonFinite(field: String, row: Int, column: Int)
    case empty

    public var description: String {
        switch self {
        case let .lengthMismatch(field, count, expected):
            "transitions: \(field) holds \(count) values, expected \(expected)"
        case let .nonFinite(field, row, column):
            "transitions: \(field)[\(row)][\(column)] is not finite"
        case .empty:
            "transitions: the dataset is empty"
        }
    }
}
