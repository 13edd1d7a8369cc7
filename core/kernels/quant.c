/*
 * Quantized kernels (docs/IR.md, op codes 300-399): QuantizeLinear, DequantizeLinear,
 * MatMulInteger, QLinearMatMul, QLinearConv and com.microsoft::QLinearAdd. The attribute
 * layouts are documented on the OpDefs in core/compiler/ops/quant.ts.
 *
 * Arithmetic contract:
 *  - products of zero-point-corrected 8-bit values are accumulated exactly in 32 bits
 *    (modulo 2^32, so the order of the additions cannot change a bit);
 *  - requantisation is exact: y = saturate(roundeven(acc * m + zp)), where m is the float32
 *    multiplier (a_scale * b_scale) / y_scale computed once in float32 and acc * m + zp is the
 *    real value, rounded once (ties to even). This is what the ONNX reference computes (in
 *    float64) and costs a few integer instructions per output in the VM;
 *  - QuantizeLinear, DequantizeLinear and QLinearAdd are float32 formulas (see each kernel).
 */
#include "kernel.h"
#include "smallfloat.h"
#include "ops.h"
#include "simd.h"

/* ---------------------------------------------------------------- element access */

/* The representable range of an integer dtype; 0 if the kernels do not handle it. */
static int int_range(uint8_t dt, int32_t *lo, int32_t *hi) {
  switch (dt) {
    case DT_UINT8: *lo = 0; *hi = 255; return 1;
    case DT_INT8: *lo = -128; *hi = 127; return 1;
    case DT_UINT16: *lo = 0; *hi = 65535; return 1;
    case DT_INT16: *lo = -32768; *hi = 32767; return 1;
    case DT_UINT4: *lo = 0; *hi = 15; return 1; /* sub-byte: unpacked, one byte each */
    case DT_INT4: *lo = -8; *hi = 7; return 1;
    case DT_UINT2: *lo = 0; *hi = 3; return 1;
    case DT_INT2: *lo = -2; *hi = 1; return 1;
    default: return 0;
  }
}

static int is_8bit(uint8_t dt) { return dt == DT_UINT8 || dt == DT_INT8; }

/* Element i of an integer tensor (8, 16 or 32 bits). */
static int32_t get_int(const opml_tensor *t, uint32_t i) {
  switch (t->dtype) {
    case DT_UINT8: case DT_UINT4: case DT_UINT2: return ((const uint8_t *)t->data)[i];
    case DT_INT8: case DT_INT4: case DT_INT2: return ((const int8_t *)t->data)[i];
    case DT_UINT16: return ((const uint16_t *)t->data)[i];
    case DT_INT16: return ((const int16_t *)t->data)[i];
    case DT_INT32: return ((const int32_t *)t->data)[i];
    default: return 0;
  }
}

/* Stores v (already in range) as element i of an 8- or 16-bit tensor. */
static void put_int(opml_tensor *t, uint32_t i, int32_t v) {
  switch (t->dtype) {
    case DT_UINT8: case DT_UINT4: case DT_UINT2: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case DT_INT8: case DT_INT4: case DT_INT2: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case DT_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
    case DT_INT16: ((int16_t *)t->data)[i] = (int16_t)v; break;
    default: break;
  }
}

/* The zero point at index i, 0 when the input is absent. */
static int32_t zero_point(const opml_tensor *zp, uint32_t i) { return zp ? get_int(zp, zp->size == 1 ? 0 : i) : 0; }

/* 1 iff a scale or zero point holds one value or exactly n (absent is fine too). */
static int param_ok(const opml_tensor *t, uint64_t n) { return !t || t->size == 1 || t->size == n; }

#if defined(OPML_X86)
/* widen8 of contiguous values, 16 (then 8) at a time; returns how many it did. */
__attribute__((target("avx2"))) static uint32_t widen8_avx2(const uint8_t *s, int u8, uint32_t n, int32_t zp,
                                                             int16_t *dst) {
  const __m256i vz = _mm256_set1_epi16((int16_t)zp);
  uint32_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(s + j));
    _mm256_storeu_si256((__m256i *)(dst + j), _mm256_sub_epi16(u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v), vz));
  }
  if (j + 8 <= n) { /* rows of 8 to 15 values (the depthwise planes' 14-wide rows) */
    const __m128i v = _mm_loadl_epi64((const __m128i *)(s + j));
    _mm_storeu_si128((__m128i *)(dst + j),
                     _mm_sub_epi16(u8 ? _mm_cvtepu8_epi16(v) : _mm_cvtepi8_epi16(v), _mm256_castsi256_si128(vz)));
    j += 8;
  }
  return j;
}

/* 1 iff the byte paths run (conv_bytes, matmul_bytes, dw_plane_avx512, ...): AVX-512 paths on,
 * and the host has VL, BW and VNNI. */
static int pb_use(void) {
  static int v = -1; /* racing threads store the same value */
  if (v < 0) v = opml_use_avx512() && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vnni");
  return v;
}
#endif

/* dst[j] = src[start + j*stride] - zp for an 8-bit tensor, as int16 (|value| <= 255). */
static void widen8(const opml_tensor *t, size_t start, size_t stride, uint32_t n, int32_t zp, int16_t *dst) {
#if defined(OPML_X86)
  if (stride == 1 && opml_use_avx2()) {
    const uint32_t j = widen8_avx2((const uint8_t *)t->data + start, t->dtype == DT_UINT8, n, zp, dst);
    start += j, n -= j, dst += j;
  }
#endif
  if (t->dtype == DT_UINT8) {
    const uint8_t *s = (const uint8_t *)t->data + start;
    for (uint32_t j = 0; j < n; j++) dst[j] = (int16_t)((int32_t)s[j * stride] - zp);
  } else {
    const int8_t *s = (const int8_t *)t->data + start;
    for (uint32_t j = 0; j < n; j++) dst[j] = (int16_t)((int32_t)s[j * stride] - zp);
  }
}

/* ---------------------------------------------------------------- rounding */

/*
 * saturate(roundeven(v) + zp) into [lo, hi] (|lo|, |hi| < 2^21); NaN gives zp. With
 * zp_in_tie, a tie instead goes to the even final value: saturate(roundeven(v + zp)).
 * Clamping first is exact (the bounds are integers); then, as |v| <= 2^22, adding 1.5 * 2^23
 * leaves no fraction bits, so the float addition itself rounds half to even, and v - r is exact.
 */
static int32_t round_sat(float v, int32_t zp, int zp_in_tie, int32_t lo, int32_t hi) {
  float flo = (float)(lo - zp), fhi = (float)(hi - zp);
  if (v > fhi) v = fhi;
  else if (v < flo) v = flo;
  else if (v != v) v = 0.0f;
  float r = (v + 12582912.0f) - 12582912.0f, d = v - r;
  if (zp_in_tie && (zp & 1) && (d == 0.5f || d == -0.5f)) r += d + d;
  return (int32_t)r + zp;
}

/*
 * An exact requantisation multiplier, from a float32 m = mant * 2^-shift (mant a signed 24-bit
 * integer; NaN gives 0, infinities saturate any non-zero accumulator).
 *
 * Fast path (RQ_FAST, every |m| < 2^-1): mant is scaled up so the shift s is in [32, 62]; then
 * with p = acc * mant, roundeven(p / 2^s + zp) - zp = floor((p + 2^(s-1) - 1 + odd) / 2^s), where
 * odd = 1 iff floor(p / 2^s) + zp is odd: two high-word shifts and one 64-bit addition.
 */
enum { RQ_FAST, RQ_ZERO, RQ_SLOW };

typedef struct {
  int32_t mode;   /* RQ_* */
  int32_t mant;   /* the multiplier's mantissa, scaled for the fast path */
  int32_t shift;  /* m = mant * 2^-shift */
  int32_t sh;     /* RQ_FAST: shift - 32 */
  int64_t c0, c1; /* RQ_FAST: 2^(shift-1) - 1 and 2^(shift-1) */
} requant_t;

static requant_t requant_make(float m) {
  uint32_t u = opml_f32_bits(m), e = (u >> 23) & 0xFF, f = u & 0x7FFFFF;
  requant_t r = {RQ_SLOW, 0, 0, 0, 0, 0};
  if (e == 0xFF) {
    r.mant = f ? 0 : 1;
    r.shift = -40;
  } else if (e == 0) {
    r.mant = (int32_t)f;
    r.shift = 149;
  } else {
    r.mant = (int32_t)(f | 0x800000);
    r.shift = 150 - (int32_t)e;
  }
  if (u >> 31) r.mant = -r.mant;
  if (r.mant == 0 || r.shift > 62) {
    r.mode = RQ_ZERO; /* |acc * m| < 2^31 * 2^24 * 2^-63 < 1/2 */
  } else if (r.shift >= 25) {
    int32_t j = r.shift < 32 ? 32 - r.shift : 0; /* <= 7: |mant| << j < 2^31 */
    r.mode = RQ_FAST;
    r.mant *= 1 << j;
    r.shift += j;
    r.sh = r.shift - 32;
    r.c1 = (int64_t)1 << (r.shift - 1);
    r.c0 = r.c1 - 1;
  }
  return r;
}

/* requant() for large multipliers (|m| >= 2^-1, rare): the exact value, then clamped. */
static int32_t requant_slow(int32_t acc, const requant_t *r, int32_t zp, int32_t lo, int32_t hi) {
  int64_t p = (int64_t)acc * r->mant; /* |p| < 2^55 */
  int64_t q;
  if (r->shift <= 0) {
    /* |m| >= 2^23: any |p| >= 2^20 saturates, so clamp before shifting */
    int s = -r->shift > 20 ? 20 : -r->shift;
    if (p > (1 << 20)) p = 1 << 20;
    if (p < -(1 << 20)) p = -(1 << 20);
    q = p * ((int64_t)1 << s) + zp;
  } else {
    int64_t one = (int64_t)1 << r->shift, half = one >> 1;
    q = p >> r->shift; /* floor (arithmetic shift) */
    int64_t rem = p - q * one;
    q += zp;
    if (rem > half || (rem == half && (q & 1))) q++;
  }
  return q > hi ? hi : q < lo ? lo : (int32_t)q;
}

/*
 * saturate(roundeven(acc * m + zp)) into [lo, hi], exactly. The zero point is added before
 * rounding (a tie goes to the even final value), as the ONNX reference of QLinearConv and
 * QLinearMatMul computes it.
 */
static inline int32_t requant(int32_t acc, const requant_t *r, int32_t zp, int32_t lo, int32_t hi) {
  int32_t q;
  if (r->mode == RQ_FAST) {
    int64_t p = (int64_t)acc * r->mant; /* |p| < 2^62 */
    int32_t q0 = (int32_t)(p >> 32) >> r->sh;
    q = ((int32_t)((p + (((q0 ^ zp) & 1) ? r->c1 : r->c0)) >> 32) >> r->sh) + zp;
  } else if (r->mode == RQ_ZERO) {
    q = zp;
  } else {
    return requant_slow(acc, r, zp, lo, hi);
  }
  return q > hi ? hi : q < lo ? lo : q;
}

#if defined(OPML_X86)
/* requant() of 8 accumulators (RQ_FAST only): the same integer steps in 64-bit lanes. */
__attribute__((target("avx2"))) static inline __m256i requant8(__m256i a, const requant_t *r, __m256i zp, __m256i lo,
                                                              __m256i hi) {
  const __m256i m = _mm256_set1_epi32(r->mant), c0 = _mm256_set1_epi64x(r->c0);
  const __m128i sh = _mm_cvtsi32_si128(r->sh);
  const __m256i pe = _mm256_mul_epi32(a, m), po = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), m);
  /* the high words of the 8 products, in lane order */
  __m256i q0 = _mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA), sh);
  const __m256i odd = _mm256_and_si256(_mm256_xor_si256(q0, zp), _mm256_set1_epi32(1));
  const __m256i qe = _mm256_add_epi64(_mm256_add_epi64(pe, c0), _mm256_and_si256(odd, _mm256_set1_epi64x(0xFFFFFFFF)));
  const __m256i qo = _mm256_add_epi64(_mm256_add_epi64(po, c0), _mm256_srli_epi64(odd, 32));
  __m256i q = _mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(qe, 32), qo, 0xAA), sh);
  q = _mm256_add_epi32(q, zp);
  return _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
}

/* The low bytes of 8 int32 lanes to y[0..8). */
__attribute__((target("avx2"))) static inline void store_bytes8(uint8_t *y, __m256i q) {
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(q, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
  _mm_storel_epi64((__m128i *)y, _mm256_castsi256_si128(b));
}

__attribute__((target("avx2"))) static uint32_t requant_row_avx2(const int32_t *acc, uint32_t bias, const requant_t *r,
                                                                 int32_t zp, int32_t lo, int32_t hi, uint8_t *y,
                                                                 uint32_t n, int padded) {
  const __m256i vb = _mm256_set1_epi32((int32_t)bias), vz = _mm256_set1_epi32(zp);
  const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i a = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), vb);
    store_bytes8(y + i, requant8(a, r, vz, vlo, vhi));
  }
  if (padded && i < n) {
    /* the last partial vector: acc is readable up to n rounded up to 8, y only up to n */
    uint8_t t[8];
    store_bytes8(t, requant8(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), vb), r, vz, vlo, vhi));
    memcpy(y + i, t, n - i);
    i = n;
  }
  return i;
}
#endif

#if defined(OPML_X86)
/* The low bytes of 16 int32 lanes to y[0 .. min(n, 16)): vpmovdb to a register and a plain store
 * (its masked store form is much slower on some hosts). */
__attribute__((target("avx512f"))) static inline void store_bytes16(uint8_t *y, uint32_t n, __m512i q) {
  const __m128i b = _mm512_cvtepi32_epi8(q);
  if (n >= 16) {
    _mm_storeu_si128((__m128i *)y, b);
  } else {
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)t, b);
    memcpy(y, t, n);
  }
}

/* requant8's steps on 16 accumulators (AVX-512 F; the low bytes by vpmovdb, as store_bytes8), the
 * last partial vector masked: all n outputs. */
__attribute__((target("avx512f"))) static uint32_t requant_row_avx512(const int32_t *acc, uint32_t bias,
                                                                      const requant_t *r, int32_t zp, int32_t lo,
                                                                      int32_t hi, uint8_t *y, uint32_t n) {
  const __m512i vb = _mm512_set1_epi32((int32_t)bias), vz = _mm512_set1_epi32(zp);
  const __m512i vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi), one = _mm512_set1_epi32(1);
  const __m512i m = _mm512_set1_epi32(r->mant), c0 = _mm512_set1_epi64(r->c0), low = _mm512_set1_epi64(0xFFFFFFFF);
  const __m128i sh = _mm_cvtsi32_si128(r->sh);
  uint32_t i = 0;
  for (; i < n; i += 16) {
    /* the last partial vector masked: acc read and y written only below n */
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    const __m512i a = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, (const void *)(acc + i)), vb);
    const __m512i pe = _mm512_mul_epi32(a, m), po = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), m);
    const __m512i q0 = _mm512_sra_epi32(_mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po), sh);
    const __m512i odd = _mm512_and_si512(_mm512_xor_si512(q0, vz), one);
    const __m512i qe = _mm512_add_epi64(_mm512_add_epi64(pe, c0), _mm512_and_si512(odd, low));
    const __m512i qo = _mm512_add_epi64(_mm512_add_epi64(po, c0), _mm512_srli_epi64(odd, 32));
    __m512i q = _mm512_sra_epi32(_mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(qe, 32), qo), sh);
    q = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(q, vz), vlo), vhi);
    store_bytes16(y + i, n - i, q);
  }
  return n;
}
#endif

