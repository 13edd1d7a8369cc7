/*
 * keccak: Keccak-f[1600] and Ethereum's keccak256 (original Keccak padding 0x01), the hash the
 * VM's memory Merkle tree and state use; 64-bit lanes make this heavy in 64-bit shifts, xors and
 * rotations on a 32-bit CPU. Checked against known digests. Exit code 0 when all match.
 */
#include "corpus.h"

static const uint64_t RC[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull, 0x8000000080008000ull,
    0x000000000000808Bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
    0x000000000000008Aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull, 0x8000000000008003ull,
    0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800Aull, 0x800000008000000Aull,
    0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull};
static const uint8_t ROT[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

static uint64_t rol64(uint64_t x, unsigned n) { return n ? (x << n) | (x >> (64 - n)) : x; }

static void keccak_f(uint64_t a[25]) {
  uint64_t c[5], d[5], b[25];
  int round, x, y;
  for (round = 0; round < 24; round++) {
    for (x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ rol64(c[(x + 1) % 5], 1);
    for (x = 0; x < 25; x++) a[x] ^= d[x % 5];
    for (x = 0; x < 5; x++)
      for (y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rol64(a[x + 5 * y], ROT[x + 5 * y]);
    for (x = 0; x < 5; x++)
      for (y = 0; y < 5; y++)
        a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
    a[0] ^= RC[round];
  }
}

static void keccak256(const void *data, size_t n, uint8_t out[32]) {
  uint64_t st[25];
  uint8_t block[136];
  const uint8_t *p = (const uint8_t *)data;
  size_t i;
  memset(st, 0, sizeof st);
  for (;;) {
    size_t k = n < 136 ? n : 136;
    memset(block, 0, sizeof block);
    memcpy(block, p, k);
    if (k < 136) {
      block[k] ^= 0x01;
      block[135] ^= 0x80;
    }
    for (i = 0; i < 17; i++) {
      uint64_t lane = 0;
      int j;
      for (j = 7; j >= 0; j--) lane = (lane << 8) | block[8 * i + (size_t)j]; /* little-endian lanes */
      st[i] ^= lane;
    }
    keccak_f(st);
    if (k < 136) break;
    p += 136;
    n -= 136;
  }
  for (i = 0; i < 32; i++) out[i] = (uint8_t)(st[i / 8] >> (8 * (i % 8)));
}

static int failures;

static void check(const char *label, const void *msg, size_t n, const char *want) {
  static const char digits[] = "0123456789abcdef";
  uint8_t d[32];
  char got[65];
  int i;
  keccak256(msg, n, d);
  for (i = 0; i < 32; i++) {
    got[2 * i] = digits[d[i] >> 4];
    got[2 * i + 1] = digits[d[i] & 15];
  }
  got[64] = 0;
  rt_printf("keccak256(%s) = %s %s\n", label, got, strcmp(got, want) ? "MISMATCH" : "ok");
  if (strcmp(got, want)) failures++;
}

int main(void) {
  static uint8_t zeros[200];
  check("\"\"", "", 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  check("abc", "abc", 3, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  /* the first zero hash of the VM's memory tree: keccak256(64 zero bytes) */
  check("0^64", zeros, 64, "ad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5");
  /* two blocks (digest from @noble/hashes) */
  check("0^200", zeros, 200, "e1bb54e1bc3af48d01e5dbfc81015c98152a574f6428c6948aa4837c9c0baad9");
  rt_printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
