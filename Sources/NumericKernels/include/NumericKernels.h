#ifndef NUMERIC_KERNELS_H
#define NUMERIC_KERNELS_H

/// Kernels of the networks' hot paths. Each processes 16 floats at a time on the widest vector unit
/// the CPU has (AVX-512, AVX2 with FMA, or the baseline, chosen at run time), and every path gives the
/// same bits: the operations are IEEE additions, multiplications, fused multiply-adds, divisions and
/// comparisons in a fixed order. The one exception is x86-64's baseline (SSE2), which has no fused
/// multiply-add: it rounds the product and then the sum (nk_vector_unit_fuses says which is in use).

/// Tells the CPU that the calling thread is spinning on a flag (x86's pause, arm64's yield), so that a
/// thread sharing its core gets the core's resources meanwhile. Not a kernel: the worker pool's.
static inline void nk_spin_hint(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// A layer's Mish with its bias: y[r * width + j] = Mish(x[r * width + j] + bias[j]) for r < rows and
/// j < width, Mish(v) = v tanh(softplus(v)); y may be x. (A bias of -0 adds nothing to any value.)
void nk_mish(const float *x, const float *bias, long width, long rows, float *y);

/// nk_mish (the same bits in value) recording Mish'(x + bias) in derivative, from the same exponential;
/// derivative may be x, value must overlap neither.
void nk_mish_recording(const float *x, const float *bias, long width, long rows, float *value, float *derivative);

/// gradient[i] *= factor[i] (a recorded derivative); factor must not overlap gradient.
void nk_multiply(const float *factor, float *gradient, long count);

/// Σ x[i]² for i < count, in double: 16 lanes, lane l summing the squares at i = l, l + 16, ... in
/// order, then the lanes added in order (a gradient norm's part, the same bits on every unit).
double nk_sum_of_squares(const float *x, long count);

/// A layer's ReLU with its bias: y[r * width + j] = max(v, 0) as Swift's max gives it (a NaN stays),
/// v = x[r * width + j] + bias[j]; y may be x.
void nk_relu(const float *x, const float *bias, long width, long rows, float *y);

/// nk_relu recording its input v in input (what nk_relu_backward reads); input may be x, value must
/// overlap neither.
void nk_relu_recording(const float *x, const float *bias, long width, long rows, float *value, float *input);

/// gradient[i] = 0 where x[i] <= 0, unchanged elsewhere; x must not overlap gradient.
void nk_relu_backward(const float *x, float *gradient, long count);

/// y[i] = e^x[i] by the kernels' own exponential (within 2 ulp of exp on [-87, 88]); y may be x.
void nk_exponential(const float *x, float *y, long count);

/// One Adam step: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g g, p -= stepSize m / (sqrt(v) / c2 + eps).
void nk_adam(float *parameters, const float *gradients, float *firstMoment, float *secondMoment, long count, float beta1,
             float beta2, float stepSize, float sqrtCorrection2, float epsilon);

/// Products with a thin side (a layer of few outputs, or the input gradient of one of few inputs),
/// each result computed from its own row alone, the same whatever rows share the call:
/// y[r * count + j] = (accumulate ? y[r * count + j] : 0) + Σ_k x[r * length + k] w[j * length + k]
/// for r < rows and j < count. Lane l of a dot product adds the products at k = l, l + 16, ... in
/// order, each fused into its addition (on x86-64's baseline rounded first), and the 16 lanes are then
/// summed by halves.
void nk_dot_rows(const float *x, long rows, long length, const float *w, long count, float *y, int accumulate);

/// A product of any shape, each result computed from its own row of a and column of b alone, the same
/// whatever rows and columns share the call: for i < rows and j < columns,
/// c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + Σ_k a[i * ai + k * ak] b[k * ldb + j], the sum over
/// k < depth taken in order from zero, each product fused into its addition (on x86-64's baseline
/// rounded first), and then added. a is read through its strides, so it may be a matrix's transpose.
void nk_product(const float *a, long ai, long ak, long rows, long depth, const float *b, long ldb, long columns, float *c,
                long ldc, int accumulate);

/// A bias gradient: sums[j] += g[r * ldg + j] for r = 0, 1, ..., rows - 1 in turn, one addition per row,
/// for j < count.
void nk_add_column_sums(const float *g, long ldg, long rows, long count, float *sums);

/// target (columns × rows) = sourceᵀ, source being rows × columns, both row-major: a copy, in blocks of 8 × 8.
void nk_transpose(const float *source, long rows, long columns, float *target);

/// y[r * count + j] += row[j] for r < rows and j < count (the bias of a layer that no activation follows).
void nk_add_row(const float *row, long count, long rows, float *y);

/// The vector unit the kernels use: the widest this CPU has ("avx512f", "avx2" or "baseline") unless
/// nk_use_vector_unit chose another.
const char *nk_vector_unit(void);

/// Whether the unit in use fuses the kernels' multiply-adds (every unit but x86-64's baseline).
int nk_vector_unit_fuses(void);

/// Makes the kernels use the named unit (for benchmarks); returns 0, changing nothing, when this CPU does
/// not have it.
int nk_use_vector_unit(const char *name);

/// nk_use_vector_unit for the kernels the calling thread calls, before the process's choice (for tests,
/// which run beside others); NULL goes back to the process's choice.
int nk_use_vector_unit_on_this_thread(const char *name);

#endif
