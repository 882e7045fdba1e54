// The element-wise kernels' bodies, included by Kernels.c once per vector unit, with VARIANT(name)
// naming this unit's functions and its target attribute in force. Helpers are always_inline (INLINE):
// they then take the including function's target, and debug builds, which inline nothing else, keep
// whole vectors.

INLINE vfloat VARIANT(splat)(float c) { return (vfloat){0} + c; }
INLINE vfloat VARIANT(load)(const float *p) { return *(const unaligned_vfloat *)p; }
INLINE void VARIANT(store)(float *p, vfloat v) { *(unaligned_vfloat *)p = v; }
/// a b + c: with one rounding (the instruction of AVX-512, AVX2 with FMA and arm64), or on x86-64's
/// baseline, which has none, the product rounded and then the sum (UNIT_FUSES, set by Kernels.c).
#if UNIT_FUSES
INLINE vfloat VARIANT(fma)(vfloat a, vfloat b, vfloat c) { return __builtin_elementwise_fma(a, b, c); }
#else
INLINE vfloat VARIANT(fma)(vfloat a, vfloat b, vfloat c) { return a * b + c; }
#endif
INLINE vfloat VARIANT(select)(vint mask, vfloat a, vfloat b) {
    return (vfloat)(((vint)a & mask) | ((vint)b & ~mask));
}

/// Swift's min(x, c) and max(x, c), lane by lane: a NaN in x stays, as it does in Swift.
INLINE vfloat VARIANT(minimum)(vfloat x, float c) {
    vfloat y = VARIANT(splat)(c);
    return VARIANT(select)(y < x, y, x);
}
INLINE vfloat VARIANT(maximum)(vfloat x, float c) {
    vfloat y = VARIANT(splat)(c);
    return VARIANT(select)(y >= x, y, x);
}

/// e^x: Cephes' expf. Range reduction by n = round(x / ln 2) (adding 1.5 * 2^23 rounds to the nearest
/// integer and leaves it in the low mantissa bits), a degree-5 polynomial, then scaling by 2^n through
/// the exponent bits. Fused multiply-adds throughout.
INLINE vfloat VARIANT(exponential)(vfloat x) {
    x = VARIANT(minimum)(VARIANT(maximum)(x, -87.0f), 88.0f);
    vfloat shifted = VARIANT(fma)(x, VARIANT(splat)(1.44269504f), VARIANT(splat)(12582912.0f));
    vfloat n = shifted - 12582912.0f;
    vfloat r = VARIANT(fma)(n, VARIANT(splat)(-0.693359375f), x);
    r = VARIANT(fma)(n, VARIANT(splat)(2.1219444e-4f), r);
    vfloat p = VARIANT(splat)(1.98756915e-4f);
    p = VARIANT(fma)(p, r, VARIANT(splat)(1.39819995e-3f));
    p = VARIANT(fma)(p, r, VARIANT(splat)(8.3334519e-3f));
    p = VARIANT(fma)(p, r, VARIANT(splat)(4.16657959e-2f));
    p = VARIANT(fma)(p, r, VARIANT(splat)(1.66666655e-1f));
    p = VARIANT(fma)(p, r, VARIANT(splat)(5.00000012e-1f));
    vuint exponent = ((vuint)shifted - 0x4B400000u + 127u) << 23;
    return (VARIANT(fma)(p, r * r, r) + 1.0f) * (vfloat)exponent;
}

/// Mish(x) = x tanh(softplus(x)) with one exponential: with w = e^x, tanh(log(1 + w)) = n / (n + 2)
/// where n = w(w + 2) = w² + 2w. Above x = 20 it is 1 in Float (PyTorch's softplus threshold), so x is
/// capped there.
INLINE vfloat VARIANT(mish)(vfloat x) {
    vfloat w = VARIANT(exponential)(VARIANT(minimum)(x, 20.0f));
    vfloat n = VARIANT(fma)(w, w, w + w);
    return x * (n / (n + 2.0f));
}

/// Mish (the bits of `mish`) and Mish'(x) = tanh(sp) + x (1 - tanh²(sp)) sigmoid(x), sp = softplus(x),
/// from the same exponential. With n + 1 = (w + 1)², 1 - tanh²(sp) = 4(n + 1) / d² (d = n + 2), which
/// keeps its precision where tanh(sp) is near 1, and sigmoid(x) = w / (w + 1), the second term is
/// x · 4w(w + 1) / d²: one division besides tanh's, the divider being what limits this kernel.
INLINE void VARIANT(mish_and_derivative)(vfloat x, vfloat *value, vfloat *derivative) {
    vfloat w = VARIANT(exponential)(VARIANT(minimum)(x, 20.0f));
    vfloat n = VARIANT(fma)(w, w, w + w), d = n + 2.0f, t = n / d;
    *value = x * t;
    *derivative = VARIANT(fma)(x, 4.0f * VARIANT(fma)(w, w, w) / (d * d), t);
}

