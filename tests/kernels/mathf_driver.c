/*
 * Test driver of core/kernels/mathf.c (run by tests/kernels/mathf.test.ts).
 *
 * Native build, `mathf_driver accuracy N SEED`: evaluates every function on N inputs (unary: an
 * even stride through all 2^32 bit patterns plus special values; pow: a mixture of
 * distributions) and compares with glibc's binary64 libm (the reference: only this driver uses
 * libm). Prints one line per function:
 *   `<name> n=<count> max_ulp=<error> at=<input bits> bad=<sign/NaN/special mismatches>`
 * where the error is |result - reference| in units of the float ulp at the reference.
 * `mathf_driver exhaustive` runs the unary functions on all 2^32 inputs (minutes).
 * The binary64 functions (exp, log, sqrt) print the same line with the distance to glibc's
 * binary64 result in binary64 ulps.
 *
 * Bits mode (`mathf_driver bits N`, and the MIPS build with -DMATHF_SAMPLE=N, which needs no
 * arguments): writes the result bits (NaN canonicalised, as the interpreter does) of every
 * function on a deterministic sample as little-endian u32s to stdout, so the native and the
 * soft-float MIPS runs can be compared byte for byte.
 */
#include <stdint.h>

#include "../../core/kernels/mathf.h"

static inline uint32_t fbits(float f) {
  union { float f; uint32_t u; } v;
  v.f = f;
  return v.u;
}
static inline float bitsf(uint32_t u) {
  union { float f; uint32_t u; } v;
  v.u = u;
  return v.f;
}

static inline uint64_t dbits(double d) {
  union { double d; uint64_t u; } v;
  v.d = d;
  return v.u;
}
static inline double bitsd(uint64_t u) {
  union { double d; uint64_t u; } v;
  v.u = u;
  return v.d;
}

static uint64_t rng_state;
static uint64_t rnd64(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 32); }
static uint32_t rnd_below(uint32_t n) { return (uint32_t)(((uint64_t)rnd32() * n) >> 32); }

static const uint32_t special[] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000,
    0x80800000, 0x33800000, 0x33FFFFFF, 0x3B800000, 0x3B7FFFFF, 0x3EFFFFFF, 0x3F000000,
    0x3F000001, 0x3F7FFFFF, 0x3F800000, 0xBF800000, 0x3F800001, 0x3FC00000, 0xBFC00000,
    0x40000000, 0x40100000, 0x40490FDB, 0x407AE147, 0x407AE148, 0x41119999, 0x41119998,
    0x4B000000, 0x4B000001, 0x4AFFFFFF, 0xCAFFFFFF, 0x42B17217, 0x42B17218, 0xC2CFF1B4,
    0xC2CFF1B5, 0xC2CE8ED0, 0x42C80000, 0xC2DC0000, 0x42200000, 0x7F7FFFFF, 0xFF7FFFFF,
    0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0x3EFFFFFE,
    0x3F3504F3, 0x3F330000, 0x3F32FFFF, 0x3F7F0000, 0x3F80FFFF, 0x3F810000, 0xBF000000,
    0xBF000001, 0xBEFFFFFF, 0x3F400000, 0xBF400000, 0x3FA00000, 0x4B7FFFFF, 0x4B800000,
};
#define N_SPECIAL (sizeof(special) / sizeof(special[0]))

/* the i-th unary input of a sample of n: special values, then an even stride over all bits */
static uint32_t unary_input(uint64_t i, uint64_t n) {
  if (i < N_SPECIAL) return special[i];
  uint64_t step = ((1ull << 32) / (n > N_SPECIAL ? n - N_SPECIAL : 1)) | 1;
  return (uint32_t)((i - N_SPECIAL) * step + 0x2545F491u);
}

/* binary64 exp, log and sqrt: special values, then (from the generator, seeded) in turn raw bit
 * patterns, values spread over [-750, 750] (exp's whole range) and values near 1 */
