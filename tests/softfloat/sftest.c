/*
 * Native test of core/runtime/softfloat.c against the x86-64 SSE hardware.
 *
 * Build (the Deno test does this):
 *   gcc -O2 -ffp-contract=off -fno-fast-math -msse2 -mfpmath=sse -DOPML_SOFTFLOAT_HOST_TEST \
 *       -Icore/runtime tests/softfloat/sftest.c core/runtime/softfloat.c -o sftest
 * With OPML_SOFTFLOAT_HOST_TEST the libgcc entry points are renamed opml_host_* so the host's own
 * libgcc is untouched; the test calls those renamed entry points (so the float/double ABI
 * wrappers are tested too) and compares with what the hardware computes.
 *
 * Environment:
 *   OPML_SOFTFLOAT_N           operand sets per operation (default 1000000)
 *   OPML_SOFTFLOAT_SEED        PRNG seed (default 1)
 *   OPML_SOFTFLOAT_EXHAUSTIVE  if 1, also run every one of the 2^32 binary32 inputs through the
 *                              unary binary32 operations (a few minutes)
 * Output: one line per operation `name: N passed, M failed`, the first mismatches of each, and a
 * final line `N passed, M failed`. Exit status 1 on any mismatch.
 *
 * A NaN result must be the canonical NaN exactly (0x7FC00000 / 0x7FF8000000000000) wherever the
 * hardware gives any NaN ("both NaN"); negation is the exception (a pure sign flip, compared
 * bit for bit).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>
#include <emmintrin.h>

#include "softfloat.h"

#if defined(__FP_FAST_FMA) || defined(__FAST_MATH__)
#error "build without fast-math"
#endif

/* the renamed libgcc entry points from softfloat.c */
float opml_host_addsf3(float, float);
float opml_host_subsf3(float, float);
float opml_host_mulsf3(float, float);
float opml_host_divsf3(float, float);
float opml_host_negsf2(float);
int opml_host_eqsf2(float, float);
int opml_host_nesf2(float, float);
int opml_host_ltsf2(float, float);
int opml_host_lesf2(float, float);
int opml_host_gtsf2(float, float);
int opml_host_gesf2(float, float);
int opml_host_unordsf2(float, float);
int32_t opml_host_fixsfsi(float);
uint32_t opml_host_fixunssfsi(float);
int64_t opml_host_fixsfdi(float);
uint64_t opml_host_fixunssfdi(float);
float opml_host_floatsisf(int32_t);
float opml_host_floatunsisf(uint32_t);
float opml_host_floatdisf(int64_t);
float opml_host_floatundisf(uint64_t);
double opml_host_extendsfdf2(float);
float opml_host_truncdfsf2(double);
double opml_host_adddf3(double, double);
double opml_host_subdf3(double, double);
double opml_host_muldf3(double, double);
double opml_host_divdf3(double, double);
double opml_host_negdf2(double);
int opml_host_eqdf2(double, double);
int opml_host_nedf2(double, double);
int opml_host_ltdf2(double, double);
int opml_host_ledf2(double, double);
int opml_host_gtdf2(double, double);
int opml_host_gedf2(double, double);
int opml_host_unorddf2(double, double);
int32_t opml_host_fixdfsi(double);
uint32_t opml_host_fixunsdfsi(double);
int64_t opml_host_fixdfdi(double);
uint64_t opml_host_fixunsdfdi(double);
double opml_host_floatsidf(int32_t);
double opml_host_floatunsidf(uint32_t);
double opml_host_floatdidf(int64_t);
double opml_host_floatundidf(uint64_t);

/* ------------------------------------------------------------------------------------------ */

static uint64_t rng_state;
static uint64_t rnd64(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 32); }
static uint32_t rnd_below(uint32_t n) { return (uint32_t)(((uint64_t)rnd32() * n) >> 32); }

