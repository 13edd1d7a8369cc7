/*
 * The storage-only float formats of ONNX (docs/IR.md, "Small types"): float16, bfloat16,
 * float8 e4m3fn / e4m3fnuz / e5m2 / e5m2fnuz / e8m0 and float4 e2m1, held as bit patterns (one
 * uint16 or one byte per element). Conversions are integer code only, so the native and MIPS
 * builds agree without any float arithmetic:
 *  - decoding is exact (every small float is a binary64, and except bfloat16 subnormals a
 *    normal binary32);
 *  - encoding rounds once to nearest, ties to even, from the exact value of a binary32, a
 *    binary64 or a 64-bit integer (no double rounding); NaN gives the format's canonical NaN
 *    (float4e2m1, which has none: 0x8, as the ONNX reference); overflow gives infinity (IEEE
 *    formats), NaN (float8 *fn / *fnuz) or, when saturating, the largest finite value; the
 *    *fnuz formats have no -0 (a negative value rounding to zero gives +0).
 *  - e8m0 follows the ONNX reference (onnx.numpy_helper.to_float8e8m0): from a binary32's
 *    exponent field, round_mode up / down / nearest, 0xFF for NaN and infinity.
 */
#ifndef OPML_SMALLFLOAT_H
#define OPML_SMALLFLOAT_H

#include <stdint.h>

/* 1 for the small float dtypes (DT_FLOAT16, DT_BFLOAT16, DT_F8*, DT_F4E2M1). */
int opml_is_small_float(uint8_t dtype);

/* Exact value of bits of a small float dtype (not e8m0's NaN: 0xFF decodes as NaN). */
double opml_small_to_f64(uint8_t dtype, uint32_t bits);
float opml_small_to_f32(uint8_t dtype, uint32_t bits);

/* Rounded encodings (see the top). `saturate` only matters for the float8 formats; float4e2m1
 * always saturates (it has no infinity nor NaN). */
uint32_t opml_small_from_f32(uint8_t dtype, float x, int saturate);
uint32_t opml_small_from_f64(uint8_t dtype, double x, int saturate);
uint32_t opml_small_from_int(uint8_t dtype, int neg, uint64_t magnitude, int saturate);

/* e8m0 from a binary32: round_mode 0 up, 1 down, 2 nearest (the ONNX reference's rule). */
uint32_t opml_e8m0_from_f32(float x, int saturate, int round_mode);

/* Whole arrays: widen n elements to float32, and round n float32 values to a small float. */
void opml_small_widen_f32(uint8_t dtype, const void *src, float *dst, uint32_t n);
void opml_small_narrow_f32(uint8_t dtype, const float *src, void *dst, uint32_t n, int saturate);

#endif
