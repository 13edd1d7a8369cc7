/*
 * memory: every load and store width (lb lbu lh lhu lw sb sh sw), sign and zero extension,
 * unaligned access through packed structs (lwl lwr swl swr), byte-order checks, memcpy/memmove
 * with odd offsets. Exit code 0.
 */
#include "corpus.h"

struct __attribute__((packed)) packed {
  uint8_t tag;
  uint32_t word; /* offset 1: unaligned */
  uint16_t half; /* offset 5: unaligned */
  int32_t sword; /* offset 7 */
  uint64_t dword; /* offset 11 */
};

/* not volatile: GCC loads volatile signed bytes/halves with lbu/lhu plus shifts; indices go
 * through opq() so nothing is folded and lb/lh really execute */
static int8_t s8[8] = {-128, -1, 0, 1, 127, -2, 64, -64};
static uint8_t u8[8] = {0, 1, 127, 128, 255, 200, 17, 0x80};
static int16_t s16[6] = {-32768, -1, 0, 1, 32767, -12345};
static uint16_t u16[6] = {0, 1, 32767, 32768, 65535, 54321};

int main(void) {
  unsigned i;
  uint32_t h = MIX_INIT;
  unsigned char buf[64];
  struct packed pk[3];
  union {
    uint32_t w;
    uint8_t b[4];
    uint16_t hw[2];
  } u;

  for (i = 0; i < 8; i++) {
    int32_t a = s8[opq(i)];
    uint32_t b = u8[opq(i)];
    rt_printf("s8[%u]=%d u8[%u]=%u\n", i, a, i, b);
    h = mix32(h, (uint32_t)a ^ b);
  }
  for (i = 0; i < 6; i++) {
    int32_t a = s16[opq(i)];
    uint32_t b = u16[opq(i)];
    rt_printf("s16[%u]=%d u16[%u]=%u\n", i, a, i, b);
    h = mix32(h, (uint32_t)a ^ b);
  }
  /* stores of each width, read back as other widths (big-endian) */
  u.w = opq(0x11223344);
  rt_printf("bytes %02x %02x %02x %02x halves %04x %04x\n", u.b[0], u.b[1], u.b[2], u.b[3],
            u.hw[0], u.hw[1]);
  u.b[opq(1)] = (uint8_t)opq(0xAB);
  u.hw[opq(1)] = (uint16_t)opq(0xCDEF);
  rt_printf("after sb/sh 0x%08x\n", u.w);
  s16[opq(2)] = (int16_t)opqi(-2);
  s8[opq(2)] = (int8_t)opqi(-3);
  rt_printf("after stores s16[2]=%d s8[2]=%d\n", s16[opq(2)], s8[opq(2)]);

  /* byte-wise fill and word/half reads at every alignment */
  for (i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 37 + 11);
  for (i = 0; i < 8; i++) {
    struct __attribute__((packed, may_alias)) w32 {
      uint32_t v;
    } const *pw = (const struct w32 *)(buf + opq(i));
    struct __attribute__((packed, may_alias)) w16 {
      int16_t v;
    } const *ph = (const struct w16 *)(buf + opq(i));
    rt_printf("off %u: u32=0x%08x s16=%d\n", i, pw->v, ph->v);
    h = mix32(h, pw->v);
  }
  /* unaligned stores */
  for (i = 0; i < 3; i++) {
    pk[i].tag = (uint8_t)(0xA0 + i);
    pk[i].word = opq(0x01020304u * (i + 1));
    pk[i].half = (uint16_t)opq(0xBEEF + i);
    pk[i].sword = opqi(-1000000 - (int32_t)i);
    pk[i].dword = opq64(0x0123456789ABCDEFull + i);
  }
  for (i = 0; i < 3; i++) {
    rt_printf("pk[%u] tag=%02x word=0x%08x half=0x%04x sword=%d dword=0x%016llx\n", i, pk[i].tag,
              pk[i].word, pk[i].half, pk[i].sword, (unsigned long long)pk[i].dword);
    h = mix32(h, pk[i].word + pk[i].half + (uint32_t)pk[i].sword + (uint32_t)pk[i].dword);
  }
  {
    const unsigned char *raw = (const unsigned char *)pk;
    uint32_t rh = MIX_INIT;
    for (i = 0; i < sizeof pk; i++) rh = mix32(rh, raw[i]);
    rt_printf("packed size %u raw hash 0x%08x\n", (unsigned)sizeof pk, rh);
  }
  /* memcpy / memmove at odd offsets */
  memcpy(buf + 3, "unaligned copy works", 20);
  buf[23] = 0;
  rt_printf("memcpy: %s\n", (const char *)buf + 3);
  memmove(buf + 5, buf + 3, 20);
  buf[25] = 0;
  rt_printf("memmove up: %s\n", (const char *)buf + 5);
  memmove(buf + 1, buf + 5, 20);
  buf[21] = 0;
  rt_printf("memmove down: %s\n", (const char *)buf + 1);
  memset(buf + 1, 'x', 7);
  buf[8] = 0;
  rt_printf("memset: %s cmp=%d\n", (const char *)buf + 1, memcmp(buf + 1, "xxxxxxx", 7));
  rt_printf("memory checksum 0x%08x\n", h);
  return 0;
}
