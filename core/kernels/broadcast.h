/*
 * Numpy-style multidirectional broadcasting for kernels: iterate a contiguous output row by row
 * with, for each input, the element offset of the row's first element and an element stride
 * along the row (0 where the input is broadcast). Dimensions of size 1 are dropped and adjacent
 * dimensions that are contiguous in every operand are merged first, so the common cases cost
 * nothing per element: same shapes give one row of the whole size with strides 1, a scalar
 * operand gives stride 0, a [C] bias over [N, C] gives N rows of C.
 *
 *   opml_bcast b;
 *   if (opml_bcast_init(&b, out, ins, 2)) return OPML_EATTR;
 *   for (uint32_t r = 0; r < b.rows; r++, opml_bcast_next(&b)) {
 *     const float *x = X + b.off[0], *y = Y + b.off[1];
 *     float *o = O + (size_t)r * b.inner;
 *     for (uint32_t i = 0; i < b.inner; i++) o[i] = x[i * b.step[0]] + y[i * b.step[1]];
 *   }
 */
#ifndef OPML_BROADCAST_H
#define OPML_BROADCAST_H

#include "kernel.h"

#define OPML_BCAST_MAX_IN 4

typedef struct opml_bcast {
  uint32_t n_in;
  uint32_t rank;                                      /* merged rank, >= 1 */
  uint32_t dims[OPML_MAX_RANK];                       /* merged output dimensions */
  uint32_t stride[OPML_BCAST_MAX_IN][OPML_MAX_RANK];  /* element strides, 0 where broadcast */
  uint32_t inner;                                     /* elements per row: dims[rank - 1] */
  uint32_t rows;                                      /* number of rows (0 for an empty output) */
  uint32_t step[OPML_BCAST_MAX_IN];                   /* stride along the row, per input */
  uint32_t off[OPML_BCAST_MAX_IN];                    /* current row's offset, per input */
  uint32_t idx[OPML_MAX_RANK];                        /* current row's index (outer dims) */
} opml_bcast;

/*
 * Prepares iteration of `out` over the n_in inputs (n_in <= OPML_BCAST_MAX_IN). Each input's
 * shape must broadcast to out's shape (right-aligned; each dimension equal or 1). Returns 0,
 * or -1 if they do not (a compiler bug: shapes are checked at compile time).
 */
static inline int opml_bcast_init(opml_bcast *b, const opml_tensor *out, const opml_tensor *const *in,
                                  uint32_t n_in) {
  uint32_t R = out->rank, k, d;
  if (n_in > OPML_BCAST_MAX_IN || R > OPML_MAX_RANK) return -1;
  b->n_in = n_in;
  b->rank = 0;
  for (k = 0; k < n_in; k++) {
    if (in[k]->rank > R) return -1;
    b->off[k] = 0;
  }
  /* contiguous strides of each input, from the innermost dimension outwards */
  uint32_t run[OPML_BCAST_MAX_IN];
  uint32_t st[OPML_BCAST_MAX_IN][OPML_MAX_RANK];
  for (k = 0; k < n_in; k++) run[k] = 1;
  for (d = R; d-- > 0;) {
    for (k = 0; k < n_in; k++) {
      uint32_t lead = R - in[k]->rank;
      uint32_t id = d >= lead ? in[k]->dims[d - lead] : 1;
      if (id != out->dims[d] && id != 1) return -1;
      st[k][d] = (id == 1) ? 0 : run[k];
      run[k] *= id;
    }
  }
  /* drop size-1 dimensions; merge a dimension into the previous kept one when contiguous */
  for (d = 0; d < R; d++) {
    uint32_t n = out->dims[d];
    if (n == 1) continue;
    if (b->rank > 0) {
      uint32_t p = b->rank - 1, mergeable = 1;
      for (k = 0; k < n_in; k++) {
        if (b->stride[k][p] != st[k][d] * n) mergeable = 0;
      }
      if (mergeable) {
        b->dims[p] *= n;
        for (k = 0; k < n_in; k++) b->stride[k][p] = st[k][d];
        continue;
      }
    }
    b->dims[b->rank] = n;
    for (k = 0; k < n_in; k++) b->stride[k][b->rank] = st[k][d];
    b->rank++;
  }
  if (b->rank == 0) { /* a single element */
    b->rank = 1;
    b->dims[0] = 1;
    for (k = 0; k < n_in; k++) b->stride[k][0] = 0;
  }
  b->inner = b->dims[b->rank - 1];
  b->rows = out->size == 0 ? 0 : 1;
  for (d = 0; d + 1 < b->rank; d++) {
    b->rows *= b->dims[d];
    b->idx[d] = 0;
  }
  for (k = 0; k < n_in; k++) b->step[k] = b->stride[k][b->rank - 1];
  return 0;
}

