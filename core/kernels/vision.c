/*
 * The vision family (docs/IR.md; the "vision" family of core/compiler/ops/schema.ts, lowering
 * in core/compiler/ops/vision.ts): Resize (and Upsample), DepthToSpace, SpaceToDepth,
 * ConvTranspose, LpPool.
 *
 * Orders (one per kernel, whatever the build):
 *  - Resize (weighted): each output is +0 + sum over its taps of (w_0 * w_1 * ... * w_{r-1}) * x,
 *    the taps visited as an odometer over the axes (axis 0 slowest, each axis' taps in table
 *    order), the weight product taken in axis order. Nearest: an element copy.
 *  - ConvTranspose: each output is (+0 + sum over input channels of its group ascending, then
 *    kd, kh, kw ascending, of x * w over the taps that land on it) + B.
 *  - LpPool: +0 + sum of |x|^p over the window's taps inside the input in (kd, kh, kw) order;
 *    p = 1: the sum; p = 2: sqrt of the sum of x*x; else pow(sum pow(|x|, p), 1/p).
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"
#include "merge_sort.h"
#include "simd.h"

typedef int64_t idx;

/* --- Resize ------------------------------------------------------------------------------- */
#if defined(OPML_X86)
/* A weighted Resize's last axis in 16 AVX-512 lanes (16 outputs of a row at once), from tables
 * made once per call: the taps and weights of output j's tap u at [u * OL + j] (tap < 0: none,
 * -2 at u = 0: the extrapolation value), and per block of 16 outputs and tap u the first tap
 * `lo` when all the block's taps lie in [lo, lo + 32) (upsampling: the inputs are two registers
 * loaded from lo and permuted), else -1 (a gather). */
typedef struct resize_tabs {
  idx OL, TL, nb, in;      /* outputs and taps along the axis, blocks of 16, the input's length */
  int32_t *tap;            /* [TL][OL] */
  float *w;                /* [TL][OL] */
  int32_t *lo;             /* [TL][nb] */
} resize_tabs;

static int resize_tabs_make(resize_tabs *r, const int64_t *tl, const float *wl, idx OL, idx TL, idx in) {
  r->OL = OL, r->TL = TL, r->nb = (OL + 15) / 16, r->in = in;
  r->tap = opml_alloc((size_t)(TL * OL + TL * r->nb) * sizeof(int32_t) + (size_t)(TL * OL) * sizeof(float));
  if (!r->tap) return 0;
  r->lo = r->tap + TL * OL;
  r->w = (float *)(r->lo + TL * r->nb);
  for (idx u = 0; u < TL; u++) {
    for (idx b = 0; b < r->nb; b++) {
      int32_t lo = INT32_MAX, hi = -1;
      for (idx j = b * 16; j < OL && j < b * 16 + 16; j++) {
        const int32_t t = (int32_t)tl[j * TL + u];
        r->tap[u * OL + j] = t, r->w[u * OL + j] = wl[j * TL + u];
        if (t >= 0) lo = t < lo ? t : lo, hi = t > hi ? t : hi;
      }
      r->lo[u * r->nb + b] = hi < 0 ? 0 : hi - lo < 32 ? lo : -1;
    }
  }
  return 1;
}

/* One row: y[j] = +0 + sum over the leading taps c, then the row's taps u, of
 * ((lead ? cw[c] * w : w) * x), taps < 0 skipped (masked): each lane k_resize's sequence. */
__attribute__((target("avx512f"))) static void resize_row_avx512(const resize_tabs *r, const float *x, float *y,
                                                                const idx *coff, const float *cw, idx nc,
                                                                int lead, float fill) {
  const idx OL = r->OL;
  const __m512i zero = _mm512_setzero_si512(), lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  for (idx b = 0; b < r->nb; b++) {
    const idx j = b * 16;
    const __mmask16 m = OL - j >= 16 ? 0xFFFF : (__mmask16)((1u << (OL - j)) - 1);
    __m512 acc = _mm512_setzero_ps();
    for (idx c = 0; c < nc; c++) {
      const float *xc = x + coff[c];
      for (idx u = 0; u < r->TL; u++) {
        const __m512i t = _mm512_maskz_loadu_epi32(m, r->tap + u * OL + j);
        const __mmask16 valid = _mm512_mask_cmpge_epi32_mask(m, t, zero);
        if (!valid) continue;
        __m512 w = _mm512_maskz_loadu_ps(m, r->w + u * OL + j);
        if (lead) w = _mm512_mul_ps(_mm512_set1_ps(cw[c]), w);
        const int32_t lo = r->lo[u * r->nb + b];
        __m512 xv;
        if (lo >= 0) { /* two registers from lo (masked past the row's end), permuted */
          const __m512i rel = _mm512_sub_epi32(t, _mm512_set1_epi32(lo));
          const idx left = r->in - lo;
          __m512 a, bb;
          if (left >= 32) {
            a = _mm512_loadu_ps(xc + lo), bb = _mm512_loadu_ps(xc + lo + 16);
          } else {
            a = _mm512_maskz_loadu_ps(_mm512_cmplt_epi32_mask(lanes, _mm512_set1_epi32((int32_t)left)), xc + lo);
            bb = _mm512_maskz_loadu_ps(_mm512_cmplt_epi32_mask(lanes, _mm512_set1_epi32((int32_t)left - 16)), xc + lo + 16);
          }
          xv = _mm512_permutex2var_ps(a, rel, bb);
        } else {
          xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, t, xc, 4);
        }
        acc = _mm512_mask_add_ps(acc, valid, acc, _mm512_mul_ps(w, xv));
      }
    }
    const __mmask16 ex = _mm512_mask_cmpeq_epi32_mask(m, _mm512_maskz_loadu_epi32(m, r->tap + j), _mm512_set1_epi32(-2));
    acc = _mm512_mask_blend_ps(ex, acc, _mm512_set1_ps(fill));
    if (m == 0xFFFF) {
      _mm512_storeu_ps(y + j, acc);
    } else {
      _mm512_mask_storeu_ps(y + j, m, acc);
    }
  }
}
#endif

typedef struct resize_job {
  const opml_node *nd;
  const opml_tensor *X;
  opml_tensor *Y;
  idx r;
  const int64_t *in, *out, *T, *ti;
  idx tab[OPML_MAX_RANK], istr[OPML_MAX_RANK];
  int weighted;
  size_t es;
  idx base, ncomb, per;
  int failed;
#if defined(OPML_X86)
  int vec;
  resize_tabs rt;
#endif
} resize_job;

