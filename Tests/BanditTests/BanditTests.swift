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

    /// The paper's setup reduced to a test's budget: N = 20 instead of 50, width 32 instead of 128,
    /// 5,000 steps at lr 1e-3 instead of 100,000 at 3e-4; the data, eta, batch and rewards as in the
    /// paper. Seeds 0 to 5 all pass with a margin (`bandit --diffusion-steps 20 --hidden-width 32
    /// --learning-rate 1e-3 --epochs 50 --samples 2000 --seed S`: 89.9-92.8% of BC's samples on a
    /// corner, at least 18.4% on each; 95.8-97.7% of Diffusion-QL's nearest the best corner).
    static var reduced: BanditExperiment {
        var experiment = BanditExperiment()
        experiment.diffusionSteps = 20
        experiment.hiddenWidth = 32
        experiment.learningRate = 1e-3
        experiment.epochs = 50
        experiment.samples = 2000
        return experiment
    }

    /// Behaviour cloning keeps all four modes: every corner holds a share of the samples, within the
    /// corner's radius, and the best corner is not preferred.
    @Test func behaviourCloningKeepsTheFourModes() throws {
        let experiment = Self.reduced
        let cloned = CornerFractions(try experiment.trainAndSample(eta: 0, data: try experiment.dataset()))
        #expect(cloned.perMode.allSatisfy { $0 >= 0.15 }, "BC-diffusion per corner: \(cloned.perMode)")
        #expect(cloned.onAnyCorner >= 0.85, "BC-diffusion on a corner: \(cloned.onAnyCorner)")
        #expect(cloned.nearestTheBestCorner <= 0.35, "BC-diffusion nearest the best corner: \(cloned.nearestTheBestCorner)")
    }

    /// Diffusion-QL, on the same data, puts its samples at the best corner (or beyond it, at the edge of
    /// the action box, where its critic extrapolates higher values).
    @Test func diffusionQLChoosesTheBestCorner() throws {
        let experiment = Self.reduced
        let learned = CornerFractions(try experiment.trainAndSample(eta: experiment.eta, data: try experiment.dataset()))
        #expect(learned.nearestTheBestCorner >= 0.90, "Diffusion-QL nearest (0.8, -0.8): \(learned.nearest)")
    }

    @Test func nearestCountsEveryActionOnceAndOnBestCountsOnlyWithinTheRadius() {
        let actions: [SIMD2<Float>] = [[1, -1], [0.1, -0.2], [0.8, -0.8], [-0.1, 0.2], [-1, -1]]
        let fractions = CornerFractions(actions)
        #expect(fractions.nearest == [0.2, 0.2, 0, 0.6])
        #expect(fractions.onBestCorner == 0.2 && fractions.nearestTheBestCorner == 0.6)
    }
}