static const uint64_t special64[] = {
    0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x000FFFFFFFFFFFFF,
    0x0010000000000000, 0x3FF0000000000000, 0xBFF0000000000000, 0x3FF0000000000001,
    0x3FEFFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000,
    0x7FF8000000000000, 0x7FF0000000000001, 0xFFF8000000000000, 0x40862E42FEFA39EF,
    0x40862E42FEFA39F0, 0xC0874910D52D3051, 0xC0874910D52D3052, 0xC086232BDD7ABCD2,
    0x3E30000000000000, 0x3FD62E42FEFA39EF, 0x3FF0A2B23F3BAB73, 0x4000000000000000,
    0x3FE6A09E667F3BCD, 0x3FF6A09E667F3BCD, 0xC08FF00000000000, 0x408FF00000000000,
};
#define N_SPECIAL64 (sizeof(special64) / sizeof(special64[0]))

static uint64_t input64(uint64_t i) {
  if (i < N_SPECIAL64) return special64[i];
  switch (i % 3) {
    case 0: return rnd64();
    case 1: return dbits((double)(int32_t)rnd32() * 0x1p-31 * 750.0);
    default: return dbits(1.0 + (double)(int32_t)rnd32() * 0x1p-36);
  }
}

enum { D_EXP, D_LOG, D_SQRT, N_DOUBLE };
static const char *const double_names[N_DOUBLE] = {"exp", "log", "sqrt"};

static double eval_double(int f, double x) {
  switch (f) {
    case D_EXP: return opml_exp(x);
    case D_LOG: return opml_log(x);
    default: return opml_sqrt(x);
  }
}

