/*
 * muldiv: 32x32->64 multiplies (mult multu mfhi mflo), 32-bit products (mul on MIPS32),
 * signed/unsigned division and remainder (div divu), INT_MIN / -1 (lo = INT_MIN, hi = 0, through
 * inline asm because it is undefined in C), and mthi/mtlo. Exit code 0.
 */
#include "corpus.h"

static const int32_t sv[] = {0,        1,         -1,        2,          -2,         3,
                             7,        -7,        10,        -10,        12345,      -12345,
                             65535,    65536,     -65536,    1000003,    -1000003,   0x7FFFFFFF,
                             -0x7FFFFFFF - 1, 0x12345678, -0x12345678, 0x40000000, 0x3FFFFFFF};
#define NS (sizeof sv / sizeof sv[0])

/* raw div: quotient in lo, remainder in hi */
static void raw_div(int32_t a, int32_t b, uint32_t *lo, uint32_t *hi) {
  uint32_t l, h;
  __asm__ __volatile__("div $zero, %2, %3\n\tmflo %0\n\tmfhi %1"
                       : "=r"(l), "=r"(h)
                       : "r"(a), "r"(b)
                       : "hi", "lo");
  *lo = l;
  *hi = h;
}

static void raw_mthilo(uint32_t a, uint32_t b, uint32_t *lo, uint32_t *hi) {
  uint32_t l, h;
  __asm__ __volatile__("mthi %2\n\tmtlo %3\n\tmfhi %1\n\tmflo %0"
                       : "=&r"(l), "=&r"(h)
                       : "r"(a), "r"(b)
                       : "hi", "lo");
  *lo = l;
  *hi = h;
}

int main(void) {
  unsigned i, j;
  uint32_t hm = MIX_INIT, hmu = MIX_INIT, hmul = MIX_INIT, hd = MIX_INIT, hdu = MIX_INIT;
  for (i = 0; i < NS; i++) {
    for (j = 0; j < NS; j++) {
      int32_t a = opqi(sv[i]), b = opqi(sv[j]);
      uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
      int64_t p = (int64_t)a * b;
      uint64_t up = (uint64_t)ua * ub;
      hm = mix32(mix32(hm, (uint32_t)(p >> 32)), (uint32_t)p);
      hmu = mix32(mix32(hmu, (uint32_t)(up >> 32)), (uint32_t)up);
      hmul = mix32(hmul, ua * ub);
      if (b != 0 && !(a == -0x7FFFFFFF - 1 && b == -1)) {
        hd = mix32(mix32(hd, (uint32_t)(a / b)), (uint32_t)(a % b));
      }
      if (ub != 0) hdu = mix32(mix32(hdu, ua / ub), ua % ub);
    }
  }
  rt_printf("mult  0x%08x\nmultu 0x%08x\nmul   0x%08x\ndiv   0x%08x\ndivu  0x%08x\n", hm, hmu,
            hmul, hd, hdu);
  /* explicit values */
  for (i = 0; i < NS; i += 2) {
    int32_t a = opqi(sv[i]), b = opqi(sv[(i * 7 + 3) % NS]);
    int64_t p = (int64_t)a * b;
    rt_printf("%d * %d = %lld (hi 0x%08x lo 0x%08x) mul=%d", a, b, (long long)p,
              (uint32_t)((uint64_t)p >> 32), (uint32_t)p, (int32_t)((uint32_t)a * (uint32_t)b));
    if (b) rt_printf(" div=%d rem=%d udiv=%u urem=%u", a / b, a % b, (uint32_t)a / (uint32_t)b,
                     (uint32_t)a % (uint32_t)b);
    rt_printf("\n");
  }
  /* C semantics for negative operands: truncation toward zero */
  rt_printf("-7/2=%d -7%%2=%d 7/-2=%d 7%%-2=%d -7/-2=%d -7%%-2=%d\n", opqi(-7) / opqi(2),
            opqi(-7) % opqi(2), opqi(7) / opqi(-2), opqi(7) % opqi(-2), opqi(-7) / opqi(-2),
            opqi(-7) % opqi(-2));
  /* constant divisors (multiply-high sequences) */
  {
    uint32_t x = opq(4000000007u);
    int32_t y = opqi(-2000000011);
    rt_printf("x/3=%u x/10=%u x%%7=%u y/3=%d y/10=%d y%%7=%d y/16=%d y%%16=%d\n", x / 3, x / 10,
              x % 7, y / 3, y / 10, y % 7, y / 16, y % 16);
  }
  {
    uint32_t lo, hi;
    raw_div(opqi(-0x7FFFFFFF - 1), opqi(-1), &lo, &hi);
    rt_printf("INT_MIN / -1: lo=0x%08x hi=0x%08x\n", lo, hi);
    raw_div(opqi(-0x7FFFFFFF - 1), opqi(1), &lo, &hi);
    rt_printf("INT_MIN / 1: lo=0x%08x hi=0x%08x\n", lo, hi);
    raw_div(opqi(-17), opqi(5), &lo, &hi);
    rt_printf("-17 / 5: lo=%d hi=%d\n", (int32_t)lo, (int32_t)hi);
    raw_mthilo(opq(0xA5A5A5A5), opq(0x5A5A5A5A), &lo, &hi);
    rt_printf("mthi/mtlo: hi=0x%08x lo=0x%08x\n", hi, lo);
  }
  return 0;
}
