import DiffusionQL
import GradientCheck
import NeuralNet
import Testing

/// With row-independent products (libxsmm's or the portable kernels) a training run gives the same bits on any number of
/// threads and whatever OpenBLAS's own thread count. (Fails with DIFFUSION_QL_DENSE_PRODUCTS=openblas.)
@Suite
struct TrainingReproducibilityTests {
    /// Hopper's sizes: the products OpenBLAS rounds by their shape and thread count.
    static func weights(threads: Int, blasThreads: Int, maxQBackup: Bool) throws -> [Float] {
        var config = TrainingConfig(task: "hopper-like", stateDimension: 11, actionDimension: 3)
        config.batchSize = 256
        config.seed = 5
        config.maxQBackup = maxQBackup
        let count = 1024
        let data = try Transitions(
            stateDimension: 11, actionDimension: 3, states: GradientCheck.randomValues(count * 11, seed: 1),
            actions: GradientCheck.randomValues(count * 3, scale: 0.9, seed: 2), rewards: GradientCheck.randomValues(count, seed: 3),
            nextStates: GradientCheck.randomValues(count * 11, seed: 4), notDone: [Float](repeating: 1, count: count))
        let trainer = try Trainer(config: config, threads: threads)
        try BLAS.withThreads(blasThreads) {
            for _ in 0..<3 { try trainer.step(on: data) }
        }
        return trainer.actor.parameters.values.array + trainer.critic.parameters.values.array
            + trainer.emaActor.parameters.values.array + trainer.criticTarget.parameters.values.array
    }

    @Test(arguments: [false, true])
    func theSameWeightsOnAnyNumberOfThreads(maxQBackup: Bool) throws {
        let reference = try Self.weights(threads: 1, blasThreads: 1, maxQBackup: maxQBackup)
        for (threads, blasThreads) in [(2, 1), (3, 2), (2, 2)] {
            let weights = try Self.weights(threads: threads, blasThreads: blasThreads, maxQBackup: maxQBackup)
            let differing = zip(weights, reference).count { $0.bitPattern != $1.bitPattern }
            #expect(differing == 0, "\(threads) threads, BLAS on \(blasThreads): \(differing) of \(weights.count) values differ")
        }
    }
}