static uint64_t canon64(double r) {
  uint64_t b = dbits(r);
  return ((b & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull) ? 0x7FF8000000000000ull : b;
}

/* a pow operand pair from a mixture of distributions (float arithmetic only: same bits on MIPS) */
static void pow_input(uint32_t *x, uint32_t *y) {
  uint32_t k = rnd_below(100);
  if (k < 10) {
    *x = special[rnd_below(N_SPECIAL)];
    *y = special[rnd_below(N_SPECIAL)];
  } else if (k < 20) { /* integer exponents, negative bases */
    *x = (rnd32() & 0x80000000u) | (0x3F000000u + rnd_below(0x01000000u));
    *y = fbits((float)((int32_t)rnd_below(601) - 300));
  } else if (k < 40) { /* x near 1, large |y| */
    *x = 0x3F800000u + rnd_below(1u << 16) - (1u << 15);
    *y = (rnd32() & 0x80000000u) | (0x3F800000u + rnd_below(30u << 23));
  } else if (k < 75) { /* results over the whole range, overflow and underflow included */
    uint32_t xb = 0x00800000u + rnd_below(0x7F000000u);
    float l2 = (float)(int32_t)(xb >> 23) - 127.0f + (float)(xb & 0x7FFFFF) * 0x1p-23f;
    float t = (float)((int32_t)rnd_below(340u << 16)) * 0x1p-16f - 170.0f;
    if (l2 == 0.0f) l2 = 1.0f;
    *x = xb;
    *y = fbits(t / l2);
  } else { /* raw bits */
    *x = rnd32();
    *y = rnd32();
  }
}

enum {
  F_EXP, F_LOG, F_TANH, F_ERF, F_SIGMOID, F_FLOOR, F_ROUNDEVEN, F_SQRT,
  F_EXPM1, F_SOFTPLUS, F_SINH, F_COSH, F_SIN, F_COS, F_TAN, F_ASIN, F_ACOS, F_ATAN,
  F_ASINH, F_ACOSH, F_ATANH, N_UNARY
};
static const char *const unary_names[N_UNARY] = {
    "expf", "logf", "tanhf", "erff", "sigmoidf", "floorf", "roundevenf", "sqrtf",
    "expm1f", "softplusf", "sinhf", "coshf", "sinf", "cosf", "tanf", "asinf", "acosf", "atanf",
    "asinhf", "acoshf", "atanhf",
};

static float eval_unary(int f, float x) {
  switch (f) {
    case F_EXP: return opml_expf(x);
    case F_LOG: return opml_logf(x);
    case F_TANH: return opml_tanhf(x);
    case F_ERF: return opml_erff(x);
    case F_SIGMOID: return opml_sigmoidf(x);
    case F_FLOOR: return opml_floorf(x);
    case F_ROUNDEVEN: return opml_roundevenf(x);
    case F_EXPM1: return opml_expm1f(x);
    case F_SOFTPLUS: return opml_softplusf(x);
    case F_SINH: return opml_sinhf(x);
    case F_COSH: return opml_coshf(x);
    case F_SIN: return opml_sinf(x);
    case F_COS: return opml_cosf(x);
    case F_TAN: return opml_tanf(x);
    case F_ASIN: return opml_asinf(x);
    case F_ACOS: return opml_acosf(x);
    case F_ATAN: return opml_atanf(x);
    case F_ASINH: return opml_asinhf(x);
    case F_ACOSH: return opml_acoshf(x);
    case F_ATANH: return opml_atanhf(x);
    default: return opml_sqrtf(x);
  }
}

static uint32_t canon(float r) {
  uint32_t b = fbits(r);
  return ((b & 0x7FFFFFFFu) > 0x7F800000u) ? 0x7FC00000u : b;
}

#ifdef __mips__
#include "libc.h"
#define OUT_BUF 4096
static uint8_t out_buf[OUT_BUF];
static uint32_t out_len;
static void out_flush(void) {
  rt_write(1, out_buf, out_len);
  out_len = 0;
}
#else
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define OUT_BUF 65536
static uint8_t out_buf[OUT_BUF];
static uint32_t out_len;
static void out_flush(void) {
  fwrite(out_buf, 1, out_len, stdout);
  out_len = 0;
}
#endif

static void out_u32(uint32_t v) {
  if (out_len + 4 > OUT_BUF) out_flush();
  out_buf[out_len++] = (uint8_t)v;
  out_buf[out_len++] = (uint8_t)(v >> 8);
  out_buf[out_len++] = (uint8_t)(v >> 16);
  out_buf[out_len++] = (uint8_t)(v >> 24);
}

/* Bits mode: every unary function on n inputs, then powf and fmodf on n pairs (seeded with 1),
 * then the binary64 functions on n inputs each (two u32s per result, low word first). */
static void run_bits(uint64_t n) {
  for (int f = 0; f < N_UNARY; f++) {
    for (uint64_t i = 0; i < n; i++) out_u32(canon(eval_unary(f, bitsf(unary_input(i, n)))));
  }
  rng_state = 1;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t x, y;
    pow_input(&x, &y);
    out_u32(canon(opml_powf(bitsf(x), bitsf(y))));
  }
  rng_state = 1;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t x = rnd32(), y = rnd32();
    out_u32(canon(opml_fmodf(bitsf(x), bitsf(y))));
  }
  for (int f = 0; f < N_DOUBLE; f++) {
    rng_state = 1;
    for (uint64_t i = 0; i < n; i++) {
      uint64_t r = canon64(eval_double(f, bitsd(input64(i))));
      out_u32((uint32_t)r);
      out_u32((uint32_t)(r >> 32));
    }
  }
  out_flush();
}

#ifdef __mips__
#ifndef MATHF_SAMPLE
#define MATHF_SAMPLE 20000
#endif
int main(void) {
  run_bits(MATHF_SAMPLE);
  return 0;
}
#else

