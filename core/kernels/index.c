/*
 * Index kernels (docs/IR.md; the "index" family of core/compiler/ops/schema.ts, which documents
 * each op's ints layout; lowering in core/compiler/ops/index.ts): GatherElements,
 * ScatterElements (and Scatter), ScatterND, GatherND, Trilu, OneHot, Tile, EyeLike, Range,
 * CumSum, CumProd, TfIdfVectorizer, ReverseSequence, TopK, Dropout (inference) and TensorScatter.
 *
 * Gathers, scatters, Tile, Trilu and ReverseSequence move elements as bytes, so every dtype
 * works. One order: scatters apply their updates in ascending row-major order of the updates
 * (a duplicate index: the last update wins, or the reductions combine in that order); CumSum
 * accumulates along the axis in scan order from 0; TopK is a stable sort (ties: lower index
 * first; NaN above every number). Indices out of range (after adding the axis size to a
 * negative one) are OPML_EVALUE.
 */
#include "kernel.h"
#include "ops.h"
#include "merge_sort.h"

#ifdef __mips__
#include "libc.h"
#else
#include <string.h>
#endif

static size_t esize(const opml_tensor *t) { return opml_dtype_size(t->dtype); }

/* Row-major strides (in elements) of a tensor. */
static void strides_of(const opml_tensor *t, int64_t *st) {
  int64_t s = 1;
  for (int k = (int)t->rank - 1; k >= 0; k--) {
    st[k] = s;
    s *= t->dims[k];
  }
}

/* Element i of an int32/int64 index tensor, or 0 with *ok cleared for another dtype. */
static int64_t index_at(const opml_tensor *t, uint32_t i, int *ok) {
  if (t->dtype == DT_INT64) return ((const int64_t *)t->data)[i];
  if (t->dtype == DT_INT32) return ((const int32_t *)t->data)[i];
  *ok = 0;
  return 0;
}

/* An index normalised into [0, n): adds n to a negative one; -1 when out of range. */
static int64_t norm_index(int64_t v, int64_t n) {
  if (v < 0) v += n;
  return (v < 0 || v >= n) ? -1 : v;
}

/* Advances a row-major coordinate over dims (rank r). */
static void next_coord(uint32_t *c, const uint32_t *dims, uint32_t r) {
  for (int k = (int)r - 1; k >= 0; k--) {
    if (++c[k] < dims[k]) return;
    c[k] = 0;
  }
}

/* ---- GatherElements --------------------------------------------------------------------- */

static int k_gather_elements(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *I = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 1 || X->rank != I->rank || Y->size != I->size || X->rank == 0) return OPML_EATTR;
  int64_t axis = nd->ints[0], xs[OPML_MAX_RANK];
  if (axis < 0 || axis >= X->rank) return OPML_EATTR;
  size_t es = esize(X);
  strides_of(X, xs);
  uint32_t c[OPML_MAX_RANK] = {0};
  int ok = 1;
  for (uint32_t o = 0; o < Y->size; o++, next_coord(c, I->dims, I->rank)) {
    int64_t j = norm_index(index_at(I, o, &ok), X->dims[axis]);
    if (!ok) return OPML_EDTYPE;
    if (j < 0) return OPML_EVALUE;
    int64_t off = 0;
    for (uint32_t k = 0; k < X->rank; k++) {
      if (k != axis && c[k] >= X->dims[k]) return OPML_EATTR;
      off += (k == axis ? j : c[k]) * xs[k];
    }
    memcpy((uint8_t *)Y->data + o * es, (const uint8_t *)X->data + off * es, es);
  }
  return OPML_OK;
}

/* ---- scatters --------------------------------------------------------------------------- */

enum { RED_NONE = 0, RED_ADD = 1, RED_MUL = 2, RED_MAX = 3, RED_MIN = 4 };

#define COMBINE(T)                                                                            \
  do {                                                                                        \
    T *d_ = (T *)dst;                                                                         \
    T u_ = *(const T *)src;                                                                   \
    switch (red) {                                                                            \
      case RED_ADD: *d_ = (T)(*d_ + u_); break;                                               \
      case RED_MUL: *d_ = (T)(*d_ * u_); break;                                               \
      case RED_MAX: if (u_ > *d_ || u_ != u_) *d_ = u_; break;                                \
      default: if (u_ < *d_ || u_ != u_) *d_ = u_; break;                                     \
    }                                                                                         \
  } while (0)

