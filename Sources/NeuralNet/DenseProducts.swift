import Foundation
import NumericKernels
#if canImport(CXSMM)
import CXSMM
import SeededRandom
import Synchronization
#endif

/// The three products of a dense layer, row-major, with W stored [out, in] as PyTorch stores it:
/// y = x Wᵀ (forward), dx = dy W (input gradient), dW += dyᵀ x (weight gradient).
///
/// Every backend but OpenBLAS is row-independent: each output row comes from its own input row by the
/// same operations whatever the product's size, so a row's result does not depend on which rows share
/// the product, how the rows are split between threads or how many threads there are. On x86-64 Linux
/// the products run on libxsmm's JIT kernels, made for these small shapes; shapes with a thin side,
/// which libxsmm runs slowly or whose kernels would not be row-independent, run on `nk_dot_rows` and
/// `nk_product` (`Thin`). Elsewhere (arm64, macOS) every product runs on those two kernels of
/// `NumericKernels`, row-independent by construction.
public enum DenseProducts {
    public enum Backend: String, Sendable {
        /// libxsmm's kernels, with the thin shapes on NumericKernels' (x86-64 Linux).
        case libxsmm
        /// NumericKernels' products alone: every build without libxsmm, and machines libxsmm writes no
        /// kernels for.
        case portable
        /// OpenBLAS, which rounds a row differently in products of other shapes and on other thread
        /// counts: only where `DIFFUSION_QL_DENSE_PRODUCTS=openblas` asks for it, to see what row
        /// independence buys.
        case openBLAS
    }

    /// The backend of this process: libxsmm where it was linked and writes kernels, the portable kernels
    /// elsewhere. `DIFFUSION_QL_DENSE_PRODUCTS` may name another: `portable` (to try the fallback on
    /// x86-64 Linux) or `openblas`.
    public static let backend: Backend = {
        switch ProcessInfo.processInfo.environment["DIFFUSION_QL_DENSE_PRODUCTS"] {
        case "openblas": .openBLAS
        case "portable": .portable
        default: libxsmmWritesKernels ? .libxsmm : .portable
        }
    }()

    /// Whether a row's result depends on that row alone (see above).
    public static var isRowIndependent: Bool { backend != .openBLAS }

    /// The arithmetic of the products here, in words: "libxsmm AVX-512", "libxsmm AVX2", "portable",
    /// "OpenBLAS", or one of them "without FMA" where multiply-adds are rounded twice (a CPU without
    /// AVX2 and FMA, or the C kernels forced onto x86-64's baseline). Each rounds some sums differently
    /// from the others, so a network's outputs, and the episodes and datasets made from them, repeat to
    /// the bit on machines of the same arithmetic only.
    public static var arithmetic: String {
        let fuses = nk_vector_unit_fuses() != 0
        switch backend {
        case .openBLAS: return fuses ? "OpenBLAS" : "OpenBLAS without FMA"
        case .portable: return fuses ? "portable" : "portable without FMA"
        case .libxsmm:
            guard fuses && libxsmmTargetHasAVX2 else { return "libxsmm without FMA" }
            return libxsmmTargetHasAVX512 ? "libxsmm AVX-512" : "libxsmm AVX2"
        }
    }

    /// What to tell someone resuming the run at `path` from a state saved with the products of `saved`
    /// (a Slurm job requeued onto another kind of node, say); nil when that is this machine's arithmetic
    /// or was not recorded. Such a run goes on, but no longer repeats a run never stopped to the bit.
    public static func resumeWarning(path: String, savedWith saved: String?) -> String? {
        guard let saved, saved != arithmetic else { return nil }
        return "warning: \(path) was saved with products of \(saved) and resumes with \(arithmetic): it goes on, "
            + "but no longer repeats a run never stopped to the bit (keep a run on machines of one kind)"
    }

    // What libxsmm does on this machine; false throughout in a build without it.
    #if canImport(CXSMM)
    /// Whether libxsmm writes kernels here. It writes none for a CPU without SSE4.2 (made before about
    /// 2008), under `LIBXSMM_TARGET=generic`, or where the process may not map memory it can execute.
    static var libxsmmWritesKernels: Bool { dql_xsmm_writes_kernels() != 0 }
    /// Whether the kernels libxsmm writes here use AVX-512.
    static let libxsmmTargetHasAVX512 = dql_xsmm_target_has_avx512() != 0
    /// Whether they use AVX2 with fused multiply-adds, or AVX-512.
    static let libxsmmTargetHasAVX2 = dql_xsmm_target_has_avx2() != 0
    #else
    static let libxsmmWritesKernels = false
    static let libxsmmTargetHasAVX512 = false
    static let libxsmmTargetHasAVX2 = false
    #endif

    /// Whether the products read Wᵀ (`Parameters.transposedWeights`): libxsmm has no kernel for a
    /// transposed left operand, `nk_product` reads rows of its right one, and the thin input gradient
    /// reads columns of W as rows.
    static var needsTransposedWeights: Bool { backend != .openBLAS }

