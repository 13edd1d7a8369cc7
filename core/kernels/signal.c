/*
 * Signal kernels (docs/IR.md; the "signal" family of core/compiler/ops/schema.ts; lowering in
 * core/compiler/ops/signal.ts): the HannWindow, HammingWindow and BlackmanWindow generators and
 * MelWeightMatrix.
 *
 * Windows: ints [N, periodic]; no inputs; the output has N float elements. With D = N (periodic) or
 * N - 1 (symmetric), t = (float)n / (float)D and a = 2 pi t (float): Hann 0.5 - 0.5 cos a,
 * Hamming 25/46 - 21/46 cos a, Blackman 0.42 - 0.5 cos a + 0.08 cos 2a, each operation in float
 * in that order, cos = opml_cosf.
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"

static int k_window(const opml_node *nd) {
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 2 || Y->dtype != DT_FLOAT || nd->ints[0] != Y->size) return OPML_EATTR;
  float *y = (float *)Y->data, d = (float)(nd->ints[1] ? nd->ints[0] : nd->ints[0] - 1);
  for (uint32_t n = 0; n < Y->size; n++) {
    float a = 6.28318530717958647692f * ((float)n / d), c = opml_cosf(a);
    switch (nd->op) {
      case OP_HANN_WINDOW: y[n] = 0.5f - 0.5f * c; break;
      case OP_HAMMING_WINDOW: y[n] = (25.0f / 46.0f) - (21.0f / 46.0f) * c; break;
      default: y[n] = (0.42f - 0.5f * c) + 0.08f * opml_cosf(a + a); break;
    }
  }
  return OPML_OK;
}

/* MelWeightMatrix: ints [S, M, bins[M + 2]] (the ONNX reference's integer bins, resolved at
 * compile time, each in [0, S)); output [S, M] float: for band i with bins l, c, h, rows
 * j = l..c get (j - l) / (c - l) (1 at c when c = l), then rows j = c..h-1 get (h - j) / (h - c),
 * each one float division; every other element is +0. */
static int k_mel_weight_matrix(const opml_node *nd) {
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints < 2 || Y->dtype != DT_FLOAT) return OPML_EATTR;
  int64_t S = nd->ints[0], M = nd->ints[1];
  const int64_t *bin = nd->ints + 2;
  if (nd->n_ints != 4 + (uint32_t)M || S * M != Y->size) return OPML_EATTR;
  for (int64_t i = 0; i < M + 2; i++) {
    if (bin[i] < 0 || bin[i] >= S) return OPML_EATTR;
  }
  float *y = (float *)Y->data;
  for (int64_t e = 0; e < S * M; e++) y[e] = 0.0f;
  for (int64_t i = 0; i < M; i++) {
    int64_t l = bin[i], c = bin[i + 1], h = bin[i + 2];
    if (c == l) y[c * M + i] = 1.0f;
    for (int64_t j = l; c != l && j <= c; j++) y[j * M + i] = (float)(j - l) / (float)(c - l);
    for (int64_t j = c; j < h; j++) y[j * M + i] = (float)(h - j) / (float)(h - c);
  }
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_signal[] = {
    {OP_HANN_WINDOW, "HannWindow", k_window},
    {OP_HAMMING_WINDOW, "HammingWindow", k_window},
    {OP_BLACKMAN_WINDOW, "BlackmanWindow", k_window},
    {OP_MEL_WEIGHT_MATRIX, "MelWeightMatrix", k_mel_weight_matrix},
    {0, 0, 0},
};
