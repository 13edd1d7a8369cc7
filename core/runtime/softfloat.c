/*
 * opml soft-float: integer-only IEEE 754 binary32 / binary64, round to nearest even.
 * See softfloat.h for the rules. The structure of add/sub/mul and of the rounding routines
 * follows the well-known design of Berkeley SoftFloat 3 (J. Hauser), reduced to the one
 * rounding mode we need and with canonical NaNs; division and square root are our own exact
 * integer algorithms (32-bit `divu` in chunks for binary32 division, digit-by-digit for square
 * root and binary64 division).
 *
 * Internal conventions (as in SoftFloat):
 *   binary32: a significand `sig` with its leading one at bit 30 and 7 round bits below the
 *     unit in the last place; the value is sig / 2^30 * 2^(exp + 1 - 127). packing uses `+`, so
 *     the leading one carries into the exponent field (that is why exp is one less than the
 *     biased exponent).
 *   binary64: leading one at bit 62, 10 round bits; value sig / 2^62 * 2^(exp + 1 - 1023).
 *
 * This file must not use `float`/`double` arithmetic (it implements it), and it must not use
 * 64-bit division (that would call __udivdi3, a slow helper in the MIPS image).
 *
 * Build with -DOPML_SOFTFLOAT_HOST_TEST to rename the libgcc entry points (opml_host_addsf3
 * instead of __addsf3) so a native test can compare them with the hardware without replacing the
 * host's own libgcc.
 */
#include "softfloat.h"

#ifdef OPML_SOFTFLOAT_HOST_TEST
#define LIBGCC(name) opml_host_##name
#else
#define LIBGCC(name) __##name
#endif

/* The arithmetic cores are inlined into both the opml_* bit API and the libgcc entry points, so
 * a libgcc call does not pay for a second call frame (it runs in an interpreted VM). */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* ---------------------------------------------------------------------------------------------
 * helpers
 */

/* number of leading zero bits of a nonzero word */
static inline int clz32(uint32_t x) {
#if defined(__mips) && (__mips < 32)
  /* MIPS I has no clz instruction, and __builtin_clz would call a libgcc helper */
  int n = 0;
  if (!(x & 0xFFFF0000u)) { n += 16; x <<= 16; }
  if (!(x & 0xFF000000u)) { n += 8; x <<= 8; }
  if (!(x & 0xF0000000u)) { n += 4; x <<= 4; }
  if (!(x & 0xC0000000u)) { n += 2; x <<= 2; }
  if (!(x & 0x80000000u)) { n += 1; }
  return n;
#else
  return __builtin_clz(x);
#endif
}

static inline int clz64(uint64_t x) {
  uint32_t hi = (uint32_t)(x >> 32);
  return hi ? clz32(hi) : 32 + clz32((uint32_t)x);
}

/* shift right, OR-ing every bit shifted out into bit 0 ("jamming") */
static inline uint32_t shr_jam32(uint32_t a, uint32_t dist) {
  return dist < 31 ? (a >> dist) | ((uint32_t)(a << (-dist & 31)) != 0) : (a != 0);
}

static inline uint64_t shr_jam64(uint64_t a, uint32_t dist) {
  return dist < 63 ? (a >> dist) | ((uint64_t)(a << (-dist & 63)) != 0) : (a != 0);
}

#define F32_SIGN(a) ((uint32_t)(a) >> 31)
#define F32_EXP(a) ((int32_t)(((a) >> 23) & 0xFF))
#define F32_FRAC(a) ((a) & 0x007FFFFFu)
#define F32_PACK(s, e, m) (((uint32_t)(s) << 31) + ((uint32_t)(e) << 23) + (m))
#define F32_IS_NAN(a) (((a) & 0x7FFFFFFFu) > 0x7F800000u)

#define F64_SIGN(a) ((uint32_t)((a) >> 63))
#define F64_EXP(a) ((int32_t)((a) >> 52) & 0x7FF)
#define F64_FRAC(a) ((a) & 0x000FFFFFFFFFFFFFull)
#define F64_PACK(s, e, m) (((uint64_t)(s) << 63) + ((uint64_t)(uint32_t)(e) << 52) + (m))
#define F64_IS_NAN(a) (((a) & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull)

/* ---------------------------------------------------------------------------------------------
 * binary32 core
 */

static uint32_t f32_round_pack(uint32_t sign, int32_t exp, uint32_t sig) {
  uint32_t round_bits = sig & 0x7F;
  if ((uint32_t)exp >= 0xFD) {
    if (exp < 0) {
      /* subnormal (or zero) result */
      sig = shr_jam32(sig, (uint32_t)-exp);
      exp = 0;
      round_bits = sig & 0x7F;
    } else if (exp > 0xFD || sig + 0x40 >= 0x80000000u) {
      return F32_PACK(sign, 0xFF, 0); /* overflow to infinity */
    }
  }
  sig = (sig + 0x40) >> 7;
  if (round_bits == 0x40) sig &= ~1u; /* tie: to even */
  if (!sig) exp = 0;
  return F32_PACK(sign, exp, sig);
}

static uint32_t f32_norm_round_pack(uint32_t sign, int32_t exp, uint32_t sig) {
  int shift = clz32(sig) - 1; /* sig != 0 */
  exp -= shift;
  if (shift >= 7 && (uint32_t)exp < 0xFD) {
    return F32_PACK(sign, sig ? exp : 0, sig << (shift - 7));
  }
  return f32_round_pack(sign, exp, sig << shift);
}

/* normalise a subnormal significand (nonzero fraction): leading one to bit 23 */
static inline int32_t f32_norm_subnormal(uint32_t *sig) {
  int shift = clz32(*sig) - 8;
  *sig <<= shift;
  return 1 - shift;
}