/* dst = reduce(dst, src) for one element (RED_NONE: a byte copy). Integer add/mul wrap. */
static int combine(uint8_t *dst, const uint8_t *src, int red, uint8_t dtype, size_t es) {
  if (red == RED_NONE) {
    memcpy(dst, src, es);
    return OPML_OK;
  }
  switch (dtype) {
    case DT_FLOAT: COMBINE(float); break;
    case DT_DOUBLE: COMBINE(double); break;
    case DT_INT32:
      if (red == RED_ADD || red == RED_MUL) {
        uint32_t a = *(uint32_t *)dst, b = *(const uint32_t *)src;
        *(uint32_t *)dst = red == RED_ADD ? a + b : a * b;
      } else COMBINE(int32_t);
      break;
    case DT_INT64:
      if (red == RED_ADD || red == RED_MUL) {
        uint64_t a = *(uint64_t *)dst, b = *(const uint64_t *)src;
        *(uint64_t *)dst = red == RED_ADD ? a + b : a * b;
      } else COMBINE(int64_t);
      break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ScatterElements / Scatter: ints [axis, reduction]; inputs data, indices, updates. */
static int k_scatter_elements(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *I = nd->in[1], *U = nd->in[2];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 2 || X->rank != I->rank || U->size != I->size || Y->size != X->size) return OPML_EATTR;
  int64_t axis = nd->ints[0], red = nd->ints[1], xs[OPML_MAX_RANK];
  if (axis < 0 || axis >= X->rank || red < RED_NONE || red > RED_MIN) return OPML_EATTR;
  /* run-time lengths (docs/IR.md "Run-time shapes"): data's along the axis, the indices' rows */
  const opml_tensor *DL = nd->n_in > 3 ? nd->in[3] : 0, *IL = nd->n_in > 4 ? nd->in[4] : 0;
  int64_t dlen = X->dims[axis], rows = I->rank ? I->dims[0] : 1;
  if (DL) {
    if (DL->dtype != DT_INT64 || DL->size != 1) return OPML_EATTR;
    if (((const int64_t *)DL->data)[0] < 0 || ((const int64_t *)DL->data)[0] > dlen) return OPML_EVALUE;
    dlen = ((const int64_t *)DL->data)[0];
  }
  if (IL) {
    if (IL->dtype != DT_INT64 || IL->size != 1) return OPML_EATTR;
    if (((const int64_t *)IL->data)[0] < 0 || ((const int64_t *)IL->data)[0] > rows) return OPML_EVALUE;
    rows = ((const int64_t *)IL->data)[0];
  }
  size_t es = esize(X);
  strides_of(X, xs);
  memcpy(Y->data, X->data, (size_t)X->size * es);
  uint32_t c[OPML_MAX_RANK] = {0};
  int ok = 1;
  for (uint32_t o = 0; o < I->size; o++, next_coord(c, I->dims, I->rank)) {
    if (IL && c[0] >= rows) continue; /* padding rows of indices and updates */
    int64_t j = norm_index(index_at(I, o, &ok), dlen);
    if (!ok) return OPML_EDTYPE;
    if (j < 0) return OPML_EVALUE;
    int64_t off = 0;
    for (uint32_t k = 0; k < X->rank; k++) {
      if (k != axis && c[k] >= X->dims[k]) return OPML_EVALUE;
      off += (k == axis ? j : c[k]) * xs[k];
    }
    int e = combine((uint8_t *)Y->data + off * es, (const uint8_t *)U->data + o * es, (int)red, X->dtype, es);
    if (e) return e;
  }
  return OPML_OK;
}

/* Offset (in elements) of the index tuple number t (q values) of I into X, or -1. */
static int64_t tuple_offset(const opml_tensor *I, uint32_t t, uint32_t q, const opml_tensor *X, uint32_t first,
                            const int64_t *xs, int *ok) {
  int64_t off = 0;
  for (uint32_t k = 0; k < q; k++) {
    int64_t j = norm_index(index_at(I, t * q + k, ok), X->dims[first + k]);
    if (j < 0) return -1;
    off += j * xs[first + k];
  }
  return off;
}

/* ScatterND: ints [reduction]; inputs data, indices [..., q], updates. */
static int k_scatter_nd(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *I = nd->in[1], *U = nd->in[2];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 1 || I->rank < 1) return OPML_EATTR;
  int64_t red = nd->ints[0], xs[OPML_MAX_RANK];
  uint32_t q = I->dims[I->rank - 1];
  if (red < RED_NONE || red > RED_MIN || q > X->rank || Y->size != X->size) return OPML_EATTR;
  uint32_t tuples = q ? I->size / q : 0, slice = 1;
  for (uint32_t k = q; k < X->rank; k++) slice *= X->dims[k];
  if (U->size != tuples * slice) return OPML_EATTR;
  size_t es = esize(X);
  strides_of(X, xs);
  memcpy(Y->data, X->data, (size_t)X->size * es);
  int ok = 1;
  for (uint32_t t = 0; t < tuples; t++) {
    int64_t off = tuple_offset(I, t, q, X, 0, xs, &ok);
    if (!ok) return OPML_EDTYPE;
    if (off < 0) return OPML_EVALUE;
    for (uint32_t s = 0; s < slice; s++) {
      int e = combine((uint8_t *)Y->data + (off + s) * es, (const uint8_t *)U->data + ((size_t)t * slice + s) * es,
                      (int)red, X->dtype, es);
      if (e) return e;
    }
  }
  return OPML_OK;
}

/* GatherND: ints [batch_dims]; inputs data, indices [b..., ..., q]. */
static int k_gather_nd(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *I = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 1 || I->rank < 1) return OPML_EATTR;
  int64_t b = nd->ints[0], xs[OPML_MAX_RANK];
  uint32_t q = I->dims[I->rank - 1];
  if (b < 0 || b + q > X->rank || b >= I->rank) return OPML_EATTR;
  uint32_t batches = 1, slice = 1;
  for (uint32_t k = 0; k < b; k++) batches *= X->dims[k];
  for (uint32_t k = (uint32_t)b + q; k < X->rank; k++) slice *= X->dims[k];
  uint32_t tuples = q ? I->size / q : 0, per = batches ? tuples / batches : 0;
  if (Y->size != tuples * slice || tuples != per * batches) return OPML_EATTR;
  size_t es = esize(X);
  strides_of(X, xs);
  int ok = 1;
  for (uint32_t t = 0; t < tuples; t++) {
    int64_t off = tuple_offset(I, t, q, X, (uint32_t)b, xs, &ok);
    if (!ok) return OPML_EDTYPE;
    if (off < 0) return OPML_EVALUE;
    off += (int64_t)(t / per) * (b ? xs[b - 1] : 0);
    memcpy((uint8_t *)Y->data + (size_t)t * slice * es, (const uint8_t *)X->data + off * es, (size_t)slice * es);
  }
  return OPML_OK;
}