/* y[i] = requant(acc[i] + bias) for i < n (the bias added modulo 2^32); with padded, acc may be
 * read up to n rounded up to 8 (the vector path then also does the tail). */
static void requant_row_p(const int32_t *acc, uint32_t bias, const requant_t *r, int32_t zp, int32_t lo, int32_t hi,
                          uint8_t *y, uint32_t n, int padded) {
  uint32_t i = 0;
#if defined(OPML_X86)
  if (r->mode == RQ_FAST && opml_use_avx512()) i = requant_row_avx512(acc, bias, r, zp, lo, hi, y, n);
  else if (r->mode == RQ_FAST && opml_use_avx2()) i = requant_row_avx2(acc, bias, r, zp, lo, hi, y, n, padded);
#endif
  (void)padded;
  for (; i < n; i++) y[i] = (uint8_t)requant((int32_t)((uint32_t)acc[i] + bias), r, zp, lo, hi);
}

static void requant_row(const int32_t *acc, uint32_t bias, const requant_t *r, int32_t zp, int32_t lo, int32_t hi,
                        uint8_t *y, uint32_t n) {
  requant_row_p(acc, bias, r, zp, lo, hi, y, n, 0);
}

/* ---------------------------------------------------------------- QuantizeLinear / DequantizeLinear */

/*
 * The shared layout of both ops, ints = [outer, len, inner, block, s_outer, s_axis, s_inner]:
 * element (o, c, i) of x (viewed as [outer, len, inner]) uses scale and zero point number
 * o * s_outer + (c / block) * s_axis + i * s_inner. Per-tensor: [1, 1, size, 1, 0, 0, 0];
 * per-axis: [outer, len, inner, 1, 0, 1, 0]; blocked: [outer, len, inner, B, ceil(len/B) * inner,
 * inner, 1].
 */
typedef struct {
  uint32_t outer, len, inner, block, s_outer, s_axis, s_inner;
} qdq_layout;

static int qdq_layout_of(const opml_node *n, qdq_layout *l) {
  if ((n->n_ints != 7 && n->n_ints != 8) || n->n_in < 2 || !n->in[0] || !n->in[1]) return 0;
  for (int j = 0; j < 7; j++) {
    if (n->ints[j] < 0 || n->ints[j] > 0xFFFFFFFF) return 0;
  }
  l->outer = (uint32_t)n->ints[0];
  l->len = (uint32_t)n->ints[1];
  l->inner = (uint32_t)n->ints[2];
  l->block = (uint32_t)n->ints[3];
  l->s_outer = (uint32_t)n->ints[4];
  l->s_axis = (uint32_t)n->ints[5];
  l->s_inner = (uint32_t)n->ints[6];
  if (l->block == 0 || (uint64_t)l->outer * l->len * l->inner != n->in[0]->size || n->out[0]->size != n->in[0]->size) {
    return 0;
  }
  if (n->in[0]->size == 0) return 1;
  /* every scale and zero point index is in range */
  uint64_t last = (uint64_t)(l->outer - 1) * l->s_outer + (uint64_t)((l->len - 1) / l->block) * l->s_axis +
                  (uint64_t)(l->inner - 1) * l->s_inner;
  const opml_tensor *zp = n->n_in > 2 ? n->in[2] : 0;
  return n->in[1]->size > last && (!zp || zp->size == n->in[1]->size);
}

/* The order-preserving integer key of a non-NaN float (-0 and +0 share key 0), and back. */
static int32_t f32_key(uint32_t u) { return (u >> 31) ? -(int32_t)(u & 0x7FFFFFFF) : (int32_t)u; }
static float key_f32(int64_t k) { return opml_bits_f32(k >= 0 ? (uint32_t)k : 0x80000000u | (uint32_t)-k); }

#define KEY_NEG_INF (-(int64_t)0x7F800000)
#define KEY_POS_INF ((int64_t)0x7F800000)

/* One QuantizeLinear result: saturate(roundeven(x / s) + z), float32 division; NaN gives z. */
static int32_t quantize_one(float x, float s, int32_t z, int32_t lo, int32_t hi) { return round_sat(x / s, z, 0, lo, hi); }

/*
 * For one scale s (> 0, finite) and 8-bit output: thr[i] = the smallest key whose float quantizes
 * to at least lo + 1 + i (i < 255), thr[255] = INT32_MAX. quantize_one is non-decreasing in x,
 * so each threshold is found by evaluating it: from the float nearest the real boundary
 * (k - z - 1/2) * s, a doubling search for a bracket, then bisection (a few divisions each).
 */
static void quantize_thresholds(float s, int32_t z, int32_t lo, int32_t hi, int32_t *thr) {
  for (int32_t k = lo + 1; k <= hi; k++) {
    int64_t g = f32_key(opml_f32_bits(((float)(k - z) - 0.5f) * s)), a, b, d = 1;
    /* invariant once found: quantize_one(a) < k <= quantize_one(b) (true at -inf and +inf) */
    if (quantize_one(key_f32(g), s, z, lo, hi) >= k) {
      b = g;
      for (a = g - 1; a > KEY_NEG_INF && quantize_one(key_f32(a), s, z, lo, hi) >= k; a = g - d) {
        b = a;
        d *= 2;
        if (g - d < KEY_NEG_INF) d = g - KEY_NEG_INF;
      }
    } else {
      a = g;
      for (b = g + 1; b < KEY_POS_INF && quantize_one(key_f32(b), s, z, lo, hi) < k; b = g + d) {
        a = b;
        d *= 2;
        if (g + d > KEY_POS_INF) d = KEY_POS_INF - g;
      }
    }
    while (b - a > 1) {
      int64_t mid = a + (b - a) / 2;
      if (quantize_one(key_f32(mid), s, z, lo, hi) >= k) b = mid;
      else a = mid;
    }
    thr[k - lo - 1] = (int32_t)b;
  }
  thr[255] = INT32_MAX;
}

/*
 * n values of one scale and zero point to 8 bits through the thresholds: a branch-free binary
 * search of 8 steps per value instead of a float division (the same results, exactly).
 */
static void quantize_run8(const float *x, uint32_t n, float s, int32_t z, int32_t lo, int32_t hi, uint8_t *y) {
  int32_t thr[256];
  int neg = (opml_f32_bits(s) >> 31) != 0; /* an integer test: no float compare in the loop */
  quantize_thresholds(neg ? -s : s, z, lo, hi, thr);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t u = opml_f32_bits(x[i]);
    if ((u & 0x7FFFFFFF) > 0x7F800000) { /* NaN */
      y[i] = (uint8_t)z;
      continue;
    }
    int32_t key = f32_key(u);
    if (neg) key = -key; /* x / s == (-x) / (-s) */
    const int32_t *t = thr;
    t += t[127] <= key ? 128 : 0;
    t += t[63] <= key ? 64 : 0;
    t += t[31] <= key ? 32 : 0;
    t += t[15] <= key ? 16 : 0;
    t += t[7] <= key ? 8 : 0;
    t += t[3] <= key ? 4 : 0;
    t += t[1] <= key ? 2 : 0;
    t += t[0] <= key ? 1 : 0;
    y[i] = (uint8_t)(lo + (int32_t)(t - thr));
  }
}

#if defined(OPML_X86)
/* quantize_one() of 8 floats at a time: the same division, clamps and rounding addition per
 * lane (divps, addps, subps round as divss, addss, subss). Returns how many were done. */
__attribute__((target("avx2"))) static uint32_t quantize_run8_avx2(const float *x, uint32_t n, float s, int32_t z,
                                                                   int32_t lo, int32_t hi, uint8_t *y) {
  const __m256 vs = _mm256_set1_ps(s), flo = _mm256_set1_ps((float)(lo - z)), fhi = _mm256_set1_ps((float)(hi - z));
  const __m256 big = _mm256_set1_ps(12582912.0f), zero = _mm256_setzero_ps();
  const __m256i vz = _mm256_set1_epi32(z);
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i), vs);
    /* if (v > fhi) fhi; else if (v < flo) flo; else if (NaN) 0 */
    const __m256 gt = _mm256_cmp_ps(v, fhi, _CMP_GT_OQ), lt = _mm256_cmp_ps(v, flo, _CMP_LT_OQ);
    const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    v = _mm256_blendv_ps(v, zero, nan);
    v = _mm256_blendv_ps(v, flo, lt);
    v = _mm256_blendv_ps(v, fhi, gt);
    const __m256 r = _mm256_sub_ps(_mm256_add_ps(v, big), big); /* an integer value, exactly */
    store_bytes8(y + i, _mm256_add_epi32(_mm256_cvtps_epi32(r), vz));
  }
  return i;
}
#endif

#if defined(OPML_X86)
/* quantize_run8_avx2 on 16 lanes (AVX-512 F), the last partial vector masked: all n. */
__attribute__((target("avx512f"))) static uint32_t quantize_run8_avx512(const float *x, uint32_t n, float s, int32_t z,
                                                                       int32_t lo, int32_t hi, uint8_t *y) {
  const __m512 vs = _mm512_set1_ps(s), flo = _mm512_set1_ps((float)(lo - z)), fhi = _mm512_set1_ps((float)(hi - z));
  const __m512 big = _mm512_set1_ps(12582912.0f), zero = _mm512_setzero_ps();
  const __m512i vz = _mm512_set1_epi32(z);
  for (uint32_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(k, x + i), vs);
    const __mmask16 gt = _mm512_cmp_ps_mask(v, fhi, _CMP_GT_OQ), lt = _mm512_cmp_ps_mask(v, flo, _CMP_LT_OQ);
    v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v, zero);
    v = _mm512_mask_blend_ps(lt, v, flo);
    v = _mm512_mask_blend_ps(gt, v, fhi);
    const __m512 r = _mm512_sub_ps(_mm512_add_ps(v, big), big); /* an integer value, exactly */
    store_bytes16(y + i, n - i, _mm512_add_epi32(_mm512_cvtps_epi32(r), vz));
  }
  return n;
}
#endif

/* A small float element (float8, float4) as float32, exactly. */
static float small_at(const opml_tensor *t, uint32_t i) { return opml_small_to_f32(t->dtype, ((const uint8_t *)t->data)[i]); }

/*
 * QuantizeLinear to float8 / float4e2m1, as the ONNX reference: v = x / y_scale (float32), plus
 * the zero point for float4e2m1 only (float8 zero points are 0 by the spec and not read), then
 * one rounding to the format (float8 saturating when ints[7] = 1, the default).
 */
static int quantize_small(const opml_node *n, const qdq_layout *l) {
  const opml_tensor *x = n->in[0], *s = n->in[1], *zp = n->n_in > 2 ? n->in[2] : 0;
  opml_tensor *y = n->out[0];
  int sat = n->n_ints > 7 ? n->ints[7] != 0 : 1;
  if (x->dtype != DT_FLOAT || s->dtype != DT_FLOAT || opml_dtype_size(y->dtype) != 1) return OPML_EDTYPE;
  if (zp && zp->dtype != y->dtype) return OPML_EDTYPE;
  const float *xv = (const float *)x->data, *sv = (const float *)s->data;
  uint32_t e = 0;
  for (uint32_t o = 0; o < l->outer; o++) {
    for (uint32_t c = 0; c < l->len; c++) {
      uint32_t base = o * l->s_outer + (c / l->block) * l->s_axis;
      for (uint32_t i = 0; i < l->inner; i++, e++) {
        uint32_t k = base + i * l->s_inner;
        float v = xv[e] / sv[k];
        if (zp && y->dtype == DT_F4E2M1) v = v + small_at(zp, k);
        ((uint8_t *)y->data)[e] = (uint8_t)opml_small_from_f32(y->dtype, v, sat);
      }
    }
  }
  return OPML_OK;
}

/* DequantizeLinear from float8 / float4e2m1: y = (x - x_zero_point) * x_scale in float32. */
static int dequantize_small(const opml_node *n, const qdq_layout *l) {
  const opml_tensor *x = n->in[0], *s = n->in[1], *zp = n->n_in > 2 ? n->in[2] : 0;
  if (opml_dtype_size(x->dtype) != 1 || (zp && zp->dtype != x->dtype)) return OPML_EDTYPE;
  const float *sv = (const float *)s->data;
  float *yv = (float *)n->out[0]->data;
  uint32_t e = 0;
  for (uint32_t o = 0; o < l->outer; o++) {
    for (uint32_t c = 0; c < l->len; c++) {
      uint32_t base = o * l->s_outer + (c / l->block) * l->s_axis;
      for (uint32_t i = 0; i < l->inner; i++, e++) {
        uint32_t k = base + i * l->s_inner;
        yv[e] = (zp ? small_at(x, e) - small_at(zp, k) : small_at(x, e)) * sv[k];
      }
    }
  }
  return OPML_OK;
}

/*
 * y = saturate(roundeven(x / y_scale) + y_zero_point): float32 division, NaN gives the zero
 * point. Long 8-bit runs with one finite non-zero scale go through quantize_run8.
 */
static int k_quantize(const opml_node *n) {
  const opml_tensor *x = n->in[0], *s = n->in[1], *zp = n->n_in > 2 ? n->in[2] : 0;
  opml_tensor *y = n->out[0];
  qdq_layout l;
  int32_t lo, hi;
  if (!qdq_layout_of(n, &l)) return OPML_EATTR;
  if (opml_is_small_float(y->dtype)) return quantize_small(n, &l);
  if (x->dtype != DT_FLOAT || s->dtype != DT_FLOAT || !int_range(y->dtype, &lo, &hi)) return OPML_EDTYPE;
  if (zp && zp->dtype != y->dtype) return OPML_EDTYPE;
  const float *xv = (const float *)x->data, *sv = (const float *)s->data;
  uint32_t e = 0;
  for (uint32_t o = 0; o < l.outer; o++) {
    for (uint32_t c = 0; c < l.len; c++) {
      uint32_t base = o * l.s_outer + (c / l.block) * l.s_axis;
      float s0 = sv[base];
      uint32_t mag = opml_f32_bits(s0) & 0x7FFFFFFF;
      if (l.s_inner == 0 && is_8bit(y->dtype) && l.inner >= 1024 && mag != 0 && mag < 0x7F800000) {
        const int32_t z0 = zp ? get_int(zp, base) : 0;
        uint32_t done = 0;
#if defined(OPML_X86)
        if (opml_use_avx512()) done = quantize_run8_avx512(xv + e, l.inner, s0, z0, lo, hi, (uint8_t *)y->data + e);
        else if (opml_use_avx2()) done = quantize_run8_avx2(xv + e, l.inner, s0, z0, lo, hi, (uint8_t *)y->data + e);
#endif
        if (!done) quantize_run8(xv + e, l.inner, s0, z0, lo, hi, (uint8_t *)y->data + e);
        for (uint32_t i = done ? done : l.inner; i < l.inner; i++) {
          ((uint8_t *)y->data)[e + i] = (uint8_t)quantize_one(xv[e + i], s0, z0, lo, hi); /* the tail */
        }
        e += l.inner;
        continue;
      }
      for (uint32_t i = 0; i < l.inner; i++, e++) {
        uint32_t k = base + i * l.s_inner;
        put_int(y, e, quantize_one(xv[e], sv[k], zp ? get_int(zp, k) : 0, lo, hi));
      }
    }
  }
  return OPML_OK;
}

/* x - zp as float: exact for 8/16-bit x; int32 x is subtracted in 64 bits and rounded once. */
static float centred(int32_t x, int32_t z) { return (float)((int64_t)x - z); }

#if defined(OPML_X86)
/* A run of y = float(x - z) * s (one scale) 16 at a time: the exact integer difference converted
 * (|x - z| <= 510, exact) and one float32 multiply per lane, as the scalar code. Returns how many. */
