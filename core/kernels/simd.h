/*
 * Which vector paths the native build of the kernels takes (chosen at run time, so one native
 * runtime runs on any x86-64). Every vector path computes exactly the bits of the plain C path
 * (docs/IR.md, "Determinism"): vectors only hold independent outputs, float sums keep their
 * order, and there is no fused multiply-add. OPML_SIMD=generic in the environment turns the
 * vector paths off, OPML_SIMD=avx2 the AVX-512 ones, which the tests use to compare the paths
 * byte for byte. MIPS: always 0.
 */
#ifndef OPML_SIMD_H
#define OPML_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(OPML_NN_GENERIC)
#define OPML_X86 1
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

/* 1 iff the AVX2 paths run on this host (and OPML_SIMD is not "generic"). */
static inline int opml_use_avx2(void) {
  static int v = -1; /* racing threads store the same value */
  if (v < 0) {
    const char *e = getenv("OPML_SIMD");
    v = !(e && !strcmp(e, "generic")) && __builtin_cpu_supports("avx2");
  }
  return v;
}

/* 1 iff the AVX-512 (F) paths run (and OPML_SIMD is neither "generic" nor "avx2", which keeps
 * the AVX2 paths only: the tests compare those too on AVX-512 hosts). */
static inline int opml_use_avx512(void) {
  static int v = -1;
  if (v < 0) {
    const char *e = getenv("OPML_SIMD");
    v = opml_use_avx2() && !(e && !strcmp(e, "avx2")) && __builtin_cpu_supports("avx512f");
  }
  return v;
}

/*
 * Natively: [lo, lo + n) is data nobody writes for the rest of the process (the runtime's
 * mapped weights), so kernels may keep layouts derived from it, keyed by its address (nn.c packs
 * constant B matrices once). `drop` (or NULL) may release the pages of a part of it that a
 * kernel copied: a later read must still give the same bytes (a file mapping refaults them).
 */
void opml_set_const_data(const void *lo, size_t n, void (*drop)(const void *p, size_t n));
#else
static inline int opml_use_avx2(void) { return 0; }
static inline int opml_use_avx512(void) { return 0; }
#endif

#endif