/* Output rows [row0, row1) along the last axis. */
static void resize_rows(resize_job *jb, idx row0, idx row1) {
  const opml_node *nd = jb->nd;
  const opml_tensor *X = jb->X;
  opml_tensor *Y = jb->Y;
  const int64_t *out = jb->out, *T = jb->T, *ti = jb->ti;
  const idx *tab = jb->tab, *istr = jb->istr, base = jb->base, ncomb = jb->ncomb;
  const int weighted = jb->weighted;
  const size_t es = jb->es;
  const idx L = jb->r - 1, TL = T[L], OL = out[L];
  idx *coff = opml_alloc((size_t)ncomb * (sizeof(idx) + sizeof(float)));
  if (!coff) {
    jb->failed = 1;
    return;
  }
  float *cw = (float *)(coff + ncomb);
  idx o[OPML_MAX_RANK] = {0}, t[OPML_MAX_RANK];
  for (idx a = L - 1, rr = row0; a >= 0; a--) o[a] = rr % out[a], rr /= out[a]; /* row0's index */
  for (idx j0 = row0 * OL; j0 < row1 * OL; j0 += OL) {
    int extrap = 0;
    for (idx a = 0; a < L; a++) extrap |= ti[tab[a] + o[a] * T[a]] == -2;
    idx nc = 0; /* the leading taps with every index inside the input */
    for (idx a = 0; a < L; a++) t[a] = 0;
    for (;;) {
      idx off = 0, a;
      float w = 0.0f;
      for (a = 0; a < L; a++) {
        const idx k = tab[a] + o[a] * T[a] + (weighted ? t[a] : 0);
        if (ti[k] < 0) break;
        off += ti[k] * istr[a];
        const float wk = nd->floats[1 + k - base];
        w = a == 0 ? wk : w * wk;
      }
      if (a == L) coff[nc] = off, cw[nc] = w, nc++;
      if (!weighted) break;
      a = L - 1;
      while (a >= 0 && ++t[a] == T[a]) t[a--] = 0;
      if (a < 0) break;
    }
    const idx *tl = ti + tab[L];
    const float *wl = nd->floats + 1 + tab[L] - base;
    if (!weighted) {
      for (idx j = 0; j < OL; j++) {
        if (extrap || tl[j * TL] == -2) {
          ((float *)Y->data)[j0 + j] = nd->floats[0];
          continue;
        }
        const idx off = (nc ? coff[0] : 0) + tl[j * TL];
        if (es == 4) {
          ((uint32_t *)Y->data)[j0 + j] = ((const uint32_t *)X->data)[off];
        } else {
          const uint8_t *src = (const uint8_t *)X->data + off * es;
          uint8_t *dst = (uint8_t *)Y->data + (j0 + j) * es;
          for (size_t b = 0; b < es; b++) dst[b] = src[b];
        }
      }
    } else {
      const float *x = X->data;
      float *y = (float *)Y->data + j0;
#if defined(OPML_X86)
      if (jb->vec && !extrap) {
        resize_row_avx512(&jb->rt, x, y, coff, cw, nc, L != 0, nd->floats[0]);
      } else
#endif
      for (idx j = 0; j < OL; j++) {
        if (extrap || tl[j * TL] == -2) {
          y[j] = nd->floats[0];
          continue;
        }
        float acc = 0.0f;
        for (idx c = 0; c < nc; c++) {
          const float *xc = x + coff[c];
          for (idx u = j * TL; u < (j + 1) * TL; u++) {
            if (tl[u] < 0) continue;
            acc += (L == 0 ? wl[u] : cw[c] * wl[u]) * xc[tl[u]];
          }
        }
        y[j] = acc;
      }
    }
    for (idx a = L - 1; a >= 0 && ++o[a] == out[a]; a--) o[a] = 0;
  }
  opml_free(coff);
}

static void resize_item(void *ctx, size_t item) {
  resize_job *j = ctx;
  const idx rows = j->Y->size / j->out[j->r - 1], r0 = (idx)item * j->per;
  resize_rows(j, r0, r0 + j->per < rows ? r0 + j->per : rows);
}

static int k_resize(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (X->dtype != Y->dtype) return OPML_EDTYPE;
  if (nd->n_ints < 1) return OPML_EATTR;
  const idx r = nd->ints[0];
  if (r < 1 || r > OPML_MAX_RANK || nd->n_ints < 2 + 3 * (uint32_t)r) return OPML_EATTR;
  const int64_t *in = nd->ints + 1, *out = in + r, *T = out + r;
  const int weighted = nd->ints[1 + 3 * r] != 0;
  if (weighted && X->dtype != DT_FLOAT) return OPML_EDTYPE;
  /* the table of axis a starts at tab[a] (ints and floats share the index) */
  idx tab[OPML_MAX_RANK], istr[OPML_MAX_RANK], pos = 2 + 3 * r, isize = 1, osize = 1;
  for (idx a = r - 1; a >= 0; a--) istr[a] = isize, isize *= in[a];
  for (idx a = 0; a < r; a++) {
    if (T[a] < 1 || out[a] != Y->dims[a] || in[a] != X->dims[a]) return OPML_EATTR;
    tab[a] = pos;
    pos += out[a] * T[a];
    osize *= out[a];
  }
  if ((idx)nd->n_ints != pos || (idx)nd->n_floats != pos - (2 + 3 * r) + 1) return OPML_EATTR;
  if (isize != X->size || osize != Y->size) return OPML_EATTR;
  const int64_t *ti = nd->ints;
  const idx base = 2 + 3 * r; /* the weight of ti[k] is floats[1 + k - base] */
  for (idx a = 0; a < r; a++) {
    for (idx k = tab[a]; k < tab[a] + out[a] * T[a]; k++) {
      if (ti[k] < -2 || ti[k] >= in[a]) return OPML_EATTR;
    }
  }
  const size_t es = opml_dtype_size(X->dtype);
  /* Row by row along the last axis L (rows in blocks on the pool's threads): the taps of the
   * leading axes (their offsets and weight products, left to right, in odometer order) are
   * shared by the row; each output then adds, per leading tap in that order, its own last-axis
   * taps: the odometer's sequence exactly. */
  if (!osize) return OPML_OK;
  resize_job j = {nd, X, Y, r, in, out, T, ti, {0}, {0}, weighted, es, base, 1, 0, 0};
  for (idx a = 0; a < r; a++) j.tab[a] = tab[a], j.istr[a] = istr[a];
  for (idx a = 0; a < r - 1; a++) j.ncomb *= T[a];
#if defined(OPML_X86)
  const idx L = r - 1;
  j.vec = weighted && opml_use_avx512() && in[L] < INT32_MAX &&
          resize_tabs_make(&j.rt, ti + tab[L], nd->floats + 1 + tab[L] - base, out[L], T[L], in[L]);
#endif
  const idx rows = osize / out[r - 1], items = 4 * (idx)opml_threads();
  j.per = rows < items ? 1 : (rows + items - 1) / items;
  opml_parallel(rows ? (size_t)((rows + j.per - 1) / j.per) : 0, (size_t)osize * (size_t)(j.ncomb * T[r - 1]) * 4,
                resize_item, &j);
#if defined(OPML_X86)
  if (j.vec) opml_free(j.rt.tap);
#endif
  return j.failed ? OPML_ENOMEM : OPML_OK;
}

