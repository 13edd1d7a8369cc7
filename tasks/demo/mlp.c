/*
 * The demo's guest: a small float32 MLP (64 -> 32 -> 10, ReLU) with deterministic weights,
 * built natively (hardware SSE float) and for MIPS (the project's soft-float). It prints each
 * logit's bit pattern and the argmax: the two builds must print the same bytes.
 */
#ifdef __mips__
#include "sys.h"
static void out(const char *s, int n) { sys_write(1, s, n); }
#else
#include <unistd.h>
static void out(const char *s, int n) { (void)!write(1, s, n); }
#endif

#define IN 64
#define HID 32
#define OUT 10

static float w1[HID][IN], b1[HID], w2[OUT][HID], b2[OUT], x[IN];
static unsigned seed = 2024;

static float uniform(void) { /* in [-1, 1) from an LCG: exact in float */
  seed = seed * 1664525u + 1013904223u;
  return (float)(int)(seed >> 8 & 0xffff) / 32768.0f - 1.0f;
}

static void hex(unsigned v, char *s) {
  for (int i = 7; i >= 0; i--, v >>= 4) s[i] = "0123456789abcdef"[v & 15];
}

int main(void) {
  for (int i = 0; i < HID; i++) { for (int j = 0; j < IN; j++) w1[i][j] = uniform() * 0.25f; b1[i] = uniform() * 0.1f; }
  for (int i = 0; i < OUT; i++) { for (int j = 0; j < HID; j++) w2[i][j] = uniform() * 0.3f; b2[i] = uniform() * 0.1f; }
  for (int j = 0; j < IN; j++) x[j] = (float)((j * 37) % 64) / 63.0f;
  float h[HID], logits[OUT];
  for (int i = 0; i < HID; i++) {
    float acc = b1[i];
    for (int j = 0; j < IN; j++) acc += w1[i][j] * x[j];
    h[i] = acc > 0.0f ? acc : 0.0f;
  }
  int best = 0;
  for (int i = 0; i < OUT; i++) {
    float acc = b2[i];
    for (int j = 0; j < HID; j++) acc += w2[i][j] * h[j];
    logits[i] = acc;
    if (acc > logits[best]) best = i;
  }
  char line[] = "logit 0 = 0x00000000\n";
  for (int i = 0; i < OUT; i++) {
    union { float f; unsigned u; } c = { logits[i] };
    line[6] = (char)('0' + i);
    hex(c.u, line + 12);
    out(line, sizeof line - 1);
  }
  char cls[] = "class 0\n";
  cls[6] = (char)('0' + best);
  out(cls, sizeof cls - 1);
  return 0;
}
