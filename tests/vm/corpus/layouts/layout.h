/*
 * Shared by the layout programs (tests/vm/corpus/README.md, "Layouts"): checks of the memory
 * the loader set up. Header only, no data of its own, so it never adds a section to a program.
 */
#ifndef OPML_LAYOUT_H
#define OPML_LAYOUT_H

#include <stdint.h>

/* Hides a pointer's target from the optimiser: the loads after it really read memory. */
static inline void *launder(void *p) {
  __asm__ __volatile__("" : "+r"(p) : : "memory");
  return p;
}

/* FNV-1a over bytes. */
static inline uint32_t fnv_bytes(const volatile uint8_t *p, uint32_t n) {
  uint32_t h = 2166136261u, i;
  for (i = 0; i < n; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

/* Number of nonzero bytes in [p, p + n): memory the loader should have zero-filled. */
static inline uint32_t nonzero_bytes(const volatile uint8_t *p, uint32_t n) {
  uint32_t c = 0, i;
  for (i = 0; i < n; i++) c += p[i] != 0;
  return c;
}

#endif