/* |a| + |b|, result sign = sign of a */
static ALWAYS_INLINE uint32_t f32_add_mags(uint32_t a, uint32_t b) {
  uint32_t sign = F32_SIGN(a);
  int32_t exp_a = F32_EXP(a), exp_b = F32_EXP(b);
  uint32_t sig_a = F32_FRAC(a), sig_b = F32_FRAC(b);
  int32_t exp_diff = exp_a - exp_b;
  int32_t exp_z;
  uint32_t sig_z;
  if (!exp_diff) {
    if (!exp_a) return a + sig_b; /* both subnormal or zero: exact, may carry into the exponent */
    if (exp_a == 0xFF) {
      if (sig_a | sig_b) return OPML_F32_NAN;
      return a;
    }
    exp_z = exp_a;
    sig_z = 0x01000000u + sig_a + sig_b;
    if (!(sig_z & 1) && exp_z < 0xFE) return F32_PACK(sign, exp_z, sig_z >> 1);
    sig_z <<= 6;
  } else {
    sig_a <<= 6;
    sig_b <<= 6;
    if (exp_diff < 0) {
      if (exp_b == 0xFF) {
        if (sig_b) return OPML_F32_NAN;
        return F32_PACK(sign, 0xFF, 0);
      }
      exp_z = exp_b;
      sig_a += exp_a ? 0x20000000u : sig_a;
      sig_a = shr_jam32(sig_a, (uint32_t)-exp_diff);
    } else {
      if (exp_a == 0xFF) {
        if (sig_a) return OPML_F32_NAN;
        return a;
      }
      exp_z = exp_a;
      sig_b += exp_b ? 0x20000000u : sig_b;
      sig_b = shr_jam32(sig_b, (uint32_t)exp_diff);
    }
    sig_z = 0x20000000u + sig_a + sig_b;
    if (sig_z < 0x40000000u) {
      --exp_z;
      sig_z <<= 1;
    }
  }
  return f32_round_pack(sign, exp_z, sig_z);
}

/* |a| - |b|, result sign = sign of a, flipped when |b| > |a| */
static ALWAYS_INLINE uint32_t f32_sub_mags(uint32_t a, uint32_t b) {
  uint32_t sign = F32_SIGN(a);
  int32_t exp_a = F32_EXP(a), exp_b = F32_EXP(b);
  uint32_t sig_a = F32_FRAC(a), sig_b = F32_FRAC(b);
  int32_t exp_diff = exp_a - exp_b;
  if (!exp_diff) {
    int32_t sig_diff;
    int shift;
    int32_t exp_z;
    if (exp_a == 0xFF) return OPML_F32_NAN; /* inf - inf, or a NaN */
    sig_diff = (int32_t)sig_a - (int32_t)sig_b;
    if (!sig_diff) return 0; /* exact zero is +0 in round-to-nearest */
    if (exp_a) --exp_a;
    if (sig_diff < 0) {
      sign ^= 1;
      sig_diff = -sig_diff;
    }
    shift = clz32((uint32_t)sig_diff) - 8;
    exp_z = exp_a - shift;
    if (exp_z < 0) {
      shift = exp_a;
      exp_z = 0;
    }
    return F32_PACK(sign, exp_z, (uint32_t)sig_diff << shift);
  } else {
    uint32_t sig_x, sig_y;
    int32_t exp_z;
    sig_a <<= 7;
    sig_b <<= 7;
    if (exp_diff < 0) {
      sign ^= 1;
      if (exp_b == 0xFF) {
        if (sig_b) return OPML_F32_NAN;
        return F32_PACK(sign, 0xFF, 0);
      }
      exp_z = exp_b - 1;
      sig_x = sig_b | 0x40000000u;
      sig_y = sig_a + (exp_a ? 0x40000000u : sig_a);
      exp_diff = -exp_diff;
    } else {
      if (exp_a == 0xFF) {
        if (sig_a) return OPML_F32_NAN;
        return a;
      }
      exp_z = exp_a - 1;
      sig_x = sig_a | 0x40000000u;
      sig_y = sig_b + (exp_b ? 0x40000000u : sig_b);
    }
    return f32_norm_round_pack(sign, exp_z, sig_x - shr_jam32(sig_y, (uint32_t)exp_diff));
  }
}

static ALWAYS_INLINE uint32_t f32_add(uint32_t a, uint32_t b) {
  if ((a ^ b) >> 31) return f32_sub_mags(a, b);
  return f32_add_mags(a, b);
}

static ALWAYS_INLINE uint32_t f32_sub(uint32_t a, uint32_t b) {
  if ((a ^ b) >> 31) return f32_add_mags(a, b);
  return f32_sub_mags(a, b);
}

static ALWAYS_INLINE uint32_t f32_mul(uint32_t a, uint32_t b) {
  uint32_t sign = F32_SIGN(a ^ b);
  int32_t exp_a = F32_EXP(a), exp_b = F32_EXP(b), exp_z;
  uint32_t sig_a = F32_FRAC(a), sig_b = F32_FRAC(b), sig_z;
  uint64_t prod;
  if (exp_a == 0xFF) {
    if (sig_a || (exp_b == 0xFF && sig_b)) return OPML_F32_NAN;
    if (!(exp_b | sig_b)) return OPML_F32_NAN; /* inf * 0 */
    return F32_PACK(sign, 0xFF, 0);
  }
  if (exp_b == 0xFF) {
    if (sig_b) return OPML_F32_NAN;
    if (!(exp_a | sig_a)) return OPML_F32_NAN; /* 0 * inf */
    return F32_PACK(sign, 0xFF, 0);
  }
  if (!exp_a) {
    if (!sig_a) return F32_PACK(sign, 0, 0);
    exp_a = f32_norm_subnormal(&sig_a);
  }
  if (!exp_b) {
    if (!sig_b) return F32_PACK(sign, 0, 0);
    exp_b = f32_norm_subnormal(&sig_b);
  }
  exp_z = exp_a + exp_b - 0x7F;
  sig_a = (sig_a | 0x00800000u) << 7;
  sig_b = (sig_b | 0x00800000u) << 8;
  prod = (uint64_t)sig_a * sig_b; /* one multu */
  sig_z = (uint32_t)(prod >> 32) | ((uint32_t)prod != 0);
  if (sig_z < 0x40000000u) {
    --exp_z;
    sig_z <<= 1;
  }
  return f32_round_pack(sign, exp_z, sig_z);
}

