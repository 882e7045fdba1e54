// The bodies of the dot products of a thin side and of the bias gradients' column sums, included by
// Kernels.c once per vector unit after ElementwiseBody.h, whose load and store helpers they use.
// libxsmm runs a layer of few outputs slowly or, where its kernel would make a column's numbers depend
// on its neighbours, one column at a time. Here each result is a sum in a fixed order over its own row:
// it does not depend on which rows share the call nor, each product fused into its addition (`fma`), on
// the vector unit.

/// The 16 lanes of v summed by halves, the same tree on every unit.
INLINE float VARIANT(sum_lanes)(vfloat v) {
    vfloat8 eight = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
                  + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    vfloat4 four = __builtin_shufflevector(eight, eight, 0, 1, 2, 3) + __builtin_shufflevector(eight, eight, 4, 5, 6, 7);
    vfloat2 two = __builtin_shufflevector(four, four, 0, 1) + __builtin_shufflevector(four, four, 2, 3);
    return two[0] + two[1];
}

/// `rows` × `outputs` dot products at once (at most 4), sharing the loads: y[r * ldy + j] (+)= x_r · w_j
/// with x_r = x + r * length and w_j = w + j * length. Lane l of each adds the products of elements
/// l, l + 16, l + 32, ... in that order, each fused into its addition (the tail zero-padded); the lanes
/// are then summed by halves.
/// Called with constant `rows` and `outputs`, which the inlining turns into registers.
INLINE void VARIANT(dot_tile)(const float *x, long length, int rows, const float *w, int outputs, float *y, long ldy,
                              int accumulate) {
    vfloat sums[4] = {0};
    long whole = length / LANES * LANES;
    for (long k = 0; k < whole; k += LANES) {
        vfloat xs[4], ws[4];
        for (int r = 0; r < rows; r++) xs[r] = VARIANT(load)(x + r * length + k);
        for (int j = 0; j < outputs; j++) ws[j] = VARIANT(load)(w + j * length + k);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < outputs; j++) sums[r * outputs + j] = VARIANT(fma)(xs[r], ws[j], sums[r * outputs + j]);
    }
    if (whole < length) {
        long rest = length - whole;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < outputs; j++)
                sums[r * outputs + j] = VARIANT(fma)(VARIANT(load_tail)(x + r * length + whole, rest),
                                                     VARIANT(load_tail)(w + j * length + whole, rest), sums[r * outputs + j]);
    }
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < outputs; j++) {
            float *out = y + r * ldy + j;
            *out = (accumulate ? *out : 0.0f) + VARIANT(sum_lanes)(sums[r * outputs + j]);
        }
}

static void VARIANT(dot_rows)(const float *x, long rows, long length, const float *w, long count, float *y,
                              int accumulate) {
    long r = 0;
    // Tiles of four dot products: four outputs of a row or, with fewer outputs, as many rows as fit.
    if (count == 1)
        for (; r + 4 <= rows; r += 4) VARIANT(dot_tile)(x + r * length, length, 4, w, 1, y + r, 1, accumulate);
    if (count == 2)
        for (; r + 2 <= rows; r += 2) VARIANT(dot_tile)(x + r * length, length, 2, w, 2, y + r * 2, 2, accumulate);
    for (; r < rows; r++) {
        const float *row = x + r * length;
        float *out = y + r * count;
        long j = 0;
        for (; j + 4 <= count; j += 4) VARIANT(dot_tile)(row, length, 1, w + j * length, 4, out + j, count, accumulate);
        switch (count - j) {
        case 3: VARIANT(dot_tile)(row, length, 1, w + j * length, 3, out + j, count, accumulate); break;
        case 2: VARIANT(dot_tile)(row, length, 1, w + j * length, 2, out + j, count, accumulate); break;
        case 1: VARIANT(dot_tile)(row, length, 1, w + j * length, 1, out + j, count, accumulate); break;
        }
    }
}

/// A bias gradient: sums[j] += g[r * ldg + j] for r = 0, 1, ... rows - 1 in turn, added straight into sums
/// (one addition per row, as a scalar loop over the rows would do), for j < count.
static void VARIANT(add_column_sums)(const float *g, long ldg, long rows, long count, float *sums) {
    for (long j = 0; j < count; j += LANES) {
        long valid = count - j;
        vfloat total = valid >= LANES ? VARIANT(load)(sums + j) : VARIANT(load_tail)(sums + j, valid);
        for (long r = 0; r < rows; r++) {
            const float *row = g + r * ldg + j;
            total += valid >= LANES ? VARIANT(load)(row) : VARIANT(load_tail)(row, valid);
        }
        if (valid >= LANES) VARIANT(store)(sums + j, total);
        else VARIANT(store_tail)(sums + j, total, valid);
    }
}