static inline uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static inline double bitsd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline int nan32(uint32_t a) { return (a & 0x7FFFFFFFu) > 0x7F800000u; }
static inline int nan64(uint64_t a) { return (a & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull; }

static const uint32_t special32[] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x00000003, 0x00400000,
    0x00400001, 0x007FFFFF, 0x807FFFFF, 0x00800000, 0x80800000, 0x00800001, 0x00FFFFFF,
    0x01000000, 0x33800000, 0x33800001, 0x33FFFFFF, 0x34000000, 0x3EFFFFFF, 0x3F000000,
    0x3F000001, 0x3F7FFFFF, 0x3F800000, 0xBF800000, 0x3F800001, 0x3FFFFFFF, 0x40000000,
    0x40400000, 0x40490FDB, 0x4B000000, 0x4B000001, 0x4B7FFFFF, 0x4B800000, 0x4B800001,
    0x4EFFFFFF, 0x4F000000, 0x4F000001, 0x4F7FFFFF, 0x4F800000, 0xCEFFFFFF, 0xCF000000,
    0xCF000001, 0xCF7FFFFF, 0xCF800000, 0x5EFFFFFF, 0x5F000000, 0x5F000001, 0x5F7FFFFF,
    0x5F800000, 0x5F800001, 0xDEFFFFFF, 0xDF000000, 0xDF000001, 0xDF800000, 0x7F000000,
    0x7F7FFFFF, 0xFF7FFFFF, 0x7F7FFFFE, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
    0x7F800001, 0xFF800001, 0x7FBFFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FC00001, 0x3FC00000,
    0xBF7FFFFF, 0xBF000000, 0xBF000001, 0xBEFFFFFF, 0x3F400000, 0xBF400000, 0x3FA00000,
};
#define N_SPECIAL32 (sizeof(special32) / sizeof(special32[0]))

/* a binary32 operand from a mixture of distributions chosen to hit the hard cases */
static uint32_t gen32(void) {
  uint32_t k = rnd_below(100), sign = rnd32() & 0x80000000u, e, f;
  if (k < 15) return rnd32();
  if (k < 25) return special32[rnd_below(N_SPECIAL32)];
  f = rnd32() & 0x007FFFFFu;
  if (k < 45) {
    e = 127 - 30 + rnd_below(61); /* moderate range */
  } else if (k < 60) {
    /* sparse significand: only the top few fraction bits may be set (exact products, ties) */
    e = 1 + rnd_below(254);
    f &= 0x007FFFFFu << rnd_below(24);
  } else if (k < 72) {
    e = rnd_below(28); /* subnormal and tiny */
  } else if (k < 82) {
    e = 226 + rnd_below(29); /* huge */
  } else if (k < 92) {
    e = 126 + rnd_below(70); /* around the integer conversion limits */
    if (rnd_below(2)) f &= 0x007FFFFFu << rnd_below(24);
  } else {
    e = rnd_below(256);
    if (rnd_below(2)) f = rnd_below(2) ? (0x007FFFFFu - rnd_below(4)) : rnd_below(4);
  }
  return sign | (e << 23) | f;
}

/* a second operand related to the first: close exponent and/or few ulps away */
static uint32_t gen32_related(uint32_t a) {
  uint32_t k = rnd_below(100);
  int32_t e = (int32_t)((a >> 23) & 0xFF);
  uint32_t b = a;
  if (k < 25) {
    b = a + rnd_below(9) - 4; /* a few ulps */
  } else if (k < 60) {
    e += (int32_t)rnd_below(61) - 30;
    if (e < 0) e = 0;
    if (e > 254) e = 254;
    b = (a & 0x807FFFFFu) | ((uint32_t)e << 23);
    if (rnd_below(2)) b ^= rnd32() & (0x007FFFFFu >> rnd_below(24));
  } else if (k < 80) {
    /* a power of two (ties in products and quotients, subnormal results) */
    e += (int32_t)rnd_below(301) - 150;
    if (e < 1) e = 1;
    if (e > 254) e = 254;
    b = (uint32_t)e << 23;
  } else {
    b = gen32();
  }
  if (rnd_below(2)) b ^= 0x80000000u;
  return b;
}

