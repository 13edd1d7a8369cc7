/*
 * matvec_bench: the soft-float speed benchmark. BENCH_REPS rounds of a BENCH_N x BENCH_N float32
 * matrix-vector product (fixed reduction order), each followed by a rescaling of the vector so
 * values stay in range; prints a checksum of the final vector. With the defaults (256 x 256,
 * 18 rounds: 1.18 M multiply-adds, about 122 instructions each) the O2 build executes about
 * 150.6 million MIPS instructions (measured with qemu -singlestep: 6.27 M for the set-up and
 * output, 8.02 M per round); other flag sets differ. Exit code 0.
 */
#include "corpus.h"

#ifndef BENCH_N
#define BENCH_N 256
#endif
#ifndef BENCH_REPS
#define BENCH_REPS 18
#endif

static float W[BENCH_N][BENCH_N], X[BENCH_N], Y[BENCH_N];

int main(void) {
  uint32_t s = 42, h = MIX_INIT;
  int r, i, j;
  float sum = 0.0f;
  for (i = 0; i < BENCH_N; i++) {
    for (j = 0; j < BENCH_N; j++) W[i][j] = (float)(int32_t)rng_next(&s) * 2.91038305e-11f; /* 2^-35 */
    X[i] = (float)(int32_t)rng_next(&s) * 4.65661287e-10f;                                  /* 2^-31 */
  }
  for (r = 0; r < BENCH_REPS; r++) {
    float mx = 0.0f, scale;
    for (i = 0; i < BENCH_N; i++) {
      float acc = 0.0f;
      const float *w = W[i];
      for (j = 0; j < BENCH_N; j++) acc += w[j] * X[j];
      Y[i] = acc;
      if (acc > mx) mx = acc;
      if (-acc > mx) mx = -acc;
    }
    scale = mx > 0.0f ? 1.0f / mx : 1.0f;
    for (i = 0; i < BENCH_N; i++) X[i] = Y[i] * scale;
  }
  for (i = 0; i < BENCH_N; i++) {
    h = mix32(h, opml_f32_bits(X[i]));
    sum += X[i];
  }
  rt_printf("matvec_bench %dx%d x %d: checksum 0x%08x sum ", BENCH_N, BENCH_N, BENCH_REPS, h);
  print_f32(sum);
  print_nl();
  return 0;
}
