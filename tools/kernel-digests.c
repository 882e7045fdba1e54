// Calls every kernel of NumericKernels on fixed inputs and prints a digest of each one's output bytes,
// so that the bits of two vector units, or of two machines, can be compared line by line. The inputs
// come from an integer generator and are exact in any float format, so every machine starts from the
// same bits; the shapes leave tails after every tile and every 16 lanes. tools/check-cpus builds it for
// this machine and for arm64.
//
//   kernel-digests [UNIT]   (UNIT: avx512f, avx2 or baseline; default: the widest this CPU has)
#include "NumericKernels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t state = 2463534242u;

/// A float in [-range, range) with 21 significant bits: an exact multiple of 2^-20 · range.
static float next_float(float range) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return (float)((int32_t)(state >> 11) - (1 << 20)) / (float)(1 << 20) * range;
}

static float *filled(long count, float range) {
    float *values = malloc(sizeof(float) * (size_t)count);
    if (values == NULL) abort();
    for (long i = 0; i < count; i++) values[i] = next_float(range);
    return values;
}

/// FNV-1a over bytes.
static void print_digest(const char *name, const void *bytes, size_t count) {
    uint64_t hash = 14695981039346656037ull;
    for (size_t i = 0; i < count; i++) hash = (hash ^ ((const uint8_t *)bytes)[i]) * 1099511628211ull;
    printf("%-26s %016llx\n", name, (unsigned long long)hash);
}

#define DIGEST(name, values, count) print_digest(name, values, sizeof(float) * (size_t)(count))

static void activations(void) {
    enum { rows = 13, width = 37, count = rows * width };
    // Mish and the exponential over their whole range: both ends saturate, at 20 and at -87 and 88.
    float *x = filled(count, 100), *bias = filled(width, 2);
    float y[count], derivative[count], input[count], gradient[count];
    x[0] = 0.0f, x[1] = -0.0f, x[2] = 20.0f, x[3] = -87.0f, x[4] = 88.0f, x[5] = 1e-30f;
    nk_mish(x, bias, width, rows, y);
    DIGEST("nk_mish", y, count);
    nk_mish_recording(x, bias, width, rows, y, derivative);
    DIGEST("nk_mish_recording value", y, count);
    DIGEST("nk_mish_recording slope", derivative, count);
    nk_exponential(x, y, count);
    DIGEST("nk_exponential", y, count);
    nk_relu(x, bias, width, rows, y);
    DIGEST("nk_relu", y, count);
    nk_relu_recording(x, bias, width, rows, y, input);
    DIGEST("nk_relu_recording value", y, count);
    DIGEST("nk_relu_recording input", input, count);
    memcpy(gradient, bias, sizeof(float) * width);
    for (long i = width; i < count; i++) gradient[i] = next_float(3);
    nk_relu_backward(input, gradient, count);
    DIGEST("nk_relu_backward", gradient, count);
    nk_multiply(derivative, gradient, count);
    DIGEST("nk_multiply", gradient, count);
    free(x);
    free(bias);
}

static void sums_and_updates(void) {
    enum { count = 1003, rows = 11, width = 45 };
    float *x = filled(count, 5), *g = filled(count, 1), *m = filled(count, 0.1f), *v = filled(count, 0.01f);
    for (long i = 0; i < count; i++) v[i] = v[i] * v[i];
    double squares = nk_sum_of_squares(x, count);
    print_digest("nk_sum_of_squares", &squares, sizeof squares);
    nk_adam(x, g, m, v, count, 0.9f, 0.999f, 3e-4f, 0.97f, 1e-8f);
    DIGEST("nk_adam parameters", x, count);
    DIGEST("nk_adam first moment", m, count);
    DIGEST("nk_adam second moment", v, count);
    float sums[width] = {0};
    nk_add_column_sums(g, width + 3, rows, width, sums);
    DIGEST("nk_add_column_sums", sums, width);
    nk_add_row(sums, width, rows, x);
    DIGEST("nk_add_row", x, width * rows);
    float transposed[rows * width];
    nk_transpose(g, rows, width, transposed);
    DIGEST("nk_transpose", transposed, rows * width);
    free(x);
    free(g);
    free(m);
    free(v);
}

static void products(void) {
    // Rows past whole tiles of 8, 6 and 4, columns past whole vectors, a depth past 16 lanes.
    enum { rows = 29, depth = 45, columns = 70, outputs = 3 };
    float *a = filled(rows * depth, 2), *b = filled(depth * columns, 2), *c = filled(rows * columns, 1);
    nk_product(a, depth, 1, rows, depth, b, columns, columns, c, columns, 1);
    DIGEST("nk_product accumulating", c, rows * columns);
    nk_product(a, depth, 1, rows, depth, b, columns, columns, c, columns, 0);
    DIGEST("nk_product", c, rows * columns);
    // aᵀ read through its strides, as a weight gradient reads its rows.
    float *at = filled(depth * rows, 2);
    nk_product(at, 1, rows, rows, depth, b, columns, columns, c, columns, 0);
    DIGEST("nk_product transposed a", c, rows * columns);
    float *w = filled(outputs * depth, 2), y[rows * outputs];
    nk_dot_rows(a, rows, depth, w, outputs, y, 0);
    DIGEST("nk_dot_rows", y, rows * outputs);
    nk_dot_rows(a, rows, depth, w, outputs, y, 1);
    DIGEST("nk_dot_rows accumulating", y, rows * outputs);
    free(a);
    free(b);
    free(c);
    free(at);
    free(w);
}

int main(int argc, char **argv) {
    if (argc > 1 && !nk_use_vector_unit(argv[1])) {
        fprintf(stderr, "kernel-digests: this CPU has no vector unit %s (it uses %s)\n", argv[1], nk_vector_unit());
        return 1;
    }
    printf("%-26s %s (%s)\n", "unit", nk_vector_unit(), nk_vector_unit_fuses() ? "fused" : "unfused");
    activations();
    sums_and_updates();
    products();
    return 0;
}