static const uint64_t special64[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x0000000000000001ull, 0x8000000000000001ull,
    0x000FFFFFFFFFFFFFull, 0x0010000000000000ull, 0x0010000000000001ull, 0x3FF0000000000000ull,
    0xBFF0000000000000ull, 0x3FF0000000000001ull, 0x3FEFFFFFFFFFFFFFull, 0x3FE0000000000000ull,
    0x7FEFFFFFFFFFFFFFull, 0xFFEFFFFFFFFFFFFFull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
    0x7FF8000000000000ull, 0xFFF8000000000000ull, 0x7FF0000000000001ull, 0x7FF7FFFFFFFFFFFFull,
    0x41E0000000000000ull, 0x41DFFFFFFFFFFFFFull, 0x41EFFFFFFFFFFFFFull, 0x41F0000000000000ull,
    0xC1E0000000000000ull, 0xC1E0000000200000ull, 0xC1E0000000000001ull, 0x43E0000000000000ull,
    0x43DFFFFFFFFFFFFFull, 0x43F0000000000000ull, 0xC3E0000000000000ull, 0xC3E0000000000001ull,
    0x47EFFFFFE0000000ull, 0x47EFFFFFF0000000ull, 0x47EFFFFFEFFFFFFFull, 0x36A0000000000000ull,
    0x3690000000000000ull, 0x3690000000000001ull, 0x3810000000000000ull, 0x380FFFFFFFFFFFFFull,
    0x380FFFFFF0000000ull, 0x36A8000000000000ull, 0x4330000000000000ull, 0x4340000000000000ull,
};
#define N_SPECIAL64 (sizeof(special64) / sizeof(special64[0]))

static uint64_t gen64(void) {
  uint32_t k = rnd_below(100);
  uint64_t sign = (uint64_t)(rnd32() & 1) << 63, e, f;
  if (k < 15) return rnd64();
  if (k < 25) return special64[rnd_below(N_SPECIAL64)];
  f = rnd64() & 0x000FFFFFFFFFFFFFull;
  if (k < 45) {
    e = 1023 - 60 + rnd_below(121);
  } else if (k < 60) {
    e = 1 + rnd_below(2046);
    f &= 0x000FFFFFFFFFFFFFull << rnd_below(53);
  } else if (k < 70) {
    e = rnd_below(60);
  } else if (k < 78) {
    e = 2047 - 60 + rnd_below(61);
  } else if (k < 88) {
    /* binary32-relevant: near float ties and the float range limits (truncdfsf2) */
    uint64_t low = 0;
    switch (rnd_below(5)) {
      case 0: low = 0; break;
      case 1: low = 1ull << 28; break;
      case 2: low = (1ull << 28) + 1; break;
      case 3: low = (1ull << 28) - 1; break;
      default: low = rnd64() & 0x1FFFFFFF; break;
    }
    f = (f & ~0x1FFFFFFFull) | low;
    e = rnd_below(4) ? 1023 - 160 + rnd_below(300) : 1023 - 150 + rnd_below(30);
  } else {
    e = 1023 - 2 + rnd_below(70); /* integer conversion limits */
    if (rnd_below(2)) f &= 0x000FFFFFFFFFFFFFull << rnd_below(53);
  }
  return sign | (e << 52) | f;
}

static uint64_t gen64_related(uint64_t a) {
  uint32_t k = rnd_below(100);
  int32_t e = (int32_t)((a >> 52) & 0x7FF);
  uint64_t b = a;
  if (k < 25) {
    b = a + rnd_below(9) - 4;
  } else if (k < 60) {
    e += (int32_t)rnd_below(121) - 60;
    if (e < 0) e = 0;
    if (e > 2046) e = 2046;
    b = (a & 0x800FFFFFFFFFFFFFull) | ((uint64_t)e << 52);
    if (rnd_below(2)) b ^= rnd64() & (0x000FFFFFFFFFFFFFull >> rnd_below(53));
  } else if (k < 80) {
    e += (int32_t)rnd_below(2201) - 1100;
    if (e < 1) e = 1;
    if (e > 2046) e = 2046;
    b = (uint64_t)e << 52;
  } else {
    b = gen64();
  }
  if (rnd_below(2)) b ^= 0x8000000000000000ull;
  return b;
}

/* an integer with a random bit length, sometimes near a rounding tie */
static uint64_t gen_int64(void) {
  uint32_t k = rnd_below(100);
  uint64_t v = rnd64();
  if (k < 10) {
    static const uint64_t sp[] = {0, 1, 2, 3, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000ull,
                                  0xFFFFFF, 0x1000000, 0x1000001, 0x1FFFFFFFFFFFFFull,
                                  0x20000000000000ull, 0x20000000000001ull,
                                  0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull,
                                  0xFFFFFFFFFFFFFFFFull, 0x8000000000000001ull,
                                  0xFFFFFF8000000000ull, 0xFFFFFF7FFFFFFFFFull};
    return sp[rnd_below(sizeof(sp) / sizeof(sp[0]))];
  }
  if (k < 50) return v >> rnd_below(64);
  if (k < 80) {
    /* a value with 24..26 significant bits then a tie/near-tie tail */
    uint32_t len = 20 + rnd_below(44);
    uint64_t top = (v | (1ull << 63)) >> (64 - 26);
    uint64_t x = len >= 26 ? top << (len - 26) : top >> (26 - len);
    if (rnd_below(2)) x |= (uint64_t)rnd_below(4) - 1;
    return x;
  }
  return v;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const char *name;
  uint64_t pass, fail;
} stat_t;

