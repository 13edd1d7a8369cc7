/*
 * Linear-algebra kernels (docs/IR.md; the "linalg" family of core/compiler/ops/schema.ts;
 * lowering in core/compiler/ops/linalg.ts): Det, Einsum.
 *
 * Einsum: ints [nIn, L, size[L], outStride[L], inStride[nIn][L]]; every label tuple t (the
 * odometer over the L labels, the last fastest) adds in[0][t] * in[1][t] * ... (in input order)
 * to y[t], which starts at +0. One order, so one result.
 *
 * Det: ints [batch, n]; input [..., n, n] float, output [...]. Gaussian elimination with partial
 * pivoting in float, one order: for column k = 0..n-1 the pivot is the first row i >= k of
 * largest |a[i][k]| (a zero pivot gives det 0), rows swap (the sign flips), det = det * pivot
 * from 1 in column order, then for each row i > k ascending f = a[i][k] / a[k][k] and
 * a[i][j] = a[i][j] - f * a[k][j] for j > k ascending; the sign is applied last.
 */
#include "kernel.h"
#include "ops.h"

static float absf(float v) { return opml_bits_f32(opml_f32_bits(v) & 0x7FFFFFFFu); }

static int k_det(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 2 || X->dtype != DT_FLOAT || Y->dtype != DT_FLOAT) return OPML_EATTR;
  int64_t B = nd->ints[0], n = nd->ints[1];
  if (B != Y->size || B * n * n != X->size) return OPML_EATTR;
  float *a = (float *)opml_alloc((size_t)(n * n) * sizeof(float) + 1);
  if (!a) return OPML_ENOMEM;
  for (int64_t b = 0; b < B; b++) {
    const float *x = (const float *)X->data + b * n * n;
    for (int64_t i = 0; i < n * n; i++) a[i] = x[i];
    float det = 1.0f;
    int neg = 0;
    for (int64_t k = 0; k < n; k++) {
      int64_t p = k;
      for (int64_t i = k + 1; i < n; i++) {
        if (absf(a[i * n + k]) > absf(a[p * n + k])) p = i;
      }
      if (a[p * n + k] == 0.0f) {
        det = 0.0f;
        break;
      }
      if (p != k) {
        for (int64_t j = 0; j < n; j++) {
          float t = a[k * n + j];
          a[k * n + j] = a[p * n + j];
          a[p * n + j] = t;
        }
        neg = !neg;
      }
      det = det * a[k * n + k];
      for (int64_t i = k + 1; i < n; i++) {
        float f = a[i * n + k] / a[k * n + k];
        for (int64_t j = k + 1; j < n; j++) a[i * n + j] = a[i * n + j] - f * a[k * n + j];
      }
    }
    ((float *)Y->data)[b] = neg ? -det : det;
  }
  opml_free(a);
  return OPML_OK;
}

#define EINSUM_LOOP(T)                                                                        \
  do {                                                                                        \
    T *y_ = (T *)Y->data;                                                                     \
    for (uint32_t i = 0; i < Y->size; i++) y_[i] = 0;                                         \
    for (int64_t it = 0; it < total; it++) {                                                  \
      T p = ((const T *)nd->in[0]->data)[off[1]];                                             \
      for (int64_t k = 1; k < nin; k++) p = p * ((const T *)nd->in[k]->data)[off[k + 1]];      \
      y_[off[0]] += p;                                                                        \
      for (int64_t l = L - 1; l >= 0; l--) { /* next tuple: offsets move with the strides */  \
        for (int64_t k = 0; k <= nin; k++) off[k] += st[k * L + l];                          \
        if (++idx[l] < size[l]) break;                                                        \
        for (int64_t k = 0; k <= nin; k++) off[k] -= st[k * L + l] * size[l];                \
        idx[l] = 0;                                                                           \
      }                                                                                       \
    }                                                                                         \
  } while (0)

static int k_einsum(const opml_node *nd) {
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints < 2) return OPML_EATTR;
  int64_t nin = nd->ints[0], L = nd->ints[1];
  if (nin < 1 || nin > 8 || nin != nd->n_in || L < 0 || L > 64 || nd->n_ints != (uint32_t)(2 + L * (2 + nin))) {
    return OPML_EATTR;
  }
  const int64_t *size = nd->ints + 2, *st = nd->ints + 2 + L; /* st[0]: output, st[1 + k]: input k */
  int64_t idx[64] = {0}, off[9] = {0}, total = 1;
  for (int64_t l = 0; l < L; l++) total *= size[l];
  for (int64_t k = 0; k < nin; k++) {
    if (nd->in[k]->dtype != Y->dtype) return OPML_EDTYPE;
  }
  if (Y->dtype == DT_FLOAT) EINSUM_LOOP(float);
  else if (Y->dtype == DT_DOUBLE) EINSUM_LOOP(double);
  else return OPML_EDTYPE;
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_linalg[] = {
    {OP_DET, "Det", k_det},
    {OP_EINSUM, "Einsum", k_einsum},
    {0, 0, 0},
};