/* ---- shapes of matrices: Trilu, EyeLike ------------------------------------------------- */

/* Trilu: ints [upper]; inputs X, k? (int64 scalar, read at run time; default 0). */
static int k_trilu(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *K = nd->n_in > 1 ? nd->in[1] : 0;
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 1 || X->rank < 2 || Y->size != X->size) return OPML_EATTR;
  int ok = 1;
  int64_t k = K ? index_at(K, 0, &ok) : 0;
  if (!ok || (K && K->size != 1)) return OPML_EDTYPE;
  int upper = nd->ints[0] != 0;
  uint32_t M = X->dims[X->rank - 2], N = X->dims[X->rank - 1];
  size_t es = esize(X);
  const uint8_t *x = (const uint8_t *)X->data;
  uint8_t *y = (uint8_t *)Y->data;
  for (uint32_t e = 0; e < X->size; e++) {
    int64_t j = e % N, i = (e / N) % M;
    int keep = upper ? j - i >= k : j - i <= k;
    if (keep) memcpy(y + e * es, x + e * es, es);
    else memset(y + e * es, 0, es);
  }
  return OPML_OK;
}

/* Stores the value v (0 or 1) as an element of dtype at p. */
static int store_small(uint8_t *p, uint8_t dtype, int v) {
  switch (dtype) {
    case DT_FLOAT: *(float *)p = v ? 1.0f : 0.0f; break;
    case DT_DOUBLE: *(double *)p = v ? 1.0 : 0.0; break;
    case DT_BOOL: case DT_UINT8: case DT_INT8: *p = (uint8_t)v; break;
    case DT_UINT16: case DT_INT16: *(uint16_t *)p = (uint16_t)v; break;
    case DT_UINT32: case DT_INT32: *(uint32_t *)p = (uint32_t)v; break;
    case DT_UINT64: case DT_INT64: *(uint64_t *)p = (uint64_t)v; break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* EyeLike: ints [k]; no inputs; the output [M, N] has ones where j - i == k. */
static int k_eye_like(const opml_node *nd) {
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 1 || Y->rank != 2) return OPML_EATTR;
  size_t es = esize(Y);
  uint32_t N = Y->dims[1];
  for (uint32_t e = 0; e < Y->size; e++) {
    int64_t i = e / N, j = e % N;
    int r = store_small((uint8_t *)Y->data + e * es, Y->dtype, j - i == nd->ints[0]);
    if (r) return r;
  }
  return OPML_OK;
}

/* ---- OneHot, Tile ----------------------------------------------------------------------- */

/* OneHot: ints [outer, depth, inner]; inputs indices (float, int32 or int64), values [off, on]. */
static int k_one_hot(const opml_node *nd) {
  const opml_tensor *I = nd->in[0], *V = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 3 || V->size != 2 || V->dtype != Y->dtype) return OPML_EATTR;
  int64_t outer = nd->ints[0], depth = nd->ints[1], inner = nd->ints[2];
  if (outer * inner != I->size || outer * depth * inner != Y->size) return OPML_EATTR;
  size_t es = esize(Y);
  const uint8_t *off = (const uint8_t *)V->data, *on = off + es;
  for (int64_t a = 0; a < outer; a++) {
    for (int64_t b = 0; b < inner; b++) {
      int64_t v, at = a * inner + b;
      switch (I->dtype) {
        case DT_INT64: v = ((const int64_t *)I->data)[at]; break;
        case DT_INT32: v = ((const int32_t *)I->data)[at]; break;
        case DT_FLOAT: { /* truncated; anything beyond +-2^62 is out of range anyway */
          float f = ((const float *)I->data)[at];
          v = (f == f && f > -4.6e18f && f < 4.6e18f) ? (int64_t)f : depth;
          break;
        }
        default: return OPML_EDTYPE;
      }
      if (v < 0) v += depth;
      for (int64_t d = 0; d < depth; d++) {
        memcpy((uint8_t *)Y->data + ((a * depth + d) * inner + b) * es, d == v ? on : off, es);
      }
    }
  }
  return OPML_OK;
}

/* Tile: no ints; output coordinate c reads input coordinate c mod the input's dims. */
static int k_tile(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (X->rank != Y->rank || (X->size == 0 && Y->size != 0)) return OPML_EATTR;
  int64_t xs[OPML_MAX_RANK];
  strides_of(X, xs);
  size_t es = esize(X);
  uint32_t c[OPML_MAX_RANK] = {0};
  for (uint32_t o = 0; o < Y->size; o++, next_coord(c, Y->dims, Y->rank)) {
    int64_t off = 0;
    for (uint32_t k = 0; k < X->rank; k++) off += (c[k] % X->dims[k]) * xs[k];
    memcpy((uint8_t *)Y->data + (size_t)o * es, (const uint8_t *)X->data + off * es, es);
  }
  return OPML_OK;
}

/* ---- Range, CumSum ---------------------------------------------------------------------- */