#define MAX_STATS 64
static stat_t stats[MAX_STATS];
static int n_stats;
#define MAX_SHOW 5

static stat_t *stat_lookup(const char *name) {
  int i;
  for (i = 0; i < n_stats; i++)
    if (!strcmp(stats[i].name, name)) return &stats[i];
  stats[n_stats].name = name;
  return &stats[n_stats++];
}
/* the lookup is done once per call site */
#define stat_get(name)                          \
  __extension__({                               \
    static stat_t *cached_;                     \
    cached_ ? cached_ : (cached_ = stat_lookup(name)); \
  })

static void rec(stat_t *s, int ok, const char *fmt, uint64_t x, uint64_t y, uint64_t got,
                uint64_t want) {
  if (ok) {
    s->pass++;
    return;
  }
  if (s->fail++ < MAX_SHOW) {
    printf("MISMATCH %s: ", s->name);
    printf(fmt, (unsigned long long)x, (unsigned long long)y);
    printf(" got %016llx want %016llx\n", (unsigned long long)got, (unsigned long long)want);
  }
}

static int ok32(uint32_t got, uint32_t want) {
  if (nan32(want)) return got == OPML_F32_NAN;
  return got == want;
}
static int ok64(uint64_t got, uint64_t want) {
  if (nan64(want)) return got == OPML_F64_NAN;
  return got == want;
}

/* hardware operations (kept out of line so nothing folds across the comparison) */
typedef float (*f32bin)(float, float);
typedef double (*f64bin)(double, double);
static __attribute__((noinline)) float hw_add32(float a, float b) { return a + b; }
static __attribute__((noinline)) float hw_sub32(float a, float b) { return a - b; }
static __attribute__((noinline)) float hw_mul32(float a, float b) { return a * b; }
static __attribute__((noinline)) float hw_div32(float a, float b) { return a / b; }
static __attribute__((noinline)) double hw_add64(double a, double b) { return a + b; }
static __attribute__((noinline)) double hw_sub64(double a, double b) { return a - b; }
static __attribute__((noinline)) double hw_mul64(double a, double b) { return a * b; }
static __attribute__((noinline)) double hw_div64(double a, double b) { return a / b; }
static __attribute__((noinline)) float hw_sqrt32(float a) {
  return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(a)));
}
static __attribute__((noinline)) double hw_sqrt64(double a) {
  __m128d v = _mm_set_sd(a);
  return _mm_cvtsd_f64(_mm_sqrt_sd(v, v));
}

static void pair32(uint32_t *a, uint32_t *b) {
  *a = gen32();
  *b = rnd_below(2) ? gen32_related(*a) : gen32();
  if (rnd_below(2)) {
    uint32_t t = *a;
    *a = *b;
    *b = t;
  }
}
static void pair64(uint64_t *a, uint64_t *b) {
  *a = gen64();
  *b = rnd_below(2) ? gen64_related(*a) : gen64();
  if (rnd_below(2)) {
    uint64_t t = *a;
    *a = *b;
    *b = t;
  }
}

static void test_bin32(const char *name, f32bin soft, f32bin hw, uint64_t n) {
  stat_t *s = stat_lookup(name);
  uint64_t i;
  uint32_t a, b, got, want;
  for (i = 0; i < n; i++) {
    if (i < N_SPECIAL32 * N_SPECIAL32) {
      a = special32[i / N_SPECIAL32];
      b = special32[i % N_SPECIAL32];
    } else {
      pair32(&a, &b);
    }
    got = fbits(soft(bitsf(a), bitsf(b)));
    want = fbits(hw(bitsf(a), bitsf(b)));
    rec(s, ok32(got, want), "%08llx %08llx", a, b, got, want);
  }
}