static double reference(int f, float x) {
  double d = x;
  switch (f) {
    case F_EXP: return exp(d);
    case F_LOG: return log(d);
    case F_TANH: return tanh(d);
    case F_ERF: return erf(d);
    case F_SIGMOID: return 1.0 / (1.0 + exp(-d));
    case F_FLOOR: return floorf(x);
    case F_ROUNDEVEN: return rintf(x); /* default rounding mode: to nearest, ties to even */
    case F_EXPM1: return expm1(d);
    case F_SOFTPLUS: return d > 30 ? d + log1p(exp(-d)) : log1p(exp(d));
    case F_SINH: return sinh(d);
    case F_COSH: return cosh(d);
    case F_SIN: return sin(d);
    case F_COS: return cos(d);
    case F_TAN: return tan(d);
    case F_ASIN: return asin(d);
    case F_ACOS: return acos(d);
    case F_ATAN: return atan(d);
    case F_ASINH: return asinh(d);
    case F_ACOSH: return acosh(d);
    case F_ATANH: return atanh(d);
    default: return sqrtf(x);
  }
}

typedef struct {
  uint64_t n, bad;
  double max_ulp;
  uint32_t at_x, at_y;
  uint32_t bad_x, bad_y;
} stats;

/* Error of r against the binary64 reference d in float ulps at d; -1 for a special mismatch
 * (NaN-ness, a sign, or an infinity/zero where the reference has none). */
static double ulp_error(float r, double d) {
  if (isnan(d) || isnan(r)) return (isnan(d) && isnan(r)) ? 0.0 : -1.0;
  if (!signbit(r) != !signbit(d)) return -1.0;
  double ad = fabs(d), ar = isinf(r) ? 0x1p128 : fabs((double)r);
  if (isinf(d)) return isinf(r) ? 0.0 : -1.0;
  if (ad >= 0x1p128) ad = 0x1p128;
  int e;
  frexp(ad, &e); /* ad in [2^(e-1), 2^e) */
  if (e - 1 < -126) e = -125;
  double ulp = ldexp(1.0, e - 1 - 23);
  return fabs(ar - ad) / ulp;
}

static void account(stats *s, float r, double d, uint32_t x, uint32_t y) {
  double e = ulp_error(r, d);
  s->n++;
  if (e < 0) {
    if (s->bad++ == 0) s->bad_x = x, s->bad_y = y;
  } else if (e > s->max_ulp) {
    s->max_ulp = e;
    s->at_x = x;
    s->at_y = y;
  }
}

static void report(const char *name, const stats *s, int two) {
  printf("%s n=%llu max_ulp=%.4f at=0x%08x", name, (unsigned long long)s->n, s->max_ulp, s->at_x);
  if (two) printf(",0x%08x", s->at_y);
  printf(" bad=%llu", (unsigned long long)s->bad);
  if (s->bad) printf(" first_bad=0x%08x%s", s->bad_x, two ? "" : "");
  if (s->bad && two) printf(",0x%08x", s->bad_y);
  printf("\n");
}

static void run_accuracy(uint64_t n, uint64_t seed, int exhaustive) {
  for (int f = 0; f < N_UNARY; f++) {
    stats s;
    memset(&s, 0, sizeof s);
    if (exhaustive) {
      uint32_t x = 0;
      do {
        float fx = bitsf(x);
        account(&s, eval_unary(f, fx), reference(f, fx), x, 0);
      } while (++x != 0);
    } else {
      for (uint64_t i = 0; i < n; i++) {
        uint32_t x = unary_input(i, n) + (uint32_t)(i >= N_SPECIAL ? seed * 0x9E3779B1u : 0);
        float fx = bitsf(x);
        account(&s, eval_unary(f, fx), reference(f, fx), x, 0);
      }
    }
    report(unary_names[f], &s, 0);
    fflush(stdout);
  }
  stats s;
  memset(&s, 0, sizeof s);
  rng_state = seed;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t x, y;
    pow_input(&x, &y);
    float fx = bitsf(x), fy = bitsf(y);
    account(&s, opml_powf(fx, fy), pow((double)fx, (double)fy), x, y);
  }
  report("powf", &s, 1);
  /* fmodf: raw bit patterns, and pairs of close exponents (long quotients are rare in raw bits) */
  memset(&s, 0, sizeof s);
  rng_state = seed;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t x = rnd32(), y = rnd32();
    if (i & 1) y = (y & 0x807FFFFFu) | (((x >> 23) & 0xFF) - (rnd32() & 31)) << 23;
    float fx = bitsf(x), fy = bitsf(y);
    account(&s, opml_fmodf(fx, fy), fmod((double)fx, (double)fy), x, y);
  }
  report("fmodf", &s, 1);
  /* binary64: the distance to glibc's result in units in the last place (the difference of
   * the bit patterns, results of one sign) */
  for (int f = 0; f < N_DOUBLE; f++) {
    uint64_t max_d = 0, at = 0, bad = 0, first_bad = 0;
    rng_state = seed;
    for (uint64_t i = 0; i < n; i++) {
      uint64_t xb = input64(i);
      double x = bitsd(xb), d = f == D_EXP ? exp(x) : f == D_LOG ? log(x) : sqrt(x);
      double r = eval_double(f, x);
      uint64_t rb = canon64(r), db = canon64(d), dist;
      if (isnan(r) || isnan(d) || signbit(r) != signbit(d)) {
        if (rb != db && bad++ == 0) first_bad = xb;
        continue;
      }
      dist = rb > db ? rb - db : db - rb;
      if (dist > max_d) max_d = dist, at = xb;
    }
    printf("%s n=%llu max_ulp=%llu at=0x%016llx bad=%llu", double_names[f], (unsigned long long)n,
           (unsigned long long)max_d, (unsigned long long)at, (unsigned long long)bad);
    if (bad) printf(" first_bad=0x%016llx", (unsigned long long)first_bad);
    printf("\n");
  }
}