/* Range: ints [n]; inputs start, delta (scalars of the output dtype): y[i] = start + i * delta. */
static int k_range(const opml_node *nd) {
  const opml_tensor *S = nd->in[0], *D = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 1 || nd->ints[0] != Y->size || S->dtype != Y->dtype || D->dtype != Y->dtype) return OPML_EATTR;
  uint32_t n = Y->size;
  switch (Y->dtype) {
    case DT_FLOAT: {
      float s = *(const float *)S->data, d = *(const float *)D->data;
      for (uint32_t i = 0; i < n; i++) ((float *)Y->data)[i] = s + (float)i * d;
      break;
    }
    case DT_DOUBLE: {
      double s = *(const double *)S->data, d = *(const double *)D->data;
      for (uint32_t i = 0; i < n; i++) ((double *)Y->data)[i] = s + (double)i * d;
      break;
    }
    case DT_INT16: {
      uint16_t s = *(const uint16_t *)S->data, d = *(const uint16_t *)D->data;
      for (uint32_t i = 0; i < n; i++) ((uint16_t *)Y->data)[i] = (uint16_t)(s + i * d);
      break;
    }
    case DT_INT32: {
      uint32_t s = *(const uint32_t *)S->data, d = *(const uint32_t *)D->data;
      for (uint32_t i = 0; i < n; i++) ((uint32_t *)Y->data)[i] = s + i * d;
      break;
    }
    case DT_INT64: {
      uint64_t s = *(const uint64_t *)S->data, d = *(const uint64_t *)D->data;
      for (uint32_t i = 0; i < n; i++) ((uint64_t *)Y->data)[i] = s + (uint64_t)i * d;
      break;
    }
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* The running sum (OP +, from 0) or product (OP *, from 1) along D; integers in UT, wrapping. */
#define CUMUL(T, UT, OP)                                                                      \
  do {                                                                                        \
    const T *x_ = (const T *)X->data;                                                         \
    T *y_ = (T *)Y->data;                                                                     \
    for (int64_t a = 0; a < outer; a++) {                                                     \
      for (int64_t b = 0; b < inner; b++) {                                                   \
        T acc = prod ? 1 : 0;                                                                 \
        for (int64_t s = 0; s < D; s++) {                                                     \
          int64_t at = (a * D + (rev ? D - 1 - s : s)) * inner + b;                           \
          if (excl) y_[at] = acc, acc = (T)((UT)acc OP (UT)x_[at]);                           \
          else acc = (T)((UT)acc OP (UT)x_[at]), y_[at] = acc;                                \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
  } while (0)
#define CUMSUM(T, UT)                                                                         \
  do {                                                                                        \
    if (prod) CUMUL(T, UT, *);                                                                \
    else CUMUL(T, UT, +);                                                                     \
  } while (0)

/* CumSum and CumProd: ints [outer, D, inner, exclusive, reverse]. */
static int k_cumsum(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 5 || X->dtype != Y->dtype) return OPML_EATTR;
  int64_t outer = nd->ints[0], D = nd->ints[1], inner = nd->ints[2];
  int excl = nd->ints[3] != 0, rev = nd->ints[4] != 0, prod = nd->op == OP_CUM_PROD;
  if (outer * D * inner != X->size || X->size != Y->size) return OPML_EATTR;
  switch (X->dtype) {
    case DT_FLOAT: CUMSUM(float, float); break;
    case DT_DOUBLE: CUMSUM(double, double); break;
    case DT_INT32: CUMSUM(int32_t, uint32_t); break;
    case DT_UINT32: CUMSUM(uint32_t, uint32_t); break;
    case DT_INT64: CUMSUM(int64_t, uint64_t); break;
    case DT_UINT64: CUMSUM(uint64_t, uint64_t); break;
    default: return OPML_EDTYPE;
  }
  return OPML_OK;
}

/* ---- TfIdfVectorizer -------------------------------------------------------------------- */

/* ints [rows, C, mode, nOut, minGram, maxGram, maxSkip, nGrams, (n, out, tokens[n])...];
 * floats: weights. For each row, skip distance d = 1 .. maxSkip + 1 and start s, every pool
 * n-gram of length minGram' .. maxGram (minGram' = max(minGram, 2) once d > 1: one unigram count)
 * equal to x[s], x[s + d], ... adds 1 to its column; then TF: the count, IDF: weight (1) when
 * the count is > 0, TFIDF: count * weight. */
static int k_tfidf(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints < 8 || Y->dtype != DT_FLOAT) return OPML_EATTR;
  const int64_t *p = nd->ints;
  int64_t rows = p[0], C = p[1], mode = p[2], nOut = p[3], minG = p[4], maxG = p[5], maxSkip = p[6], nGrams = p[7];
  if (rows * C != X->size || rows * nOut != Y->size || (nd->n_floats != 0 && nd->n_floats != nOut)) return OPML_EATTR;
  if (X->dtype != DT_INT32 && X->dtype != DT_INT64) return OPML_EDTYPE;
  float *y = (float *)Y->data;
  for (int64_t i = 0; i < rows * nOut; i++) y[i] = 0.0f;
  for (int64_t r = 0; r < rows; r++) {
    int64_t start = minG;
    for (int64_t d = 1; d <= maxSkip + 1 && start <= maxG; d++) {
      for (int64_t s = 0; s < C; s++) {
        const int64_t *g = p + 8;
        for (int64_t k = 0; k < nGrams; k++, g += 2 + g[0]) {
          int64_t n = g[0], j = 0;
          if (n < start || n > maxG || s + (n - 1) * d >= C || g[1] < 0 || g[1] >= nOut) continue;
          for (; j < n; j++) {
            int64_t at = r * C + s + j * d;
            int64_t v = X->dtype == DT_INT32 ? ((const int32_t *)X->data)[at] : ((const int64_t *)X->data)[at];
            if (v != g[2 + j]) break;
          }
          if (j == n) y[r * nOut + g[1]] += 1.0f;
        }
      }
      if (start == 1) start = 2; /* unigrams are counted once, at d = 1 */
    }
  }
  if (mode != 0) {
    for (int64_t i = 0; i < rows * nOut; i++) {
      float w = nd->n_floats ? nd->floats[i % nOut] : 1.0f;
      y[i] = mode == 1 ? (y[i] > 0.0f ? w : 0.0f) : y[i] * w;
    }
  }
  return OPML_OK;
}

/* ---- ReverseSequence -------------------------------------------------------------------- */

/* ReverseSequence: ints [batch_axis, time_axis]; inputs X, sequence_lens (int32/int64, one per
 * batch, each in [0, the time axis' size]). */
static int k_reverse_sequence(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *L = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 2 || X->rank < 2 || Y->size != X->size) return OPML_EATTR;
  int64_t ba = nd->ints[0], ta = nd->ints[1], xs[OPML_MAX_RANK];
  if (ba < 0 || ba >= X->rank || ta < 0 || ta >= X->rank || ba == ta || L->size != X->dims[ba]) return OPML_EATTR;
  strides_of(X, xs);
  size_t es = esize(X);
  uint32_t c[OPML_MAX_RANK] = {0};
  int ok = 1;
  for (uint32_t o = 0; o < X->size; o++, next_coord(c, X->dims, X->rank)) {
    int64_t len = index_at(L, c[ba], &ok), t = c[ta];
    if (!ok) return OPML_EDTYPE;
    if (len < 0 || len > X->dims[ta]) return OPML_EVALUE;
    int64_t src = (int64_t)o + (t < len ? (len - 1 - 2 * t) * xs[ta] : 0);
    memcpy((uint8_t *)Y->data + (size_t)o * es, (const uint8_t *)X->data + src * es, es);
  }
  return OPML_OK;
}

/* ---- TopK ------------------------------------------------------------------------------- */

/* Is element a ranked before element b (largest: greater first; ties and equal: lower index)? */
#define RANK_BEFORE(T, x, a, b, largest)                                                      \
  ((x)[a] != (x)[a] ? ((x)[b] == (x)[b] ? (largest) : (a) < (b))                             \
   : (x)[b] != (x)[b] ? !(largest)                                                            \
   : (x)[a] == (x)[b] ? (a) < (b) : (largest) ? (x)[a] > (x)[b] : (x)[a] < (x)[b])

/* A stable bottom-up merge sort of the D indices in idx (tmp: scratch of D). */
#define SORT_ROW(T)                                                                           \
  do {                                                                                        \
    const T *x_ = row;                                                                        \
    for (uint32_t w = 1; w < D; w *= 2) {                                                     \
      for (uint32_t lo = 0; lo < D; lo += 2 * w) {                                            \
        uint32_t mid = lo + w < D ? lo + w : D, hi = lo + 2 * w < D ? lo + 2 * w : D;         \
        uint32_t i = lo, j = mid, o = lo;                                                     \
        while (i < mid && j < hi) {                                                           \
          uint32_t ia = idx[i], ib = idx[j];                                                  \
          tmp[o++] = RANK_BEFORE(T, x_, ib * inner, ia * inner, largest) ? idx[j++] : idx[i++]; \
        }                                                                                     \
        while (i < mid) tmp[o++] = idx[i++];                                                  \
        while (j < hi) tmp[o++] = idx[j++];                                                   \
      }                                                                                       \
      uint32_t *sw = idx;                                                                     \
      idx = tmp;                                                                              \
      tmp = sw;                                                                               \
    }                                                                                         \
  } while (0)

/* TopK: ints [outer, D, inner, k, largest, strict?]; inputs X, length? (int64 scalar: the axis's
 * run-time length L <= D, docs/IR.md "Run-time shapes"); outputs values, indices (int64), sorted
 * over the first L positions of the axis (L = D without it), the first min(k, L) of k written (the
 * rest stay zero); k > L fails the node unless strict = 0 (a run-time k, checked elsewhere). */
static int k_topk(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *Len = nd->n_in > 1 ? nd->in[1] : 0;
  opml_tensor *V = nd->out[0], *Ix = nd->out[1];
  if ((nd->n_ints != 5 && nd->n_ints != 6) || nd->n_out != 2 || !V || !Ix || Ix->dtype != DT_INT64 ||
      V->dtype != X->dtype)
    return OPML_EATTR;
  int64_t outer = nd->ints[0], inner = nd->ints[2], k = nd->ints[3];
  uint32_t Dx = (uint32_t)nd->ints[1];
  int largest = nd->ints[4] != 0, strict = nd->n_ints == 6 ? nd->ints[5] != 0 : 1;
  if (outer * Dx * inner != X->size || outer * k * inner != V->size || k > Dx || V->size != Ix->size) return OPML_EATTR;
  uint32_t D = Dx; /* the sorted length (SORT_ROW's D) */
  if (Len) {
    if (Len->dtype != DT_INT64 || Len->size != 1) return OPML_EATTR;
    int64_t l = ((const int64_t *)Len->data)[0];
    if (l < 0 || l > Dx) return OPML_EVALUE;
    D = (uint32_t)l;
  }
  if (k > D && strict) return OPML_EVALUE;
  int64_t kk = k < D ? k : D;
  if (X->size == 0 || kk == 0) return OPML_OK;
  uint32_t *buf = (uint32_t *)opml_alloc((size_t)D * 2 * sizeof(uint32_t));
  if (!buf) return OPML_ENOMEM;
  uint32_t *idx0 = buf, *tmp0 = buf + D;
  int r = OPML_OK;
  for (int64_t a = 0; a < outer && r == OPML_OK; a++) {
    for (int64_t b = 0; b < inner; b++) {
      uint32_t *idx = idx0, *tmp = tmp0;
      for (uint32_t i = 0; i < D; i++) idx[i] = i;
#define TOPK_ROW(T)                                                                           \
  do {                                                                                        \
    const T *row = (const T *)X->data + a * Dx * inner + b;                                   \
    SORT_ROW(T);                                                                              \
    for (int64_t i = 0; i < kk; i++) {                                                        \
      int64_t at = (a * k + i) * inner + b;                                                   \
      ((T *)V->data)[at] = row[idx[i] * inner];                                               \
      ((int64_t *)Ix->data)[at] = idx[i];                                                     \
    }                                                                                         \
  } while (0)
      switch (X->dtype) {
        case DT_FLOAT: TOPK_ROW(float); break;
        case DT_DOUBLE: TOPK_ROW(double); break;
        case DT_INT8: TOPK_ROW(int8_t); break;
        case DT_UINT8: TOPK_ROW(uint8_t); break;
        case DT_INT16: TOPK_ROW(int16_t); break;
        case DT_UINT16: TOPK_ROW(uint16_t); break;
        case DT_INT32: TOPK_ROW(int32_t); break;
        case DT_UINT32: TOPK_ROW(uint32_t); break;
        case DT_INT64: TOPK_ROW(int64_t); break;
        case DT_UINT64: TOPK_ROW(uint64_t); break;
        default: r = OPML_EDTYPE; break;
      }
      if (r) break;
    }
  }
  opml_free(buf);
  return r;
}

/* ---- Dropout ---------------------------------------------------------------------------- */

/* Dropout in inference (or with ratio 0): outputs Y = X and mask = true. */
static int k_dropout(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0], *M = nd->n_out > 1 ? nd->out[1] : 0;
  if (Y->size != X->size || Y->dtype != X->dtype || (M && (M->dtype != DT_BOOL || M->size != X->size))) return OPML_EATTR;
  memcpy(Y->data, X->data, (size_t)X->size * esize(X));
  if (M) memset(M->data, 1, M->size);
  return OPML_OK;
}

