#ifndef NUMERIC_KERNELS_H
#define NUMERIC_KERNELS_H

/// Element-wise kernels of the networks' hot paths. Each processes 16 floats at a time on the widest
/// vector unit the CPU has (AVX-512, AVX2 or the baseline, chosen at run time), and every path gives
/// the same bits: the operations are IEEE additions, multiplications, divisions and comparisons in
/// a fixed order, never contracted into fused multiply-adds.

/// y[i] = Mish(x[i]) = x tanh(softplus(x)); y may be x.
void nk_mish(const float *x, float *y, long count);

/// gradient[i] *= Mish'(x[i]); x must not overlap gradient.
void nk_mish_backward(const float *x, float *gradient, long count);

/// y[i] = e^x[i] by the kernels' own exponential (within 2 ulp of exp on [-87, 88]); y may be x.
void nk_exponential(const float *x, float *y, long count);

/// One Adam step: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g g, p -= stepSize m / (sqrt(v) / c2 + eps).
void nk_adam(float *parameters, const float *gradients, float *firstMoment, float *secondMoment, long count, float beta1,
             float beta2, float stepSize, float sqrtCorrection2, float epsilon);

/// The vector unit the kernels use: the widest this CPU has ("avx512f", "avx2" or "baseline") unless
/// nk_use_vector_unit chose another.
const char *nk_vector_unit(void);

/// Makes the kernels use the named unit (for tests and benchmarks); returns 0, changing nothing, when
/// this CPU does not have it.
int nk_use_vector_unit(const char *name);

#endif
