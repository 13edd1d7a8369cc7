/*
 * The sequence family (docs/IR.md; the "sequence" family of core/compiler/ops/schema.ts,
 * lowering in core/compiler/ops/sequence.ts): Attention, RotaryEmbedding.
 *
 * Attention, for each batch b, query head h (key/value head h / (Hq / Hkv)) and query i, over
 * the keys j of the present cache (past keys, then the new ones):
 *   s_j = +0 + sum over d ascending of (q_d * c) * (k_jd * c), c = sqrt(scale);
 *   softcap: s_j = tanh(s_j / cap) * cap;
 *   bias_j = causal (0 if j <= i + offset else -inf; offset = past length, or nonpad[b] - Sq
 *   without a past) + mask (float; bool false -> -inf; -inf beyond the mask's length) +
 *   padding (-inf at j >= nonpad[b]), added in that order; t_j = s_j + bias_j;
 *   p_j = exp(t_j - max t) / (+0 + sum exp(t_j - max t) ascending), all 0 when every bias_j is
 *   -inf; y_d = +0 + sum over j ascending of p_j * v_jd.
 *   qk output: mode 0 and 1 s (after softcap), 2 t, 3 p.
 * RNN, GRU, LSTM: see k_recurrent.
 * RotaryEmbedding: real = cos x1 - sin x2, imag = sin x1 + cos x2 (each product rounded, then the
 * difference/sum), the rest of the head copied.
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"
#include "simd.h"

typedef int64_t idx;

#define NEG_INF opml_bits_f32(0xFF800000u)

/* --- Attention ---------------------------------------------------------------------------- */
static int k_attention(const opml_node *nd) {
  if (nd->n_ints != 18 || nd->n_floats != 2 || nd->n_in < 3) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx B = v[0], Hq = v[1], Hkv = v[2], Sq = v[3], Skv = v[4], Sp = v[5], D = v[6], Dv = v[7];
  const int q3d = v[8] != 0, mk = (int)v[9], causal = v[14] != 0, mode = (int)v[15];
  const int has_nonpad = v[16] != 0, has_cap = v[17] != 0;
  const idx msB = v[10], msH = v[11], msQ = v[12], mLen = v[13], St = Sp + Skv;
  const float c = nd->floats[0], cap = nd->floats[1];
  const opml_tensor *in[7] = {0};
  for (int i = 0; i < nd->n_in && i < 7; i++) in[i] = nd->in[i];
  for (int i = 0; i < 6; i++) {
    if (in[i] && in[i]->dtype != (i == 3 && mk == 2 ? DT_BOOL : DT_FLOAT)) return OPML_EDTYPE;
  }
  if (in[6] && in[6]->dtype != DT_INT64) return OPML_EDTYPE;
  for (int i = 0; i < nd->n_out; i++) {
    if (nd->out[i]->dtype != DT_FLOAT) return OPML_EDTYPE;
  }
  if (Hkv < 1 || Hq % Hkv || !in[0] || !in[1] || !in[2] || (mk && !in[3]) || (Sp && (!in[4] || !in[5]))) {
    return OPML_EATTR;
  }
  if (in[0]->size != B * Hq * Sq * D || in[1]->size != B * Hkv * Skv * D || in[2]->size != B * Hkv * Skv * Dv) {
    return OPML_EATTR;
  }
  if ((has_nonpad && (!in[6] || in[6]->size != B)) || nd->out[0]->size != B * Hq * Sq * Dv) return OPML_EATTR;
  if (Sp && (in[4]->size != B * Hkv * Sp * D || in[5]->size != B * Hkv * Sp * Dv)) return OPML_EATTR;
  if (nd->n_out > 1 && nd->out[1]->size != B * Hkv * St * D) return OPML_EATTR;
  if (nd->n_out > 2 && nd->out[2]->size != B * Hkv * St * Dv) return OPML_EATTR;
  if (nd->n_out > 3 && nd->out[3]->size != B * Hq * Sq * St) return OPML_EATTR;
  const float *Q = in[0]->data, *K = in[1]->data, *V = in[2]->data;
  const float *PK = Sp ? in[4]->data : 0, *PV = Sp ? in[5]->data : 0;
  const int64_t *nonpad = has_nonpad ? in[6]->data : 0;
  float *Y = nd->out[0]->data, *QK = nd->n_out > 3 ? nd->out[3]->data : 0;
  /* present key and value: [B, Hkv, St, D] (past, then the new ones) */
  float *pk = nd->n_out > 1 ? nd->out[1]->data : opml_alloc((size_t)(B * Hkv * St * D) * sizeof(float));
  float *pv = nd->n_out > 2 ? nd->out[2]->data : opml_alloc((size_t)(B * Hkv * St * Dv) * sizeof(float));
  float *s = opml_alloc((size_t)St * sizeof(float)), *bias = opml_alloc((size_t)St * sizeof(float));
  float *qs = opml_alloc((size_t)D * sizeof(float));
  if (!pk || !pv || !s || !bias || !qs) {
    if (nd->n_out <= 1 && pk) opml_free(pk);
    if (nd->n_out <= 2 && pv) opml_free(pv);
    if (s) opml_free(s);
    if (bias) opml_free(bias);
    if (qs) opml_free(qs);
    return OPML_ENOMEM;
  }
  for (idx b = 0; b < B; b++) {
    for (idx h = 0; h < Hkv; h++) {
      for (idx j = 0; j < St; j++) {
        for (idx d = 0; d < D; d++) {
          pk[((b * Hkv + h) * St + j) * D + d] = j < Sp ? PK[((b * Hkv + h) * Sp + j) * D + d]
              : K[q3d ? ((b * Skv + j - Sp) * Hkv + h) * D + d : ((b * Hkv + h) * Skv + j - Sp) * D + d];
        }
        for (idx d = 0; d < Dv; d++) {
          pv[((b * Hkv + h) * St + j) * Dv + d] = j < Sp ? PV[((b * Hkv + h) * Sp + j) * Dv + d]
              : V[q3d ? ((b * Skv + j - Sp) * Hkv + h) * Dv + d : ((b * Hkv + h) * Skv + j - Sp) * Dv + d];
        }
      }
    }
  }
  const idx reps = Hq / Hkv;
  int err = OPML_OK;
  for (idx b = 0; b < B && !err; b++) {
    idx len = St, offset = 0; /* nonpad: keys at j >= len are padding */
    if (nonpad) {
      if (nonpad[b] < 0 || nonpad[b] > St) err = OPML_EVALUE;
      len = nonpad[b];
      offset = Sp ? Sp : len - Sq;
    } else {
      offset = Sp;
    }
    for (idx h = 0; h < Hq && !err; h++) {
      const idx hk = h / reps;
      const float *kh = pk + (b * Hkv + hk) * St * D, *vh = pv + (b * Hkv + hk) * St * Dv;
      for (idx i = 0; i < Sq; i++) {
        for (idx d = 0; d < D; d++) {
          qs[d] = Q[q3d ? ((b * Sq + i) * Hq + h) * D + d : ((b * Hq + h) * Sq + i) * D + d] * c;
        }
        int any = 0; /* a key whose bias is not -inf */
        for (idx j = 0; j < St; j++) {
          float acc = 0.0f;
          for (idx d = 0; d < D; d++) acc += qs[d] * (kh[j * D + d] * c);
          if (has_cap) acc = opml_tanhf(acc / cap) * cap;
          s[j] = acc;
          float bj = causal && j > i + offset ? NEG_INF : 0.0f;
          if (mk) {
            const idx at = b * msB + h * msH + i * msQ + j;
            float m = NEG_INF;
            if (j < mLen) m = mk == 2 ? (((const uint8_t *)in[3]->data)[at] ? 0.0f : NEG_INF) : ((const float *)in[3]->data)[at];
            bj = bj + m;
          }
          if (j >= len) bj = bj + NEG_INF;
          bias[j] = bj;
          any |= bj != NEG_INF;
        }
        float *qk = QK ? QK + ((b * Hq + h) * Sq + i) * St : 0;
        if (qk && mode <= 1) {
          for (idx j = 0; j < St; j++) qk[j] = s[j];
        }
        for (idx j = 0; j < St; j++) s[j] = s[j] + bias[j];
        if (qk && mode == 2) {
          for (idx j = 0; j < St; j++) qk[j] = s[j];
        }
        if (any) {
          float m = s[0], sum = 0.0f;
          for (idx j = 1; j < St; j++) m = s[j] > m ? s[j] : m;
          for (idx j = 0; j < St; j++) {
            s[j] = opml_expf(s[j] - m);
            sum += s[j];
          }
          for (idx j = 0; j < St; j++) s[j] = s[j] / sum;
        } else {
          for (idx j = 0; j < St; j++) s[j] = 0.0f;
        }
        if (qk && mode == 3) {
          for (idx j = 0; j < St; j++) qk[j] = s[j];
        }
        for (idx d = 0; d < Dv; d++) {
          float acc = 0.0f;
          for (idx j = 0; j < St; j++) acc += s[j] * vh[j * Dv + d];
          Y[q3d ? ((b * Sq + i) * Hq + h) * Dv + d : ((b * Hq + h) * Sq + i) * Dv + d] = acc;
        }
      }
    }
  }
  if (nd->n_out <= 1) opml_free(pk);
  if (nd->n_out <= 2) opml_free(pv);
  opml_free(s), opml_free(bias), opml_free(qs);
  return err;
}

