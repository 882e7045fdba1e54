import Bandit
import Testing

@Suite struct BanditTests {
    @Test func cornerFractionsCountWithinTheRadius() {
        let actions: [SIMD2<Float>] = [[0.8, -0.8], [0.7, -0.7], [0.5, -0.5], [-0.8, 0.8], [0, 0]]
        let fractions = CornerFractions(actions)
        #expect(fractions.perMode == [0.2, 0, 0, 0.4])
        #expect(abs(fractions.onAnyCorner - 0.6) < 1e-12 && fractions.onBestCorner == 0.4)
    }

    @Test func datasetHasFourEqualModesAndTheirRewards() throws {
        let data = try BanditExperiment().dataset()
        #expect(data.count == 10_000 && data.notDone.allSatisfy { $0 == 0 } && data.states.allSatisfy { $0 == 0 })
        let actions = (0..<data.count).map { SIMD2(data.actions[2 * $0], data.actions[2 * $0 + 1]) }
        #expect(CornerFractions(actions).perMode == [0.25, 0.25, 0.25, 0.25])
        for (index, mode) in BanditExperiment.modes.enumerated() {
            let rewards = stride(from: index, to: data.count, by: 4).map { Double(data.rewards[$0]) }
            #expect(abs(rewards.reduce(0, +) / Double(rewards.count) - Double(mode.rewardMean)) < 0.05)
        }
    }

    /// The paper's result on a reduced setup (N = 20 instead of 50, width 64 instead of 128, 15,000
    /// steps at lr 1e-3 instead of 100,000 at 3e-4; the data, eta, batch and rewards as in the paper):
    /// behaviour cloning keeps all four modes, Diffusion-QL goes to the best corner.
    @Test func behaviourCloningKeepsTheModesAndDiffusionQLFindsTheBestCorner() throws {
        var experiment = BanditExperiment()
        experiment.diffusionSteps = 20
        experiment.hiddenWidth = 64
        experiment.learningRate = 1e-3
        experiment.epochs = 150
        experiment.samples = 2000
        let data = try experiment.dataset()

        let cloned = CornerFractions(try experiment.trainAndSample(eta: 0, data: data))
        #expect(cloned.perMode.allSatisfy { abs($0 - 0.25) <= 0.05 }, "BC-diffusion per corner: \(cloned.perMode)")
        #expect(cloned.onAnyCorner >= 0.95, "BC-diffusion on a corner: \(cloned.onAnyCorner)")

        let learned = CornerFractions(try experiment.trainAndSample(eta: experiment.eta, data: data))
        #expect(learned.onBestCorner >= 0.90, "Diffusion-QL on (0.8, -0.8): \(learned.onBestCorner)")
    }
}
