/*
 * The integer helpers GCC calls on 32-bit MIPS (we link without libgcc: Debian's cross libgcc is
 * PIC and hard-float). -Os calls the 64-bit shift helpers; 64-bit division always calls
 * __udivdi3 & co; -march=mips1 calls __clzsi2 for __builtin_clz; __builtin_popcount/ctz/parity/
 * bswap call their helpers on MIPS32r1.
 *
 * Everything here is written with 32-bit operations on explicit halves, so that compiling this
 * file can never produce a call to the helper being defined (e.g. a 64-bit shift inside
 * __ashldi3 would call __ashldi3 itself at -Os), and with branchy/SWAR code that GCC does not
 * recognise as a popcount/clz/bswap idiom.
 */
#include <stdint.h>

typedef union {
  int64_t s;
  uint64_t u;
  struct {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t lo, hi;
#else
    uint32_t hi, lo;
#endif
  } w;
} dw_t;

int64_t __ashldi3(int64_t a, int b);
int64_t __ashrdi3(int64_t a, int b);
uint64_t __lshrdi3(uint64_t a, int b);
int64_t __muldi3(int64_t a, int64_t b);
int64_t __negdi2(int64_t a);
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);
int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem);
int __cmpdi2(int64_t a, int64_t b);
int __ucmpdi2(uint64_t a, uint64_t b);
int __clzsi2(uint32_t a);
int __ctzsi2(uint32_t a);
int __ffssi2(uint32_t a);
int __popcountsi2(uint32_t a);
int __paritysi2(uint32_t a);
int __clzdi2(uint64_t a);
int __ctzdi2(uint64_t a);
int __ffsdi2(uint64_t a);
int __popcountdi2(uint64_t a);
int __paritydi2(uint64_t a);
uint32_t __bswapsi2(uint32_t a);
uint64_t __bswapdi2(uint64_t a);

/* --- shifts (count in 0..63) ------------------------------------------------------------ */

int64_t __ashldi3(int64_t a, int b) {
  dw_t x, r;
  unsigned n = (unsigned)b & 63;
  x.s = a;
  if (n == 0) return a;
  if (n >= 32) {
    r.w.hi = x.w.lo << (n - 32);
    r.w.lo = 0;
  } else {
    r.w.hi = (x.w.hi << n) | (x.w.lo >> (32 - n));
    r.w.lo = x.w.lo << n;
  }
  return r.s;
}

uint64_t __lshrdi3(uint64_t a, int b) {
  dw_t x, r;
  unsigned n = (unsigned)b & 63;
  x.u = a;
  if (n == 0) return a;
  if (n >= 32) {
    r.w.lo = x.w.hi >> (n - 32);
    r.w.hi = 0;
  } else {
    r.w.lo = (x.w.lo >> n) | (x.w.hi << (32 - n));
    r.w.hi = x.w.hi >> n;
  }
  return r.u;
}

int64_t __ashrdi3(int64_t a, int b) {
  dw_t x, r;
  unsigned n = (unsigned)b & 63;
  x.s = a;
  if (n == 0) return a;
  if (n >= 32) {
    r.w.lo = (uint32_t)((int32_t)x.w.hi >> (n - 32));
    r.w.hi = (uint32_t)((int32_t)x.w.hi >> 31);
  } else {
    r.w.lo = (x.w.lo >> n) | (x.w.hi << (32 - n));
    r.w.hi = (uint32_t)((int32_t)x.w.hi >> n);
  }
  return r.s;
}

/* --- multiply ------------------------------------------------------------------------------ */

/* 32 x 32 -> 64 with 16-bit partial products and 32-bit multiplies only */
static dw_t umul32x32(uint32_t a, uint32_t b) {
  dw_t r;
  uint32_t a0 = a & 0xFFFF, a1 = a >> 16, b0 = b & 0xFFFF, b1 = b >> 16;
  uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint32_t mid = p01 + (p00 >> 16);
  uint32_t mid2 = p10 + (mid & 0xFFFF);
  r.w.hi = p11 + (mid >> 16) + (mid2 >> 16);
  r.w.lo = (mid2 << 16) | (p00 & 0xFFFF);
  return r;
}

