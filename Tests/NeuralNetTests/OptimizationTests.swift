import Foundation
@testable import NeuralNet
import Parallel
import SeededRandom
import Testing

@Suite struct OptimizationTests {
    static func parameters(_ values: [Float]) -> Parameters {
        let parameters = Parameters()
        _ = parameters.add(name: "p", shape: [values.count], values: values)
        return parameters
    }

    /// Two Adam steps worked out by hand with PyTorch's formulas.
    @Test func adamMatchesPyTorchsUpdate() {
        let parameters = Self.parameters([1, -2])
        let adam = Adam(parameters, learningRate: 0.1)
        parameters.gradients.pointer.update(from: [0.5, -1], count: 2)
        adam.update()
        // Step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g², so p -= lr * g / (|g| + 1e-8).
        #expect(abs(parameters.values[0] - 0.9) < 1e-6)
        #expect(abs(parameters.values[1] - -1.9) < 1e-6)
        parameters.gradients.pointer.update(from: [0.5, 3], count: 2)
        adam.update()
        // Step 2 for the second entry: m = 0.9*(-0.1) + 0.1*3 = 0.21, v = 0.999*0.001 + 0.001*9 = 0.009999,
        // m̂ = 0.21 / 0.19, v̂ = 0.009999 / 0.001999.
        let expected = -1.9 - 0.1 * (0.21 / 0.19) / ((0.009999 / 0.001999).squareRoot() + 1e-8)
        #expect(abs(Double(parameters.values[1]) - expected) < 1e-5)
        #expect(adam.step == 2)
    }

    @Test func adamMinimisesAQuadratic() {
        let parameters = Self.parameters([3, -4, 5])
        let adam = Adam(parameters, learningRate: 0.05)
        for _ in 0..<2000 {
            for i in 0..<3 { parameters.gradients[i] = 2 * parameters.values[i] }
            adam.update()
        }
        #expect(parameters.values.array.allSatisfy { abs($0) < 1e-2 })
    }

    @Test func clippingScalesAsPyTorch() {
        let parameters = Self.parameters([0, 0])
        parameters.gradients.pointer.update(from: [3, 4], count: 2)
        #expect(parameters.clipGradientNorm(1) == 5)
        #expect(abs(parameters.gradientNorm() - 1) < 1e-5)
        #expect(abs(parameters.gradients[0] - 0.6) < 1e-5)
        // Below the limit nothing changes.
        #expect(parameters.clipGradientNorm(10) < 10)
        #expect(abs(parameters.gradients[1] - 0.8) < 1e-5)
    }

    @Test func polyakAveraging() {
        let target = Self.parameters([0, 10])
        let source = Self.parameters([1, 0])
        target.blend(towards: source, tau: 0.005)
        #expect(abs(target.values[0] - 0.005) < 1e-7)
        #expect(abs(target.values[1] - 9.95) < 1e-5)
        target.copyValues(from: source)
        #expect(target.values.array == [1, 0])
    }

