/*
 * Elementwise kernels (docs/IR.md; op codes 1-99, the same numbers as
 * core/compiler/ops/elementwise.ts, whose JSDoc documents each op's ints/floats layout).
 *
 * Integer semantics (ONNX leaves them to the implementation; numpy's where it defines them):
 * + - * wrap around modulo 2^bits; division truncates toward zero, x / 0 = 0 and
 * INT_MIN / -1 = INT_MIN (wrapped), so no input can trap. Float to integer conversions
 * truncate; out-of-range values give what x86-64 SSE gives (core/runtime/README.md), through
 * int32 for 8- and 16-bit targets and through int64 for uint32, on both builds.
 */
#include "broadcast.h"
#include "kernel.h"
#include "ops.h"
#include "mathf.h"
#include "smallfloat.h"
#include "simd.h"

/* Canonical binary64 NaNs in a double output: the interpreter canonicalises only float32, and
 * x86 (sign set, payload kept) and the soft-float (0x7FF8...) produce different NaN bits. */
static void canon_f64(opml_tensor *t) {
  if (t->dtype != DT_DOUBLE) return;
  uint64_t *w = (uint64_t *)t->data;
  for (uint32_t i = 0; i < t->size; i++) {
    if ((w[i] & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull) w[i] = 0x7FF8000000000000ull;
  }
}

/* ---- binary arithmetic with broadcasting ------------------------------------------------ */

/* wrapping + - * on integers: computed in the unsigned type W, so no signed overflow */
#define INT_ARITH(T, W)                                                                       \
  switch (op) {                                                                               \
    case OP_ADD: BINARY_LOOP(T, T, (W)xv + (W)yv); break;                                     \
    case OP_SUB: BINARY_LOOP(T, T, (W)xv - (W)yv); break;                                     \
    case OP_MUL: BINARY_LOOP(T, T, (W)xv * (W)yv); break;                                     \
    default: BINARY_LOOP(T, T, yv == 0 ? (W)0 : (W)(xv / yv)); break;                        \
  }
#define SINT_ARITH(T, W)                                                                      \
  switch (op) {                                                                               \
    case OP_ADD: BINARY_LOOP(T, T, (W)xv + (W)yv); break;                                     \
    case OP_SUB: BINARY_LOOP(T, T, (W)xv - (W)yv); break;                                     \
    case OP_MUL: BINARY_LOOP(T, T, (W)xv * (W)yv); break;                                     \
    default:                                                                                  \
      BINARY_LOOP(T, T, yv == 0 ? (W)0 : yv == -1 ? (W)0 - (W)xv : (W)(xv / yv));             \
      break;                                                                                  \
  }
#define FLOAT_ARITH(T)                                                                        \
  switch (op) {                                                                               \
    case OP_ADD: BINARY_LOOP(T, T, xv + yv); break;                                           \
    case OP_SUB: BINARY_LOOP(T, T, xv - yv); break;                                           \
    case OP_MUL: BINARY_LOOP(T, T, xv * yv); break;                                           \
    default: BINARY_LOOP(T, T, xv / yv); break;                                               \
  }

#if defined(OPML_X86)
/* FLOAT_ARITH(float) in 16-lane AVX-512 registers (GCC's vectors of the same loops: each lane
 * one output's single IEEE operation, so the same bits): the SSE loops of the default build
 * were 7% of efficientnet_b0's time (SiLU's and the squeeze-excitation's products). */
__attribute__((target("avx512f,prefer-vector-width=512"))) static void arith_f32_avx512(const opml_node *node,
                                                                                        opml_bcast bc) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  const uint16_t op = node->op;
  FLOAT_ARITH(float);
}
#endif

