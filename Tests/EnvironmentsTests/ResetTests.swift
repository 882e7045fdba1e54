import Environments
import MuJoCo
import Testing

@Suite struct ResetTests {
    /// The deviations from qpos0 and the velocities over `resets` resets of one seeded environment.
    static func resetNoise(_ spec: LocomotionSpec, resets: Int) throws -> (position: SampleStatistics, velocity: SampleStatistics) {
        let environment = try TestSupport.environment(spec)
        let qpos0 = environment.simulation.model.qpos0
        var position: [Double] = [], velocity: [Double] = []
        for index in 0..<resets {
            environment.reset(seed: index == 0 ? 2024 : nil)
            position += zip(environment.simulation.qpos, qpos0).map { $0 - $1 }
            velocity += environment.simulation.qvel
        }
        return (SampleStatistics(values: position), SampleStatistics(values: velocity))
    }

    /// Checks draws against U(-scale, scale): bounds, mean, standard deviation (to 5%) and a flat histogram.
    static func expectUniform(_ sample: SampleStatistics, scale: Double, _ what: String) {
        let slack = 1e-12 // qpos0 + u - qpos0 may differ from u by rounding
        #expect(sample.largestMagnitude <= scale + slack, "\(what): a draw of \(sample.largestMagnitude)")
        #expect(abs(sample.mean) < 0.05 * scale, "\(what): mean \(sample.mean)")
        let expectedDeviation = scale / 3.0.squareRoot()
        #expect(abs(sample.standardDeviation / expectedDeviation - 1) < 0.05, "\(what): std \(sample.standardDeviation)")
        for (bin, share) in sample.histogram(bins: 10, low: -scale, high: scale).enumerated() {
            #expect(abs(share - 0.1) < 0.015, "\(what): bin \(bin) holds \(share) of the draws")
        }
    }

    @Test(arguments: [LocomotionSpec.hopper, .walker2d])
    func hopperAndWalkerNoiseIsUniform(_ spec: LocomotionSpec) throws {
        let noise = try Self.resetNoise(spec, resets: 2_000)
        Self.expectUniform(noise.position, scale: 5e-3, "\(spec.name) qpos")
        Self.expectUniform(noise.velocity, scale: 5e-3, "\(spec.name) qvel")
    }

    @Test func halfCheetahPositionIsUniformAndVelocityNormal() throws {
        let noise = try Self.resetNoise(.halfCheetah, resets: 2_000)
        Self.expectUniform(noise.position, scale: 0.1, "halfcheetah qpos")

        let velocity = noise.velocity
        #expect(abs(velocity.mean) < 0.005, "mean \(velocity.mean)")
        #expect(abs(velocity.standardDeviation / 0.1 - 1) < 0.05, "std \(velocity.standardDeviation)")
        // A uniform law of std 0.1 stays within ±0.173 and puts 58% within one std; a normal one does not.
        #expect(velocity.fraction { abs($0) > 0.2 } > 0.03)
        #expect(abs(velocity.fraction { abs($0) < 0.1 } - 0.6827) < 0.02)
    }

    @Test(arguments: [LocomotionSpec.hopper, .walker2d, .halfCheetah])
    func resetStartsAtTimeZeroAndObservesTheState(_ spec: LocomotionSpec) throws {
        let environment = try TestSupport.environment(spec)
        environment.reset(seed: 1)
        _ = try environment.step(Array(repeating: 0.5, count: spec.nu))
        let observation = environment.reset(seed: 2)
        let simulation = environment.simulation
        #expect(simulation.time == 0)
        #expect(Array(simulation.ctrl) == TestSupport.zeros(spec.nu))
        #expect(environment.elapsedSteps == 0)
        #expect(observation == Array(simulation.qpos.dropFirst()) + Array(simulation.qvel))
        #expect(observation.count == spec.observationDimension)
    }

    @Test(arguments: [LocomotionSpec.hopper, .halfCheetah])
    func sameSeedSameObservationsOtherSeedOthers(_ spec: LocomotionSpec) throws {
        let first = try TestSupport.environment(spec), second = try TestSupport.environment(spec)
        let a = first.reset(seed: 7)
        #expect(second.reset(seed: 7) == a)
        #expect(second.reset(seed: 8) != a)
        #expect(first.reset(seed: 7) == a, "reseeding restarts the stream")
    }

    @Test(arguments: [LocomotionSpec.hopper, .halfCheetah])
    func unseededResetContinuesTheStream(_ spec: LocomotionSpec) throws {
        let first = try TestSupport.environment(spec), second = try TestSupport.environment(spec)
        let seeded = first.reset(seed: 11)
        let continued = first.reset(seed: nil)
        #expect(continued != seeded)
        #expect(second.reset(seed: 11) == seeded)
        #expect(second.reset(seed: nil) == continued, "the continued stream depends only on the seed")
    }

    @Test func unseededEnvironmentsDiffer() throws {
        let first = try TestSupport.environment(.hopper), second = try TestSupport.environment(.hopper)
        #expect(first.reset() != second.reset())
    }
}
