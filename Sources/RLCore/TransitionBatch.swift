/// A minibatch of transitions (s, a, r, s', not_done), row-major: buffers allocated once and refilled
/// every step, from an offline dataset or a replay buffer.
public final class TransitionBatch {
    public let rows: Int
    public let stateDimension: Int
    public let actionDimension: Int
    public let states: UnsafeMutablePointer<Float>
    public let actions: UnsafeMutablePointer<Float>
    public let rewards: UnsafeMutablePointer<Float>
    public let nextStates: UnsafeMutablePointer<Float>
    public let notDone: UnsafeMutablePointer<Float>

    public init(rows: Int, stateDimension: Int, actionDimension: Int) {
        self.rows = rows
        self.stateDimension = stateDimension
        self.actionDimension = actionDimension
        states = .allocate(capacity: rows * stateDimension)
        actions = .allocate(capacity: rows * actionDimension)
        rewards = .allocate(capacity: rows)
        nextStates = .allocate(capacity: rows * stateDimension)
        notDone = .allocate(capacity: rows)
    }

    deinit {
        for pointer in [states, actions, rewards, nextStates, notDone] { pointer.deallocate() }
    }
}
