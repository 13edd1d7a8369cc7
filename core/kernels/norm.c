/*
 * The norm family (docs/IR.md; the "norm" family of core/compiler/ops/schema.ts, lowering in
 * core/compiler/ops/norm.ts): RMSNormalization, GroupNormalization (and InstanceNormalization),
 * LpNormalization, MeanVarianceNormalization, LRN, Hardmax, Shrink, Swish.
 *
 * Orders (one per kernel): every sum starts at +0 and adds in ascending index of its elements
 * (row-major over the reduced axes); a mean is that sum / count (count converted to float).
 *  - RMSNormalization: r = 1 / sqrt(sum(x*x) / N + eps), y = x * r * scale.
 *  - Group/InstanceNormalization: mu = sum(x) / n, var = sum((x - mu)^2) / n over the group,
 *    r = 1 / sqrt(var + eps), y = (x - mu) * r * scale + bias.
 *  - LpNormalization: p = 1: n = sum |x|; p = 2: n = sqrt(sum x*x); y = x / n (0 where n is 0).
 *  - MeanVarianceNormalization: mu = sum(x) / n, var = sum((x - mu)^2) / n,
 *    y = (x - mu) / (sqrt(var) + 1e-9).
 *  - LRN: s = sum of x^2 over channels c - (size-1)/2 .. c + size/2 (ascending, inside [0, C)),
 *    y = x / pow(bias + alpha / size * s, beta), alpha / size rounded once.
 *  - Hardmax: 1 at the first maximum along the axis (a NaN counts as the maximum), else 0.
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"
#include "reduce_plan.h"

typedef int64_t idx;

static int all_f32(const opml_node *nd) {
  for (int i = 0; i < nd->n_in; i++) {
    if (nd->in[i] && nd->in[i]->dtype != DT_FLOAT) return 0;
  }
  for (int i = 0; i < nd->n_out; i++) {
    if (nd->out[i]->dtype != DT_FLOAT) return 0;
  }
  return 1;
}

static inline float fabs_bits(float v) { return opml_bits_f32(opml_f32_bits(v) & 0x7FFFFFFFu); }

/* --- RMSNormalization: ints [outer, N, S]; floats [epsilon]; inputs X, scale (S elements, S
 * dividing N: element k of a row is scaled by scale[k mod S]). ----------------------------- */
static int k_rms_norm(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  /* the first programs of this op had ints [outer, N] (S = N): still read */
  if (nd->n_in != 2 || (nd->n_ints != 3 && nd->n_ints != 2) || nd->n_floats != 1) return OPML_EATTR;
  const idx outer = nd->ints[0], N = nd->ints[1], S = nd->n_ints == 3 ? nd->ints[2] : N;
  if (outer * N != nd->in[0]->size || nd->in[1]->size != S || S < 1 || N % S) return OPML_EATTR;
  const float eps = nd->floats[0], cnt = (float)(int32_t)N;
  const float *x = nd->in[0]->data, *sc = nd->in[1]->data;
  float *y = nd->out[0]->data;
  for (idx o = 0; o < outer; o++) {
    const float *xs = x + o * N;
    float s = 0.0f;
    for (idx k = 0; k < N; k++) s += xs[k] * xs[k];
    const float r = 1.0f / opml_sqrtf(s / cnt + eps);
    for (idx k = 0; k < N; k++) y[o * N + k] = xs[k] * r * sc[k % S];
  }
  return OPML_OK;
}

/* --- GroupNormalization: ints [N, G, C/G, S, perChannel]; floats [epsilon]. --------------- */
static int k_group_norm(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  if (nd->n_in != 3 || nd->n_ints != 5 || nd->n_floats != 1) return OPML_EATTR;
  const idx N = nd->ints[0], G = nd->ints[1], CG = nd->ints[2], S = nd->ints[3];
  const int per_channel = nd->ints[4] != 0;
  const idx n = CG * S;
  if (N * G * n != nd->in[0]->size) return OPML_EATTR;
  if (nd->in[1]->size != (per_channel ? G * CG : G) || nd->in[2]->size != nd->in[1]->size) return OPML_EATTR;
  const float eps = nd->floats[0], cnt = (float)(int32_t)n;
  const float *x = nd->in[0]->data, *sc = nd->in[1]->data, *bi = nd->in[2]->data;
  float *y = nd->out[0]->data;
  for (idx b = 0; b < N * G; b++) {
    const float *xs = x + b * n;
    float *ys = y + b * n;
    float mu = 0.0f, v = 0.0f;
    for (idx k = 0; k < n; k++) mu += xs[k];
    mu = mu / cnt;
    for (idx k = 0; k < n; k++) {
      const float d = xs[k] - mu;
      v += d * d;
    }
    const float r = 1.0f / opml_sqrtf(v / cnt + eps);
    const idx g = b % G;
    for (idx c = 0; c < CG; c++) {
      const idx si = per_channel ? g * CG + c : g;
      for (idx s = 0; s < S; s++) ys[c * S + s] = (xs[c * S + s] - mu) * r * sc[si] + bi[si];
    }
  }
  return OPML_OK;
}

/* --- LpNormalization: ints [outer, D, inner, p]. ------------------------------------------ */
static int k_lp_norm(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  if (nd->n_ints != 4) return OPML_EATTR;
  const idx outer = nd->ints[0], D = nd->ints[1], inner = nd->ints[2], p = nd->ints[3];
  if (outer * D * inner != nd->in[0]->size || (p != 1 && p != 2)) return OPML_EATTR;
  const float *x = nd->in[0]->data;
  float *y = nd->out[0]->data;
  for (idx o = 0; o < outer; o++) {
    for (idx i = 0; i < inner; i++) {
      const idx base = o * D * inner + i;
      float s = 0.0f;
      for (idx k = 0; k < D; k++) {
        const float v = x[base + k * inner];
        s += p == 1 ? fabs_bits(v) : v * v;
      }
      if (p == 2) s = opml_sqrtf(s);
      for (idx k = 0; k < D; k++) y[base + k * inner] = s == 0.0f ? 0.0f : x[base + k * inner] / s;
    }
  }
  return OPML_OK;
}