/* Add, Sub, Mul, Div: in[0], in[1] and out of one dtype; no attributes. */
static int k_arith(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  uint16_t op = node->op;
  opml_bcast bc;
  if (a->dtype != o->dtype || c->dtype != o->dtype) return OPML_EDTYPE;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  switch (o->dtype) {
    case DT_FLOAT:
#if defined(OPML_X86)
      if (opml_use_avx512()) {
        arith_f32_avx512(node, bc);
        break;
      }
#endif
      FLOAT_ARITH(float);
      break;
    case DT_DOUBLE: FLOAT_ARITH(double); canon_f64(o); break;
    case DT_INT8: SINT_ARITH(int8_t, uint32_t); break;
    case DT_INT16: SINT_ARITH(int16_t, uint32_t); break;
    case DT_INT32: SINT_ARITH(int32_t, uint32_t); break;
    case DT_INT64: SINT_ARITH(int64_t, uint64_t); break;
    case DT_UINT8: INT_ARITH(uint8_t, uint32_t); break;
    case DT_UINT16: INT_ARITH(uint16_t, uint32_t); break;
    case DT_UINT32: INT_ARITH(uint32_t, uint32_t); break;
    case DT_UINT64: INT_ARITH(uint64_t, uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* Equal: out (bool) = in[0] == in[1], any dtype (floats: IEEE, NaN unequal, -0 == +0). */
static int k_equal(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  opml_bcast bc;
  if (a->dtype != c->dtype || o->dtype != DT_BOOL) return OPML_EDTYPE;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  switch (a->dtype) {
    case DT_FLOAT: BINARY_LOOP(float, uint8_t, xv == yv); break;
    case DT_DOUBLE: BINARY_LOOP(double, uint8_t, xv == yv); break;
    case DT_BOOL: BINARY_LOOP(uint8_t, uint8_t, (xv != 0) == (yv != 0)); break;
    case DT_INT8: case DT_UINT8: BINARY_LOOP(uint8_t, uint8_t, xv == yv); break;
    case DT_INT16: case DT_UINT16: BINARY_LOOP(uint16_t, uint8_t, xv == yv); break;
    case DT_INT32: case DT_UINT32: BINARY_LOOP(uint32_t, uint8_t, xv == yv); break;
    case DT_INT64: case DT_UINT64: BINARY_LOOP(uint64_t, uint8_t, xv == yv); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ---- Pow -------------------------------------------------------------------------------- */

static int64_t load_int(const void *p, uint8_t dt, uint32_t i) {
  switch (dt) {
    case DT_INT8: case DT_INT4: case DT_INT2: return ((const int8_t *)p)[i];
    case DT_UINT8: case DT_UINT4: case DT_UINT2: return ((const uint8_t *)p)[i];
    case DT_INT16: return ((const int16_t *)p)[i];
    case DT_UINT16: return ((const uint16_t *)p)[i];
    case DT_INT32: return ((const int32_t *)p)[i];
    case DT_UINT32: return ((const uint32_t *)p)[i];
    case DT_INT64: return ((const int64_t *)p)[i];
    default: return (int64_t)((const uint64_t *)p)[i];
  }
}

static float load_float(const void *p, uint8_t dt, uint32_t i) {
  switch (dt) {
    case DT_FLOAT: return ((const float *)p)[i];
    case DT_UINT64: return (float)((const uint64_t *)p)[i];
    default: return (float)load_int(p, dt, i);
  }
}

/* x^e on integers, wrapping modulo 2^64; for e < 0 the truncated real result (0 unless |x| = 1,
 * and 0 for x = 0). */
static uint64_t ipow(int64_t x, int64_t e) {
  if (e < 0) return x == 1 ? 1 : x == -1 ? ((e & 1) ? (uint64_t)-1 : 1) : 0;
  uint64_t r = 1, b = (uint64_t)x, u = (uint64_t)e;
  while (u) {
    if (u & 1) r *= b;
    b *= b;
    u >>= 1;
  }
  return r;
}

/* An integral float exponent in int64 range, as an integer (else *ok = 0). */
static int64_t integral(float y, int *ok) {
  *ok = y == opml_floorf(y) && y > -9.2e18f && y < 9.2e18f;
  return *ok ? (int64_t)y : 0;
}

/*
 * Pow: out = in[0] ^ in[1] with out's dtype = in[0]'s. Base float: opml_powf, the exponent
 * converted to float. Base int32/int64: integer power (wrapping) for an integer exponent or an
 * integral float one, else the float power truncated like Cast.
 */
static int k_pow(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  uint8_t bt = a->dtype, et = c->dtype;
  int efloat = et == DT_FLOAT;
  opml_bcast bc;
  if (bt != o->dtype || (bt != DT_FLOAT && bt != DT_INT32 && bt != DT_INT64)) return OPML_EDTYPE;
  if (!efloat && (et == DT_DOUBLE || et == DT_BOOL || opml_dtype_size(et) == 0)) return OPML_EDTYPE;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  if (bt == DT_FLOAT && efloat && c->size == 1 && a->size == o->size && opml_f32_bits(*(const float *)c->data) == 0x40000000u) {
    /* x^2 (RMS norms): opml_powf's own x * x for y = 2, without a call per element */
    const float *x = a->data;
    float *y = o->data;
    for (uint32_t i = 0; i < o->size; i++) y[i] = x[i] * x[i];
    return OPML_OK;
  }
  for (uint32_t r = 0; r < bc.rows; r++, opml_bcast_next(&bc)) {
    uint32_t ix = bc.off[0], iy = bc.off[1], base = r * bc.inner;
    for (uint32_t i = 0; i < bc.inner; i++, ix += bc.step[0], iy += bc.step[1]) {
      if (bt == DT_FLOAT) {
        ((float *)o->data)[base + i] = opml_powf(((const float *)a->data)[ix], load_float(c->data, et, iy));
        continue;
      }
      int64_t x = load_int(a->data, bt, ix), e;
      int ok = 1;
      uint64_t v;
      if (efloat) {
        float y = ((const float *)c->data)[iy];
        e = integral(y, &ok);
        if (ok) v = ipow(x, e);
        else if (bt == DT_INT32) v = (uint64_t)(int64_t)opml_f32_to_i32(opml_powf((float)x, y));
        else v = (uint64_t)(int64_t)opml_powf((float)x, y);
      } else {
        v = ipow(x, load_int(c->data, et, iy));
      }
      if (bt == DT_INT32) ((int32_t *)o->data)[base + i] = (int32_t)(uint32_t)v;
      else ((int64_t *)o->data)[base + i] = (int64_t)v;
    }
  }
  return OPML_OK;
}

/* ---- Where ------------------------------------------------------------------------------ */

#define WHERE_LOOP(T)                                                                         \
  do {                                                                                        \
    const uint8_t *C_ = (const uint8_t *)node->in[0]->data;                                   \
    const T *X_ = (const T *)node->in[1]->data, *Y_ = (const T *)node->in[2]->data;           \
    T *O_ = (T *)o->data;                                                                     \
    for (uint32_t r_ = 0; r_ < bc.rows; r_++, opml_bcast_next(&bc)) {                         \
      const uint8_t *c_ = C_ + bc.off[0];                                                     \
      const T *x_ = X_ + bc.off[1], *y_ = Y_ + bc.off[2];                                     \
      T *z_ = O_ + (size_t)r_ * bc.inner;                                                     \
      /* contiguous rows, and a row against one value (masks): loops GCC vectorises */        \
      if (bc.step[0] == 1 && bc.step[1] == 1 && bc.step[2] == 1) {                            \
        for (uint32_t i_ = 0; i_ < bc.inner; i_++) z_[i_] = c_[i_] ? x_[i_] : y_[i_];         \
      } else if (bc.step[0] == 1 && bc.step[1] == 1 && bc.step[2] == 0) {                     \
        const T yv_ = *y_;                                                                    \
        for (uint32_t i_ = 0; i_ < bc.inner; i_++) z_[i_] = c_[i_] ? x_[i_] : yv_;            \
      } else if (bc.step[0] == 1 && bc.step[1] == 0 && bc.step[2] == 1) {                     \
        const T xv_ = *x_;                                                                    \
        for (uint32_t i_ = 0; i_ < bc.inner; i_++) z_[i_] = c_[i_] ? xv_ : y_[i_];            \
      } else {                                                                                \
        for (uint32_t i_ = 0; i_ < bc.inner; i_++) {                                          \
          z_[i_] = c_[i_ * bc.step[0]] ? x_[i_ * bc.step[1]] : y_[i_ * bc.step[2]];           \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
  } while (0)

#if defined(OPML_X86)
/* One row of a 4-byte Where, 16 lanes at a time (GCC does not vectorise the byte mask against
 * 4-byte lanes): x and y are rows (step 1) or one value (step 0); the same bits are selected. */
__attribute__((target("avx512f"))) static void where32_row_avx512(const uint8_t *c, const uint32_t *x, int xs,
                                                                  const uint32_t *y, int ys, uint32_t *z,
                                                                  uint32_t n) {
  const __m512i x1 = _mm512_set1_epi32((int)*x), y1 = _mm512_set1_epi32((int)*y);
  for (uint32_t i = 0; i < n; i += 16) {
    const __mmask16 t = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    uint8_t tail[16] = {0}; /* the last partial row of masks: no read past its end */
    if (t != 0xffff) memcpy(tail, c + i, n - i);
    const __m512i cv = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(t == 0xffff ? c + i : tail)));
    const __mmask16 m = _mm512_test_epi32_mask(cv, cv);
    const __m512i xv = xs ? _mm512_maskz_loadu_epi32(t, x + i) : x1;
    const __m512i yv = ys ? _mm512_maskz_loadu_epi32(t, y + i) : y1;
    _mm512_mask_storeu_epi32(z + i, t, _mm512_mask_blend_epi32(m, yv, xv));
  }
}

/* 1 iff the rows of bc were done by where32_row_avx512 (condition rows contiguous). */
static int where32_avx512(const opml_node *node, opml_tensor *o, opml_bcast *bc) {
  if (!opml_use_avx512() || bc->step[0] != 1 || bc->step[1] > 1 || bc->step[2] > 1) return 0;
  const uint8_t *C = (const uint8_t *)node->in[0]->data;
  const uint32_t *X = (const uint32_t *)node->in[1]->data, *Y = (const uint32_t *)node->in[2]->data;
  for (uint32_t r = 0; r < bc->rows; r++, opml_bcast_next(bc)) {
    where32_row_avx512(C + bc->off[0], X + bc->off[1], (int)bc->step[1], Y + bc->off[2], (int)bc->step[2],
                       (uint32_t *)o->data + (size_t)r * bc->inner, bc->inner);
  }
  return 1;
}
#endif

/* Where: out = in[0] (bool) ? in[1] : in[2], any dtype (copied as bits). */
static int k_where(const opml_node *node) {
  opml_tensor *o = node->out[0];
  opml_bcast bc;
  if (node->in[0]->dtype != DT_BOOL || node->in[1]->dtype != o->dtype || node->in[2]->dtype != o->dtype) {
    return OPML_EDTYPE;
  }
  if (opml_bcast_init(&bc, o, node->in, 3)) return OPML_EATTR;
  switch (opml_dtype_size(o->dtype)) {
    case 1: WHERE_LOOP(uint8_t); break;
    case 2: WHERE_LOOP(uint16_t); break;
    case 4:
#if defined(OPML_X86)
      if (where32_avx512(node, o, &bc)) break;
#endif
      WHERE_LOOP(uint32_t);
      break;
    case 8: WHERE_LOOP(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ---- unary ------------------------------------------------------------------------------ */

#if defined(OPML_X86)
/* Float Relu in 16-lane AVX-512 registers (GCC's vectors of the same loop, each lane the same
 * selection: the default build's 4 lanes were 5% of densenet121's time). */
__attribute__((target("avx512f,prefer-vector-width=512"))) static void relu_f32_avx512(const opml_tensor *x,
                                                                                       opml_tensor *o) {
  UNARY_LOOP(float, v < 0.0f ? 0.0f : v);
}
#endif

/* Relu: max(x, 0) keeping NaN and -0; float, double, int8/16/32/64. */
static int k_relu(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  if (x->dtype != o->dtype || x->size != o->size) return OPML_EDTYPE;
  switch (x->dtype) {
    case DT_FLOAT:
#if defined(OPML_X86)
      if (opml_use_avx512()) {
        relu_f32_avx512(x, o);
        break;
      }
#endif
      UNARY_LOOP(float, v < 0.0f ? 0.0f : v);
      break;
    case DT_DOUBLE: UNARY_LOOP(double, v < 0.0 ? 0.0 : v); break;
    case DT_INT8: UNARY_LOOP(int8_t, v < 0 ? 0 : v); break;
    case DT_INT16: UNARY_LOOP(int16_t, v < 0 ? 0 : v); break;
    case DT_INT32: UNARY_LOOP(int32_t, v < 0 ? 0 : v); break;
    case DT_INT64: UNARY_LOOP(int64_t, v < 0 ? 0 : v); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* Float unary ops: LeakyRelu (floats = [alpha]), Gelu (ints = [0 exact | 1 tanh]), and
 * Sigmoid, Tanh, Exp, Erf, Sqrt; Exp and Sqrt on double too. */
static int k_unary_float(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  if ((node->op == OP_EXP || node->op == OP_SQRT) && x->dtype == DT_DOUBLE && o->dtype == DT_DOUBLE &&
      x->size == o->size) {
    if (node->op == OP_EXP) UNARY_LOOP(double, opml_exp(v));
    else UNARY_LOOP(double, opml_sqrt(v));
    return OPML_OK;
  }
  if (x->dtype != DT_FLOAT || o->dtype != DT_FLOAT || x->size != o->size) return OPML_EDTYPE;
  switch (node->op) {
    case OP_LEAKY_RELU: {
      if (node->n_floats != 1) return OPML_EATTR;
      float alpha = node->floats[0];
      UNARY_LOOP(float, v < 0.0f ? v * alpha : v);
      break;
    }
    case OP_GELU: {
      if (node->n_ints != 1) return OPML_EATTR;
      /* tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), erf: 0.5 x (1 + erf(x / sqrt(2))),
       * in runs through the array forms of tanh and erf */
      const int approx = node->ints[0] != 0;
      const float *X = x->data;
      float *Z = o->data, t[256];
      for (uint32_t i0 = 0; i0 < o->size; i0 += 256) {
        const uint32_t n = o->size - i0 < 256 ? o->size - i0 : 256;
        for (uint32_t i = 0; i < n; i++) {
          const float v = X[i0 + i];
          t[i] = approx ? 0.7978845608f * (v + 0.044715f * (v * v * v)) : v * 0.70710678f;
        }
        if (approx) opml_tanhf_n(t, t, n);
        else opml_erff_n(t, t, n);
        for (uint32_t i = 0; i < n; i++) Z[i0 + i] = 0.5f * X[i0 + i] * (1.0f + t[i]);
      }
      break;
    }
    case OP_SIGMOID: opml_sigmoidf_n(x->data, o->data, o->size); break;
    case OP_TANH: opml_tanhf_n(x->data, o->data, o->size); break;
    case OP_EXP: opml_expf_n(x->data, o->data, o->size); break;
    case OP_ERF: opml_erff_n(x->data, o->data, o->size); break;
    case OP_SQRT: UNARY_LOOP(float, opml_sqrtf(v)); break;
    default: return OPML_EATTR;
  }
  return OPML_OK;
}

/* ---- Clip ------------------------------------------------------------------------------- */

/* A bound from input k when present, else from the attributes. */
#define CLIP_BOUND(T, k, attr) \
  ((node->n_in > (k) && node->in[k]) ? ((const T *)node->in[k]->data)[0] : (T)(attr))
#define CLIP_LOOP(T, LO, HI)                                                                  \
  do {                                                                                        \
    T lo = (LO), hi = (HI);                                                                   \
    UNARY_LOOP(T, (v < lo ? lo : v) > hi ? hi : (v < lo ? lo : v));                           \
  } while (0)
#define CLIP_INT(T) CLIP_LOOP(T, CLIP_BOUND(T, 1, node->ints[0]), CLIP_BOUND(T, 2, node->ints[1]))

/*
 * Clip: min(max(x, lo), hi), so lo > hi gives hi and NaN stays NaN. A bound comes from input 1
 * (lo) or 2 (hi) when present (its first element), else from the attributes: floats = [lo, hi]
 * for float, ints = [lo, hi] for integer dtypes (the same bits for uint64).
 */
#if defined(OPML_X86)
/* Float Clip 16 lanes at a time (ReLU6 of the mobilenets): the scalar expression's two ordered
 * comparisons per lane (false for NaN, which passes through; -0 stays -0), masked tail. */
__attribute__((target("avx512f"))) static void clip_f32_avx512(const float *x, float *y, uint32_t n, float lo,
                                                               float hi) {
  const __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi);
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) { /* (no masks but in the tail: masked loads and stores are slow) */
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, l, _CMP_LT_OQ), v, l);
    _mm512_storeu_ps(y + i, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, h, _CMP_GT_OQ), t, h));
  }
  if (i < n) {
    const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __m512 t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, l, _CMP_LT_OQ), v, l);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, h, _CMP_GT_OQ), t, h));
  }
}
#endif