__attribute__((target("avx512f"))) static uint32_t dequantize_run_avx512(const uint8_t *x, int u8, uint32_t n,
                                                                         int32_t z, float s, float *y) {
  const __m512i vz = _mm512_set1_epi32(z);
  const __m512 vs = _mm512_set1_ps(s);
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(x + i));
    const __m512i w = u8 ? _mm512_cvtepu8_epi32(v) : _mm512_cvtepi8_epi32(v);
    _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(w, vz)), vs));
  }
  return i;
}
#endif

/* y = float(x - x_zero_point) * x_scale (float32 product). */
static int k_dequantize(const opml_node *n) {
  const opml_tensor *x = n->in[0], *s = n->in[1], *zp = n->n_in > 2 ? n->in[2] : 0;
  opml_tensor *y = n->out[0];
  qdq_layout l;
  int32_t lo, hi;
  if (!qdq_layout_of(n, &l)) return OPML_EATTR;
  if (s->dtype != DT_FLOAT || y->dtype != DT_FLOAT) return OPML_EDTYPE;
  if (opml_is_small_float(x->dtype)) return dequantize_small(n, &l);
  if (x->dtype != DT_INT32 && !int_range(x->dtype, &lo, &hi)) return OPML_EDTYPE;
  if (zp && zp->dtype != x->dtype) return OPML_EDTYPE;
  const float *sv = (const float *)s->data;
  float *yv = (float *)y->data;
  uint32_t e = 0;
  for (uint32_t o = 0; o < l.outer; o++) {
    for (uint32_t c = 0; c < l.len; c++) {
      uint32_t base = o * l.s_outer + (c / l.block) * l.s_axis;
      if (l.s_inner == 0 && is_8bit(x->dtype) && l.inner >= 256) {
        /* one scale for the whole run: a table of the 256 possible results (same bits) */
        float table[256];
        int32_t z = zp ? get_int(zp, base) : 0, off = x->dtype == DT_INT8 ? 128 : 0;
#if defined(OPML_X86)
        if (opml_use_avx512()) {
          const uint32_t done = dequantize_run_avx512((const uint8_t *)x->data + e, x->dtype == DT_UINT8, l.inner, z,
                                                      sv[base], yv + e);
          for (uint32_t i = done; i < l.inner; i++) yv[e + i] = centred(get_int(x, e + i), z) * sv[base];
          e += l.inner;
          continue;
        }
#endif
        for (int32_t v = 0; v < 256; v++) table[v] = centred(v - off, z) * sv[base];
        if (x->dtype == DT_UINT8) {
          const uint8_t *xs = (const uint8_t *)x->data + e;
          for (uint32_t i = 0; i < l.inner; i++) yv[e + i] = table[xs[i]];
        } else {
          const int8_t *xs = (const int8_t *)x->data + e;
          for (uint32_t i = 0; i < l.inner; i++) yv[e + i] = table[xs[i] + 128];
        }
        e += l.inner;
        continue;
      }
      for (uint32_t i = 0; i < l.inner; i++, e++) {
        uint32_t k = base + i * l.s_inner;
        yv[e] = centred(get_int(x, e), zp ? get_int(zp, k) : 0) * sv[k];
      }
    }
  }
  return OPML_OK;
}

/* ---------------------------------------------------------------- the int16 GEMM core */

/*
 * acc[r * rs + c * cs] = sum_k w(r, k) * x[c * K + k] for r < R, c < C, exactly (mod 2^32, so
 * no order of the additions can change a bit). Operands are zero-point-corrected 8-bit values as
 * int16 (|v| <= 255, so a product and the sum of two fit in int32). w is packed in blocks of
 * rows; the block is the vector of independent outputs.
 *
 * Native (x86-64): blocks of 8 rows, columns k in pairs: row r, column k at
 * wp[(r / 8) * 8 * K2 + (k / 2) * 16 + (r % 8) * 2 + k % 2], K2 = K rounded up to even, the
 * padding (rows >= R, column K when K is odd) zero. With AVX2 one vpmaddwd multiplies a pair of
 * columns of 8 rows by a broadcast pair of x and adds the two products of each row (16
 * multiply-accumulates per instruction), in tiles of 16 rows by 4 columns; without AVX2 plain C
 * over the same layout. An odd K reads x[c * K + K] (times a zero weight): callers leave a slack
 * element after x.
 * MIPS: 4-row blocks, row r, column k at wp[(r / 4) * 4 * K + k * 4 + r % 4], and 4 x 2
 * explicit accumulators that stay in registers (about 3.1 instructions per multiply-accumulate).
 */
#if defined(OPML_X86)

#define KPAD(K) (((K) + 1u) & ~1u)

/* Writes block sums s[c][j] (row rb + j, column c0 + c) for j < nr. */
static void store_block(int32_t *acc, size_t rs, size_t cs, uint32_t rb, uint32_t nr, uint32_t c0, uint32_t nc,
                        const int32_t s[][8]) {
  for (uint32_t c = 0; c < nc; c++) {
    for (uint32_t j = 0; j < nr; j++) acc[(rb + j) * rs + (c0 + c) * cs] = s[c][j];
  }
}

/* NB blocks (8 rows each) by NC columns of x: NB * NC vector accumulators. */
#define I16_TILE(NB, NC)                                                                          \
  __attribute__((target("avx2"))) static void tile_i16_##NB##x##NC(                              \
      const int16_t *w, size_t wstride, const int16_t *x, uint32_t K, int32_t s[NB][NC][8]) {    \
    __m256i acc[NB][NC];                                                                          \
    for (int b = 0; b < NB; b++)                                                                  \
      for (int c = 0; c < NC; c++) acc[b][c] = _mm256_setzero_si256();                            \
    for (uint32_t k = 0; k < K; k += 2) {                                                         \
      __m256i wv[NB];                                                                             \
      for (int b = 0; b < NB; b++) wv[b] = _mm256_loadu_si256((const __m256i *)(w + b * wstride + k * 8)); \
      for (int c = 0; c < NC; c++) {                                                              \
        int32_t pair;                                                                             \
        memcpy(&pair, x + (size_t)c * K + k, 4);                                                  \
        const __m256i xv = _mm256_set1_epi32(pair);                                               \
        for (int b = 0; b < NB; b++) acc[b][c] = _mm256_add_epi32(acc[b][c], _mm256_madd_epi16(wv[b], xv)); \
      }                                                                                           \
    }                                                                                             \
    for (int b = 0; b < NB; b++)                                                                  \
      for (int c = 0; c < NC; c++) _mm256_storeu_si256((__m256i *)s[b][c], acc[b][c]);            \
  }
I16_TILE(2, 4)
I16_TILE(1, 4)
I16_TILE(2, 1)
I16_TILE(1, 1)

typedef struct {
  const int16_t *wp, *x;
  uint32_t R, C, K;
  int32_t *acc;
  size_t rs, cs;
} i16_job;

/* One work item: the row blocks 2 * item and 2 * item + 1, every column. */
static void gemm_i16_avx2_item(void *ctx, size_t item) {
  const i16_job *j = ctx;
  const uint32_t R = j->R, C = j->C, K = j->K, bb = 2 * (uint32_t)item;
  const size_t bs = (size_t)8 * KPAD(K); /* one packed block */
  const int two = bb + 1 < (R + 7) / 8;
  const int16_t *w = j->wp + bb * bs, *x = j->x;
  const uint32_t r0 = bb * 8, n0 = R - r0 < 8 ? R - r0 : 8, n1 = two ? (R - r0 - 8 < 8 ? R - r0 - 8 : 8) : 0;
  int32_t s[2][4][8];
  uint32_t c = 0;
  for (; c + 4 <= C; c += 4) {
    if (two) tile_i16_2x4(w, bs, x + (size_t)c * K, K, s);
    else tile_i16_1x4(w, bs, x + (size_t)c * K, K, s);
    store_block(j->acc, j->rs, j->cs, r0, n0, c, 4, s[0]);
    if (two) store_block(j->acc, j->rs, j->cs, r0 + 8, n1, c, 4, s[1]);
  }
  for (; c < C; c++) {
    int32_t t[2][1][8];
    if (two) tile_i16_2x1(w, bs, x + (size_t)c * K, K, t);
    else tile_i16_1x1(w, bs, x + (size_t)c * K, K, t);
    store_block(j->acc, j->rs, j->cs, r0, n0, c, 1, t[0]);
    if (two) store_block(j->acc, j->rs, j->cs, r0 + 8, n1, c, 1, t[1]);
  }
}

/* Pairs of row blocks on the runtime's threads (each item writes its own rows). */
static void gemm_i16_avx2(const int16_t *wp, uint32_t R, const int16_t *x, uint32_t C, uint32_t K, int32_t *acc,
                          size_t rs, size_t cs) {
  i16_job j = {wp, x, R, C, K, acc, rs, cs};
  opml_parallel(((R + 7) / 8 + 1) / 2, (size_t)R * C * K / 8, gemm_i16_avx2_item, &j);
}

/* The same sums in plain C (hosts without AVX2, and OPML_SIMD=generic). */
static void gemm_i16_plain(const int16_t *wp, uint32_t R, const int16_t *x, uint32_t C, uint32_t K, int32_t *acc,
                           size_t rs, size_t cs) {
  const uint32_t K2 = KPAD(K);
  for (uint32_t rb = 0; rb < R; rb += 8) {
    const int16_t *w = wp + (size_t)rb * K2;
    const uint32_t nr = R - rb < 8 ? R - rb : 8;
    for (uint32_t c = 0; c < C; c++) {
      const int16_t *xc = x + (size_t)c * K;
      uint32_t s[8] = {0};
      for (uint32_t k = 0; k < K; k++) {
        const int32_t a = xc[k];
        const int16_t *wk = w + (size_t)(k / 2) * 16 + k % 2;
        for (int j = 0; j < 8; j++) s[j] += (uint32_t)(wk[2 * j] * a);
      }
      for (uint32_t j = 0; j < nr; j++) acc[(rb + j) * rs + c * cs] = (int32_t)s[j];
    }
  }
}

static void gemm_i16(const int16_t *wp, uint32_t R, const int16_t *x, uint32_t C, uint32_t K, int32_t *acc,
                     size_t rs, size_t cs) {
  if (opml_use_avx2()) gemm_i16_avx2(wp, R, x, C, K, acc, rs, cs);
  else gemm_i16_plain(wp, R, x, C, K, acc, rs, cs);
}

/* Where row r, column k goes in a packed operand. */
static size_t packed_at(uint32_t r, uint32_t k, uint32_t K) {
  return (size_t)(r / 8) * 8 * KPAD(K) + (size_t)(k / 2) * 16 + (r % 8) * 2 + k % 2;
}
/* Bytes of a packed R x K operand of gemm_i16. */
static size_t packed_size(uint32_t R, uint32_t K) { return (size_t)((R + 7) / 8) * 8 * KPAD(K) * sizeof(int16_t); }
#else
/* COLS (2) columns of one 4-row block. */
static void block_cols(const int16_t *w, const int16_t *x, uint32_t K, uint32_t s[2][4]) {
  const int16_t *x0 = x, *x1 = x + K;
  uint32_t s00 = 0, s10 = 0, s20 = 0, s30 = 0, s01 = 0, s11 = 0, s21 = 0, s31 = 0;
  for (uint32_t k = 0; k < K; k++) {
    int32_t a = x0[k], b = x1[k];
    int32_t w0 = w[4 * k], w1 = w[4 * k + 1], w2 = w[4 * k + 2], w3 = w[4 * k + 3];
    s00 += (uint32_t)(w0 * a);
    s10 += (uint32_t)(w1 * a);
    s20 += (uint32_t)(w2 * a);
    s30 += (uint32_t)(w3 * a);
    s01 += (uint32_t)(w0 * b);
    s11 += (uint32_t)(w1 * b);
    s21 += (uint32_t)(w2 * b);
    s31 += (uint32_t)(w3 * b);
  }
  s[0][0] = s00, s[0][1] = s10, s[0][2] = s20, s[0][3] = s30;
  s[1][0] = s01, s[1][1] = s11, s[1][2] = s21, s[1][3] = s31;
}

/* One column of one 4-row block. */
static void block_col(const int16_t *w, const int16_t *x, uint32_t K, uint32_t s[4]) {
  uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (uint32_t k = 0; k < K; k++) {
    int32_t a = x[k];
    s0 += (uint32_t)(w[4 * k] * a);
    s1 += (uint32_t)(w[4 * k + 1] * a);
    s2 += (uint32_t)(w[4 * k + 2] * a);
    s3 += (uint32_t)(w[4 * k + 3] * a);
  }
  s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
}

static void gemm_i16(const int16_t *wp, uint32_t R, const int16_t *x, uint32_t C, uint32_t K, int32_t *acc,
                     size_t rs, size_t cs) {
  for (uint32_t rb = 0; rb < R; rb += 4) {
    const int16_t *w = wp + (size_t)rb * K;
    uint32_t nr = R - rb < 4 ? R - rb : 4;
    uint32_t c = 0;
    for (; c + 2 <= C; c += 2) {
      uint32_t s[2][4];
      block_cols(w, x + (size_t)c * K, K, s);
      for (uint32_t j = 0; j < nr; j++) {
        for (uint32_t i = 0; i < 2; i++) acc[(rb + j) * rs + (c + i) * cs] = (int32_t)s[i][j];
      }
    }
    for (; c < C; c++) {
      uint32_t s[4];
      block_col(w, x + (size_t)c * K, K, s);
      for (uint32_t j = 0; j < nr; j++) acc[(rb + j) * rs + c * cs] = (int32_t)s[j];
    }
  }
}

static size_t packed_at(uint32_t r, uint32_t k, uint32_t K) { return (size_t)(r / 4) * 4 * K + (size_t)k * 4 + r % 4; }
/* Bytes of a packed R x K operand of gemm_i16. */
static size_t packed_size(uint32_t R, uint32_t K) { return (size_t)((R + 3) / 4) * 4 * K * sizeof(int16_t); }
#endif

/*
 * Packs rows r < R of an 8-bit matrix whose element (r, k) is at t[start + r * rstride + k * kstride],
 * minus the row's zero point (zp: absent, one value, or one per row, row r using zp[zp0 + r]).
 */
static void pack_rows(const opml_tensor *t, size_t start, size_t rstride, size_t kstride, uint32_t R, uint32_t K,
                      const opml_tensor *zp, uint32_t zp0, int16_t *wp) {
  const size_t total = packed_size(R, K) / sizeof(int16_t);
  for (size_t i = 0; i < total; i++) wp[i] = 0; /* padding rows and columns */
  for (uint32_t r = 0; r < R; r++) {
    int32_t z = zero_point(zp, zp0 + r);
    size_t at = start + r * rstride;
    if (t->dtype == DT_UINT8) {
      const uint8_t *s = (const uint8_t *)t->data + at;
      for (uint32_t k = 0; k < K; k++) wp[packed_at(r, k, K)] = (int16_t)((int32_t)s[k * kstride] - z);
    } else {
      const int8_t *s = (const int8_t *)t->data + at;
      for (uint32_t k = 0; k < K; k++) wp[packed_at(r, k, K)] = (int16_t)((int32_t)s[k * kstride] - z);
    }
  }
}

/* ---------------------------------------------------------------- MatMulInteger / QLinearMatMul */

/*
 * ints = [M, K, N, R, out_batch[R], a_batch_stride[R], b_batch_stride[R]]: the batch dimensions
 * of the output and, per dimension, the matrix stride of A and B (0 where broadcast).
 */
