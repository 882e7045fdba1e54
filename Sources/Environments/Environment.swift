import MuJoCo

/// A box-shaped space: one closed interval per dimension, as Gymnasium's `Box`.
public struct BoxSpace: Sendable, Equatable {
    public let low: [Double]
    public let high: [Double]

    public init(low: [Double], high: [Double]) {
        precondition(low.count == high.count, "bounds of unequal length")
        self.low = low
        self.high = high
    }

    /// A space of `dimension` dimensions, each `low...high`.
    public init(dimension: Int, low: Double, high: Double) {
        self.init(low: Array(repeating: low, count: dimension), high: Array(repeating: high, count: dimension))
    }

    public var dimension: Int { low.count }
    public var shape: [Int] { [dimension] }

    public func contains(_ point: some Collection<Double>) -> Bool {
        point.count == dimension && zip(point, zip(low, high)).allSatisfy { $0 >= $1.0 && $0 <= $1.1 }
    }
}

/// What a step reports besides the observation and reward, as Gymnasium's `info`.
public struct StepInfo: Sendable, Equatable {
    /// Displacement of the root along x divided by the control period (locomotion).
    public var forwardReward = 0.0
    /// The control cost that was subtracted from the reward.
    public var controlCost = 0.0
    /// The healthy (alive) bonus that was added to the reward.
    public var healthyReward = 0.0
    /// Root x position after the step.
    public var xPosition = 0.0
    /// Warnings MuJoCo raised during the step. When they include an instability, MuJoCo has reset the
    /// state, so the environment ends the episode (truncated, `isUnstable` set).
    public var physicsWarnings = PhysicsWarnings()

    public init() {}

    /// True when the physics diverged during this step and the episode was cut there.
    public var isUnstable: Bool { physicsWarnings.isUnstable }
}

/// A reinforcement-learning environment in Gymnasium's terms, as a plain state machine: no threads
/// of its own, used from one thread at a time.
///
/// The core requirements write into caller-owned buffers and allocate nothing, for runners that step
/// thousands of copies; the extension offers the familiar array-returning forms.
public protocol Environment: AnyObject, Sendable {
    /// Short name of the environment family, e.g. "hopper".
    var name: String { get }
    var observationSpace: BoxSpace { get }
    var actionSpace: BoxSpace { get }
    /// Steps after which an episode is truncated (the time limit).
    var maxEpisodeSteps: Int { get }
    /// Steps taken in the current episode.
    var elapsedSteps: Int { get }
    /// Simulated seconds per step (Gymnasium's `dt`: frame_skip × the physics time step).
    var controlPeriod: Double { get }
    /// The underlying physics, for viewers and for recording simulator states.
    var simulation: Simulation { get }

    /// Starts an episode. A seed reseeds the reset-noise generator; nil continues its stream.
    func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>)

    /// Applies one action; writes the next observation and returns the rest of the transition.
    func step(
        action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>
    ) throws -> StepOutcome

    /// Starts an episode at an exact simulator state (no noise), e.g. to replay recorded data.
    func setState(qpos: [Double], qvel: [Double], observation: UnsafeMutableBufferPointer<Double>) throws
}

/// A transition's reward, end flags and info; the observation is written separately.
public struct StepOutcome: Sendable, Equatable {
    public var reward: Double
    /// The episode reached a terminal state of the MDP (e.g. the hopper fell).
    public var terminated: Bool
    /// The episode was cut short for a reason outside the MDP: the time limit, or a physics instability.
    public var truncated: Bool
    public var info: StepInfo

    public init(reward: Double, terminated: Bool, truncated: Bool, info: StepInfo) {
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
        self.info = info
    }
}

extension Environment {
    /// Starts an episode and returns its first observation.
    @discardableResult
    public func reset(seed: UInt64? = nil) -> [Double] {
        [Double](unsafeUninitializedCapacity: observationSpace.dimension) { buffer, count in
            reset(seed: seed, observation: buffer)
            count = buffer.count
        }
    }

    /// Applies one action and returns the transition, as Gymnasium's `step`.
    public func step(_ action: [Double]) throws -> (
        observation: [Double], reward: Double, terminated: Bool, truncated: Bool, info: StepInfo
    ) {
        var observation = [Double](repeating: 0, count: observationSpace.dimension)
        let outcome = try action.withUnsafeBufferPointer { action in
            try observation.withUnsafeMutableBufferPointer { try step(action: action, observation: $0) }
        }
        return (observation, outcome.reward, outcome.terminated, outcome.truncated, outcome.info)
    }

    /// Starts an episode at the given simulator state and returns its observation.
    @discardableResult
    public func setState(qpos: [Double], qvel: [Double]) throws -> [Double] {
        var observation = [Double](repeating: 0, count: observationSpace.dimension)
        try observation.withUnsafeMutableBufferPointer { try setState(qpos: qpos, qvel: qvel, observation: $0) }
        return observation
    }
}

/// Where an environment stands between resets.
enum EpisodePhase {
    case notStarted, running, ended
}