static ALWAYS_INLINE uint32_t f32_div(uint32_t a, uint32_t b) {
  uint32_t sign = F32_SIGN(a ^ b);
  int32_t exp_a = F32_EXP(a), exp_b = F32_EXP(b), exp_z;
  uint32_t sig_a = F32_FRAC(a), sig_b = F32_FRAC(b);
  uint32_t q, r;
  if (exp_a == 0xFF) {
    if (sig_a) return OPML_F32_NAN;
    if (exp_b == 0xFF) return OPML_F32_NAN; /* inf / inf, inf / NaN */
    return F32_PACK(sign, 0xFF, 0);
  }
  if (exp_b == 0xFF) {
    if (sig_b) return OPML_F32_NAN;
    return F32_PACK(sign, 0, 0);
  }
  if (!exp_b) {
    if (!sig_b) {
      if (!(exp_a | sig_a)) return OPML_F32_NAN; /* 0 / 0 */
      return F32_PACK(sign, 0xFF, 0);
    }
    exp_b = f32_norm_subnormal(&sig_b);
  }
  if (!exp_a) {
    if (!sig_a) return F32_PACK(sign, 0, 0);
    exp_a = f32_norm_subnormal(&sig_a);
  }
  exp_z = exp_a - exp_b + 0x7E;
  sig_a |= 0x00800000u;
  sig_b |= 0x00800000u;
  if (sig_a < sig_b) {
    --exp_z;
    sig_a <<= 1;
  }
  /* q = floor(sig_a * 2^30 / sig_b), with sig_b <= sig_a < 2 sig_b < 2^25: the integer part is 1,
   * then 30 more quotient bits in chunks of 8, 8, 8 and 6 (r < sig_b < 2^24, so r << 8 fits).
   * Each chunk is one 32-bit divu whose remainder comes with it. */
  r = sig_a - sig_b;
  q = 1;
  r <<= 8;
  q = (q << 8) | (r / sig_b);
  r %= sig_b;
  r <<= 8;
  q = (q << 8) | (r / sig_b);
  r %= sig_b;
  r <<= 8;
  q = (q << 8) | (r / sig_b);
  r %= sig_b;
  r <<= 6;
  q = (q << 6) | (r / sig_b);
  r %= sig_b;
  return f32_round_pack(sign, exp_z, q | (r != 0));
}

static ALWAYS_INLINE uint32_t f32_sqrt(uint32_t a) {
  uint32_t sign = F32_SIGN(a);
  int32_t exp = F32_EXP(a), e;
  uint32_t sig = F32_FRAC(a), x, root, rem, t;
  int i;
  if (exp == 0xFF) {
    if (sig) return OPML_F32_NAN;
    if (!sign) return a; /* +inf */
    return OPML_F32_NAN;
  }
  if (sign) {
    if (!(exp | sig)) return a; /* -0 */
    return OPML_F32_NAN;
  }
  if (!exp) {
    if (!sig) return a; /* +0 */
    exp = f32_norm_subnormal(&sig);
  }
  /* a = x / 2^23 * 2^e with x in [2^23, 2^24); make e even, then the radicand is
   * M = x' * 2^24 with x' = x << 1 (e even) or x << 2 (e odd), M in [2^48, 2^50) and
   * root = floor(sqrt(M)) in [2^24, 2^25): 1 + 23 fraction bits + 1 round bit. */
  e = exp - 127;
  x = sig | 0x00800000u;
  if (e & 1) {
    x <<= 2;
    e -= 1;
  } else {
    x <<= 1;
  }
  root = 0;
  rem = 0;
  /* digit by digit (restoring), two radicand bits per result bit; rem <= 2 root < 2^26 */
  for (i = 24; i >= 0; i -= 2) {
    rem = (rem << 2) | ((x >> i) & 3);
    t = (root << 2) | 1;
    root <<= 1;
    if (rem >= t) {
      rem -= t;
      root |= 1;
    }
  }
  for (i = 0; i < 12; i++) {
    rem <<= 2;
    t = (root << 2) | 1;
    root <<= 1;
    if (rem >= t) {
      rem -= t;
      root |= 1;
    }
  }
  /* root / 2^24 * 2^(e/2), e even; never overflows or underflows */
  return f32_round_pack(0, e / 2 + 126, (root << 6) | (rem != 0));
}

static ALWAYS_INLINE int f32_cmp(uint32_t a, uint32_t b) {
  if (F32_IS_NAN(a) || F32_IS_NAN(b)) return 2;
  if (((a | b) << 1) == 0) return 0; /* +0 == -0 */
  if ((a ^ b) >> 31) return (a >> 31) ? -1 : 1;
  if (a == b) return 0;
  /* same sign: magnitudes order like the encodings, reversed for negatives */
  return ((a < b) ^ (a >> 31)) ? -1 : 1;
}

uint32_t opml_f32_from_i32(int32_t a) {
  uint32_t sign = (uint32_t)a >> 31;
  uint32_t abs_a;
  if (!((uint32_t)a & 0x7FFFFFFFu)) return sign ? 0xCF000000u : 0; /* 0 or INT32_MIN */
  abs_a = sign ? -(uint32_t)a : (uint32_t)a;
  return f32_norm_round_pack(sign, 0x9C, abs_a);
}