int64_t __muldi3(int64_t a, int64_t b) {
  dw_t x, y, r;
  x.s = a;
  y.s = b;
  r = umul32x32(x.w.lo, y.w.lo);
  r.w.hi += x.w.hi * y.w.lo + x.w.lo * y.w.hi;
  return r.s;
}

static inline dw_t dw_neg(dw_t x) {
  dw_t r;
  r.w.lo = -x.w.lo;
  r.w.hi = -x.w.hi - (x.w.lo != 0);
  return r;
}

int64_t __negdi2(int64_t a) {
  dw_t x;
  x.s = a;
  return dw_neg(x).s;
}

/* --- division -------------------------------------------------------------------------------- */

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem) {
  dw_t N, D, q, r;
  int i;
  N.u = n;
  D.u = d;
  if (D.w.hi == 0) {
    if (N.w.hi == 0) {
      q.w.hi = 0;
      q.w.lo = N.w.lo / D.w.lo;
      r.w.hi = 0;
      r.w.lo = N.w.lo % D.w.lo;
      if (rem) *rem = r.u;
      return q.u;
    }
    if (D.w.lo <= 0xFFFF) {
      /* 64 / 16 bits: 32 + 16 + 16 quotient bits, each step a 32-bit divu */
      uint32_t dv = D.w.lo, rr, cur, q1, q0;
      q.w.hi = N.w.hi / dv;
      rr = N.w.hi % dv;
      cur = (rr << 16) | (N.w.lo >> 16);
      q1 = cur / dv;
      rr = cur % dv;
      cur = (rr << 16) | (N.w.lo & 0xFFFF);
      q0 = cur / dv;
      rr = cur % dv;
      q.w.lo = (q1 << 16) | q0;
      r.w.hi = 0;
      r.w.lo = rr;
      if (rem) *rem = r.u;
      return q.u;
    }
  }
  /* general case: restoring division, one quotient bit per step */
  q.w.hi = q.w.lo = 0;
  r.w.hi = r.w.lo = 0;
  for (i = 63; i >= 0; i--) {
    uint32_t bit = i >= 32 ? (N.w.hi >> (i - 32)) & 1 : (N.w.lo >> i) & 1;
    uint32_t top = r.w.hi >> 31;
    r.w.hi = (r.w.hi << 1) | (r.w.lo >> 31);
    r.w.lo = (r.w.lo << 1) | bit;
    /* r >= D ? (a 65-bit remainder when top is set) */
    if (top || r.w.hi > D.w.hi || (r.w.hi == D.w.hi && r.w.lo >= D.w.lo)) {
      uint32_t borrow = r.w.lo < D.w.lo;
      r.w.lo -= D.w.lo;
      r.w.hi = r.w.hi - D.w.hi - borrow;
      if (i >= 32)
        q.w.hi |= 1u << (i - 32);
      else
        q.w.lo |= 1u << i;
    }
  }
  if (rem) *rem = r.u;
  return q.u;
}

uint64_t __udivdi3(uint64_t n, uint64_t d) { return __udivmoddi4(n, d, 0); }

uint64_t __umoddi3(uint64_t n, uint64_t d) {
  uint64_t r;
  __udivmoddi4(n, d, &r);
  return r;
}

int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem) {
  dw_t N, D, q, r;
  int nneg, dneg;
  N.s = n;
  D.s = d;
  nneg = (int)(N.w.hi >> 31);
  dneg = (int)(D.w.hi >> 31);
  if (nneg) N = dw_neg(N);
  if (dneg) D = dw_neg(D);
  q.u = __udivmoddi4(N.u, D.u, &r.u);
  if (nneg ^ dneg) q = dw_neg(q);
  if (nneg) r = dw_neg(r);
  if (rem) *rem = r.s;
  return q.s;
}

int64_t __divdi3(int64_t n, int64_t d) { return __divmoddi4(n, d, 0); }