/* The odometer over the outer dimensions 0 .. outer-1 (no division). */
static inline void opml_bcast_advance(opml_bcast *b, uint32_t outer) {
  for (uint32_t d = outer; d-- > 0;) {
    uint32_t k;
    for (k = 0; k < b->n_in; k++) b->off[k] += b->stride[k][d];
    if (++b->idx[d] < b->dims[d]) return;
    for (k = 0; k < b->n_in; k++) b->off[k] -= b->stride[k][d] * b->dims[d];
    b->idx[d] = 0;
  }
}

/* Advances to the next row. */
static inline void opml_bcast_next(opml_bcast *b) { opml_bcast_advance(b, b->rank - 1); }

/* Advances past a block: the rows of one index of the outer dimensions but the last. */
static inline void opml_bcast_next_block(opml_bcast *b) { opml_bcast_advance(b, b->rank - 2); }

/* The kernels' element loops (they expect `bc` initialised over inputs `a`, `c` into `o`;
 * UNARY_LOOP: input `x`, output `o` of one size). */
/* Row loop of out = EXPR(xv, yv) over broadcast inputs of type T into outputs of type TO. */
#define BINARY_LOOP(T, TO, EXPR)                                                              \
  do {                                                                                        \
    const T *X_ = (const T *)a->data, *Y_ = (const T *)c->data;                               \
    TO *O_ = (TO *)o->data;                                                                   \
    uint32_t n_ = bc.inner, sx_ = bc.step[0], sy_ = bc.step[1];                              \
    if (n_ < 16 && bc.rank >= 2 && bc.rows) {                                                 \
      /* short rows (RoPE's halves against their angles): blocks of the last two dimensions, \
       * the odometer once per block instead of once per row */                              \
      const uint32_t m_ = bc.dims[bc.rank - 2];                                               \
      const uint32_t sx2_ = bc.stride[0][bc.rank - 2], sy2_ = bc.stride[1][bc.rank - 2];      \
      TO *z_ = O_;                                                                            \
      for (uint32_t r_ = 0; r_ < bc.rows; r_ += m_, opml_bcast_next_block(&bc)) {             \
        const T *x_ = X_ + bc.off[0], *y_ = Y_ + bc.off[1];                                   \
        for (uint32_t j_ = 0; j_ < m_; j_++, x_ += sx2_, y_ += sy2_, z_ += n_) {              \
          for (uint32_t i_ = 0; i_ < n_; i_++) {                                              \
            T xv = x_[i_ * sx_], yv = y_[i_ * sy_];                                           \
            z_[i_] = (TO)(EXPR);                                                              \
          }                                                                                   \
        }                                                                                     \
      }                                                                                       \
      break;                                                                                  \
    }                                                                                         \
    for (uint32_t r_ = 0; r_ < bc.rows; r_++, opml_bcast_next(&bc)) {                         \
      const T *x_ = X_ + bc.off[0], *y_ = Y_ + bc.off[1];                                     \
      TO *z_ = O_ + (size_t)r_ * n_;                                                          \
      if (sx_ == 1 && sy_ == 1) {                                                             \
        for (uint32_t i_ = 0; i_ < n_; i_++) {                                                \
          T xv = x_[i_], yv = y_[i_];                                                         \
          z_[i_] = (TO)(EXPR);                                                                \
        }                                                                                     \
      } else if (sx_ == 1 && sy_ == 0) { /* a row against one value: vectorisable */         \
        const T yv = *y_;                                                                     \
        for (uint32_t i_ = 0; i_ < n_; i_++) {                                                \
          T xv = x_[i_];                                                                      \
          z_[i_] = (TO)(EXPR);                                                                \
        }                                                                                     \
      } else if (sx_ == 0 && sy_ == 1) {                                                      \
        const T xv = *x_;                                                                     \
        for (uint32_t i_ = 0; i_ < n_; i_++) {                                                \
          T yv = y_[i_];                                                                      \
          z_[i_] = (TO)(EXPR);                                                                \
        }                                                                                     \
      } else {                                                                                \
        for (uint32_t i_ = 0; i_ < n_; i_++, x_ += sx_, y_ += sy_) {                          \
          T xv = *x_, yv = *y_;                                                               \
          z_[i_] = (TO)(EXPR);                                                                \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
  } while (0)

/* out[i] = EXPR(v) for v = x[i], one type T. */
#define UNARY_LOOP(T, EXPR)                                                                   \
  do {                                                                                        \
    const T *X_ = (const T *)x->data;                                                         \
    T *Z_ = (T *)o->data;                                                                     \
    for (uint32_t i_ = 0; i_ < o->size; i_++) {                                               \
      T v = X_[i_];                                                                           \
      Z_[i_] = (EXPR);                                                                        \
    }                                                                                         \
  } while (0)

#endif