typedef struct {
  uint32_t M, K, N, rank, batches;
  const int64_t *dims, *as, *bs;
} mm_layout;

static int mm_layout_of(const opml_node *n, uint32_t b_input, mm_layout *l) {
  if (n->n_ints < 4 || n->n_in <= b_input || !n->in[0] || !n->in[b_input]) return 0;
  for (uint32_t j = 0; j < n->n_ints; j++) {
    if (n->ints[j] < 0 || n->ints[j] > 0xFFFFFFFF) return 0;
  }
  l->M = (uint32_t)n->ints[0];
  l->K = (uint32_t)n->ints[1];
  l->N = (uint32_t)n->ints[2];
  l->rank = (uint32_t)n->ints[3];
  if (l->rank > OPML_MAX_RANK || n->n_ints != 4 + 3 * l->rank) return 0;
  l->dims = n->ints + 4;
  l->as = l->dims + l->rank;
  l->bs = l->as + l->rank;
  /* the batch count, the last matrix of A and of B, and the output size agree with the tensors */
  uint64_t batches = 1, la = 0, lb = 0, mk = (uint64_t)l->M * l->K, kn = (uint64_t)l->K * l->N;
  for (uint32_t d = 0; d < l->rank; d++) {
    if (l->dims[d] == 0) return 0;
    batches *= (uint64_t)l->dims[d];
    la += (uint64_t)(l->dims[d] - 1) * (uint64_t)l->as[d];
    lb += (uint64_t)(l->dims[d] - 1) * (uint64_t)l->bs[d];
  }
  const opml_tensor *A = n->in[0], *B = n->in[b_input];
  if (batches > 0xFFFFFFFF || batches * l->M * l->N != n->out[0]->size) return 0;
  if ((la + 1) * mk > A->size || (lb + 1) * kn > B->size) return 0;
  l->batches = (uint32_t)batches;
  return 1;
}

/* The matrix indices of A and B for output batch b. */
static void mm_batch(const mm_layout *l, uint32_t b, size_t *ia, size_t *ib) {
  *ia = 0;
  *ib = 0;
  for (uint32_t d = l->rank; d-- > 0;) {
    uint32_t dim = (uint32_t)l->dims[d], i = b % dim;
    b /= dim;
    *ia += i * (size_t)l->as[d];
    *ib += i * (size_t)l->bs[d];
  }
}

/*
 * acc[n] = sum_k a[k] * (B[k, n] - b_zp[n]) for one row a (zero-point-corrected) and one K x N
 * 8-bit matrix at element b0 of B: rows of B streamed four at a time, the zero point applied
 * once per column as b_zp[n] * sum_k a[k] (exact mod 2^32). No packing: for a few rows of A this
 * is cheaper than gemm_i16 (about 5 MIPS instructions per multiply-accumulate). The loop over n
 * runs across independent outputs, in chunks of 16 the native build vectorises.
 */
#define ROWS4(NAME, T)                                                                              \
  static void NAME(const T *restrict r0, const T *restrict r1, const T *restrict r2, const T *restrict r3, \
                   int16_t a0, int16_t a1, int16_t a2, int16_t a3, uint32_t N, uint32_t *restrict acc) {   \
    uint32_t n = 0;                                                                                 \
    for (; n + 16 <= N; n += 16) {                                                                  \
      const T *q0 = r0 + n, *q1 = r1 + n, *q2 = r2 + n, *q3 = r3 + n;                               \
      uint32_t *ac = acc + n;                                                                       \
      for (int j = 0; j < 16; j++) {                                                                \
        int16_t b0 = q0[j], b1 = q1[j], b2 = q2[j], b3 = q3[j];                                     \
        ac[j] += (uint32_t)(a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3);                                 \
      }                                                                                             \
    }                                                                                               \
    for (; n < N; n++) acc[n] += (uint32_t)(a0 * r0[n] + a1 * r1[n] + a2 * r2[n] + a3 * r3[n]);      \
  }
ROWS4(rows4_u8, uint8_t)
ROWS4(rows4_i8, int8_t)

static void row_times_b(const int16_t *a, const opml_tensor *B, size_t b0, uint32_t K, uint32_t N,
                        const opml_tensor *bzp, uint32_t *acc) {
  uint32_t asum = 0, k = 0;
  for (uint32_t n = 0; n < N; n++) acc[n] = 0;
  for (uint32_t i = 0; i < K; i++) asum += (uint32_t)a[i];
  for (; k + 4 <= K; k += 4) {
    size_t r = b0 + (size_t)k * N;
    if (B->dtype == DT_UINT8) {
      const uint8_t *r0 = (const uint8_t *)B->data + r;
      rows4_u8(r0, r0 + N, r0 + 2 * N, r0 + 3 * N, a[k], a[k + 1], a[k + 2], a[k + 3], N, acc);
    } else {
      const int8_t *r0 = (const int8_t *)B->data + r;
      rows4_i8(r0, r0 + N, r0 + 2 * N, r0 + 3 * N, a[k], a[k + 1], a[k + 2], a[k + 3], N, acc);
    }
  }
  for (; k < K; k++) {
    for (uint32_t n = 0; n < N; n++) acc[n] += (uint32_t)(a[k] * get_int(B, (uint32_t)(b0 + (size_t)k * N + n)));
  }
  if (bzp) {
    for (uint32_t n = 0; n < N; n++) acc[n] -= (uint32_t)zero_point(bzp, n) * asum;
  }
}

/*
 * acc (M x N per batch, batch-major) = (A - a_zp) x (B - b_zp) for every batch. a_zp is absent,
 * one value or one per row of A; b_zp absent, one value or one per column of B. With AVX-512
 * VNNI: up to 3 rows of A through matmul_rows_bytes, more through matmul_bytes; otherwise up to 3
 * rows through row_times_b, more through gemm_i16 with B^T packed.
 */
#if defined(OPML_X86)
static int matmul_bytes(const mm_layout *l, const opml_tensor *A, const opml_tensor *B, const opml_tensor *azp,
                        const opml_tensor *bzp, int32_t *out);

static int matmul_rows_bytes(const mm_layout *l, const opml_tensor *A, const opml_tensor *B, const opml_tensor *azp,
                             const opml_tensor *bzp, int32_t *out);
#endif

static int matmul_i32(const mm_layout *l, const opml_tensor *A, const opml_tensor *B, const opml_tensor *azp,
                      const opml_tensor *bzp, int32_t *acc) {
  uint32_t M = l->M, K = l->K, N = l->N;
#if defined(OPML_X86)
  if (pb_use()) return M > 3 ? matmul_bytes(l, A, B, azp, bzp, acc) : matmul_rows_bytes(l, A, B, azp, bzp, acc);
#endif
  int rows = M <= 3;
  size_t n_wp = rows ? 0 : packed_size(N, K) / sizeof(int16_t);
  int16_t *wp = opml_alloc((n_wp + (size_t)M * K) * sizeof(int16_t) + 4);
  if (!wp) return OPML_ENOMEM;
  int16_t *xa = wp + n_wp;
  size_t packed_b = (size_t)-1, widened_a = (size_t)-1;
  for (uint32_t b = 0; b < l->batches; b++) {
    size_t ia, ib;
    mm_batch(l, b, &ia, &ib);
    if (ia != widened_a) {
      for (uint32_t m = 0; m < M; m++) widen8(A, (ia * M + m) * K, 1, K, zero_point(azp, m), xa + (size_t)m * K);
      widened_a = ia;
    }
    int32_t *out = acc + (size_t)b * M * N;
    if (rows) {
      for (uint32_t m = 0; m < M; m++) row_times_b(xa + (size_t)m * K, B, ib * K * N, K, N, bzp, (uint32_t *)out + (size_t)m * N);
      continue;
    }
    if (ib != packed_b) { /* B^T packed by columns, once per distinct B matrix */
      pack_rows(B, ib * K * N, 1, N, N, K, bzp, 0, wp);
      packed_b = ib;
    }
    gemm_i16(wp, N, xa, M, K, out, 1, N);
  }
  opml_free(wp);
  return OPML_OK;
}

static int k_matmul_integer(const opml_node *n) {
  const opml_tensor *A = n->in[0], *B = n->in[1];
  const opml_tensor *azp = n->n_in > 2 ? n->in[2] : 0, *bzp = n->n_in > 3 ? n->in[3] : 0;
  mm_layout l;
  if (!mm_layout_of(n, 1, &l)) return OPML_EATTR;
  if (!is_8bit(A->dtype) || !is_8bit(B->dtype) || n->out[0]->dtype != DT_INT32) return OPML_EDTYPE;
  if ((azp && azp->dtype != A->dtype) || (bzp && bzp->dtype != B->dtype)) return OPML_EDTYPE;
  if (!param_ok(azp, l.M) || !param_ok(bzp, l.N)) return OPML_EATTR;
  return matmul_i32(&l, A, B, azp, bzp, (int32_t *)n->out[0]->data);
}

/* The float32 scale at index i (one value broadcasts). */
static float scale_at(const opml_tensor *s, uint32_t i) { return ((const float *)s->data)[s->size == 1 ? 0 : i]; }

/*
 * Inputs a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp. a's scale and zero point are per
 * tensor; b's per tensor or per column; y per tensor. Column n requantises with
 * (a_scale * b_scale[n]) / y_scale.
 */
static int k_qlinear_matmul(const opml_node *n) {
  const opml_tensor *A = n->in[0], *as = n->in[1], *azp = n->in[2], *B = n->in[3], *bs = n->in[4];
  const opml_tensor *bzp = n->in[5], *ys = n->in[6], *yzp = n->in[7];
  opml_tensor *Y = n->out[0];
  mm_layout l;
  int32_t lo, hi;
  if (n->n_in != 8 || !mm_layout_of(n, 3, &l) || !n->in[1] || !n->in[4] || !n->in[6]) return OPML_EATTR;
  if (!is_8bit(A->dtype) || !is_8bit(B->dtype) || !is_8bit(Y->dtype) || !int_range(Y->dtype, &lo, &hi)) return OPML_EDTYPE;
  if (as->dtype != DT_FLOAT || bs->dtype != DT_FLOAT || ys->dtype != DT_FLOAT) return OPML_EDTYPE;
  if ((azp && azp->dtype != A->dtype) || (bzp && bzp->dtype != B->dtype) || (yzp && yzp->dtype != Y->dtype)) {
    return OPML_EDTYPE;
  }
  if (!param_ok(azp, 1) || !param_ok(bzp, l.N) || !param_ok(yzp, 1) || as->size != 1 || !param_ok(bs, l.N) || ys->size != 1) {
    return OPML_EATTR;
  }
  size_t total = (size_t)l.batches * l.M * l.N;
  requant_t *rq = opml_alloc((size_t)l.N * sizeof(requant_t) + total * sizeof(int32_t) + 4);
  if (!rq) return OPML_ENOMEM;
  int32_t *acc = (int32_t *)(rq + l.N);
  int err = matmul_i32(&l, A, B, azp, bzp, acc);
  if (!err) {
    float a_scale = scale_at(as, 0), y_scale = scale_at(ys, 0);
    int32_t z = zero_point(yzp, 0);
    uint8_t *y = (uint8_t *)Y->data; /* int8 and uint8 values in range have the same low byte */
    for (uint32_t j = 0; j < l.N; j++) rq[j] = requant_make((a_scale * scale_at(bs, j)) / y_scale);
    for (size_t row = 0; row < total; row += l.N) {
      for (uint32_t j = 0; j < l.N; j++) y[row + j] = (uint8_t)requant(acc[row + j], &rq[j], z, lo, hi);
    }
  }
  opml_free(rq);
  return err;
}

/* ---------------------------------------------------------------- QLinearConv */

/*
 * ints = [N, C, H, W, M, OH, OW, KH, KW, group, pad_top, pad_left, stride_h, stride_w,
 * dilation_h, dilation_w]; inputs x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B (int32,
 * optional). w_scale and w_zp are per tensor or per output channel.
 */
typedef struct {
  uint32_t N, C, H, W, M, OH, OW, KH, KW, G, pt, pl, sh, sw, dh, dw;
} conv_layout;

static int conv_layout_of(const opml_node *n, conv_layout *l) {
  if (n->n_ints != 16 || !n->in[0] || !n->in[1] || !n->in[3] || !n->in[4] || !n->in[6]) return 0;
  uint32_t v[16];
  for (int j = 0; j < 16; j++) {
    if (n->ints[j] < 0 || n->ints[j] > 0xFFFFFFF) return 0;
    v[j] = (uint32_t)n->ints[j];
  }
  *l = (conv_layout){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
  if (l->G == 0 || l->C % l->G || l->M % l->G || !l->sh || !l->sw || !l->dh || !l->dw) return 0;
  if (!l->OH || !l->OW || !l->KH || !l->KW) return 0;
  const opml_tensor *ws = n->in[4], *wzp = n->in[5], *bias = n->in[8];
  return (uint64_t)l->N * l->C * l->H * l->W == n->in[0]->size &&
         (uint64_t)l->M * (l->C / l->G) * l->KH * l->KW == n->in[3]->size &&
         (uint64_t)l->N * l->M * l->OH * l->OW == n->out[0]->size && param_ok(ws, l->M) && param_ok(wzp, l->M) &&
         (!bias || bias->size == l->M) && param_ok(n->in[1], 1) && param_ok(n->in[2], 1) && param_ok(n->in[6], 1) &&
         param_ok(n->in[7], 1);
}

/* The output columns [*a, *b) whose input column ow * sw + off lies in [0, W). */
static void inside_range(const conv_layout *l, int32_t off, uint32_t *a, uint32_t *b) {
  int32_t sw = (int32_t)l->sw, first = off >= 0 ? 0 : (-off + sw - 1) / sw;
  int32_t last = (int32_t)l->W - 1 - off; /* ow * sw <= last */
  *a = (uint32_t)first;
  *b = last < 0 ? 0 : (uint32_t)(last / sw + 1);
  if (*b > l->OW) *b = l->OW;
  if (*a > *b) *a = *b;
}

/*
 * Patches of one image and group as rows of K = Cg * KH * KW int16 values (x - x_zp; 0 in the
 * padding): row p = oh * OW + ow, column (ci * KH + kh) * KW + kw, the weights' own order.
 */
static void im2col(const conv_layout *l, const opml_tensor *x, size_t x0, uint32_t Cg, int32_t zx, int16_t *col) {
  uint32_t K = Cg * l->KH * l->KW, HW = l->H * l->W, OW = l->OW;
  for (uint32_t ci = 0; ci < Cg; ci++) {
    for (uint32_t kh = 0; kh < l->KH; kh++) {
      for (uint32_t kw = 0; kw < l->KW; kw++) {
        int32_t off = (int32_t)(kw * l->dw) - (int32_t)l->pl;
        uint32_t a, b, k = (ci * l->KH + kh) * l->KW + kw;
        inside_range(l, off, &a, &b);
        for (uint32_t oh = 0; oh < l->OH; oh++) {
          int32_t ih = (int32_t)(oh * l->sh + kh * l->dh) - (int32_t)l->pt;
          int16_t *dst = col + (size_t)oh * OW * K + k;
          uint32_t ow = 0;
          if (ih >= 0 && ih < (int32_t)l->H) {
            /* the first inside column's input index (>= 0 by the choice of a) */
            size_t at = (size_t)((int64_t)(x0 + ci * HW + (uint32_t)ih * l->W) + (int64_t)a * l->sw + off);
            for (; ow < a; ow++) dst[(size_t)ow * K] = 0;
            if (x->dtype == DT_UINT8) {
              const uint8_t *src = (const uint8_t *)x->data + at;
              for (; ow < b; ow++, src += l->sw) dst[(size_t)ow * K] = (int16_t)(*src - zx);
            } else {
              const int8_t *src = (const int8_t *)x->data + at;
              for (; ow < b; ow++, src += l->sw) dst[(size_t)ow * K] = (int16_t)(*src - zx);
            }
          }
          for (; ow < OW; ow++) dst[(size_t)ow * K] = 0;
        }
      }
    }
  }
}

/* The per-output-channel requantisation of one conv output: bias, multiplier, zero point. */
typedef struct {
  uint32_t bias;
  int32_t zp, lo, hi;
  requant_t rq;
} conv_out;

/* 3x3 depthwise sums (unit dilation) of outputs [ow0, OW) of one output row, rows r0, r0 + PW,
 * r0 + 2 PW of the padded plane; exact (mod 2^32). */
static void dw3x3_row(const int16_t *r0, size_t PW, const int16_t *wk, uint32_t sw, uint32_t ow0, uint32_t OW,
                      uint32_t bias, int32_t *row) {
  const int32_t w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3], w4 = wk[4], w5 = wk[5], w6 = wk[6], w7 = wk[7], w8 = wk[8];
  const int16_t *r1 = r0 + PW, *r2 = r1 + PW;
  for (uint32_t ow = ow0; ow < OW; ow++) {
    const size_t i = (size_t)ow * sw;
    uint32_t s = bias + (uint32_t)(w0 * r0[i]) + (uint32_t)(w1 * r0[i + 1]) + (uint32_t)(w2 * r0[i + 2]);
    s += (uint32_t)(w3 * r1[i]) + (uint32_t)(w4 * r1[i + 1]) + (uint32_t)(w5 * r1[i + 2]);
    s += (uint32_t)(w6 * r2[i]) + (uint32_t)(w7 * r2[i + 1]) + (uint32_t)(w8 * r2[i + 2]);
    row[ow] = (int32_t)s;
  }
}