    /// Where the portable backend computes a product as dot products (`nk_dot_rows`): the outputs of
    /// a row are fewer than this, so that `nk_product`'s vectors of 16 columns would be mostly padding.
    static let portableThinSide = 8

    /// A layer's weights in the layouts the products read.
    public struct Weights {
        /// W [out, in].
        let standard: UnsafePointer<Float>
        /// Wᵀ [in, out] where `needsTransposedWeights`, W otherwise.
        let transposed: UnsafePointer<Float>

        public init(standard: UnsafePointer<Float>, transposed: UnsafePointer<Float>) {
            self.standard = standard
            self.transposed = transposed
        }
    }

    /// y (rows × out) = x (rows × in) Wᵀ.
    @inline(__always)
    public static func forward(_ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int, weights: Weights,
                               into y: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        switch backend {
        case .libxsmm:
            if Thin.runs(m: outputs, k: inputs, ldb: inputs, beta: 0, transposeB: false) {
                nk_dot_rows(x, rows, inputs, weights.standard, outputs, y, 0)
            } else {
                // Column-major: yᵀ (out × rows) = Wᵀᵀ (out × in) · xᵀ (in × rows).
                run(m: outputs, n: rows, k: inputs, a: weights.transposed, lda: outputs, b: x, ldb: inputs, c: y,
                    ldc: outputs, beta: 0, transposeB: false)
            }
        case .portable:
            portableProduct(x, rows: rows, depth: inputs, width: outputs, b: weights.transposed, bTransposed: weights.standard,
                            into: y)
        case .openBLAS:
            BLAS.gemm(transposeB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: weights.standard, ldb: inputs,
                      beta: 0, c: y, ldc: outputs)
        }
    }