/* --- DepthToSpace and SpaceToDepth -------------------------------------------------------- */
/* ints [N, C, H, W, b, crd]: y[n, c, h*b + i, w*b + j] = x[n, ch, h, w] with ch = (i*b + j) * C/b^2
 * + c (DCR) or c * b^2 + i*b + j (CRD); SpaceToDepth [N, C, H, W, b] is the DCR inverse. */
static int depth_space(const opml_node *nd, int to_space) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (X->dtype != Y->dtype) return OPML_EDTYPE;
  if (nd->n_ints != (to_space ? 6u : 5u)) return OPML_EATTR;
  const idx N = nd->ints[0], C = nd->ints[1], H = nd->ints[2], W = nd->ints[3], b = nd->ints[4];
  const int crd = to_space && nd->ints[5];
  if (b < 1 || N * C * H * W != X->size || X->size != Y->size) return OPML_EATTR;
  const size_t es = opml_dtype_size(X->dtype);
  /* in depth-to-space terms: the deep tensor [N, CD, HS, WS], the spatial one [N, CS, HS*b, WS*b] */
  const idx CD = to_space ? C : C * b * b, CS = CD / (b * b);
  const idx HS = to_space ? H : H / b, WS = to_space ? W : W / b;
  if (CS * b * b != CD) return OPML_EATTR;
  const uint8_t *x = X->data;
  uint8_t *y = Y->data;
  for (idx n = 0; n < N; n++) {
    for (idx c = 0; c < CS; c++) {
      for (idx h = 0; h < HS * b; h++) {
        for (idx w = 0; w < WS * b; w++) {
          const idx i = h % b, j = w % b;
          const idx ch = crd ? c * b * b + i * b + j : (i * b + j) * CS + c;
          const idx deep = ((n * CD + ch) * HS + h / b) * WS + w / b;
          const idx flat = ((n * CS + c) * HS * b + h) * WS * b + w;
          const uint8_t *src = x + (to_space ? deep : flat) * es;
          uint8_t *dst = y + (to_space ? flat : deep) * es;
          for (size_t k = 0; k < es; k++) dst[k] = src[k];
        }
      }
    }
  }
  return OPML_OK;
}

static int k_depth_to_space(const opml_node *nd) { return depth_space(nd, 1); }
static int k_space_to_depth(const opml_node *nd) { return depth_space(nd, 0); }

/* --- ConvTranspose ------------------------------------------------------------------------ */
/* ints [N, C, OC, group, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW].
 * Input position i feeds output o through tap k when o + P = i*S + k*D. */
static int k_conv_transpose(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *Wt = nd->in[1], *B = nd->n_in > 2 ? nd->in[2] : 0;
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Wt->dtype != DT_FLOAT || Y->dtype != DT_FLOAT || (B && B->dtype != DT_FLOAT)) {
    return OPML_EDTYPE;
  }
  if (nd->n_ints != 22) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx N = v[0], C = v[1], OC = v[2], G = v[3];
  const idx I[3] = {v[4], v[5], v[6]}, O[3] = {v[7], v[8], v[9]}, K[3] = {v[10], v[11], v[12]};
  const idx S[3] = {v[13], v[14], v[15]}, D[3] = {v[16], v[17], v[18]}, P[3] = {v[19], v[20], v[21]};
  if (G < 1 || C % G || OC % G) return OPML_EATTR;
  for (int a = 0; a < 3; a++) {
    if (S[a] < 1 || D[a] < 1 || I[a] < 1 || O[a] < 1 || K[a] < 1) return OPML_EATTR;
  }
  const idx cpg = C / G, opg = OC / G, isz = I[0] * I[1] * I[2], osz = O[0] * O[1] * O[2];
  const idx ksz = K[0] * K[1] * K[2];
  if (N * C * isz != X->size || C * opg * ksz != Wt->size || N * OC * osz != Y->size) return OPML_EATTR;
  if (B && B->size != OC) return OPML_EATTR;
  const float *x = X->data, *w = Wt->data, *bias = B ? B->data : 0;
  float *y = Y->data;
  for (idx n = 0; n < N; n++) {
    for (idx oc = 0; oc < OC; oc++) {
      const idx g = oc / opg, m = oc % opg;
      for (idx od = 0; od < O[0]; od++) {
        for (idx oh = 0; oh < O[1]; oh++) {
          for (idx ow = 0; ow < O[2]; ow++) {
            float acc = 0.0f;
            for (idx ic = g * cpg; ic < (g + 1) * cpg; ic++) {
              const float *xc = x + (n * C + ic) * isz, *wc = w + (ic * opg + m) * ksz;
              for (idx kd = 0; kd < K[0]; kd++) {
                const idx td = od + P[0] - kd * D[0];
                if (td < 0 || td % S[0] || td / S[0] >= I[0]) continue;
                for (idx kh = 0; kh < K[1]; kh++) {
                  const idx th = oh + P[1] - kh * D[1];
                  if (th < 0 || th % S[1] || th / S[1] >= I[1]) continue;
                  for (idx kw = 0; kw < K[2]; kw++) {
                    const idx tw = ow + P[2] - kw * D[2];
                    if (tw < 0 || tw % S[2] || tw / S[2] >= I[2]) continue;
                    acc += xc[(td / S[0] * I[1] + th / S[1]) * I[2] + tw / S[2]] * wc[(kd * K[1] + kh) * K[2] + kw];
                  }
                }
              }
            }
            y[((n * OC + oc) * O[0] + od) * O[1] * O[2] + oh * O[2] + ow] = bias ? acc + bias[oc] : acc;
          }
        }
      }
    }
  }
  return OPML_OK;
}