/* ---- TensorScatter ---------------------------------------------------------------------- */

/* TensorScatter: ints [B, A, Smax, Snew, I, circular]; inputs past [B, A, Smax, I], update
 * [B, A, Snew, I], write_indices? (int64 [B], default 0). The output is past with update row s of
 * batch b written at write_indices[b] + s (modulo Smax when circular; past the end is an error). */
static int k_tensor_scatter(const opml_node *nd) {
  const opml_tensor *P = nd->in[0], *U = nd->in[1], *W = nd->n_in > 2 ? nd->in[2] : 0;
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 6 || U->dtype != P->dtype || Y->size != P->size) return OPML_EATTR;
  const int64_t *p = nd->ints;
  int64_t B = p[0], A = p[1], Smax = p[2], Snew = p[3], I = p[4];
  int circ = p[5] != 0, ok = 1;
  if (B * A * Smax * I != P->size || B * A * Snew * I != U->size || (W && W->size != B)) return OPML_EATTR;
  size_t es = esize(P), row = (size_t)I * es;
  memcpy(Y->data, P->data, (size_t)P->size * es);
  for (int64_t b = 0; b < B; b++) {
    int64_t w = W ? index_at(W, (uint32_t)b, &ok) : 0;
    if (!ok) return OPML_EDTYPE;
    if (w < 0 || w >= Smax || (!circ && w + Snew > Smax)) return OPML_EVALUE;
    for (int64_t a = 0; a < A; a++) {
      for (int64_t s = 0; s < Snew; s++) {
        int64_t at = circ ? (w + s) % Smax : w + s;
        memcpy((uint8_t *)Y->data + (size_t)((b * A + a) * Smax + at) * row,
               (const uint8_t *)U->data + (size_t)((b * A + a) * Snew + s) * row, row);
      }
    }
  }
  return OPML_OK;
}

