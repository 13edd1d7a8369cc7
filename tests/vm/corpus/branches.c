/*
 * branches: every conditional branch form. Compiled C gives beq bne blez bgtz bltz bgez, j, jal
 * and jr; inline asm adds the linking branches (bltzal bgezal, which write $ra whether or not
 * they branch), the branch-likely forms (beql bnel blezl bgtzl bltzl bgezl bltzall bgezall,
 * whose delay slot is annulled when not taken; MIPS II and later) and jalr through a register.
 * Each probe returns 1 if taken (delay slot ran), 3 if not taken with the delay slot executed,
 * 2 if not taken with the delay slot annulled. Exit code 0.
 */
#include "corpus.h"

#define PROBE2(name, insn)                                                 \
  static uint32_t name(uint32_t a, uint32_t b) {                           \
    uint32_t r;                                                            \
    __asm__ __volatile__(".set push\n\t.set noreorder\n\t"                 \
                         "move %0, $zero\n\t" insn " %1, %2, 1f\n\t"       \
                         "ori %0, %0, 1\n\t"                               \
                         "ori %0, %0, 2\n"                                 \
                         "1:\n\t.set pop"                                  \
                         : "=&r"(r)                                        \
                         : "r"(a), "r"(b));                                \
    return r;                                                              \
  }

#define PROBE1(name, insn)                                                 \
  static uint32_t name(uint32_t a) {                                       \
    uint32_t r;                                                            \
    __asm__ __volatile__(".set push\n\t.set noreorder\n\t"                 \
                         "move %0, $zero\n\t" insn " %1, 1f\n\t"           \
                         "ori %0, %0, 1\n\t"                               \
                         "ori %0, %0, 2\n"                                 \
                         "1:\n\t.set pop"                                  \
                         : "=&r"(r)                                        \
                         : "r"(a));                                        \
    return r;                                                              \
  }

/* linking forms: also check that $ra = address of the branch + 8 (difference printed, 0) */
#define PROBE_LINK(name, insn)                                             \
  static uint32_t name(uint32_t a, uint32_t *link_diff) {                  \
    uint32_t r, d;                                                         \
    __asm__ __volatile__(".set push\n\t.set noreorder\n\t"                 \
                         "move %0, $zero\n\t"                              \
                         "move $31, $zero\n\t" insn " %2, 1f\n\t"          \
                         "ori %0, %0, 1\n"                                 \
                         "2:\tori %0, %0, 2\n"                             \
                         "1:\tla %1, 2b\n\t"                               \
                         "subu %1, $31, %1\n\t"                            \
                         ".set pop"                                        \
                         : "=&r"(r), "=&r"(d)                              \
                         : "r"(a)                                          \
                         : "$31");                                         \
    *link_diff = d;                                                        \
    return r;                                                              \
  }

PROBE2(p_beq, "beq")
PROBE2(p_bne, "bne")
PROBE1(p_blez, "blez")
PROBE1(p_bgtz, "bgtz")
PROBE1(p_bltz, "bltz")
PROBE1(p_bgez, "bgez")
PROBE_LINK(p_bltzal, "bltzal")
PROBE_LINK(p_bgezal, "bgezal")
#if HAVE_MIPS2
PROBE2(p_beql, "beql")
PROBE2(p_bnel, "bnel")
PROBE1(p_blezl, "blezl")
PROBE1(p_bgtzl, "bgtzl")
PROBE1(p_bltzl, "bltzl")
PROBE1(p_bgezl, "bgezl")
PROBE_LINK(p_bltzall, "bltzall")
PROBE_LINK(p_bgezall, "bgezall")
#else
/* MIPS I: the same answers computed in C */
static uint32_t p_beql(uint32_t a, uint32_t b) { return a == b ? 1 : 2; }
static uint32_t p_bnel(uint32_t a, uint32_t b) { return a != b ? 1 : 2; }
static uint32_t p_blezl(uint32_t a) { return (int32_t)a <= 0 ? 1 : 2; }
static uint32_t p_bgtzl(uint32_t a) { return (int32_t)a > 0 ? 1 : 2; }
static uint32_t p_bltzl(uint32_t a) { return (int32_t)a < 0 ? 1 : 2; }
static uint32_t p_bgezl(uint32_t a) { return (int32_t)a >= 0 ? 1 : 2; }
static uint32_t p_bltzall(uint32_t a, uint32_t *d) { *d = 0; return (int32_t)a < 0 ? 1 : 2; }
static uint32_t p_bgezall(uint32_t a, uint32_t *d) { *d = 0; return (int32_t)a >= 0 ? 1 : 2; }
#endif

