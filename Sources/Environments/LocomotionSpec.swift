/// Everything that distinguishes hopper, walker2d and halfcheetah (Gym MuJoCo v2/v3, as D4RL uses
/// them). The numbers are the benchmark's, and the conformance tests hold the environments to them.
public struct LocomotionSpec: Sendable, Equatable {
    /// Short name, as in D4RL task names.
    public let name: String
    /// MJCF file in the models folder.
    public let modelFile: String
    /// Expected model sizes, checked when the model is loaded.
    public let nq: Int, nv: Int, nu: Int
    /// Physics steps per environment step.
    public let frameSkip: Int
    /// Weight of the squared-action control cost.
    public let controlCostWeight: Double
    /// Bonus on every step, the terminating one included (0 for halfcheetah).
    public let healthyReward: Double
    /// Velocities in the observation are clipped to ±this; nil leaves them as they are.
    public let observationVelocityClip: Double?
    /// When the robot counts as fallen (the episode terminates); nil means it never terminates.
    public let health: HealthRule?
    /// Noise added to qpos0 and to zero velocity at reset.
    public let resetNoise: ResetNoise
    /// Time limit in steps (a truncation).
    public let maxEpisodeSteps: Int

    public var observationDimension: Int { nq - 1 + nv }

    public static let hopper = LocomotionSpec(
        name: "hopper", modelFile: "hopper.xml", nq: 6, nv: 6, nu: 3,
        frameSkip: 4, controlCostWeight: 1e-3, healthyReward: 1.0, observationVelocityClip: 10,
        health: .hopper, resetNoise: .uniform(scale: 5e-3), maxEpisodeSteps: 1000)

    public static let walker2d = LocomotionSpec(
        name: "walker2d", modelFile: "walker2d.xml", nq: 9, nv: 9, nu: 6,
        frameSkip: 4, controlCostWeight: 1e-3, healthyReward: 1.0, observationVelocityClip: 10,
        health: .walker2d, resetNoise: .uniform(scale: 5e-3), maxEpisodeSteps: 1000)

    public static let halfCheetah = LocomotionSpec(
        name: "halfcheetah", modelFile: "half_cheetah.xml", nq: 9, nv: 9, nu: 6,
        frameSkip: 5, controlCostWeight: 0.1, healthyReward: 0, observationVelocityClip: nil,
        health: nil, resetNoise: .uniformPositionNormalVelocity(positionScale: 0.1, velocityScale: 0.1),
        maxEpisodeSteps: 1000)
}

/// The "healthy" test of a locomotion robot; every inequality is strict, as in Gym.
public enum HealthRule: Sendable, Equatable {
    /// qpos[2:] and qvel all within (-100, 100), height > 0.7, |angle| < 0.2.
    case hopper
    /// Height in (0.8, 2.0), angle in (-1, 1).
    case walker2d

    public func isHealthy(qpos: some Collection<Double>, qvel: some Collection<Double>) -> Bool {
        let height = qpos[qpos.index(qpos.startIndex, offsetBy: 1)]
        let angle = qpos[qpos.index(qpos.startIndex, offsetBy: 2)]
        switch self {
        case .hopper:
            let stateInRange = qpos.dropFirst(2).allSatisfy { abs($0) < 100 } && qvel.allSatisfy { abs($0) < 100 }
            return stateInRange && height > 0.7 && abs(angle) < 0.2
        case .walker2d:
            return height > 0.8 && height < 2.0 && angle > -1 && angle < 1
        }
    }
}

/// How reset perturbs the initial state.
public enum ResetNoise: Sendable, Equatable {
    /// qpos0 + U(-scale, scale) and qvel = U(-scale, scale).
    case uniform(scale: Double)
    /// qpos0 + U(-positionScale, positionScale) and qvel = velocityScale * N(0, 1).
    case uniformPositionNormalVelocity(positionScale: Double, velocityScale: Double)
}