uint32_t opml_f32_from_u32(uint32_t a) {
  if (!a) return 0;
  if (a & 0x80000000u) return f32_round_pack(0, 0x9D, (a >> 1) | (a & 1));
  return f32_norm_round_pack(0, 0x9C, a);
}

uint32_t opml_f32_from_u64(uint64_t a) {
  int shift;
  if (!a) return 0;
  shift = clz64(a) - 40;
  if (shift >= 0) return F32_PACK(0, 0x95 - shift, (uint32_t)a << shift); /* exact */
  shift += 7;
  if (shift < 0) {
    /* keep 31 significant bits, jamming the rest */
    uint64_t lost = a & (((uint64_t)1 << -shift) - 1);
    return f32_round_pack(0, 0x9C - shift, (uint32_t)(a >> -shift) | (lost != 0));
  }
  return f32_round_pack(0, 0x9C - shift, (uint32_t)a << shift);
}

uint32_t opml_f32_from_i64(int64_t a) {
  uint32_t sign = (uint32_t)((uint64_t)a >> 63);
  uint64_t abs_a = sign ? -(uint64_t)a : (uint64_t)a;
  return opml_f32_from_u64(abs_a) | (sign << 31);
}

/* Truncation toward zero. Out of range and NaN give 0x80000000 (x86 cvttss2si). */
int32_t opml_f32_to_i32(uint32_t a) {
  int32_t exp = F32_EXP(a);
  uint32_t sig, v;
  int32_t shift;
  if (exp < 0x7F) return 0;
  if (exp >= 0x7F + 31) return (int32_t)0x80000000u;
  sig = F32_FRAC(a) | 0x00800000u;
  shift = exp - 0x7F - 23;
  v = shift >= 0 ? sig << shift : sig >> -shift;
  return (int32_t)(F32_SIGN(a) ? -v : v);
}

/* Magnitude of the truncated value when it is below 2^63 (exp - 127 <= 62). */
static uint64_t f32_trunc_mag64(uint32_t a) {
  int32_t exp = F32_EXP(a);
  uint32_t sig = F32_FRAC(a) | 0x00800000u;
  int32_t shift = exp - 0x7F - 23;
  if (exp < 0x7F) return 0;
  return shift >= 0 ? (uint64_t)sig << shift : (uint64_t)(sig >> -shift);
}

/* As GCC's x86-64 code: (uint32_t)(int64_t)trunc(a); NaN and |a| >= 2^63 give 0. */
uint32_t opml_f32_to_u32(uint32_t a) {
  int32_t exp = F32_EXP(a);
  int32_t shift;
  uint32_t sig, v;
  if (exp < 0x7F || exp >= 0x7F + 63) return 0;
  shift = exp - 0x7F - 23;
  if (shift >= 32) return 0; /* a multiple of 2^32 */
  sig = F32_FRAC(a) | 0x00800000u;
  v = shift >= 0 ? sig << shift : sig >> -shift;
  return F32_SIGN(a) ? -v : v;
}

/* Out of range and NaN give INT64_MIN (x86 cvttss2si with a 64-bit destination). */
int64_t opml_f32_to_i64(uint32_t a) {
  uint64_t m;
  if (F32_EXP(a) >= 0x7F + 63) return (int64_t)0x8000000000000000ull;
  m = f32_trunc_mag64(a);
  return (int64_t)(F32_SIGN(a) ? -m : m);
}

/* As GCC's x86-64 code: NaN gives 2^63; a >= 2^64 gives 0; [2^63, 2^64) exact; below that
 * (uint64_t)(int64_t)trunc(a) (so a <= -2^63 gives 2^63). */
uint64_t opml_f32_to_u64(uint32_t a) {
  int32_t exp = F32_EXP(a);
  if (F32_IS_NAN(a)) return 0x8000000000000000ull;
  if (!F32_SIGN(a) && exp >= 0x7F + 63) {
    if (exp >= 0x7F + 64) return 0;
    return (uint64_t)(F32_FRAC(a) | 0x00800000u) << 40;
  }
  return (uint64_t)opml_f32_to_i64(a);
}

uint64_t opml_f32_to_f64(uint32_t a) {
  uint32_t sign = F32_SIGN(a);
  int32_t exp = F32_EXP(a);
  uint32_t frac = F32_FRAC(a);
  if (exp == 0xFF) {
    if (frac) return OPML_F64_NAN;
    return F64_PACK(sign, 0x7FF, 0);
  }
  if (!exp) {
    if (!frac) return F64_PACK(sign, 0, 0);
    exp = f32_norm_subnormal(&frac) - 1; /* frac now holds the leading one: it adds 1 back */
  }
  return F64_PACK(sign, exp + 0x380, (uint64_t)frac << 29);
}

/* ---------------------------------------------------------------------------------------------
 * binary64 core
 */

static uint64_t f64_round_pack(uint32_t sign, int32_t exp, uint64_t sig) {
  uint32_t round_bits = (uint32_t)sig & 0x3FF;
  if ((uint32_t)exp >= 0x7FD) {
    if (exp < 0) {
      sig = shr_jam64(sig, (uint32_t)-exp);
      exp = 0;
      round_bits = (uint32_t)sig & 0x3FF;
    } else if (exp > 0x7FD || sig + 0x200 >= 0x8000000000000000ull) {
      return F64_PACK(sign, 0x7FF, 0);
    }
  }
  sig = (sig + 0x200) >> 10;
  if (round_bits == 0x200) sig &= ~(uint64_t)1;
  if (!sig) exp = 0;
  return F64_PACK(sign, exp, sig);
}

static uint64_t f64_norm_round_pack(uint32_t sign, int32_t exp, uint64_t sig) {
  int shift = clz64(sig) - 1; /* sig != 0 */
  exp -= shift;
  if (shift >= 10 && (uint32_t)exp < 0x7FD) {
    return F64_PACK(sign, sig ? exp : 0, sig << (shift - 10));
  }
  return f64_round_pack(sign, exp, sig << shift);
}