/* --- MeanVarianceNormalization: ints [n, dims[n], reduced[n]]. ---------------------------- */
static int k_mvn(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  rplan p;
  int err = plan_of(nd, nd->in[0]->size, -1, &p);
  if (err) return err;
  const float *x = nd->in[0]->data;
  float *y = nd->out[0]->data;
  const float cnt = (float)(int32_t)p.rsize;
  for (idx o = 0; o < p.ksize; o++) {
    const idx base = offset_of(o, p.nk, p.kdim, p.kstr);
    float mu = 0.0f, v = 0.0f;
    for (idx j = 0; j < p.rsize; j++) mu += x[base + offset_of(j, p.nr, p.rdim, p.rstr)];
    mu = mu / cnt;
    for (idx j = 0; j < p.rsize; j++) {
      const float d = x[base + offset_of(j, p.nr, p.rdim, p.rstr)] - mu;
      v += d * d;
    }
    const float sd = opml_sqrtf(v / cnt) + 1e-9f;
    for (idx j = 0; j < p.rsize; j++) {
      const idx at = base + offset_of(j, p.nr, p.rdim, p.rstr);
      y[at] = (x[at] - mu) / sd;
    }
  }
  return OPML_OK;
}

/* --- LRN: ints [N, C, S, size]; floats [alpha, beta, bias]. ------------------------------- */
static int k_lrn(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  if (nd->n_ints != 4 || nd->n_floats != 3) return OPML_EATTR;
  const idx N = nd->ints[0], C = nd->ints[1], S = nd->ints[2], size = nd->ints[3];
  if (N * C * S != nd->in[0]->size || size < 1) return OPML_EATTR;
  const float a = nd->floats[0] / (float)(int32_t)size, beta = nd->floats[1], bias = nd->floats[2];
  const float *x = nd->in[0]->data;
  float *y = nd->out[0]->data;
  const idx lo = (size - 1) / 2, hi = size / 2;
  for (idx n = 0; n < N; n++) {
    for (idx c = 0; c < C; c++) {
      const idx c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi >= C ? C - 1 : c + hi;
      for (idx s = 0; s < S; s++) {
        float sum = 0.0f;
        for (idx k = c0; k <= c1; k++) {
          const float v = x[(n * C + k) * S + s];
          sum += v * v;
        }
        const idx at = (n * C + c) * S + s;
        y[at] = x[at] / opml_powf(bias + a * sum, beta);
      }
    }
  }
  return OPML_OK;
}

/* --- Hardmax: ints [outer, D, inner]. ----------------------------------------------------- */
static int k_hardmax(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  if (nd->n_ints != 3) return OPML_EATTR;
  const idx outer = nd->ints[0], D = nd->ints[1], inner = nd->ints[2];
  if (outer * D * inner != nd->in[0]->size) return OPML_EATTR;
  const float *x = nd->in[0]->data;
  float *y = nd->out[0]->data;
  for (idx o = 0; o < outer; o++) {
    for (idx i = 0; i < inner; i++) {
      const idx base = o * D * inner + i;
      idx at = 0;
      float best = x[base];
      for (idx k = 1; k < D && best == best; k++) {
        const float v = x[base + k * inner];
        if (v != v || v > best) best = v, at = k;
      }
      for (idx k = 0; k < D; k++) y[base + k * inner] = k == at ? 1.0f : 0.0f;
    }
  }
  return OPML_OK;
}

/* --- Shrink: floats [lambd, bias]; Swish: floats [alpha]. --------------------------------- */
static int k_shrink(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  if (nd->n_floats != 2 || nd->in[0]->size != nd->out[0]->size) return OPML_EATTR;
  const float l = nd->floats[0], b = nd->floats[1], *x = nd->in[0]->data;
  float *y = nd->out[0]->data;
  for (uint32_t i = 0; i < nd->in[0]->size; i++) y[i] = x[i] < -l ? x[i] + b : x[i] > l ? x[i] - b : 0.0f;
  return OPML_OK;
}

static int k_swish(const opml_node *nd) {
  if (!all_f32(nd)) return OPML_EDTYPE;
  if (nd->n_floats != 1 || nd->in[0]->size != nd->out[0]->size) return OPML_EATTR;
  const float a = nd->floats[0], *x = nd->in[0]->data;
  float *y = nd->out[0]->data;
  for (uint32_t i = 0; i < nd->in[0]->size; i++) y[i] = x[i] * opml_sigmoidf(a * x[i]);
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_norm[] = {
    {OP_RMSNORMALIZATION, "RMSNormalization", k_rms_norm},
    {OP_GROUP_NORMALIZATION, "GroupNormalization", k_group_norm},
    {OP_LP_NORMALIZATION, "LpNormalization", k_lp_norm},
    {OP_MEAN_VARIANCE_NORMALIZATION, "MeanVarianceNormalization", k_mvn},
    {OP_LRN, "LRN", k_lrn},
    {OP_HARDMAX, "Hardmax", k_hardmax},
    {OP_SHRINK, "Shrink", k_shrink},
    {OP_SWISH, "Swish", k_swish},
    {0, 0, 0},
};
