/*
 * Math, activation, comparison, logic and bitwise kernels (docs/IR.md; the "math" family of
 * core/compiler/ops/schema.ts, which documents each op's ints/floats layout; lowering in
 * core/compiler/ops/math.ts). Float functions are mathf.c's; broadcasting is broadcast.h's.
 *
 * Integer semantics, chosen so that no input can trap: Neg and Abs wrap (-INT_MIN = INT_MIN);
 * Mod by 0 gives 0; BitShift by the type's width or more gives 0. Max and Min propagate NaN
 * (the first NaN operand wins); Sum and Mean add the inputs in input order, Mean then divides
 * by their count.
 */
#include "broadcast.h"
#include "kernel.h"
#include "mathf.h"
#include "ops.h"
#include "simd.h"

/* out[i] = EXPR(v) from type T to type TO. */
#define MAP_LOOP(T, TO, EXPR)                                                                 \
  do {                                                                                        \
    const T *X_ = (const T *)x->data;                                                         \
    TO *Z_ = (TO *)o->data;                                                                   \
    for (uint32_t i_ = 0; i_ < o->size; i_++) {                                               \
      T v = X_[i_];                                                                           \
      Z_[i_] = (TO)(EXPR);                                                                    \
    }                                                                                         \
  } while (0)

static float fabs_(float v) { return opml_bits_f32(opml_f32_bits(v) & 0x7FFFFFFFu); }
static float fmin_(float a, float b) { return a < b ? a : b; }
static float fmax_(float a, float b) { return a > b ? a : b; }

/* ---- float unary ------------------------------------------------------------------------ */

/* The float unary ops without a function call: (op, expression of v; f = the floats). */
#define FLOAT_UNARY_INLINE(X)                                                                 \
  X(OP_NEG, -v)                                                                               \
  X(OP_ABS, fabs_(v))                                                                         \
  X(OP_RECIPROCAL, 1.0f / v)                                                                  \
  X(OP_SIGN, v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v)                                          \
  X(OP_SOFTSIGN, v / (1.0f + fabs_(v)))                                                       \
  X(OP_HARD_SIGMOID, fmax_(0.0f, fmin_(1.0f, f[0] * v + f[1])))                               \
  X(OP_HARD_SWISH, opml_hardswishf(v))                                                        \
  X(OP_THRESHOLDED_RELU, v > f[0] ? v : 0.0f)                                                 \
  X(OP_BINARIZER, v > f[0] ? 1.0f : 0.0f)
#define FLOAT_UNARY_CASE(OP, EXPR) \
  case OP: UNARY_LOOP(float, EXPR); break;

#if defined(OPML_X86)
/* FLOAT_UNARY_INLINE in 16-lane AVX-512 registers: GCC's vectors of the same loops (each lane
 * the same operations; no FMA). 1 iff done. The default build's 4 lanes made HardSwish a
 * quarter of mobilenet_v3_small's time. */
__attribute__((target("avx512f,prefer-vector-width=512"))) static int float_unary_avx512(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  const float *f = node->floats;
  switch (node->op) {
    FLOAT_UNARY_INLINE(FLOAT_UNARY_CASE)
    default: return 0;
  }
  return 1;
}
#endif

