/* Minimal freestanding C library for opml MIPS guests: see libc.h. */
#include "libc.h"

#include "sys.h"

/* GCC may turn the loops below into calls to memset/memcpy themselves; forbid that here. */
#define NO_LIBCALL_LOOPS __attribute__((optimize("no-tree-loop-distribute-patterns")))

/* ---------------------------------------------------------------------------------------------
 * memory and strings
 */

NO_LIBCALL_LOOPS void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
    while (n >= 16) {
      ((uint32_t *)d)[0] = ((const uint32_t *)s)[0];
      ((uint32_t *)d)[1] = ((const uint32_t *)s)[1];
      ((uint32_t *)d)[2] = ((const uint32_t *)s)[2];
      ((uint32_t *)d)[3] = ((const uint32_t *)s)[3];
      d += 16;
      s += 16;
      n -= 16;
    }
    while (n >= 4) {
      *(uint32_t *)d = *(const uint32_t *)s;
      d += 4;
      s += 4;
      n -= 4;
    }
  }
  while (n--) *d++ = *s++;
  return dst;
}

NO_LIBCALL_LOOPS void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  if (d == s || n == 0) return dst;
  if (d < s || d >= s + n) return memcpy(dst, src, n);
  /* overlapping with dst after src: copy backwards */
  d += n;
  s += n;
  while (n--) *--d = *--s;
  return dst;
}

NO_LIBCALL_LOOPS void *memset(void *dst, int c, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  uint32_t w = (unsigned char)c;
  w |= w << 8;
  w |= w << 16;
  while (n && ((uintptr_t)d & 3)) {
    *d++ = (unsigned char)c;
    n--;
  }
  while (n >= 16) {
    ((uint32_t *)d)[0] = w;
    ((uint32_t *)d)[1] = w;
    ((uint32_t *)d)[2] = w;
    ((uint32_t *)d)[3] = w;
    d += 16;
    n -= 16;
  }
  while (n >= 4) {
    *(uint32_t *)d = w;
    d += 4;
    n -= 4;
  }
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

NO_LIBCALL_LOOPS int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x < *y ? -1 : 1;
  return 0;
}

NO_LIBCALL_LOOPS size_t strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++) {
    if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
    if (!*a) return 0;
  }
  return 0;
}

NO_LIBCALL_LOOPS char *strcpy(char *dst, const char *src) {
  char *d = dst;
  while ((*d++ = *src++)) {
  }
  return dst;
}

char *strchr(const char *s, int c) {
  for (;; s++) {
    if (*s == (char)c) return (char *)s;
    if (!*s) return 0;
  }
}

/* ---------------------------------------------------------------------------------------------
 * output
 */

#define OUT_BUF 4096
static char out_buf[2][OUT_BUF];
static size_t out_len[2];

static void flush_fd(int i) {
  if (out_len[i]) {
    sys_write_all(i + 1, out_buf[i], out_len[i]);
    out_len[i] = 0;
  }
}

void rt_flush(void) {
  flush_fd(0);
  flush_fd(1);
}

void rt_write(int fd, const void *buf, size_t n) {
  const char *p = (const char *)buf;
  int i;
  if (fd != 1 && fd != 2) {
    sys_write_all(fd, buf, n);
    return;
  }
  i = fd - 1;
  while (n) {
    size_t room = OUT_BUF - out_len[i];
    size_t k = n < room ? n : room;
    memcpy(out_buf[i] + out_len[i], p, k);
    out_len[i] += k;
    p += k;
    n -= k;
    if (out_len[i] == OUT_BUF) flush_fd(i);
  }
}

void rt_putc(int fd, int c) {
  char ch = (char)c;
  if (fd == 1 || fd == 2) {
    int i = fd - 1;
    out_buf[i][out_len[i]++] = ch;
    if (out_len[i] == OUT_BUF) flush_fd(i);
    return;
  }
  sys_write_all(fd, &ch, 1);
}

void rt_exit(int code) {
  rt_flush();
  sys_exit_group(code);
}

