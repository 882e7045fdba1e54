#include "NumericKernels.h"

#include <string.h>

// The results must not depend on the vector unit: a multiply-add is fused where a kernel says so
// (`fma`, one rounding on every unit that has the instruction) and nowhere else, so the compiler may not
// contract the others.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// 16 lanes: one AVX-512 register, two of AVX2, four of the baseline's SSE2. The helpers that pass such
// vectors by value are always inlined into functions of their own unit, so no call crosses the ABI
// that -Wpsabi warns about.
#pragma clang diagnostic ignored "-Wpsabi"
#define LANES 16
typedef float vfloat __attribute__((vector_size(4 * LANES)));
typedef float unaligned_vfloat __attribute__((vector_size(4 * LANES), aligned(4), may_alias));
typedef int vint __attribute__((vector_size(4 * LANES)));
typedef unsigned vuint __attribute__((vector_size(4 * LANES)));
typedef double vdouble __attribute__((vector_size(8 * LANES)));
typedef float vfloat8 __attribute__((vector_size(32)));
typedef float unaligned_vfloat8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef float vfloat4 __attribute__((vector_size(16)));
typedef float vfloat2 __attribute__((vector_size(8)));

#define INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#define VARIANT(name) name##_avx512f
#define UNIT_FUSES 1
#define PRODUCT_ROWS 8
#include "ElementwiseBody.h"
#include "ThinProductsBody.h"
#include "ProductBody.h"
#undef VARIANT
#undef UNIT_FUSES
#undef PRODUCT_ROWS
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VARIANT(name) name##_avx2
#define UNIT_FUSES 1
#define PRODUCT_ROWS 6
#include "ElementwiseBody.h"
#include "ThinProductsBody.h"
#include "ProductBody.h"
#undef VARIANT
#undef UNIT_FUSES
#undef PRODUCT_ROWS
#pragma clang attribute pop
#endif

// arm64 always has the instruction; x86-64's baseline does not, and libm's fmaf on every lane made a
// benchmark of 11 s run for more than ten minutes, so there the product and the sum are rounded in turn.
#if defined(__aarch64__) || defined(__FMA__)
#define BASELINE_FUSES 1
#else
#define BASELINE_FUSES 0
#endif

#define VARIANT(name) name##_baseline
#define UNIT_FUSES BASELINE_FUSES
// arm64 has 32 vector registers: 6 rows' sums take 24 of them; SSE2's 16 hold 4 rows' at most.
#if defined(__aarch64__)
#define PRODUCT_ROWS 6
#else
#define PRODUCT_ROWS 4
#endif
#include "ElementwiseBody.h"
#include "ThinProductsBody.h"
#include "ProductBody.h"
#undef VARIANT
#undef UNIT_FUSES
#undef PRODUCT_ROWS

typedef enum { automatic, baseline, avx2, avx512f } vector_unit;

static _Atomic vector_unit chosen_unit = automatic;

static vector_unit widest_unit(void) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) return avx512f;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return avx2;
#endif
    return baseline;
}

/// The unit chosen for the calling thread alone, which goes before the process's: tests that try every
/// unit run beside others, whose numbers must not change under them.
static _Thread_local vector_unit thread_unit = automatic;

static vector_unit current_unit(void) {
    vector_unit unit = thread_unit != automatic ? thread_unit : chosen_unit;
    return unit == automatic ? widest_unit() : unit;
}

static const char *unit_name(vector_unit unit) {
    switch (unit) {
    case avx512f: return "avx512f";
    case avx2: return "avx2";
    default: return "baseline";
    }
}

/// The unit named `name` if this CPU has it, else automatic.
static vector_unit available_unit(const char *name) {
    for (vector_unit unit = baseline; unit <= widest_unit(); unit++)
        if (strcmp(name, unit_name(unit)) == 0) return unit;
    return automatic;
}

int nk_use_vector_unit(const char *name) {
    vector_unit unit = available_unit(name);
    if (unit == automatic) return 0;
    chosen_unit = unit;
    return 1;
}

int nk_use_vector_unit_on_this_thread(const char *name) {
    if (name == NULL) {
        thread_unit = automatic;
        return 1;
    }
    vector_unit unit = available_unit(name);
    if (unit == automatic) return 0;
    thread_unit = unit;
    return 1;
}

#if defined(__x86_64__)
#define DISPATCH(function, ...)                                       \
    switch (current_unit()) {                                         \
    case avx512f: function##_avx512f(__VA_ARGS__); break;             \
    case avx2: function##_avx2(__VA_ARGS__); break;                   \
    default: function##_baseline(__VA_ARGS__); break;                 \
    }
