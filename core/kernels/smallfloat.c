/* Conversions of the small float formats (smallfloat.h): integer code only. */
#include "smallfloat.h"

#include "kernel.h"

enum { K_IEEE, K_FN, K_FNUZ, K_NONE };

typedef struct {
  int e, m, bias, kind;
} fmt;

static int fmt_of(uint8_t dt, fmt *f) {
  switch (dt) {
    case DT_FLOAT16: *f = (fmt){5, 10, 15, K_IEEE}; return 1;
    case DT_BFLOAT16: *f = (fmt){8, 7, 127, K_IEEE}; return 1;
    case DT_F8E4M3FN: *f = (fmt){4, 3, 7, K_FN}; return 1;
    case DT_F8E4M3FNUZ: *f = (fmt){4, 3, 8, K_FNUZ}; return 1;
    case DT_F8E5M2: *f = (fmt){5, 2, 15, K_IEEE}; return 1;
    case DT_F8E5M2FNUZ: *f = (fmt){5, 2, 16, K_FNUZ}; return 1;
    case DT_F4E2M1: *f = (fmt){2, 1, 1, K_NONE}; return 1;
    default: return 0;
  }
}

int opml_is_small_float(uint8_t dtype) {
  fmt f;
  return dtype == DT_F8E8M0 || fmt_of(dtype, &f);
}

static uint64_t f64_bits(double d) {
  union { double d; uint64_t u; } v;
  v.d = d;
  return v.u;
}
static double bits_f64(uint64_t u) {
  union { double d; uint64_t u; } v;
  v.u = u;
  return v.d;
}

/* ---- decoding --------------------------------------------------------------------------- */

double opml_small_to_f64(uint8_t dtype, uint32_t bits) {
  fmt f;
  if (dtype == DT_F8E8M0) {
    if (bits == 0xFF) return bits_f64(0x7FF8000000000000ull);
    return bits_f64((uint64_t)(bits - 127 + 1023) << 52);
  }
  if (!fmt_of(dtype, &f)) return 0;
  int width = 1 + f.e + f.m;
  uint64_t sign = (uint64_t)((bits >> (width - 1)) & 1) << 63;
  uint32_t e = (bits >> f.m) & ((1u << f.e) - 1), m = bits & ((1u << f.m) - 1);
  uint32_t top_e = (1u << f.e) - 1, top_m = (1u << f.m) - 1;
  if ((f.kind == K_IEEE && e == top_e && m) || (f.kind == K_FN && e == top_e && m == top_m) ||
      (f.kind == K_FNUZ && bits == (1u << (width - 1)))) {
    return bits_f64(0x7FF8000000000000ull);
  }
  if (f.kind == K_IEEE && e == top_e) return bits_f64(sign | 0x7FF0000000000000ull);
  if (e == 0 && m == 0) return bits_f64(sign);
  int exp = (int)e - f.bias; /* value = 1.m * 2^exp, or 0.m * 2^(1 - bias) */
  if (e == 0) {              /* subnormal: normalise */
    exp = 1 - f.bias;
    while (!(m >> f.m)) m <<= 1, exp--;
    m &= top_m;
  }
  return bits_f64(sign | ((uint64_t)(exp + 1023) << 52) | ((uint64_t)m << (52 - f.m)));
}

float opml_small_to_f32(uint8_t dtype, uint32_t bits) {
  if (dtype == DT_BFLOAT16) return opml_bits_f32(bits << 16);
  /* every other small float is a normal binary32 (or zero, infinity, NaN): move the fields */
  uint64_t d = f64_bits(opml_small_to_f64(dtype, bits));
  uint32_t s = (uint32_t)(d >> 32) & 0x80000000u, e = (uint32_t)(d >> 52) & 0x7FF;
  if (e == 0x7FF) return opml_bits_f32((d & 0xFFFFFFFFFFFFFull) ? 0x7FC00000u : s | 0x7F800000u);
  if (e == 0) return opml_bits_f32(s);
  return opml_bits_f32(s | ((e - 1023 + 127) << 23) | (uint32_t)((d & 0xFFFFFFFFFFFFFull) >> 29));
}

/* ---- encoding --------------------------------------------------------------------------- */

static uint32_t nan_of(const fmt *f) {
  int width = 1 + f->e + f->m;
  switch (f->kind) {
    case K_IEEE: return (((1u << f->e) - 1) << f->m) | (1u << (f->m - 1));
    case K_FN: return (1u << (width - 1)) - 1;
    case K_FNUZ: return 1u << (width - 1);
    default: return 1u << (width - 1); /* float4e2m1: -0, as the ONNX reference gives */
  }
}

static uint32_t max_finite(const fmt *f) {
  uint32_t top_e = (1u << f->e) - 1, top_m = (1u << f->m) - 1;
  switch (f->kind) {
    case K_IEEE: return ((top_e - 1) << f->m) | top_m;
    case K_FN: return (top_e << f->m) | (top_m - 1);
    default: return (top_e << f->m) | top_m;
  }
}

/* Overflow (or infinity) of sign `s` (already shifted into place). */
static uint32_t overflow(const fmt *f, uint32_t s, int saturate) {
  if ((saturate && f->e + f->m == 7) || f->kind == K_NONE) return s | max_finite(f); /* float8 only */
  if (f->kind == K_IEEE) return s | (((1u << f->e) - 1) << f->m);
  if (f->kind == K_FN) return s | nan_of(f);
  return nan_of(f);
}