/// The last count % LANES elements of x, padded with zeros to a whole vector, so that they go through
/// the same vector code as the rest.
INLINE vfloat VARIANT(load_tail)(const float *x, long count) {
    float lanes[LANES] = {0};
    for (long i = 0; i < count; i++) lanes[i] = x[i];
    return VARIANT(load)(lanes);
}

INLINE void VARIANT(store_tail)(float *y, vfloat v, long count) {
    float lanes[LANES];
    VARIANT(store)(lanes, v);
    for (long i = 0; i < count; i++) y[i] = lanes[i];
}

/// ReLU as Swift's max(x, 0) gives it: a NaN stays.
INLINE vfloat VARIANT(relu)(vfloat x) { return VARIANT(maximum)(x, 0.0f); }

/// The gradient past a ReLU: zero where x <= 0, kept elsewhere (a NaN in x keeps it), set rather than
/// multiplied so that no -0 or NaN arises from a product.
INLINE vfloat VARIANT(relu_backward)(vfloat x, vfloat gradient) {
    return VARIANT(select)(x <= 0.0f, VARIANT(splat)(0.0f), gradient);
}

INLINE vfloat VARIANT(multiply)(vfloat factor, vfloat gradient) { return gradient * factor; }

/// ReLU's recording pass: the value, and its input kept for the backward pass.
INLINE void VARIANT(relu_and_input)(vfloat x, vfloat *value, vfloat *input) {
    *value = VARIANT(relu)(x);
    *input = x;
}

/// y[i] = function(x[i]) for i < count, the last count % LANES elements through the same vector code as the rest.
#define ELEMENTWISE(name, function)                                                                         \
    static void VARIANT(name)(const float *x, float *y, long count) {                                       \
        long whole = count / LANES * LANES;                                                                 \
        for (long i = 0; i < whole; i += LANES) VARIANT(store)(y + i, VARIANT(function)(VARIANT(load)(x + i))); \
        if (whole < count)                                                                                  \
            VARIANT(store_tail)(y + whole, VARIANT(function)(VARIANT(load_tail)(x + whole, count - whole)),   \
                                count - whole);                                                             \
    }

/// A layer's activation with its bias: y[r * width + j] = function(x[r * width + j] + bias[j]) for r < rows
/// and j < width, each row's last width % LANES elements padded with zeros through the same vector code.
#define ROWWISE(name, function)                                                                             \
    static void VARIANT(name)(const float *x, const float *bias, long width, long rows, float *y) {         \
        long whole = width / LANES * LANES, rest = width - whole;                                           \
        for (long r = 0; r < rows; r++, x += width, y += width) {                                           \
            for (long j = 0; j < whole; j += LANES)                                                         \
                VARIANT(store)(y + j, VARIANT(function)(VARIANT(load)(x + j) + VARIANT(load)(bias + j)));   \
            if (rest > 0) {                                                                                 \
                vfloat v = VARIANT(load_tail)(x + whole, rest) + VARIANT(load_tail)(bias + whole, rest);    \
                VARIANT(store_tail)(y + whole, VARIANT(function)(v), rest);                                 \
            }                                                                                               \
        }                                                                                                   \
    }

/// ROWWISE for a recording pass: function(x + bias, &value, &recorded) gives the activation's value and
/// what its backward pass reads; recorded may be x, value must overlap neither.
#define ROWWISE_RECORDING(name, function)                                                                   \
    static void VARIANT(name)(const float *x, const float *bias, long width, long rows, float *value,      \
                              float *recorded) {                                                            \
        long whole = width / LANES * LANES, rest = width - whole;                                           \
        vfloat v, d;                                                                                        \
        for (long r = 0; r < rows; r++, x += width, value += width, recorded += width) {                    \
            for (long j = 0; j < whole; j += LANES) {                                                       \
                VARIANT(function)(VARIANT(load)(x + j) + VARIANT(load)(bias + j), &v, &d);                  \
                VARIANT(store)(value + j, v);                                                               \
                VARIANT(store)(recorded + j, d);                                                            \
            }                                                                                               \
            if (rest > 0) {                                                                                 \
                VARIANT(function)(VARIANT(load_tail)(x + whole, rest) + VARIANT(load_tail)(bias + whole, rest), &v, &d); \
                VARIANT(store_tail)(value + whole, v, rest);                                                \
                VARIANT(store_tail)(recorded + whole, d, rest);                                             \
            }                                                                                               \
        }                                                                                                   \
    }

