#!/usr/bin/env python3
"""Generates the tables and polynomial coefficients of core/kernels/mathf.c (prints C).

Developer tool, not run by the tests: `python3 tests/kernels/mathf_coeffs.py`. Needs mpmath.
Polynomials are Chebyshev fits (near-minimax) at 60 digits; every constant is printed as a C
hex-float literal (the correctly rounded binary64 value), so the C text is exact.
"""
import struct
import mpmath as mp

mp.mp.dps = 60


def hexd(v):
    return float(v).hex()


def bits(d):
    return struct.unpack("<Q", struct.pack("<d", d))[0]


def f32(u):
    return struct.unpack("<f", struct.pack("<I", u))[0]


def rf(v):
    """v rounded to binary32 (exactly, from 60 digits: no double rounding through binary64)."""
    m, e = mp.frexp(mp.mpf(v))
    return mp.ldexp(mp.nint(mp.ldexp(m, 24)), e - 24) if v != 0 else mp.mpf(0)


def hexf(v):
    """A C float literal of the binary32 value v."""
    return float(v).hex().replace("0x0.0p+0", "0x0p+0") + "f"


def maxrel(f, p, a, b, n=4000, skip0=False):
    m = mp.mpf(0)
    for i in range(n + 1):
        x = a + (b - a) * mp.mpf(i) / n
        if skip0 and x == 0:
            continue
        fx = f(x)
        m = max(m, abs(p(x) - fx) / abs(fx))
    return float(mp.log(m, 2))


def fit(g, lo, hi, deg):
    """Coefficients c0..c_deg (ascending) of a Chebyshev fit of g on [lo, hi]."""
    return mp.chebyfit(g, [lo, hi], deg + 1)[::-1]


def horner(c, x):
    return mp.polyval([mp.mpf(float(v)) for v in c[::-1]], x)


out = []
# exp: 2^(j/32) table and q with 2^(r/32) ~ 1 + r q(r), |r| <= 1/2.
N = 32
out.append("static const uint64_t exp_tab[32] = {")
out.append("    " + ", ".join(f"0x{bits(float(mp.power(2, mp.mpf(j) / N))):016x}" for j in range(N)) + ",")
out.append("};")
out.append(f"#define EXP_INVLN2N {hexd(N / mp.log(2))} /* 32/ln2 */")
g = lambda r: (mp.power(2, r / N) - 1) / r if r != 0 else mp.log(2) / N
for prefix, deg in (("E", 3), ("EL", 2)):
    c = fit(g, -0.5, 0.5, deg)
    err = maxrel(lambda r: mp.power(2, r / N), lambda r: 1 + r * horner(c, r), -0.5, 0.5)
    terms = " + r (".join(f"{prefix}{i}" for i in range(deg)) + f" + r {prefix}{deg}" + ")" * (deg - 1)
    out.append(f"/* 2^(r/32) ~ 1 + r ({terms}), |r| <= 1/2: relative error 2^{err:.1f} */")
    for i, v in enumerate(c):
        out.append(f"#define {prefix}{i} {hexd(v)}")

# log: 64 intervals of z in [0x3f330000, 2 * that) by the top 6 mantissa bits of (ix - OFF).
OFF = 0x3F330000
out.append("static const struct { double invc, logc; } log_tab[64] = {")
rmax = 0
for i in range(64):
    lo = mp.mpf(f32(OFF + (i << 17)))
    hi = mp.mpf(f32(OFF + ((i + 1) << 17)))
    if lo <= 1 < hi:
        invc = mp.mpf(1)  # exact near 1: r = z - 1 exactly, log(z) = log1p(r)
    else:
        m, e = mp.frexp(2 / (lo + hi))
        invc = mp.ldexp(mp.nint(mp.ldexp(m, 29)), e - 29)  # 29 bits: z * invc is exact in binary64
    rmax = max(rmax, abs(lo * invc - 1), abs(hi * invc - 1))
    out.append(f"    {{{hexd(invc)}, {hexd(-mp.log(invc))}}},")
out.append("};")
g = lambda r: (mp.log1p(r) - r) / r**2 if r != 0 else mp.mpf(-0.5)
R = rmax
c = fit(g, -R, R, 3)
err = maxrel(mp.log1p, lambda r: r + r * r * horner(c, r), -R, R, skip0=True)
out.append(f"#define LN2 {hexd(mp.log(2))}")
out.append(f"/* log1p(r) ~ r + r^2 (L0 + r (L1 + r (L2 + r L3))), |r| <= 2^{float(mp.log(R, 2)):.2f}: relative error 2^{err:.1f} */")
for i, v in enumerate(c):
    out.append(f"#define L{i} {hexd(v)}")

