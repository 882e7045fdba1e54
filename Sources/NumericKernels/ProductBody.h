// The body of the products of any shape, included by Kernels.c once per vector unit after
// ElementwiseBody.h, whose load and store helpers it uses, with PRODUCT_ROWS (8, 6 or 4) set to the
// rows of a tile whose sums fit the unit's registers (AVX-512's 8 rows take two vectors of columns).
// Each result is a sum in a fixed order over its own row of a and column of b: it does not depend on
// which rows or columns share the call, on how the tiles fall, nor, each product fused into its
// addition, on the vector unit.
//
// The tiles are written out with macros rather than loops over arrays of sums: debug builds compile C
// without optimization, and there a loop over an array of vectors ran 7 times slower than these
// statements (3 against 22 GFLOP/s), while optimized builds make the same code of both.

#if UNIT_FUSES
#define PRODUCT_FMA(x, y, z) __builtin_elementwise_fma(x, y, z)
#else
#define PRODUCT_FMA(x, y, z) ((x) * (y) + (z))
#endif
/// Row i's next term, a(i, k) b(k, ·) added to its sum, with p pointing at a(0, k). a(i, k) is
/// broadcast by a shuffle, which becomes a broadcast load: ElementwiseBody's `splat` adds the value to
/// zero, an addition the compiler must keep (it turns -0 into +0), which made this loop run at a third
/// of the speed.
#define PRODUCT_STEP(i)                                                                                     \
    s##i = PRODUCT_FMA(__builtin_shufflevector((vfloat){p[(i) * ai]}, (vfloat){0}, 0, 0, 0, 0, 0, 0, 0, 0, \
                                               0, 0, 0, 0, 0, 0, 0, 0),                                     \
                       column, s##i);
#define PRODUCT_TILE_PARAMETERS                                                                            \
    const float *a, long ai, long ak, long depth, const float *b, long ldb, long valid, long whole_until,    \
        float *c, long ldc, int accumulate
/// The sums over k in order; rows of b before `whole_until` are read as whole vectors (lanes past
/// `valid` are never stored), the others copied lane by lane, so as not to read past b's end.
#define PRODUCT_LOOP(STEPS)                                                                                \
    const float *p = a;                                                                                    \
    long k = 0;                                                                                            \
    for (; k < whole_until; k++, p += ak) {                                                                \
        vfloat column = VARIANT(load)(b + k * ldb);                                                        \
        STEPS                                                                                              \
    }                                                                                                      \
    for (; k < depth; k++, p += ak) {                                                                      \
        vfloat column = VARIANT(load_tail)(b + k * ldb, valid);                                            \
        STEPS                                                                                              \
    }

/// c's row from `target` on, `valid` columns of it: the sum, added to what is there when accumulating.
INLINE void VARIANT(product_store)(float *target, vfloat sum, long valid, int accumulate) {
    if (valid >= LANES) VARIANT(store)(target, accumulate ? VARIANT(load)(target) + sum : sum);
    else VARIANT(store_tail)(target, accumulate ? VARIANT(load_tail)(target, valid) + sum : sum, valid);
}

/// Tiles of 1 or PRODUCT_ROWS rows of c by one vector of columns from b's column 0 on, `valid` of which exist:
/// c[i * ldc + j] (+)= Σ_k a[i * ai + k * ak] b[k * ldb + j], the sum starting from zero and running over
/// k < depth in order.
INLINE void VARIANT(product_tile1)(PRODUCT_TILE_PARAMETERS) {
    vfloat s0 = {0};
    PRODUCT_LOOP(PRODUCT_STEP(0))
    VARIANT(product_store)(c, s0, valid, accumulate);
}

#if PRODUCT_ROWS == 8
/// Row i's next terms in two vectors of columns, with `column` and `next` b's two vectors at row k.
#define PRODUCT_STEP2(i)                                                                                    \
    {                                                                                                      \
        vfloat term = __builtin_shufflevector((vfloat){p[(i) * ai]}, (vfloat){0}, 0, 0, 0, 0, 0, 0, 0, 0, 0,  \
                                              0, 0, 0, 0, 0, 0, 0);                                         \
        s##i = PRODUCT_FMA(term, column, s##i);                                                             \
        t##i = PRODUCT_FMA(term, next, t##i);                                                               \
    }