static void test_bin64(const char *name, f64bin soft, f64bin hw, uint64_t n) {
  stat_t *s = stat_lookup(name);
  uint64_t i, a, b, got, want;
  for (i = 0; i < n; i++) {
    if (i < N_SPECIAL64 * N_SPECIAL64) {
      a = special64[i / N_SPECIAL64];
      b = special64[i % N_SPECIAL64];
    } else {
      pair64(&a, &b);
    }
    got = dbits(soft(bitsd(a), bitsd(b)));
    want = dbits(hw(bitsd(a), bitsd(b)));
    rec(s, ok64(got, want), "%016llx %016llx", a, b, got, want);
  }
}

static void cmp32_one(uint32_t a, uint32_t b) {
  float x = bitsf(a), y = bitsf(b);
  int un = nan32(a) || nan32(b);
  rec(stat_get("eqsf2"), (opml_host_eqsf2(x, y) == 0) == (x == y), "%08llx %08llx", a, b, 0, 0);
  rec(stat_get("nesf2"), (opml_host_nesf2(x, y) != 0) == (x != y), "%08llx %08llx", a, b, 0, 0);
  rec(stat_get("ltsf2"), (opml_host_ltsf2(x, y) < 0) == (x < y), "%08llx %08llx", a, b, 0, 0);
  rec(stat_get("lesf2"), (opml_host_lesf2(x, y) <= 0) == (x <= y), "%08llx %08llx", a, b, 0, 0);
  rec(stat_get("gtsf2"), (opml_host_gtsf2(x, y) > 0) == (x > y), "%08llx %08llx", a, b, 0, 0);
  rec(stat_get("gesf2"), (opml_host_gesf2(x, y) >= 0) == (x >= y), "%08llx %08llx", a, b, 0, 0);
  rec(stat_get("unordsf2"), (opml_host_unordsf2(x, y) != 0) == un, "%08llx %08llx", a, b, 0, 0);
}

static void cmp64_one(uint64_t a, uint64_t b) {
  double x = bitsd(a), y = bitsd(b);
  int un = nan64(a) || nan64(b);
  const char *f = "%016llx %016llx";
  rec(stat_get("eqdf2"), (opml_host_eqdf2(x, y) == 0) == (x == y), f, a, b, 0, 0);
  rec(stat_get("nedf2"), (opml_host_nedf2(x, y) != 0) == (x != y), f, a, b, 0, 0);
  rec(stat_get("ltdf2"), (opml_host_ltdf2(x, y) < 0) == (x < y), f, a, b, 0, 0);
  rec(stat_get("ledf2"), (opml_host_ledf2(x, y) <= 0) == (x <= y), f, a, b, 0, 0);
  rec(stat_get("gtdf2"), (opml_host_gtdf2(x, y) > 0) == (x > y), f, a, b, 0, 0);
  rec(stat_get("gedf2"), (opml_host_gedf2(x, y) >= 0) == (x >= y), f, a, b, 0, 0);
  rec(stat_get("unorddf2"), (opml_host_unorddf2(x, y) != 0) == un, f, a, b, 0, 0);
}

/* a square (exact or one ulp off) for sqrt */
static uint32_t gen_sqrt_arg(void) {
  uint32_t k = rnd_below(100);
  if (k < 30) {
    uint32_t m = (rnd32() & 0x007FF000u) | 0x3F800000u; /* 12-bit significand: exact square */
    float x = bitsf(m);
    int32_t e = (int32_t)rnd_below(120) - 60;
    uint32_t sq = fbits(x * x);
    int32_t se = (int32_t)((sq >> 23) & 0xFF) + 2 * e;
    if (se < 1 || se > 254) return sq;
    sq = (sq & 0x807FFFFFu) | ((uint32_t)se << 23);
    if (rnd_below(2)) sq += rnd_below(3) - 1;
    return sq;
  }
  return gen32();
}

