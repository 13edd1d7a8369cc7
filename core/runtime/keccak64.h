/*
 * The 64-bit keccak-f[1600] and byte conversions of native builds (OPML_KECCAK64, keccak.h),
 * included by keccak.c in place of the 32-bit bit-interleaved ones that the MIPS images need.
 * On a 64-bit little-endian host a lane is 8 bytes of the input as they are: no interleaving,
 * no complemented lanes, so a "stored" state or Merkle node is just its bytes. The functions
 * keep the names and signatures of the 32-bit layer (states as uint32_t[50], nodes as
 * uint32_t[8], both plain bytes here) so that everything above it in keccak.c is shared.
 * About 2x faster on x86-64 than the interleaved permutation compiled for the same host.
 */
#include <string.h>

static const uint64_t RC64[24] = {
  0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull, 0x8000000080008000ull,
  0x000000000000808bull, 0x0000000080000001ull, 0x8000000080008081ull, 0x8000000000008009ull,
  0x000000000000008aull, 0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
  0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull, 0x8000000000008003ull,
  0x8000000000008002ull, 0x8000000000000080ull, 0x000000000000800aull, 0x800000008000000aull,
  0x8000000080008081ull, 0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

#define ROL64(x, n) (((x) << (n)) | ((x) >> ((64 - (n)) & 63)))

/* One round, lanes as 25 named locals (a##x##y) so that GCC keeps them in registers. */
#define K64_ROUND(rc)                                                                           \
  do {                                                                                          \
    uint64_t c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04, c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;                \
    uint64_t c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24, c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;                \
    uint64_t c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;                                                  \
    uint64_t d0 = c4 ^ ROL64(c1, 1), d1 = c0 ^ ROL64(c2, 1), d2 = c1 ^ ROL64(c3, 1);            \
    uint64_t d3 = c2 ^ ROL64(c4, 1), d4 = c3 ^ ROL64(c0, 1);                                    \
    /* theta, rho and pi: b[y][2x+3y] = rot(a[x][y] ^ d[x], r[x][y]) */                         \
    uint64_t b00 = a00 ^ d0, b13 = ROL64(a01 ^ d0, 36), b21 = ROL64(a02 ^ d0, 3);              \
    uint64_t b34 = ROL64(a03 ^ d0, 41), b42 = ROL64(a04 ^ d0, 18);                              \
    uint64_t b02 = ROL64(a10 ^ d1, 1), b10 = ROL64(a11 ^ d1, 44), b23 = ROL64(a12 ^ d1, 10);   \
    uint64_t b31 = ROL64(a13 ^ d1, 45), b44 = ROL64(a14 ^ d1, 2);                               \
    uint64_t b04 = ROL64(a20 ^ d2, 62), b12 = ROL64(a21 ^ d2, 6), b20 = ROL64(a22 ^ d2, 43);   \
    uint64_t b33 = ROL64(a23 ^ d2, 15), b41 = ROL64(a24 ^ d2, 61);                              \
    uint64_t b01 = ROL64(a30 ^ d3, 28), b14 = ROL64(a31 ^ d3, 55), b22 = ROL64(a32 ^ d3, 25);  \
    uint64_t b30 = ROL64(a33 ^ d3, 21), b43 = ROL64(a34 ^ d3, 56);                              \
    uint64_t b03 = ROL64(a40 ^ d4, 27), b11 = ROL64(a41 ^ d4, 20), b24 = ROL64(a42 ^ d4, 39);  \
    uint64_t b32 = ROL64(a43 ^ d4, 8), b40 = ROL64(a44 ^ d4, 14);                               \
    /* chi along x (b named b[y][x] here: row y = first digit), iota */                         \
    a00 = b00 ^ (~b10 & b20) ^ (rc), a10 = b10 ^ (~b20 & b30), a20 = b20 ^ (~b30 & b40);        \
    a30 = b30 ^ (~b40 & b00), a40 = b40 ^ (~b00 & b10);                                         \
    a01 = b01 ^ (~b11 & b21), a11 = b11 ^ (~b21 & b31), a21 = b21 ^ (~b31 & b41);               \
    a31 = b31 ^ (~b41 & b01), a41 = b41 ^ (~b01 & b11);                                         \
    a02 = b02 ^ (~b12 & b22), a12 = b12 ^ (~b22 & b32), a22 = b22 ^ (~b32 & b42);               \
    a32 = b32 ^ (~b42 & b02), a42 = b42 ^ (~b02 & b12);                                         \
    a03 = b03 ^ (~b13 & b23), a13 = b13 ^ (~b23 & b33), a23 = b23 ^ (~b33 & b43);               \
    a33 = b33 ^ (~b43 & b03), a43 = b43 ^ (~b03 & b13);                                         \
    a04 = b04 ^ (~b14 & b24), a14 = b14 ^ (~b24 & b34), a24 = b24 ^ (~b34 & b44);               \
    a34 = b34 ^ (~b44 & b04), a44 = b44 ^ (~b04 & b14);                                         \
  } while (0)

/* keccak-f[1600] on 25 lanes, lane (x, y) at index x + 5y. */
static void keccak_f64(uint64_t s[25]) {
  uint64_t a00 = s[0], a10 = s[1], a20 = s[2], a30 = s[3], a40 = s[4];
  uint64_t a01 = s[5], a11 = s[6], a21 = s[7], a31 = s[8], a41 = s[9];
  uint64_t a02 = s[10], a12 = s[11], a22 = s[12], a32 = s[13], a42 = s[14];
  uint64_t a03 = s[15], a13 = s[16], a23 = s[17], a33 = s[18], a43 = s[19];
  uint64_t a04 = s[20], a14 = s[21], a24 = s[22], a34 = s[23], a44 = s[24];
  for (int r = 0; r < 24; r++) K64_ROUND(RC64[r]);
  s[0] = a00, s[1] = a10, s[2] = a20, s[3] = a30, s[4] = a40;
  s[5] = a01, s[6] = a11, s[7] = a21, s[8] = a31, s[9] = a41;
  s[10] = a02, s[11] = a12, s[12] = a22, s[13] = a32, s[14] = a42;
  s[15] = a03, s[16] = a13, s[17] = a23, s[18] = a33, s[19] = a43;
  s[20] = a04, s[21] = a14, s[22] = a24, s[23] = a34, s[24] = a44;
}

/* The 32-bit layer's interface over byte states (uint32_t[50] holding 200 bytes). */
static void state_zero(uint32_t s[50]) { memset(s, 0, 200); }

static inline void invert_lanes(uint32_t s[50]) { (void)s; /* no complemented lanes here */ }

static void keccak_f(uint32_t s[50]) {
  uint64_t a[25];
  memcpy(a, s, 200);
  keccak_f64(a);
  memcpy(s, a, 200);
}

static void xor_lanes(uint32_t *s, const uint8_t *p, unsigned lanes) {
  for (unsigned i = 0; i < lanes; i++) {
    uint64_t x, v;
    memcpy(&x, (uint8_t *)s + 8 * i, 8);
    memcpy(&v, p + 8 * i, 8);
    x ^= v;
    memcpy((uint8_t *)s + 8 * i, &x, 8);
  }
}

static void load_lanes(uint32_t *s, const uint8_t *p, unsigned lanes) { memcpy(s, p, 8 * (size_t)lanes); }

static void store_lanes(uint8_t *p, const uint32_t *s, unsigned lanes) { memcpy(p, s, 8 * (size_t)lanes); }

/* out = keccak256(left || right) of two 32-byte nodes (out may alias either). */
static void hash_nodes(const uint32_t left[8], const uint32_t right[8], uint32_t out[8]) {
  uint64_t a[25] = {0};
  memcpy(a, left, 32);
  memcpy(a + 4, right, 32);
  a[8] = 1;                     /* pad: byte 64 = 0x01 */
  a[16] = 0x8000000000000000ull; /* pad: byte 135 = 0x80 */
  keccak_f64(a);
  memcpy(out, a, 32);
}