#define DISPATCH_RETURNING(function, ...)                             \
    switch (current_unit()) {                                         \
    case avx512f: return function##_avx512f(__VA_ARGS__);             \
    case avx2: return function##_avx2(__VA_ARGS__);                   \
    default: return function##_baseline(__VA_ARGS__);                 \
    }
#else
#define DISPATCH(function, ...) function##_baseline(__VA_ARGS__);
#define DISPATCH_RETURNING(function, ...) return function##_baseline(__VA_ARGS__);
#endif

void nk_mish(const float *x, const float *bias, long width, long rows, float *y) {
    DISPATCH(mish_rows, x, bias, width, rows, y)
}

void nk_mish_recording(const float *x, const float *bias, long width, long rows, float *value, float *derivative) {
    DISPATCH(mish_recording_rows, x, bias, width, rows, value, derivative)
}

void nk_multiply(const float *factor, float *gradient, long count) { DISPATCH(multiply_all, factor, gradient, count) }

double nk_sum_of_squares(const float *x, long count) { DISPATCH_RETURNING(sum_of_squares, x, count) }

void nk_add_row(const float *row, long count, long rows, float *y) { DISPATCH(add_row_all, row, count, rows, y) }

void nk_exponential(const float *x, float *y, long count) { DISPATCH(exponential_all, x, y, count) }

void nk_relu(const float *x, const float *bias, long width, long rows, float *y) {
    DISPATCH(relu_rows, x, bias, width, rows, y)
}

void nk_relu_recording(const float *x, const float *bias, long width, long rows, float *value, float *input) {
    DISPATCH(relu_recording_rows, x, bias, width, rows, value, input)
}

void nk_relu_backward(const float *x, float *gradient, long count) { DISPATCH(relu_backward_all, x, gradient, count) }

void nk_adam(float *parameters, const float *gradients, float *firstMoment, float *secondMoment, long count, float beta1,
             float beta2, float stepSize, float sqrtCorrection2, float epsilon) {
    DISPATCH(adam_all, parameters, gradients, firstMoment, secondMoment, count, beta1, beta2, stepSize, sqrtCorrection2, epsilon)
}

void nk_dot_rows(const float *x, long rows, long length, const float *w, long count, float *y, int accumulate) {
    DISPATCH(dot_rows, x, rows, length, w, count, y, accumulate)
}

void nk_product(const float *a, long ai, long ak, long rows, long depth, const float *b, long ldb, long columns, float *c,
                long ldc, int accumulate) {
    DISPATCH(product, a, ai, ak, rows, depth, b, ldb, columns, c, ldc, accumulate)
}

void nk_add_column_sums(const float *g, long ldg, long rows, long count, float *sums) {
    DISPATCH(add_column_sums, g, ldg, rows, count, sums)
}

void nk_transpose(const float *source, long rows, long columns, float *target) {
    long whole_rows = rows / 8 * 8, whole_columns = columns / 8 * 8;
    for (long r = 0; r < whole_rows; r += 8)
        for (long c = 0; c < whole_columns; c += 8) {
            vfloat8 in[8], pairs[8], quads[8];
            for (int i = 0; i < 8; i++) in[i] = *(const unaligned_vfloat8 *)(source + (r + i) * columns + c);
            // Interleave rows in pairs, then pairs of pairs (quads[i] then holds columns i and i + 4 of
            // four rows), then join the halves of two quads.
            for (int i = 0; i < 8; i += 2) {
                pairs[i] = __builtin_shufflevector(in[i], in[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
                pairs[i + 1] = __builtin_shufflevector(in[i], in[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
            }
            for (int i = 0; i < 8; i += 4)
                for (int j = 0; j < 2; j++) {
                    quads[i + 2 * j] = __builtin_shufflevector(pairs[i + j], pairs[i + j + 2], 0, 1, 8, 9, 4, 5, 12, 13);
                    quads[i + 2 * j + 1] = __builtin_shufflevector(pairs[i + j], pairs[i + j + 2], 2, 3, 10, 11, 6, 7, 14, 15);
                }
            for (int i = 0; i < 4; i++) {
                *(unaligned_vfloat8 *)(target + (c + i) * rows + r) =
                    __builtin_shufflevector(quads[i], quads[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
                *(unaligned_vfloat8 *)(target + (c + i + 4) * rows + r) =
                    __builtin_shufflevector(quads[i], quads[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
            }
        }
    for (long r = 0; r < rows; r++)
        for (long c = r < whole_rows ? whole_columns : 0; c < columns; c++) target[c * rows + r] = source[r * columns + c];
}

const char *nk_vector_unit(void) { return unit_name(current_unit()); }

int nk_vector_unit_fuses(void) { return current_unit() != baseline || BASELINE_FUSES; }