static inline int32_t f64_norm_subnormal(uint64_t *sig) {
  int shift = clz64(*sig) - 11;
  *sig <<= shift;
  return 1 - shift;
}

static ALWAYS_INLINE uint64_t f64_add_mags(uint64_t a, uint64_t b) {
  uint32_t sign = F64_SIGN(a);
  int32_t exp_a = F64_EXP(a), exp_b = F64_EXP(b), exp_z;
  uint64_t sig_a = F64_FRAC(a), sig_b = F64_FRAC(b), sig_z;
  int32_t exp_diff = exp_a - exp_b;
  if (!exp_diff) {
    if (!exp_a) return a + sig_b;
    if (exp_a == 0x7FF) {
      if (sig_a | sig_b) return OPML_F64_NAN;
      return a;
    }
    exp_z = exp_a;
    sig_z = (0x0020000000000000ull + sig_a + sig_b) << 9;
  } else {
    sig_a <<= 9;
    sig_b <<= 9;
    if (exp_diff < 0) {
      if (exp_b == 0x7FF) {
        if (sig_b) return OPML_F64_NAN;
        return F64_PACK(sign, 0x7FF, 0);
      }
      exp_z = exp_b;
      sig_a += exp_a ? 0x2000000000000000ull : sig_a;
      sig_a = shr_jam64(sig_a, (uint32_t)-exp_diff);
    } else {
      if (exp_a == 0x7FF) {
        if (sig_a) return OPML_F64_NAN;
        return a;
      }
      exp_z = exp_a;
      sig_b += exp_b ? 0x2000000000000000ull : sig_b;
      sig_b = shr_jam64(sig_b, (uint32_t)exp_diff);
    }
    sig_z = 0x2000000000000000ull + sig_a + sig_b;
    if (sig_z < 0x4000000000000000ull) {
      --exp_z;
      sig_z <<= 1;
    }
  }
  return f64_round_pack(sign, exp_z, sig_z);
}

static ALWAYS_INLINE uint64_t f64_sub_mags(uint64_t a, uint64_t b) {
  uint32_t sign = F64_SIGN(a);
  int32_t exp_a = F64_EXP(a), exp_b = F64_EXP(b), exp_z;
  uint64_t sig_a = F64_FRAC(a), sig_b = F64_FRAC(b), sig_z;
  int32_t exp_diff = exp_a - exp_b;
  if (!exp_diff) {
    int64_t sig_diff;
    int shift;
    if (exp_a == 0x7FF) return OPML_F64_NAN;
    sig_diff = (int64_t)sig_a - (int64_t)sig_b;
    if (!sig_diff) return 0;
    if (exp_a) --exp_a;
    if (sig_diff < 0) {
      sign ^= 1;
      sig_diff = -sig_diff;
    }
    shift = clz64((uint64_t)sig_diff) - 11;
    exp_z = exp_a - shift;
    if (exp_z < 0) {
      shift = exp_a;
      exp_z = 0;
    }
    return F64_PACK(sign, exp_z, (uint64_t)sig_diff << shift);
  }
  sig_a <<= 10;
  sig_b <<= 10;
  if (exp_diff < 0) {
    sign ^= 1;
    if (exp_b == 0x7FF) {
      if (sig_b) return OPML_F64_NAN;
      return F64_PACK(sign, 0x7FF, 0);
    }
    sig_a += exp_a ? 0x4000000000000000ull : sig_a;
    sig_a = shr_jam64(sig_a, (uint32_t)-exp_diff);
    sig_b |= 0x4000000000000000ull;
    exp_z = exp_b;
    sig_z = sig_b - sig_a;
  } else {
    if (exp_a == 0x7FF) {
      if (sig_a) return OPML_F64_NAN;
      return a;
    }
    sig_b += exp_b ? 0x4000000000000000ull : sig_b;
    sig_b = shr_jam64(sig_b, (uint32_t)exp_diff);
    sig_a |= 0x4000000000000000ull;
    exp_z = exp_a;
    sig_z = sig_a - sig_b;
  }
  return f64_norm_round_pack(sign, exp_z - 1, sig_z);
}

static ALWAYS_INLINE uint64_t f64_add(uint64_t a, uint64_t b) {
  if ((a ^ b) >> 63) return f64_sub_mags(a, b);
  return f64_add_mags(a, b);
}

static ALWAYS_INLINE uint64_t f64_sub(uint64_t a, uint64_t b) {
  if ((a ^ b) >> 63) return f64_add_mags(a, b);
  return f64_sub_mags(a, b);
}

/* high 64 bits of a * b, with the low 64 bits jammed into bit 0 */
static uint64_t mul64_hi_jam(uint64_t a, uint64_t b) {
  uint32_t a1 = (uint32_t)(a >> 32), a0 = (uint32_t)a;
  uint32_t b1 = (uint32_t)(b >> 32), b0 = (uint32_t)b;
  uint64_t p00 = (uint64_t)a0 * b0;
  uint64_t p01 = (uint64_t)a0 * b1;
  uint64_t p10 = (uint64_t)a1 * b0;
  uint64_t p11 = (uint64_t)a1 * b1;
  uint64_t mid = p01 + p10;
  uint64_t hi = p11 + ((uint64_t)(mid < p01) << 32) + (mid >> 32);
  uint64_t lo = p00 + (mid << 32);
  hi += lo < p00;
  return hi | (lo != 0);
}