static void unary32_one(uint32_t a) {
  float x = bitsf(a);
  const char *f = "%08llx%.0llx";
  rec(stat_get("sqrtf"), ok32(fbits(opml_sqrtf(x)), fbits(hw_sqrt32(x))), f, a, 0,
      fbits(opml_sqrtf(x)), fbits(hw_sqrt32(x)));
  rec(stat_get("negsf2"), fbits(opml_host_negsf2(x)) == fbits(-x), f, a, 0,
      fbits(opml_host_negsf2(x)), fbits(-x));
  rec(stat_get("fixsfsi"), (uint32_t)opml_host_fixsfsi(x) == (uint32_t)(int32_t)x, f, a, 0,
      (uint32_t)opml_host_fixsfsi(x), (uint32_t)(int32_t)x);
  rec(stat_get("fixunssfsi"), opml_host_fixunssfsi(x) == (uint32_t)x, f, a, 0,
      opml_host_fixunssfsi(x), (uint32_t)x);
  rec(stat_get("fixsfdi"), (uint64_t)opml_host_fixsfdi(x) == (uint64_t)(int64_t)x, f, a, 0,
      (uint64_t)opml_host_fixsfdi(x), (uint64_t)(int64_t)x);
  rec(stat_get("fixunssfdi"), opml_host_fixunssfdi(x) == (uint64_t)x, f, a, 0,
      opml_host_fixunssfdi(x), (uint64_t)x);
  rec(stat_get("extendsfdf2"), ok64(dbits(opml_host_extendsfdf2(x)), dbits((double)x)), f, a, 0,
      dbits(opml_host_extendsfdf2(x)), dbits((double)x));
}

/* a square (exact or one ulp off) for sqrt, or a random pattern */
static uint64_t gen_sqrt_arg64(void) {
  if (rnd_below(100) < 30) {
    /* a 26-bit significand squares exactly; e keeps the square normal */
    double x = bitsd((rnd64() & 0x000FFFFFC0000000ull) | 0x3FF0000000000000ull);
    int32_t e = (int32_t)rnd_below(1200) - 600;
    uint64_t sq = dbits(x * x) + ((uint64_t)(int64_t)e << 52);
    if (rnd_below(2)) sq += (uint64_t)(int64_t)((int32_t)rnd_below(3) - 1);
    return sq;
  }
  return gen64();
}

static void unary64_one(uint64_t a) {
  double x = bitsd(a);
  const char *f = "%016llx%.0llx";
  rec(stat_get("sqrt"), ok64(dbits(opml_sqrt(x)), dbits(hw_sqrt64(x))), f, a, 0,
      dbits(opml_sqrt(x)), dbits(hw_sqrt64(x)));
  rec(stat_get("negdf2"), dbits(opml_host_negdf2(x)) == dbits(-x), f, a, 0,
      dbits(opml_host_negdf2(x)), dbits(-x));
  rec(stat_get("fixdfsi"), (uint32_t)opml_host_fixdfsi(x) == (uint32_t)(int32_t)x, f, a, 0,
      (uint32_t)opml_host_fixdfsi(x), (uint32_t)(int32_t)x);
  rec(stat_get("fixunsdfsi"), opml_host_fixunsdfsi(x) == (uint32_t)x, f, a, 0,
      opml_host_fixunsdfsi(x), (uint32_t)x);
  rec(stat_get("fixdfdi"), (uint64_t)opml_host_fixdfdi(x) == (uint64_t)(int64_t)x, f, a, 0,
      (uint64_t)opml_host_fixdfdi(x), (uint64_t)(int64_t)x);
  rec(stat_get("fixunsdfdi"), opml_host_fixunsdfdi(x) == (uint64_t)x, f, a, 0,
      opml_host_fixunsdfdi(x), (uint64_t)x);
  rec(stat_get("truncdfsf2"), ok32(fbits(opml_host_truncdfsf2(x)), fbits((float)x)), f, a, 0,
      fbits(opml_host_truncdfsf2(x)), fbits((float)x));
}