/// gradient[i] = function(x[i], gradient[i]) for i < count, the tail as in ELEMENTWISE.
#define ELEMENTWISE_BACKWARD(name, function)                                                                \
    static void VARIANT(name)(const float *x, float *gradient, long count) {                                 \
        long whole = count / LANES * LANES;                                                                 \
        for (long i = 0; i < whole; i += LANES)                                                             \
            VARIANT(store)(gradient + i, VARIANT(function)(VARIANT(load)(x + i), VARIANT(load)(gradient + i))); \
        if (whole < count) {                                                                                \
            long rest = count - whole;                                                                      \
            vfloat result = VARIANT(function)(VARIANT(load_tail)(x + whole, rest), VARIANT(load_tail)(gradient + whole, rest)); \
            VARIANT(store_tail)(gradient + whole, result, rest);                                            \
        }                                                                                                   \
    }

ELEMENTWISE(exponential_all, exponential)
ROWWISE(mish_rows, mish)
ROWWISE(relu_rows, relu)
ROWWISE_RECORDING(mish_recording_rows, mish_and_derivative)
ROWWISE_RECORDING(relu_recording_rows, relu_and_input)
ELEMENTWISE_BACKWARD(multiply_all, multiply)
ELEMENTWISE_BACKWARD(relu_backward_all, relu_backward)
#undef ELEMENTWISE
#undef ROWWISE
#undef ROWWISE_RECORDING
#undef ELEMENTWISE_BACKWARD

/// Σ x[i]² in double, the same bits on every unit: lane l of 16 adds the squares (exact in double) at
/// i = l, l + 16, ... in order, the tail padded with zeros, and the lanes are then added in order.
static double VARIANT(sum_of_squares)(const float *x, long count) {
    vdouble sum = {0};
    long whole = count / LANES * LANES;
    for (long i = 0; i < whole; i += LANES) {
        vdouble v = __builtin_convertvector(VARIANT(load)(x + i), vdouble);
        sum += v * v;
    }
    if (whole < count) {
        vdouble v = __builtin_convertvector(VARIANT(load_tail)(x + whole, count - whole), vdouble);
        sum += v * v;
    }
    double total = 0;
    for (int lane = 0; lane < LANES; lane++) total += sum[lane];
    return total;
}

/// y[r * count + j] += row[j] for r < rows and j < count: the bias of a layer that no activation follows.
static void VARIANT(add_row_all)(const float *row, long count, long rows, float *y) {
    long whole = count / LANES * LANES;
    for (long r = 0; r < rows; r++, y += count) {
        for (long j = 0; j < whole; j += LANES) VARIANT(store)(y + j, VARIANT(load)(y + j) + VARIANT(load)(row + j));
        for (long j = whole; j < count; j++) y[j] += row[j];
    }
}

/// One Adam step over `count` parameters, in the order of operations of PyTorch's update:
/// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g g, p -= step m / (sqrt(v) / c2 + eps).
INLINE void VARIANT(adam_lanes)(vfloat *p, vfloat g, vfloat *m, vfloat *v, float beta1, float beta2, float stepSize,
                                float sqrtCorrection2, float epsilon) {
    *m = beta1 * *m + (1.0f - beta1) * g;
    *v = beta2 * *v + (1.0f - beta2) * g * g;
    *p = *p - (stepSize * *m) / (__builtin_elementwise_sqrt(*v) / sqrtCorrection2 + epsilon);
}

static void VARIANT(adam_all)(float *p, const float *g, float *m, float *v, long count, float beta1, float beta2,
                              float stepSize, float sqrtCorrection2, float epsilon) {
    long whole = count / LANES * LANES;
    for (long i = 0; i < whole; i += LANES) {
        vfloat pl = VARIANT(load)(p + i), ml = VARIANT(load)(m + i), vl = VARIANT(load)(v + i);
        VARIANT(adam_lanes)(&pl, VARIANT(load)(g + i), &ml, &vl, beta1, beta2, stepSize, sqrtCorrection2, epsilon);
        VARIANT(store)(p + i, pl);
        VARIANT(store)(m + i, ml);
        VARIANT(store)(v + i, vl);
    }
    if (whole < count) {
        long rest = count - whole;
        vfloat pl = VARIANT(load_tail)(p + whole, rest), ml = VARIANT(load_tail)(m + whole, rest);
        vfloat vl = VARIANT(load_tail)(v + whole, rest);
        VARIANT(adam_lanes)(&pl, VARIANT(load_tail)(g + whole, rest), &ml, &vl, beta1, beta2, stepSize, sqrtCorrection2, epsilon);
        VARIANT(store_tail)(p + whole, pl, rest);
        VARIANT(store_tail)(m + whole, ml, rest);
        VARIANT(store_tail)(v + whole, vl, rest);
    }
}

