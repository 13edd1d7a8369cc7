/*
 * recursion: recursive fib and Ackermann, mutual recursion, Towers of Hanoi, a non-tail
 * recursion 20000 frames deep, a chain of distinct non-inlined functions, and an exit through
 * rt_exit() from inside a recursion (exit code 11, main never returns).
 */
#include "corpus.h"

#define NOINLINE __attribute__((noinline))

NOINLINE static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

NOINLINE static uint32_t ack(uint32_t m, uint32_t n) {
  if (m == 0) return n + 1;
  if (n == 0) return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}

NOINLINE static int is_odd(uint32_t n);
NOINLINE static int is_even(uint32_t n) { return n == 0 ? 1 : is_odd(n - 1); }
NOINLINE static int is_odd(uint32_t n) { return n == 0 ? 0 : is_even(n - 1); }

static uint32_t hanoi_moves, hanoi_hash = MIX_INIT;
NOINLINE static void hanoi(uint32_t n, uint32_t from, uint32_t to, uint32_t via) {
  if (n == 0) return;
  hanoi(n - 1, from, via, to);
  hanoi_moves++;
  hanoi_hash = mix32(hanoi_hash, from * 4 + to);
  hanoi(n - 1, via, to, from);
}

/* not a tail call: work after the call keeps every frame alive */
NOINLINE static uint32_t deep(uint32_t n, volatile uint32_t *sink) {
  uint32_t local[4];
  uint32_t r;
  local[0] = n;
  local[1] = n * 3;
  local[2] = n ^ 0x5A5A;
  local[3] = n + 7;
  *sink = local[n & 3];
  if (n == 0) return 1;
  r = deep(n - 1, sink);
  return r * 31 + local[(n >> 2) & 3];
}

NOINLINE static uint32_t c9(uint32_t x) { return x * 9 + 1; }
NOINLINE static uint32_t c8(uint32_t x) { return c9(x + 8) ^ 0x88; }
NOINLINE static uint32_t c7(uint32_t x) { return c8(x * 7) + 7; }
NOINLINE static uint32_t c6(uint32_t x) { return c7(x - 6) * 3; }
NOINLINE static uint32_t c5(uint32_t x) { return c6(x ^ 5) + c9(x); }
NOINLINE static uint32_t c4(uint32_t x) { return c5(x + 4) - 4; }
NOINLINE static uint32_t c3(uint32_t x) { return c4(x << 3) ^ c8(x); }
NOINLINE static uint32_t c2(uint32_t x) { return c3(x + 2) + 2; }
NOINLINE static uint32_t c1(uint32_t x) { return c2(x * 11) * 5; }

/* every path recurses or exits: that is the point */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
NOINLINE static void exit_deep(uint32_t n) {
  if (n == 0) {
    rt_printf("exiting from the bottom of a recursion\n");
    rt_eprintf("recursion: exit code 11\n");
    rt_exit(11);
  }
  exit_deep(n - 1);
  rt_printf("never printed\n");
}

int main(void) {
  volatile uint32_t sink;
  uint32_t i;
  rt_printf("fib(24) = %u\n", fib(opq(24)));
  rt_printf("ack(2,3) = %u ack(3,5) = %u\n", ack(opq(2), opq(3)), ack(opq(3), opq(5)));
  rt_printf("is_even(1001) = %d is_odd(777) = %d\n", is_even(opq(1001)), is_odd(opq(777)));
  hanoi(opq(12), 1, 3, 2);
  rt_printf("hanoi(12): %u moves, hash 0x%08x\n", hanoi_moves, hanoi_hash);
  rt_printf("deep(20000) = 0x%08x\n", deep(opq(20000), &sink));
  for (i = 0; i < 4; i++) rt_printf("chain(%u) = 0x%08x\n", i, c1(opq(i)));
  exit_deep(opq(100));
  return 0;
}
