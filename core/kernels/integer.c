/*
 * Integer quantisation kernels beyond quant.c (docs/IR.md; the "integer" family of
 * core/compiler/ops/schema.ts; lowering in core/compiler/ops/integer.ts): DynamicQuantizeLinear
 * and ConvInteger.
 *
 * DynamicQuantizeLinear: no ints; x float -> y uint8, y_scale float, y_zero_point uint8.
 * lo = min(0, min x), hi = max(0, max x) (x ascending; NaN ignored), scale = (hi - lo) / 255,
 * (1 / 255 when hi = lo, as the ONNX reference), zp = clamp(roundeven((0 - lo) / scale), 0, 255)
 * (0 when that is NaN: an infinite input),
 * y = clamp(roundeven(x / scale) + zp, 0, 255), each in float.
 *
 * ConvInteger: Conv's ints (nn.c); inputs x, w (uint8/int8), x_zero_point? (scalar),
 * w_zero_point? (scalar or one per output channel); y int32 = sum of (x - xz)(w - wz) over the
 * taps inside the input (padding contributes 0), wrapping modulo 2^32.
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"
#include "simd.h"

#if defined(OPML_X86)
/* The range pass of DynamicQuantizeLinear on 16 lanes: each lane keeps its own lo / hi by the
 * scalar loop's comparisons (NaN never replaces), then the lanes are combined the same way. The
 * result does not depend on the order: min and max of non-NaN floats and 0 are unique values
 * (a -0 never replaces the initial +0). Returns how many values it read. */
__attribute__((target("avx512f"))) static uint32_t dq_range_avx512(const float *x, uint32_t n, float *lo, float *hi) {
  __m512 l = _mm512_setzero_ps(), h = l;
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    l = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, l, _CMP_LT_OQ), l, v);
    h = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, h, _CMP_GT_OQ), h, v);
  }
  float tl[16], th[16];
  _mm512_storeu_ps(tl, l);
  _mm512_storeu_ps(th, h);
  for (int j = 0; j < 16; j++) {
    if (tl[j] < *lo) *lo = tl[j];
    if (th[j] > *hi) *hi = th[j];
  }
  return i;
}

/* y = clamp(roundeven(x / scale) + zp, 0, 255) on 16 lanes: the same division, rounding (vroundps
 * to nearest even, as opml_roundevenf, the sign kept), addition and bounds (NaN gives 0). */
__attribute__((target("avx512f"))) static uint32_t dq_quantize_avx512(const float *x, uint32_t n, float scale, float zp,
                                                                      uint8_t *y) {
  const __m512 vs = _mm512_set1_ps(scale), vz = _mm512_set1_ps(zp), top = _mm512_set1_ps(255.0f);
  const __m512 zero = _mm512_setzero_ps();
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 r = _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(x + i), vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 q = _mm512_add_ps(r, vz);
    __m512i b = _mm512_maskz_cvttps_epi32(_mm512_cmp_ps_mask(q, zero, _CMP_GT_OQ), q);
    b = _mm512_mask_mov_epi32(b, _mm512_cmp_ps_mask(q, top, _CMP_GE_OQ), _mm512_set1_epi32(255));
    _mm_storeu_si128((__m128i *)(y + i), _mm512_cvtepi32_epi8(b));
  }
  return i;
}
#endif

static int k_dynamic_quantize(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0], *S = nd->out[1], *Z = nd->out[2];
  if (nd->n_out != 3 || !S || !Z || X->dtype != DT_FLOAT || Y->dtype != DT_UINT8 || S->dtype != DT_FLOAT ||
      Z->dtype != DT_UINT8 || Y->size != X->size || S->size != 1 || Z->size != 1) return OPML_EATTR;
  const float *x = (const float *)X->data;
  float lo = 0.0f, hi = 0.0f;
  uint32_t i0 = 0;
#if defined(OPML_X86)
  if (opml_use_avx512()) i0 = dq_range_avx512(x, X->size, &lo, &hi);