/* --- LpPool ------------------------------------------------------------------------------- */
/* ints [N*C, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW, ED, EH, EW, p]. */
static int k_lp_pool(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (nd->n_ints != 23) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx NC = v[0], I[3] = {v[1], v[2], v[3]}, O[3] = {v[4], v[5], v[6]}, K[3] = {v[7], v[8], v[9]};
  const idx S[3] = {v[10], v[11], v[12]}, D[3] = {v[13], v[14], v[15]}, P[3] = {v[16], v[17], v[18]};
  const idx p = v[22];
  if (p < 1) return OPML_EATTR;
  const idx isz = I[0] * I[1] * I[2], osz = O[0] * O[1] * O[2];
  if (NC * isz != X->size || NC * osz != Y->size) return OPML_EATTR;
  const float fp = (float)(int32_t)p, inv = 1.0f / fp;
  const float *x = X->data;
  float *y = Y->data;
  for (idx c = 0; c < NC; c++) {
    const float *xc = x + c * isz;
    for (idx od = 0; od < O[0]; od++) {
      for (idx oh = 0; oh < O[1]; oh++) {
        for (idx ow = 0; ow < O[2]; ow++) {
          float acc = 0.0f;
          for (idx kd = 0; kd < K[0]; kd++) {
            const idx id = od * S[0] - P[0] + kd * D[0];
            if (id < 0 || id >= I[0]) continue;
            for (idx kh = 0; kh < K[1]; kh++) {
              const idx ih = oh * S[1] - P[1] + kh * D[1];
              if (ih < 0 || ih >= I[1]) continue;
              for (idx kw = 0; kw < K[2]; kw++) {
                const idx iw = ow * S[2] - P[2] + kw * D[2];
                if (iw < 0 || iw >= I[2]) continue;
                const float e = xc[(id * I[1] + ih) * I[2] + iw];
                const float a = opml_bits_f32(opml_f32_bits(e) & 0x7FFFFFFFu);
                acc += p == 1 ? a : p == 2 ? e * e : opml_powf(a, fp);
              }
            }
          }
          *y++ = p == 1 ? acc : p == 2 ? opml_sqrtf(acc) : opml_powf(acc, inv);
        }
      }
    }
  }
  return OPML_OK;
}

/* --- GridSample --------------------------------------------------------------------------
 * ints [N, C, r, inDims[r], outDims[r], mode, padding, alignCorners]; grid [N, out..., r] holds
 * (x, y[, z]) for the axes innermost first. Per axis: the coordinate u = ((g + 1) / 2) (len - 1)
 * (align corners) or ((g + 1) len - 1) / 2; nearest rounds it half to even; outside
 * [lo, hi] (align corners: [0, len - 1], else [-0.5, len - 0.5]) border clamps it to
 * [0, len - 1] and reflection reflects it; taps: nearest 1, linear 2 (1 - f, f), cubic 4 (Keys,
 * a = -0.75) from i0 = floor(u), f = u - i0. A tap outside the input reads 0 (zeros), the
 * clamped index (border) or the reflected, truncated one (reflection). The value is
 * +0 + sum over axis 0's taps of c * (+0 + sum over axis 1's taps of c * (...)), each axis'
 * taps ascending, the innermost axis first. */
