/*
 * llsc: load-linked / store-conditional loops (atomic add, compare-and-swap, exchange) through
 * inline asm, with sync and pref; MIPS I has no ll/sc/sync, so that build uses plain C with the
 * same results. The VM's sc always succeeds (single-threaded); qemu's may retry, the loops
 * handle both. Exit code 0.
 */
#include "corpus.h"

static uint32_t atomic_add(volatile uint32_t *p, uint32_t v) { /* returns the old value */
#if HAVE_MIPS2
  uint32_t old, tmp;
  __asm__ __volatile__(
      ".set push\n\t.set noreorder\n"
      "1:\tll %0, 0(%2)\n\t"
      "addu %1, %0, %3\n\t"
      "sc %1, 0(%2)\n\t"
      "beqz %1, 1b\n\t"
      "nop\n\t"
      ".set pop"
      : "=&r"(old), "=&r"(tmp)
      : "r"(p), "r"(v)
      : "memory");
  return old;
#else
  uint32_t old = *p;
  *p = old + v;
  return old;
#endif
}

static int cas(volatile uint32_t *p, uint32_t expect, uint32_t desired) {
#if HAVE_MIPS2
  uint32_t old, ok;
  __asm__ __volatile__(
      ".set push\n\t.set noreorder\n"
      "1:\tll %0, 0(%2)\n\t"
      "bne %0, %3, 2f\n\t"
      "move %1, $zero\n\t"
      "move %1, %4\n\t"
      "sc %1, 0(%2)\n\t"
      "beqz %1, 1b\n\t"
      "nop\n"
      "2:\n\t"
      ".set pop"
      : "=&r"(old), "=&r"(ok)
      : "r"(p), "r"(expect), "r"(desired)
      : "memory");
  return (int)ok;
#else
  if (*p != expect) return 0;
  *p = desired;
  return 1;
#endif
}

static uint32_t xchg(volatile uint32_t *p, uint32_t v) {
#if HAVE_MIPS2
  uint32_t old, tmp;
  __asm__ __volatile__(
      ".set push\n\t.set noreorder\n"
      "1:\tll %0, 0(%2)\n\t"
      "move %1, %3\n\t"
      "sc %1, 0(%2)\n\t"
      "beqz %1, 1b\n\t"
      "nop\n\t"
      ".set pop"
      : "=&r"(old), "=&r"(tmp)
      : "r"(p), "r"(v)
      : "memory");
  return old;
#else
  uint32_t old = *p;
  *p = v;
  return old;
#endif
}

static void barrier(const void *p) {
#if HAVE_MIPS32
  __asm__ __volatile__("sync\n\tpref 0, 0(%0)\n\tpref 1, 32(%0)" : : "r"(p) : "memory");
#elif HAVE_MIPS2
  __asm__ __volatile__("sync" : : : "memory");
  (void)p;
#else
  (void)p;
#endif
}

static volatile uint32_t counter, slots[4];

int main(void) {
  uint32_t i, olds = 0;
  for (i = 0; i < 1000; i++) olds += atomic_add(&counter, i);
  barrier((const void *)&counter);
  rt_printf("counter = %u, sum of old values = %u\n", counter, olds);
  rt_printf("cas(wrong) = %d, value %u\n", cas(&counter, 5, 77), counter);
  rt_printf("cas(right) = %d, value %u\n", cas(&counter, 499500, 77), counter);
  rt_printf("xchg old = %u, new = %u\n", xchg(&counter, 0xDEADBEEFu), counter);
  /* a tiny spin lock protecting a multi-word update */
  for (i = 0; i < 100; i++) {
    while (!cas(&slots[0], 0, 1)) {
    }
    slots[1] += i;
    slots[2] ^= i * 2654435761u;
    barrier((const void *)slots);
    xchg(&slots[0], 0);
  }
  rt_printf("lock=%u a=%u b=0x%08x\n", slots[0], slots[1], slots[2]);
  return 0;
}
