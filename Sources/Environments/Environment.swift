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
    /// Where the goal is and how far, for goal-reaching tasks (AntMaze); nil for the others.
    public var goal: GoalStatus?

    public init() {}

    /// True when the physics diverged during this step and the episode was cut there.
    public var isUnstable: Bool { physicsWarnings.isUnstable }
}

/// A goal-reaching task's goal after a step.
public struct GoalStatus: Sendable, Equatable {
    public var goal: PlanarPosition
    /// Distance in the plane from the robot's root to the goal.
    public var distance: Double
    /// Whether the robot is within the task's radius of the goal (a success).
    public var reached: Bool

    public init(goal: PlanarPosition, distance: Double, reached: Bool) {
        self.goal = goal
        self.distance = distance
        self.reached = reached
    }
}

/// An environment whose episodes are about reaching a goal in the ground plane (AntMaze). Evaluators
/// and viewers ask for this, not for a particular task, so other goal-reaching tasks fit the same way.
public protocol GoalConditionedEnvironment: Environment {
    /// The goal of the current episode.
    var goal: PlanarPosition { get }
    /// Within this distance of the goal (in the plane) the goal counts as reached.
    var goalRadius: Double { get }
    /// The ground the task plays on, for a camera that shows all of it.
    var arena: PlanarBounds { get }
    /// Commands `goal` from now on, in place of the task's own (nil: the task's own again, from the next
    /// reset). Throws when the goal is not a place the robot can reach (in a wall, outside the arena).
    func setGoal(_ goal: PlanarPosition?) throws
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

    /// Forgets what a newly made copy would not know: settings given for its episodes (a commanded goal,
    /// a start cell) and draws kept from one episode to the next (a v0 maze's goal). Followed by a
    /// seeded reset, the copy runs the episode a new copy would.
    func forgetEpisodes()
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

/// What every environment keeps about its episode: the steps taken and whether stepping is allowed.
struct EpisodeBookkeeping {
    private enum Phase {
        case notStarted, running, ended
    }

    private(set) var elapsedSteps = 0
    private var phase = Phase.notStarted

    mutating func begin() {
        elapsedSteps = 0
        phase = .running
    }

    /// Throws unless `action` has `dimension` finite entries and an episode is running.
    func validate(_ action: UnsafeBufferPointer<Double>, dimension: Int, environment: String) throws {
        guard action.count == dimension else {
            throw EnvironmentError.wrongActionLength(environment: environment, expected: dimension, actual: action.count)
        }
        if let index = action.firstIndex(where: { !$0.isFinite }) {
            throw EnvironmentError.nonFiniteAction(environment: environment, index: index, value: action[index])
        }
        switch phase {
        case .running: break
        case .notStarted: throw EnvironmentError.stepBeforeReset(environment: environment)
        case .ended: throw EnvironmentError.stepAfterEpisodeEnd(environment: environment)
        }
    }

    mutating func countStep() {
        elapsedSteps += 1
    }

    /// After a terminating or truncating step: stepping again needs a reset.
    mutating func end() {
        phase = .ended
    }
}