#if defined(OPML_X86)
/* 8 int16 at p, stride 1 or 2, as int32 lanes (stride 2 reads p[0..16)). */
__attribute__((target("avx2"))) static inline __m256i load8_i16(const int16_t *p, uint32_t sw) {
  if (sw == 1) return _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)p));
  const __m256i v = _mm256_loadu_si256((const __m256i *)p);
  return _mm256_srai_epi32(_mm256_slli_epi32(v, 16), 16); /* the low (even) int16 of each pair */
}

__attribute__((target("avx2"))) static uint32_t dw3x3_row_avx2(const int16_t *r0, size_t PW, const int16_t *wk,
                                                               uint32_t sw, uint32_t OW, uint32_t bias, int32_t *row,
                                                               int padded) {
  __m256i w[9];
  for (int t = 0; t < 9; t++) w[t] = _mm256_set1_epi32(wk[t]);
  uint32_t ow = 0;
  /* stride 2 reads one int16 past the last tap of the chunk: keep it inside the row; with
   * padded, the caller's slack lets the last chunk run past OW (row and plane, DW_SLACK) */
  for (; padded ? ow < OW : ow + 8 + (sw == 2) <= OW; ow += 8) {
    __m256i s = _mm256_set1_epi32((int32_t)bias);
    for (int kh = 0; kh < 3; kh++) {
      const int16_t *r = r0 + kh * PW + (size_t)ow * sw;
      for (int kw = 0; kw < 3; kw++) s = _mm256_add_epi32(s, _mm256_mullo_epi32(w[kh * 3 + kw], load8_i16(r + kw, sw)));
    }
    _mm256_storeu_si256((__m256i *)(row + ow), s);
  }
  return ow;
}

/* dw3x3_row_avx2 on 16 lanes (AVX-512 F), padded: the last chunk writes up to 15 past OW and reads
 * up to 31 int16 past its last tap (stride 2). */
__attribute__((target("avx512f"))) static uint32_t dw3x3_row_avx512(const int16_t *r0, size_t PW, const int16_t *wk,
                                                                    uint32_t sw, uint32_t OW, uint32_t bias,
                                                                    int32_t *row) {
  __m512i w[9];
  for (int t = 0; t < 9; t++) w[t] = _mm512_set1_epi32(wk[t]);
  uint32_t ow = 0;
  for (; ow < OW; ow += 16) {
    __m512i s = _mm512_set1_epi32((int32_t)bias);
    for (int kh = 0; kh < 3; kh++) {
      const int16_t *r = r0 + kh * PW + (size_t)ow * sw;
      for (int kw = 0; kw < 3; kw++) {
        __m512i v;
        if (sw == 1) v = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(r + kw)));
        else v = _mm512_srai_epi32(_mm512_slli_epi32(_mm512_loadu_si512((const void *)(r + kw)), 16), 16);
        s = _mm512_add_epi32(s, _mm512_mullo_epi32(w[kh * 3 + kw], v));
      }
    }
    _mm512_storeu_si512((void *)(row + ow), s);
  }
  return ow;
}
#endif

/* The outputs dw3x3_row_avx2 computed (0 without AVX2 or for strides other than 1 and 2). */
static uint32_t dw3x3_row_fast(const int16_t *r0, size_t PW, const int16_t *wk, uint32_t sw, uint32_t OW, uint32_t bias,
                               int32_t *row) {
#if defined(OPML_X86)
  if ((sw == 1 || sw == 2) && opml_use_avx512()) return dw3x3_row_avx512(r0, PW, wk, sw, OW, bias, row);
  if ((sw == 1 || sw == 2) && opml_use_avx2()) return dw3x3_row_avx2(r0, PW, wk, sw, OW, bias, row, 1);
#endif
  (void)r0, (void)PW, (void)wk, (void)sw, (void)OW, (void)bias, (void)row;
  return 0;
}

#if defined(OPML_X86)
/* The padded plane of depthwise() 32 int16 at a time (AVX-512 BW): x's bytes by a masked load
 * (the padding's lanes masked off: 0, never read), minus zx on the inside lanes. Writes up to 31
 * past the plane (DW_SLACK). */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) static void dw_plane_avx512(const conv_layout *l,
                                                                                      const uint8_t *x, int u8,
                                                                                      int32_t zx, uint32_t PH,
                                                                                      uint32_t PW, int16_t *plane) {
  const __m512i vz = _mm512_set1_epi16((int16_t)zx);
  const uint32_t pl = l->pl, W = l->W;
  for (uint32_t ph = 0; ph < PH; ph++) {
    const int32_t ih = (int32_t)ph - (int32_t)l->pt;
    int16_t *dst = plane + (size_t)ph * PW;
    const int inside = ih >= 0 && ih < (int32_t)l->H;
    for (uint32_t c = 0; c < PW; c += 32) {
      /* lanes c + i with pl <= c + i < pl + W read x[ih * W + c + i - pl] */
      uint32_t from = c < pl ? pl - c : 0, to = pl + W > c ? pl + W - c : 0;
      if (to > 32) to = 32;
      __mmask32 m = 0;
      if (inside && from < to) m = (__mmask32)((to - from == 32 ? 0xFFFFFFFFu : ((1u << (to - from)) - 1)) << from);
      const __m256i b = _mm256_maskz_loadu_epi8(m, x + (ptrdiff_t)ih * W + (ptrdiff_t)c - (ptrdiff_t)pl);
      const __m512i v = u8 ? _mm512_cvtepu8_epi16(b) : _mm512_cvtepi8_epi16(b);
      _mm512_storeu_si512((void *)(dst + c), _mm512_maskz_sub_epi16(m, v, vz));
    }
  }
}
#endif

/*
 * Depthwise (one input and one output channel per group): the padded plane of (x - x_zp) as
 * int16, then a direct sliding window requantised on the fly: KH * KW multiply-accumulates per
 * output, no patch copy. 3x3 with unit dilation (the common case) keeps its weights in registers
 * and sums the whole plane into acc ([OH * OW] plus DW_ACC_SLACK) before one requantisation.
 */
static void depthwise(const conv_layout *l, const opml_tensor *x, size_t x0, int32_t zx, const int16_t *wk,
                      int16_t *plane, int32_t *acc, const conv_out *o, uint8_t *y) {
  uint32_t PH = (l->OH - 1) * l->sh + (l->KH - 1) * l->dh + 1, PW = (l->OW - 1) * l->sw + (l->KW - 1) * l->dw + 1;
  int built = 0;
#if defined(OPML_X86)
  if (pb_use()) {
    dw_plane_avx512(l, (const uint8_t *)x->data + x0, x->dtype == DT_UINT8, zx, PH, PW, plane);
    built = 1;
  }
#endif
  for (uint32_t ph = built ? PH : 0; ph < PH; ph++) {
    int32_t ih = (int32_t)ph - (int32_t)l->pt;
    int16_t *dst = plane + (size_t)ph * PW;
    uint32_t pw = 0;
    if (ih >= 0 && ih < (int32_t)l->H) {
      for (; pw < PW && pw < l->pl; pw++) dst[pw] = 0;
      uint32_t n = l->W;
      if (pw + n > PW) n = PW - pw;
      if (pw < PW) widen8(x, x0 + (uint32_t)ih * l->W, 1, n, zx, dst + pw);
      pw += n;
    }
    for (; pw < PW; pw++) dst[pw] = 0;
  }
  const requant_t rq = o->rq;
  const int32_t zp = o->zp, lo = o->lo, hi = o->hi;
  const uint32_t bias = o->bias, sw = l->sw, OW = l->OW;
  if (l->KH == 3 && l->KW == 3 && l->dh == 1 && l->dw == 1) {
    /* rows in order: a row's vector tail runs into the next row, which then overwrites it */
    for (uint32_t oh = 0; oh < l->OH; oh++) {
      const int16_t *r0 = plane + (size_t)oh * l->sh * PW;
      int32_t *row = acc + (size_t)oh * OW;
      uint32_t ow = dw3x3_row_fast(r0, PW, wk, sw, OW, bias, row);
      dw3x3_row(r0, PW, wk, sw, ow, OW, bias, row);
    }
    requant_row_p(acc, 0, &rq, zp, lo, hi, y, l->OH * OW, 1);
    return;
  }
  for (uint32_t oh = 0; oh < l->OH; oh++) {
    for (uint32_t ow = 0; ow < OW; ow++) {
      const int16_t *src = plane + (size_t)oh * l->sh * PW + (size_t)ow * sw;
      uint32_t s = bias;
      for (uint32_t kh = 0; kh < l->KH; kh++) {
        const int16_t *r = src + (size_t)kh * l->dh * PW, *wr = wk + kh * l->KW;
        for (uint32_t kw = 0; kw < l->KW; kw++) s += (uint32_t)(wr[kw] * r[kw * l->dw]);
      }
      y[(size_t)oh * OW + ow] = (uint8_t)requant((int32_t)s, &rq, zp, lo, hi);
    }
  }
}

/* Requantisation of output rows (one item per output channel). */
typedef struct {
  const int32_t *acc;
  const conv_out *outs;
  uint8_t *y;
  uint32_t P;
} rq_job;

static void rq_item(void *ctx, size_t r) {
  const rq_job *j = ctx;
  const conv_out *o = &j->outs[r];
  requant_row(j->acc + r * j->P, o->bias, &o->rq, o->zp, o->lo, o->hi, j->y + r * j->P, j->P);
}

/* int16 after a depthwise plane: the last chunk of dw3x3_row_avx512 in the last row reads up to 31
 * past the plane (stride 2; 15 at stride 1; half that with AVX2); int32 after the accumulators:
 * the last row's chunk writes up to 15 past them. */
#define DW_SLACK 72
#define DW_ACC_SLACK 16

/* Depthwise convolution, one item per (channel, image): its own plane, accumulators and weights. */
typedef struct {
  const conv_layout *l;
  const opml_tensor *x, *w, *wzp;
  const conv_out *outs;
  uint8_t *y;
  int32_t zx;
  uint32_t K, P;
  size_t plane;
  int failed;
} dw_job;

static void dw_item(void *ctx, size_t item) {
  dw_job *j = ctx;
  const conv_layout *l = j->l;
  const uint32_t g = (uint32_t)(item / l->N), b = (uint32_t)(item % l->N);
  const size_t n_acc = (size_t)j->P + DW_ACC_SLACK;
  int32_t *acc = opml_alloc(n_acc * sizeof(int32_t) + (j->K + j->plane + DW_SLACK) * sizeof(int16_t) + 8);
  if (!acc) {
    j->failed = 1;
    return;
  }
  int16_t *wk = (int16_t *)(acc + n_acc), *plane = wk + j->K;
  memset(plane + j->plane, 0, DW_SLACK * sizeof(int16_t)); /* read past the plane, results unused */
  widen8(j->w, (size_t)g * j->K, 1, j->K, zero_point(j->wzp, g), wk);
  depthwise(l, j->x, ((size_t)b * l->C + g) * l->H * l->W, j->zx, wk, plane, acc, &j->outs[g],
            j->y + ((size_t)b * l->M + g) * j->P);
  opml_free(acc);
}

#if defined(OPML_X86)
/*
 * Pointwise convolutions (1x1, stride 1, no padding: most of a mobile network's multiply-adds)
 * without im2col: the input [K, P] is already the GEMM's right operand, so the vectors run over
 * the output positions p instead of the output channels. x - x_zp is widened to int16 in pairs
 * of channels, xi[(k / 2) * 2 * P8 + 2 * p + k % 2] (P8 = P rounded up to 8, the padding and an
 * odd K's last channel zero), and one vpmaddwd multiplies 8 positions' pairs by a broadcast pair
 * of weights: tiles of 4 output channels by 16 positions, summed exactly (mod 2^32, so the same
 * bits as gemm_i16), then requantised row by row while the tile's rows are in cache.
 */
#define PW_MR 4

/* xi of one image and group (Cg channels of P positions at x0). */
__attribute__((target("avx2"))) static void pw_widen(const opml_tensor *x, size_t x0, uint32_t K, uint32_t P,
                                                      uint32_t P8, int32_t zx, int16_t *xi) {
  const int u8 = x->dtype == DT_UINT8;
  const uint8_t *base = (const uint8_t *)x->data + x0;
  const __m128i vz = _mm_set1_epi16((int16_t)zx);
  for (uint32_t k = 0; k < K; k += 2) {
    const uint8_t *a = base + (size_t)k * P, *b = k + 1 < K ? a + P : 0;
    int16_t *dst = xi + (size_t)k * P8;
    uint32_t p = 0;
    for (; b && p + 8 <= P; p += 8) {
      __m128i va = _mm_loadl_epi64((const __m128i *)(a + p)), vb = _mm_loadl_epi64((const __m128i *)(b + p));
      va = _mm_sub_epi16(u8 ? _mm_cvtepu8_epi16(va) : _mm_cvtepi8_epi16(va), vz);
      vb = _mm_sub_epi16(u8 ? _mm_cvtepu8_epi16(vb) : _mm_cvtepi8_epi16(vb), vz);
      _mm_storeu_si128((__m128i *)(dst + 2 * p), _mm_unpacklo_epi16(va, vb));
      _mm_storeu_si128((__m128i *)(dst + 2 * p + 8), _mm_unpackhi_epi16(va, vb));
    }
    for (; p < P; p++) {
      dst[2 * p] = (int16_t)((u8 ? (int32_t)a[p] : (int32_t)(int8_t)a[p]) - zx);
      dst[2 * p + 1] = b ? (int16_t)((u8 ? (int32_t)b[p] : (int32_t)(int8_t)b[p]) - zx) : 0;
    }
    for (; p < P8; p++) dst[2 * p] = dst[2 * p + 1] = 0;
  }
}