int64_t __moddi3(int64_t n, int64_t d) {
  int64_t r;
  __divmoddi4(n, d, &r);
  return r;
}

/* --- comparisons: 0 if a < b, 1 if equal, 2 if a > b ------------------------------------------ */

int __cmpdi2(int64_t a, int64_t b) {
  dw_t x, y;
  x.s = a;
  y.s = b;
  if ((int32_t)x.w.hi != (int32_t)y.w.hi) return (int32_t)x.w.hi < (int32_t)y.w.hi ? 0 : 2;
  if (x.w.lo != y.w.lo) return x.w.lo < y.w.lo ? 0 : 2;
  return 1;
}

int __ucmpdi2(uint64_t a, uint64_t b) {
  dw_t x, y;
  x.u = a;
  y.u = b;
  if (x.w.hi != y.w.hi) return x.w.hi < y.w.hi ? 0 : 2;
  if (x.w.lo != y.w.lo) return x.w.lo < y.w.lo ? 0 : 2;
  return 1;
}

/* --- bit counting ------------------------------------------------------------------------------ */

int __clzsi2(uint32_t x) { /* x != 0 */
  int n = 0;
  if (!(x & 0xFFFF0000u)) { n += 16; x <<= 16; }
  if (!(x & 0xFF000000u)) { n += 8; x <<= 8; }
  if (!(x & 0xF0000000u)) { n += 4; x <<= 4; }
  if (!(x & 0xC0000000u)) { n += 2; x <<= 2; }
  if (!(x & 0x80000000u)) { n += 1; }
  return n;
}

int __ctzsi2(uint32_t x) { /* x != 0 */
  int n = 0;
  if (!(x & 0x0000FFFFu)) { n += 16; x >>= 16; }
  if (!(x & 0x000000FFu)) { n += 8; x >>= 8; }
  if (!(x & 0x0000000Fu)) { n += 4; x >>= 4; }
  if (!(x & 0x00000003u)) { n += 2; x >>= 2; }
  if (!(x & 0x00000001u)) { n += 1; }
  return n;
}

int __ffssi2(uint32_t x) { return x ? __ctzsi2(x) + 1 : 0; }

int __popcountsi2(uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0Fu;
  return (int)((x * 0x01010101u) >> 24);
}

int __paritysi2(uint32_t x) {
  x ^= x >> 16;
  x ^= x >> 8;
  x ^= x >> 4;
  return (int)((0x6996u >> (x & 15)) & 1);
}

int __clzdi2(uint64_t a) {
  dw_t x;
  x.u = a;
  return x.w.hi ? __clzsi2(x.w.hi) : 32 + __clzsi2(x.w.lo);
}

int __ctzdi2(uint64_t a) {
  dw_t x;
  x.u = a;
  return x.w.lo ? __ctzsi2(x.w.lo) : 32 + __ctzsi2(x.w.hi);
}

int __ffsdi2(uint64_t a) {
  dw_t x;
  x.u = a;
  if (x.w.lo) return __ctzsi2(x.w.lo) + 1;
  if (x.w.hi) return __ctzsi2(x.w.hi) + 33;
  return 0;
}

int __popcountdi2(uint64_t a) {
  dw_t x;
  x.u = a;
  return __popcountsi2(x.w.hi) + __popcountsi2(x.w.lo);
}

int __paritydi2(uint64_t a) {
  dw_t x;
  x.u = a;
  return __paritysi2(x.w.hi ^ x.w.lo);
}

/* --- byte swaps ---------------------------------------------------------------------------------- */

uint32_t __bswapsi2(uint32_t x) {
  uint32_t t = ((x & 0x00FF00FFu) << 8) | ((x >> 8) & 0x00FF00FFu);
  return (t << 16) | (t >> 16);
}

uint64_t __bswapdi2(uint64_t a) {
  dw_t x, r;
  x.u = a;
  r.w.hi = __bswapsi2(x.w.lo);
  r.w.lo = __bswapsi2(x.w.hi);
  return r.u;
}