/* ---- Run-time shapes (docs/IR.md, "Run-time shapes") ------------------------------------ */

/* Whether element i is nonzero: NaN is, -0 is not (small floats by their bits without the sign). */
static int nonzero_at(const opml_tensor *X, uint32_t i, int *ok) {
  switch (X->dtype) {
    case DT_FLOAT: return ((const float *)X->data)[i] != 0.0f;
    case DT_DOUBLE: return ((const double *)X->data)[i] != 0.0;
    case DT_FLOAT16:
    case DT_BFLOAT16: return (((const uint16_t *)X->data)[i] & 0x7fff) != 0;
    case DT_BOOL:
    case DT_INT8:
    case DT_UINT8: return ((const uint8_t *)X->data)[i] != 0;
    case DT_INT16:
    case DT_UINT16: return ((const uint16_t *)X->data)[i] != 0;
    case DT_INT32:
    case DT_UINT32: return ((const uint32_t *)X->data)[i] != 0;
    case DT_INT64:
    case DT_UINT64: return ((const uint64_t *)X->data)[i] != 0;
    default: *ok = 0; return 0;
  }
}

/* NonZero: ints [] or [axis]; inputs X, length? (int64 scalar: X's run-time length L on `axis`);
 * outputs Y int64 [rank, size] (the coordinates of the nonzero elements in row-major order in
 * its first `count` columns, zeros after; with a length only those with coordinate < L on the
 * axis) and count (int64 scalar). */
static int k_nonzero(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *Len = nd->n_in > 1 ? nd->in[1] : 0;
  opml_tensor *Y = nd->out[0], *N = nd->out[1];
  uint32_t r = X->rank, n = X->size;
  if (nd->n_out != 2 || r == 0 || Y->dtype != DT_INT64 || Y->rank != 2 || Y->dims[0] != r || Y->dims[1] != n ||
      N->dtype != DT_INT64 || N->size != 1 || (Len && (nd->n_ints != 1 || nd->ints[0] < 0 || nd->ints[0] >= r ||
      Len->dtype != DT_INT64 || Len->size != 1)))
    return OPML_EATTR;
  uint32_t axis = Len ? (uint32_t)nd->ints[0] : 0;
  int64_t limit = Len ? ((const int64_t *)Len->data)[0] : INT64_MAX;
  if (Len && (limit < 0 || limit > X->dims[axis])) return OPML_EVALUE;
  uint32_t c[OPML_MAX_RANK] = {0};
  int64_t *y = (int64_t *)Y->data, count = 0;
  int ok = 1;
  for (uint32_t i = 0; i < n; i++, next_coord(c, X->dims, r)) {
    if ((Len && c[axis] >= limit) || !nonzero_at(X, i, &ok)) continue;
    for (uint32_t d = 0; d < r; d++) y[(size_t)d * n + count] = c[d];
    count++;
  }
  if (!ok) return OPML_EDTYPE;
  ((int64_t *)N->data)[0] = count;
  return OPML_OK;
}