/* acc[r * P8 + p0 + 8v + lane] for r < 4 and NV vectors of 8 positions from p0; MAC(s, x, w) is
 * s + madd(x, w): vpmaddwd and vpaddd (hosts without VNNI: with it, conv_bytes runs instead). */
#define PW_TILE(NAME, TARGET, NV, MAC)                                                                   \
  __attribute__((target(TARGET))) static void NAME(const int16_t *w, uint32_t K2, const int16_t *xi,   \
                                                   uint32_t P8, uint32_t p0, int32_t *acc) {           \
    __m256i s[PW_MR][NV];                                                                                \
    for (int r = 0; r < PW_MR; r++)                                                                      \
      for (int v = 0; v < NV; v++) s[r][v] = _mm256_setzero_si256();                                     \
    for (uint32_t k = 0; k < K2; k += 2) {                                                               \
      const int16_t *xr = xi + (size_t)k * P8 + 2 * (size_t)p0;                                          \
      __m256i xv[NV];                                                                                    \
      for (int v = 0; v < NV; v++) xv[v] = _mm256_loadu_si256((const __m256i *)(xr + 16 * v));          \
      for (int r = 0; r < PW_MR; r++) {                                                                  \
        int32_t pair;                                                                                    \
        memcpy(&pair, w + (size_t)r * K2 + k, 4);                                                        \
        const __m256i wv = _mm256_set1_epi32(pair);                                                      \
        for (int v = 0; v < NV; v++) s[r][v] = MAC(s[r][v], xv[v], wv);                                  \
      }                                                                                                  \
    }                                                                                                    \
    for (int r = 0; r < PW_MR; r++)                                                                      \
      for (int v = 0; v < NV; v++) _mm256_storeu_si256((__m256i *)(acc + (size_t)r * P8 + p0 + 8 * v), s[r][v]); \
  }
#define PW_MAC_AVX2(s, x, w) _mm256_add_epi32((s), _mm256_madd_epi16((x), (w)))
PW_TILE(pw_tile_avx2_2, "avx2", 2, PW_MAC_AVX2)
PW_TILE(pw_tile_avx2_1, "avx2", 1, PW_MAC_AVX2)



typedef struct {
  const int16_t *w, *xi; /* w: [M4][K2] int16, x's zero point not involved */
  int32_t *acc;          /* [M4][P8] */
  const conv_out *outs;
  uint8_t *y;
  uint32_t M, K2, P, P8;
} pw_job;

/* One work item: output channels 4 * item .. + 3, every position, requantised. */
static void pw_item(void *ctx, size_t item) {
  const pw_job *j = ctx;
  const uint32_t m0 = (uint32_t)item * PW_MR, P8 = j->P8;
  const int16_t *w = j->w + (size_t)m0 * j->K2;
  int32_t *acc = j->acc + (size_t)m0 * P8;
  uint32_t p = 0;
  for (; p + 16 <= P8; p += 16) pw_tile_avx2_2(w, j->K2, j->xi, P8, p, acc);
  for (; p < P8; p += 8) pw_tile_avx2_1(w, j->K2, j->xi, P8, p, acc);
  for (uint32_t m = m0; m < m0 + PW_MR && m < j->M; m++) {
    const conv_out *o = &j->outs[m];
    requant_row_p(acc + (size_t)(m - m0) * P8, o->bias, &o->rq, o->zp, o->lo, o->hi, j->y + (size_t)m * j->P, j->P, 1);
  }
}

/*
 * The same pointwise sums from bytes (AVX-512 VNNI): one vpdpbusd multiplies 4 unsigned bytes by
 * 4 signed bytes in each of 16 lanes and adds the 4 products to the lane's int32, wrapping and
 * never saturating, so 64 exact multiply-accumulates per instruction. The operands are offset
 * into those ranges: a = x as uint8 (int8 x plus 128), b = w as int8 (uint8 w minus 128), with
 * za, zb the zero points moved alike, so a - za = x - zx and b - zb = w - zw; then (mod 2^32)
 *   sum_k (a - za)(b - zb) = sum_k a b - zb * sum_k a - za * sum_k b + K za zb,
 * the last two terms folded into the channel's bias, the second (per position) subtracted
 * before requantisation when zb is not 0. x is interleaved by 4 channels,
 * xb[(k / 4) * 4 * P8 + 4 * p + k % 4], the padding channels and positions 0 (so they add 0).
 */
#define PB_VNNI "avx2,avx512f,avx512vl,avx512bw,avx512vnni"

/* xb of K rows of P bytes at base (each byte xor flip). */
__attribute__((target("avx2"))) static void pb_widen(const uint8_t *base, uint8_t flip, uint32_t K, uint32_t P,
                                                      uint32_t P8, uint8_t *xb) {
  const __m128i vf = _mm_set1_epi8((char)flip), zero = _mm_setzero_si128();
  for (uint32_t k = 0; k < K; k += 4) {
    const uint8_t *r[4];
    for (uint32_t i = 0; i < 4; i++) r[i] = k + i < K ? base + (size_t)(k + i) * P : 0;
    uint8_t *dst = xb + (size_t)k * P8;
    uint32_t p = 0;
    for (; p + 16 <= P; p += 16) {
      __m128i v[4];
      for (int i = 0; i < 4; i++) v[i] = r[i] ? _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[i] + p)), vf) : zero;
      const __m128i ab0 = _mm_unpacklo_epi8(v[0], v[1]), ab1 = _mm_unpackhi_epi8(v[0], v[1]);
      const __m128i cd0 = _mm_unpacklo_epi8(v[2], v[3]), cd1 = _mm_unpackhi_epi8(v[2], v[3]);
      _mm_storeu_si128((__m128i *)(dst + 4 * p), _mm_unpacklo_epi16(ab0, cd0));
      _mm_storeu_si128((__m128i *)(dst + 4 * p + 16), _mm_unpackhi_epi16(ab0, cd0));
      _mm_storeu_si128((__m128i *)(dst + 4 * p + 32), _mm_unpacklo_epi16(ab1, cd1));
      _mm_storeu_si128((__m128i *)(dst + 4 * p + 48), _mm_unpackhi_epi16(ab1, cd1));
    }
    for (; p < P; p++) {
      for (int i = 0; i < 4; i++) dst[4 * p + i] = r[i] ? (uint8_t)(r[i][p] ^ flip) : 0;
    }
    memset(dst + 4 * (size_t)P, 0, 4 * (size_t)(P8 - P));
  }
}

/* colsum[p] = the sum over the K4 rows of xb of position p's bytes (p < P8; unsigned, or signed
 * with sgn): vpdpbusd by ones. */
__attribute__((target(PB_VNNI))) static void pb_colsum(const uint8_t *xb, uint32_t K4, uint32_t P8, int32_t *colsum,
                                                        int sgn) {
  const __m512i ones = _mm512_set1_epi8(1);
  for (uint32_t p = 0; p < P8; p += 16) {
    /* 16 positions, or the last 8 (masked: xb holds P8 of them) */
    const __mmask16 m = P8 - p >= 16 ? (__mmask16)0xFFFF : (__mmask16)0xFF;
    __m512i s = _mm512_setzero_si512();
    for (uint32_t k = 0; k < K4; k += 4) {
      const __m512i v = _mm512_maskz_loadu_epi32(m, (const void *)(xb + (size_t)k * P8 + 4 * (size_t)p));
      s = sgn ? _mm512_dpbusd_epi32(s, ones, v) : _mm512_dpbusd_epi32(s, v, ones);
    }
    _mm512_mask_storeu_epi32((void *)(colsum + p), m, s);
  }
}

static inline int32_t pb_quad(const int8_t *w) {
  int32_t q;
  memcpy(&q, w, 4);
  return q;
}

/*
 * acc rows r < 4 (stride P8) at positions p0 .. p0 + 64: 4 x 4 vectors of 16 lanes (_4x4), 16
 * positions (_4x1, zmm) or 8 (_4x1h, ymm: the last ones when P8 is not a multiple of 16). MAC(s, v,
 * q) adds to s the products of the vector v (4 bytes per lane, from xb) and the broadcast quad q
 * (4 bytes of one row of w): vpdpbusd takes its unsigned operand first, so the conv's tiles
 * (unsigned x, signed w) pass (v, q) and the matmul's (unsigned A rows, signed B) pass (q, v).
 */
#define PB_TILES(SFX, MAC)                                                                                    \
  __attribute__((target(PB_VNNI))) static void pb_tile_4x4##SFX(const int8_t *w, uint32_t K4, const uint8_t *xb, \
                                                                 uint32_t P8, uint32_t p0, int32_t *acc) {      \
    __m512i s00 = _mm512_setzero_si512(), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00;     \
    __m512i s13 = s00, s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;  \
    const int8_t *w0 = w, *w1 = w + K4, *w2 = w1 + K4, *w3 = w2 + K4;                                          \
    const uint8_t *xr = xb + 4 * (size_t)p0;                                                                    \
    const size_t xs = 4 * (size_t)P8;                                                                           \
    for (uint32_t k = 0; k < K4; k += 4, xr += xs) {                                                            \
      const __m512i x0 = _mm512_loadu_si512((const void *)xr), x1 = _mm512_loadu_si512((const void *)(xr + 64)); \
      const __m512i x2 = _mm512_loadu_si512((const void *)(xr + 128));                                          \
      const __m512i x3 = _mm512_loadu_si512((const void *)(xr + 192));                                          \
      __m512i b = _mm512_set1_epi32(pb_quad(w0 + k));                                                           \
      s00 = MAC(s00, x0, b), s01 = MAC(s01, x1, b), s02 = MAC(s02, x2, b), s03 = MAC(s03, x3, b);               \
      b = _mm512_set1_epi32(pb_quad(w1 + k));                                                                   \
      s10 = MAC(s10, x0, b), s11 = MAC(s11, x1, b), s12 = MAC(s12, x2, b), s13 = MAC(s13, x3, b);               \
      b = _mm512_set1_epi32(pb_quad(w2 + k));                                                                   \
      s20 = MAC(s20, x0, b), s21 = MAC(s21, x1, b), s22 = MAC(s22, x2, b), s23 = MAC(s23, x3, b);               \
      b = _mm512_set1_epi32(pb_quad(w3 + k));                                                                   \
      s30 = MAC(s30, x0, b), s31 = MAC(s31, x1, b), s32 = MAC(s32, x2, b), s33 = MAC(s33, x3, b);               \
    }                                                                                                           \
    int32_t *a = acc + p0;                                                                                      \
    PB_ST4(s00, s01, s02, s03) PB_ST4(s10, s11, s12, s13) PB_ST4(s20, s21, s22, s23) PB_ST4(s30, s31, s32, s33) \
  }                                                                                                             \
  __attribute__((target(PB_VNNI))) static void pb_tile_4x1##SFX(const int8_t *w, uint32_t K4, const uint8_t *xb, \
                                                                 uint32_t P8, uint32_t p0, int32_t *acc) {      \
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;                                             \
    const uint8_t *xr = xb + 4 * (size_t)p0;                                                                    \
    for (uint32_t k = 0; k < K4; k += 4, xr += 4 * (size_t)P8) {                                                \
      const __m512i x0 = _mm512_loadu_si512((const void *)xr);                                                  \
      s0 = MAC(s0, x0, _mm512_set1_epi32(pb_quad(w + k)));                                                      \
      s1 = MAC(s1, x0, _mm512_set1_epi32(pb_quad(w + K4 + k)));                                                 \
      s2 = MAC(s2, x0, _mm512_set1_epi32(pb_quad(w + 2 * K4 + k)));                                             \
      s3 = MAC(s3, x0, _mm512_set1_epi32(pb_quad(w + 3 * K4 + k)));                                             \
    }                                                                                                           \
    _mm512_storeu_si512((void *)(acc + p0), s0), _mm512_storeu_si512((void *)(acc + P8 + p0), s1);              \
    _mm512_storeu_si512((void *)(acc + 2 * P8 + p0), s2), _mm512_storeu_si512((void *)(acc + 3 * P8 + p0), s3); \
  }                                                                                                             \
  __attribute__((target(PB_VNNI))) static void pb_tile_4x1h##SFX(const int8_t *w, uint32_t K4, const uint8_t *xb, \
                                                                  uint32_t P8, uint32_t p0, int32_t *acc) {     \
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;                                             \
    const uint8_t *xr = xb + 4 * (size_t)p0;                                                                    \
    for (uint32_t k = 0; k < K4; k += 4, xr += 4 * (size_t)P8) {                                                \
      const __m256i x0 = _mm256_loadu_si256((const __m256i *)xr);                                               \
      s0 = MAC##H(s0, x0, _mm256_set1_epi32(pb_quad(w + k)));                                                   \
      s1 = MAC##H(s1, x0, _mm256_set1_epi32(pb_quad(w + K4 + k)));                                              \
      s2 = MAC##H(s2, x0, _mm256_set1_epi32(pb_quad(w + 2 * K4 + k)));                                          \
      s3 = MAC##H(s3, x0, _mm256_set1_epi32(pb_quad(w + 3 * K4 + k)));                                          \
    }                                                                                                           \
    _mm256_storeu_si256((__m256i *)(acc + p0), s0), _mm256_storeu_si256((__m256i *)(acc + P8 + p0), s1);        \
    _mm256_storeu_si256((__m256i *)(acc + 2 * P8 + p0), s2);                                                    \
    _mm256_storeu_si256((__m256i *)(acc + 3 * P8 + p0), s3);                                                    \
  }
#define PB_ST4(q0, q1, q2, q3)                                                                                 \
  _mm512_storeu_si512((void *)a, q0), _mm512_storeu_si512((void *)(a + 16), q1);                               \
  _mm512_storeu_si512((void *)(a + 32), q2), _mm512_storeu_si512((void *)(a + 48), q3), a += P8;
#define PB_MAC_XW(s, v, q) _mm512_dpbusd_epi32((s), (v), (q))
#define PB_MAC_XWH(s, v, q) _mm256_dpbusd_epi32((s), (v), (q))
#define PB_MAC_AB(s, v, q) _mm512_dpbusd_epi32((s), (q), (v))
#define PB_MAC_ABH(s, v, q) _mm256_dpbusd_epi32((s), (q), (v))
PB_TILES(, PB_MAC_XW)
PB_TILES(_ab, PB_MAC_AB)

/* Tiles of rows m0 .. m0 + 3 over the positions [p, end) of xb (P8 positions a row; p and end
 * multiples of 8). */
static void pb_rows(const int8_t *w, uint32_t K4, const uint8_t *xb, uint32_t P8, uint32_t p, uint32_t end,
                    int32_t *acc, int ab) {
  for (; p + 64 <= end; p += 64) (ab ? pb_tile_4x4_ab : pb_tile_4x4)(w, K4, xb, P8, p, acc);
  for (; p + 16 <= end; p += 16) (ab ? pb_tile_4x1_ab : pb_tile_4x1)(w, K4, xb, P8, p, acc);
  if (p < end) (ab ? pb_tile_4x1h_ab : pb_tile_4x1h)(w, K4, xb, P8, p, acc);
}

typedef struct {
  const int8_t *w;       /* [M4][K4] b = w offset to int8, padding 0 */
  const uint8_t *xb;     /* see pb_widen */
  const int32_t *colsum; /* [P8] sum_k a, or 0 when every zb is 0 */
  const int32_t *zb;     /* [M4] the offset weight zero points */
  const uint32_t *bias;  /* [M4] bias - za * sum_k b + K za zb (mod 2^32) */
  int32_t *acc;          /* [M4][P8] */
  const conv_out *outs;
  uint8_t *y;
  uint32_t M, K4, P, P8;
} pb_job;

