import NumericKernels
@testable import NeuralNet
import SeededRandom
import Testing

/// The C kernels' products (`nk_dot_rows` for a thin side, `nk_product` for any shape) against their
/// definitions written out in Swift: the same bits on every vector unit, each result from its own row
/// or output alone, and within rounding of the exact sums.
@Suite(.serialized) struct ThinProductKernelTests {
    /// a b + c as the unit in use computes it: fused, or on x86-64's baseline rounded in turn.
    static func multiplyAdd(_ a: Float, _ b: Float, _ c: Float) -> Float {
        VectorUnit.fusesMultiplyAdd ? c.addingProduct(a, b) : a * b + c
    }

    /// The dot product as nk_dot_rows defines it: lane l adds the products of elements l, l + 16, ...
    /// in order, each added as the unit in use adds it (`multiplyAdd`), and the 16 lanes are summed by halves.
    static func dot(_ x: ArraySlice<Float>, _ w: ArraySlice<Float>) -> Float {
        var lanes = [Float](repeating: 0, count: 16)
        for (index, (a, b)) in zip(x, w).enumerated() { lanes[index % 16] = multiplyAdd(a, b, lanes[index % 16]) }
        while lanes.count > 1 {
            let half = lanes.count / 2
            lanes = (0..<half).map { lanes[$0] + lanes[$0 + half] }
        }
        return lanes[0]
    }

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(generator.uniform(-1, 1)) }
    }

    /// Every tiling the kernel has (four outputs, three, two rows of two, four rows of one) and
    /// lengths with and without a tail.
    static let dotShapes = [(rows: 9, length: 256, count: 3), (7, 256, 1), (5, 32, 2), (6, 30, 16), (3, 14, 5), (4, 17, 4),
                            (2, 3, 7), (1, 40, 1)]

    @Test(arguments: dotShapes)
    func dotRowsGivesItsDefinitionsBitsOnEveryUnit(shape: (rows: Int, length: Int, count: Int)) {
        let (rows, length, count) = shape
        let x = Self.values(rows * length, seed: 1), w = Self.values(count * length, seed: 2), start = Self.values(rows * count, seed: 3)
        for unit in VectorUnit.all {
            VectorUnit.onThisThread(unit) {
                for accumulate in [false, true] {
                    var y = start
                    nk_dot_rows(x, rows, length, w, count, &y, accumulate ? 1 : 0)
                    for r in 0..<rows {
                        for j in 0..<count {
                            let sum = Self.dot(x[r * length ..< (r + 1) * length], w[j * length ..< (j + 1) * length])
                            let expected = (accumulate ? start[r * count + j] : 0) + sum
                            #expect(y[r * count + j].bitPattern == expected.bitPattern,
                                    "\(unit), \(shape), accumulate \(accumulate): y[\(r), \(j)] = \(y[r * count + j]), not \(expected)")
                        }
                    }
                }
            }
        }
    }

    @Test func aRowAloneGetsTheNumbersItGetsAmongOthers() {
        let rows = 11, length = 256
        for count in 1...5 {
            let x = Self.values(rows * length, seed: 4), w = Self.values(count * length, seed: 5)
            var together = [Float](repeating: 0, count: rows * count)
            nk_dot_rows(x, rows, length, w, count, &together, 0)
            for r in 0..<rows {
                var alone = [Float](repeating: 0, count: count)
                Array(x[r * length ..< (r + 1) * length]).withUnsafeBufferPointer {
                    nk_dot_rows($0.baseAddress!, 1, length, w, count, &alone, 0)
                }
                #expect(alone == Array(together[r * count ..< (r + 1) * count]), "\(count) outputs, row \(r)")
            }
        }
    }

    /// nk_product's definition: c[i, j] = (accumulate ? c[i, j] : 0) + Σ_k a[i · ai + k · ak] b[k · ldb + j],
    /// the sum from zero over k in order, each product added as the unit in use adds it.
    static func product(_ a: [Float], ai: Int, ak: Int, rows: Int, depth: Int, _ b: [Float], ldb: Int, columns: Int,
                        _ c: [Float], ldc: Int, accumulate: Bool) -> [Float] {
        var c = c
        for i in 0..<rows {
            for j in 0..<columns {
                var sum: Float = 0
                for k in 0..<depth { sum = multiplyAdd(a[i * ai + k * ak], b[k * ldb + j], sum) }
                c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum
            }
        }
        return c
    }

    /// Rows around the tiles' 8, 6 and 4 (and fewer than any), columns with and without AVX-512's tiles
    /// of 32 and a tail of the 16-lane vectors, depths 30 and 14 (the first layers' inputs at hopper's
    /// dimensions) and 1.
    static let productShapes = [(rows: 19, depth: 30, columns: 256), (8, 256, 33), (5, 14, 3), (1, 7, 16), (13, 1, 20),
                                (64, 256, 30), (3, 37, 14)]

    /// Both layouts of a: row-major (a forward pass, an input gradient) and transposed (a weight gradient,
    /// which reads dy's columns). b holds exactly what the product reads and c has columns it must not
    /// touch, so a read past b or a write past a row would show.
    @Test(arguments: productShapes)
    func productGivesItsDefinitionsBitsOnEveryUnit(shape: (rows: Int, depth: Int, columns: Int)) {
        let (rows, depth, columns) = shape
        let ldb = columns + 5, ldc = columns + 3
        let b = Self.values((depth - 1) * ldb + columns, seed: 6), start = Self.values(rows * ldc, seed: 8)
        let rowMajor = (a: Self.values(rows * depth, seed: 7), ai: depth, ak: 1)
        let transposed = (a: Self.values(depth * (rows + 2), seed: 7), ai: 1, ak: rows + 2)
        for unit in VectorUnit.all {
            VectorUnit.onThisThread(unit) {
                for (a, ai, ak) in [rowMajor, transposed] {
                    for accumulate in [false, true] {
                        let expected = Self.product(a, ai: ai, ak: ak, rows: rows, depth: depth, b, ldb: ldb, columns: columns,
                                                    start, ldc: ldc, accumulate: accumulate)
                        var c = start
                        nk_product(a, ai, ak, rows, depth, b, ldb, columns, &c, ldc, accumulate ? 1 : 0)
                        #expect(c.map(\.bitPattern) == expected.map(\.bitPattern), "\(unit), \(shape), ai \(ai), accumulate \(accumulate)")
                    }
                }
            }
        }
    }

    @Test func aProductsRowAloneGetsTheNumbersItGetsAmongOthers() {
        let rows = 21, depth = 256, columns = 40
        let a = Self.values(rows * depth, seed: 14), b = Self.values(depth * columns, seed: 15)
        var together = [Float](repeating: 0, count: rows * columns)
        nk_product(a, depth, 1, rows, depth, b, columns, columns, &together, columns, 0)
        for i in 0..<rows {
            var alone = [Float](repeating: 0, count: columns)
            Array(a[i * depth ..< (i + 1) * depth]).withUnsafeBufferPointer {
                nk_product($0.baseAddress!, depth, 1, 1, depth, b, columns, columns, &alone, columns, 0)
            }
            #expect(alone == Array(together[i * columns ..< (i + 1) * columns]), "row \(i)")
        }
    }

    /// Bias gradients: a whole layer, a part of one starting mid-row (as a pool's output part does), ragged widths.
    @Test(arguments: [(rows: 256, count: 256, ldg: 256), (37, 17, 40), (5, 3, 3), (1, 33, 35)])
    func columnSumsGiveTheRowLoopsBitsOnEveryUnit(shape: (rows: Int, count: Int, ldg: Int)) {
        let (rows, count, ldg) = shape
        let g = Self.values(rows * ldg, seed: 12), start = Self.values(count, seed: 13)
        let offset = ldg - count
        var expected = start
        for r in 0..<rows {
            for j in 0..<count { expected[j] += g[r * ldg + offset + j] }
        }
        for unit in VectorUnit.all {
            VectorUnit.onThisThread(unit) {
                var sums = start
                g.withUnsafeBufferPointer { nk_add_column_sums($0.baseAddress! + offset, ldg, rows, count, &sums) }
                #expect(sums.map(\.bitPattern) == expected.map(\.bitPattern), "\(unit), \(shape)")
            }
        }
    }

    /// The layout the thin input gradient and libxsmm's forward product read (`Parameters.transposedWeights`):
    /// whole 8 × 8 blocks, a ragged edge on either side, both, and neither.
    @Test(arguments: [(8, 8), (256, 30), (3, 256), (13, 17), (16, 9), (1, 1)])
    func transposeCopiesEveryElementAcross(shape: (rows: Int, columns: Int)) {
        let (rows, columns) = shape
        let source = Self.values(rows * columns, seed: 11)
        var target = [Float](repeating: .nan, count: rows * columns)
        nk_transpose(source, rows, columns, &target)
        let expected = (0..<columns).flatMap { c in (0..<rows).map { r in source[r * columns + c] } }
        #expect(target == expected, "\(shape)")
    }

    @Test func dotRowsIsWithinRoundingOfTheExactSums() {
        let rows = 6, length = 256, count = 3
        let x = Self.values(rows * length, seed: 9), w = Self.values(count * length, seed: 10)
        var y = [Float](repeating: 0, count: rows * count)
        nk_dot_rows(x, rows, length, w, count, &y, 0)
        for r in 0..<rows {
            for j in 0..<count {
                let exact = (0..<length).reduce(0.0) { $0 + Double(x[r * length + $1]) * Double(w[j * length + $1]) }
                let magnitude = (0..<length).reduce(0.0) { $0 + abs(Double(x[r * length + $1]) * Double(w[j * length + $1])) }
                #expect(abs(Double(y[r * count + j]) - exact) <= 1e-6 * magnitude, "y[\(r), \(j)]")
            }
        }
    }
}