void rt_panic(const char *msg) {
  rt_flush();
  sys_write_all(2, "panic: ", 7);
  sys_write_all(2, msg, strlen(msg));
  sys_write_all(2, "\n", 1);
  sys_exit_group(99);
}

/* ---------------------------------------------------------------------------------------------
 * integer formatting
 */

uint64_t u64_divmod_small(uint64_t x, uint32_t d, uint32_t *rem) {
  uint32_t hi = (uint32_t)(x >> 32), lo = (uint32_t)x;
  uint32_t qh = hi / d, r = hi % d, cur, q1, q0;
  cur = (r << 16) | (lo >> 16);
  q1 = cur / d;
  r = cur % d;
  cur = (r << 16) | (lo & 0xFFFF);
  q0 = cur / d;
  r = cur % d;
  if (rem) *rem = r;
  return ((uint64_t)qh << 32) | (q1 << 16) | q0;
}

/* digits of v (most significant first) into buf; returns the count */
static int fmt_u64(char *buf, uint64_t v, int base, int upper) {
  char tmp[24];
  int n = 0, i;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  if (base == 16) {
    do {
      tmp[n++] = digits[(uint32_t)v & 15];
      v >>= 4;
    } while (v);
  } else if ((v >> 32) == 0) {
    uint32_t w = (uint32_t)v;
    do {
      tmp[n++] = (char)('0' + w % 10);
      w /= 10;
    } while (w);
  } else {
    do {
      uint32_t r;
      v = u64_divmod_small(v, 10, &r);
      tmp[n++] = (char)('0' + r);
    } while (v);
  }
  for (i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

/* a sink: either an fd or a bounded buffer */
typedef struct {
  int fd;
  char *buf;
  size_t size, len;
} sink_t;

static void sink_put(sink_t *s, const char *p, size_t n) {
  if (s->buf) {
    size_t i;
    for (i = 0; i < n; i++, s->len++)
      if (s->len + 1 < s->size) s->buf[s->len] = p[i];
  } else {
    rt_write(s->fd, p, n);
    s->len += n;
  }
}

static void sink_pad(sink_t *s, char c, int n) {
  while (n-- > 0) sink_put(s, &c, 1);
}

static int vformat(sink_t *s, const char *fmt, va_list ap) {
  while (*fmt) {
    const char *start = fmt;
    int left = 0, zero = 0, width = 0, longlong = 0, n = 0, neg = 0;
    char num[24];
    const char *str = num;
    char conv;
    while (*fmt && *fmt != '%') fmt++;
    if (fmt != start) sink_put(s, start, (size_t)(fmt - start));
    if (!*fmt) break;
    fmt++;
    for (;; fmt++) {
      if (*fmt == '-') left = 1;
      else if (*fmt == '0') zero = 1;
      else break;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') {
      longlong += 1;
      fmt++;
    }
    longlong = longlong >= 2;
    conv = *fmt;
    if (!conv) break;
    fmt++;
    switch (conv) {
      case 'd':
      case 'i': {
        int64_t v = longlong ? va_arg(ap, long long) : (int64_t)va_arg(ap, int);
        uint64_t u = (uint64_t)v;
        if (v < 0) {
          neg = 1;
          u = -u;
        }
        n = fmt_u64(num, u, 10, 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t u = longlong ? va_arg(ap, unsigned long long) : (uint64_t)va_arg(ap, unsigned);
        n = fmt_u64(num, u, conv == 'u' ? 10 : 16, conv == 'X');
        break;
      }
      case 'c':
        num[0] = (char)va_arg(ap, int);
        n = 1;
        break;
      case 's':
        str = va_arg(ap, const char *);
        if (!str) str = "(null)";
        n = (int)strlen(str);
        break;
      case '%':
        num[0] = '%';
        n = 1;
        break;
      default: /* unknown: print it as is */
        num[0] = '%';
        num[1] = conv;
        n = 2;
        break;
    }
    {
      int pad = width - n - neg;
      if (!left && !(zero && conv != 's' && conv != 'c')) sink_pad(s, ' ', pad);
      if (neg) sink_put(s, "-", 1);
      if (!left && zero && conv != 's' && conv != 'c') sink_pad(s, '0', pad);
      sink_put(s, str, (size_t)n);
      if (left) sink_pad(s, ' ', pad);
    }
  }
  return (int)s->len;
}

int rt_vfprintf(int fd, const char *fmt, va_list ap) {
  sink_t s = {fd, 0, 0, 0};
  return vformat(&s, fmt, ap);
}

int rt_printf(const char *fmt, ...) {
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = rt_vfprintf(1, fmt, ap);
  va_end(ap);
  return r;
}

int rt_eprintf(const char *fmt, ...) {
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = rt_vfprintf(2, fmt, ap);
  va_end(ap);
  return r;
}

int rt_fprintf(int fd, const char *fmt, ...) {
  va_list ap;
  int r;
  va_start(ap, fmt);
  r = rt_vfprintf(fd, fmt, ap);
  va_end(ap);
  return r;
}

int rt_snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  sink_t s = {-1, buf, size, 0};
  va_start(ap, fmt);
  vformat(&s, fmt, ap);
  va_end(ap);
  if (size) buf[s.len < size ? s.len : size - 1] = 0;
  return (int)s.len;
}

void print_str(const char *s) { rt_write(1, s, strlen(s)); }
void print_char(int c) { rt_putc(1, c); }
void print_nl(void) { rt_putc(1, '\n'); }
void print_u32(uint32_t v) { rt_printf("%u", v); }
void print_i32(int32_t v) { rt_printf("%d", v); }
void print_hex32(uint32_t v) { rt_printf("0x%08x", v); }
void print_u64(uint64_t v) { rt_printf("%llu", (unsigned long long)v); }
void print_i64(int64_t v) { rt_printf("%lld", (long long)v); }
void print_hex64(uint64_t v) { rt_printf("0x%016llx", (unsigned long long)v); }

/* ---------------------------------------------------------------------------------------------
 * exact decimal rendering of binary floating point, integer arithmetic only
 *
 * The value m * 2^e2 is turned into an exact decimal integer N (m * 2^e2 if e2 >= 0, else
 * m * 5^-e2, with the decimal point -e2 digits from the right), held in base 10^4 limbs. Every
 * limb step is a 32-bit multiply and a division by 10000, so no 64-bit helpers are needed. The
 * digits are then rounded to the requested number of significant digits, ties to even.
 */

#define DEC_LIMBS 200 /* 800 digits: enough for m * 5^1074 with m < 2^53 */

typedef struct {
  uint32_t d[DEC_LIMBS]; /* little-endian base 10^4 */
  int n;
} big10k_t;

static void big_mul_small(big10k_t *b, uint32_t m) { /* m <= 390625 */
  uint32_t carry = 0;
  int i;
  for (i = 0; i < b->n; i++) {
    uint32_t v = b->d[i] * m + carry;
    b->d[i] = v % 10000;
    carry = v / 10000;
  }
  while (carry && b->n < DEC_LIMBS) {
    b->d[b->n++] = carry % 10000;
    carry /= 10000;
  }
}

/* exact decimal digits of m * 2^e2 into out (no leading zeros, m != 0); returns the digit count
 * and sets *point10 to the power of ten of the last digit (0 or e2 when e2 < 0) */
static int exact_digits(uint64_t m, int e2, char *out, int *point10) {
  big10k_t b;
  int i, n = 0;
  b.n = 0;
  while (m) {
    uint32_t r;
    m = u64_divmod_small(m, 10000, &r);
    b.d[b.n++] = r;
  }
  if (e2 > 0) {
    int k = e2;
    while (k >= 18) {
      big_mul_small(&b, 1u << 18);
      k -= 18;
    }
    if (k) big_mul_small(&b, 1u << k);
    *point10 = 0;
  } else {
    int k = -e2;
    uint32_t p5 = 1;
    while (k >= 8) {
      big_mul_small(&b, 390625); /* 5^8 */
      k -= 8;
    }
    while (k--) p5 *= 5;
    if (p5 > 1) big_mul_small(&b, p5);
    *point10 = e2;
  }
  for (i = b.n - 1; i >= 0; i--) {
    uint32_t v = b.d[i];
    char q[4];
    int j;
    for (j = 3; j >= 0; j--) {
      q[j] = (char)('0' + v % 10);
      v /= 10;
    }
    for (j = 0; j < 4; j++) {
      if (n == 0 && q[j] == '0') continue; /* leading zeros */
      out[n++] = q[j];
    }
  }
  return n;
}

/* render m * 2^e2 (m != 0) as d.ddd...e+XX with `sig` significant digits into buf */
static int fmt_sci(char *buf, int neg, uint64_t m, int e2, int sig) {
  char digits[DEC_LIMBS * 4 + 8];
  int point10, nd, exp10, i, len = 0, round_up = 0;
  nd = exact_digits(m, e2, digits, &point10);
  exp10 = nd - 1 + point10;
  if (nd > sig) {
    char first = digits[sig];
    int rest = 0;
    for (i = sig + 1; i < nd; i++)
      if (digits[i] != '0') {
        rest = 1;
        break;
      }
    if (first > '5' || (first == '5' && (rest || ((digits[sig - 1] - '0') & 1)))) round_up = 1;
    nd = sig;
    if (round_up) {
      for (i = sig - 1; i >= 0; i--) {
        if (digits[i] == '9') {
          digits[i] = '0';
        } else {
          digits[i]++;
          break;
        }
      }
      if (i < 0) { /* 999.. -> 1000.. */
        digits[0] = '1';
        for (i = 1; i < sig; i++) digits[i] = '0';
        exp10++;
      }
    }
  }
  for (; nd < sig; nd++) digits[nd] = '0';
  if (neg) buf[len++] = '-';
  buf[len++] = digits[0];
  buf[len++] = '.';
  for (i = 1; i < sig; i++) buf[len++] = digits[i];
  buf[len++] = 'e';
  if (exp10 < 0) {
    buf[len++] = '-';
    exp10 = -exp10;
  } else {
    buf[len++] = '+';
  }
  if (exp10 >= 100) {
    buf[len++] = (char)('0' + exp10 / 100);
    exp10 %= 100;
    buf[len++] = (char)('0' + exp10 / 10);
  } else {
    buf[len++] = (char)('0' + exp10 / 10);
  }
  buf[len++] = (char)('0' + exp10 % 10);
  buf[len] = 0;
  return len;
}

static int fmt_zero(char *buf, int neg, int sig) {
  int len = 0, i;
  if (neg) buf[len++] = '-';
  buf[len++] = '0';
  buf[len++] = '.';
  for (i = 1; i < sig; i++) buf[len++] = '0';
  buf[len++] = 'e';
  buf[len++] = '+';
  buf[len++] = '0';
  buf[len++] = '0';
  buf[len] = 0;
  return len;
}

static int fmt_special(char *buf, int neg, int is_nan) {
  int len = 0;
  if (neg) buf[len++] = '-';
  memcpy(buf + len, is_nan ? "nan" : "inf", 4);
  return len + 3;
}

int fmt_f32_dec(char *buf, uint32_t bits) {
  int neg = (int)(bits >> 31);
  uint32_t exp = (bits >> 23) & 0xFF, frac = bits & 0x7FFFFF;
  if (exp == 0xFF) return fmt_special(buf, neg, frac != 0);
  if (!exp && !frac) return fmt_zero(buf, neg, 9);
  if (!exp) return fmt_sci(buf, neg, frac, -149, 9);
  return fmt_sci(buf, neg, frac | 0x800000, (int)exp - 150, 9);
}

int fmt_f64_dec(char *buf, uint64_t bits) {
  int neg = (int)(bits >> 63);
  uint32_t exp = (uint32_t)(bits >> 52) & 0x7FF;
  uint64_t frac = bits & 0x000FFFFFFFFFFFFFull;
  if (exp == 0x7FF) return fmt_special(buf, neg, frac != 0);
  if (!exp && !frac) return fmt_zero(buf, neg, 17);
  if (!exp) return fmt_sci(buf, neg, frac, -1074, 17);
  return fmt_sci(buf, neg, frac | 0x0010000000000000ull, (int)exp - 1075, 17);
}

void print_f32_bits(uint32_t bits) {
  char buf[32];
  fmt_f32_dec(buf, bits);
  rt_printf("0x%08x %s", bits, buf);
}

void print_f64_bits(uint64_t bits) {
  char buf[40];
  fmt_f64_dec(buf, bits);
  rt_printf("0x%016llx %s", (unsigned long long)bits, buf);
}

void print_f32(float f) {
  union { float f; uint32_t u; } v;
  v.f = f;
  print_f32_bits(v.u);
}

void print_f64(double d) {
  union { double d; uint64_t u; } v;
  v.d = d;
  print_f64_bits(v.u);
}

/* ---------------------------------------------------------------------------------------------
 * heap: power-of-two blocks with an 8-byte header holding the size class; small blocks are cut
 * from 64 KiB mmap arenas, large ones are mapped directly; freed blocks go on per-class lists.
 */

#define HEAP_MIN_CLASS 4   /* 16 bytes */
#define HEAP_ARENA_CLASS 16 /* 64 KiB */
#define HEAP_MAX_CLASS 31

typedef struct block {
  uint32_t cls;
  uint32_t pad;
  struct block *next; /* free-list link, overlaps the user data */
} block_t;

static block_t *free_lists[HEAP_MAX_CLASS + 1];
static char *arena_ptr, *arena_end;

static int size_class(size_t n) {
  size_t total = n + 8;
  int c = HEAP_MIN_CLASS;
  while (c < HEAP_MAX_CLASS && ((size_t)1 << c) < total) c++;
  return ((size_t)1 << c) < total ? -1 : c;
}

static void *map_pages(size_t n) {
  void *p = sys_mmap(0, n);
  if ((uintptr_t)p >= (uintptr_t)-4095) return 0;
  return p;
}

void *malloc(size_t n) {
  int c = size_class(n);
  block_t *b;
  size_t sz;
  if (c < 0) return 0;
  if ((b = free_lists[c])) {
    free_lists[c] = b->next;
    return (char *)b + 8;
  }
  sz = (size_t)1 << c;
  if (c >= HEAP_ARENA_CLASS) {
    b = (block_t *)map_pages(sz);
    if (!b) return 0;
  } else {
    if ((size_t)(arena_end - arena_ptr) < sz) {
      /* the rest of the old arena is dropped: blocks never straddle arenas */
      arena_ptr = (char *)map_pages((size_t)1 << HEAP_ARENA_CLASS);
      if (!arena_ptr) return 0;
      arena_end = arena_ptr + ((size_t)1 << HEAP_ARENA_CLASS);
    }
    b = (block_t *)arena_ptr;
    arena_ptr += sz;
  }
  b->cls = (uint32_t)c;
  return (char *)b + 8;
}

void free(void *p) {
  block_t *b;
  if (!p) return;
  b = (block_t *)((char *)p - 8);
  b->next = free_lists[b->cls];
  free_lists[b->cls] = b;
}

void *calloc(size_t count, size_t size) {
  size_t n = count * size;
  void *p;
  if (size && n / size != count) return 0;
  p = malloc(n);
  if (p) memset(p, 0, n);
  return p;
}

void *realloc(void *p, size_t n) {
  block_t *b;
  size_t have;
  void *q;
  if (!p) return malloc(n);
  b = (block_t *)((char *)p - 8);
  have = ((size_t)1 << b->cls) - 8;
  if (n <= have) return p;
  q = malloc(n);
  if (!q) return 0;
  memcpy(q, p, have);
  free(p);
  return q;
}