static int k_float_unary(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  const float *f = node->floats;
  if (node->op == OP_LOG && x->dtype == DT_DOUBLE && o->dtype == DT_DOUBLE && x->size == o->size) {
    UNARY_LOOP(double, opml_log(v)); /* the one binary64 op of this family */
    return OPML_OK;
  }
  if (x->dtype != DT_FLOAT || o->dtype != DT_FLOAT || x->size != o->size) return OPML_EDTYPE;
  uint32_t need = 0;
  switch (node->op) {
    case OP_HARD_SIGMOID: case OP_SELU: need = 2; break;
    case OP_ELU: case OP_CELU: case OP_THRESHOLDED_RELU: case OP_BINARIZER: need = 1; break;
    default: break;
  }
  if (node->n_floats != need) return OPML_EATTR;
#if defined(OPML_X86)
  if (opml_use_avx512() && float_unary_avx512(node)) return OPML_OK;
#endif
  switch (node->op) {
    FLOAT_UNARY_INLINE(FLOAT_UNARY_CASE)
    case OP_FLOOR: UNARY_LOOP(float, opml_floorf(v)); break;
    case OP_CEIL: UNARY_LOOP(float, -opml_floorf(-v)); break;
    case OP_ROUND: UNARY_LOOP(float, opml_roundevenf(v)); break;
    case OP_LOG: UNARY_LOOP(float, opml_logf(v)); break;
    case OP_SIN: UNARY_LOOP(float, opml_sinf(v)); break;
    case OP_COS: UNARY_LOOP(float, opml_cosf(v)); break;
    case OP_TAN: UNARY_LOOP(float, opml_tanf(v)); break;
    case OP_SINH: UNARY_LOOP(float, opml_sinhf(v)); break;
    case OP_COSH: UNARY_LOOP(float, opml_coshf(v)); break;
    case OP_ASIN: UNARY_LOOP(float, opml_asinf(v)); break;
    case OP_ACOS: UNARY_LOOP(float, opml_acosf(v)); break;
    case OP_ATAN: UNARY_LOOP(float, opml_atanf(v)); break;
    case OP_ASINH: UNARY_LOOP(float, opml_asinhf(v)); break;
    case OP_ACOSH: UNARY_LOOP(float, opml_acoshf(v)); break;
    case OP_ATANH: UNARY_LOOP(float, opml_atanhf(v)); break;
    case OP_SOFTPLUS: UNARY_LOOP(float, opml_softplusf(v)); break;
    case OP_ELU: UNARY_LOOP(float, v < 0.0f ? f[0] * opml_expm1f(v) : v); break;
    case OP_SELU: UNARY_LOOP(float, v <= 0.0f ? f[1] * (f[0] * opml_expm1f(v)) : f[1] * v); break;
    case OP_CELU: UNARY_LOOP(float, fmax_(0.0f, v) + fmin_(0.0f, f[0] * opml_expm1f(v / f[0]))); break;
    case OP_MISH: UNARY_LOOP(float, v * opml_tanhf(opml_softplusf(v))); break;
    default: return OPML_EATTR;
  }
  return OPML_OK;
}

/* IsNaN, IsInf (ints: [detect_negative, detect_positive]): float in, bool out. */
static int k_float_class(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  if (x->dtype != DT_FLOAT || o->dtype != DT_BOOL || x->size != o->size) return OPML_EDTYPE;
  if (node->op == OP_IS_NAN) {
    MAP_LOOP(float, uint8_t, (opml_f32_bits(v) & 0x7FFFFFFFu) > 0x7F800000u);
    return OPML_OK;
  }
  if (node->n_ints != 2) return OPML_EATTR;
  uint32_t neg = node->ints[0] != 0, pos = node->ints[1] != 0;
  MAP_LOOP(float, uint8_t, opml_f32_bits(v) == 0xFF800000u ? neg : opml_f32_bits(v) == 0x7F800000u ? pos : 0);
  return OPML_OK;
}

/* ---- integer and bool unary ------------------------------------------------------------- */

#define SINT_UNARY(T, U)                                                                      \
  switch (node->op) {                                                                         \
    case OP_NEG: UNARY_LOOP(T, (T)((U)0 - (U)v)); break;                                      \
    case OP_ABS: UNARY_LOOP(T, v < 0 ? (T)((U)0 - (U)v) : v); break;                          \
    case OP_SIGN: UNARY_LOOP(T, (T)((v > 0) - (v < 0))); break;                               \
    case OP_BITWISE_NOT: UNARY_LOOP(T, (T)~(U)v); break;                                      \
    default: return OPML_EDTYPE;                                                              \
  }
#define UINT_UNARY(T)                                                                         \
  switch (node->op) {                                                                         \
    case OP_ABS: UNARY_LOOP(T, v); break;                                                     \
    case OP_SIGN: UNARY_LOOP(T, (T)(v != 0)); break;                                          \
    case OP_BITWISE_NOT: UNARY_LOOP(T, (T)~v); break;                                         \
    default: return OPML_EDTYPE;                                                              \
  }

