/* x86-64 SSE reference for the VM's FPU (tests/vm/fpu_native.test.ts): reads pairs of binary32
 * bit patterns (native endianness) from stdin and writes, per pair, the SSE results with the
 * first operand in the destination register, as the VM's NaN rule assumes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static float f(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static uint32_t u(float x) { uint32_t v; memcpy(&v, &x, 4); return v; }

int main(void) {
  uint32_t in[2];
  while (fread(in, 4, 2, stdin) == 2) {
    float a = f(in[0]), b = f(in[1]);
    float s = a, d = a, m = a, q = a, r = a, fl, ce, w;
    __asm__("addss %1, %0" : "+x"(s) : "x"(b));
    __asm__("subss %1, %0" : "+x"(d) : "x"(b));
    __asm__("mulss %1, %0" : "+x"(m) : "x"(b));
    __asm__("divss %1, %0" : "+x"(q) : "x"(b));
    __asm__("sqrtss %1, %0" : "=x"(r) : "x"(a));
    __asm__("roundss $9, %1, %0" : "=x"(fl) : "x"(a));  /* floor, no precision exception */
    __asm__("roundss $10, %1, %0" : "=x"(ce) : "x"(a)); /* ceil */
    int32_t near, trunc, flo, cei;
    __asm__("cvtss2si %1, %0" : "=r"(near) : "x"(a));
    __asm__("cvttss2si %1, %0" : "=r"(trunc) : "x"(a));
    __asm__("cvttss2si %1, %0" : "=r"(flo) : "x"(fl));
    __asm__("cvttss2si %1, %0" : "=r"(cei) : "x"(ce));
    int32_t iv = (int32_t)in[0];
    __asm__("cvtsi2ss %1, %0" : "=x"(w) : "r"(iv));
    uint32_t cmp = (a != a || b != b ? 1u : 0u) | (a == b ? 2u : 0u) | (a < b ? 4u : 0u);
    uint32_t out[12] = {u(s), u(d), u(m), u(q), u(r), (uint32_t)near, (uint32_t)trunc,
                        (uint32_t)cei, (uint32_t)flo, u(w), cmp, 0};
    fwrite(out, 4, 12, stdout);
  }
  return 0;
}
