// libxsmm (Debian's libxsmm-dev 1.17): JIT-specialized small matrix products. Its kernels are
// variadic C function pointers, which Swift cannot call, so they are wrapped here.
#include <libxsmm.h>

/// The kernel of the column-major product C (m × n) = A (m × k) · op(B) + beta · C, where op(B) is
/// B (k × n, leading dimension ldb) or, with `transposeB`, the transpose of B (n × k). libxsmm
/// compiles it the first time and looks it up afterwards (about 15 ns); NULL when it has none.
static inline const void *dql_xsmm_kernel(int m, int n, int k, int lda, int ldb, int ldc, float beta, int transposeB) {
    libxsmm_blasint lm = lda, lb = ldb, lc = ldc;
    float alpha = 1;
    int flags = transposeB ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
    return (const void *)libxsmm_smmdispatch(m, n, k, &lm, &lb, &lc, &alpha, &beta, &flags, NULL);
}

/// Runs a kernel from `dql_xsmm_kernel`.
static inline void dql_xsmm_run(const void *kernel, const float *a, const float *b, float *c) {
    ((libxsmm_smmfunction)kernel)(a, b, c);
}

/// Whether libxsmm writes kernels here at all: it writes none for a CPU without SSE4.2 (whose detection
/// gives its generic target), under LIBXSMM_TARGET=generic, or where the process may not map memory it
/// can execute.
static inline int dql_xsmm_writes_kernels(void) { return dql_xsmm_kernel(16, 16, 16, 16, 16, 16, 0, 0) != NULL; }

/// Whether the kernels libxsmm writes use AVX-512 (its target, which LIBXSMM_TARGET may lower).
static inline int dql_xsmm_target_has_avx512(void) { return libxsmm_get_target_archid() >= LIBXSMM_X86_AVX512; }

/// Whether the kernels libxsmm writes use AVX2 and fused multiply-adds, or AVX-512.
static inline int dql_xsmm_target_has_avx2(void) { return libxsmm_get_target_archid() >= LIBXSMM_X86_AVX2; }