Q = lambda x: mp.erfc(x) * mp.exp(x * x)

# binary32-only exp (expf, sigmoidf; docs in mathf.c): 2^(j/32) = T_HI[j] + T_LO[j], and
# ln2/32 = FL1 + FL2 with FL1 of 11 bits, so n * FL1 is exact for |n| < 2^13.
out.append("static const float expf_t_hi[32] = {")
thi = [rf(mp.power(2, mp.mpf(j) / N)) for j in range(N)]
out.append("    " + ", ".join(hexf(v) for v in thi) + ",")
out.append("};")
out.append("static const float expf_t_lo[32] = {")
out.append("    " + ", ".join(hexf(rf(mp.power(2, mp.mpf(j) / N) - thi[j])) for j in range(N)) + ",")
out.append("};")
m, e = mp.frexp(mp.log(2) / N)
fl1 = mp.ldexp(mp.nint(mp.ldexp(m, 11)), e - 11)
out.append(f"#define FINVLN2N {hexf(rf(N / mp.log(2)))} /* 32/ln2 */")
out.append(f"#define FL1 {hexf(fl1)} /* ln2/32 to 11 bits */")
out.append(f"#define FL2 {hexf(rf(mp.log(2) / N - fl1))}")
out.append(f"#define FC3 {hexf(rf(mp.mpf(1) / 6))} /* e^r - 1 ~ r + r^2 (1/2 + r FC3), |r| <= ln2/64 */")
# binary32 tanh below 0.5625: a + a^3 P(a^2)
A = mp.mpf("0.5625")
g = lambda u: (mp.tanh(mp.sqrt(u)) - mp.sqrt(u)) / (u * mp.sqrt(u)) if u != 0 else mp.mpf(-1) / 3
c = [rf(v) for v in fit(g, 0, A * A, 4)]
err = maxrel(mp.tanh, lambda a: a + a**3 * horner(c, a * a), mp.mpf(2) ** -20, A)
out.append(f"/* tanh(a) ~ a + a^3 P(a^2) below 0.5625 (float coefficients): relative error 2^{err:.1f} */")
out.append("static const float tanhf_p[5] = {" + ", ".join(hexf(v) for v in c) + "};")
# binary32 erf: a + a P(a^2) below 0.75; erx + R(a - 1) below 1.25 (erx = erf(1) in float);
# 1 - e^(-a^2) Q(a - mid) above, on [1.25, 2.25] and [2.25, 3.92] (float coefficients).
B = mp.mpf("0.75")
g = lambda u: mp.erf(mp.sqrt(u)) / mp.sqrt(u) - 1 if u != 0 else 2 / mp.sqrt(mp.pi) - 1
c = [rf(v) for v in fit(g, 0, B * B, 6)]
err = maxrel(mp.erf, lambda a: a + a * horner(c, a * a), mp.mpf(2) ** -20, B)
out.append(f"/* erf(a) ~ a + a P(a^2) below 0.75: relative error 2^{err:.1f} */")
out.append("static const float erff_p[7] = {" + ", ".join(hexf(v) for v in c) + "};")
erx = rf(mp.erf(1))
c = [rf(v) for v in fit(lambda s: mp.erf(1 + s) - erx, B - 1, mp.mpf("0.25"), 8)]
err = maxrel(mp.erf, lambda a: erx + horner(c, a - 1), B, mp.mpf("1.25"))
out.append(f"/* erf(a) ~ ERFF_ERX + R(a - 1) on [0.75, 1.25]: relative error 2^{err:.1f} */")
out.append(f"#define ERFF_ERX {hexf(erx)}")
out.append("static const float erff_r[9] = {" + ", ".join(hexf(v) for v in c) + "};")
for name, lo, hi, deg in (("erfcf_q1", 1.25, 2.25, 8), ("erfcf_q2", 2.25, 3.92, 8)):
    mid = rf(mp.mpf(lo + hi) / 2)
    c = [rf(v) for v in fit(lambda s: Q(s + mid), lo - mid, hi - mid, deg)]
    err = maxrel(Q, lambda x: horner(c, x - mid), lo, hi)
    out.append(f"/* erfc(a) e^(a^2) ~ Q(a - {float(mid)}) on [{lo}, {hi}]: relative error 2^{err:.1f} */")
    out.append(f"#define {name.upper()}_MID {hexf(mid)}")
    out.append(f"static const float {name}[{deg + 1}] = {{" + ", ".join(hexf(v) for v in c) + "};")
print("\n".join(out))
