/*
 * float32: C float and double code compiled with -msoft-float, so every operation is a call into
 * core/runtime/softfloat.c (__addsf3, __mulsf3, __divsf3, comparisons, conversions, the df
 * versions): special values, canonical NaNs, signed zeros, subnormals, rounding ties, overflow,
 * conversions, comparisons with NaN, opml_sqrtf, and small iterative computations. Results are
 * printed as exact bit patterns. Exit code 0.
 */
#include "corpus.h"

#define P(label, expr)        \
  do {                        \
    rt_printf("%-22s ", label); \
    print_f32(expr);          \
    print_nl();               \
  } while (0)
#define PD(label, expr)       \
  do {                        \
    rt_printf("%-22s ", label); \
    print_f64(expr);          \
    print_nl();               \
  } while (0)

static float fb(uint32_t bits) { return opqf(opml_f32_from_bits(bits)); }

int main(void) {
  float one = opqf(1.0f), zero = opqf(0.0f), three = opqf(3.0f), tenth = opqf(0.1f);
  float inf = fb(0x7F800000), nan = fb(0xFFC00001), fmin = fb(0x00800000), dmin = fb(1);
  float fmax = fb(0x7F7FFFFF), eps = fb(0x34000000) /* 2^-23 */;
  double d1 = opqd(1.0), d3 = opqd(3.0), dt = opqd(0.1);
  int i;

  P("1/3", one / three);
  P("0.1+0.2", tenth + opqf(0.2f));
  P("0.1*3", tenth * three);
  P("1-0.9", one - opqf(0.9f));
  P("fmax*2 (overflow)", fmax * opqf(2.0f));
  P("fmax+fmax/2^24", fmax + fmax / opqf(16777216.0f));
  P("-fmax*2", -fmax * opqf(2.0f));
  P("1/0", one / zero);
  P("-1/0", -one / zero);
  P("0/0 (canonical nan)", zero / zero);
  P("inf-inf", inf - inf);
  P("inf*0", inf * zero);
  P("nan+1", nan + one);
  P("-nan*2", -nan * opqf(2.0f));
  P("sqrt(-1)", opml_sqrtf(-one));
  P("sqrt(-0)", opml_sqrtf(-zero));
  P("sqrt(2)", opml_sqrtf(opqf(2.0f)));
  P("sqrt(fmin/4)", opml_sqrtf(fmin / opqf(4.0f)));
  P("sqrt(dmin)", opml_sqrtf(dmin));
  P("sqrt(inf)", opml_sqrtf(inf));
  P("-0 + -0", -zero + -zero);
  P("-0 + 0", -zero + zero);
  P("1 - 1", one - one);
  P("-0 * 5", -zero * opqf(5.0f));
  P("fmin/2 (subnormal)", fmin / opqf(2.0f));
  P("dmin*0.5 (tie to 0)", dmin * opqf(0.5f));
  P("dmin*1.5 (tie to 2)", dmin * opqf(1.5f));
  P("dmin*2.5 (tie to 2)", dmin * opqf(2.5f));
  P("fmin-dmin", fmin - dmin);
  P("fmin*eps", fmin * eps);
  P("1+2^-24 (tie even)", one + eps / opqf(2.0f));
  P("1+3*2^-24 (tie up)", one + opqf(3.0f) * eps / opqf(2.0f));
  P("1+2^-24+2^-47", (one + fb(0x2A000000)) + eps / opqf(2.0f));
  P("(1+eps)*(1-eps)", (one + eps) * (one - eps));
  P("16777217 (int->f)", (float)opqi(16777217));
  P("-2^31 (int->f)", (float)opqi(-2147483647 - 1));
  P("4294967295u (->f)", (float)opq(4294967295u));
  P("2^63-1 (i64->f)", (float)(int64_t)opq64(0x7FFFFFFFFFFFFFFFull));
  P("(float)0.1 (double)", (float)dt);
  P("(float)1e300", (float)(dt * opqd(1e301)));
  P("(float)1e-50", (float)(dt * opqd(1e-49)));
  rt_printf("(int)-2.75 = %d (int)1e9 = %d (unsigned)3e9 = %u (long long)-1e15 = %lld\n",
            (int)opqf(-2.75f), (int)opqf(1e9f), (unsigned)opqf(3e9f),
            (long long)opqf(-1e15f));
  rt_printf("(int)0.999 = %d (int)-0.999 = %d (int)(double)-7.5 = %d (uint)(double)4e9 = %u\n",
            (int)opqf(0.999f), (int)opqf(-0.999f), (int)opqd(-7.5), (unsigned)opqd(4e9));
  rt_printf("out of range (x86 semantics): %d %d %u\n", opml_f32_to_i32(0x4F000000),
            opml_f32_to_i32(0x7FC00000), opml_f32_to_u32(0xBF800000));
  /* comparisons, including NaN and signed zero */
  {
    float a[] = {one, -zero, zero, nan, inf, -one};
    int j;
    for (i = 0; i < 6; i++) {
      rt_printf("cmp %d:", i);
      for (j = 0; j < 6; j++) {
        float x = opqf(a[i]), y = opqf(a[j]);
        rt_printf(" %d%d%d%d%d%d%d", x == y, x != y, x < y, x <= y, x > y, x >= y,
                  __builtin_isunordered(x, y));
      }
      rt_printf("\n");
    }
  }
  /* double */
  PD("1.0/3.0", d1 / d3);
  PD("0.1+0.2", dt + opqd(0.2));
  PD("(double)(1/3f)", (double)(one / three));
  PD("1e308*10", opqd(1e308) * opqd(10.0));
  PD("5e-324/2", opqd(5e-324) / opqd(2.0));
  PD("0.0/0.0", opqd(0.0) / opqd(0.0));
  PD("2^53+1", (double)opq64(9007199254740993ull));
  PD("-(int)", (double)opqi(-123456789));
  rt_printf("double cmp: %d %d %d %d\n", d1 < d3, d3 <= d1, dt == opqd(0.1), d1 != d1);
  /* iterations: Newton sqrt(2), harmonic sum, Kahan sum */
  {
    float x = one, two = opqf(2.0f), h = zero, s = zero, c = zero;
    for (i = 0; i < 6; i++) x = (x + two / x) * opqf(0.5f);
    P("newton sqrt2", x);
    for (i = 1; i <= 1000; i++) h += one / (float)i;
    P("harmonic(1000)", h);
    for (i = 0; i < 1000; i++) {
      float y = tenth - c, t = s + y;
      c = (t - s) - y;
      s = t;
    }
    P("kahan 1000*0.1", s);
    for (i = 0, h = zero; i < 1000; i++) h += tenth;
    P("naive 1000*0.1", h);
  }
  return 0;
}