static float gs_reflect(float x, float lo, float hi) {
  const float rng = hi - lo;
  if (x < lo) {
    const float dx = lo - x;
    const int32_t n = (int32_t)(dx / rng);
    const float r = dx - (float)n * rng;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const float dx = x - hi;
    const int32_t n = (int32_t)(dx / rng);
    const float r = dx - (float)n * rng;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

typedef struct {
  int n;              /* taps */
  idx at[4];          /* input index, or -1 for a zero */
  float c[4];
} gs_axis;

static void gs_taps(float g, idx len, int mode, int padding, int align, gs_axis *t) {
  const float fl = (float)(int32_t)len;
  float u = align ? (g + 1.0f) / 2.0f * (fl - 1.0f) : ((g + 1.0f) * fl - 1.0f) / 2.0f;
  if (mode == 0) u = opml_roundevenf(u);
  const float lo = align ? 0.0f : -0.5f, hi = align ? fl - 1.0f : fl - 0.5f;
  if (u < lo || u > hi) {
    if (padding == 1) u = u < 0.0f ? 0.0f : u > fl - 1.0f ? fl - 1.0f : u;
    else if (padding == 2) u = gs_reflect(u, lo, hi);
  }
  idx i0;
  if (mode == 0) {
    t->n = 1, t->c[0] = 1.0f;
    i0 = (idx)(int32_t)u;
  } else {
    const float f0 = opml_floorf(u), f = u - f0;
    i0 = (idx)(int32_t)f0;
    if (mode == 1) {
      t->n = 2, t->c[0] = 1.0f - f, t->c[1] = f;
    } else {
      const float A = -0.75f, x1 = f + 1.0f, x2 = 1.0f - f, x3 = 2.0f - f;
      t->n = 4, i0 -= 1;
      t->c[0] = ((A * x1 - 5.0f * A) * x1 + 8.0f * A) * x1 - 4.0f * A;
      t->c[1] = ((A + 2.0f) * f - (A + 3.0f)) * f * f + 1.0f;
      t->c[2] = ((A + 2.0f) * x2 - (A + 3.0f)) * x2 * x2 + 1.0f;
      t->c[3] = ((A * x3 - 5.0f * A) * x3 + 8.0f * A) * x3 - 4.0f * A;
    }
  }
  for (int k = 0; k < t->n; k++) {
    idx i = i0 + k;
    if (i < 0 || i >= len) {
      if (padding == 0) i = -1;
      else if (padding == 1) i = i < 0 ? 0 : len - 1;
      else i = (idx)(int32_t)gs_reflect((float)(int32_t)i, lo, hi);
    }
    t->at[k] = i;
  }
}

static float gs_value(const float *x, const gs_axis *t, const idx *istr, int a, int r, idx off) {
  float acc = 0.0f;
  for (int k = 0; k < t[a].n; k++) {
    if (t[a].at[k] < 0) continue;
    const idx o = off + t[a].at[k] * istr[a];
    acc += t[a].c[k] * (a == r - 1 ? x[o] : gs_value(x, t, istr, a + 1, r, o));
  }
  return acc;
}

static int k_grid_sample(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *Gd = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Gd->dtype != DT_FLOAT || Y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (nd->n_ints < 3) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx N = v[0], C = v[1];
  const int r = (int)v[2];
  if (r < 1 || r > 3 || nd->n_ints != 6 + 2 * (uint32_t)r) return OPML_EATTR;
  const int mode = (int)v[3 + 2 * r], padding = (int)v[4 + 2 * r], align = v[5 + 2 * r] != 0;
  idx istr[3], isz = 1, osz = 1;
  for (int a = r - 1; a >= 0; a--) istr[a] = isz, isz *= v[3 + a];
  for (int a = 0; a < r; a++) osz *= v[3 + r + a];
  if (N * C * isz != X->size || N * osz * r != Gd->size || N * C * osz != Y->size) return OPML_EATTR;
  const float *x = X->data, *g = Gd->data;
  float *y = Y->data;
  gs_axis t[3];
  for (idx n = 0; n < N; n++) {
    for (idx o = 0; o < osz; o++) {
      const float *gp = g + (n * osz + o) * r;
      for (int a = 0; a < r; a++) gs_taps(gp[r - 1 - a], v[3 + a], mode, padding, align, &t[a]);
      for (idx c = 0; c < C; c++) y[(n * C + c) * osz + o] = gs_value(x + (n * C + c) * isz, t, istr, 0, r, 0);
    }
  }
  return OPML_OK;
}

/* --- RoiAlign ------------------------------------------------------------------------------
 * onnxruntime's algorithm: per roi (x1, y1, x2, y2) * spatialScale (- 0.5 with half_pixel; the
 * size at least 1 otherwise), per output bin a grid of samplingRatio (or ceil(bin size)) points,
 * each a bilinear sample (w1 v1 + w2 v2 + w3 v3 + w4 v4, points outside [-1, size] are 0);
 * avg: (+0 + samples in grid order) / count; max: the largest of the weighted corner values.
 * Input 3 (opml.runtime's RoiAlign): the rois' run-time number, the rows past it zeros. */
static int k_roi_align(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *Rs = nd->in[1], *BI = nd->in[2], *Len = nd->n_in > 3 ? nd->in[3] : 0;
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Rs->dtype != DT_FLOAT || BI->dtype != DT_INT64 || Y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (nd->n_ints != 9 || nd->n_floats != 1) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx R = v[0], C = v[1], H = v[2], W = v[3], OH = v[4], OW = v[5], sr = v[6];
  const int half = v[7] != 0, mx = v[8] != 0;
  if (Rs->size != R * 4 || BI->size != R || Y->size != R * C * OH * OW || X->size % (C * H * W)) return OPML_EATTR;
  const idx NB = X->size / (C * H * W);
  const float ss = nd->floats[0], off = half ? 0.5f : 0.0f, fh = (float)(int32_t)H, fw = (float)(int32_t)W;
  const float *x = X->data, *rois = Rs->data;
  const int64_t *bi = BI->data;
  float *y = Y->data;
  idx valid = R;
  if (Len) { /* only the first `valid` rois exist (docs/IR.md, "Run-time shapes") */
    if (Len->dtype != DT_INT64 || Len->size != 1) return OPML_EATTR;
    const int64_t l = ((const int64_t *)Len->data)[0];
    if (l < 0 || l > R) return OPML_EVALUE;
    valid = (idx)l;
    for (uint32_t i = (uint32_t)(valid * C * OH * OW); i < Y->size; i++) y[i] = 0.0f;
  }
  for (idx n = 0; n < valid; n++) {
    if (bi[n] < 0 || bi[n] >= NB) return OPML_EVALUE;
    const float *r = rois + n * 4;
    const float sw = r[0] * ss - off, sh = r[1] * ss - off, ew = r[2] * ss - off, eh = r[3] * ss - off;
    float rw = ew - sw, rh = eh - sh;
    if (!half) rw = rw > 1.0f ? rw : 1.0f, rh = rh > 1.0f ? rh : 1.0f;
    const float bh = rh / (float)(int32_t)OH, bw = rw / (float)(int32_t)OW;
    const idx gh = sr > 0 ? sr : (idx)(int32_t)(-opml_floorf(-bh)), gw = sr > 0 ? sr : (idx)(int32_t)(-opml_floorf(-bw));
    const idx count = gh * gw > 1 ? gh * gw : 1;
    const float fgh = (float)(int32_t)gh, fgw = (float)(int32_t)gw, fcount = (float)(int32_t)count;
    for (idx c = 0; c < C; c++) {
      const float *xc = x + (bi[n] * C + c) * H * W;
      for (idx ph = 0; ph < OH; ph++) {
        for (idx pw = 0; pw < OW; pw++) {
          float acc = 0.0f;
          int first = 1;
          for (idx iy = 0; iy < gh; iy++) {
            const float yy = sh + (float)(int32_t)ph * bh + ((float)(int32_t)iy + 0.5f) * bh / fgh;
            for (idx ix = 0; ix < gw; ix++) {
              const float xx = sw + (float)(int32_t)pw * bw + ((float)(int32_t)ix + 0.5f) * bw / fgw;
              float val = 0.0f;
              if (!(yy < -1.0f || yy > fh || xx < -1.0f || xx > fw)) {
                float py = yy <= 0.0f ? 0.0f : yy, px = xx <= 0.0f ? 0.0f : xx;
                idx yl = (idx)(int32_t)py, xl = (idx)(int32_t)px, yh, xh;
                if (yl >= H - 1) yh = yl = H - 1, py = (float)(int32_t)yl;
                else yh = yl + 1;
                if (xl >= W - 1) xh = xl = W - 1, px = (float)(int32_t)xl;
                else xh = xl + 1;
                const float ly = py - (float)(int32_t)yl, lx = px - (float)(int32_t)xl, hy = 1.0f - ly, hx = 1.0f - lx;
                const float a1 = hy * hx * xc[yl * W + xl], a2 = hy * lx * xc[yl * W + xh];
                const float a3 = ly * hx * xc[yh * W + xl], a4 = ly * lx * xc[yh * W + xh];
                if (mx) {
                  val = a1 > a2 ? a1 : a2;
                  val = val > a3 ? val : a3;
                  val = val > a4 ? val : a4;
                } else {
                  val = a1 + a2 + a3 + a4;
                }
              }
              if (mx) acc = first || val > acc ? val : acc;
              else acc += val;
              first = 0;
            }
          }
          y[((n * C + c) * OH + ph) * OW + pw] = mx ? acc : acc / fcount;
        }
      }
    }
  }
  return OPML_OK;
}

/* --- MaxUnpool: ints [r, inferred dims[r]] ------------------------------------------------- */
static int k_max_unpool(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *I = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Y->dtype != DT_FLOAT || I->dtype != DT_INT64) return OPML_EDTYPE;
  if (I->size != X->size || nd->n_ints < 1) return OPML_EATTR;
  const idx r = nd->ints[0];
  if (r != Y->rank || nd->n_ints != 1 + (uint32_t)r) return OPML_EATTR;
  idx total = 1;
  for (idx a = 0; a < r; a++) total *= nd->ints[1 + a];
  const float *x = X->data;
  const int64_t *ind = I->data;
  float *y = Y->data;
  for (uint32_t i = 0; i < Y->size; i++) y[i] = 0.0f;
  for (uint32_t k = 0; k < X->size; k++) {
    if (ind[k] < 0 || ind[k] >= total) return OPML_EVALUE;
    idx rest = ind[k], at = 0, stride = 1;
    for (idx a = r - 1; a >= 0; a--) { /* re-encode the position in Y's shape */
      const idx c = rest % nd->ints[1 + a];
      rest /= nd->ints[1 + a];
      if (c >= Y->dims[a]) return OPML_EVALUE;
      at += c * stride;
      stride *= Y->dims[a];
    }
    y[at] = x[k];
  }
  return OPML_OK;
}

/* --- Col2Im: y = 0, then each column value added at its image position, in ascending
 * (n, c, block offset, column) order; positions in the padding are dropped. ---------------- */
static int k_col2im(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (nd->n_ints != 20) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx N = v[0], C = v[1], I[3] = {v[2], v[3], v[4]}, K[3] = {v[5], v[6], v[7]}, S[3] = {v[8], v[9], v[10]};
  const idx D[3] = {v[11], v[12], v[13]}, P[3] = {v[14], v[15], v[16]}, L[3] = {v[17], v[18], v[19]};
  const idx isz = I[0] * I[1] * I[2], ksz = K[0] * K[1] * K[2], lsz = L[0] * L[1] * L[2];
  if (X->size != N * C * ksz * lsz || Y->size != N * C * isz) return OPML_EATTR;
  const float *x = X->data;
  float *y = Y->data;
  for (uint32_t i = 0; i < Y->size; i++) y[i] = 0.0f;
  for (idx nc = 0; nc < N * C; nc++) {
    for (idx k = 0; k < ksz; k++) {
      const idx kd = k / (K[1] * K[2]), kh = k / K[2] % K[1], kw = k % K[2];
      for (idx l = 0; l < lsz; l++) {
        const idx ld = l / (L[1] * L[2]), lh = l / L[2] % L[1], lw = l % L[2];
        const idx d = ld * S[0] - P[0] + kd * D[0], h = lh * S[1] - P[1] + kh * D[1], w = lw * S[2] - P[2] + kw * D[2];
        if (d < 0 || d >= I[0] || h < 0 || h >= I[1] || w < 0 || w >= I[2]) continue;
        y[nc * isz + (d * I[1] + h) * I[2] + w] += x[(nc * ksz + k) * lsz + l];
      }
    }
  }
  return OPML_OK;
}

/* --- DeformConv: per output, +0 + sum over the group's input channels, then kernel rows and
 * columns ascending, of w * (bilinear(x at the offset position) * mask), then + B. The bilinear
 * sample is hy hx v00 + hy lx v01 + ly hx v10 + ly lx v11 (corners outside the input are 0; 0
 * when the position is at or beyond -1 / the size). ------------------------------------------ */
static float deform_sample(const float *x, idx H, idx W, float py, float px) {
  const float fh = (float)(int32_t)H, fw = (float)(int32_t)W;
  if (py <= -1.0f || py >= fh || px <= -1.0f || px >= fw) return 0.0f;
  const float y0f = opml_floorf(py), x0f = opml_floorf(px);
  const idx y0 = (idx)(int32_t)y0f, x0 = (idx)(int32_t)x0f;
  const float ly = py - y0f, lx = px - x0f, hy = 1.0f - ly, hx = 1.0f - lx;
  const float v00 = y0 >= 0 && x0 >= 0 ? x[y0 * W + x0] : 0.0f;
  const float v01 = y0 >= 0 && x0 + 1 < W ? x[y0 * W + x0 + 1] : 0.0f;
  const float v10 = y0 + 1 < H && x0 >= 0 ? x[(y0 + 1) * W + x0] : 0.0f;
  const float v11 = y0 + 1 < H && x0 + 1 < W ? x[(y0 + 1) * W + x0 + 1] : 0.0f;
  return hy * hx * v00 + hy * lx * v01 + ly * hx * v10 + ly * lx * v11;
}

static int k_deform_conv(const opml_node *nd) {
  if (nd->n_ints != 17 || nd->n_in < 3) return OPML_EATTR;
  const opml_tensor *X = nd->in[0], *Wt = nd->in[1], *O = nd->in[2];
  const opml_tensor *B = nd->n_in > 3 ? nd->in[3] : 0, *M = nd->n_in > 4 ? nd->in[4] : 0;
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || Wt->dtype != DT_FLOAT || O->dtype != DT_FLOAT || Y->dtype != DT_FLOAT ||
      (B && B->dtype != DT_FLOAT) || (M && M->dtype != DT_FLOAT)) {
    return OPML_EDTYPE;
  }
  const int64_t *v = nd->ints;
  const idx N = v[0], C = v[1], OC = v[2], G = v[3], OG = v[4], H = v[5], W = v[6], OH = v[7], OW = v[8];
  const idx KH = v[9], KW = v[10], SH = v[11], SW = v[12], DH = v[13], DW = v[14], PH = v[15], PW = v[16];
  if (G < 1 || OG < 1 || C % G || OC % G || C % OG) return OPML_EATTR;
  const idx cpg = C / G, opg = OC / G, cpo = C / OG, K = KH * KW;
  if (X->size != N * C * H * W || Wt->size != OC * cpg * K || O->size != N * OG * 2 * K * OH * OW ||
      Y->size != N * OC * OH * OW || (B && B->size != OC) || (M && M->size != N * OG * K * OH * OW)) {
    return OPML_EATTR;
  }
  const float *x = X->data, *w = Wt->data, *off = O->data, *b = B ? B->data : 0, *m = M ? M->data : 0;
  float *y = Y->data;
  const idx plane = OH * OW;
  for (idx n = 0; n < N; n++) {
    for (idx oc = 0; oc < OC; oc++) {
      const idx g = oc / opg;
      for (idx oh = 0; oh < OH; oh++) {
        for (idx ow = 0; ow < OW; ow++) {
          float acc = 0.0f;
          for (idx ic = g * cpg; ic < (g + 1) * cpg; ic++) {
            const idx og = ic / cpo;
            for (idx k = 0; k < K; k++) {
              const idx i = k / KW, j = k % KW, at = oh * OW + ow;
              const float dy = off[((n * OG + og) * 2 * K + 2 * k) * plane + at];
              const float dx = off[((n * OG + og) * 2 * K + 2 * k + 1) * plane + at];
              const float py = (float)(int32_t)(oh * SH - PH + i * DH) + dy, px = (float)(int32_t)(ow * SW - PW + j * DW) + dx;
              float val = deform_sample(x + (n * C + ic) * H * W, H, W, py, px);
              if (m) val = val * m[((n * OG + og) * K + k) * plane + at];
              acc += w[(oc * cpg + ic - g * cpg) * K + k] * val;
            }
          }
          y[((n * OC + oc) * OH + oh) * OW + ow] = b ? acc + b[oc] : acc;
        }
      }
    }
  }
  return OPML_OK;
}