static ALWAYS_INLINE uint64_t f64_mul(uint64_t a, uint64_t b) {
  uint32_t sign = F64_SIGN(a ^ b);
  int32_t exp_a = F64_EXP(a), exp_b = F64_EXP(b), exp_z;
  uint64_t sig_a = F64_FRAC(a), sig_b = F64_FRAC(b), sig_z;
  if (exp_a == 0x7FF) {
    if (sig_a || (exp_b == 0x7FF && sig_b)) return OPML_F64_NAN;
    if (!(exp_b | sig_b)) return OPML_F64_NAN;
    return F64_PACK(sign, 0x7FF, 0);
  }
  if (exp_b == 0x7FF) {
    if (sig_b) return OPML_F64_NAN;
    if (!(exp_a | sig_a)) return OPML_F64_NAN;
    return F64_PACK(sign, 0x7FF, 0);
  }
  if (!exp_a) {
    if (!sig_a) return F64_PACK(sign, 0, 0);
    exp_a = f64_norm_subnormal(&sig_a);
  }
  if (!exp_b) {
    if (!sig_b) return F64_PACK(sign, 0, 0);
    exp_b = f64_norm_subnormal(&sig_b);
  }
  exp_z = exp_a + exp_b - 0x3FF;
  sig_a = (sig_a | 0x0010000000000000ull) << 10;
  sig_b = (sig_b | 0x0010000000000000ull) << 11;
  sig_z = mul64_hi_jam(sig_a, sig_b);
  if (sig_z < 0x4000000000000000ull) {
    --exp_z;
    sig_z <<= 1;
  }
  return f64_round_pack(sign, exp_z, sig_z);
}

static ALWAYS_INLINE uint64_t f64_div(uint64_t a, uint64_t b) {
  uint32_t sign = F64_SIGN(a ^ b);
  int32_t exp_a = F64_EXP(a), exp_b = F64_EXP(b), exp_z;
  uint64_t sig_a = F64_FRAC(a), sig_b = F64_FRAC(b), q, r;
  int i;
  if (exp_a == 0x7FF) {
    if (sig_a) return OPML_F64_NAN;
    if (exp_b == 0x7FF) return OPML_F64_NAN;
    return F64_PACK(sign, 0x7FF, 0);
  }
  if (exp_b == 0x7FF) {
    if (sig_b) return OPML_F64_NAN;
    return F64_PACK(sign, 0, 0);
  }
  if (!exp_b) {
    if (!sig_b) {
      if (!(exp_a | sig_a)) return OPML_F64_NAN;
      return F64_PACK(sign, 0x7FF, 0);
    }
    exp_b = f64_norm_subnormal(&sig_b);
  }
  if (!exp_a) {
    if (!sig_a) return F64_PACK(sign, 0, 0);
    exp_a = f64_norm_subnormal(&sig_a);
  }
  exp_z = exp_a - exp_b + 0x3FE;
  sig_a |= 0x0010000000000000ull;
  sig_b |= 0x0010000000000000ull;
  if (sig_a < sig_b) {
    --exp_z;
    sig_a <<= 1;
  }
  /* restoring division: q = floor(sig_a * 2^54 / sig_b) in [2^54, 2^55) */
  q = 0;
  r = sig_a;
  for (i = 0; i < 55; i++) {
    q <<= 1;
    if (r >= sig_b) {
      r -= sig_b;
      q |= 1;
    }
    r <<= 1;
  }
  return f64_round_pack(sign, exp_z, (q << 8) | (r != 0));
}

/* f32_sqrt in binary64: the same digit-by-digit root, correctly rounded. */
static uint64_t f64_sqrt(uint64_t a) {
  uint32_t sign = F64_SIGN(a);
  int32_t exp = F64_EXP(a), e;
  uint64_t sig = F64_FRAC(a), x, root, rem, t;
  int i;
  if (exp == 0x7FF) {
    if (sig) return OPML_F64_NAN;
    if (!sign) return a; /* +inf */
    return OPML_F64_NAN;
  }
  if (sign) {
    if (!(exp | sig)) return a; /* -0 */
    return OPML_F64_NAN;
  }
  if (!exp) {
    if (!sig) return a; /* +0 */
    exp = f64_norm_subnormal(&sig);
  }
  /* a = x / 2^52 * 2^e with x in [2^52, 2^53); make e even (x <<= 1 if it was odd), then the
   * radicand is M = x * 2^54 in [2^106, 2^108) and root = floor(sqrt(M)) in [2^53, 2^54):
   * 1 + 52 fraction bits + 1 round bit. M's low 54 bits are zero: digits 26..0 feed zeros. */
  e = exp - 1023;
  x = sig | 0x0010000000000000ull;
  if (e & 1) {
    x <<= 1;
    e -= 1;
  }
  root = 0;
  rem = 0;
  /* two radicand bits per result bit; rem <= 2 root < 2^55 */
  for (i = 53; i >= 0; i--) {
    rem = (rem << 2) | (i >= 27 ? (x >> (2 * i - 54)) & 3 : 0);
    t = (root << 2) | 1;
    root <<= 1;
    if (rem >= t) {
      rem -= t;
      root |= 1;
    }
  }
  /* root / 2^53 * 2^(e/2), e even; never overflows or underflows */
  return f64_round_pack(0, e / 2 + 1022, (root << 9) | (rem != 0));
}

static ALWAYS_INLINE int f64_cmp(uint64_t a, uint64_t b) {
  if (F64_IS_NAN(a) || F64_IS_NAN(b)) return 2;
  if (((a | b) << 1) == 0) return 0;
  if ((a ^ b) >> 63) return (a >> 63) ? -1 : 1;
  if (a == b) return 0;
  return ((a < b) ^ (uint32_t)(a >> 63)) ? -1 : 1;
}

uint64_t opml_f64_from_u32(uint32_t a) {
  int shift;
  if (!a) return 0;
  shift = clz32(a) + 21;
  return F64_PACK(0, 0x432 - shift, (uint64_t)a << shift);
}

uint64_t opml_f64_from_i32(int32_t a) {
  uint32_t sign = (uint32_t)a >> 31;
  uint32_t abs_a = sign ? -(uint32_t)a : (uint32_t)a;
  return opml_f64_from_u32(abs_a) | ((uint64_t)sign << 63);
}