/// 8 rows by two whole vectors of columns (all of whose rows of b are read whole): twice the sums in
/// flight, and one broadcast of a(i, k) for two fused multiply-adds.
INLINE void VARIANT(product_tile_wide)(const float *a, long ai, long ak, long depth, const float *b, long ldb, float *c,
                                       long ldc, int accumulate) {
    vfloat s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
    vfloat t0 = {0}, t1 = {0}, t2 = {0}, t3 = {0}, t4 = {0}, t5 = {0}, t6 = {0}, t7 = {0};
    const float *p = a;
    for (long k = 0; k < depth; k++, p += ak) {
        vfloat column = VARIANT(load)(b + k * ldb), next = VARIANT(load)(b + k * ldb + LANES);
        PRODUCT_STEP2(0) PRODUCT_STEP2(1) PRODUCT_STEP2(2) PRODUCT_STEP2(3)
        PRODUCT_STEP2(4) PRODUCT_STEP2(5) PRODUCT_STEP2(6) PRODUCT_STEP2(7)
    }
    vfloat sums[8] = {s0, s1, s2, s3, s4, s5, s6, s7}, more[8] = {t0, t1, t2, t3, t4, t5, t6, t7};
    for (int i = 0; i < 8; i++) {
        VARIANT(product_store)(c + i * ldc, sums[i], LANES, accumulate);
        VARIANT(product_store)(c + i * ldc + LANES, more[i], LANES, accumulate);
    }
}
#undef PRODUCT_STEP2

INLINE void VARIANT(product_tile)(PRODUCT_TILE_PARAMETERS) {
    vfloat s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
    PRODUCT_LOOP(PRODUCT_STEP(0) PRODUCT_STEP(1) PRODUCT_STEP(2) PRODUCT_STEP(3) PRODUCT_STEP(4) PRODUCT_STEP(5)
                     PRODUCT_STEP(6) PRODUCT_STEP(7))
    vfloat sums[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
    for (int i = 0; i < 8; i++) VARIANT(product_store)(c + i * ldc, sums[i], valid, accumulate);
}
#elif PRODUCT_ROWS == 6
INLINE void VARIANT(product_tile)(PRODUCT_TILE_PARAMETERS) {
    vfloat s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0};
    PRODUCT_LOOP(PRODUCT_STEP(0) PRODUCT_STEP(1) PRODUCT_STEP(2) PRODUCT_STEP(3) PRODUCT_STEP(4) PRODUCT_STEP(5))
    vfloat sums[6] = {s0, s1, s2, s3, s4, s5};
    for (int i = 0; i < 6; i++) VARIANT(product_store)(c + i * ldc, sums[i], valid, accumulate);
}
#else
INLINE void VARIANT(product_tile)(PRODUCT_TILE_PARAMETERS) {
    vfloat s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    PRODUCT_LOOP(PRODUCT_STEP(0) PRODUCT_STEP(1) PRODUCT_STEP(2) PRODUCT_STEP(3))
    vfloat sums[4] = {s0, s1, s2, s3};
    for (int i = 0; i < 4; i++) VARIANT(product_store)(c + i * ldc, sums[i], valid, accumulate);
}
#endif

/// Column blocks outside, so that a block of b stays in the core's cache while every tile of rows reads it.
static void VARIANT(product)(const float *a, long ai, long ak, long rows, long depth, const float *b, long ldb,
                             long columns, float *c, long ldc, int accumulate) {
    long extent = depth > 0 ? (depth - 1) * ldb + columns : 0;
    // Columns before `wide_end` have had their tiles of 8 rows from the wide tiles (AVX-512).
    long whole_rows = rows / PRODUCT_ROWS * PRODUCT_ROWS, wide_end = 0;
#if PRODUCT_ROWS == 8
    for (; wide_end + 2 * LANES <= columns; wide_end += 2 * LANES)
        for (long i = 0; i < whole_rows; i += 8)
            VARIANT(product_tile_wide)(a + i * ai, ai, ak, depth, b + wide_end, ldb, c + i * ldc + wide_end, ldc, accumulate);
#endif
    for (long j = 0; j < columns; j += LANES) {
        long valid = columns - j, room = extent - j - LANES;
        long whole_until = valid >= LANES ? depth : room < 0 ? 0 : room / ldb + 1 < depth ? room / ldb + 1 : depth;
        long i = j < wide_end ? whole_rows : 0;
        for (; i + PRODUCT_ROWS <= rows; i += PRODUCT_ROWS)
            VARIANT(product_tile)(a + i * ai, ai, ak, depth, b + j, ldb, valid, whole_until, c + i * ldc + j, ldc, accumulate);
        for (; i < rows; i++)
            VARIANT(product_tile1)(a + i * ai, ai, ak, depth, b + j, ldb, valid, whole_until, c + i * ldc + j, ldc, accumulate);
    }
}

#undef PRODUCT_FMA
#undef PRODUCT_STEP
#undef PRODUCT_TILE_PARAMETERS
#undef PRODUCT_LOOP