/* --- AffineGrid: ints [N, r, dims[r], alignCorners]. The base coordinate of index i on an axis
 * of n points is -1 + 2 i / (n - 1) (align corners; -1 when n is 1) or -1 + (2 i + 1) / n; each
 * output component is ((t_0 x + t_1 y) (+ t_2 z)) + t_last, (x, y[, z]) innermost axis first. */
static int k_affine_grid(const opml_node *nd) {
  const opml_tensor *T = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (T->dtype != DT_FLOAT || Y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (nd->n_ints < 2) return OPML_EATTR;
  const idx N = nd->ints[0], r = nd->ints[1];
  if ((r != 2 && r != 3) || nd->n_ints != 3 + (uint32_t)r) return OPML_EATTR;
  const int align = nd->ints[2 + r] != 0;
  idx dims[3] = {1, 1, 1}, pts = 1;
  for (idx a = 0; a < r; a++) dims[3 - r + a] = nd->ints[2 + a], pts *= nd->ints[2 + a];
  if (T->size != N * r * (r + 1) || Y->size != N * pts * r) return OPML_EATTR;
  const float *t = T->data;
  float *y = Y->data;
  for (idx n = 0; n < N; n++) {
    const float *tn = t + n * r * (r + 1);
    for (idx p = 0; p < pts; p++) {
      const idx at[3] = {p / (dims[1] * dims[2]), p / dims[2] % dims[1], p % dims[2]};
      float u[3]; /* x, y, z: the innermost axis first */
      for (idx a = 0; a < r; a++) {
        const idx ax = 2 - a, len = dims[ax];
        const float fi = (float)(int32_t)at[ax], fl = (float)(int32_t)len;
        u[a] = align ? (len == 1 ? -1.0f : -1.0f + 2.0f * fi / (fl - 1.0f)) : -1.0f + (2.0f * fi + 1.0f) / fl;
      }
      for (idx c = 0; c < r; c++) {
        const float *row = tn + c * (r + 1);
        float acc = row[0] * u[0];
        for (idx a = 1; a < r; a++) acc = acc + row[a] * u[a];
        y[(n * pts + p) * r + c] = acc + row[r];
      }
    }
  }
  return OPML_OK;
}

/* ---- NonMaxSuppression (a run-time shape: docs/IR.md, "Run-time shapes") ----------------- */

static void nms_min_max(float a, float b, float *lo, float *hi) {
  if (a >= b) *lo = b, *hi = a;
  else *lo = a, *hi = b;
}

/* A box's corners and area, computed once per box (the same operations as onnxruntime's
 * SuppressByIOU does per pair, so the same values). Structure of arrays: one array per field. */
typedef struct nms_boxes {
  float *xlo, *xhi, *ylo, *yhi, *area;
} nms_boxes;

static void nms_box(nms_boxes *o, uint32_t at, const float *b, int center) {
  float xlo, xhi, ylo, yhi;
  if (!center) {
    nms_min_max(b[1], b[3], &xlo, &xhi);
    nms_min_max(b[0], b[2], &ylo, &yhi);
  } else {
    const float w = b[2] / 2, h = b[3] / 2;
    xlo = b[0] - w, xhi = b[0] + w, ylo = b[1] - h, yhi = b[1] + h;
  }
  o->xlo[at] = xlo, o->xhi[at] = xhi, o->ylo[at] = ylo, o->yhi[at] = yhi;
  o->area[at] = (xhi - xlo) * (yhi - ylo);
}

/* onnxruntime's SuppressByIOU of candidate box i against kept box k: the same float operations
 * in the same order (ties and NaNs included: every comparison as written there). */
static int nms_suppress(const nms_boxes *c, uint32_t i, const nms_boxes *kb, uint32_t k, float iou_threshold) {
  const float ixlo = c->xlo[i] > kb->xlo[k] ? c->xlo[i] : kb->xlo[k];
  const float ixhi = c->xhi[i] < kb->xhi[k] ? c->xhi[i] : kb->xhi[k];
  if (ixhi <= ixlo) return 0;
  const float iylo = c->ylo[i] > kb->ylo[k] ? c->ylo[i] : kb->ylo[k];
  const float iyhi = c->yhi[i] < kb->yhi[k] ? c->yhi[i] : kb->yhi[k];
  if (iyhi <= iylo) return 0;
  const float inter = (ixhi - ixlo) * (iyhi - iylo);
  if (inter <= 0.0f) return 0;
  const float a1 = c->area[i], a2 = kb->area[k], uni = a1 + a2 - inter;
  if (a1 <= 0.0f || a2 <= 0.0f || uni <= 0.0f) return 0;
  return inter / uni > iou_threshold;
}

#if defined(OPML_X86)
/* 1 iff some kept box suppresses candidate i: nms_suppress on 16 kept boxes per step (each
 * lane's decision is the scalar one's; which box suppresses does not matter, only whether one
 * does). */
__attribute__((target("avx512f"))) static int nms_any_avx512(const nms_boxes *c, uint32_t i, const nms_boxes *kb,
                                                             uint32_t nk, float iou_threshold) {
  const __m512 xlo = _mm512_set1_ps(c->xlo[i]), xhi = _mm512_set1_ps(c->xhi[i]);
  const __m512 ylo = _mm512_set1_ps(c->ylo[i]), yhi = _mm512_set1_ps(c->yhi[i]);
  const __m512 a1 = _mm512_set1_ps(c->area[i]), thr = _mm512_set1_ps(iou_threshold), zero = _mm512_setzero_ps();
  const __mmask16 a1ok = _mm512_cmp_ps_mask(a1, zero, _CMP_NLE_UQ); /* !(a1 <= 0) */
  if (!a1ok) return 0;
  for (uint32_t k = 0; k < nk; k += 16) {
    const __mmask16 t = nk - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nk - k)) - 1);
    const __m512 kxlo = _mm512_maskz_loadu_ps(t, kb->xlo + k), kxhi = _mm512_maskz_loadu_ps(t, kb->xhi + k);
    const __m512 kylo = _mm512_maskz_loadu_ps(t, kb->ylo + k), kyhi = _mm512_maskz_loadu_ps(t, kb->yhi + k);
    const __m512 a2 = _mm512_maskz_loadu_ps(t, kb->area + k);
    const __m512 ixlo = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xlo, kxlo, _CMP_GT_OQ), kxlo, xlo);
    const __m512 ixhi = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xhi, kxhi, _CMP_LT_OQ), kxhi, xhi);
    const __m512 iylo = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ylo, kylo, _CMP_GT_OQ), kylo, ylo);
    const __m512 iyhi = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(yhi, kyhi, _CMP_LT_OQ), kyhi, yhi);
    __mmask16 m = t & _mm512_cmp_ps_mask(ixhi, ixlo, _CMP_NLE_UQ) & _mm512_cmp_ps_mask(iyhi, iylo, _CMP_NLE_UQ);
    if (!m) continue;
    const __m512 inter = _mm512_mul_ps(_mm512_sub_ps(ixhi, ixlo), _mm512_sub_ps(iyhi, iylo));
    const __m512 uni = _mm512_sub_ps(_mm512_add_ps(a1, a2), inter);
    m &= _mm512_cmp_ps_mask(inter, zero, _CMP_NLE_UQ) & _mm512_cmp_ps_mask(a2, zero, _CMP_NLE_UQ) &
         _mm512_cmp_ps_mask(uni, zero, _CMP_NLE_UQ);
    if (m && _mm512_mask_cmp_ps_mask(m, _mm512_div_ps(inter, uni), thr, _CMP_GT_OQ)) return 1;
  }
  return 0;
}
#endif

