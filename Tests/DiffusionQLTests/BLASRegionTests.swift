import DiffusionQL
import Foundation
import GradientCheck
import NeuralNet
import Testing

/// OpenBLAS's thread count is one setting for the process; at hopper's sizes a product's rounding
/// depends on it. Training in one thread must not change when another thread works at another count.
/// (The other backends' products do not use OpenBLAS, so this holds there without regions.)
@Suite(.enabled(if: DenseProducts.backend == .openBLAS, "the dense products do not run on OpenBLAS"))
struct BLASRegionTests {
    static func hopperSizedTrainer() throws -> (Trainer, Transitions) {
        var config = TrainingConfig(task: "hopper-like", stateDimension: 11, actionDimension: 3)
        config.batchSize = 256
        config.seed = 5
        let count = 1024
        let data = try Transitions(
            stateDimension: 11, actionDimension: 3, states: GradientCheck.randomValues(count * 11, seed: 1),
            actions: GradientCheck.randomValues(count * 3, scale: 0.9, seed: 2), rewards: GradientCheck.randomValues(count, seed: 3),
            nextStates: GradientCheck.randomValues(count * 11, seed: 4), notDone: [Float](repeating: 1, count: count))
        return (try Trainer(config: config), data)
    }

    static func weights(after steps: Int, threads: Int) throws -> [Float] {
        let (trainer, data) = try hopperSizedTrainer()
        try BLAS.withThreads(threads) {
            for _ in 0..<steps { try trainer.step(on: data) }
        }
        return trainer.actor.parameters.values.array
    }

    @Test func trainingBesideWorkAtAnotherThreadCountIsUnchanged() throws {
        let alone = try Self.weights(after: 3, threads: 2)
        // Guards the test itself: at these sizes the count changes the bits, so a region that did not
        // hold would show.
        #expect(try Self.weights(after: 3, threads: 1) != alone)

        let done = Atomic(false)
        let beside = Thread {
            let a = GradientCheck.randomValues(256 * 256, seed: 6), c = FloatBuffer(count: 256 * 256)
            while !done.value {
                BLAS.withThreads(1) {
                    BLAS.gemm(m: 256, n: 256, k: 256, a: a, lda: 256, b: a, ldb: 256, beta: 0, c: c.pointer, ldc: 256)
                }
            }
        }
        beside.start()
        defer { done.value = true }
        #expect(try Self.weights(after: 3, threads: 2) == alone)
    }
}

/// A flag one thread sets and another reads.
final class Atomic<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
