/*
 * segments: five PT_LOAD segments from segments.ld: text, read-only data starting mid-page,
 * and three writable ones: .data starting mid-page, a second data segment starting 8 bytes
 * before a page boundary whose file bytes cross it and whose zero-filled tail spans pages, and
 * a bss-only segment (with the runtime's buffers). Checks each one's contents, then writes them.
 */
#include "corpus.h"
#include "layout.h"

#define SEG2(name) __attribute__((section(name), aligned(4)))

static const uint32_t ro_table[6] = {0x01020304, 0xa0b0c0d0, 7, 0, 0xffffffff, 99};
static uint32_t data1[6] = {10, 20, 30, 40, 50, 60};
static const char *data1_name = "first data segment";
SEG2(".seg2_data") static uint32_t data2[4] = {0xcafef00d, 0x12345678, 0x9abcdef0, 0x0badc0de};
SEG2(".bss.seg2_tail") static uint32_t data2_tail[3000]; /* zero fill of the second segment */
static uint32_t bss3[2048];                    /* the bss-only segment */

static uint32_t sum_words(const uint32_t *p, uint32_t n) {
  uint32_t s = 0, i;
  for (i = 0; i < n; i++) s = mix32(s, p[i]);
  return s;
}

int main(void) {
  uint32_t fails = 0, i, z;
  const uint32_t *ro = launder((void *)ro_table);
  uint32_t *d1 = launder(data1), *d2 = launder(data2), *t2 = launder(data2_tail);
  uint32_t *b3 = launder(bss3);
  rt_printf("rodata 0x%08x 0x%08x %u sum 0x%08x\n", ro[0], ro[1], ro[5], sum_words(ro, 6));
  fails += ro[0] != 0x01020304 || ro[4] != 0xffffffff || ro[5] != 99;
  rt_printf("data1 %u %u %u, %s\n", d1[0], d1[3], d1[5], data1_name);
  fails += d1[0] != 10 || d1[5] != 60;
  rt_printf("data2 0x%08x 0x%08x 0x%08x 0x%08x\n", d2[0], d2[1], d2[2], d2[3]);
  fails += d2[0] != 0xcafef00d || d2[1] != 0x12345678 || d2[2] != 0x9abcdef0 || d2[3] != 0x0badc0de;
  z = nonzero_bytes((const uint8_t *)t2, sizeof data2_tail);
  rt_printf("data2 tail: %u nonzero bytes of %u\n", z, (unsigned)sizeof data2_tail);
  fails += z != 0;
  z = nonzero_bytes((const uint8_t *)b3, sizeof bss3);
  rt_printf("bss3: %u nonzero bytes of %u\n", z, (unsigned)sizeof bss3);
  fails += z != 0;
  for (i = 0; i < 6; i++) d1[i] += ro[i];
  for (i = 0; i < 4; i++) d2[i] ^= 0xffffffff;
  for (i = 0; i < 3000; i++) t2[i] = i * i;
  for (i = 0; i < 2048; i++) b3[i] = d1[i % 6] + i;
  rt_printf("after writes: data1 0x%08x data2 0x%08x tail 0x%08x bss3 0x%08x\n",
            sum_words(launder(data1), 6), sum_words(launder(data2), 4),
            sum_words(launder(data2_tail), 3000), sum_words(launder(bss3), 2048));
  fails += ((uint32_t *)launder(data2_tail))[2999] != 2999 * 2999 || d2[0] != ~0xcafef00du;
  rt_printf("%s\n", fails ? "FAIL" : "ok");
  return fails ? 1 : 44;
}