#endif
  for (uint32_t i = i0; i < X->size; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
  float zp = opml_roundevenf((0.0f - lo) / scale);
  /* NaN (infinite inputs: inf / inf) gives 0, as every in-range value's bits stay: the float to
   * uint8 conversion of a NaN is undefined in C (x86 and MIPS differed) */
  zp = zp > 0.0f ? (zp > 255.0f ? 255.0f : zp) : 0.0f;
  uint8_t *y = (uint8_t *)Y->data;
  i0 = 0;
#if defined(OPML_X86)
  if (opml_use_avx512()) i0 = dq_quantize_avx512(x, X->size, scale, zp, y);
#endif
  for (uint32_t i = i0; i < X->size; i++) {
    float q = opml_roundevenf(x[i] / scale) + zp;
    y[i] = q >= 255.0f ? 255 : q > 0.0f ? (uint8_t)q : 0; /* NaN -> 0 */
  }
  *(float *)S->data = scale;
  *(uint8_t *)Z->data = (uint8_t)zp;
  return OPML_OK;
}

static int32_t q_at(const opml_tensor *t, int64_t i) {
  return t->dtype == DT_INT8 ? ((const int8_t *)t->data)[i] : ((const uint8_t *)t->data)[i];
}

static int k_conv_integer(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *W = nd->in[1];
  const opml_tensor *XZ = nd->n_in > 2 ? nd->in[2] : 0, *WZ = nd->n_in > 3 ? nd->in[3] : 0;
  opml_tensor *Y = nd->out[0];
  if ((X->dtype != DT_UINT8 && X->dtype != DT_INT8) || (W->dtype != DT_UINT8 && W->dtype != DT_INT8)) return OPML_EDTYPE;
  if (Y->dtype != DT_INT32 || nd->n_ints != 22) return OPML_EATTR;
  if ((XZ && (XZ->size != 1 || XZ->dtype != X->dtype)) || (WZ && WZ->dtype != W->dtype)) return OPML_EATTR;
  const int64_t *p = nd->ints;
  const int64_t N = p[0], C = p[1], OC = p[2], G = p[3];
  const int64_t ID = p[4], IH = p[5], IW = p[6], OD = p[7], OH = p[8], OW = p[9];
  const int64_t KD = p[10], KH = p[11], KW = p[12], SD = p[13], SH = p[14], SW = p[15];
  const int64_t DD = p[16], DH = p[17], DW = p[18], PD = p[19], PH = p[20], PW = p[21];
  if (G <= 0 || C % G || OC % G || (WZ && WZ->size != 1 && WZ->size != OC)) return OPML_EATTR;
  if (N * OC * OD * OH * OW != Y->size || N * C * ID * IH * IW != X->size) return OPML_EATTR;
  if (OC * (C / G) * KD * KH * KW != W->size) return OPML_EATTR;
  const int64_t Cg = C / G, OCg = OC / G;
  const int32_t xz = XZ ? q_at(XZ, 0) : 0;
  uint32_t *y = (uint32_t *)Y->data;
  for (int64_t n = 0; n < N; n++) {
    for (int64_t oc = 0; oc < OC; oc++) {
      const int32_t wz = WZ ? q_at(WZ, WZ->size == 1 ? 0 : oc) : 0;
      const int64_t g = oc / OCg;
      for (int64_t od = 0; od < OD; od++) {
        for (int64_t oh = 0; oh < OH; oh++) {
          for (int64_t ow = 0; ow < OW; ow++) {
            uint32_t acc = 0;
            for (int64_t ic = 0; ic < Cg; ic++) {
              const int64_t xc = (n * C + g * Cg + ic) * ID, wc = (oc * Cg + ic) * KD;
              for (int64_t kd = 0; kd < KD; kd++) {
                int64_t id = od * SD + kd * DD - PD;
                if (id < 0 || id >= ID) continue;
                for (int64_t kh = 0; kh < KH; kh++) {
                  int64_t ih = oh * SH + kh * DH - PH;
                  if (ih < 0 || ih >= IH) continue;
                  for (int64_t kw = 0; kw < KW; kw++) {
                    int64_t iw = ow * SW + kw * DW - PW;
                    if (iw < 0 || iw >= IW) continue;
                    int32_t xv = q_at(X, ((xc + id) * IH + ih) * IW + iw) - xz;
                    int32_t wv = q_at(W, ((wc + kd) * KH + kh) * KW + kw) - wz;
                    acc += (uint32_t)xv * (uint32_t)wv;
                  }
                }
              }
            }
            y[(((n * OC + oc) * OD + od) * OH + oh) * OW + ow] = acc;
          }
        }
      }
    }
  }
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_integer[] = {
    {OP_DYNAMIC_QUANTIZE_LINEAR, "DynamicQuantizeLinear", k_dynamic_quantize},
    {OP_CONV_INTEGER, "ConvInteger", k_conv_integer},
    {0, 0, 0},
};