/* Neg, Abs, Sign, BitwiseNot on integers; Not on bool. */
static int k_int_unary(const opml_node *node) {
  const opml_tensor *x = node->in[0];
  opml_tensor *o = node->out[0];
  if (x->dtype != o->dtype || x->size != o->size) return OPML_EDTYPE;
  if (node->op == OP_NOT) {
    if (x->dtype != DT_BOOL) return OPML_EDTYPE;
    UNARY_LOOP(uint8_t, (uint8_t)(v == 0));
    return OPML_OK;
  }
  switch (x->dtype) {
    case DT_INT8: SINT_UNARY(int8_t, uint32_t); break;
    case DT_INT16: SINT_UNARY(int16_t, uint32_t); break;
    case DT_INT32: SINT_UNARY(int32_t, uint32_t); break;
    case DT_INT64: SINT_UNARY(int64_t, uint64_t); break;
    case DT_UINT8: UINT_UNARY(uint8_t); break;
    case DT_UINT16: UINT_UNARY(uint16_t); break;
    case DT_UINT32: UINT_UNARY(uint32_t); break;
    case DT_UINT64: UINT_UNARY(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ---- binary ----------------------------------------------------------------------------- */

#define COMPARE(T)                                                                            \
  switch (node->op) {                                                                         \
    case OP_LESS: BINARY_LOOP(T, uint8_t, xv < yv); break;                                    \
    case OP_GREATER: BINARY_LOOP(T, uint8_t, xv > yv); break;                                 \
    case OP_LESS_OR_EQUAL: BINARY_LOOP(T, uint8_t, xv <= yv); break;                          \
    default: BINARY_LOOP(T, uint8_t, xv >= yv); break;                                        \
  }

/* Less, Greater, LessOrEqual, GreaterOrEqual: bool out, both inputs of one numeric dtype. */
static int k_compare(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  opml_bcast bc;
  if (a->dtype != c->dtype || o->dtype != DT_BOOL) return OPML_EDTYPE;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  switch (a->dtype) {
    case DT_FLOAT: COMPARE(float); break;
    case DT_DOUBLE: COMPARE(double); break;
    case DT_INT8: COMPARE(int8_t); break;
    case DT_UINT8: COMPARE(uint8_t); break;
    case DT_INT16: COMPARE(int16_t); break;
    case DT_UINT16: COMPARE(uint16_t); break;
    case DT_INT32: COMPARE(int32_t); break;
    case DT_UINT32: COMPARE(uint32_t); break;
    case DT_INT64: COMPARE(int64_t); break;
    case DT_UINT64: COMPARE(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

#define BITWISE(T)                                                                            \
  switch (node->op) {                                                                         \
    case OP_AND: case OP_BITWISE_AND: BINARY_LOOP(T, T, xv & yv); break;                      \
    case OP_OR: case OP_BITWISE_OR: BINARY_LOOP(T, T, xv | yv); break;                        \
    default: BINARY_LOOP(T, T, xv ^ yv); break;                                               \
  }

/* And, Or, Xor (bool, 0 or 1 in and out) and BitwiseAnd/Or/Xor (integers): the bits. */
static int k_bitwise(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  opml_bcast bc;
  int logic = node->op == OP_AND || node->op == OP_OR || node->op == OP_XOR;
  if (a->dtype != c->dtype || o->dtype != a->dtype || (logic != (a->dtype == DT_BOOL))) return OPML_EDTYPE;
  if (a->dtype == DT_FLOAT || a->dtype == DT_DOUBLE) return OPML_EDTYPE;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  switch (opml_dtype_size(a->dtype)) {
    case 1: BITWISE(uint8_t); break;
    case 2: BITWISE(uint16_t); break;
    case 4: BITWISE(uint32_t); break;
    case 8: BITWISE(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

#define SHIFT(T, W)                                                                           \
  do {                                                                                        \
    if (node->ints[0]) BINARY_LOOP(T, T, yv >= (W) ? 0 : xv >> yv);                           \
    else BINARY_LOOP(T, T, yv >= (W) ? 0 : xv << yv);                                         \
  } while (0)

/* BitShift: ints [direction] (0 left, 1 right), unsigned integers. */
static int k_bitshift(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  opml_bcast bc;
  if (a->dtype != c->dtype || o->dtype != a->dtype) return OPML_EDTYPE;
  if (node->n_ints != 1) return OPML_EATTR;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  switch (a->dtype) {
    case DT_UINT8: SHIFT(uint8_t, 8u); break;
    case DT_UINT16: SHIFT(uint16_t, 16u); break;
    case DT_UINT32: SHIFT(uint32_t, 32u); break;
    case DT_UINT64: SHIFT(uint64_t, 64u); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* Truncated remainder (C %), x % 0 = 0 and x % -1 = 0; floored (fmod = 0) takes y's sign. */
#define SMOD(T, FMOD)                                                                         \
  BINARY_LOOP(T, T, (yv == 0 || yv == -1) ? 0 : (FMOD) ? xv % yv                            \
                   : (xv % yv != 0 && ((xv % yv < 0) != (yv < 0))) ? xv % yv + yv : xv % yv)
#define UMOD(T) BINARY_LOOP(T, T, yv == 0 ? 0 : xv % yv)

/* Mod: ints [fmod]; float only with fmod = 1 (exact, opml_fmodf). */
static int k_mod(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  opml_bcast bc;
  if (a->dtype != c->dtype || o->dtype != a->dtype) return OPML_EDTYPE;
  if (node->n_ints != 1) return OPML_EATTR;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  int fm = node->ints[0] != 0;
  switch (a->dtype) {
    case DT_FLOAT:
      if (!fm) return OPML_EATTR;
      BINARY_LOOP(float, float, opml_fmodf(xv, yv));
      break;
    case DT_DOUBLE:
      if (!fm) return OPML_EATTR;
      BINARY_LOOP(double, double, opml_fmod(xv, yv));
      break;
    case DT_INT8: SMOD(int8_t, fm); break;
    case DT_INT16: SMOD(int16_t, fm); break;
    case DT_INT32: SMOD(int32_t, fm); break;
    case DT_INT64: SMOD(int64_t, fm); break;
    case DT_UINT8: UMOD(uint8_t); break;
    case DT_UINT16: UMOD(uint16_t); break;
    case DT_UINT32: UMOD(uint32_t); break;
    case DT_UINT64: UMOD(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* PRelu: x < 0 ? slope x : x, slope broadcast to x (float; int32/int64 wrapping). */
static int k_prelu(const opml_node *node) {
  const opml_tensor *a = node->in[0], *c = node->in[1];
  opml_tensor *o = node->out[0];
  opml_bcast bc;
  if (a->dtype != c->dtype || o->dtype != a->dtype) return OPML_EDTYPE;
  if (opml_bcast_init(&bc, o, node->in, 2)) return OPML_EATTR;
  switch (a->dtype) {
    case DT_FLOAT: BINARY_LOOP(float, float, xv < 0.0f ? xv * yv : xv); break;
    case DT_INT32: BINARY_LOOP(int32_t, int32_t, xv < 0 ? (int32_t)((uint32_t)xv * (uint32_t)yv) : xv); break;
    case DT_INT64: BINARY_LOOP(int64_t, int64_t, xv < 0 ? (int64_t)((uint64_t)xv * (uint64_t)yv) : xv); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ---- variadic: Max, Min, Sum, Mean ------------------------------------------------------ */

/* acc = in[0], then acc = STEP(acc, v) for in[1], in[2], ... (broadcast), per element. */
#define VARIADIC_LOOP(T, STEP)                                                                \
  do {                                                                                        \
    const T *P_[OPML_BCAST_MAX_IN];                                                           \
    T *O_ = (T *)o->data;                                                                     \
    for (uint32_t k_ = 0; k_ < n; k_++) P_[k_] = (const T *)node->in[k_]->data;               \
    for (uint32_t r_ = 0; r_ < bc.rows; r_++, opml_bcast_next(&bc)) {                         \
      T *z_ = O_ + (size_t)r_ * bc.inner;                                                     \
      for (uint32_t i_ = 0; i_ < bc.inner; i_++) {                                            \
        T acc = P_[0][bc.off[0] + i_ * bc.step[0]];                                           \
        for (uint32_t k_ = 1; k_ < n; k_++) {                                                 \
          T v = P_[k_][bc.off[k_] + i_ * bc.step[k_]];                                        \
          acc = (STEP);                                                                       \
        }                                                                                     \
        z_[i_] = acc;                                                                         \
      }                                                                                       \
    }                                                                                         \
  } while (0)
#define MAX_MIN(T)                                                                            \
  do {                                                                                        \
    if (node->op == OP_MAX) VARIADIC_LOOP(T, acc > v ? acc : v);                              \
    else VARIADIC_LOOP(T, acc < v ? acc : v);                                                 \
  } while (0)

static int k_variadic(const opml_node *node) {
  opml_tensor *o = node->out[0];
  uint32_t n = node->n_in;
  opml_bcast bc;
  if (n < 1 || n > OPML_BCAST_MAX_IN) return OPML_EATTR;
  for (uint32_t k = 0; k < n; k++) {
    if (!node->in[k] || node->in[k]->dtype != o->dtype) return OPML_EDTYPE;
  }
  if (opml_bcast_init(&bc, o, node->in, n)) return OPML_EATTR;
  if (node->op == OP_SUM || node->op == OP_MEAN) {
    if (o->dtype == DT_DOUBLE) {
      VARIADIC_LOOP(double, acc + v);
      double cnt = (double)n, *z = (double *)o->data;
      for (uint32_t i = 0; node->op == OP_MEAN && i < o->size; i++) z[i] = z[i] / cnt;
      return OPML_OK;
    }
    if (o->dtype != DT_FLOAT) return OPML_EDTYPE;
    VARIADIC_LOOP(float, acc + v);
    if (node->op == OP_MEAN) {
      float cnt = (float)n, *z = (float *)o->data;
      for (uint32_t i = 0; i < o->size; i++) z[i] = z[i] / cnt;
    }
    return OPML_OK;
  }
  switch (o->dtype) {
    case DT_FLOAT: /* NaN propagates: a NaN accumulator stays, a NaN operand replaces it */
      if (node->op == OP_MAX) VARIADIC_LOOP(float, (acc != acc || acc > v) ? acc : v);
      else VARIADIC_LOOP(float, (acc != acc || acc < v) ? acc : v);
      break;
    case DT_DOUBLE:
      if (node->op == OP_MAX) VARIADIC_LOOP(double, (acc != acc || acc > v) ? acc : v);
      else VARIADIC_LOOP(double, (acc != acc || acc < v) ? acc : v);
      break;
    case DT_INT8: MAX_MIN(int8_t); break;
    case DT_UINT8: MAX_MIN(uint8_t); break;
    case DT_INT16: MAX_MIN(int16_t); break;
    case DT_UINT16: MAX_MIN(uint16_t); break;
    case DT_INT32: MAX_MIN(int32_t); break;
    case DT_UINT32: MAX_MIN(uint32_t); break;
    case DT_INT64: MAX_MIN(int64_t); break;
    case DT_UINT64: MAX_MIN(uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* Neg, Abs and Sign: float or integer. */
static int k_unary(const opml_node *node) {
  return node->in[0]->dtype == DT_FLOAT ? k_float_unary(node) : k_int_unary(node);
}

const opml_kernel_entry opml_kernels_math[] = {
    {OP_NEG, "Neg", k_unary},
    {OP_ABS, "Abs", k_unary},
    {OP_RECIPROCAL, "Reciprocal", k_float_unary},
    {OP_FLOOR, "Floor", k_float_unary},
    {OP_CEIL, "Ceil", k_float_unary},
    {OP_ROUND, "Round", k_float_unary},
    {OP_SIGN, "Sign", k_unary},
    {OP_NOT, "Not", k_int_unary},
    {OP_IS_NAN, "IsNaN", k_float_class},
    {OP_IS_INF, "IsInf", k_float_class},
    {OP_LOG, "Log", k_float_unary},
    {OP_SIN, "Sin", k_float_unary},
    {OP_COS, "Cos", k_float_unary},
    {OP_TAN, "Tan", k_float_unary},
    {OP_SINH, "Sinh", k_float_unary},
    {OP_COSH, "Cosh", k_float_unary},
    {OP_SOFTPLUS, "Softplus", k_float_unary},
    {OP_SOFTSIGN, "Softsign", k_float_unary},
    {OP_HARD_SIGMOID, "HardSigmoid", k_float_unary},
    {OP_HARD_SWISH, "HardSwish", k_float_unary},
    {OP_ELU, "Elu", k_float_unary},
    {OP_SELU, "Selu", k_float_unary},
    {OP_CELU, "Celu", k_float_unary},
    {OP_MISH, "Mish", k_float_unary},
    {OP_THRESHOLDED_RELU, "ThresholdedRelu", k_float_unary},
    {OP_BINARIZER, "Binarizer", k_float_unary},
    {OP_PRELU, "PRelu", k_prelu},
    {OP_MAX, "Max", k_variadic},
    {OP_MIN, "Min", k_variadic},
    {OP_SUM, "Sum", k_variadic},
    {OP_MEAN, "Mean", k_variadic},
    {OP_MOD, "Mod", k_mod},
    {OP_LESS, "Less", k_compare},
    {OP_GREATER, "Greater", k_compare},
    {OP_LESS_OR_EQUAL, "LessOrEqual", k_compare},
    {OP_GREATER_OR_EQUAL, "GreaterOrEqual", k_compare},
    {OP_AND, "And", k_bitwise},
    {OP_OR, "Or", k_bitwise},
    {OP_XOR, "Xor", k_bitwise},
    {OP_BIT_SHIFT, "BitShift", k_bitshift},
    {OP_BITWISE_AND, "BitwiseAnd", k_bitwise},
    {OP_BITWISE_OR, "BitwiseOr", k_bitwise},
    {OP_BITWISE_XOR, "BitwiseXor", k_bitwise},
    {OP_BITWISE_NOT, "BitwiseNot", k_int_unary},
    {OP_ASIN, "Asin", k_float_unary},
    {OP_ACOS, "Acos", k_float_unary},
    {OP_ATAN, "Atan", k_float_unary},
    {OP_ASINH, "Asinh", k_float_unary},
    {OP_ACOSH, "Acosh", k_float_unary},
    {OP_ATANH, "Atanh", k_float_unary},
    {0, 0, 0},
};