static int k_clip(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  if (x->dtype != o->dtype || x->size != o->size) return OPML_EDTYPE;
  for (uint32_t k = 1; k < node->n_in && k < 3; k++) {
    if (node->in[k] && (node->in[k]->dtype != x->dtype || node->in[k]->size < 1)) return OPML_EDTYPE;
  }
  if (x->dtype == DT_FLOAT) {
    if (node->n_floats != 2) return OPML_EATTR;
#if defined(OPML_X86)
    if (opml_use_avx512()) {
      clip_f32_avx512(x->data, o->data, o->size, CLIP_BOUND(float, 1, node->floats[0]),
                      CLIP_BOUND(float, 2, node->floats[1]));
      return OPML_OK;
    }
#endif
    CLIP_LOOP(float, CLIP_BOUND(float, 1, node->floats[0]), CLIP_BOUND(float, 2, node->floats[1]));
    return OPML_OK;
  }
  if (node->n_ints != 2) return OPML_EATTR;
  switch (x->dtype) {
    case DT_INT8: CLIP_INT(int8_t); break;
    case DT_UINT8: CLIP_INT(uint8_t); break;
    case DT_INT16: CLIP_INT(int16_t); break;
    case DT_UINT16: CLIP_INT(uint16_t); break;
    case DT_INT32: CLIP_INT(int32_t); break;
    case DT_UINT32: CLIP_INT(uint32_t); break;
    case DT_INT64: CLIP_INT(int64_t); break;
    case DT_UINT64: CLIP_INT(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ---- Cast ------------------------------------------------------------------------------- */

/* One conversion expression per target type, valid for every source type S (see the top). */
#define CAST_LOOP(S, D, EXPR)                                                                 \
  do {                                                                                        \
    const S *X_ = (const S *)x->data;                                                         \
    D *Z_ = (D *)o->data;                                                                     \
    for (uint32_t i_ = 0; i_ < o->size; i_++) {                                               \
      S v = X_[i_];                                                                           \
      Z_[i_] = (D)(EXPR);                                                                     \
    }                                                                                         \
  } while (0)
#define CAST_FROM(S)                                                                          \
  switch (o->dtype) {                                                                         \
    case DT_FLOAT: CAST_LOOP(S, float, v); break;                                             \
    case DT_DOUBLE: CAST_LOOP(S, double, v); break;                                           \
    case DT_INT8: CAST_LOOP(S, int8_t, OPML_I32(v)); break;                                    \
    case DT_UINT8: CAST_LOOP(S, uint8_t, OPML_I32(v)); break;                                  \
    case DT_INT16: CAST_LOOP(S, int16_t, OPML_I32(v)); break;                                  \
    case DT_UINT16: CAST_LOOP(S, uint16_t, OPML_I32(v)); break;                                \
    case DT_INT32: CAST_LOOP(S, int32_t, OPML_I32(v)); break;                                 \
    case DT_UINT32: CAST_LOOP(S, uint32_t, (int64_t)v); break;                                \
    case DT_INT64: CAST_LOOP(S, int64_t, v); break;                                           \
    case DT_UINT64: CAST_LOOP(S, uint64_t, v); break;                                         \
    case DT_BOOL: CAST_LOOP(S, uint8_t, v != 0); break;                                       \
    default: return OPML_EDTYPE;                                                              \
  }

/* The standard conversions: float, double, 8-64 bit integers, bool (int4/int2 read as int8,
 * uint4/uint2 as uint8, their unpacked storage). */
static int cast_standard(const opml_tensor *x, opml_tensor *o) {
  switch (x->dtype) {
    case DT_FLOAT: CAST_FROM(float); break;
    case DT_DOUBLE: CAST_FROM(double); break;
    case DT_INT8: case DT_INT4: case DT_INT2: CAST_FROM(int8_t); break;
    case DT_UINT8: case DT_UINT4: case DT_UINT2: CAST_FROM(uint8_t); break;
    case DT_BOOL: CAST_FROM(uint8_t); break;
    case DT_INT16: CAST_FROM(int16_t); break;
    case DT_UINT16: CAST_FROM(uint16_t); break;
    case DT_INT32: CAST_FROM(int32_t); break;
    case DT_UINT32: CAST_FROM(uint32_t); break;
    case DT_INT64: CAST_FROM(int64_t); break;
    case DT_UINT64: CAST_FROM(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* Element i of a standard dtype rounded to the small float `to` (one rounding from the exact
 * value; e8m0 from the float32 value, as the ONNX reference). */
static uint32_t to_small(const opml_tensor *x, uint32_t i, uint8_t to, int sat, int mode) {
  const void *p = x->data;
  if (to == DT_F8E8M0) {
    float f = x->dtype == DT_FLOAT ? ((const float *)p)[i]
            : x->dtype == DT_DOUBLE ? (float)((const double *)p)[i]
            : x->dtype == DT_UINT64 ? (float)(((const uint64_t *)p)[i] >> 1) * 2.0f
            : (float)load_int(p, x->dtype == DT_BOOL ? DT_UINT8 : x->dtype, i);
    return opml_e8m0_from_f32(f, sat, mode);
  }
  switch (x->dtype) {
    case DT_FLOAT: return opml_small_from_f32(to, ((const float *)p)[i], sat);
    case DT_DOUBLE: return opml_small_from_f64(to, ((const double *)p)[i], sat);
    case DT_UINT64: return opml_small_from_int(to, 0, ((const uint64_t *)p)[i], sat);
    default: {
      int64_t v = load_int(p, x->dtype == DT_BOOL ? DT_UINT8 : x->dtype, i);
      return opml_small_from_int(to, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, sat);
    }
  }
}

/*
 * Cast: out = in[0] converted to out's dtype; ints: [saturate, round_mode] (round_mode for
 * float8e8m0: 0 up, 1 down, 2 nearest). Between standard dtypes as the top of this file says. A
 * small float source is first widened exactly to double; a small float target is rounded once
 * from the exact source value (smallfloat.h); int4/uint4/int2/uint2 targets take the int32
 * conversion's low bits (wrapping, as the ONNX reference), sign-extended for int4/int2.
 */
static int k_cast(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  opml_tensor wide, narrow;
  int sat = node->n_ints > 0 ? node->ints[0] != 0 : 1, mode = node->n_ints > 1 ? (int)node->ints[1] : 0;
  int err = OPML_OK;
  double *tmp = 0;
  int32_t *tmp32 = 0;
  if (x->size != o->size) return OPML_EATTR;
  if (opml_is_small_float(x->dtype)) { /* exact widening */
    tmp = opml_alloc((size_t)x->size * sizeof(double));
    if (!tmp) return OPML_ENOMEM;
    for (uint32_t i = 0; i < x->size; i++) {
      uint32_t b = opml_dtype_size(x->dtype) == 2 ? ((const uint16_t *)x->data)[i] : ((const uint8_t *)x->data)[i];
      tmp[i] = opml_small_to_f64(x->dtype, b);
    }
    wide = *x;
    wide.dtype = DT_DOUBLE;
    wide.data = tmp;
    x = &wide;
  }
  uint8_t to = o->dtype;
  if (opml_is_small_float(to)) {
    for (uint32_t i = 0; i < o->size; i++) {
      uint32_t b = to_small(x, i, to, sat, mode);
      if (opml_dtype_size(to) == 2) ((uint16_t *)o->data)[i] = (uint16_t)b;
      else ((uint8_t *)o->data)[i] = (uint8_t)b;
    }
  } else if (to == DT_INT4 || to == DT_UINT4 || to == DT_INT2 || to == DT_UINT2) {
    tmp32 = opml_alloc((size_t)o->size * sizeof(int32_t));
    if (!tmp32) err = OPML_ENOMEM;
    else {
      narrow = *o;
      narrow.dtype = DT_INT32;
      narrow.data = tmp32;
      err = cast_standard(x, &narrow);
      uint32_t bits = (to == DT_INT4 || to == DT_UINT4) ? 4 : 2, mask = (1u << bits) - 1, sign = 1u << (bits - 1);
      int s = to == DT_INT4 || to == DT_INT2;
      for (uint32_t i = 0; i < o->size && !err; i++) {
        uint32_t v = (uint32_t)tmp32[i] & mask;
        ((uint8_t *)o->data)[i] = (uint8_t)(s && (v & sign) ? v | ~mask : v);
      }
    }
  } else {
    err = cast_standard(x, o);
  }
  if (tmp) opml_free(tmp);
  if (tmp32) opml_free(tmp32);
  canon_f64(o);
  return err;
}

const opml_kernel_entry opml_kernels_elementwise[] = {
    {OP_ADD, "Add", k_arith},
    {OP_SUB, "Sub", k_arith},
    {OP_MUL, "Mul", k_arith},
    {OP_DIV, "Div", k_arith},
    {OP_POW, "Pow", k_pow},
    {OP_EQUAL, "Equal", k_equal},
    {OP_WHERE, "Where", k_where},
    {OP_RELU, "Relu", k_relu},
    {OP_LEAKY_RELU, "LeakyRelu", k_unary_float},
    {OP_CLIP, "Clip", k_clip},
    {OP_SIGMOID, "Sigmoid", k_unary_float},
    {OP_TANH, "Tanh", k_unary_float},
    {OP_EXP, "Exp", k_unary_float},
    {OP_ERF, "Erf", k_unary_float},
    {OP_SQRT, "Sqrt", k_unary_float},
    {OP_GELU, "Gelu", k_unary_float},
    {OP_CAST, "Cast", k_cast},
    {0, 0, 0},
};
