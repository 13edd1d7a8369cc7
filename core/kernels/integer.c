/*
 * Integer quantisation kernels beyond quant.c (docs/IR.md; the "integer" family of
 * core/compiler/ops/schema.ts; lowering in core/compiler/ops/integer.ts): DynamicQuantizeLinear
 * and ConvInteger.
 *
 * DynamicQuantizeLinear: no ints; x float -> y uint8, y_scale float, y_zero_point uint8.
 * lo = min(0, min x), hi = max(0, max x) (x ascending; NaN ignored), scale = (hi - lo) / 255,
 * (1 / 255 when hi = lo, as the ONNX reference), zp = clamp(roundeven((0 - lo) / scale), 0, 255),
 * y = clamp(roundeven(x / scale) + zp, 0, 255), each in float.
 *
 * ConvInteger: Conv's ints (nn.c); inputs x, w (uint8/int8), x_zero_point? (scalar),
 * w_zero_point? (scalar or one per output channel); y int32 = sum of (x - xz)(w - wz) over the
 * taps inside the input (padding contributes 0), wrapping modulo 2^32.
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"

static int k_dynamic_quantize(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0], *S = nd->out[1], *Z = nd->out[2];
  if (nd->n_out != 3 || !S || !Z || X->dtype != DT_FLOAT || Y->dtype != DT_UINT8 || S->dtype != DT_FLOAT ||
      Z->dtype != DT_UINT8 || Y->size != X->size || S->size != 1 || Z->size != 1) return OPML_EATTR;
  const float *x = (const float *)X->data;
  float lo = 0.0f, hi = 0.0f;
  for (uint32_t i = 0; i < X->size; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
  float zp = opml_roundevenf((0.0f - lo) / scale);
  zp = zp < 0.0f ? 0.0f : zp > 255.0f ? 255.0f : zp;
  uint8_t *y = (uint8_t *)Y->data;
  for (uint32_t i = 0; i < X->size; i++) {
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
