import RLCore
import SeededRandom

/// The environment steps an online agent has taken, in order, up to a capacity beyond which the oldest
/// are overwritten. Each row keeps what a D4RL file records of a step: the simulator state before it
/// (qpos, qvel), the observation, action, its log-probability, reward, next observation, and whether
/// the episode terminated or was cut by its time limit there.
public struct ReplayBuffer: Sendable {
    public let capacity: Int
    public let observationDimension: Int
    public let actionDimension: Int
    public let qposDimension: Int
    public let qvelDimension: Int

    /// One step, as `append` takes it.
    public struct Step {
        public var qpos: UnsafeBufferPointer<Double>, qvel: UnsafeBufferPointer<Double>
        public var observation: UnsafeBufferPointer<Double>
        public var action: UnsafeBufferPointer<Float>
        public var logProbability: Float
        public var reward: Double
        public var nextObservation: UnsafeBufferPointer<Double>
        public var terminal: Bool
        public var timeout: Bool

        public init(qpos: UnsafeBufferPointer<Double>, qvel: UnsafeBufferPointer<Double>, observation: UnsafeBufferPointer<Double>,
                    action: UnsafeBufferPointer<Float>, logProbability: Float, reward: Double,
                    nextObservation: UnsafeBufferPointer<Double>, terminal: Bool, timeout: Bool) {
            self.qpos = qpos
            self.qvel = qvel
            self.observation = observation
            self.action = action
            self.logProbability = logProbability
            self.reward = reward
            self.nextObservation = nextObservation
            self.terminal = terminal
            self.timeout = timeout
        }
    }

    /// Rows in storage order (which is chronological until the buffer first wraps).
    public internal(set) var columns: [String: [Float]]
    /// Steps appended over the buffer's life; the newest is at (stepsAppended − 1) % capacity.
    public internal(set) var stepsAppended = 0

    public var count: Int { min(stepsAppended, capacity) }

    /// Each column's name and width, in the order files store them.
    public var layout: [(name: String, width: Int)] {
        [("observations", observationDimension), ("actions", actionDimension), ("rewards", 1),
         ("next_observations", observationDimension), ("terminals", 1), ("timeouts", 1),
         ("qpos", qposDimension), ("qvel", qvelDimension), ("action_log_probs", 1)]
    }

    public init(capacity: Int, observationDimension: Int, actionDimension: Int, qposDimension: Int, qvelDimension: Int) {
        self.capacity = capacity
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        self.qposDimension = qposDimension
        self.qvelDimension = qvelDimension
        columns = [:]
        for (name, _) in layout { columns[name] = [] }
    }

    public mutating func append(_ step: Step) {
        let row = stepsAppended % capacity
        func put(_ name: String, _ values: some Collection<Float>) {
            let width = values.count
            if stepsAppended < capacity {
                columns[name]!.append(contentsOf: values)
            } else {
                columns[name]!.replaceSubrange(row * width ..< (row + 1) * width, with: values)
            }
        }
        put("observations", step.observation.lazy.map(Float.init))
        put("actions", step.action)
        put("rewards", CollectionOfOne(Float(step.reward)))
        put("next_observations", step.nextObservation.lazy.map(Float.init))
        put("terminals", CollectionOfOne(step.terminal ? 1 : 0))
        put("timeouts", CollectionOfOne(step.timeout ? 1 : 0))
        put("qpos", step.qpos.lazy.map(Float.init))
        put("qvel", step.qvel.lazy.map(Float.init))
        put("action_log_probs", CollectionOfOne(step.logProbability))
        stepsAppended += 1
    }

    /// Fills `batch` with rows drawn uniformly with replacement; not_done = 1 − terminal (a time-limit
    /// cut still bootstraps, since the state itself is not terminal).
    public func sample(into batch: TransitionBatch, generator: inout SeededGenerator) {
        let sw = observationDimension, aw = actionDimension
        columns["observations"]!.withUnsafeBufferPointer { observations in
            columns["next_observations"]!.withUnsafeBufferPointer { nextObservations in
                columns["actions"]!.withUnsafeBufferPointer { actions in
                    let rewards = columns["rewards"]!, terminals = columns["terminals"]!
                    for row in 0..<batch.rows {
                        let index = Int(generator.next() % UInt64(count))
                        (batch.states + row * sw).update(from: observations.baseAddress! + index * sw, count: sw)
                        (batch.nextStates + row * sw).update(from: nextObservations.baseAddress! + index * sw, count: sw)
                        (batch.actions + row * aw).update(from: actions.baseAddress! + index * aw, count: aw)
                        batch.rewards[row] = rewards[index]
                        batch.notDone[row] = 1 - terminals[index]
                    }
                }
            }
        }
    }

    /// The first `rows` steps still held, oldest first, column by column.
    public func chronological(rows: Int) -> [String: [Float]] {
        precondition(rows <= count, "\(rows) rows asked of a buffer holding \(count)")
        let oldest = stepsAppended > capacity ? stepsAppended % capacity : 0
        var result: [String: [Float]] = [:]
        for (name, width) in layout {
            let column = columns[name]!
            let firstPart = min(rows, count - oldest)
            var values = Array(column[oldest * width ..< (oldest + firstPart) * width])
            values += column[0 ..< (rows - firstPart) * width]
            result[name] = values
        }
        return result
    }

    /// Restores saved columns (from `columns` of a buffer of the same layout) and the step count.
    public mutating func restore(columns saved: [String: [Float]], stepsAppended: Int) throws(ReplayBufferError) {
        let rows = min(stepsAppended, capacity)
        for (name, width) in layout {
            guard let values = saved[name] else { throw .missingColumn(name) }
            guard values.count == rows * width else {
                throw .wrongLength(column: name, count: values.count, expected: rows * width)
            }
        }
        columns = saved.filter { name, _ in layout.contains { $0.name == name } }
        self.stepsAppended = stepsAppended
    }
}

public enum ReplayBufferError: Error, Equatable, CustomStringConvertible {
    case missingColumn(String)
    case wrongLength(column: String, count: Int, expected: Int)

    public var description: String {
        switch self {
        case let .missingColumn(name): "the replay buffer's \(name) column is missing"
        case let .wrongLength(column, count, expected):
            "the replay buffer's \(column) column holds \(count) values, expected \(expected)"
        }
    }
}
