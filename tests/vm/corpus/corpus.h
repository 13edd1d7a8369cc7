/*
 * Shared helpers for the VM test corpus (header only; not a program).
 * opq*() pass a value through an empty asm so the compiler cannot constant-fold it: the
 * operations under test then really execute, at every optimisation level.
 */
#ifndef OPML_CORPUS_H
#define OPML_CORPUS_H

#include <stdint.h>

#include "libc.h"
#include "softfloat.h"
#include "sys.h"

/* MIPS II and later (ll/sc, sync, branch-likely); MIPS32 (clz/clo, madd/msub, mul, movn/movz) */
#if defined(__mips) && __mips >= 2
#define HAVE_MIPS2 1
#else
#define HAVE_MIPS2 0
#endif
#if defined(__mips) && __mips >= 32
#define HAVE_MIPS32 1
#else
#define HAVE_MIPS32 0
#endif

static inline uint32_t opq(uint32_t x) {
  __asm__ __volatile__("" : "+r"(x));
  return x;
}
static inline int32_t opqi(int32_t x) {
  __asm__ __volatile__("" : "+r"(x));
  return x;
}
static inline uint64_t opq64(uint64_t x) {
  uint32_t hi = opq((uint32_t)(x >> 32)), lo = opq((uint32_t)x);
  return ((uint64_t)hi << 32) | lo;
}
static inline float opqf(float f) { return opml_f32_from_bits(opq(opml_f32_bits(f))); }
static inline double opqd(double d) { return opml_f64_from_bits(opq64(opml_f64_bits(d))); }

/* deterministic PRNG (xorshift32) */
static inline uint32_t rng_next(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *s = x;
  return x;
}

/* order-dependent 32-bit checksum (FNV-1a over the 4 bytes of each word) */
static inline uint32_t mix32(uint32_t h, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++) {
    h ^= (v >> (8 * i)) & 0xFF;
    h *= 16777619u;
  }
  return h;
}
#define MIX_INIT 2166136261u

#endif
