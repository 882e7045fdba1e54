import Foundation
import Synchronization
@testable import NeuralNet
import NumericKernels
import SeededRandom
import Testing

/// The C kernels against the formulas written out in Swift, one value at a time: every vector unit
/// this CPU has must give the bits of the scalar formula, so that a number never depends on the machine.
@Suite(.serialized) struct ElementwiseKernelTests {
    /// Mish written out in Swift: the same operations in the same order, with the kernels' multiply-adds
    /// fused or, as x86-64's baseline has them, rounded in turn.
    struct Reference {
        let fused: Bool

        /// The unit in use's.
        static var current: Reference { Reference(fused: VectorUnit.fusesMultiplyAdd) }

        func fma(_ a: Float, _ b: Float, _ c: Float) -> Float { fused ? c.addingProduct(a, b) : a * b + c }

        func exponential(_ x: Float) -> Float {
            let x = min(max(x, -87), 88)
            let shifted = fma(x, 1.442_695_04, 12_582_912)
            let n = shifted - 12_582_912
            let r = fma(n, 2.121_944_4e-4, fma(n, -0.693_359_375, x))
            var p: Float = 1.987_569_15e-4
            for coefficient: Float in [1.398_199_95e-3, 8.333_451_9e-3, 4.166_579_59e-2, 1.666_666_55e-1, 5.000_000_12e-1] {
                p = fma(p, r, coefficient)
            }
            let powerOfTwo = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23)
            return (fma(p, r * r, r) + 1) * powerOfTwo
        }

        func mish(_ x: Float) -> Float {
            let w = exponential(min(x, 20))
            let n = fma(w, w, w + w)
            return x * (n / (n + 2))
        }

