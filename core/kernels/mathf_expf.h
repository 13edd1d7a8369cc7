/*
 * The binary32 exp and sigmoid cores (mathf.c, "binary32 exp"): one source for every lane width.
 * mathf.c includes this file once per width with
 *   VF, VI, VU      the float, int32 and uint32 lane types (scalars, or GCC vector types),
 *   F(c), U(c)      a float or uint32 constant in every lane,
 *   AS_U(v), AS_F(u) the bits of a float lane and back,
 *   LOOKUP(t, j)    t[j] per lane for a 32-entry float table and indices j in [0, 31],
 *   NAME(f)         the width's name of function f, ATTR its target attribute,
 *   ANY(m)          (vector widths) 1 iff some lane of the int32 mask m is set
 * (VF, VI, VU, LOOKUP, ANY, NAME and ATTR are undefined at the end, ready for the next width), so the scalar and vector paths run the same operations in the same order on each lane (no
 * fused multiply-add: -ffp-contract=off), which is why their bits are equal by construction.
 */

/* Dekker's split of a into 12-bit halves (a = hi + lo exactly, for |a| < 2^115). */
ATTR static inline VF NAME(split)(VF a, VF *lo) {
  const VF c = a * F(4097.0f);
  const VF hi = c - (c - a);
  *lo = a - hi;
  return hi;
}

/* a * b = p + *err exactly (Dekker's product without FMA; products of tiny halves may lose
 * bits below the subnormal range). */
ATTR static inline VF NAME(two_prod)(VF a, VF b, VF *err) {
  VF al, bl;
  const VF p = a * b, ah = NAME(split)(a, &al), bh = NAME(split)(b, &bl);
  *err = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return p;
}

/* e^x = (hi + *lo) 2^k1 2^k2 for finite |x| < 110 (returns hi; *s1 = 2^k1 and *s2 = 2^k2 are
 * normal floats, so hi * s1 is exact and one more product rounds once). x = (32k + j + r') ln2/32
 * with n = 32k + j the nearest integer to x 32/ln2 and |r| <= ln2/64 + tiny; e^x = 2^k 2^(j/32)
 * e^r with 2^(j/32) = T_HI[j] + T_LO[j] and e^r - 1 = q. hi + lo carries about 2^-28 relative
 * error, so hi is within 0.56 ulp of e^x (2^k aside); lo is hi's rounding error. */
ATTR static inline VF NAME(exp_core)(VF x, VF *lo, VF *s1, VF *s2) {
  const VF z = x * F(FINVLN2N);
  VF kf = z + F(0x1.8p23f); /* rounds z to the nearest integer n, held in the low bits */
  const VI n = (VI)(AS_U(kf) - U(0x4B400000u));
  kf = kf - F(0x1.8p23f);
  /* n FL1 is exact (11-bit FL1, |n| < 2^13) and x - n FL1 exact when n != 0 (Sterbenz) */
  const VF r = (x - kf * F(FL1)) - kf * F(FL2);
  const VF q = r + r * r * (F(0.5f) + r * F(FC3));
  const VI j = n & (VI)U(31), k = n >> 5, k1 = k >> 1;
  const VF th = LOOKUP(expf_t_hi, j), tl = LOOKUP(expf_t_lo, j);
  const VF t = tl + th * q;
  const VF hi = th + t;
  *lo = (th - hi) + t; /* exact: |th| >= |t| */
  *s1 = AS_F((VU)(k1 + (VI)U(127)) << 23);
  *s2 = AS_F((VU)(k - k1 + (VI)U(127)) << 23);
  return hi;
}

/* sigmoid for finite x in (-110, 40), from e = e^-|x| = eh + el (eh <= 1) and 1 / (1 + e) =
 * y + yl to about 2^-40: sigmoid_recip returns y and sets the others; x >= 0 takes
 * sigmoid_pos, 1 / (1 + e), x < 0 sigmoid_neg, e / (1 + e); each rounds once at its last
 * addition. */
ATTR static inline VF NAME(sigmoid_recip)(VF x, VF *eh, VF *el, VF *yl) {
  VF lo, s1, s2, pl;
  const VF hi = NAME(exp_core)(AS_F(AS_U(x) | U(0x80000000u)), &lo, &s1, &s2);
  *eh = hi * s1 * s2;
  *el = lo * s1 * s2;
  const VF dh = F(1.0f) + *eh, dl = ((F(1.0f) - dh) + *eh) + *el; /* 1 + e = dh + dl */
  const VF y = F(1.0f) / dh;
  const VF ph = NAME(two_prod)(y, dh, &pl);
  *yl = y * (((F(1.0f) - ph) - pl) - dl * y); /* 1 - ph is exact: ph is near 1 */
  return y;
}

