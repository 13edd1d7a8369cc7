/*
 * bits: count leading zeros/ones (clz clo; __builtin_clz uses clz on MIPS32 and the __clzsi2
 * helper on MIPS I), popcount/ctz/parity/bswap (libgcc helpers on MIPS32r1), bit reversal,
 * rotations, conditional moves (movn movz: inline asm, and what GCC makes of selects) and
 * classic bit tricks. Exit code 0.
 */
#include "corpus.h"

static uint32_t asm_clz(uint32_t x) {
#if HAVE_MIPS32
  uint32_t r;
  __asm__("clz %0, %1" : "=r"(r) : "r"(x));
  return r;
#else
  return x ? (uint32_t)__builtin_clz(x) : 32;
#endif
}

static uint32_t asm_clo(uint32_t x) {
#if HAVE_MIPS32
  uint32_t r;
  __asm__("clo %0, %1" : "=r"(r) : "r"(x));
  return r;
#else
  return ~x ? (uint32_t)__builtin_clz(~x) : 32;
#endif
}

static uint32_t asm_movn(uint32_t d, uint32_t s, uint32_t t) { /* d = t != 0 ? s : d */
#if HAVE_MIPS32
  __asm__("movn %0, %1, %2" : "+r"(d) : "r"(s), "r"(t));
  return d;
#else
  return t ? s : d;
#endif
}

static uint32_t asm_movz(uint32_t d, uint32_t s, uint32_t t) { /* d = t == 0 ? s : d */
#if HAVE_MIPS32
  __asm__("movz %0, %1, %2" : "+r"(d) : "r"(s), "r"(t));
  return d;
#else
  return t ? d : s;
#endif
}

__attribute__((noinline)) static uint32_t sel(uint32_t c, uint32_t a, uint32_t b) {
  return c ? a : b;
}
__attribute__((noinline)) static int32_t smax(int32_t a, int32_t b) { return a > b ? a : b; }
__attribute__((noinline)) static uint32_t umin(uint32_t a, uint32_t b) { return a < b ? a : b; }

static uint32_t reverse_bits(uint32_t x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}

static uint32_t rotl(uint32_t x, uint32_t n) { return (x << (n & 31)) | (x >> ((32 - n) & 31)); }

static const uint32_t vals[] = {0,          1,          2,          3,          0x80,
                                0xFF,       0x100,      0x8000,     0xFFFF,     0x10000,
                                0x00F00000, 0x7FFFFFFF, 0x80000000, 0xC0000000, 0xFFFFFFFE,
                                0xFFFFFFFF, 0xDEADBEEF, 0x12345678, 0x0000F000, 0xFFFF0000};
#define NV (sizeof vals / sizeof vals[0])

int main(void) {
  unsigned i;
  uint32_t h = MIX_INIT;
  for (i = 0; i < NV; i++) {
    uint32_t x = opq(vals[i]);
    uint32_t bclz = x ? (uint32_t)__builtin_clz(x) : 32;
    uint32_t bctz = x ? (uint32_t)__builtin_ctz(x) : 32;
    rt_printf("x=0x%08x clz=%u clo=%u bclz=%u ctz=%u pop=%d par=%d bswap=0x%08x rev=0x%08x "
              "rotl13=0x%08x\n",
              x, asm_clz(x), asm_clo(x), bclz, bctz, __builtin_popcount(x),
              __builtin_parity(x), __builtin_bswap32(x), reverse_bits(x), rotl(x, opq(13)));
    h = mix32(h, asm_clz(x) ^ (asm_clo(x) << 8) ^ bclz ^ (bctz << 16));
  }
  /* 64-bit variants (helpers) */
  {
    uint64_t y = opq64(0x00000F0000000000ull);
    rt_printf("clzll=%d ctzll=%d popll=%d bswap64=0x%016llx\n", __builtin_clzll(y),
              __builtin_ctzll(y), __builtin_popcountll(y | 0xFF), 
              (unsigned long long)__builtin_bswap64(y | 0x1122));
  }
  /* conditional moves */
  for (i = 0; i < 6; i++) {
    uint32_t t = opq(i & 1 ? 0 : i), a = opq(0x1111 * i), b = opq(0xAAAA0000u + i);
    rt_printf("movn=0x%08x movz=0x%08x sel=0x%08x smax=%d umin=%u\n", asm_movn(a, b, t),
              asm_movz(a, b, t), sel(t, a, b), smax((int32_t)(a - 0x3000), -(int32_t)i),
              umin(a, b));
    h = mix32(h, asm_movn(a, b, t) + asm_movz(a, b, t));
  }
  /* bit tricks */
  {
    uint32_t x = opq(0x0ABC0000);
    int32_t y = opqi(-77);
    rt_printf("lowest set=0x%08x clear lowest=0x%08x pow2? %d next pow2=%u abs=%d sign=%d\n",
              x & -x, x & (x - 1), (x & (x - 1)) == 0, 1u << (32 - asm_clz(opq(1000) - 1)),
              (y ^ (y >> 31)) - (y >> 31), (y > 0) - (y < 0));
  }
  rt_printf("bits checksum 0x%08x\n", h);
  return 0;
}