    /// The loops over all parameters give the same bits whether one thread runs them or a pool's
    /// threads share their parts (more values than a part holds, the last part short, two matrices).
    @Test(arguments: [2, 3])
    func parameterLoopsGiveTheSameBitsOnAPool(_ threads: Int) {
        func trained(pool: WorkerPool?) -> [[UInt32]] {
            var generator = SeededGenerator(seed: 5)
            let random = { (count: Int) in (0..<count).map { _ in Float(generator.uniform(-1, 1)) } }
            let parameters = Parameters(), other = Parameters()
            for network in [parameters, other] {
                _ = network.add(name: "w1", shape: [300, 70], values: random(21_000))
                _ = network.add(name: "b1", shape: [300], values: random(300))
                _ = network.add(name: "w2", shape: [9, 300], values: random(2_700))
            }
            let adam = Adam(parameters, learningRate: 0.01)
            for _ in 0..<3 {
                parameters.gradients.fill(.nan)
                parameters.zeroGradients(pool: pool)
                #expect(parameters.gradients.array.allSatisfy { $0 == 0 })
                let gradients = random(parameters.values.count)
                parameters.gradients.pointer.update(from: gradients, count: gradients.count)
                let norm = parameters.gradientNorm()
                #expect(parameters.gradientNorm(pool: pool) == norm)
                let exact = gradients.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(Double(norm) - exact) <= exact * 1e-7)
                let scale = 0.5 / (norm + 1e-6)
                #expect(parameters.clipGradientNorm(0.5, pool: pool) == norm)
                #expect(parameters.gradients.array == gradients.map { $0 * scale })
                adam.update(pool: pool)
                let before = other.values.array, source = parameters.values.array
                other.blend(towards: parameters, tau: 0.3, pool: pool)
                #expect(other.values.array == zip(before, source).map { $0 + 0.3 * ($1 - $0) })
            }
            // Wᵀ where the products read it, W itself where they do not (a build without libxsmm).
            let transposed = other.transposedWeights(pool: pool)
            for matrix in other.tensors where matrix.shape.count == 2 {
                let (rows, columns) = (matrix.shape[0], matrix.shape[1]), values = other.values(of: matrix)
                let position = { (index: Int) in
                    DenseProducts.needsTransposedWeights ? (index % columns) * rows + index / columns : index
                }
                #expect((0..<rows * columns).allSatisfy { transposed[matrix.offset + position($0)] == values[$0] })
            }
            return [parameters.values.array, parameters.gradients.array, adam.firstMoment.array, adam.secondMoment.array,
                    other.values.array, Array(UnsafeBufferPointer(start: transposed, count: other.values.count))]
                .map { $0.map(\.bitPattern) }
        }
        #expect(24_000 > Parameters.valuesPerPart)
        #expect(trained(pool: WorkerPool(threads: threads)) == trained(pool: nil))
    }

    /// Every tensor starts on a cache line; the optimizer's state is saved without the gaps (as
    /// before tensors were aligned, so older resume files load) and restored into place.
    @Test func tensorsStartOnCacheLinesAndStatesAreSavedWithoutTheGaps() throws {
        let parameters = Parameters()
        for (index, shape) in [[3, 5], [3], [1], [7, 2], [2]].enumerated() {
            let count = shape.reduce(1, *)
            _ = parameters.add(name: "t\(index)", shape: shape, values: (0..<count).map { Float(index * 100 + $0) })
        }
        #expect(parameters.tensors.allSatisfy { $0.offset % 16 == 0 })
        #expect(parameters.count == 15 + 3 + 1 + 14 + 2)
        #expect(parameters.tensors.flatMap { parameters.values(of: $0) } == parameters.packed(parameters.values))
        let adam = Adam(parameters, learningRate: 0.1)
        for index in 0..<parameters.values.count { parameters.gradients[index] = Float(index % 7) - 3 }
        adam.update()
        let (tensors, metadata) = adam.state(named: "opt")
        #expect(tensors.allSatisfy { $0.shape == [parameters.count] })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("adam-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafetensorsFile.write(tensors, metadata: metadata, to: url.path)
        let restored = Adam(parameters, learningRate: 0.1)
        try restored.restoreState(named: "opt", from: SafetensorsFile.read(contentsOf: url.path))
        for tensor in parameters.tensors {
            let range = tensor.offset ..< tensor.offset + tensor.count
            #expect(Array(restored.firstMoment.array[range]) == Array(adam.firstMoment.array[range]))
            #expect(Array(restored.secondMoment.array[range]) == Array(adam.secondMoment.array[range]))
        }
    }

    @Test func pytorchLinearInitialisationBounds() {
        var generator = SeededGenerator(seed: 0)
        let parameters = Parameters()
        let layer = Linear("l", inputs: 64, outputs: 32, parameters: parameters, generator: &generator)
        let weights = parameters.values(of: layer.weight)
        #expect(weights.allSatisfy { abs($0) <= 0.125 })
        #expect(weights.max()! > 0.12 && weights.min()! < -0.12)
        #expect(parameters.tensors.map(\.name) == ["l.weight", "l.bias"])
        #expect(layer.weight.shape == [32, 64])
    }

    /// Frequencies exp(-k ln(10000)/7) for dimension 16, sin then cos.
    @Test func sinusoidalEmbedding() {
        let embedding = SinusoidalEmbedding(dimension: 16)
        var output = [Float](repeating: 0, count: 16)
        output.withUnsafeMutableBufferPointer { embedding.embed(3, into: $0.baseAddress!) }
        for k in 0..<8 {
            let frequency = Foundation.exp(-Double(k) * Foundation.log(10000.0) / 7)
            #expect(abs(Double(output[k]) - Foundation.sin(3 * frequency)) < 1e-6)
            #expect(abs(Double(output[8 + k]) - Foundation.cos(3 * frequency)) < 1e-6)
        }
        // The table of the first steps gives the same bits as computing them.
        let tabled = SinusoidalEmbedding(dimension: 16, steps: 5)
        var fromTable = [Float](repeating: 0, count: 16)
        fromTable.withUnsafeMutableBufferPointer { tabled.embed(3, into: $0.baseAddress!) }
        #expect(fromTable.map(\.bitPattern) == output.map(\.bitPattern))
    }
}
