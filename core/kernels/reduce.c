/*
 * Reductions (docs/IR.md; the "reduce" family of core/compiler/ops/schema.ts, lowering in
 * core/compiler/ops/reduce.ts). ints: [n, dims[n], reduced[n]] (the input shape with size-1
 * axes dropped and adjacent axes of one kind merged, as ReduceMean's); ArgMax/ArgMin: [outer,
 * D, inner, selectLast].
 *
 * One order: each output visits its reduced elements in ascending row-major index with one
 * accumulator: sums from +0 (Sum, SumSquare v*v, L1 |v|, L2 then sqrt, LogSum then log), Prod
 * from 1, Max/Min from the first element (-inf/+inf when empty; NaN propagates). LogSumExp:
 * m = the maximum, then log(sum exp(v - m)) + m (m itself when infinite or NaN). Integers wrap.
 * Float uses mathf.h's float functions, double its binary64 opml_exp, opml_log and opml_sqrt.
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"
#include "reduce_plan.h"

enum { K_SUM, K_SUMSQ, K_L1, K_L2, K_LOGSUM, K_PROD, K_MAX, K_MIN, K_LSE };

static float reduce_float(const float *x, int64_t base, const rplan *p, int kind) {
  int64_t r = p->rsize;
  if (kind == K_MAX || kind == K_MIN || kind == K_LSE) {
    if (r == 0) return kind == K_MIN ? opml_bits_f32(0x7F800000u) : opml_bits_f32(0xFF800000u);
    float m = x[base + offset_of(0, p->nr, p->rdim, p->rstr)];
    for (int64_t j = 1; j < r; j++) {
      float v = x[base + offset_of(j, p->nr, p->rdim, p->rstr)];
      if (v != v || (kind == K_MIN ? v < m : v > m)) m = v;
    }
    if (kind != K_LSE) return m;
    if ((opml_f32_bits(m) & 0x7F800000u) == 0x7F800000u) return m; /* inf or NaN */
    float s = 0.0f;
    for (int64_t j = 0; j < r; j++) s += opml_expf(x[base + offset_of(j, p->nr, p->rdim, p->rstr)] - m);
    return opml_logf(s) + m;
  }
  float acc = kind == K_PROD ? 1.0f : 0.0f;
  for (int64_t j = 0; j < r; j++) {
    float v = x[base + offset_of(j, p->nr, p->rdim, p->rstr)];
    switch (kind) {
      case K_PROD: acc *= v; break;
      case K_SUMSQ: case K_L2: acc += v * v; break;
      case K_L1: acc += opml_bits_f32(opml_f32_bits(v) & 0x7FFFFFFFu); break;
      default: acc += v; break;
    }
  }
  if (kind == K_L2) return opml_sqrtf(acc);
  if (kind == K_LOGSUM) return opml_logf(acc);
  return acc;
}

/* reduce_float's order and rules in binary64 (opml_exp, opml_log, opml_sqrt). */
static double reduce_double(const double *x, int64_t base, const rplan *p, int kind) {
  int64_t r = p->rsize;
  if (kind == K_MAX || kind == K_MIN || kind == K_LSE) {
    union { uint64_t u; double d; } inf = {kind == K_MIN ? 0x7FF0000000000000ull : 0xFFF0000000000000ull};
    if (r == 0) return inf.d;
    double m = x[base + offset_of(0, p->nr, p->rdim, p->rstr)];
    for (int64_t j = 1; j < r; j++) {
      double v = x[base + offset_of(j, p->nr, p->rdim, p->rstr)];
      if (v != v || (kind == K_MIN ? v < m : v > m)) m = v;
    }
    if (kind != K_LSE) return m;
    union { double d; uint64_t u; } mb = {m};
    if ((mb.u & 0x7FF0000000000000ull) == 0x7FF0000000000000ull) return m; /* inf or NaN */
    double s = 0.0;
    for (int64_t j = 0; j < r; j++) s += opml_exp(x[base + offset_of(j, p->nr, p->rdim, p->rstr)] - m);
    return opml_log(s) + m;
  }
  double acc = kind == K_PROD ? 1.0 : 0.0;
  for (int64_t j = 0; j < r; j++) {
    double v = x[base + offset_of(j, p->nr, p->rdim, p->rstr)];
    switch (kind) {
      case K_PROD: acc *= v; break;
      case K_SUMSQ: case K_L2: acc += v * v; break;
      case K_L1: acc += v < 0 ? -v : v; break;
      default: acc += v; break;
    }
  }
  if (kind == K_L2) return opml_sqrt(acc);
  if (kind == K_LOGSUM) return opml_log(acc);
  return acc;
}

#define REDUCE_INT(T, U)                                                                      \
  do {                                                                                        \
    const T *x = (const T *)X->data;                                                          \
    T *y = (T *)Y->data;                                                                      \
    for (int64_t o = 0; o < p.ksize; o++) {                                                   \
      int64_t base = offset_of(o, p.nk, p.kdim, p.kstr);                                      \
      U acc = kind == K_PROD ? 1 : 0;                                                         \
      T m = 0;                                                                                \
      for (int64_t j = 0; j < p.rsize; j++) {                                                 \
        T v = x[base + offset_of(j, p.nr, p.rdim, p.rstr)];                                   \
        if (j == 0 || (kind == K_MAX ? v > m : v < m)) m = v;                                 \
        if (kind == K_PROD) acc *= (U)v;                                                      \
        else if (kind == K_SUMSQ) acc += (U)v * (U)v;                                         \
        else acc += (U)v;                                                                     \
      }                                                                                       \
      y[o] = (kind == K_MAX || kind == K_MIN) ? m : (T)acc;                                   \
    }                                                                                         \
  } while (0)

