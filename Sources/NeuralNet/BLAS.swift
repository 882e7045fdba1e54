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

    /// OpenBLAS's own threads. Each output element is computed by one thread in the same order
    /// whatever the count, so results do not depend on it.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
