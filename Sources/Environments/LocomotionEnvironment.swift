import MuJoCo
import SeededRandom

/// Hopper, walker2d or halfcheetah: the same MDP as the D4RL locomotion benchmark.
public final class LocomotionEnvironment: Environment, @unchecked Sendable {
    public let spec: LocomotionSpec
    public let simulation: Simulation
    public let observationSpace: BoxSpace
    public let actionSpace: BoxSpace
    public var name: String { spec.name }
    public var maxEpisodeSteps: Int { spec.maxEpisodeSteps }
    public var controlPeriod: Double { simulation.model.timestep * Double(spec.frameSkip) }
    public var elapsedSteps: Int { episode.elapsedSteps }

    private var generator: SeededGenerator
    private var episode = EpisodeBookkeeping()
    private let qpos0: [Double]

    /// Loads the environment's model from `models`.
    public convenience init(_ spec: LocomotionSpec, models: ModelDirectory) throws {
        try self.init(spec, model: Self.loadModel(spec, models: models))
    }

    /// An environment on an already loaded model, so that many copies share one compiled model.
    public init(_ spec: LocomotionSpec, model: PhysicsModel) throws {
        for (field, expected, actual) in [("nq", spec.nq, model.nq), ("nv", spec.nv, model.nv), ("nu", spec.nu, model.nu)]
        where expected != actual {
            throw EnvironmentError.modelDoesNotMatch(file: model.source, field: field, expected: expected, actual: actual)
        }
        self.spec = spec
        simulation = try Simulation(model: model)
        qpos0 = model.qpos0
        let ranges = model.controlRanges
        actionSpace = BoxSpace(
            low: ranges.map { $0?.lowerBound ?? -.infinity }, high: ranges.map { $0?.upperBound ?? .infinity })
        observationSpace = BoxSpace(dimension: spec.observationDimension, low: -.infinity, high: .infinity)
        var seeder = SystemRandomNumberGenerator()
        generator = SeededGenerator(seed: seeder.next())
    }

    /// Loads and checks the model of `spec`; the result can be shared by many environments.
    public static func loadModel(_ spec: LocomotionSpec, models: ModelDirectory) throws -> PhysicsModel {
        try PhysicsModel(contentsOf: models.file(spec.modelFile))
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Double>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        simulation.reset()
        let qpos = simulation.qpos, qvel = simulation.qvel
        switch spec.resetNoise {
        case let .uniform(scale):
            for i in qpos.indices { qpos[i] = qpos0[i] + generator.uniform(-scale, scale) }
            for i in qvel.indices { qvel[i] = generator.uniform(-scale, scale) }
        case let .uniformPositionNormalVelocity(positionScale, velocityScale):
            for i in qpos.indices { qpos[i] = qpos0[i] + generator.uniform(-positionScale, positionScale) }
            for i in qvel.indices { qvel[i] = velocityScale * generator.normal() }
        }
        simulation.forward()
        beginEpisode(observation: observation)
    }

    /// A locomotion task keeps nothing from one episode to the next beyond its seed stream.
    public func forgetEpisodes() {}

    public func setState(qpos: [Double], qvel: [Double], observation: UnsafeMutableBufferPointer<Double>) throws {
        try simulation.setState(qpos: qpos, qvel: qvel)
        beginEpisode(observation: observation)
    }

    public func step(
        action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>
    ) throws -> StepOutcome {
        try episode.validate(action, dimension: spec.nu, environment: name)
        let qpos = simulation.qpos, ctrl = simulation.ctrl
        let xBefore = qpos[0]
        for i in ctrl.indices { ctrl[i] = action[i] }

        var info = StepInfo()
        info.physicsWarnings = simulation.step(frames: spec.frameSkip)

        info.xPosition = qpos[0]
        // After an instability MuJoCo has reset the state, so the x displacement means nothing.
        info.forwardReward = info.isUnstable ? 0 : (info.xPosition - xBefore) / controlPeriod
        info.controlCost = spec.controlCostWeight * action.reduce(0) { $0 + $1 * $1 }
        info.healthyReward = spec.healthyReward
        let reward = info.forwardReward + info.healthyReward - info.controlCost

        episode.countStep()
        let terminated = spec.health.map { !$0.isHealthy(qpos: qpos, qvel: simulation.qvel) } ?? false
        let truncated = elapsedSteps >= spec.maxEpisodeSteps || info.isUnstable
        if terminated || truncated { episode.end() }
        writeObservation(into: observation)
        return StepOutcome(reward: reward, terminated: terminated, truncated: truncated, info: info)
    }

    private func beginEpisode(observation: UnsafeMutableBufferPointer<Double>) {
        episode.begin()
        writeObservation(into: observation)
    }

    /// qpos without the root x position, then qvel (clipped for hopper and walker2d).
    private func writeObservation(into observation: UnsafeMutableBufferPointer<Double>) {
        precondition(observation.count == spec.observationDimension, "observation buffer of the wrong size")
        let qpos = simulation.qpos, qvel = simulation.qvel
        for i in 1..<qpos.count { observation[i - 1] = qpos[i] }
        let clip = spec.observationVelocityClip ?? .infinity
        for i in qvel.indices { observation[qpos.count - 1 + i] = min(max(qvel[i], -clip), clip) }
    }
}
