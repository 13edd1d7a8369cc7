/*
 * Signal kernels (docs/IR.md; the "signal" family of core/compiler/ops/schema.ts; lowering in
 * core/compiler/ops/signal.ts): the HannWindow, HammingWindow and BlackmanWindow generators.
 *
 * ints: [N, periodic]; no inputs; the output has N float elements. With D = N (periodic) or
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

const opml_kernel_entry opml_kernels_signal[] = {
    {OP_HANN_WINDOW, "HannWindow", k_window},
    {OP_HAMMING_WINDOW, "HammingWindow", k_window},
    {OP_BLACKMAN_WINDOW, "BlackmanWindow", k_window},
    {0, 0, 0},
};
