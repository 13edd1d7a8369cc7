/*
 * sha256: FIPS 180-4 SHA-256 of the standard test vectors, compared with the published
 * digests, and a 10000-byte input (digest from Python's hashlib). Exit code 0 when all match,
 * 1 otherwise.
 */
#include "corpus.h"

typedef struct {
  uint32_t h[8];
  uint8_t buf[64];
  uint32_t len;
  uint64_t total;
} sha256_t;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(sha256_t *s, const uint8_t *p) {
  uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
  int i;
  for (i = 0; i < 16; i++)
    w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) |
           ((uint32_t)p[4 * i + 2] << 8) | p[4 * i + 3];
  for (i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
  e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
  for (i = 0; i < 64; i++) {
    t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
  s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha_init(sha256_t *s) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, iv, sizeof iv);
  s->len = 0;
  s->total = 0;
}

static void sha_update(sha256_t *s, const void *data, size_t n) {
  const uint8_t *p = (const uint8_t *)data;
  s->total += n;
  while (n) {
    size_t k = 64 - s->len;
    if (k > n) k = n;
    memcpy(s->buf + s->len, p, k);
    s->len += (uint32_t)k;
    p += k;
    n -= k;
    if (s->len == 64) {
      block(s, s->buf);
      s->len = 0;
    }
  }
}

static void sha_final(sha256_t *s, uint8_t out[32]) {
  uint64_t bits = s->total * 8;
  uint8_t pad = 0x80, zero = 0, lenb[8];
  int i;
  sha_update(s, &pad, 1);
  while (s->len != 56) sha_update(s, &zero, 1);
  for (i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
  sha_update(s, lenb, 8);
  for (i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(s->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)s->h[i];
  }
}

static int failures;

static void hex(char *dst, const uint8_t *d, int n) {
  static const char digits[] = "0123456789abcdef";
  int i;
  for (i = 0; i < n; i++) {
    dst[2 * i] = digits[d[i] >> 4];
    dst[2 * i + 1] = digits[d[i] & 15];
  }
  dst[2 * n] = 0;
}

static void check(const char *label, const char *msg, uint32_t repeat, const char *want) {
  sha256_t s;
  uint8_t d[32];
  char got[65];
  uint32_t i;
  size_t n = strlen(msg);
  sha_init(&s);
  for (i = 0; i < repeat; i++) sha_update(&s, msg, n);
  sha_final(&s, d);
  hex(got, d, 32);
  rt_printf("sha256(%s) = %s %s\n", label, got, strcmp(got, want) ? "MISMATCH" : "ok");
  if (strcmp(got, want)) failures++;
}

int main(void) {
  check("\"\"", "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  check("abc", "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  check("448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  check("896-bit",
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
        "lmnopqrsmnopqrstnopqrstu",
        1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  check("1000 x 'aaaaaaaaaa'", "aaaaaaaaaa", 1000,
        "27dd1f61b867b6a0f6e9d8a41c43231de52107e53ae424de8f847b821db4b711");
  rt_printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
