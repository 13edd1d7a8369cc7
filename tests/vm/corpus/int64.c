/*
 * int64: 64-bit arithmetic on a 32-bit CPU: add/sub with carries, multiply (multu + mul
 * sequences), signed/unsigned division and remainder (__divdi3 & co), constant and variable
 * shifts (inline at -O2, __ashldi3 & co at -Os), comparisons and conversions. Exit code 0.
 */
#include "corpus.h"

static const uint64_t vals[] = {0,
                                1,
                                2,
                                3,
                                10,
                                0xFFFFFFFFull,
                                0x100000000ull,
                                0x100000001ull,
                                0x7FFFFFFFFFFFFFFFull,
                                0x8000000000000000ull,
                                0xFFFFFFFFFFFFFFFFull,
                                0xFFFFFFFFFFFFFFFEull,
                                0x0123456789ABCDEFull,
                                0xFEDCBA9876543210ull,
                                1000000007ull,
                                1000000000000000003ull,
                                0x00000000DEADBEEFull,
                                0xDEADBEEF00000000ull};
#define NV (sizeof vals / sizeof vals[0])

static uint64_t isqrt64(uint64_t x) { /* Newton from above, with 64-bit division */
  uint64_t r = x < 0x100000000ull ? x : 0xFFFFFFFFull, y; /* r >= floor(sqrt(x)), no overflow */
  if (x < 2) return x;
  y = (r + x / r) / 2;
  while (y < r) {
    r = y;
    y = (r + x / r) / 2;
  }
  return r;
}

static uint64_t gcd64(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m) { /* m < 2^32: products fit */
  uint64_t r = 1;
  b %= m;
  while (e) {
    if (e & 1) r = r * b % m;
    b = b * b % m;
    e >>= 1;
  }
  return r;
}

int main(void) {
  unsigned i, j;
  uint32_t hadd = MIX_INIT, hmul = MIX_INIT, hdiv = MIX_INIT, hsh = MIX_INIT, hcmp = MIX_INIT;
  for (i = 0; i < NV; i++) {
    for (j = 0; j < NV; j++) {
      uint64_t a = opq64(vals[i]), b = opq64(vals[j]);
      int64_t sa = (int64_t)a, sb = (int64_t)b;
      uint64_t s = a + b, d = a - b, m = a * b;
      hadd = mix32(mix32(hadd, (uint32_t)(s >> 32) ^ (uint32_t)s), (uint32_t)(d >> 32) ^ (uint32_t)d);
      hmul = mix32(mix32(hmul, (uint32_t)(m >> 32)), (uint32_t)m);
      if (b) {
        uint64_t q = a / b, r = a % b;
        hdiv = mix32(mix32(hdiv, (uint32_t)(q >> 32) ^ (uint32_t)q), (uint32_t)(r >> 32) ^ (uint32_t)r);
        if (!(sa == (int64_t)0x8000000000000000ull && sb == -1)) {
          int64_t sq = sa / sb, sr = sa % sb;
          hdiv = mix32(mix32(hdiv, (uint32_t)((uint64_t)sq >> 32) ^ (uint32_t)sq),
                       (uint32_t)((uint64_t)sr >> 32) ^ (uint32_t)sr);
        }
      }
      {
        uint32_t n = (uint32_t)b & 63;
        hsh = mix32(hsh, (uint32_t)(a << n) ^ (uint32_t)((a << n) >> 32));
        hsh = mix32(hsh, (uint32_t)(a >> n) ^ (uint32_t)((a >> n) >> 32));
        hsh = mix32(hsh, (uint32_t)(sa >> n) ^ (uint32_t)((uint64_t)(sa >> n) >> 32));
      }
      hcmp = mix32(hcmp, (a < b) | ((a <= b) << 1) | ((sa < sb) << 2) | ((sa >= sb) << 3) |
                             ((a == b) << 4) | ((sa > sb) << 5));
    }
  }
  rt_printf("add/sub 0x%08x\nmul     0x%08x\ndiv/mod 0x%08x\nshifts  0x%08x\ncompare 0x%08x\n",
            hadd, hmul, hdiv, hsh, hcmp);
  for (i = 0; i < NV; i += 3) {
    uint64_t a = opq64(vals[i]), b = opq64(vals[(i * 5 + 4) % NV]);
    rt_printf("a=%llu b=%llu a+b=%llu a-b=%lld a*b=0x%016llx", (unsigned long long)a,
              (unsigned long long)b, (unsigned long long)(a + b), (long long)(a - b),
              (unsigned long long)(a * b));
    if (b) rt_printf(" a/b=%llu a%%b=%llu sa/sb=%lld sa%%sb=%lld", (unsigned long long)(a / b),
                     (unsigned long long)(a % b), (long long)((int64_t)a / (int64_t)b),
                     (long long)((int64_t)a % (int64_t)b));
    rt_printf("\n");
  }
  {
    int64_t x = (int64_t)opq64((uint64_t)-123456789012345ll);
    rt_printf("x=%lld x<<7=%lld x>>7=%lld ux>>7=0x%016llx x<<40=%lld x>>40=%lld x>>63=%lld\n",
              (long long)x, (long long)(int64_t)((uint64_t)x << 7), (long long)(x >> 7),
              (unsigned long long)((uint64_t)x >> 7), (long long)(int64_t)((uint64_t)x << 40),
              (long long)(x >> 40), (long long)(x >> 63));
    rt_printf("x/1000=%lld x%%1000=%lld x/-7=%lld (int32)x=%d (uint32)x=%u from i32=%lld\n",
              (long long)(x / 1000), (long long)(x % 1000), (long long)(x / -7), (int32_t)x,
              (uint32_t)x, (long long)(int64_t)opqi(-5));
  }
  rt_printf("isqrt(10^18)=%llu isqrt(2^64-1)=%llu\n",
            (unsigned long long)isqrt64(opq64(1000000000000000000ull)),
            (unsigned long long)isqrt64(opq64(0xFFFFFFFFFFFFFFFFull)));
  rt_printf("gcd=%llu powmod=%llu\n",
            (unsigned long long)gcd64(opq64(0x1E8480000000ull), opq64(0x5F5E10000000ull)),
            (unsigned long long)powmod(opq64(123456789), opq64(1000000006), opq64(1000000007)));
  {
    uint64_t f = 1;
    for (i = 1; i <= 20; i++) f *= opq(i);
    rt_printf("20! = %llu\n", (unsigned long long)f);
  }
  return 0;
}