/* Rounds neg * m * 2^e2 (m > 0, any 64-bit value) to format f, ties to even. */
static uint32_t encode(const fmt *f, int neg, uint64_t m, int32_t e2, int saturate) {
  int width = 1 + f->e + f->m;
  uint32_t s = neg ? 1u << (width - 1) : 0;
  if (m == 0) return f->kind == K_FNUZ ? 0 : s;
  while (!(m >> 63)) m <<= 1, e2--;
  int32_t E = e2 + 63, emin = 1 - f->bias; /* value = 1.xxx * 2^E */
  int32_t shift = 63 - f->m + (E < emin ? emin - E : 0);
  uint64_t q, rem, half;
  if (shift >= 64) { /* below half the smallest subnormal, or exactly half of it at shift 64 */
    q = 0;
    rem = shift == 64 ? m : 1; /* m has bit 63 set: at shift 64 it is >= half */
    half = shift == 64 ? 1ull << 63 : 2;
  } else {
    q = m >> shift;
    rem = m & ((1ull << shift) - 1);
    half = 1ull << (shift - 1);
  }
  if (rem > half || (rem == half && (q & 1))) q++;
  uint64_t bits;
  if (E < emin) {
    bits = q; /* a carry into bit m is exactly the smallest normal's encoding */
  } else {
    int64_t biased = (int64_t)E + f->bias;
    if (q >> (f->m + 1)) q >>= 1, biased++;
    if (biased > (int64_t)((1u << f->e) - 1)) return overflow(f, s, saturate);
    bits = ((uint64_t)biased << f->m) | (q & ((1ull << f->m) - 1));
  }
  if (bits > max_finite(f)) return overflow(f, s, saturate);
  if (bits == 0 && f->kind == K_FNUZ) return 0;
  return s | (uint32_t)bits;
}

uint32_t opml_small_from_f64(uint8_t dtype, double x, int saturate) {
  fmt f;
  uint64_t u = f64_bits(x);
  if (dtype == DT_F8E8M0) return opml_e8m0_from_f32((float)x, saturate, 0);
  if (!fmt_of(dtype, &f)) return 0;
  int neg = (int)(u >> 63), width = 1 + f.e + f.m;
  uint32_t e = (uint32_t)(u >> 52) & 0x7FF;
  uint64_t m = u & 0xFFFFFFFFFFFFFull;
  if (e == 0x7FF) return m ? nan_of(&f) : overflow(&f, neg ? 1u << (width - 1) : 0, saturate);
  if (e == 0) return encode(&f, neg, m, -1074, saturate);
  return encode(&f, neg, m | (1ull << 52), (int32_t)e - 1075, saturate);
}

uint32_t opml_small_from_f32(uint8_t dtype, float x, int saturate) {
  fmt f;
  uint32_t u = opml_f32_bits(x);
  if (dtype == DT_F8E8M0) return opml_e8m0_from_f32(x, saturate, 0);
  if (!fmt_of(dtype, &f)) return 0;
  int neg = (int)(u >> 31), width = 1 + f.e + f.m;
  uint32_t e = (u >> 23) & 0xFF, m = u & 0x7FFFFF;
  if (e == 0xFF) return m ? nan_of(&f) : overflow(&f, neg ? 1u << (width - 1) : 0, saturate);
  if (e == 0) return encode(&f, neg, m, -149, saturate);
  return encode(&f, neg, m | 0x800000u, (int32_t)e - 150, saturate);
}

uint32_t opml_small_from_int(uint8_t dtype, int neg, uint64_t magnitude, int saturate) {
  fmt f;
  if (dtype == DT_F8E8M0) {
    /* the reference goes through float32 */
    float v = magnitude >> 63 ? (float)(int64_t)(magnitude >> 1) * 2.0f : (float)(int64_t)magnitude;
    return opml_e8m0_from_f32(neg ? -v : v, saturate, 0);
  }
  if (!fmt_of(dtype, &f)) return 0;
  return encode(&f, neg, magnitude, 0, saturate);
}

uint32_t opml_e8m0_from_f32(float x, int saturate, int round_mode) {
  uint32_t b = opml_f32_bits(x), e = (b >> 23) & 0xFF;
  if (e == 0xFF) return 0xFF;
  int up = 0;
  if (round_mode == 0) up = (b & 0x7FFFFF) != 0;
  else if (round_mode == 2) up = (b & 0x400000) && ((b & 0x200000) || (b & 0x1FFFFF) || e > 0);
  if (up && saturate && e == 0xFE) up = 0;
  return (e + (uint32_t)up) & 0xFF;
}

void opml_small_widen_f32(uint8_t dtype, const void *src, float *dst, uint32_t n) {
  if (dtype == DT_FLOAT16 || dtype == DT_BFLOAT16) {
    const uint16_t *s = src;
    for (uint32_t i = 0; i < n; i++) dst[i] = opml_small_to_f32(dtype, s[i]);
  } else {
    const uint8_t *s = src;
    for (uint32_t i = 0; i < n; i++) dst[i] = opml_small_to_f32(dtype, s[i]);
  }
}

void opml_small_narrow_f32(uint8_t dtype, const float *src, void *dst, uint32_t n, int saturate) {
  if (dtype == DT_FLOAT16 || dtype == DT_BFLOAT16) {
    uint16_t *d = dst;
    for (uint32_t i = 0; i < n; i++) d[i] = (uint16_t)opml_small_from_f32(dtype, src[i], saturate);
  } else {
    uint8_t *d = dst;
    for (uint32_t i = 0; i < n; i++) d[i] = (uint8_t)opml_small_from_f32(dtype, src[i], saturate);
  }
}