ATTR static inline VF NAME(sigmoid_pos)(VF y, VF yl) { return y + yl; }

ATTR static inline VF NAME(sigmoid_neg)(VF eh, VF el, VF y, VF yl) {
  VF ql;
  const VF qh = NAME(two_prod)(eh, y, &ql);
  return qh + ((ql + eh * yl) + el * y);
}

/* tanh(a) for 0 <= a < 0.5625: a + a^3 P(a^2), rounded at the last addition (0.7 ulp). */
ATTR static inline VF NAME(tanh_small)(VF a) {
  const VF u = a * a;
  VF p = F(tanhf_p[4]);
  p = F(tanhf_p[3]) + u * p;
  p = F(tanhf_p[2]) + u * p;
  p = F(tanhf_p[1]) + u * p;
  p = F(tanhf_p[0]) + u * p;
  return a + (a * u) * p;
}

/* tanh(a) for 0.5625 <= a < 9.1: (1 - e) / (1 + e) with e = e^-2a = eh + el (both sums as two
 * floats), the quotient refined once with a Dekker product, rounded at the last addition. */
ATTR static inline VF NAME(tanh_big)(VF a) {
  VF lo, s1, s2, pe;
  const VF hi = NAME(exp_core)(F(-2.0f) * a, &lo, &s1, &s2);
  const VF eh = hi * s1 * s2, el = lo * s1 * s2;
  const VF nh = F(1.0f) - eh, nl = ((F(1.0f) - nh) - eh) - el; /* 1 - e = nh + nl */
  const VF dh = F(1.0f) + eh, dl = ((F(1.0f) - dh) + eh) + el; /* 1 + e = dh + dl */
  const VF y = nh / dh;
  const VF p = NAME(two_prod)(y, dh, &pe);
  const VF res = (((nh - p) - pe) + nl) - y * dl; /* nh - p is exact: y dh is near nh */
  return y + res / dh;
}

#ifdef MATHF_ARRAYS
/* The array functions of a vector width (n: whole vectors only; SEL(m, a, b) from the includer):
 * the special cases (NaN, overflow and underflow ranges) blended in from the scalar code's
 * constants. */
ATTR static inline __attribute__((always_inline)) VF NAME(expf_v)(VF xv) {
  VF lo, s1, s2;
  const VF hi = NAME(exp_core)(xv, &lo, &s1, &s2);
  VF r = hi * s1 * s2;
  const VU u = AS_U(xv), a = u & U(0x7FFFFFFFu);
  const VF over = AS_F(~(VU)((VI)u >> 31) & U(F_INF)); /* |x| >= 110: +inf or 0 by the sign */
  r = SEL(a > U(0x42DBFFFFu), over, r);
  return SEL(a > U(F_INF), xv, r); /* NaN: x */
}

ATTR static inline __attribute__((always_inline)) VF NAME(sigmoidf_v)(VF xv) {
  VF eh, el, yl;
  const VF q = NAME(sigmoid_recip)(xv, &eh, &el, &yl);
  const VF pos = NAME(sigmoid_pos)(q, yl), neg = NAME(sigmoid_neg)(eh, el, q, yl);
  const VU u = AS_U(xv), a = u & U(0x7FFFFFFFu);
  const VI sign = (VI)u >> 31;
  VF r = SEL(sign, neg, pos);
  r = SEL(~sign & (VI)(a > U(0x421FFFFFu)), F(1.0f), r); /* x >= 40: 1 */
  r = SEL(sign & (VI)(a > U(0x42DBFFFFu)), F(0.0f), r);  /* x <= -110: 0 */
  return SEL(a > U(F_INF), xv, r);                       /* NaN: x */
}

ATTR static inline __attribute__((always_inline)) VF NAME(tanhf_v)(VF xv) {
  const VU u = AS_U(xv), ax = u & U(0x7FFFFFFFu);
  const VF a = AS_F(ax);
  /* the formula of each range that a lane is in (ANY: see erff_v) */
  const VI small = (VI)(ax < U(0x3F100000u)), big = (VI)(ax < U(0x41119999u)) & ~small;
  VF r = F(1.0f); /* |x| >= 9.1 (or inf): 1 */
  if (ANY(big)) r = SEL(big, NAME(tanh_big)(a), r);
  if (ANY(small)) r = SEL(small, NAME(tanh_small)(a), r);
  r = AS_F(AS_U(r) | (u & U(0x80000000u)));
  return SEL((VI)(ax > U(F_INF)), xv, r); /* NaN: x */
}

