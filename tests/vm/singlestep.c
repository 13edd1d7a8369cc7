/* A small freestanding program for the per-step register comparison with qemu's CPU log:
   sorting, hashing, 64-bit arithmetic, division, unaligned struct access and calls through
   pointers, small enough (about 100k steps) to log every step. */
typedef unsigned int u32;
typedef unsigned long long u64;

static u32 buf[300];
static char text[] = "the quick brown fox jumps over the lazy dog";
struct __attribute__((packed)) rec { char tag; u32 value; short half; };
static struct rec recs[8];

static long sys3(long n, long a, long b, long c) {
  register long v0 asm("$2") = n;
  register long a0 asm("$4") = a;
  register long a1 asm("$5") = b;
  register long a2 asm("$6") = c;
  register long a3 asm("$7");
  asm volatile("syscall" : "+r"(v0), "=r"(a3) : "r"(a0), "r"(a1), "r"(a2)
               : "memory", "$1", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25", "hi", "lo");
  return v0;
}

static void put_hex(u32 v) {
  char s[9];
  for (int i = 7; i >= 0; i--, v >>= 4) s[i] = "0123456789abcdef"[v & 15];
  s[8] = '\n';
  sys3(4004, 1, (long)s, 9);
}

static u32 crc32(const char *p, int n) {
  u32 c = 0xffffffffu;
  for (int i = 0; i < n; i++) {
    c ^= (unsigned char)p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

static int cmp_u32(u32 a, u32 b) { return a < b ? -1 : a > b; }
static int cmp_rev(u32 a, u32 b) { return -cmp_u32(a, b); }

static void sort(u32 *a, int n, int (*cmp)(u32, u32)) {
  for (int i = 1; i < n; i++) {
    u32 x = a[i];
    int j = i - 1;
    while (j >= 0 && cmp(a[j], x) > 0) { a[j + 1] = a[j]; j--; }
    a[j + 1] = x;
  }
}

int main(void) {
  u32 s = 12345;
  for (int i = 0; i < 300; i++) { s = s * 1103515245u + 12345u; buf[i] = s >> 3; }
  sort(buf, 120, cmp_u32);
  put_hex(buf[0] ^ buf[119]);
  sort(buf + 120, 60, cmp_rev);
  put_hex(buf[120]);
  u64 acc = 0x123456789abcdefull;
  for (int i = 1; i < 200; i++) {
    acc = acc * 6364136223846793005ull + (u64)buf[i];
    acc ^= acc >> (i & 31);
    volatile int d = (int)(buf[i] | 1);
    volatile int q = (int)buf[i + 1] / d - (int)(buf[i + 2] % (u32)d);
    acc += (u64)(long long)q;
  }
  put_hex((u32)(acc >> 32));
  put_hex((u32)acc);
  for (int i = 0; i < 8; i++) { recs[i].tag = (char)i; recs[i].value = buf[i] * 3; recs[i].half = (short)-i; }
  u32 t = 0;
  for (int i = 0; i < 8; i++) t += recs[i].value + (u32)recs[i].half + (u32)recs[i].tag;
  put_hex(t);
  put_hex(crc32(text, sizeof text - 1));
  return (int)(t & 63);
}