/* One work item: output channels 4 * item .. + 3, every position, requantised. */
static void pb_item(void *ctx, size_t item) {
  const pb_job *j = ctx;
  const uint32_t m0 = (uint32_t)item * PW_MR, P8 = j->P8;
  const int8_t *w = j->w + (size_t)m0 * j->K4;
  int32_t *acc = j->acc + (size_t)m0 * P8;
  pb_rows(w, j->K4, j->xb, P8, 0, P8, acc, 0);
  for (uint32_t m = m0; m < m0 + PW_MR && m < j->M; m++) {
    const conv_out *o = &j->outs[m];
    int32_t *row = acc + (size_t)(m - m0) * P8;
    const uint32_t zb = (uint32_t)j->zb[m];
    if (j->colsum && zb) {
      for (uint32_t q = 0; q < P8; q++) row[q] = (int32_t)((uint32_t)row[q] - zb * (uint32_t)j->colsum[q]);
    }
    requant_row_p(row, j->bias[m], &o->rq, o->zp, o->lo, o->hi, j->y + (size_t)m * j->P, j->P, 1);
  }
}


/* dst[k] = src[k] xor flip for k < K (dst's padding to K4 already 0); returns their sum as signed
 * bytes (unsigned with u8), or 0 without want_sum. Plain loops (the compiler's vectors): rows are
 * short, and a vector version's per-row reduction cost more. */
static uint32_t pb_pack_row(const uint8_t *src, uint8_t flip, uint32_t K, int8_t *dst, int u8, int want_sum) {
  uint32_t sum = 0;
  if (flip) {
    for (uint32_t k = 0; k < K; k++) dst[k] = (int8_t)(src[k] ^ flip);
  } else {
    memcpy(dst, src, K);
  }
  if (want_sum && u8) {
    for (uint32_t k = 0; k < K; k++) sum += (uint8_t)dst[k];
  } else if (want_sum) {
    for (uint32_t k = 0; k < K; k++) sum += (uint32_t)(int32_t)dst[k];
  }
  return sum;
}

/* dst[i] = src[2 i] for i < n (AVX-512 BW: vpmovwb keeps the even bytes; masked loads and stores
 * touch nothing past src[2 (n - 1)] and dst[n - 1]). */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) static void every_other_byte(const uint8_t *src, uint32_t n,
                                                                                       uint8_t *dst) {
  for (uint32_t i = 0; i < n; i += 32) {
    const uint32_t r = n - i < 32 ? n - i : 32, bytes = 2 * r - 1;
    const __mmask64 m = bytes >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << bytes) - 1);
    const __m256i v = _mm512_cvtepi16_epi8(_mm512_maskz_loadu_epi8(m, src + 2 * (size_t)i));
    _mm256_mask_storeu_epi8(dst + i, r == 32 ? 0xFFFFFFFFu : (__mmask32)((1u << r) - 1), v);
  }
}

/*
 * The patches of one image and group as rows of bytes, the weights' order: row k = (ci * KH + kh)
 * * KW + kw, column p = oh * OW + ow, x's own byte (the byte of x_zp in the padding, so that
 * a - za is 0 there).
 */
static void im2row_bytes(const conv_layout *l, const opml_tensor *x, size_t x0, uint32_t Cg, uint8_t pad,
                         uint8_t *rows) {
  const uint32_t HW = l->H * l->W, OW = l->OW, P = l->OH * OW;
  const uint8_t *xv = (const uint8_t *)x->data;
  for (uint32_t ci = 0; ci < Cg; ci++) {
    for (uint32_t kh = 0; kh < l->KH; kh++) {
      for (uint32_t kw = 0; kw < l->KW; kw++) {
        int32_t off = (int32_t)(kw * l->dw) - (int32_t)l->pl;
        uint32_t a, b, k = (ci * l->KH + kh) * l->KW + kw;
        inside_range(l, off, &a, &b);
        for (uint32_t oh = 0; oh < l->OH; oh++) {
          int32_t ih = (int32_t)(oh * l->sh + kh * l->dh) - (int32_t)l->pt;
          uint8_t *dst = rows + (size_t)k * P + (size_t)oh * OW;
          uint32_t ow = 0;
          if (ih >= 0 && ih < (int32_t)l->H) {
            const uint8_t *src = xv + (size_t)((int64_t)(x0 + ci * HW + (uint32_t)ih * l->W) + (int64_t)a * l->sw + off);
            for (; ow < a; ow++) dst[ow] = pad;
            if (l->sw == 1) memcpy(dst + a, src, b - a), ow = b;
            else if (l->sw == 2) every_other_byte(src, b - a, dst + a), ow = b;
            for (; ow < b; ow++, src += l->sw) dst[ow] = *src;
          }
          for (; ow < OW; ow++) dst[ow] = pad;
        }
      }
    }
  }
}

/* Every group and image of a convolution through pb_item (pointwise: x's rows as they are, else
 * through im2row_bytes); 0, or OPML_ENOMEM. */
static int conv_bytes(const conv_layout *l, const opml_tensor *x, int32_t zx, const opml_tensor *w,
                      const opml_tensor *wzp, const conv_out *outs, uint8_t *y, int pointwise) {
  const uint32_t Cg = l->C / l->G, Mg = l->M / l->G, P = l->OH * l->OW, P8 = (P + 7) & ~7u;
  const uint32_t K = Cg * l->KH * l->KW, K4 = (K + 3) & ~3u, M4 = (Mg + PW_MR - 1) / PW_MR * PW_MR;
  const int32_t za = zx + (x->dtype == DT_INT8 ? 128 : 0);
  const uint8_t xflip = x->dtype == DT_INT8 ? 0x80 : 0, wflip = w->dtype == DT_UINT8 ? 0x80 : 0;
  const size_t n_rows = pointwise ? 0 : (size_t)K * P;
  const size_t bytes = (size_t)M4 * K4 + (size_t)K4 * P8 + n_rows + 64;
  int32_t *acc = opml_alloc(((size_t)M4 * P8 + P8 + 2 * (size_t)M4) * sizeof(int32_t) + bytes);
  if (!acc) return OPML_ENOMEM;
  int32_t *colsum = acc + (size_t)M4 * P8, *zb = colsum + P8;
  uint32_t *bias = (uint32_t *)(zb + M4);
  int8_t *wb = (int8_t *)(bias + M4);
  uint8_t *xb = (uint8_t *)(wb + (size_t)M4 * K4), *rows = xb + (size_t)K4 * P8;
  for (uint32_t g = 0; g < l->G; g++) {
    int any_zb = 0;
    memset(wb, 0, (size_t)M4 * K4);
    for (uint32_t m = 0; m < M4; m++) {
      zb[m] = 0, bias[m] = 0;
      if (m >= Mg) continue;
      const uint32_t oc = g * Mg + m;
      const uint32_t sum = pb_pack_row((const uint8_t *)w->data + (size_t)oc * K, wflip, K, wb + (size_t)m * K4, 0, za != 0);
      zb[m] = zero_point(wzp, oc) - (wflip ? 128 : 0);
      any_zb |= zb[m] != 0;
      bias[m] = outs[oc].bias - (uint32_t)za * sum + K * (uint32_t)za * (uint32_t)zb[m];
    }
    for (uint32_t b = 0; b < l->N; b++) {
      const size_t x0 = ((size_t)b * l->C + (size_t)g * Cg) * (pointwise ? P : l->H * l->W);
      if (!pointwise) im2row_bytes(l, x, x0, Cg, (uint8_t)zx, rows);
      pb_widen(pointwise ? (const uint8_t *)x->data + x0 : rows, xflip, K, P, P8, xb);
      if (any_zb) pb_colsum(xb, K4, P8, colsum, 0);
      pb_job j = {wb, xb, any_zb ? colsum : 0, zb, bias, acc, outs + (size_t)g * Mg,
                  y + ((size_t)b * l->M + (size_t)g * Mg) * P, Mg, K4, P, P8};
      opml_parallel(M4 / PW_MR, (size_t)Mg * P * K / 4, pb_item, &j);
    }
  }
  opml_free(acc);
  return OPML_OK;
}

/*
 * matmul_i32 through the byte tiles (4 rows of A broadcast, 16 columns of B a vector): a = A as
 * uint8, b = B as int8 (offset as in conv_bytes, za and zb moved alike), B packed by pb_widen
 * (its columns as the positions), then per output (mod 2^32)
 *   sum_k (a - za)(b - zb) = sum_k a b - zb[n] * rowsum[m] - za[m] * colsum[n] + K za[m] zb[n].
 * Work items: 4 rows by up to MB_COLS columns.
 */
#define MB_COLS 256
typedef struct {
  const int8_t *ap;    /* [M4][K4] */
  const uint8_t *bp;   /* [K4 / 4][N8][4] */
  const int32_t *rowsum, *colsum, *za, *zb;
  int32_t *acc;        /* [M4][N8] */
  int32_t *out;        /* [M][N] */
  uint32_t M, N, K, K4, N8, chunks;
} mb_job;

static void mb_item(void *ctx, size_t item) {
  const mb_job *j = ctx;
  const uint32_t m0 = (uint32_t)(item / j->chunks) * 4, c0 = (uint32_t)(item % j->chunks) * MB_COLS;
  const uint32_t c1 = c0 + MB_COLS < j->N8 ? c0 + MB_COLS : j->N8, n1 = c1 < j->N ? c1 : j->N;
  pb_rows(j->ap + (size_t)m0 * j->K4, j->K4, j->bp, j->N8, c0, c1, j->acc + (size_t)m0 * j->N8, 1);
  for (uint32_t m = m0; m < m0 + 4 && m < j->M; m++) {
    const int32_t *a = j->acc + (size_t)m * j->N8;
    uint32_t *o = (uint32_t *)j->out + (size_t)m * j->N;
    const uint32_t rs = (uint32_t)j->rowsum[m], za = (uint32_t)j->za[m], kza = j->K * za;
    for (uint32_t n = c0; n < n1; n++) {
      const uint32_t zb = (uint32_t)j->zb[n];
      o[n] = (uint32_t)a[n] - zb * rs - za * (uint32_t)j->colsum[n] + kza * zb;
    }
  }
}

static int matmul_bytes(const mm_layout *l, const opml_tensor *A, const opml_tensor *B, const opml_tensor *azp,
                        const opml_tensor *bzp, int32_t *out) {
  const uint32_t M = l->M, K = l->K, N = l->N, K4 = (K + 3) & ~3u, N8 = (N + 7) & ~7u, M4 = (M + 3) & ~3u;
  const uint8_t aflip = A->dtype == DT_INT8 ? 0x80 : 0, bflip = B->dtype == DT_UINT8 ? 0x80 : 0;
  const size_t ints = (size_t)M4 * N8 + N8 + 2 * (size_t)M4 + N8;
  int32_t *acc = opml_alloc(ints * sizeof(int32_t) + (size_t)M4 * K4 + (size_t)K4 * N8 + 64);
  if (!acc) return OPML_ENOMEM;
  int32_t *colsum = acc + (size_t)M4 * N8, *rowsum = colsum + N8, *za = rowsum + M4, *zb = za + M4;
  int8_t *ap = (int8_t *)(zb + N8);
  uint8_t *bp = (uint8_t *)(ap + (size_t)M4 * K4);
  memset(ap, 0, (size_t)M4 * K4);
  for (uint32_t m = M; m < M4; m++) rowsum[m] = za[m] = 0;
  for (uint32_t n = 0; n < N8; n++) zb[n] = n < N ? zero_point(bzp, n) - (bflip ? 128 : 0) : 0;
  size_t packed_b = (size_t)-1, packed_a = (size_t)-1;
  for (uint32_t b = 0; b < l->batches; b++) {
    size_t ia, ib;
    mm_batch(l, b, &ia, &ib);
    if (ia != packed_a) {
      for (uint32_t m = 0; m < M; m++) {
        rowsum[m] = (int32_t)pb_pack_row((const uint8_t *)A->data + (ia * M + m) * K, aflip, K, ap + (size_t)m * K4, 1, 1);
        za[m] = zero_point(azp, m) + (aflip ? 128 : 0);
      }
      packed_a = ia;
    }
    if (ib != packed_b) {
      pb_widen((const uint8_t *)B->data + ib * K * N, bflip, K, N, N8, bp);
      pb_colsum(bp, K4, N8, colsum, 1);
      packed_b = ib;
    }
    const uint32_t chunks = (N8 + MB_COLS - 1) / MB_COLS;
    mb_job j = {ap, bp, rowsum, colsum, za, zb, acc, out + (size_t)b * M * N, M, N, K, K4, N8, chunks};
    opml_parallel((size_t)(M4 / 4) * chunks, (size_t)M * N * K / 16, mb_item, &j);
  }
  opml_free(acc);
  return OPML_OK;
}

/*
 * Up to 3 rows of A times B (AVX-512 VNNI) without packing B: 4 rows of B by 64 columns are
 * interleaved in registers into quads (two rounds of byte and word unpacks, which leave the
 * columns permuted within each 64: vector v, 128-bit lane L, element i holds column 16 L + 4 v
 * + i), multiplied by a broadcast quad of each row of A (vpdpbusd, exact) and un-permuted at the
 * end. Operands offset as in matmul_bytes; per output (mod 2^32)
 *   sum_k a b - zb[n] * rowsum[m] - za[m] * colsum[n] + K za[m] zb[n]
 * (colsum by vpdpbusd of ones, only when some za is not 0).
 */
typedef struct {
  const uint8_t *a;    /* [M][K4] a (A xor aflip), padding 0 */
  const uint8_t *b;    /* B's matrix: K rows of N bytes */
  const int32_t *za, *zb, *rowsum; /* za[M], zb[N], rowsum[M] */
  uint32_t *out;       /* [M][N] */
  uint32_t M, K, N;
  uint8_t bflip;
  int need_colsum;
} mr_job;

__attribute__((target(PB_VNNI))) static void mr_item(void *ctx, size_t item) {
  const mr_job *j = ctx;
  const uint32_t n0 = (uint32_t)item * 64, cols = j->N - n0 < 64 ? j->N - n0 : 64, K = j->K;
  const __mmask64 cm = cols == 64 ? ~(__mmask64)0 : (((__mmask64)1 << cols) - 1);
  const __m512i vf = _mm512_set1_epi8((char)j->bflip), ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
  __m512i acc[3][4], cs[4];
  for (int v = 0; v < 4; v++) {
    cs[v] = zero;
    for (int m = 0; m < 3; m++) acc[m][v] = zero;
  }
  for (uint32_t k = 0; k < K; k += 4) {
    __m512i r[4];
    for (uint32_t i = 0; i < 4; i++) {
      r[i] = k + i < K ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(cm, j->b + (size_t)(k + i) * j->N + n0), vf) : zero;
    }
    const __m512i lo01 = _mm512_unpacklo_epi8(r[0], r[1]), hi01 = _mm512_unpackhi_epi8(r[0], r[1]);
    const __m512i lo23 = _mm512_unpacklo_epi8(r[2], r[3]), hi23 = _mm512_unpackhi_epi8(r[2], r[3]);
    const __m512i q[4] = {_mm512_unpacklo_epi16(lo01, lo23), _mm512_unpackhi_epi16(lo01, lo23),
                          _mm512_unpacklo_epi16(hi01, hi23), _mm512_unpackhi_epi16(hi01, hi23)};
    for (uint32_t m = 0; m < j->M; m++) {
      int32_t quad;
      memcpy(&quad, j->a + (size_t)m * ((K + 3) & ~3u) + k, 4);
      const __m512i av = _mm512_set1_epi32(quad);
      for (int v = 0; v < 4; v++) acc[m][v] = _mm512_dpbusd_epi32(acc[m][v], av, q[v]);
    }
    if (j->need_colsum) {
      for (int v = 0; v < 4; v++) cs[v] = _mm512_dpbusd_epi32(cs[v], ones, q[v]);
    }
  }
  int32_t t[4][16], c[64];
  for (int v = 0; v < 4; v++) _mm512_storeu_si512((void *)t[v], cs[v]);
  for (uint32_t n = 0; n < 64; n++) c[n] = t[(n % 16) / 4][(n / 16) * 4 + n % 4];
  for (uint32_t m = 0; m < j->M; m++) {
    for (int v = 0; v < 4; v++) _mm512_storeu_si512((void *)t[v], acc[m][v]);
    uint32_t *o = j->out + (size_t)m * j->N + n0;
    const uint32_t rs = (uint32_t)j->rowsum[m], za = (uint32_t)j->za[m], kza = K * za;
    for (uint32_t n = 0; n < cols; n++) {
      const uint32_t zb = (uint32_t)j->zb[n0 + n];
      o[n] = (uint32_t)t[(n % 16) / 4][(n / 16) * 4 + n % 4] - zb * rs - za * (uint32_t)c[n] + kza * zb;
    }
  }
}

