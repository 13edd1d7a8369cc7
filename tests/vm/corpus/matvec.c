/*
 * matvec: a float32 inference-like workload in soft-float: a 64x64 matrix-vector product with
 * bias (deterministic pseudo-random weights), exp computed with + - * / only (range reduction
 * and a polynomial), sigmoid, tanh, a layer norm using opml_sqrtf, and a softmax. Output bit
 * patterns are printed; every operation is exact IEEE binary32, so the native build of the
 * same code must give the same bits. Exit code 0.
 */
#include "corpus.h"

#define N 64

static float W[N][N], B[N], X[N], Y[N];

/* uniform in [-1, 1): int32 * 2^-31 is exact */
static float rnd_unit(uint32_t *s) { return (float)(int32_t)rng_next(s) * 4.65661287e-10f; }

static float ldexp_int(float x, int k) { /* x * 2^k for k in [-126, 127] */
  return x * opml_f32_from_bits((uint32_t)(k + 127) << 23);
}

/* exp(x) with |error| of a few ulps: x = k ln2 + r, |r| <= ln2/2, degree-7 Taylor on r */
static float exp_f(float x) {
  const float ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-06f, inv_ln2 = 1.44269504f;
  float kf, r, p;
  int k;
  if (x > 88.0f) return opml_f32_from_bits(0x7F800000);
  if (x < -87.0f) return 0.0f;
  kf = x * inv_ln2;
  k = (int)(kf + (kf < 0.0f ? -0.5f : 0.5f));
  kf = (float)k;
  r = (x - kf * ln2_hi) - kf * ln2_lo;
  p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f +
      r * (0.00833333377f + r * (0.00138888892f + r * 0.000198412701f))))));
  return ldexp_int(p, k);
}

static float sigmoid(float x) { return 1.0f / (1.0f + exp_f(-x)); }
static float tanh_f(float x) {
  float e = exp_f(2.0f * x);
  return (e - 1.0f) / (e + 1.0f);
}

int main(void) {
  uint32_t s = 7, h = MIX_INIT;
  int i, j;
  float mean = 0.0f, var = 0.0f, inv, mx, sum;
  for (i = 0; i < N; i++) {
    for (j = 0; j < N; j++) W[i][j] = rnd_unit(&s) * 0.25f;
    B[i] = rnd_unit(&s) * 0.1f;
    X[i] = rnd_unit(&s);
  }
  /* y = W x + b, reduction in fixed order */
  for (i = 0; i < N; i++) {
    float acc = B[i];
    for (j = 0; j < N; j++) acc += W[i][j] * X[j];
    Y[i] = acc;
  }
  rt_printf("matvec:\n");
  for (i = 0; i < 8; i++) {
    rt_printf("  y[%d] = ", i);
    print_f32(Y[i]);
    print_nl();
  }
  for (i = 0; i < N; i++) h = mix32(h, opml_f32_bits(Y[i]));
  rt_printf("  all 64 hash 0x%08x\n", h);
  /* activations */
  h = MIX_INIT;
  for (i = 0; i < N; i++) {
    float a = sigmoid(Y[i]), t = tanh_f(Y[i]);
    if (i < 4) {
      rt_printf("  sigmoid(y[%d]) = ", i);
      print_f32(a);
      rt_printf("  tanh = ");
      print_f32(t);
      print_nl();
    }
    h = mix32(mix32(h, opml_f32_bits(a)), opml_f32_bits(t));
  }
  rt_printf("activations hash 0x%08x\n", h);
  rt_printf("exp(1) = ");
  print_f32(exp_f(opqf(1.0f)));
  rt_printf("\nexp(-10) = ");
  print_f32(exp_f(opqf(-10.0f)));
  rt_printf("\nexp(80) = ");
  print_f32(exp_f(opqf(80.0f)));
  print_nl();
  /* layer norm */
  for (i = 0; i < N; i++) mean += Y[i];
  mean /= (float)N;
  for (i = 0; i < N; i++) var += (Y[i] - mean) * (Y[i] - mean);
  var /= (float)N;
  inv = 1.0f / opml_sqrtf(var + 1e-5f);
  rt_printf("layernorm mean ");
  print_f32(mean);
  rt_printf(" var ");
  print_f32(var);
  rt_printf(" inv_std ");
  print_f32(inv);
  print_nl();
  h = MIX_INIT;
  for (i = 0; i < N; i++) h = mix32(h, opml_f32_bits((Y[i] - mean) * inv));
  rt_printf("normalised hash 0x%08x\n", h);
  /* softmax */
  mx = Y[0];
  for (i = 1; i < N; i++)
    if (Y[i] > mx) mx = Y[i];
  sum = 0.0f;
  for (i = 0; i < N; i++) {
    X[i] = exp_f(Y[i] - mx);
    sum += X[i];
  }
  h = MIX_INIT;
  for (i = 0; i < N; i++) h = mix32(h, opml_f32_bits(X[i] / sum));
  rt_printf("softmax max ");
  print_f32(mx);
  rt_printf(" sum ");
  print_f32(sum);
  rt_printf(" p[0] ");
  print_f32(X[0] / sum);
  rt_printf(" hash 0x%08x\n", h);
  return 0;
}
