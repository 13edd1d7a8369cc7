/*
 * alu: register and immediate ALU operations, constant and variable shifts, signed and unsigned
 * comparisons (slt sltu slti sltiu), lui/ori constants, nor, and the trapping add/addi/sub forms
 * (inline asm, with operands that never overflow). Exit code 3.
 */
#include "corpus.h"

static const uint32_t vals[] = {0,          1,          2,          3,          7,
                                31,         32,         0x7F,       0x80,       0xFF,
                                0x7FFF,     0x8000,     0xFFFF,     0x10000,    0x12345678,
                                0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF,
                                0xDEADBEEF, 0x0F0F0F0F, 0xAAAAAAAA, 0x55555555};
#define NV (sizeof vals / sizeof vals[0])

static int32_t asm_add(int32_t a, int32_t b) {
  int32_t r;
  __asm__("add %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static int32_t asm_addi(int32_t a) {
  int32_t r;
  __asm__("addi %0, %1, -1234" : "=r"(r) : "r"(a));
  return r;
}
static int32_t asm_sub(int32_t a, int32_t b) {
  int32_t r;
  __asm__("sub %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

int main(void) {
  uint32_t h = MIX_INIT;
  unsigned i, j;
  /* register-register operations over all pairs, folded into one checksum per operation */
  static const char *names[] = {"addu", "subu", "and",  "or",   "xor",  "nor",  "slt",
                                "sltu", "sllv", "srlv", "srav", "sll7", "srl9", "sra13"};
  uint32_t hs[14];
  for (i = 0; i < 14; i++) hs[i] = MIX_INIT;
  for (i = 0; i < NV; i++) {
    for (j = 0; j < NV; j++) {
      uint32_t a = opq(vals[i]), b = opq(vals[j]);
      uint32_t s = b & 31;
      hs[0] = mix32(hs[0], a + b);
      hs[1] = mix32(hs[1], a - b);
      hs[2] = mix32(hs[2], a & b);
      hs[3] = mix32(hs[3], a | b);
      hs[4] = mix32(hs[4], a ^ b);
      hs[5] = mix32(hs[5], ~(a | b));
      hs[6] = mix32(hs[6], (int32_t)a < (int32_t)b);
      hs[7] = mix32(hs[7], a < b);
      hs[8] = mix32(hs[8], a << s);
      hs[9] = mix32(hs[9], a >> s);
      hs[10] = mix32(hs[10], (uint32_t)((int32_t)a >> s));
      hs[11] = mix32(hs[11], a << 7);
      hs[12] = mix32(hs[12], a >> 9);
      hs[13] = mix32(hs[13], (uint32_t)((int32_t)a >> 13));
    }
  }
  for (i = 0; i < 14; i++) {
    rt_printf("%-6s 0x%08x\n", names[i], hs[i]);
    h = mix32(h, hs[i]);
  }
  /* a few explicit results */
  for (i = 0; i < NV; i += 3) {
    uint32_t a = opq(vals[i]);
    int32_t sa = (int32_t)a;
    rt_printf("v=0x%08x addiu=0x%08x andi=0x%08x ori=0x%08x xori=0x%08x lui=0x%08x "
              "slti=%d sltiu=%d sra31=0x%08x srl31=%u sll31=0x%08x\n",
              a, a + 1234u, a & 0xF0F0u, a | 0x1234u, a ^ 0xABCDu, a + 0x12340000u,
              sa < -5, a < 100u, (uint32_t)(sa >> 31), a >> 31, a << 31);
    h = mix32(h, a);
  }
  /* variable shifts by every amount */
  for (i = 0; i < 32; i++) {
    uint32_t s = opq(i);
    h = mix32(h, 0x80000001u << s);
    h = mix32(h, 0x80000001u >> s);
    h = mix32(h, (uint32_t)((int32_t)0x80000001 >> s));
  }
  rt_printf("shift sweep 0x%08x\n", h);
  /* trapping forms that must not trap */
  rt_printf("add=%d addi=%d sub=%d add2=%d sub2=%d\n", asm_add(opqi(1000000), opqi(-3)),
            asm_addi(opqi(5)), asm_sub(opqi(-100), opqi(2147483547)),
            asm_add(opqi(2147483646), opqi(1)), asm_sub(opqi(-2147483647), opqi(1)));
  /* signed vs unsigned comparison of the same bits */
  for (i = 0; i < NV; i += 4) {
    uint32_t a = opq(vals[i]), b = opq(0x80000000u);
    rt_printf("cmp 0x%08x: s<%d u<%d s>=%d u>=%d eq%d ne%d\n", a, (int32_t)a < (int32_t)b, a < b,
              (int32_t)a >= (int32_t)b, a >= b, a == b, a != b);
  }
  rt_printf("alu checksum 0x%08x\n", h);
  rt_eprintf("alu: exiting with 3\n");
  return 3;
}
