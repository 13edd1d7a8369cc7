/*
 * bss_only: every writable byte is zero-initialised, so the program has no .data and its only
 * writable PT_LOAD segment has p_filesz 0 (the runtime itself has only .bss). A page-aligned
 * array makes ld's default layout put that segment's p_offset past the end of the file, the
 * shape of issue 11. Checks that all of it reads as zero, then that it holds what is written.
 */
#include "corpus.h"
#include "layout.h"

static uint32_t big[3 * 1024 + 7] __attribute__((aligned(4096))); /* four pages */
static uint8_t odd[37];
static uint32_t counter;
static const uint32_t weights[5] = {3, 1, 4, 1, 5}; /* .rodata, in the text segment */

int main(void) {
  uint32_t fails = 0, i, s = 12345, hw = 0, hr = 0;
  uint32_t *b = launder(big);
  uint8_t *o = launder(odd);
  uint32_t *c = launder(&counter);
  const uint32_t *w = launder((void *)weights);
  uint32_t zb = nonzero_bytes((const uint8_t *)b, sizeof big);
  uint32_t zo = nonzero_bytes(o, sizeof odd);
  rt_printf("bss zero: big %u/%u nonzero, odd %u/%u nonzero, counter %u\n", zb, (unsigned)sizeof big,
            zo, (unsigned)sizeof odd, *c);
  fails += zb != 0 || zo != 0 || *c != 0;
  for (i = 0; i < sizeof big / 4; i++) {
    b[i] = rng_next(&s) * w[i % 5];
    hw = mix32(hw, b[i]);
  }
  for (i = 0; i < sizeof odd; i++) o[i] = (uint8_t)(i * 7 + 1);
  *c += 41;
  b = launder(big);
  for (i = 0; i < sizeof big / 4; i++) hr = mix32(hr, b[i]);
  rt_printf("big written 0x%08x read 0x%08x first 0x%08x last 0x%08x\n", hw, hr, b[0],
            b[sizeof big / 4 - 1]);
  rt_printf("odd fnv 0x%08x counter %u\n", fnv_bytes(launder(odd), sizeof odd), *(uint32_t *)launder(c));
  fails += hw != hr || *c != 41;
  rt_printf("%s\n", fails ? "FAIL" : "ok");
  return fails ? 1 : 21;
}