/* 1 iff some of the nk kept boxes suppresses candidate i. */
static int nms_any(const nms_boxes *c, uint32_t i, const nms_boxes *kb, uint32_t nk, float iou_threshold) {
#if defined(OPML_X86)
  if (opml_use_avx512()) return nms_any_avx512(c, i, kb, nk, iou_threshold);
#endif
  for (uint32_t k = 0; k < nk; k++) {
    if (nms_suppress(c, i, kb, k, iou_threshold)) return 1;
  }
  return 0;
}

/* Box a before box b: a higher score. */
static int nms_scores_before(const void *scores, uint32_t a, uint32_t b) {
  return ((const float *)scores)[a] > ((const float *)scores)[b];
}

/* NonMaxSuppression: ints [B, N, C, center_point_box]; inputs boxes [B, N, 4], scores [B, C, N]
 * (float), max_output_boxes_per_class? (int64), iou_threshold? and score_threshold? (float),
 * count? (int64 scalar: the boxes' run-time number, docs/IR.md "Run-time shapes");
 * outputs Y int64 [bound, 3] ((batch, class, box) rows, zeros past the count) and count (int64
 * scalar). Per batch and class: the boxes scoring above score_threshold (all without it) by
 * descending score, ties by lower index (a stable merge sort), each kept when its IOU with every
 * box kept before in its class is at most iou_threshold, until max_output_boxes_per_class. */
