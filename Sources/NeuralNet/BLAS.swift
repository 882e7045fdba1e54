import CBLAS

/// Row-major single-precision matrix products through OpenBLAS.
public enum BLAS {
    /// C = alpha * op(A) * op(B) + beta * C, all row-major; op(A) is m × k, op(B) is k × n.
    @inline(__always)
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// OpenBLAS's own threads (one per core unless OPENBLAS_NUM_THREADS says otherwise). A product's
    /// rounding depends on this count, as on the product's shape: work whose numbers must not depend
    /// on the machine fixes it (acting runs on one).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Runs `body` with OpenBLAS on one thread and restores the count after: for products that
    /// threads of one's own make side by side, where OpenBLAS's threads would fight them for cores.
    public static func singleThreaded<Result>(_ body: () throws -> Result) rethrows -> Result {
        let saved = threads
        threads = 1
        defer { threads = saved }
        return try body()
    }
}