/* horner_f of mathf.c per lane: c[0] + x (c[1] + x (... c[n - 1])). */
ATTR static inline VF NAME(horner)(const float *c, int n, VF x) {
  VF p = F(c[n - 1]);
  for (int i = n - 2; i >= 0; i--) p = F(c[i]) + x * p;
  return p;
}

/* opml_erff per lane: the formula of each range that a lane of the vector is in (ANY(m) from
 * the includer: some lane of mask m set), the lane's own kept; the two erfc ranges as one
 * polynomial with per-lane coefficients (the same operations per lane). */
ATTR static inline __attribute__((always_inline)) VF NAME(erff_v)(VF xv) {
  const VU u = AS_U(xv), ax = u & U(0x7FFFFFFFu);
  const VF a = AS_F(ax);
  const VI below_mid = (VI)(ax < U(0x3F400000u)), below_tail = (VI)(ax < U(0x3FA00000u));
  const VI in_mid = below_tail & ~below_mid, in_tail = (VI)(ax < U(0x407AE148u)) & ~below_tail;
  VF r = F(1.0f); /* |x| >= 3.92 (and NaN, replaced below): 1 */
  if (ANY(in_tail)) { /* 1.25 <= |x| < 3.92 */
    VF sl, lo, s1, s2;
    const VF sh = NAME(two_prod)(a, a, &sl);
    const VF e = NAME(exp_core)(-sh, &lo, &s1, &s2) * s1 * s2;
    const VI q1 = (VI)(ax < U(0x40100000u)); /* |x| < 2.25 */
    const VF z = a - SEL(q1, F(ERFCF_Q1_MID), F(ERFCF_Q2_MID));
    VF q = SEL(q1, F(erfcf_q1[8]), F(erfcf_q2[8]));
    for (int k = 7; k >= 0; k--) q = SEL(q1, F(erfcf_q1[k]), F(erfcf_q2[k])) + z * q;
    r = SEL(in_tail, F(1.0f) - e * (q - q * sl), r);
  }
  if (ANY(in_mid)) r = SEL(in_mid, F(ERFF_ERX) + NAME(horner)(erff_r, 9, a - F(1.0f)), r); /* |x| < 1.25 */
  if (ANY(below_mid)) r = SEL(below_mid, a + a * NAME(horner)(erff_p, 7, a * a), r);   /* |x| < 0.75 */
  r = AS_F(AS_U(r) | (u & U(0x80000000u)));
  return SEL((VI)(ax > U(F_INF)), xv, r); /* NaN: x */
}

/* The array function FN_n of the per-vector FN_v: two vectors per iteration, then one. The
 * functions are chains of dependent operations; two independent ones side by side (and
 * MATHF_SCHED, the includer's pre-allocation scheduling) keep more of them in flight: sigmoid
 * 0.75 -> 0.62 ns a value with 16 lanes (Zen 5). The operations per lane stay the same. */
#define MATHF_ARRAY(FN)                                                                           \
  ATTR MATHF_SCHED static void NAME(FN##_n)(const float *x, float *y, size_t n) {                 \
    const size_t w = sizeof(VF) / 4;                                                              \
    size_t i = 0;                                                                                 \
    for (; i + 2 * w <= n; i += 2 * w) {                                                          \
      VF a, b;                                                                                    \
      memcpy(&a, x + i, sizeof a);                                                                \
      memcpy(&b, x + i + w, sizeof b);                                                            \
      a = NAME(FN##_v)(a), b = NAME(FN##_v)(b);                                                   \
      memcpy(y + i, &a, sizeof a);                                                                \
      memcpy(y + i + w, &b, sizeof b);                                                            \
    }                                                                                             \
    for (; i + w <= n; i += w) {                                                                  \
      VF a;                                                                                       \
      memcpy(&a, x + i, sizeof a);                                                                \
      a = NAME(FN##_v)(a);                                                                        \
      memcpy(y + i, &a, sizeof a);                                                                \
    }                                                                                             \
  }
MATHF_ARRAY(expf)
MATHF_ARRAY(sigmoidf)
MATHF_ARRAY(tanhf)
MATHF_ARRAY(erff)
#undef MATHF_ARRAY
#endif

/* the parameters are the includer's, one set per inclusion */
#undef VF
#undef VI
#undef VU
#undef LOOKUP
#undef ANY
#undef NAME
#undef ATTR
