import CBLAS
import Foundation

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

    /// The kernel family OpenBLAS picked for this CPU at load time (e.g. "Haswell", "SkylakeX"). A CPU
    /// newer than the library gets an old baseline ("Prescott": SSE3), and its sgemm is then no ceiling;
    /// `OPENBLAS_CORETYPE` names the family to use instead.
    public static var kernelName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's thread count is one setting for the whole process, and a product's rounding depends
    /// on it (as on the product's shape). Work whose numbers must not change therefore runs as a region
    /// that holds the setting for its length: `withThreads(n)` sets n, and `atDefaultThreads` keeps the
    /// process's default unless an enclosing region of the same thread chose otherwise. A region on
    /// another thread waits, so an evaluation beside a training run in one process cannot change the
    /// training's numbers. Pool threads that a region's owner puts to work run products inside it;
    /// they must not open regions of their own (the owner holds the lock while it waits for them).
    public static func withThreads<Result>(_ threads: Int, _ body: () throws -> Result) rethrows -> Result {
        try region(threads: max(1, threads), body)
    }

    /// A region at the process's default thread count (OPENBLAS_NUM_THREADS, else one per core), or at
    /// the enclosing region's count when there is one.
    public static func atDefaultThreads<Result>(_ body: () throws -> Result) rethrows -> Result {
        try region(threads: nil, body)
    }

    /// The thread count of the region the calling thread is in; the default outside any region.
    public static var threads: Int {
        regionLock.lock()
        defer { regionLock.unlock() }
        return regionDepth > 0 ? currentThreads : defaultThreads
    }

    /// OpenBLAS's own default, read from the environment as OpenBLAS reads it.
    public static let defaultThreads: Int = {
        let environment = ProcessInfo.processInfo.environment
        let requested = (environment["OPENBLAS_NUM_THREADS"] ?? environment["OMP_NUM_THREADS"]).flatMap { Int($0) }
        return max(1, requested ?? ProcessInfo.processInfo.activeProcessorCount)
    }()

    private static let regionLock = NSRecursiveLock()
    /// Regions open on the thread holding the lock; guarded by the lock.
    nonisolated(unsafe) private static var regionDepth = 0
    /// The count set for the open regions; guarded by the lock.
    nonisolated(unsafe) private static var currentThreads = 0

    private static func region<Result>(threads: Int?, _ body: () throws -> Result) rethrows -> Result {
        regionLock.lock()
        defer { regionLock.unlock() }
        let enclosing = regionDepth > 0 ? currentThreads : nil
        let wanted = threads ?? enclosing ?? defaultThreads
        if wanted != enclosing { openblas_set_num_threads(Int32(wanted)) }
        currentThreads = wanted
        regionDepth += 1
        defer {
            regionDepth -= 1
            // Back to the enclosing region's count, or to the default outside every region.
            let restored = enclosing ?? defaultThreads
            currentThreads = enclosing ?? 0
            if restored != wanted { openblas_set_num_threads(Int32(restored)) }
        }
        return try body()
    }
}
