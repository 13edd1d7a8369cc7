/*
 * dispatch: a small stack-machine interpreter driven by a dense switch (jump table: jr through
 * a table) and by a table of function pointers (jalr), plus callbacks passed as arguments.
 * Exit code 7.
 */
#include "corpus.h"

enum { PUSH, ADD, SUB, MUL, DUP, SWAP, DROP, JNZ, DEC, PRINT, CALLF, HALT, OVER, NEG, XOR, SHL };

typedef int32_t (*binop_t)(int32_t, int32_t);
static int32_t f_add(int32_t a, int32_t b) { return a + b; }
static int32_t f_sub(int32_t a, int32_t b) { return a - b; }
static int32_t f_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
static int32_t f_max(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t f_min(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t f_xor(int32_t a, int32_t b) { return a ^ b; }
static const binop_t ftab[] = {f_add, f_sub, f_mul, f_max, f_min, f_xor};

static int32_t run(const int32_t *code) {
  int32_t stack[64];
  int sp = 0, pc = 0, steps = 0;
  for (;;) {
    int32_t op = code[pc++], t;
    steps++;
    switch (op) {
      case PUSH: stack[sp++] = code[pc++]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case MUL: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] * (uint32_t)stack[sp]); break;
      case DUP: stack[sp] = stack[sp - 1]; sp++; break;
      case SWAP: t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break;
      case DROP: sp--; break;
      case JNZ: t = code[pc++]; if (stack[--sp]) pc = t; break;
      case DEC: stack[sp - 1]--; break;
      case PRINT: rt_printf("  print %d\n", stack[sp - 1]); break;
      case CALLF: sp--; stack[sp - 1] = ftab[code[pc++]](stack[sp - 1], stack[sp]); break;
      case OVER: stack[sp] = stack[sp - 2]; sp++; break;
      case NEG: stack[sp - 1] = -stack[sp - 1]; break;
      case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
      case SHL: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] << (stack[sp] & 31)); break;
      case HALT: rt_printf("  halt after %d steps, sp=%d\n", steps, sp); return stack[sp - 1];
      default: rt_printf("  bad opcode %d\n", op); return -1;
    }
  }
}

/* factorial of 10: [acc n] -> [acc*n n-1] until n == 0 */
static const int32_t prog_fact[] = {PUSH, 1,   PUSH, 10,  /* 4: */ SWAP, OVER, MUL, SWAP,
                                    DEC,  DUP, JNZ,  4,   DROP, PRINT, HALT};
/* sum of squares 1..20, squaring through the function table: [n acc] */
static const int32_t prog_sq[] = {PUSH, 20,   PUSH, 0,     /* 4: */ OVER, DUP, CALLF, 2,
                                  ADD,  SWAP, DEC,  DUP,   JNZ,  17,   DROP, PRINT,
                                  HALT, /* 17: */ SWAP, PUSH, 1,    JNZ,  4};
/* ((5 << 3) ^ 7), negated, then max(-47, -40), minus 3, min with -100 */
static const int32_t prog_misc[] = {PUSH,  5,     PUSH, 3,  SHL,   PUSH,  7,    XOR,
                                    NEG,   PRINT, PUSH, -40, CALLF, 3,     PRINT, PUSH,
                                    3,     CALLF, 1,    PRINT, PUSH, -100, CALLF, 4,
                                    PRINT, HALT};

static int32_t apply_all(binop_t f, const int32_t *xs, int n) {
  int32_t acc = xs[0];
  int i;
  for (i = 1; i < n; i++) acc = f(acc, xs[i]);
  return acc;
}

static const char *classify(uint32_t c) {
  switch (c) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return "vowel";
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': return "digit";
    case ' ': return "space";
    case '.': case ',': case '!': case '?': return "punct";
    default: return "other";
  }
}

int main(void) {
  static const int32_t xs[] = {5, -3, 12, 7, -8, 100, 42, -1};
  unsigned i;
  int32_t r;
  rt_printf("fact program:\n");
  r = run(prog_fact);
  rt_printf("result %d\n", r);
  rt_printf("squares program:\n");
  r = run(prog_sq);
  rt_printf("result %d\n", r);
  rt_printf("misc program:\n");
  r = run(prog_misc);
  rt_printf("result %d\n", r);
  for (i = 0; i < sizeof ftab / sizeof ftab[0]; i++) {
    binop_t f = ftab[opq(i)];
    rt_printf("ftab[%u] fold = %d\n", i, apply_all(f, xs, 8));
  }
  {
    const char *s = "a1 b2, e.i?o!z";
    uint32_t counts[5] = {0, 0, 0, 0, 0};
    for (i = 0; s[i]; i++) {
      const char *c = classify((uint32_t)(unsigned char)s[i]);
      counts[c[0] == 'v' ? 0 : c[0] == 'd' ? 1 : c[0] == 's' ? 2 : c[0] == 'p' ? 3 : 4]++;
    }
    rt_printf("classes: vowel %u digit %u space %u punct %u other %u\n", counts[0], counts[1],
              counts[2], counts[3], counts[4]);
  }
  return 7;
}