uint64_t opml_f64_from_u64(uint64_t a) {
  if (!a) return 0;
  if (a >> 63) return f64_round_pack(0, 0x43D, (a >> 1) | (a & 1));
  return f64_norm_round_pack(0, 0x43C, a);
}

uint64_t opml_f64_from_i64(int64_t a) {
  uint32_t sign = (uint32_t)((uint64_t)a >> 63);
  uint64_t abs_a = sign ? -(uint64_t)a : (uint64_t)a;
  return opml_f64_from_u64(abs_a) | ((uint64_t)sign << 63);
}

/* Out of range and NaN give 0x80000000 (x86 cvttsd2si). */
int32_t opml_f64_to_i32(uint64_t a) {
  int32_t exp = F64_EXP(a);
  uint32_t v;
  if (exp < 0x3FF) return 0;
  if (exp >= 0x3FF + 31) return (int32_t)0x80000000u;
  v = (uint32_t)((F64_FRAC(a) | 0x0010000000000000ull) >> (52 - (exp - 0x3FF)));
  return (int32_t)(F64_SIGN(a) ? -v : v);
}

/* magnitude of trunc(a) when exp - 1023 <= 62 */
static uint64_t f64_trunc_mag64(uint64_t a) {
  int32_t exp = F64_EXP(a);
  uint64_t sig = F64_FRAC(a) | 0x0010000000000000ull;
  int32_t shift = exp - 0x3FF - 52;
  if (exp < 0x3FF) return 0;
  return shift >= 0 ? sig << shift : sig >> -shift;
}

/* As GCC's x86-64 code: (uint32_t)(int64_t)trunc(a); NaN and |a| >= 2^63 give 0. */
uint32_t opml_f64_to_u32(uint64_t a) {
  uint32_t v;
  if (F64_EXP(a) >= 0x3FF + 63) return 0;
  v = (uint32_t)f64_trunc_mag64(a);
  return F64_SIGN(a) ? -v : v;
}

int64_t opml_f64_to_i64(uint64_t a) {
  uint64_t m;
  if (F64_EXP(a) >= 0x3FF + 63) return (int64_t)0x8000000000000000ull;
  m = f64_trunc_mag64(a);
  return (int64_t)(F64_SIGN(a) ? -m : m);
}

uint64_t opml_f64_to_u64(uint64_t a) {
  int32_t exp = F64_EXP(a);
  if (F64_IS_NAN(a)) return 0x8000000000000000ull;
  if (!F64_SIGN(a) && exp >= 0x3FF + 63) {
    if (exp >= 0x3FF + 64) return 0;
    return (F64_FRAC(a) | 0x0010000000000000ull) << 11;
  }
  return (uint64_t)opml_f64_to_i64(a);
}

uint32_t opml_f64_to_f32(uint64_t a) {
  uint32_t sign = F64_SIGN(a);
  int32_t exp = F64_EXP(a);
  uint64_t frac = F64_FRAC(a);
  uint32_t frac32;
  if (exp == 0x7FF) {
    if (frac) return OPML_F32_NAN;
    return F32_PACK(sign, 0xFF, 0);
  }
  /* 52 fraction bits -> 30, jamming the rest */
  frac32 = (uint32_t)(frac >> 22) | ((frac & 0x3FFFFF) != 0);
  if (!(exp | frac32)) return F32_PACK(sign, 0, 0);
  return f32_round_pack(sign, exp - 0x381, frac32 | 0x40000000u);
}

/* ---------------------------------------------------------------------------------------------
 * the bit-level API (softfloat.h)
 */

uint32_t opml_f32_add(uint32_t a, uint32_t b) { return f32_add(a, b); }
uint32_t opml_f32_sub(uint32_t a, uint32_t b) { return f32_sub(a, b); }
uint32_t opml_f32_mul(uint32_t a, uint32_t b) { return f32_mul(a, b); }
uint32_t opml_f32_div(uint32_t a, uint32_t b) { return f32_div(a, b); }
uint32_t opml_f32_sqrt(uint32_t a) { return f32_sqrt(a); }
int opml_f32_cmp(uint32_t a, uint32_t b) { return f32_cmp(a, b); }
uint64_t opml_f64_add(uint64_t a, uint64_t b) { return f64_add(a, b); }
uint64_t opml_f64_sub(uint64_t a, uint64_t b) { return f64_sub(a, b); }
uint64_t opml_f64_mul(uint64_t a, uint64_t b) { return f64_mul(a, b); }
uint64_t opml_f64_div(uint64_t a, uint64_t b) { return f64_div(a, b); }
int opml_f64_cmp(uint64_t a, uint64_t b) { return f64_cmp(a, b); }
uint64_t opml_f64_sqrt(uint64_t a) { return f64_sqrt(a); }

/* ---------------------------------------------------------------------------------------------
 * C-level entry points: libgcc's soft-float ABI (GCC calls these for float/double operations
 * under -msoft-float), opml_sqrtf and opml_sqrt.
 */

#if defined(__mips) && defined(__mips_soft_float) && !defined(OPML_SOFTFLOAT_HOST_TEST)
/* MIPS o32 soft-float passes and returns a float in an integer register exactly like a uint32_t
 * and a double in a register pair exactly like a uint64_t. Declaring the libgcc entry points
 * with integer types makes them plain integer functions, so their tail calls into the rounding
 * code stay tail calls (a float<->int conversion in between would prevent that). */
typedef uint32_t sf_t;
typedef uint64_t df_t;
#define F(x) (x)
#define FF(x) (x)
#define D(x) (x)
#define DD(x) (x)
#else
typedef float sf_t;
typedef double df_t;
#define F(x) opml_f32_bits(x)
#define FF(x) opml_f32_from_bits(x)
#define D(x) opml_f64_bits(x)
#define DD(x) opml_f64_from_bits(x)
#endif