/* -1, 0 or 1: element i of X against element j, NaN above every number and equal to NaN. */
static int unique_cmp_el(const opml_tensor *X, uint32_t i, uint32_t j) {
#define CMP(T) { T a = ((const T *)X->data)[i], b = ((const T *)X->data)[j]; return a < b ? -1 : a > b ? 1 : 0; }
#define FCMP(T) { T a = ((const T *)X->data)[i], b = ((const T *)X->data)[j]; \
    int na = a != a, nb = b != b; \
    if (na || nb) return na - nb; \
    return a < b ? -1 : a > b ? 1 : 0; }
  switch (X->dtype) {
    case DT_FLOAT: FCMP(float)
    case DT_DOUBLE: FCMP(double)
    case DT_INT8: CMP(int8_t)
    case DT_UINT8: CMP(uint8_t)
    case DT_INT16: CMP(int16_t)
    case DT_UINT16: CMP(uint16_t)
    case DT_INT32: CMP(int32_t)
    case DT_UINT32: CMP(uint32_t)
    case DT_INT64: CMP(int64_t)
    default: CMP(uint64_t)
  }
#undef CMP
#undef FCMP
}

/* Slices a and b of X viewed as [outer, D, inner], compared element by element in row-major order. */
static int unique_cmp(const opml_tensor *X, uint32_t D, uint32_t inner, uint32_t a, uint32_t b) {
  uint32_t outer = D * inner ? X->size / (D * inner) : 0;
  for (uint32_t o = 0; o < outer; o++)
    for (uint32_t i = 0; i < inner; i++) {
      int c = unique_cmp_el(X, (o * D + a) * inner + i, (o * D + b) * inner + i);
      if (c) return c;
    }
  return 0;
}

struct unique_view {
  const opml_tensor *X;
  uint32_t D, inner;
};

/* Slice a before slice b: smaller, element by element. */
static int unique_before(const void *view, uint32_t a, uint32_t b) {
  const struct unique_view *v = (const struct unique_view *)view;
  return unique_cmp(v->X, v->D, v->inner, a, b) < 0;
}

/* Unique: ints [outer, D, inner, sorted]; input X; outputs Y (X with D slices along the axis:
 * the unique ones first, zeros after), indices [D], inverse_indices [D], counts [D] (int64; zeros
 * past the count) and the count (int64 scalar). Slices are sorted by a stable merge sort (ties
 * keep the first occurrence first); equal slices form one unique slice, listed in sorted order,
 * or (sorted = 0) in order of first occurrence. */
static int k_unique(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0], *Ix = nd->out[1], *Inv = nd->out[2], *Cn = nd->out[3], *Nt = nd->out[4];
  if (nd->n_ints != 4 || nd->n_out != 5 || Y->dtype != X->dtype || Y->size != X->size) return OPML_EATTR;
  uint32_t D = (uint32_t)nd->ints[1], inner = (uint32_t)nd->ints[2], outer = (uint32_t)nd->ints[0];
  int sorted = nd->ints[3] != 0;
  if ((uint64_t)outer * D * inner != X->size || Ix->size != D || Inv->size != D || Cn->size != D ||
      Ix->dtype != DT_INT64 || Inv->dtype != DT_INT64 || Cn->dtype != DT_INT64 || Nt->dtype != DT_INT64)
    return OPML_EATTR;
  switch (X->dtype) {
    case DT_FLOAT: case DT_DOUBLE: case DT_INT8: case DT_UINT8: case DT_INT16: case DT_UINT16:
    case DT_INT32: case DT_UINT32: case DT_INT64: case DT_UINT64: break;
    default: return OPML_EDTYPE;
  }
  uint32_t *buf = (uint32_t *)opml_alloc((size_t)(D ? D : 1) * 3 * sizeof(uint32_t));
  if (!buf) return OPML_ENOMEM;
  uint32_t *idx = buf, *tmp = buf + D, *group = buf + 2 * D;
  for (uint32_t i = 0; i < D; i++) idx[i] = i;
  struct unique_view view = {X, D, inner};
  uint32_t *sorted_idx = opml_merge_sort(idx, tmp, D, unique_before, &view);
  tmp = sorted_idx == idx ? tmp : idx;
  idx = sorted_idx;
  /* groups of equal slices in sorted order: tmp[u] the first occurrence, group[d] d's group */
  int64_t *first = (int64_t *)Ix->data, *count = (int64_t *)Cn->data, *inv = (int64_t *)Inv->data;
  uint32_t U = 0;
  for (uint32_t k = 0; k < D; k++) {
    if (k == 0 || unique_cmp(X, D, inner, idx[k - 1], idx[k]) != 0) tmp[U++] = idx[k];
    group[idx[k]] = U - 1;
  }
  /* sorted = 0: the groups by first occurrence: the rank of each group's first index */
  uint32_t *rank = idx; /* idx is free now */
  for (uint32_t u = 0; u < U; u++) rank[u] = u;
  if (!sorted) {
    for (uint32_t u = 0, r = 0; u < D; u++) /* a group's first occurrence is the first d in it */
      if (tmp[group[u]] == u) rank[group[u]] = r++;
  }
  for (uint32_t u = 0; u < U; u++) first[rank[u]] = tmp[u];
  for (uint32_t d = 0; d < D; d++) {
    inv[d] = rank[group[d]];
    count[inv[d]]++;
  }
  size_t es = esize(X);
  for (uint32_t o = 0; o < outer; o++)
    for (uint32_t u = 0; u < U; u++)
      memcpy((uint8_t *)Y->data + ((size_t)(o * D + u) * inner) * es,
             (const uint8_t *)X->data + ((size_t)(o * D + first[u]) * inner) * es, (size_t)inner * es);
  ((int64_t *)Nt->data)[0] = U;
  opml_free(buf);
  return OPML_OK;
}