/* The array functions (vectorised natively: AVX-512, AVX2 or plain C by OPML_SIMD) against the
 * scalar ones, bit for bit (NaN payloads included): every STEP-th bit pattern from `first`, then
 * the special values, in blocks of varying length and alignment so the vector tails are hit. */
static void run_arrays(uint64_t step, uint32_t first) {
  static float x[4096 + 64], y[4096 + 64];
  static const char *const names[] = {"expf_n", "sigmoidf_n", "tanhf_n", "erff_n"};
  static void (*const arr[])(const float *, float *, size_t) = {opml_expf_n, opml_sigmoidf_n, opml_tanhf_n,
                                                               opml_erff_n};
  static float (*const one[])(float) = {opml_expf, opml_sigmoidf, opml_tanhf, opml_erff};
  const uint64_t swept = ((1ull << 32) - first + step - 1) / step, total = swept + N_SPECIAL;
  for (int f = 0; f < 4; f++) {
    uint64_t bad = 0, i = 0;
    uint32_t first_bad = 0;
    for (uint64_t block = 0; i < total; block++) {
      const uint32_t off = (uint32_t)(block % 19), len = 4096 - (uint32_t)(block % 37);
      uint32_t m = 0;
      for (; m < len && i < total; m++, i++) {
        x[off + m] = bitsf(i < swept ? (uint32_t)(first + i * step) : special[i - swept]);
      }
      arr[f](x + off, y + off, m);
      for (uint32_t k = 0; k < m; k++) {
        const float want = one[f](x[off + k]);
        if (fbits(y[off + k]) != fbits(want) && !bad++) first_bad = fbits(x[off + k]);
      }
    }
    printf("%s n=%llu bad=%llu first_bad=0x%08x\n", names[f], (unsigned long long)total, (unsigned long long)bad,
           first_bad);
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "bits") == 0) {
    run_bits(argc >= 3 ? strtoull(argv[2], 0, 10) : 20000);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "arrays") == 0) {
    run_arrays(argc >= 3 ? strtoull(argv[2], 0, 10) : 1, argc >= 4 ? (uint32_t)strtoul(argv[3], 0, 10) : 0);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "exhaustive") == 0) {
    run_accuracy(1000000, 1, 1);
    return 0;
  }
  uint64_t n = argc >= 3 ? strtoull(argv[2], 0, 10) : 1000000;
  uint64_t seed = argc >= 4 ? strtoull(argv[3], 0, 10) : 1;
  run_accuracy(n, seed, 0);
  return 0;
}
#endif
