import GradientCheck
import NeuralNet
import Parallel
import SeededRandom
import Testing

/// With row-independent products (libxsmm's or the portable kernels) a network gives a row the same bits whether it is computed alone, beside others, in
/// passes of any size, or in a pass whose parts several threads share. (These fail with
/// DIFFUSION_QL_DENSE_PRODUCTS=openblas: OpenBLAS rounds a row by the product's shape.)
@Suite
struct RowIndependenceTests {
    static let sizes: [[Int]] = [[22, 32, 32, 32, 2], [6, 32, 32, 32, 1], [4, 16, 16, 2], [6, 16, 16, 1], [30, 256, 256, 3], [14, 256, 256, 1], [37, 64, 8], [16, 32, 16]]

    /// A Mish network of these layer sizes with seeded weights.
    static func network(_ sizes: [Int]) -> (MLP, Parameters) {
        var generator = SeededGenerator(seed: 8)
        let parameters = Parameters()
        let network = MLP(sizes: sizes, names: (1..<sizes.count).map { "layer\($0)" }, activation: .mish,
                          parameters: parameters, generator: &generator)
        return (network, parameters)
    }

    @Test(arguments: sizes)
    func aRowsOutputDoesNotDependOnTheRowsBesideIt(_ sizes: [Int]) {
        let rows = 150
        let (network, parameters) = Self.network(sizes)
        let input = GradientCheck.randomValues(rows * sizes[0], seed: 9)
        let batchTape = MLPTape(network, capacity: rows, pool: WorkerPool(threads: 3))
        let batch = Array(UnsafeBufferPointer(start: network.forward(input, rows: rows, tape: batchTape, parameters: parameters),
                                              count: rows * network.outputs))
        // Alone, then in passes of other sizes (their last parts 11, 9, 10 and 13 rows wide).
        for chunks in [Array(repeating: 1, count: rows), [75, 11, 9, 10, 45]] {
            let chunkTape = MLPTape(network, capacity: rows)
            var differing: [Int] = [], first = 0
            for size in chunks {
                let output = network.forward(Array(input[first * sizes[0] ..< (first + size) * sizes[0]]), rows: size,
                                             tape: chunkTape, parameters: parameters)
                for row in 0..<size {
                    for j in 0..<network.outputs
                    where output[row * network.outputs + j].bitPattern != batch[(first + row) * network.outputs + j].bitPattern {
                        differing.append(first + row)
                    }
                }
                first += size
            }
            #expect(differing.isEmpty, "\(sizes), chunks \(chunks.prefix(5)): rows \(differing.prefix(10)) differ")
        }
    }

    /// A pass that does not record keeps its hidden layers in per-thread scratch, reused part after
    /// part; it must give the recording pass's bits on any number of threads.
    @Test(arguments: sizes)
    func aPassThatDoesNotRecordGivesTheRecordingPassesBits(_ sizes: [Int]) {
        let rows = 150
        let (network, parameters) = Self.network(sizes)
        let input = GradientCheck.randomValues(rows * sizes[0], seed: 10)
        func pass(threads: Int, recording: Bool) -> [UInt32] {
            let tape = MLPTape(network, capacity: rows, pool: threads > 1 ? WorkerPool(threads: threads) : nil)
            let output = network.forward(input, rows: rows, tape: tape, parameters: parameters, recording: recording)
            return (0..<rows * network.outputs).map { output[$0].bitPattern }
        }
        let recorded = pass(threads: 3, recording: true)
        for threads in [1, 2, 3] {
            #expect(pass(threads: threads, recording: false) == recorded, "\(sizes), \(threads) threads")
        }
    }
}
