/*
 * crc32: CRC-32 (IEEE 802.3; table-driven and bitwise), Adler-32 and FNV-1a of known strings,
 * each checked against its published value. Exit code 0 when all match, 1 otherwise.
 */
#include "corpus.h"

static uint32_t crc_table[256];

static void crc_init(void) {
  uint32_t i, j, c;
  for (i = 0; i < 256; i++) {
    c = i;
    for (j = 0; j < 8; j++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32_table(const void *data, size_t n) {
  const uint8_t *p = (const uint8_t *)data;
  uint32_t c = 0xFFFFFFFFu;
  while (n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static uint32_t crc32_bitwise(const void *data, size_t n) {
  const uint8_t *p = (const uint8_t *)data;
  uint32_t c = 0xFFFFFFFFu;
  int k;
  while (n--) {
    c ^= *p++;
    for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
  }
  return ~c;
}

static uint32_t adler32(const void *data, size_t n) {
  const uint8_t *p = (const uint8_t *)data;
  uint32_t a = 1, b = 0;
  while (n--) {
    a = (a + *p++) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  while (*s) {
    h ^= (uint8_t)*s++;
    h *= 16777619u;
  }
  return h;
}

static int failures;
static void check(const char *what, uint32_t got, uint32_t want) {
  rt_printf("%-28s 0x%08x %s\n", what, got, got == want ? "ok" : "MISMATCH");
  if (got != want) failures++;
}

int main(void) {
  static const char nine[] = "123456789";
  static const char fox[] = "The quick brown fox jumps over the lazy dog";
  static uint8_t big[4096];
  uint32_t s = 1, i;
  crc_init();
  check("crc32(123456789)", crc32_table(nine, 9), 0xCBF43926u);
  check("crc32 bitwise(123456789)", crc32_bitwise(nine, 9), 0xCBF43926u);
  check("crc32(fox)", crc32_table(fox, strlen(fox)), 0x414FA339u);
  check("crc32(empty)", crc32_table("", 0), 0);
  check("adler32(Wikipedia)", adler32("Wikipedia", 9), 0x11E60398u);
  check("fnv1a(empty)", fnv1a(""), 0x811C9DC5u);
  check("fnv1a(a)", fnv1a("a"), 0xE40C292Cu);
  check("fnv1a(foobar)", fnv1a("foobar"), 0xBF9CF968u);
  for (i = 0; i < sizeof big; i++) big[i] = (uint8_t)rng_next(&s);
  {
    uint32_t t = crc32_table(big, sizeof big), b = crc32_bitwise(big, sizeof big);
    check("crc32(4 KiB) table == bitwise", t, b);
    rt_printf("crc32(4 KiB random) = 0x%08x adler32 = 0x%08x\n", t, adler32(big, sizeof big));
  }
  rt_printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