/* ConcatRuntime: ints [outer, inner, n]; inputs x_0..x_{n-1} ([outer, B_i, inner], one dtype)
 * and their run-time lengths L_0..L_{n-1} (int64 scalars, L_i <= B_i); outputs Y [outer, sum B_i,
 * inner] (per outer index the valid parts x_i[:L_i] one after the other, zeros after) and the
 * count sum L_i (int64 scalar). */
static int k_concat_runtime(const opml_node *nd) {
  if (nd->n_ints != 3 || nd->n_out != 2) return OPML_EATTR;
  uint32_t outer = (uint32_t)nd->ints[0], inner = (uint32_t)nd->ints[1], n = (uint32_t)nd->ints[2];
  opml_tensor *Y = nd->out[0], *Nt = nd->out[1];
  if (nd->n_in != 2 * n || Nt->dtype != DT_INT64 || Nt->size != 1) return OPML_EATTR;
  size_t es = esize(Y);
  uint32_t total = 0;
  int64_t count = 0;
  for (uint32_t i = 0; i < n; i++) {
    const opml_tensor *X = nd->in[i], *L = nd->in[n + i];
    if (!X || !L || X->dtype != Y->dtype || L->dtype != DT_INT64 || L->size != 1) return OPML_EATTR;
    uint32_t B = outer * inner ? X->size / (outer * inner) : 0;
    int64_t l = ((const int64_t *)L->data)[0];
    if (l < 0 || l > B) return OPML_EVALUE;
    total += B;
    count += l;
  }
  if ((uint64_t)outer * total * inner != Y->size) return OPML_EATTR;
  for (uint32_t o = 0; o < outer; o++) {
    uint8_t *dst = (uint8_t *)Y->data + (size_t)o * total * inner * es;
    for (uint32_t i = 0; i < n; i++) {
      const opml_tensor *X = nd->in[i];
      uint32_t B = X->size / (outer * inner);
      size_t l = (size_t)((const int64_t *)nd->in[n + i]->data)[0];
      memcpy(dst, (const uint8_t *)X->data + (size_t)o * B * inner * es, l * inner * es);
      dst += l * inner * es;
    }
  }
  ((int64_t *)Nt->data)[0] = count;
  return OPML_OK;
}

/* RuntimeLength: ints [bound]; inputs n (int32/int64, one element), limit? (int64 scalar: a
 * run-time length); output the int64 scalar n, which must lie in [0, bound] and [0, limit]
 * (TopK's run-time k). */
static int k_runtime_length(const opml_node *nd) {
  const opml_tensor *K = nd->in[0], *Lim = nd->n_in > 1 ? nd->in[1] : 0;
  opml_tensor *N = nd->out[0];
  if (nd->n_ints != 1 || K->size != 1 || N->dtype != DT_INT64 || N->size != 1) return OPML_EATTR;
  if (Lim && (Lim->dtype != DT_INT64 || Lim->size != 1)) return OPML_EATTR;
  int ok = 1;
  int64_t k = index_at(K, 0, &ok);
  if (!ok) return OPML_EDTYPE;
  if (k < 0 || k > nd->ints[0] || (Lim && k > ((const int64_t *)Lim->data)[0])) return OPML_EVALUE;
  ((int64_t *)N->data)[0] = k;
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_index[] = {
    {OP_GATHER_ELEMENTS, "GatherElements", k_gather_elements},
    {OP_SCATTER_ELEMENTS, "ScatterElements", k_scatter_elements},
    {OP_SCATTER_ND, "ScatterND", k_scatter_nd},
    {OP_GATHER_ND, "GatherND", k_gather_nd},
    {OP_TRILU, "Trilu", k_trilu},
    {OP_ONE_HOT, "OneHot", k_one_hot},
    {OP_TILE, "Tile", k_tile},
    {OP_EYE_LIKE, "EyeLike", k_eye_like},
    {OP_RANGE, "Range", k_range},
    {OP_CUM_SUM, "CumSum", k_cumsum},
    {OP_CUM_PROD, "CumProd", k_cumsum},
    {OP_TF_IDF_VECTORIZER, "TfIdfVectorizer", k_tfidf},
    {OP_REVERSE_SEQUENCE, "ReverseSequence", k_reverse_sequence},
    {OP_TOP_K, "TopK", k_topk},
    {OP_DROPOUT, "Dropout", k_dropout},
    {OP_TENSOR_SCATTER, "TensorScatter", k_tensor_scatter},
    {OP_NON_ZERO, "NonZero", k_nonzero},
    {OP_RUNTIME_LENGTH, "RuntimeLength", k_runtime_length},
    {OP_UNIQUE, "Unique", k_unique},
    {OP_CONCAT_RUNTIME, "ConcatRuntime", k_concat_runtime},
    {0, 0, 0},
};
