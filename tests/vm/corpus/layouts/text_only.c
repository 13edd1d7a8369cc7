/*
 * text_only: no writable segment and no .rodata: no runtime, no globals, no string literals.
 * Everything lives in registers and on the stack; the output is assembled character by
 * character. Exits with 33 after printing a few computed values.
 */
#include <stdint.h>

__asm__(".section .text.start,\"ax\",@progbits\n"
        "  .globl _start\n"
        "  .type _start, @function\n"
        "  .set push\n"
        "  .set noreorder\n"
        "_start:\n"
        "  addiu $t0, $zero, -8\n"
        "  and $sp, $sp, $t0\n"
        "  addiu $sp, $sp, -32\n"
        "  jal main\n"
        "  nop\n"
        "  move $a0, $v0\n"
        "  li $v0, 4246\n" /* exit_group */
        "  syscall\n"
        "1: b 1b\n"
        "  nop\n"
        "  .set pop\n"
        "  .previous\n");

static long sys_write(long fd, const void *buf, long n) {
  register long v0 __asm__("$2") = 4004;
  register long a0 __asm__("$4") = fd;
  register long a1 __asm__("$5") = (long)buf;
  register long a2 __asm__("$6") = n;
  register long a3 __asm__("$7");
  __asm__ __volatile__("syscall"
                       : "+r"(v0), "=r"(a3), "+r"(a0), "+r"(a1), "+r"(a2)
                       :
                       : "$1", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24",
                         "$25", "hi", "lo", "memory");
  return v0;
}

static __attribute__((noinline)) char *put_hex(char *p, uint32_t v) {
  int i;
  for (i = 28; i >= 0; i -= 4) {
    uint32_t d = (v >> i) & 15;
    *p++ = (char)(d < 10 ? '0' + d : 'a' + d - 10);
  }
  return p;
}

static __attribute__((noinline)) uint32_t collatz_steps(uint32_t n) {
  uint32_t s = 0;
  while (n != 1) {
    n = (n & 1) ? 3 * n + 1 : n / 2;
    s++;
  }
  return s;
}

int main(void) {
  char line[64];
  char *p = line;
  uint32_t fib[24], i, h = 0;
  fib[0] = 0;
  fib[1] = 1;
  for (i = 2; i < 24; i++) fib[i] = fib[i - 1] + fib[i - 2];
  for (i = 0; i < 24; i++) h = h * 31 + fib[i];
  *p++ = 'f';
  *p++ = ' ';
  p = put_hex(p, fib[23]);
  *p++ = ' ';
  p = put_hex(p, h);
  *p++ = '\n';
  *p++ = 'c';
  *p++ = ' ';
  p = put_hex(p, collatz_steps(27));
  *p++ = ' ';
  p = put_hex(p, collatz_steps(837799));
  *p++ = '\n';
  sys_write(1, line, p - line);
  /* 28657 = fib(23); 111 and 524 Collatz steps */
  return fib[23] == 28657 && collatz_steps(27) == 111 && collatz_steps(837799) == 524 ? 33 : 1;
}