/* --- RotaryEmbedding ---------------------------------------------------------------------- */
static int k_rotary(const opml_node *nd) {
  if (nd->n_ints != 9 || nd->n_in < 3) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx B = v[0], S = v[1], H = v[2], D = v[3], rot = v[4], rows = v[8];
  const int inter = v[5] != 0, x3d = v[6] != 0, has_pos = v[7] != 0;
  const opml_tensor *X = nd->in[0], *C = nd->in[1], *Sn = nd->in[2], *P = has_pos && nd->n_in > 3 ? nd->in[3] : 0;
  opml_tensor *Y = nd->out[0];
  if (X->dtype != DT_FLOAT || C->dtype != DT_FLOAT || Sn->dtype != DT_FLOAT || Y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (has_pos && (!P || P->dtype != DT_INT64 || P->size != B * S)) return OPML_EATTR;
  if (rows < 1 || C->size % rows || C->size != Sn->size || X->size != B * S * H * D || Y->size != X->size) return OPML_EATTR;
  const idx half = C->size / rows, r2 = rot / 2;
  if (rot % 2 || rot > D || r2 > half) return OPML_EATTR;
  const float *x = X->data, *cs = C->data, *sn = Sn->data;
  const int64_t *pos = P ? P->data : 0;
  float *y = Y->data;
  for (idx b = 0; b < B; b++) {
    for (idx t = 0; t < S; t++) {
      const idx row = pos ? pos[b * S + t] : b * S + t;
      if (row < 0 || row >= rows) return OPML_EVALUE;
      for (idx h = 0; h < H; h++) {
        const idx base = x3d ? ((b * S + t) * H + h) * D : ((b * H + h) * S + t) * D;
        for (idx k = 0; k < r2; k++) {
          const idx i1 = inter ? base + 2 * k : base + k, i2 = inter ? base + 2 * k + 1 : base + k + r2;
          const float c = cs[row * half + k], s = sn[row * half + k], x1 = x[i1], x2 = x[i2];
          y[i1] = c * x1 - s * x2;
          y[i2] = s * x1 + c * x2;
        }
        for (idx d = rot; d < D; d++) y[base + d] = x[base + d];
      }
    }
  }
  return OPML_OK;
}

/* --- RNN, GRU, LSTM ------------------------------------------------------------------------
 * ints [S, B, I, H, dirs, reverse, layout, linearBeforeReset, hasClip, act[3] per direction];
 * floats [clip]. Gate pre-activations, per element: ((x.W + h.R) + Wb) + Rb (each dot product
 * from +0 over ascending index), LSTM adds P (.) c for i and f (the new c for o), clipped to
 * [-clip, clip] when hasClip. GRU: h~ = g((x.Wh + (r (.) h).Rh) + Rbh + Wbh), or with
 * linearBeforeReset g(x.Wh + r (.) (h.Rh + Rbh) + Wbh); H = (1 - z) h~ + z h. LSTM: C = f c +
 * i c~, H = o h(C). Steps t >= sequence_lens[b] leave the state and write 0 to Y.
 * Natively the products run over W and R transposed (the gates as the inner index), so that
 * every gate's sum is one vector lane: the same additions in the same order as the plain path's
 * (and the VM's) one dot product per gate. */

/* y[i] = act(x[i]) for i < n (code 0 sigmoid, 1 tanh, else relu); y may be x. */
static void act_n(int code, const float *x, float *y, idx n) {
  if (code == 0) {
    opml_sigmoidf_n(x, y, (size_t)n);
  } else if (code == 1) {
    opml_tanhf_n(x, y, (size_t)n);
  } else {
    for (idx i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  }
}

static float clipf(float v, float clip) { return v < -clip ? -clip : v > clip ? clip : v; }

#if defined(OPML_X86)
/* y[j] = +0 + sum over k < K ascending of v[k] * m[k * ld + j], for j < n. */
static void matvec_plain(const float *v, idx K, const float *m, idx ld, idx n, float *y) {
  for (idx j = 0; j < n; j++) y[j] = 0.0f;
  for (idx k = 0; k < K; k++) {
    const float a = v[k], *r = m + k * ld;
    for (idx j = 0; j < n; j++) y[j] += a * r[j];
  }
}

/* matvec_plain with 16 gates per AVX-512 lane vector (4 vectors at a time, a masked tail). */
__attribute__((target("avx512f"))) static void matvec_16(const float *v, idx K, const float *m, idx ld, idx n,
                                                          float *y) {
  idx j = 0;
  for (; j + 64 <= n; j += 64) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (idx k = 0; k < K; k++) {
      const __m512 s = _mm512_set1_ps(v[k]);
      const float *r = m + k * ld + j;
      a0 = _mm512_add_ps(a0, _mm512_mul_ps(s, _mm512_loadu_ps(r)));
      a1 = _mm512_add_ps(a1, _mm512_mul_ps(s, _mm512_loadu_ps(r + 16)));
      a2 = _mm512_add_ps(a2, _mm512_mul_ps(s, _mm512_loadu_ps(r + 32)));
      a3 = _mm512_add_ps(a3, _mm512_mul_ps(s, _mm512_loadu_ps(r + 48)));
    }
    _mm512_storeu_ps(y + j, a0), _mm512_storeu_ps(y + j + 16, a1);
    _mm512_storeu_ps(y + j + 32, a2), _mm512_storeu_ps(y + j + 48, a3);
  }
  for (; j < n; j += 16) {
    const __mmask16 mk = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
    __m512 a = _mm512_setzero_ps();
    for (idx k = 0; k < K; k++) {
      a = _mm512_add_ps(a, _mm512_mul_ps(_mm512_set1_ps(v[k]), _mm512_maskz_loadu_ps(mk, m + k * ld + j)));
    }
    _mm512_mask_storeu_ps(y + j, mk, a);
  }
}

/* matvec_plain with 8 gates per AVX2 lane vector (4 vectors at a time, a plain tail). */
__attribute__((target("avx2"))) static void matvec_8(const float *v, idx K, const float *m, idx ld, idx n,
                                                      float *y) {
  idx j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (idx k = 0; k < K; k++) {
      const __m256 s = _mm256_set1_ps(v[k]);
      const float *r = m + k * ld + j;
      a0 = _mm256_add_ps(a0, _mm256_mul_ps(s, _mm256_loadu_ps(r)));
      a1 = _mm256_add_ps(a1, _mm256_mul_ps(s, _mm256_loadu_ps(r + 8)));
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(s, _mm256_loadu_ps(r + 16)));
      a3 = _mm256_add_ps(a3, _mm256_mul_ps(s, _mm256_loadu_ps(r + 24)));
    }
    _mm256_storeu_ps(y + j, a0), _mm256_storeu_ps(y + j + 8, a1);
    _mm256_storeu_ps(y + j + 16, a2), _mm256_storeu_ps(y + j + 24, a3);
  }
  for (; j + 8 <= n; j += 8) {
    __m256 a = _mm256_setzero_ps();
    for (idx k = 0; k < K; k++) a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_set1_ps(v[k]), _mm256_loadu_ps(m + k * ld + j)));
    _mm256_storeu_ps(y + j, a);
  }
  if (j < n) matvec_plain(v, K, m + j, ld, n - j, y + j);
}
#endif