static int k_reduce(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  rplan p;
  int kind;
  switch (nd->op) {
    case OP_REDUCE_SUM: kind = K_SUM; break;
    case OP_REDUCE_SUM_SQUARE: kind = K_SUMSQ; break;
    case OP_REDUCE_L1: kind = K_L1; break;
    case OP_REDUCE_L2: kind = K_L2; break;
    case OP_REDUCE_LOG_SUM: kind = K_LOGSUM; break;
    case OP_REDUCE_PROD: kind = K_PROD; break;
    case OP_REDUCE_MAX: kind = K_MAX; break;
    case OP_REDUCE_MIN: kind = K_MIN; break;
    default: kind = K_LSE; break;
  }
  if (X->dtype != Y->dtype) return OPML_EDTYPE;
  int err = plan_of(nd, X->size, Y->size, &p);
  if (err) return err;
  if (X->dtype == DT_FLOAT) {
    for (int64_t o = 0; o < p.ksize; o++) {
      ((float *)Y->data)[o] = reduce_float(X->data, offset_of(o, p.nk, p.kdim, p.kstr), &p, kind);
    }
    return OPML_OK;
  }
  if (X->dtype == DT_DOUBLE) {
    for (int64_t o = 0; o < p.ksize; o++) {
      ((double *)Y->data)[o] = reduce_double(X->data, offset_of(o, p.nk, p.kdim, p.kstr), &p, kind);
    }
    return OPML_OK;
  }
  int minmax = kind == K_MAX || kind == K_MIN;
  if (kind == K_L1 || kind == K_L2 || kind == K_LOGSUM || kind == K_LSE) return OPML_EDTYPE;
  if (minmax && p.rsize == 0) return OPML_EVALUE;
  switch (X->dtype) {
    case DT_INT32: REDUCE_INT(int32_t, uint32_t); break;
    case DT_INT64: REDUCE_INT(int64_t, uint64_t); break;
    case DT_INT8: if (!minmax) return OPML_EDTYPE; REDUCE_INT(int8_t, uint32_t); break;
    case DT_UINT8: case DT_BOOL: if (!minmax) return OPML_EDTYPE; REDUCE_INT(uint8_t, uint32_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ArgMax, ArgMin: ints [outer, D, inner, selectLast]; float, int32 or int64 in, int64 out. The
 * first (or with selectLast the last) extreme index; a NaN counts as the extreme. */
#define ARG_LOOP(T)                                                                           \
  do {                                                                                        \
    const T *x = (const T *)X->data;                                                          \
    for (int64_t a = 0; a < outer; a++) {                                                     \
      for (int64_t b = 0; b < inner; b++) {                                                   \
        const T *row = x + a * D * inner + b;                                                 \
        T best = row[0];                                                                      \
        int64_t at = 0;                                                                       \
        for (int64_t k = 1; k < D; k++) {                                                     \
          T v = row[k * inner];                                                               \
          if (best != best) break;                                                            \
          int take = v != v || (mx ? v > best : v < best) || (last && v == best);             \
          if (take) best = v, at = k;                                                         \
        }                                                                                     \
        y[a * inner + b] = at;                                                                \
      }                                                                                       \
    }                                                                                         \
  } while (0)

static int k_arg(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (Y->dtype != DT_INT64) return OPML_EDTYPE;
  if (nd->n_ints != 4) return OPML_EATTR;
  int64_t outer = nd->ints[0], D = nd->ints[1], inner = nd->ints[2];
  int last = nd->ints[3] != 0, mx = nd->op == OP_ARG_MAX;
  if (outer < 0 || D < 1 || inner < 0 || outer * D * inner != X->size || outer * inner != Y->size) return OPML_EATTR;
  int64_t *y = (int64_t *)Y->data;
  switch (X->dtype) {
    case DT_FLOAT: ARG_LOOP(float); break;
    case DT_INT32: ARG_LOOP(int32_t); break;
    case DT_INT64: ARG_LOOP(int64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_reduce[] = {
    {OP_REDUCE_SUM, "ReduceSum", k_reduce},
    {OP_REDUCE_MAX, "ReduceMax", k_reduce},
    {OP_REDUCE_MIN, "ReduceMin", k_reduce},
    {OP_REDUCE_PROD, "ReduceProd", k_reduce},
    {OP_REDUCE_L1, "ReduceL1", k_reduce},
    {OP_REDUCE_L2, "ReduceL2", k_reduce},
    {OP_REDUCE_LOG_SUM, "ReduceLogSum", k_reduce},
    {OP_REDUCE_LOG_SUM_EXP, "ReduceLogSumExp", k_reduce},
    {OP_REDUCE_SUM_SQUARE, "ReduceSumSquare", k_reduce},
    {OP_ARG_MAX, "ArgMax", k_arg},
    {OP_ARG_MIN, "ArgMin", k_arg},
    {0, 0, 0},
};
