/*
 * The spectral family (docs/IR.md; the "spectral" family of core/compiler/ops/schema.ts, lowering
 * in core/compiler/ops/spectral.ts): DFT, STFT.
 *
 * One order: each output bin k is a direct sum from +0 over the input samples n ascending
 * (n < min(N, L); the rest of the N samples are zeros) of x_n * w^(k n mod N), the complex
 * product as (a c + b s) and (b c - a s) with w = c - i s forward (c + i s inverse), the real and
 * imaginary parts in two accumulators; the inverse divides both by N. The inverse of a onesided
 * spectrum (L bins) reads bin k >= L as the conjugate of bin N - k and keeps the real part.
 * STFT: frame f's sample n is signal[f step + n] * window[n] (one rounding), then as DFT.
 */
#include "kernel.h"
#include "ops.h"

typedef int64_t idx;

/* One transform of a strided line: x (L complex or real samples at stride xs, component stride
 * 1), y (K bins at stride ys, one or two components). */
static void dft_line(const float *x, idx L, idx xs, int cin, const float *win, idx N, idx K, int inverse,
                     int half_in, const float *cs, const float *sn, float *y, idx ys, int real_out) {
  const float fn = (float)(int32_t)N;
  for (idx k = 0; k < K; k++) {
    float re = 0.0f, im = 0.0f;
    const idx count = half_in ? N : (N < L ? N : L);
    for (idx n = 0; n < count; n++) {
      float a, b; /* sample n */
      if (half_in && n >= L) { /* the conjugate of bin N - n */
        a = x[(N - n) * xs], b = -x[(N - n) * xs + 1];
      } else {
        a = x[n * xs], b = cin ? x[n * xs + 1] : 0.0f;
      }
      if (win) a = a * win[n], b = b * win[n];
      const idx m = (k * n) % N;
      const float c = cs[m], s = inverse ? -sn[m] : sn[m];
      re += a * c + b * s;
      im += b * c - a * s;
    }
    if (inverse) re = re / fn, im = im / fn;
    y[k * ys] = re;
    if (!real_out) y[k * ys + 1] = im;
  }
}

static int k_dft(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (nd->n_ints != 8) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx outer = v[0], L = v[1], inner = v[2], N = v[4], K = v[5];
  const int cin = v[3] != 0, inverse = v[6] != 0, onesided = v[7] != 0;
  const int half_in = inverse && onesided, real_out = half_in, cout = real_out ? 1 : 2, ci = cin ? 2 : 1;
  if (N < 1 || nd->n_floats != 2 * (uint32_t)N || X->size != outer * L * inner * ci || Y->size != outer * K * inner * cout) {
    return OPML_EATTR;
  }
  if (half_in && (!cin || N >= 2 * L)) return OPML_EATTR; /* bin N - n < L for n >= L */
  const float *x = X->data, *cs = nd->floats, *sn = nd->floats + N;
  float *y = Y->data;
  for (idx o = 0; o < outer; o++) {
    for (idx i = 0; i < inner; i++) {
      dft_line(x + (o * L * inner + i) * ci, L, inner * ci, cin, 0, N, K, inverse, half_in, cs, sn,
               y + (o * K * inner + i) * cout, inner * cout, real_out);
    }
  }
  return OPML_OK;
}

static int k_stft(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *Wn = nd->n_in > 1 ? nd->in[1] : 0;
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Y->dtype != DT_FLOAT || (Wn && Wn->dtype != DT_FLOAT)) return OPML_EDTYPE;
  if (nd->n_ints != 7) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx B = v[0], L = v[1], step = v[3], N = v[4], F = v[5], K = v[6];
  const int cin = v[2] != 0, ci = cin ? 2 : 1;
  if (N < 1 || step < 1 || nd->n_floats != 2 * (uint32_t)N || X->size != B * L * ci || Y->size != B * F * K * 2 ||
      (F - 1) * step + N > L || (Wn && Wn->size != N)) {
    return OPML_EATTR;
  }
  const float *x = X->data, *cs = nd->floats, *sn = nd->floats + N, *win = Wn ? Wn->data : 0;
  float *y = Y->data;
  for (idx b = 0; b < B; b++) {
    for (idx f = 0; f < F; f++) {
      dft_line(x + (b * L + f * step) * ci, N, ci, cin, win, N, K, 0, 0, cs, sn, y + (b * F + f) * K * 2, 2, 0);
    }
  }
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_spectral[] = {
    {OP_DFT, "DFT", k_dft},
    {OP_STFT, "STFT", k_stft},
    {0, 0, 0},
};