static int k_nms(const opml_node *nd) {
  const opml_tensor *Bx = nd->in[0], *S = nd->in[1];
  const opml_tensor *M = nd->n_in > 2 ? nd->in[2] : 0, *Io = nd->n_in > 3 ? nd->in[3] : 0;
  const opml_tensor *St = nd->n_in > 4 ? nd->in[4] : 0, *Len = nd->n_in > 5 ? nd->in[5] : 0;
  opml_tensor *Y = nd->out[0], *Nt = nd->out[1];
  if (nd->n_ints != 4 || nd->n_out != 2 || Bx->dtype != DT_FLOAT || S->dtype != DT_FLOAT || Y->dtype != DT_INT64 ||
      Y->rank != 2 || Y->dims[1] != 3 || Nt->dtype != DT_INT64 || Nt->size != 1)
    return OPML_EATTR;
  int64_t B = nd->ints[0], N = nd->ints[1], C = nd->ints[2];
  int center = nd->ints[3] != 0;
  if (Bx->size != (uint32_t)(B * N * 4) || S->size != (uint32_t)(B * C * N)) return OPML_EATTR;
  if ((M && (M->dtype != DT_INT64 || M->size != 1)) || (Io && (Io->dtype != DT_FLOAT || Io->size != 1)) ||
      (St && (St->dtype != DT_FLOAT || St->size != 1)))
    return OPML_EDTYPE;
  int64_t max_out = M ? ((const int64_t *)M->data)[0] : 0, valid = N;
  if (Len) { /* the boxes' run-time count: only the first `valid` boxes exist */
    if (Len->dtype != DT_INT64 || Len->size != 1) return OPML_EATTR;
    valid = ((const int64_t *)Len->data)[0];
    if (valid < 0 || valid > N) return OPML_EVALUE;
  }
  float iou = Io ? ((const float *)Io->data)[0] : 0.0f;
  const float *boxes = (const float *)Bx->data, *scores = (const float *)S->data;
  int64_t *y = (int64_t *)Y->data, count = 0;
  const size_t nn = (size_t)(N ? N : 1);
  uint32_t *buf = (uint32_t *)opml_alloc(nn * 2 * sizeof(uint32_t));
  float *fb = (float *)opml_alloc(nn * 10 * sizeof(float)); /* the batch's boxes, then the kept ones */
  if (!buf || !fb) {
    opml_free(buf), opml_free(fb);
    return OPML_ENOMEM;
  }
  nms_boxes all = {fb, fb + nn, fb + 2 * nn, fb + 3 * nn, fb + 4 * nn};
  nms_boxes kb = {fb + 5 * nn, fb + 6 * nn, fb + 7 * nn, fb + 8 * nn, fb + 9 * nn};
  int bad = 0;
  for (int64_t b = 0; b < B && max_out > 0 && !bad; b++) {
    const float *bb = boxes + b * N * 4;
    for (uint32_t i = 0; i < (uint32_t)valid; i++) nms_box(&all, i, bb + 4 * i, center);
    for (int64_t c = 0; c < C && !bad; c++) {
      const float *sc = scores + (b * C + c) * N;
      uint32_t *idx = buf, *tmp = buf + N, n = 0, nk = 0;
      for (uint32_t i = 0; i < (uint32_t)valid; i++)
        if (!St || sc[i] > ((const float *)St->data)[0]) idx[n++] = i;
      idx = opml_merge_sort(idx, tmp, n, nms_scores_before, sc); /* ties: the lower index first */
      for (uint32_t i = 0; i < n && (int64_t)nk < max_out; i++) {
        const uint32_t at = idx[i];
        if (nms_any(&all, at, &kb, nk, iou)) continue;
        kb.xlo[nk] = all.xlo[at], kb.xhi[nk] = all.xhi[at], kb.ylo[nk] = all.ylo[at], kb.yhi[nk] = all.yhi[at];
        kb.area[nk++] = all.area[at];
        if ((uint32_t)count >= Y->dims[0]) {
          bad = 1; /* the compiler's bound is B * C * min(N, max_output_boxes_per_class) */
          break;
        }
        y[count * 3] = b, y[count * 3 + 1] = c, y[count * 3 + 2] = at;
        count++;
      }
    }
  }
  opml_free(buf), opml_free(fb);
  if (bad) return OPML_EATTR;
  ((int64_t *)Nt->data)[0] = count;
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_vision[] = {
    {OP_RESIZE, "Resize", k_resize},
    {OP_DEPTH_TO_SPACE, "DepthToSpace", k_depth_to_space},
    {OP_SPACE_TO_DEPTH, "SpaceToDepth", k_space_to_depth},
    {OP_CONV_TRANSPOSE, "ConvTranspose", k_conv_transpose},
    {OP_LP_POOL, "LpPool", k_lp_pool},
    {OP_GRID_SAMPLE, "GridSample", k_grid_sample},
    {OP_ROI_ALIGN, "RoiAlign", k_roi_align},
    {OP_MAX_UNPOOL, "MaxUnpool", k_max_unpool},
    {OP_COL2_IM, "Col2Im", k_col2im},
    {OP_DEFORM_CONV, "DeformConv", k_deform_conv},
    {OP_AFFINE_GRID, "AffineGrid", k_affine_grid},
    {OP_NON_MAX_SUPPRESSION, "NonMaxSuppression", k_nms},
    {0, 0, 0},
};