float opml_sqrtf(float x) { return opml_f32_from_bits(f32_sqrt(opml_f32_bits(x))); }
double opml_sqrt(double x) { return opml_f64_from_bits(f64_sqrt(opml_f64_bits(x))); }

sf_t LIBGCC(addsf3)(sf_t a, sf_t b) { return FF(f32_add(F(a), F(b))); }
sf_t LIBGCC(subsf3)(sf_t a, sf_t b) { return FF(f32_sub(F(a), F(b))); }
sf_t LIBGCC(mulsf3)(sf_t a, sf_t b) { return FF(f32_mul(F(a), F(b))); }
sf_t LIBGCC(divsf3)(sf_t a, sf_t b) { return FF(f32_div(F(a), F(b))); }
sf_t LIBGCC(negsf2)(sf_t a) { return FF(F(a) ^ 0x80000000u); }

/* libgcc comparison contract: eq/ne return 0 iff equal; lt/le return <0 / <=0 when the relation
 * holds and 1 when unordered; gt/ge return >0 / >=0 when it holds and -1 when unordered. */
static inline int cmp_lt(int c) { return c == 2 ? 1 : c; }
static inline int cmp_gt(int c) { return c == 2 ? -1 : c; }

int LIBGCC(eqsf2)(sf_t a, sf_t b) { return cmp_lt(f32_cmp(F(a), F(b))); }
int LIBGCC(nesf2)(sf_t a, sf_t b) { return cmp_lt(f32_cmp(F(a), F(b))); }
int LIBGCC(ltsf2)(sf_t a, sf_t b) { return cmp_lt(f32_cmp(F(a), F(b))); }
int LIBGCC(lesf2)(sf_t a, sf_t b) { return cmp_lt(f32_cmp(F(a), F(b))); }
int LIBGCC(gtsf2)(sf_t a, sf_t b) { return cmp_gt(f32_cmp(F(a), F(b))); }
int LIBGCC(gesf2)(sf_t a, sf_t b) { return cmp_gt(f32_cmp(F(a), F(b))); }
int LIBGCC(unordsf2)(sf_t a, sf_t b) { return f32_cmp(F(a), F(b)) == 2; }

int32_t LIBGCC(fixsfsi)(sf_t a) { return opml_f32_to_i32(F(a)); }
uint32_t LIBGCC(fixunssfsi)(sf_t a) { return opml_f32_to_u32(F(a)); }
int64_t LIBGCC(fixsfdi)(sf_t a) { return opml_f32_to_i64(F(a)); }
uint64_t LIBGCC(fixunssfdi)(sf_t a) { return opml_f32_to_u64(F(a)); }
sf_t LIBGCC(floatsisf)(int32_t a) { return FF(opml_f32_from_i32(a)); }
sf_t LIBGCC(floatunsisf)(uint32_t a) { return FF(opml_f32_from_u32(a)); }
sf_t LIBGCC(floatdisf)(int64_t a) { return FF(opml_f32_from_i64(a)); }
sf_t LIBGCC(floatundisf)(uint64_t a) { return FF(opml_f32_from_u64(a)); }
df_t LIBGCC(extendsfdf2)(sf_t a) { return DD(opml_f32_to_f64(F(a))); }
sf_t LIBGCC(truncdfsf2)(df_t a) { return FF(opml_f64_to_f32(D(a))); }

df_t LIBGCC(adddf3)(df_t a, df_t b) { return DD(f64_add(D(a), D(b))); }
df_t LIBGCC(subdf3)(df_t a, df_t b) { return DD(f64_sub(D(a), D(b))); }
df_t LIBGCC(muldf3)(df_t a, df_t b) { return DD(f64_mul(D(a), D(b))); }
df_t LIBGCC(divdf3)(df_t a, df_t b) { return DD(f64_div(D(a), D(b))); }
df_t LIBGCC(negdf2)(df_t a) { return DD(D(a) ^ 0x8000000000000000ull); }

int LIBGCC(eqdf2)(df_t a, df_t b) { return cmp_lt(f64_cmp(D(a), D(b))); }
int LIBGCC(nedf2)(df_t a, df_t b) { return cmp_lt(f64_cmp(D(a), D(b))); }
int LIBGCC(ltdf2)(df_t a, df_t b) { return cmp_lt(f64_cmp(D(a), D(b))); }
int LIBGCC(ledf2)(df_t a, df_t b) { return cmp_lt(f64_cmp(D(a), D(b))); }
int LIBGCC(gtdf2)(df_t a, df_t b) { return cmp_gt(f64_cmp(D(a), D(b))); }
int LIBGCC(gedf2)(df_t a, df_t b) { return cmp_gt(f64_cmp(D(a), D(b))); }
int LIBGCC(unorddf2)(df_t a, df_t b) { return f64_cmp(D(a), D(b)) == 2; }

int32_t LIBGCC(fixdfsi)(df_t a) { return opml_f64_to_i32(D(a)); }
uint32_t LIBGCC(fixunsdfsi)(df_t a) { return opml_f64_to_u32(D(a)); }
int64_t LIBGCC(fixdfdi)(df_t a) { return opml_f64_to_i64(D(a)); }
uint64_t LIBGCC(fixunsdfdi)(df_t a) { return opml_f64_to_u64(D(a)); }
df_t LIBGCC(floatsidf)(int32_t a) { return DD(opml_f64_from_i32(a)); }
df_t LIBGCC(floatunsidf)(uint32_t a) { return DD(opml_f64_from_u32(a)); }
df_t LIBGCC(floatdidf)(int64_t a) { return DD(opml_f64_from_i64(a)); }
df_t LIBGCC(floatundidf)(uint64_t a) { return DD(opml_f64_from_u64(a)); }
