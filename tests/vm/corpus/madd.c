/*
 * madd: multiply-accumulate into hi/lo (madd maddu msub msubu, MIPS32) through inline asm, and
 * integer dot products that GCC compiles to madd when allowed (-mimadd, flag set O2-imadd).
 * MIPS I builds compute the same values in C. Exit code 0.
 */
#include "corpus.h"

static uint64_t acc_op(int op, uint64_t acc, uint32_t a, uint32_t b) {
#if HAVE_MIPS32
  uint32_t hi = (uint32_t)(acc >> 32), lo = (uint32_t)acc;
  switch (op) {
    case 0:
      __asm__("mthi %2\n\tmtlo %3\n\tmadd %4, %5\n\tmfhi %0\n\tmflo %1"
              : "=&r"(hi), "=&r"(lo)
              : "r"(hi), "r"(lo), "r"(a), "r"(b)
              : "hi", "lo");
      break;
    case 1:
      __asm__("mthi %2\n\tmtlo %3\n\tmaddu %4, %5\n\tmfhi %0\n\tmflo %1"
              : "=&r"(hi), "=&r"(lo)
              : "r"(hi), "r"(lo), "r"(a), "r"(b)
              : "hi", "lo");
      break;
    case 2:
      __asm__("mthi %2\n\tmtlo %3\n\tmsub %4, %5\n\tmfhi %0\n\tmflo %1"
              : "=&r"(hi), "=&r"(lo)
              : "r"(hi), "r"(lo), "r"(a), "r"(b)
              : "hi", "lo");
      break;
    default:
      __asm__("mthi %2\n\tmtlo %3\n\tmsubu %4, %5\n\tmfhi %0\n\tmflo %1"
              : "=&r"(hi), "=&r"(lo)
              : "r"(hi), "r"(lo), "r"(a), "r"(b)
              : "hi", "lo");
      break;
  }
  return ((uint64_t)hi << 32) | lo;
#else
  switch (op) {
    case 0: return acc + (uint64_t)((int64_t)(int32_t)a * (int32_t)b);
    case 1: return acc + (uint64_t)a * b;
    case 2: return acc - (uint64_t)((int64_t)(int32_t)a * (int32_t)b);
    default: return acc - (uint64_t)a * b;
  }
#endif
}

#define N 64
static int32_t va[N], vb[N];
static uint32_t ua[N], ub[N];

/* GCC turns these into madd/maddu/msub loops under -mimadd */
__attribute__((noinline)) static int64_t dot_s(const int32_t *a, const int32_t *b, int n) {
  int64_t acc = 0;
  int i;
  for (i = 0; i < n; i++) acc += (int64_t)a[i] * b[i];
  return acc;
}
__attribute__((noinline)) static uint64_t dot_u(const uint32_t *a, const uint32_t *b, int n) {
  uint64_t acc = 0;
  int i;
  for (i = 0; i < n; i++) acc += (uint64_t)a[i] * b[i];
  return acc;
}
__attribute__((noinline)) static int64_t dot_neg(const int32_t *a, const int32_t *b, int n) {
  int64_t acc = 1000000000000ll;
  int i;
  for (i = 0; i < n; i++) acc -= (int64_t)a[i] * b[i];
  return acc;
}

int main(void) {
  static const char *names[] = {"madd", "maddu", "msub", "msubu"};
  uint32_t s = 12345;
  int i, op;
  for (i = 0; i < N; i++) {
    va[i] = (int32_t)rng_next(&s);
    vb[i] = (int32_t)rng_next(&s) >> (i & 15);
    ua[i] = rng_next(&s);
    ub[i] = rng_next(&s) >> (i & 7);
  }
  for (op = 0; op < 4; op++) {
    uint64_t acc = opq64(0x0000000100000000ull * (uint32_t)op + 0x7FFFFFFFu);
    for (i = 0; i < N; i++) acc = acc_op(op, acc, (uint32_t)va[i], ub[i]);
    rt_printf("%-6s 0x%016llx\n", names[op], (unsigned long long)acc);
  }
  {
    uint64_t acc = opq64(0xFFFFFFFFFFFFFFF0ull);
    acc = acc_op(1, acc, opq(0xFFFFFFFFu), opq(0xFFFFFFFFu)); /* carry out of the low word */
    acc = acc_op(0, acc, opq(0x80000000u), opq(0x80000000u));
    acc = acc_op(2, acc, opq(0x7FFFFFFFu), opq(0xFFFFFFFFu));
    acc = acc_op(3, acc, opq(3u), opq(5u));
    rt_printf("edge   0x%016llx\n", (unsigned long long)acc);
  }
  rt_printf("dot_s   %lld\n", (long long)dot_s(va, vb, N));
  rt_printf("dot_u   %llu\n", (unsigned long long)dot_u(ua, ub, N));
  rt_printf("dot_neg %lld\n", (long long)dot_neg(va, vb, N));
  return 0;
}