static void int_one(uint64_t v) {
  const char *f = "%016llx%.0llx";
  int32_t i32 = (int32_t)(uint32_t)v;
  uint32_t u32 = (uint32_t)v;
  int32_t i32h = (int32_t)(uint32_t)(v >> 32);
  /* for 32-bit sources use the high half too: it has the random bit length */
  rec(stat_get("floatsisf"), fbits(opml_host_floatsisf(i32)) == fbits((float)i32), f, v, 0,
      fbits(opml_host_floatsisf(i32)), fbits((float)i32));
  rec(stat_get("floatsisf"), fbits(opml_host_floatsisf(i32h)) == fbits((float)i32h), f, v, 0,
      fbits(opml_host_floatsisf(i32h)), fbits((float)i32h));
  rec(stat_get("floatunsisf"), fbits(opml_host_floatunsisf(u32)) == fbits((float)u32), f, v, 0,
      fbits(opml_host_floatunsisf(u32)), fbits((float)u32));
  rec(stat_get("floatdisf"), fbits(opml_host_floatdisf((int64_t)v)) == fbits((float)(int64_t)v),
      f, v, 0, fbits(opml_host_floatdisf((int64_t)v)), fbits((float)(int64_t)v));
  rec(stat_get("floatundisf"), fbits(opml_host_floatundisf(v)) == fbits((float)v), f, v, 0,
      fbits(opml_host_floatundisf(v)), fbits((float)v));
  rec(stat_get("floatsidf"), dbits(opml_host_floatsidf(i32)) == dbits((double)i32), f, v, 0,
      dbits(opml_host_floatsidf(i32)), dbits((double)i32));
  rec(stat_get("floatunsidf"), dbits(opml_host_floatunsidf(u32)) == dbits((double)u32), f, v, 0,
      dbits(opml_host_floatunsidf(u32)), dbits((double)u32));
  rec(stat_get("floatdidf"),
      dbits(opml_host_floatdidf((int64_t)v)) == dbits((double)(int64_t)v), f, v, 0,
      dbits(opml_host_floatdidf((int64_t)v)), dbits((double)(int64_t)v));
  rec(stat_get("floatundidf"), dbits(opml_host_floatundidf(v)) == dbits((double)v), f, v, 0,
      dbits(opml_host_floatundidf(v)), dbits((double)v));
}

int main(int argc, char **argv) {
  uint64_t n = 1000000, i;
  const char *env;
  uint64_t pass = 0, fail = 0;
  int k;
  if ((env = getenv("OPML_SOFTFLOAT_N")) && *env) n = strtoull(env, 0, 10);
  if (argc > 1) n = strtoull(argv[1], 0, 10);
  rng_state = 1;
  if ((env = getenv("OPML_SOFTFLOAT_SEED")) && *env) rng_state = strtoull(env, 0, 10);
  /* the default SSE state: round to nearest, no flush-to-zero, no denormals-are-zero */
  _mm_setcsr(0x1F80);
  printf("softfloat vs x86 SSE: %llu operand sets per operation, seed %llu\n",
         (unsigned long long)n, (unsigned long long)rng_state);

  test_bin32("addsf3", opml_host_addsf3, hw_add32, n);
  test_bin32("subsf3", opml_host_subsf3, hw_sub32, n);
  test_bin32("mulsf3", opml_host_mulsf3, hw_mul32, n);
  test_bin32("divsf3", opml_host_divsf3, hw_div32, n);
  for (i = 0; i < n; i++) {
    uint32_t a, b;
    if (i < N_SPECIAL32 * N_SPECIAL32) {
      a = special32[i / N_SPECIAL32];
      b = special32[i % N_SPECIAL32];
    } else {
      pair32(&a, &b);
    }
    cmp32_one(a, b);
  }
  for (i = 0; i < n; i++) unary32_one(i < N_SPECIAL32 ? special32[i] : gen_sqrt_arg());

  test_bin64("adddf3", opml_host_adddf3, hw_add64, n);
  test_bin64("subdf3", opml_host_subdf3, hw_sub64, n);
  test_bin64("muldf3", opml_host_muldf3, hw_mul64, n);
  test_bin64("divdf3", opml_host_divdf3, hw_div64, n);
  for (i = 0; i < n; i++) {
    uint64_t a, b;
    if (i < N_SPECIAL64 * N_SPECIAL64) {
      a = special64[i / N_SPECIAL64];
      b = special64[i % N_SPECIAL64];
    } else {
      pair64(&a, &b);
    }
    cmp64_one(a, b);
  }
  for (i = 0; i < n; i++) unary64_one(i < N_SPECIAL64 ? special64[i] : gen_sqrt_arg64());
  for (i = 0; i < n; i++) int_one(gen_int64());

  if ((env = getenv("OPML_SOFTFLOAT_EXHAUSTIVE")) && !strcmp(env, "1")) {
    uint64_t a;
    printf("exhaustive unary binary32 pass over 2^32 inputs\n");
    for (a = 0; a <= 0xFFFFFFFFull; a++) unary32_one((uint32_t)a);
  }

  for (k = 0; k < n_stats; k++) {
    printf("%s: %llu passed, %llu failed\n", stats[k].name, (unsigned long long)stats[k].pass,
           (unsigned long long)stats[k].fail);
    pass += stats[k].pass;
    fail += stats[k].fail;
  }
  printf("%llu passed, %llu failed\n", (unsigned long long)pass, (unsigned long long)fail);
  return fail ? 1 : 0;
}