/* acc (M x N per batch) for M <= 3 through mr_item; 0, or OPML_ENOMEM. */
static int matmul_rows_bytes(const mm_layout *l, const opml_tensor *A, const opml_tensor *B, const opml_tensor *azp,
                             const opml_tensor *bzp, int32_t *out) {
  const uint32_t M = l->M, K = l->K, N = l->N, K4 = (K + 3) & ~3u;
  const uint8_t aflip = A->dtype == DT_INT8 ? 0x80 : 0, bflip = B->dtype == DT_UINT8 ? 0x80 : 0;
  int32_t *zb = opml_alloc(((size_t)N + 6) * sizeof(int32_t) + (size_t)M * K4 + 8);
  if (!zb) return OPML_ENOMEM;
  int32_t *za = zb + N, *rowsum = za + 3;
  uint8_t *ap = (uint8_t *)(rowsum + 3);
  memset(ap, 0, (size_t)M * K4);
  int need = 0;
  for (uint32_t n = 0; n < N; n++) zb[n] = zero_point(bzp, n) - (bflip ? 128 : 0);
  size_t packed_a = (size_t)-1;
  for (uint32_t b = 0; b < l->batches; b++) {
    size_t ia, ib;
    mm_batch(l, b, &ia, &ib);
    if (ia != packed_a) {
      need = 0;
      for (uint32_t m = 0; m < M; m++) {
        rowsum[m] = (int32_t)pb_pack_row((const uint8_t *)A->data + (ia * M + m) * K, aflip, K, (int8_t *)ap + (size_t)m * K4,
                                         1, 1);
        za[m] = zero_point(azp, m) + (aflip ? 128 : 0);
        need |= za[m] != 0;
      }
      packed_a = ia;
    }
    mr_job j = {ap, (const uint8_t *)B->data + ib * K * N, za, zb, rowsum, (uint32_t *)out + (size_t)b * M * N,
                M, K, N, bflip, need};
    opml_parallel((N + 63) / 64, (size_t)M * N * K / 16, mr_item, &j);
  }
  opml_free(zb);
  return OPML_OK;
}

/* The pointwise convolution of every group and image; 0, or OPML_ENOMEM. */
static int pointwise(const conv_layout *l, const opml_tensor *x, int32_t zx, const opml_tensor *w,
                     const opml_tensor *wzp, const conv_out *outs, uint8_t *y) {
  const uint32_t Cg = l->C / l->G, Mg = l->M / l->G, P = l->OH * l->OW, P8 = (P + 7) & ~7u, K2 = (Cg + 1) & ~1u;
  const uint32_t M4 = (Mg + PW_MR - 1) / PW_MR * PW_MR;
  int16_t *wi = opml_alloc(((size_t)M4 * K2 + (size_t)K2 * P8) * sizeof(int16_t) + (size_t)M4 * P8 * sizeof(int32_t));
  if (!wi) return OPML_ENOMEM;
  int16_t *xi = wi + (size_t)M4 * K2;
  int32_t *acc = (int32_t *)(xi + (size_t)K2 * P8);
  for (uint32_t g = 0; g < l->G; g++) {
    for (uint32_t m = 0; m < M4; m++) {
      int16_t *wr = wi + (size_t)m * K2;
      wr[K2 - 1] = 0;
      if (m < Mg) widen8(w, (size_t)(g * Mg + m) * Cg, 1, Cg, zero_point(wzp, g * Mg + m), wr);
      else memset(wr, 0, K2 * sizeof(int16_t));
    }
    for (uint32_t b = 0; b < l->N; b++) {
      pw_widen(x, ((size_t)b * l->C + (size_t)g * Cg) * P, Cg, P, P8, zx, xi);
      pw_job j = {wi, xi, acc, outs + (size_t)g * Mg, y + ((size_t)b * l->M + (size_t)g * Mg) * P, Mg, K2, P, P8};
      opml_parallel(M4 / PW_MR, (size_t)Mg * P * Cg, pw_item, &j);
    }
  }
  opml_free(wi);
  return OPML_OK;
}
#endif

static int k_qlinear_conv(const opml_node *n) {
  if (n->n_in != 9) return OPML_EATTR;
  const opml_tensor *x = n->in[0], *xs = n->in[1], *xzp = n->in[2], *w = n->in[3], *ws = n->in[4];
  const opml_tensor *wzp = n->in[5], *ys = n->in[6], *yzp = n->in[7], *bias = n->in[8];
  conv_layout l;
  int32_t lo, hi;
  if (!conv_layout_of(n, &l)) return OPML_EATTR;
  uint8_t dty = n->out[0]->dtype;
  if (!is_8bit(x->dtype) || !is_8bit(w->dtype) || !is_8bit(dty) || !int_range(dty, &lo, &hi)) return OPML_EDTYPE;
  if (xs->dtype != DT_FLOAT || ws->dtype != DT_FLOAT || ys->dtype != DT_FLOAT) return OPML_EDTYPE;
  if ((xzp && xzp->dtype != x->dtype) || (wzp && wzp->dtype != w->dtype) || (yzp && yzp->dtype != dty)) return OPML_EDTYPE;
  if (bias && bias->dtype != DT_INT32) return OPML_EDTYPE;

  uint32_t Cg = l.C / l.G, Mg = l.M / l.G, K = Cg * l.KH * l.KW, P = l.OH * l.OW;
  int dw = Cg == 1 && Mg == 1, pw = 0, pb = 0;
#if defined(OPML_X86)
  pw = !dw && l.KH == 1 && l.KW == 1 && l.sh == 1 && l.sw == 1 && !l.pt && !l.pl && l.OH == l.H && l.OW == l.W &&
       opml_use_avx2();
  pb = !dw && pb_use(); /* every other convolution from bytes (conv_bytes) */
#endif
  const int own = pw || pb; /* their own buffers */
  size_t PH = (size_t)(l.OH - 1) * l.sh + (l.KH - 1) * l.dh + 1, PW = (size_t)(l.OW - 1) * l.sw + (l.KW - 1) * l.dw + 1;
  size_t n_wp = own ? 0 : packed_size(Mg, K) / sizeof(int16_t);
  size_t n_col = own ? 0 : dw ? PH * PW : (size_t)P * K;
  size_t n_acc = own || dw ? 0 : (size_t)Mg * P; /* depthwise: its own */
  conv_out *outs = opml_alloc(l.M * sizeof(conv_out) + n_acc * sizeof(int32_t) + (n_wp + n_col) * sizeof(int16_t) + 8);
  if (!outs) return OPML_ENOMEM;
  int32_t *acc = (int32_t *)(outs + l.M);
  int16_t *wp = (int16_t *)(acc + n_acc), *col = wp + n_wp;

  float x_scale = scale_at(xs, 0), y_scale = scale_at(ys, 0);
  int32_t zx = zero_point(xzp, 0);
  for (uint32_t m = 0; m < l.M; m++) {
    outs[m].bias = bias ? (uint32_t)((const int32_t *)bias->data)[m] : 0;
    outs[m].zp = zero_point(yzp, 0);
    outs[m].lo = lo;
    outs[m].hi = hi;
    outs[m].rq = requant_make((x_scale * scale_at(ws, m)) / y_scale);
  }
  uint8_t *y = (uint8_t *)n->out[0]->data; /* int8 and uint8 values in range have the same low byte */

  if (dw) {
    /* channels (and images) on the runtime's threads, each with its own plane */
    dw_job j = {&l, x, w, wzp, outs, y, zx, K, P, PH * PW, 0};
    opml_parallel((size_t)l.G * l.N, (size_t)l.G * l.N * P * K, dw_item, &j);
    opml_free(outs);
    return j.failed ? OPML_ENOMEM : OPML_OK;
  }
#if defined(OPML_X86)
  if (own) {
    int e = pb ? conv_bytes(&l, x, zx, w, wzp, outs, y, pw) : pointwise(&l, x, zx, w, wzp, outs, y);
    opml_free(outs);
    return e;
  }
#endif
  for (uint32_t g = 0; g < l.G; g++) {
    /* the group's weights [Mg, K], minus each output channel's zero point */
    pack_rows(w, (size_t)g * Mg * K, K, 1, Mg, K, wzp, g * Mg, wp);
    for (uint32_t b = 0; b < l.N; b++) {
      size_t x0 = ((size_t)b * l.C + (size_t)g * Cg) * l.H * l.W;
      uint8_t *yg = y + ((size_t)b * l.M + (size_t)g * Mg) * P;
      im2col(&l, x, x0, Cg, zx, col);
      gemm_i16(wp, Mg, col, P, K, acc, P, 1);
      rq_job j = {acc, outs + (size_t)g * Mg, yg, P};
      opml_parallel(Mg, (size_t)Mg * P * 4, rq_item, &j);
    }
  }
  opml_free(outs);
  return OPML_OK;
}

/* ---------------------------------------------------------------- com.microsoft::QLinearAdd */

/*
 * C = saturate(roundeven(fa + fb + c_zp)) with fa = (a_scale / c_scale) * float(a - a_zp) and
 * fb likewise (float32; both ratios computed once; fa + fb rounded to float32, the zero point
 * added exactly). fa and fb come from tables of their 256 possible values, and outputs of 2^18
 * elements or more from a table of all 65536 results (the same bits either way).
 * ints = [R, out_dims[R], a_strides[R], b_strides[R]] (element strides, 0 where broadcast);
 * inputs A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp.
 */
static int k_qlinear_add(const opml_node *n) {
  if (n->n_in != 8 || n->n_ints < 1 || !n->in[0] || !n->in[1] || !n->in[3] || !n->in[4] || !n->in[6]) return OPML_EATTR;
  const opml_tensor *A = n->in[0], *as = n->in[1], *azp = n->in[2], *B = n->in[3], *bs = n->in[4];
  const opml_tensor *bzp = n->in[5], *cs = n->in[6], *czp = n->in[7];
  opml_tensor *Y = n->out[0];
  int64_t R = n->ints[0];
  int32_t lo, hi;
  if (R < 0 || R > OPML_MAX_RANK || n->n_ints != 1 + 3 * (uint32_t)R) return OPML_EATTR;
  if (!is_8bit(A->dtype) || !is_8bit(B->dtype) || !is_8bit(Y->dtype) || !int_range(Y->dtype, &lo, &hi)) return OPML_EDTYPE;
  if (as->dtype != DT_FLOAT || bs->dtype != DT_FLOAT || cs->dtype != DT_FLOAT) return OPML_EDTYPE;
  if ((azp && azp->dtype != A->dtype) || (bzp && bzp->dtype != B->dtype) || (czp && czp->dtype != Y->dtype)) return OPML_EDTYPE;
  if (as->size != 1 || bs->size != 1 || cs->size != 1 || !param_ok(azp, 1) || !param_ok(bzp, 1) || !param_ok(czp, 1)) {
    return OPML_EATTR;
  }
  {
    /* the output size, and the last element of A and of B, agree with the tensors */
    uint64_t size = 1, la = 0, lb = 0;
    for (int64_t d = 0; d < R; d++) {
      const int64_t dim = n->ints[1 + d], sa = n->ints[1 + R + d], sb = n->ints[1 + 2 * R + d];
      if (dim < 0 || dim > 0xFFFFFFFF || sa < 0 || sa > 0xFFFFFFFF || sb < 0 || sb > 0xFFFFFFFF) return OPML_EATTR;
      size *= (uint64_t)dim;
      if (dim) la += (uint64_t)(dim - 1) * (uint64_t)sa, lb += (uint64_t)(dim - 1) * (uint64_t)sb;
    }
    if (size != Y->size || (size && (la >= A->size || lb >= B->size))) return OPML_EATTR;
  }

  float c_scale = scale_at(cs, 0), ra = scale_at(as, 0) / c_scale, rb = scale_at(bs, 0) / c_scale;
  int32_t za = zero_point(azp, 0), zb = zero_point(bzp, 0), zc = zero_point(czp, 0);
  float ta[256], tb[256];
  int32_t oa = A->dtype == DT_INT8 ? 128 : 0, ob = B->dtype == DT_INT8 ? 128 : 0;
  for (int32_t v = 0; v < 256; v++) {
    ta[v] = ra * (float)(v - oa - za);
    tb[v] = rb * (float)(v - ob - zb);
  }
  /* large tensors: all 65536 results once (the same function, so the same bytes) */
  uint8_t *table = Y->size >= (1u << 18) ? opml_alloc(65536) : 0;
  if (table) {
    for (uint32_t a = 0; a < 256; a++) {
      for (uint32_t b = 0; b < 256; b++) table[a << 8 | b] = (uint8_t)round_sat(ta[a] + tb[b], zc, 1, lo, hi);
    }
  }
  const uint8_t *av = (const uint8_t *)A->data, *bv = (const uint8_t *)B->data;
  uint8_t *y = (uint8_t *)Y->data; /* int8 and uint8 values in range have the same low byte */
  const int64_t *dims = n->ints + 1, *sa = dims + R, *sb = sa + R;
  uint32_t idx[OPML_MAX_RANK] = {0};
  uint32_t ia = 0, ib = 0;
  for (uint32_t e = 0; e < Y->size; e++) {
    /* the byte plus 128 for int8 is the value's index in the tables */
    uint32_t a = (uint8_t)(av[ia] + (uint32_t)oa), b = (uint8_t)(bv[ib] + (uint32_t)ob);
    y[e] = table ? table[a << 8 | b] : (uint8_t)round_sat(ta[a] + tb[b], zc, 1, lo, hi);
    /* advance the multi-index, innermost first */
    for (int64_t d = R - 1; d >= 0; d--) {
      ia += (uint32_t)sa[d];
      ib += (uint32_t)sb[d];
      if (++idx[d] < (uint32_t)dims[d]) break;
      ia -= (uint32_t)(sa[d] * dims[d]);
      ib -= (uint32_t)(sb[d] * dims[d]);
      idx[d] = 0;
    }
  }
  opml_free(table);
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_quant[] = {
    {OP_QUANTIZE_LINEAR, "QuantizeLinear", k_quantize},
    {OP_DEQUANTIZE_LINEAR, "DequantizeLinear", k_dequantize},
    {OP_MATMUL_INTEGER, "MatMulInteger", k_matmul_integer},
    {OP_QLINEAR_MATMUL, "QLinearMatMul", k_qlinear_matmul},
    {OP_QLINEAR_CONV, "QLinearConv", k_qlinear_conv},
    {OP_QLINEAR_ADD, "QLinearAdd", k_qlinear_add},
    {0, 0, 0},
};