/* y[j] = the gate sum of row j of m (rows of K, n of them) with v: natively with a vector path
 * over mt, m transposed (K x ld, the rows as columns), else one dot product per row in place
 * (the VM's image: no transposes, its steps as before). The same sums, the same bits. */
static void gate_sums(const float *v, idx K, const float *m, const float *mt, idx ld, idx n, float *y) {
#if defined(OPML_X86)
  if (mt && opml_use_avx512()) {
    matvec_16(v, K, mt, ld, n, y);
    return;
  }
  if (mt && opml_use_avx2()) {
    matvec_8(v, K, mt, ld, n, y);
    return;
  }
#endif
  (void)mt, (void)ld;
  for (idx j = 0; j < n; j++) {
    float acc = 0.0f;
    for (idx k = 0; k < K; k++) acc += v[k] * m[j * K + k];
    y[j] = acc;
  }
}

#if defined(OPML_X86)
/* d[k * ld + i] = s[i * ls + k] for i, k < 8: an 8 x 8 block transposed in AVX2 registers. */
__attribute__((target("avx2"))) static void transpose_8x8(const float *s, idx ls, float *d, idx ld) {
  __m256 r[8], t[8], u[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * ls);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) { /* rows i .. i + 3: columns 0 1 2 3 (and 4 5 6 7 above) */
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44), u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44), u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int k = 0; k < 4; k++) {
    _mm256_storeu_ps(d + k * ld, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
    _mm256_storeu_ps(d + (k + 4) * ld, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
  }
}
#endif

/* t[k * rows + j] = a[j * K + k]: rows x K to K x rows (natively in 8 x 8 blocks). */
static void transpose_to(const float *a, idx rows, idx K, float *t) {
  idx j0 = 0, k0 = 0;
#if defined(OPML_X86)
  if (opml_use_avx2()) {
    for (j0 = 0; j0 + 8 <= rows; j0 += 8) {
      for (k0 = 0; k0 + 8 <= K; k0 += 8) transpose_8x8(a + j0 * K + k0, K, t + k0 * rows + j0, rows);
    }
  }
#endif
  for (idx j = 0; j < rows; j++) { /* the rest: columns from k0 in the blocks' rows, all after */
    for (idx k = j < j0 ? k0 : 0; k < K; k++) t[k * rows + j] = a[j * K + k];
  }
}

static int k_recurrent(const opml_node *nd) {
  if (nd->n_ints != 15 || nd->n_floats != 1 || nd->n_in < 3) return OPML_EATTR;
  const int64_t *v = nd->ints;
  const idx S = v[0], B = v[1], I = v[2], H = v[3], dirs = v[4];
  const int reverse = v[5] != 0, layout = v[6] != 0, lbr = v[7] != 0, has_clip = v[8] != 0;
  const int kind = nd->op == OP_RNN ? 0 : nd->op == OP_GRU ? 1 : 2, G = kind == 0 ? 1 : kind == 1 ? 3 : 4;
  const float clip = nd->floats[0];
  const opml_tensor *in[8] = {0};
  for (int i = 0; i < nd->n_in && i < 8; i++) in[i] = nd->in[i];
  for (int i = 0; i < 8; i++) {
    if (in[i] && in[i]->dtype != (i == 4 ? DT_INT32 : DT_FLOAT)) return OPML_EDTYPE;
  }
  for (int i = 0; i < nd->n_out; i++) {
    if (nd->out[i]->dtype != DT_FLOAT) return OPML_EDTYPE;
  }
  if (dirs < 1 || dirs > 2 || in[0]->size != S * B * I || in[1]->size != dirs * G * H * I ||
      in[2]->size != dirs * G * H * H) {
    return OPML_EATTR;
  }
  if ((in[3] && in[3]->size != dirs * 2 * G * H) || (in[4] && in[4]->size != B) ||
      (in[5] && in[5]->size != dirs * B * H) || (in[6] && in[6]->size != dirs * B * H) ||
      (in[7] && in[7]->size != dirs * 3 * H)) {
    return OPML_EATTR;
  }
  if ((nd->n_out > 0 && nd->out[0]->size != S * dirs * B * H) || (nd->n_out > 1 && nd->out[1]->size != dirs * B * H) ||
      (nd->n_out > 2 && nd->out[2]->size != dirs * B * H)) {
    return OPML_EATTR;
  }
  for (idx b = 0; b < B; b++) {
    if (in[4] && (((const int32_t *)in[4]->data)[b] < 0 || ((const int32_t *)in[4]->data)[b] > S)) return OPML_EVALUE;
  }
  const float *X = in[0]->data, *W = in[1]->data, *R = in[2]->data, *Bi = in[3] ? in[3]->data : 0;
  const int32_t *lens = in[4] ? in[4]->data : 0;
  float *Y = nd->n_out > 0 ? nd->out[0]->data : 0;
  const idx GH = G * H;
  /* state h, c; scratch; gate sums x.W and h.R, gate values; W and R transposed */
  const int vec = opml_use_avx2(); /* the vector paths read W and R transposed */
  float *h = opml_alloc((size_t)(H * 5 + GH * 3 + (vec ? GH * (I + H) : 0)) * sizeof(float));
  if (!h) return OPML_ENOMEM;
  float *c = h + H, *tmp = c + H, *u = tmp + H, *w = u + H, *xw = w + H, *hr = xw + GH, *g = hr + GH;
  float *Wt = vec ? g + GH : 0, *Rt = vec ? Wt + GH * I : 0;
  for (idx d = 0; d < dirs; d++) {
    const int back = d == 1 || reverse;
    const int64_t *a = v + 9 + 3 * d;
    const float *Wb = Bi ? Bi + d * 2 * GH : 0;
    const float *Rb = Wb ? Wb + GH : 0, *P = in[7] ? (const float *)in[7]->data + d * 3 * H : 0;
    const float *Wd = W + d * GH * I, *Rd = R + d * GH * H;
    if (vec) transpose_to(Wd, GH, I, Wt), transpose_to(Rd, GH, H, Rt);
    for (idx b = 0; b < B; b++) {
      const idx len = lens ? lens[b] : S;
      const idx st = layout ? (b * dirs + d) * H : (d * B + b) * H; /* state index */
      for (idx k = 0; k < H; k++) {
        h[k] = in[5] ? ((const float *)in[5]->data)[st + k] : 0.0f;
        c[k] = in[6] ? ((const float *)in[6]->data)[st + k] : 0.0f;
      }
      for (idx step = 0; step < S; step++) {
        const idx t = back ? len - 1 - step : step;
        if (step >= len) { /* padding: Y is 0 */
          if (Y) {
            for (idx k = 0; k < H; k++) Y[(layout ? ((b * S + step) * dirs + d) : ((step * dirs + d) * B + b)) * H + k] = 0.0f;
          }
          continue;
        }
        const float *x = X + (layout ? b * S + t : t * B + b) * I;
        const idx nr = kind == 1 && !lbr ? 2 * H : GH; /* GRU's h gate without lbr: below */
        gate_sums(x, I, Wd, Wt, GH, GH, xw);
        gate_sums(h, H, Rd, Rt, GH, nr, hr);
        const idx ng = kind == 1 ? 2 * H : GH; /* gates of the plain form */
        for (idx j = 0; j < ng; j++) {
          float pre = xw[j] + hr[j];
          if (Wb) pre = pre + Wb[j] + Rb[j];
          g[j] = pre;
        }
        if (kind == 0) {
          if (has_clip) {
            for (idx k = 0; k < H; k++) g[k] = clipf(g[k], clip);
          }
          act_n((int)a[0], g, tmp, H);
        } else if (kind == 1) {
          if (has_clip) {
            for (idx k = 0; k < 2 * H; k++) g[k] = clipf(g[k], clip);
          }
          act_n((int)a[0], g, g, 2 * H);
          if (!lbr) {
            for (idx m = 0; m < H; m++) u[m] = g[H + m] * h[m];
            gate_sums(u, H, Rd + 2 * H * H, vec ? Rt + 2 * H : 0, GH, H, w); /* (r (.) h).Rh */
          }
          for (idx k = 0; k < H; k++) {
            const idx j = 2 * H + k;
            float pre;
            if (lbr) {
              float rh = hr[j];
              if (Rb) rh = rh + Rb[j];
              pre = xw[j] + g[H + k] * rh;
            } else {
              pre = xw[j] + w[k];
              if (Rb) pre = pre + Rb[j];
            }
            if (Wb) pre = pre + Wb[j];
            if (has_clip) pre = clipf(pre, clip);
            u[k] = pre;
          }
          act_n((int)a[1], u, u, H);
          for (idx k = 0; k < H; k++) {
            const float z = g[k];
            tmp[k] = (1.0f - z) * u[k] + z * h[k];
          }
        } else { /* gates i, o, f, c */
          for (idx k = 0; k < H; k++) {
            if (P) g[k] = g[k] + P[k] * c[k], g[2 * H + k] = g[2 * H + k] + P[2 * H + k] * c[k];
            if (has_clip) {
              g[k] = clipf(g[k], clip), g[2 * H + k] = clipf(g[2 * H + k], clip);
              g[3 * H + k] = clipf(g[3 * H + k], clip);
            }
          }
          act_n((int)a[0], g, g, H);
          act_n((int)a[0], g + 2 * H, g + 2 * H, H);
          act_n((int)a[1], g + 3 * H, g + 3 * H, H);
          for (idx k = 0; k < H; k++) {
            const float cn = g[2 * H + k] * c[k] + g[k] * g[3 * H + k];
            float po = g[H + k];
            if (P) po = po + P[H + k] * cn;
            if (has_clip) po = clipf(po, clip);
            c[k] = cn;
            g[H + k] = po;
          }
          act_n((int)a[0], g + H, g + H, H);
          act_n((int)a[2], c, u, H);
          for (idx k = 0; k < H; k++) tmp[k] = g[H + k] * u[k];
        }
        for (idx k = 0; k < H; k++) h[k] = tmp[k];
        if (Y) {
          for (idx k = 0; k < H; k++) Y[(layout ? ((b * S + t) * dirs + d) : ((t * dirs + d) * B + b)) * H + k] = h[k];
        }
      }
      if (nd->n_out > 1) {
        for (idx k = 0; k < H; k++) ((float *)nd->out[1]->data)[st + k] = h[k];
      }
      if (nd->n_out > 2) {
        for (idx k = 0; k < H; k++) ((float *)nd->out[2]->data)[st + k] = c[k];
      }
    }
  }
  opml_free(h);
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_sequence[] = {
    {OP_ATTENTION, "Attention", k_attention},
    {OP_ROTARY_EMBEDDING, "RotaryEmbedding", k_rotary},
    {OP_RNN, "RNN", k_recurrent},
    {OP_GRU, "GRU", k_recurrent},
    {OP_LSTM, "LSTM", k_recurrent},
    {0, 0, 0},
};
