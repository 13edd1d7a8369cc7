/*
 * The project's float32 math functions (no libm anywhere): deterministic functions of basic
 * IEEE operations, so the native and the MIPS builds (binary32 FPU, binary64 in soft-float) give the same bits.
 * Accuracy target: within 2 ulp of the correctly rounded result over the whole domain
 * (opml_sqrtf is exactly rounded). Implemented in mathf.c.
 */
#ifndef OPML_MATHF_H
#define OPML_MATHF_H

#include <stddef.h>

float opml_sqrtf(float x);
float opml_expf(float x);
float opml_logf(float x);
float opml_tanhf(float x);
float opml_erff(float x);
float opml_powf(float x, float y);
float opml_sigmoidf(float x); /* 1 / (1 + exp(-x)), without overflow */
float opml_floorf(float x);
float opml_roundevenf(float x); /* round half to even, as QuantizeLinear needs */
float opml_expm1f(float x);     /* e^x - 1, accurate near 0 */
float opml_softplusf(float x);  /* log(1 + e^x) */
float opml_fmodf(float x, float y); /* x - trunc(x / y) y, exact (C fmod) */
double opml_fmod(double x, double y); /* the same for binary64 */
/* binary64: exp and log within 1 ulp (fdlibm's algorithms), sqrt correctly rounded */
double opml_exp(double x);
double opml_log(double x);
double opml_sqrt(double x);
float opml_sinhf(float x);
float opml_coshf(float x);
float opml_sinf(float x);       /* exact range reduction by 2/pi for every float */
float opml_cosf(float x);
float opml_tanf(float x);
float opml_asinf(float x);
float opml_acosf(float x);
float opml_atanf(float x);
float opml_asinhf(float x);
float opml_acoshf(float x);
float opml_atanhf(float x);

/* HardSwish, x * max(0, min(1, x / 6 + 1/2)), as this sequence: x * (1/6), + 0.5, then the
 * selections `1 < u ? 1 : u` and `0 > u ? 0 : u` (a NaN falls through), then x * u. The one
 * definition for math.c's kernel and nn.c's fused Conv epilogue (whose vector lanes repeat it). */
static inline float opml_hardswishf(float v) {
  float u = v * (1.0f / 6.0f) + 0.5f;
  u = 1.0f < u ? 1.0f : u;
  u = 0.0f > u ? 0.0f : u;
  return v * u;
}

/* y[i] = opml_expf(x[i]), opml_sigmoidf(x[i]), opml_tanhf(x[i]), opml_erff(x[i]) for i < n, the
 * same bits (vectorised natively; y may be x). */
void opml_expf_n(const float *x, float *y, size_t n);
void opml_sigmoidf_n(const float *x, float *y, size_t n);
void opml_tanhf_n(const float *x, float *y, size_t n);
void opml_erff_n(const float *x, float *y, size_t n);

#endif