static uint32_t call_reg(uint32_t (*f)(uint32_t), uint32_t x) {
  register uint32_t (*fp)(uint32_t) __asm__("$25") = f;
  uint32_t r;
  /* jalr through $t9 (not a plain jal), result in $v0, with a fresh o32 argument area for the
   * callee; every caller-saved register is clobbered */
  __asm__ __volatile__("addiu $sp, $sp, -16\n\tmove $4, %2\n\tjalr %1\n\tnop\n\t"
                       "addiu $sp, $sp, 16\n\tmove %0, $2"
                       : "=r"(r), "+r"(fp)
                       : "r"(x)
                       : "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11",
                         "$12", "$13", "$14", "$15", "$24", "$31", "hi", "lo", "memory");
  return r;
}

__attribute__((noinline)) static uint32_t triple(uint32_t x) { return 3 * x + 1; }

/* branches generated by the compiler from comparisons against zero and between registers */
__attribute__((noinline)) static uint32_t classify(int32_t x, int32_t y) {
  uint32_t r = 0;
  if (x < 0) r |= 1;
  if (x >= 0) r |= 2;
  if (x > 0) r |= 4;
  if (x <= 0) r |= 8;
  if (x == y) r |= 16;
  if (x != y) r |= 32;
  if (x < y) r |= 64;
  if ((uint32_t)x < (uint32_t)y) r |= 128;
  return r;
}

int main(void) {
  static const int32_t v[] = {-2147483647 - 1, -5, -1, 0, 1, 5, 2147483647};
  unsigned i;
  uint32_t d1, d2, d3, d4;
  for (i = 0; i < 7; i++) {
    uint32_t a = opq((uint32_t)v[i]), b = opq((uint32_t)v[(i + 3) % 7]);
    rt_printf("%11d: beq%u bne%u blez%u bgtz%u bltz%u bgez%u", v[i], p_beq(a, a), p_bne(a, b),
              p_blez(a), p_bgtz(a), p_bltz(a), p_bgez(a));
    rt_printf(" | beql%u%u bnel%u%u blezl%u bgtzl%u bltzl%u bgezl%u", p_beql(a, a), p_beql(a, b),
              p_bnel(a, b), p_bnel(a, a), p_blezl(a), p_bgtzl(a), p_bltzl(a), p_bgezl(a));
    rt_printf(" | bltzal%u bgezal%u bltzall%u bgezall%u", p_bltzal(a, &d1), p_bgezal(a, &d2),
              p_bltzall(a, &d3), p_bgezall(a, &d4));
    rt_printf(" link %u %u %u %u | cls %u\n", d1, d2, d3, d4, classify((int32_t)a, (int32_t)b));
  }
  rt_printf("jalr: %u %u\n", call_reg(triple, opq(5)), call_reg(triple, opq(1000)));
  {
    /* a loop with a computed exit and a goto-based state machine (j) */
    uint32_t x = opq(27), steps = 0;
    while (x != 1) {
      x = (x & 1) ? 3 * x + 1 : x / 2;
      steps++;
    }
    rt_printf("collatz(27) steps %u\n", steps);
  }
  {
    uint32_t state = 0, n = opq(10), out = 0;
  s0:
    out = out * 3 + 1;
    if (--n == 0) goto done;
    if (out & 1) goto s1;
    goto s2;
  s1:
    out ^= 0x55;
    state++;
    goto s0;
  s2:
    out += 7;
    state += 2;
    goto s0;
  done:
    rt_printf("state machine %u %u\n", state, out);
  }
  return 0;
}