    /// dx (rows × in) = dy (rows × out) W.
    @inline(__always)
    static func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int, weights: Weights,
                              into dx: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        switch backend {
        case .libxsmm:
            if Thin.runs(m: inputs, k: outputs, ldb: outputs, beta: 0, transposeB: false) {
                // dx[r, i] = dy_r · (column i of W, a row of Wᵀ).
                nk_dot_rows(dy, rows, outputs, weights.transposed, inputs, dx, 0)
            } else {
                // Column-major: dxᵀ (in × rows) = Wᵀ (in × out, W's own memory) · dyᵀ (out × rows).
                run(m: inputs, n: rows, k: outputs, a: weights.standard, lda: inputs, b: dy, ldb: outputs, c: dx,
                    ldc: inputs, beta: 0, transposeB: false)
            }
        case .portable:
            portableProduct(dy, rows: rows, depth: outputs, width: inputs, b: weights.standard, bTransposed: weights.transposed,
                            into: dx)
        case .openBLAS:
            BLAS.gemm(m: rows, n: inputs, k: outputs, a: dy, lda: outputs, b: weights.standard, ldb: inputs, beta: 0, c: dx,
                      ldc: inputs)
        }
    }

    /// dW[first ..< first + count] += dy[:, first ..< first + count]ᵀ x: the weight gradient of `count`
    /// outputs from `first` on, summed over all `rows` (dy is rows × out, x rows × in, dW out × in).
    @inline(__always)
    static func weightGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int,
                               first: Int, count: Int, into dW: UnsafeMutablePointer<Float>) {
        guard rows > 0, count > 0 else { return }
        switch backend {
        case .libxsmm:
            if Thin.runs(m: inputs, k: rows, ldb: outputs, beta: 1, transposeB: true) {
                accumulateWeightGradient(dy, x, rows: rows, inputs: inputs, outputs: outputs, first: first, count: count, into: dW)
            } else {
                // Column-major: dWᵀ (in × count) += xᵀ (in × rows) · (dy's columns, count × rows)ᵀ.
                run(m: inputs, n: count, k: rows, a: x, lda: inputs, b: dy + first, ldb: outputs, c: dW + first * inputs,
                    ldc: inputs, beta: 1, transposeB: true)
            }
        case .portable:
            accumulateWeightGradient(dy, x, rows: rows, inputs: inputs, outputs: outputs, first: first, count: count, into: dW)
        case .openBLAS:
            BLAS.gemm(transposeA: true, m: count, n: inputs, k: rows, a: dy + first, lda: outputs, b: x, ldb: inputs,
                      beta: 1, c: dW + first * inputs, ldc: inputs)
        }
    }

    /// y (rows × width) = x (rows × depth) B on the portable kernels, given B [depth, width] and Bᵀ [width,
    /// depth]: as dot products of x's rows with Bᵀ's where the width is thin (`portableThinSide`).
    @inline(__always)
    private static func portableProduct(_ x: UnsafePointer<Float>, rows: Int, depth: Int, width: Int, b: UnsafePointer<Float>,
                                        bTransposed: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        if width < portableThinSide {
            nk_dot_rows(x, rows, depth, bTransposed, width, y, 0)
        } else {
            nk_product(x, depth, 1, rows, depth, b, width, width, y, width, 0)
        }
    }

    /// `weightGradient` on `nk_product`: a is dy's columns read as rows (a[i + k · outputs] is dy's
    /// column first + i, row k).
    @inline(__always)
    private static func accumulateWeightGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, inputs: Int,
                                                 outputs: Int, first: Int, count: Int, into dW: UnsafeMutablePointer<Float>) {
        nk_product(dy + first, 1, outputs, count, rows, x, inputs, inputs, dW + first * inputs, inputs, 1)
    }

    #if canImport(CXSMM)
    /// One product on libxsmm, of a shape that `Thin` leaves to it. When libxsmm has no kernel for the
    /// whole width, the halves run alone.
    private static func run(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, transposeB: Bool) {
        if let kernel = dql_xsmm_kernel(Int32(m), Int32(n), Int32(k), Int32(lda), Int32(ldb), Int32(ldc), beta, transposeB ? 1 : 0) {
            dql_xsmm_run(kernel, a, b, c)
            return
        }
        precondition(n > 1, "libxsmm has no kernel for \(m) × \(n) × \(k) (lda \(lda), ldb \(ldb), ldc \(ldc))")
        // Column j of op(B) starts at b + j * ldb, or at b + j when B is transposed.
        let half = n / 2, columnStride = transposeB ? 1 : ldb
        run(m: m, n: half, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, beta: beta, transposeB: transposeB)
        run(m: m, n: n - half, k: k, a: a, lda: lda, b: b + half * columnStride, ldb: ldb, c: c + half * ldc,
            ldc: ldc, beta: beta, transposeB: transposeB)
    }

    /// Which products leave libxsmm for the thin kernels: those whose column-major C has fewer than 8
    /// rows (m), those whose m is not a multiple of 8 where libxsmm targets a unit without AVX-512
    /// (its kernels then finish each column with scalar code, at a third of the speed or less), and
    /// those whose kernel would give a column different numbers beside others than alone
    /// (`ColumnSafety`: on AVX-512, m from 8 to 16, among others).
    enum Thin {
        static func runs(m: Int, k: Int, ldb: Int, beta: Float, transposeB: Bool) -> Bool {
            m < 8 || (!libxsmmTargetHasAVX512 && m % 8 != 0)
                || !ColumnSafety.isSafe(m: m, k: k, ldb: ldb, beta: beta, transposeB: transposeB)
        }
    }

    /// Whether libxsmm gives every column of C the same numbers whatever the width n of the product,
    /// found once per shape by trying: random operands, each column computed alone, then in products
    /// of every width from 2 to 64 (the parts of `MLP` are at most that wide). The answer depends on
    /// the kernels libxsmm writes for this CPU: on AVX-512, m = 2 is safe at every width but 9 to 11.
    enum ColumnSafety {
        private struct Shape: Hashable {
            let m: Int, k: Int, ldb: Int, beta: Float, transposeB: Bool
        }

        private static let known = Mutex<[Shape: Bool]>([:])

        static func isSafe(m: Int, k: Int, ldb: Int, beta: Float, transposeB: Bool) -> Bool {
            let shape = Shape(m: m, k: k, ldb: ldb, beta: beta, transposeB: transposeB)
            if let safe = known.withLock({ $0[shape] }) { return safe }
            let safe = probe(shape)
            known.withLock { $0[shape] = safe }
            return safe
        }

        private static func probe(_ shape: Shape) -> Bool {
            // A transposed B holds ldb columns (the layer's outputs); the others are k long, ldb apart.
            let m = shape.m, k = shape.k, columns = shape.transposeB ? min(64, shape.ldb) : 64
            guard columns > 1 else { return true }
            var generator = SeededGenerator(seed: 17)
            let a = (0..<m * k).map { _ in Float(generator.uniform(-1, 1)) }
            let b = (0..<shape.ldb * (shape.transposeB ? k : columns)).map { _ in Float(generator.uniform(-1, 1)) }
            let columnStride = shape.transposeB ? 1 : shape.ldb
            func product(width: Int) -> [Float] {
                var c = [Float](repeating: 0.5, count: m * columns)
                guard let kernel = dql_xsmm_kernel(Int32(m), Int32(width), Int32(k), Int32(m), Int32(shape.ldb), Int32(m), shape.beta,
                                                   shape.transposeB ? 1 : 0) else { return [] }
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            for first in stride(from: 0, through: columns - width, by: width) {
                                dql_xsmm_run(kernel, a.baseAddress!, b.baseAddress! + first * columnStride,
                                             c.baseAddress! + first * m)
                            }
                        }
                    }
                }
                return c
            }
            let alone = product(width: 1)
            return (2...columns).allSatisfy { width in
                let wide = product(width: width)
                let covered = columns / width * width * m
                return zip(wide.prefix(covered), alone.prefix(covered)).allSatisfy { $0.bitPattern == $1.bitPattern }
            }
        }
    }
    #else
    private static func run(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, transposeB: Bool) {
        fatalError("this build has no libxsmm")
    }

    enum Thin {
        static func runs(m: Int, k: Int, ldb: Int, beta: Float, transposeB: Bool) -> Bool { fatalError("this build has no libxsmm") }
    }
    #endif
}