        func mishDerivative(_ x: Float) -> Float {
            let w = exponential(min(x, 20))
            let n = fma(w, w, w + w), d = n + 2
            return fma(x, 4 * fma(w, w, w) / (d * d), n / d)
        }
    }

    /// A sweep over the range activations take, the special values, and random bit patterns; an odd
    /// count, so that the tails of the vector loops are exercised too.
    static let inputs: [Float] = {
        var values = Array(stride(from: Float(-100), through: 100, by: 0.0071))
        values += [0, -0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude,
                   -87, 88, 20, -20, 87.9, -86.9, 19.999]
        var generator = SeededGenerator(seed: 3)
        values += (0..<20_001).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())) }
        return values
    }()

    static func sameBits(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    @Test func everyVectorUnitGivesTheScalarFormulasBits() {
        let x = Self.inputs
        // One row as wide as the sweep, under a bias of -0, which leaves every value (-0 included) as it is.
        let noBias = [Float](repeating: -0.0, count: x.count)
        var tested: [String] = []
        for unit in VectorUnit.all {
            VectorUnit.onThisThread(unit) {
                tested.append(unit)
                let reference = Reference.current
                var y = [Float](repeating: 0, count: x.count), e = y, relu = y, recorded = y, reluRecorded = y
                var inPlace = x, reluInPlace = x, derivative = x, reluInput = x
                var gradient = x.indices.map { Float($0 % 7) - 3 }, reluGradient = gradient
                nk_mish(x, noBias, x.count, 1, &y)
                nk_mish(inPlace, noBias, x.count, 1, &inPlace)
                nk_mish_recording(derivative, noBias, x.count, 1, &recorded, &derivative)
                nk_exponential(x, &e, x.count)
                nk_relu(x, noBias, x.count, 1, &relu)
                nk_relu(reluInPlace, noBias, x.count, 1, &reluInPlace)
                nk_relu_recording(reluInput, noBias, x.count, 1, &reluRecorded, &reluInput)
                let incoming = gradient
                nk_multiply(derivative, &gradient, x.count)
                nk_relu_backward(x, &reluGradient, x.count)
                for i in x.indices {
                    #expect(Self.sameBits(y[i], reference.mish(x[i])), "\(unit): mish(\(x[i])) = \(y[i])")
                    #expect(Self.sameBits(inPlace[i], y[i]) && Self.sameBits(recorded[i], y[i]), "\(unit): mish of \(x[i]) in place, with its derivative")
                    #expect(Self.sameBits(e[i], reference.exponential(x[i])), "\(unit): exp(\(x[i])) = \(e[i])")
                    #expect(Self.sameBits(derivative[i], reference.mishDerivative(x[i])), "\(unit): mish'(\(x[i])) = \(derivative[i])")
                    #expect(Self.sameBits(gradient[i], incoming[i] * reference.mishDerivative(x[i])), "\(unit): gradient past mish at \(x[i])")
                    #expect(Self.sameBits(relu[i], max(x[i], 0)) && Self.sameBits(reluInPlace[i], relu[i])
                            && Self.sameBits(reluRecorded[i], relu[i]) && Self.sameBits(reluInput[i], x[i]), "\(unit): relu(\(x[i]))")
                    let kept = x[i] <= 0 ? 0 : incoming[i]
                    #expect(Self.sameBits(reluGradient[i], kept), "\(unit): relu'(\(x[i])) = \(reluGradient[i])")
                }
            }
        }
        #expect(tested.first == "baseline" && tested.last == VectorUnit.current, "units tested: \(tested)")
    }

    /// A layer's bias added row by row, inside the activation's pass or alone: widths below, at and past
    /// a vector, with a tail, and nothing written past the rows.
    @Test func everyVectorUnitAddsTheBiasToEveryRow() {
        var generator = SeededGenerator(seed: 21)
        for width in [1, 16, 37, 256] {
            let rows = 5, count = rows * width
            let x = (0..<count).map { _ in Float(generator.uniform(-6, 6)) }, bias = (0..<width).map { _ in Float(generator.uniform(-1, 1)) }
            let shifted = x.indices.map { x[$0] + bias[$0 % width] }
            for unit in VectorUnit.all {
                VectorUnit.onThisThread(unit) {
                    let reference = Reference.current
                    let untouched = [Float](repeating: .nan, count: count + 1)
                    var mish = untouched, relu = untouched, value = untouched, reluValue = untouched, added = x + [.nan]
                    var derivative = x, reluInput = x
                    nk_mish(x, bias, width, rows, &mish)
                    nk_relu(x, bias, width, rows, &relu)
                    nk_mish_recording(derivative, bias, width, rows, &value, &derivative)
                    nk_relu_recording(reluInput, bias, width, rows, &reluValue, &reluInput)
                    nk_add_row(bias, width, rows, &added)
                    let context = "\(unit), width \(width)"
                    #expect(mish.prefix(count).map(\.bitPattern) == shifted.map { reference.mish($0).bitPattern }, "\(context): mish")
                    #expect(value.prefix(count).map(\.bitPattern) == mish.prefix(count).map(\.bitPattern), "\(context): recorded mish")
                    #expect(derivative.map(\.bitPattern) == shifted.map { reference.mishDerivative($0).bitPattern }, "\(context): mish'")
                    #expect(Array(relu.prefix(count)) == shifted.map { max($0, 0) } && Array(reluValue.prefix(count)) == Array(relu.prefix(count)),
                            "\(context): relu")
                    #expect(reluInput == shifted && Array(added.prefix(count)) == shifted, "\(context): the input with its bias")
                    #expect([mish, relu, value, reluValue, added].allSatisfy { $0.last!.isNaN }, "\(context): wrote past the rows")
                }
            }
        }
    }

    /// Adam's step as the Swift loop before the kernel wrote it, on every vector unit.
    @Test func everyVectorUnitGivesAdamsLoopsBits() {
        let count = 1001
        let start = (0..<count).map { Float($0 % 17) * 0.1 - 0.8 }, gradients = (0..<count).map { Float($0 % 13) * 0.03 - 0.2 }
        let (beta1, beta2, stepSize, correction, epsilon): (Float, Float, Float, Float, Float) = (0.9, 0.999, 3e-4, 0.0447, 1e-8)
        var p = start, m = gradients.map { $0 * 0.5 }, v = gradients.map { $0 * $0 }
        for i in 0..<count {
            m[i] = beta1 * m[i] + (1 - beta1) * gradients[i]
            v[i] = beta2 * v[i] + (1 - beta2) * gradients[i] * gradients[i]
            p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction + epsilon)
        }
        for unit in VectorUnit.all {
            VectorUnit.onThisThread(unit) {
                var kp = start, km = gradients.map { $0 * 0.5 }, kv = gradients.map { $0 * $0 }
                nk_adam(&kp, gradients, &km, &kv, count, beta1, beta2, stepSize, correction, epsilon)
                #expect(kp.map(\.bitPattern) == p.map(\.bitPattern) && km == m && kv == v, "\(unit)")
            }
        }
    }

    /// The sum of squares in 16 lanes, written out in Swift: counts below, at and past a vector, with a tail.
    @Test func everyVectorUnitGivesTheLanesSumOfSquares() {
        var generator = SeededGenerator(seed: 9)
        for count in [0, 1, 15, 16, 17, 1_000, 16_384] {
            let x = (0..<count).map { _ in Float(generator.uniform(-3, 3)) }
            var lanes = [Double](repeating: 0, count: 16)
            for (i, value) in x.enumerated() { lanes[i % 16] += Double(value) * Double(value) }
            let expected = lanes.reduce(0, +)
            for unit in VectorUnit.all {
                VectorUnit.onThisThread(unit) {
                    #expect(nk_sum_of_squares(x, count).bitPattern == expected.bitPattern, "\(unit), \(count) values")
                }
            }
        }
    }

    /// Large blocks from malloc start 16 bytes into a page, which split every other 64-byte vector
    /// between two cache lines (a training step was 12% slower for it on AVX-512).
    @Test func buffersStartOnACacheLine() {
        for count in [1, 17, 4_096, 1 << 20] {
            let buffers = (0..<4).map { _ in FloatBuffer(count: count) }
            for buffer in buffers {
                #expect(Int(bitPattern: buffer.pointer) % 64 == 0, "\(count) floats")
                #expect(buffer.array.allSatisfy { $0 == 0 })
            }
        }
    }

    @Test func unknownUnitsAreRefused() {
        let before = VectorUnit.current
        #expect(!VectorUnit.use("sse9") && !VectorUnit.onThisThread("sse9") {})
        #expect(VectorUnit.current == before)
    }

    /// A unit chosen for one thread leaves the others' as it was: the kernel tests choose units while
    /// other tests run.
    @Test func aUnitChosenOnOneThreadStaysThere() {
        let processUnit = VectorUnit.current
        let elsewhere = Mutex("")
        VectorUnit.onThisThread("baseline") {
            #expect(VectorUnit.current == "baseline")
            let thread = Thread { elsewhere.withLock { $0 = VectorUnit.current } }
            thread.start()
            while !thread.isFinished { usleep(1000) }
        }
        #expect(elsewhere.withLock { $0 } == processUnit && VectorUnit.current == processUnit)
    }
}
