/*
 * Four keccak256 hashes of 64-byte messages at once (native builds, OPML_KECCAK64): the Merkle
 * trees' pair hashes H(left || right) are independent within a level, so four of them run in
 * the four 64-bit lanes of one AVX2 vector (SIMD over independent outputs; each hash is the
 * plain keccak-f[1600] of keccak64.h, lane for lane, so the bits are the same). Without AVX2
 * at run time the scalar code is used.
 *
 * With AVX-512, eight at a time (hash64_x8).
 *
 * merkle_root_levels() computes a Merkle-data root level by level (the definition in
 * core/vm/oracle.ts: pairs hashed, an odd node paired with the zero subtree of its height),
 * four pairs at a time, in a scratch buffer of half the data's size.
 */
#include <stdlib.h>

typedef uint64_t v4u64 __attribute__((vector_size(32)));

#define ROLV(x, n) (((x) << (n)) | ((x) >> (64 - (n))))
#define ROLV1(x) (((x) << 1) | ((x) >> 63))

#if defined(__x86_64__) && defined(__GNUC__)
#define X4_TARGET __attribute__((target("avx2")))
#else
#define X4_TARGET
#endif

/* keccak-f[1600] on four states, lane (x, y) of state j in a[x + 5y][j]. */
X4_TARGET static void keccak_f64x4(v4u64 *s) {
  v4u64 a00 = s[0], a10 = s[1], a20 = s[2], a30 = s[3], a40 = s[4];
  v4u64 a01 = s[5], a11 = s[6], a21 = s[7], a31 = s[8], a41 = s[9];
  v4u64 a02 = s[10], a12 = s[11], a22 = s[12], a32 = s[13], a42 = s[14];
  v4u64 a03 = s[15], a13 = s[16], a23 = s[17], a33 = s[18], a43 = s[19];
  v4u64 a04 = s[20], a14 = s[21], a24 = s[22], a34 = s[23], a44 = s[24];
  for (int r = 0; r < 24; r++) {
    v4u64 c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04, c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14;
    v4u64 c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24, c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34;
    v4u64 c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44;
    v4u64 d0 = c4 ^ ROLV1(c1), d1 = c0 ^ ROLV1(c2), d2 = c1 ^ ROLV1(c3);
    v4u64 d3 = c2 ^ ROLV1(c4), d4 = c3 ^ ROLV1(c0);
    v4u64 b00 = a00 ^ d0, b13 = ROLV(a01 ^ d0, 36), b21 = ROLV(a02 ^ d0, 3);
    v4u64 b34 = ROLV(a03 ^ d0, 41), b42 = ROLV(a04 ^ d0, 18);
    v4u64 b02 = ROLV1(a10 ^ d1), b10 = ROLV(a11 ^ d1, 44), b23 = ROLV(a12 ^ d1, 10);
    v4u64 b31 = ROLV(a13 ^ d1, 45), b44 = ROLV(a14 ^ d1, 2);
    v4u64 b04 = ROLV(a20 ^ d2, 62), b12 = ROLV(a21 ^ d2, 6), b20 = ROLV(a22 ^ d2, 43);
    v4u64 b33 = ROLV(a23 ^ d2, 15), b41 = ROLV(a24 ^ d2, 61);
    v4u64 b01 = ROLV(a30 ^ d3, 28), b14 = ROLV(a31 ^ d3, 55), b22 = ROLV(a32 ^ d3, 25);
    v4u64 b30 = ROLV(a33 ^ d3, 21), b43 = ROLV(a34 ^ d3, 56);
    v4u64 b03 = ROLV(a40 ^ d4, 27), b11 = ROLV(a41 ^ d4, 20), b24 = ROLV(a42 ^ d4, 39);
    v4u64 b32 = ROLV(a43 ^ d4, 8), b40 = ROLV(a44 ^ d4, 14);
    v4u64 rc = {RC64[r], RC64[r], RC64[r], RC64[r]};
    a00 = b00 ^ (~b10 & b20) ^ rc, a10 = b10 ^ (~b20 & b30), a20 = b20 ^ (~b30 & b40);
    a30 = b30 ^ (~b40 & b00), a40 = b40 ^ (~b00 & b10);
    a01 = b01 ^ (~b11 & b21), a11 = b11 ^ (~b21 & b31), a21 = b21 ^ (~b31 & b41);
    a31 = b31 ^ (~b41 & b01), a41 = b41 ^ (~b01 & b11);
    a02 = b02 ^ (~b12 & b22), a12 = b12 ^ (~b22 & b32), a22 = b22 ^ (~b32 & b42);
    a32 = b32 ^ (~b42 & b02), a42 = b42 ^ (~b02 & b12);
    a03 = b03 ^ (~b13 & b23), a13 = b13 ^ (~b23 & b33), a23 = b23 ^ (~b33 & b43);
    a33 = b33 ^ (~b43 & b03), a43 = b43 ^ (~b03 & b13);
    a04 = b04 ^ (~b14 & b24), a14 = b14 ^ (~b24 & b34), a24 = b24 ^ (~b34 & b44);
    a34 = b34 ^ (~b44 & b04), a44 = b44 ^ (~b04 & b14);
  }
  s[0] = a00, s[1] = a10, s[2] = a20, s[3] = a30, s[4] = a40;
  s[5] = a01, s[6] = a11, s[7] = a21, s[8] = a31, s[9] = a41;
  s[10] = a02, s[11] = a12, s[12] = a22, s[13] = a32, s[14] = a42;
  s[15] = a03, s[16] = a13, s[17] = a23, s[18] = a33, s[19] = a43;
  s[20] = a04, s[21] = a14, s[22] = a24, s[23] = a34, s[24] = a44;
}

/* out[j] = keccak256(in[j], 64 bytes) for j < 4 (out may alias in: all are read first). */
X4_TARGET static void hash64_x4(const uint8_t *in[4], uint8_t *out[4]) {
  v4u64 s[25];
  for (int i = 0; i < 25; i++) s[i] = (v4u64){0, 0, 0, 0};
  for (int i = 0; i < 8; i++) {
    uint64_t w[4];
    for (int j = 0; j < 4; j++) memcpy(&w[j], in[j] + 8 * i, 8);
    s[i] = (v4u64){w[0], w[1], w[2], w[3]};
  }
  s[8] = (v4u64){1, 1, 1, 1};
  uint64_t top = 0x8000000000000000ull;
  s[16] = (v4u64){top, top, top, top};
  keccak_f64x4(s);
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < 4; j++) memcpy(out[j] + 8 * i, (const uint64_t *)&s[i] + j, 8);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/*
 * Eight hashes at once in the eight 64-bit lanes of an AVX-512 register: the same permutation
 * with AVX-512's rotate (vprolq) for rho and the three-input logic op (vpternlogq) for theta's
 * five-way xor (0x96: a ^ b ^ c) and chi (0xD2: a ^ (~b & c)), about half the instructions of
 * the AVX2 code per hash.
 */
#define X8_TARGET __attribute__((target("avx512f")))
#define X8_XOR3(a, b, c) _mm512_ternarylogic_epi64((a), (b), (c), 0x96)
#define X8_CHI(a, b, c) _mm512_ternarylogic_epi64((a), (b), (c), 0xD2)
#define X8_ROL(x, n) _mm512_rol_epi64((x), (n))

/* out[j] = keccak256(the 64 bytes at in + 64 j) for j < 8 (the 8 pairs of a Merkle level are
 * contiguous); out may alias in (all are read first, and out + 32 j <= in + 64 j). */
X8_TARGET static void hash64_x8(const uint8_t *in, uint8_t *out) {
  /* the 8 x 8 words of the messages transposed (word w of every message in one register) by
   * loads and shuffles: eight gathers took a fifth of the time */
  __m512i r[8], t[8], u[8];
  for (int j = 0; j < 8; j++) r[j] = _mm512_loadu_si512(in + 64 * j);
  for (int j = 0; j < 8; j += 2) t[j] = _mm512_unpacklo_epi64(r[j], r[j + 1]), t[j + 1] = _mm512_unpackhi_epi64(r[j], r[j + 1]);
  /* t[2k]: words 0, 2, 4, 6 of messages 2k, 2k + 1 (128-bit lanes); t[2k + 1]: words 1, 3, 5, 7 */
  for (int k = 0; k < 2; k++) {
    for (int o = 0; o < 2; o++) { /* o: even (t[4k + o]) or odd words (t[4k + 2 + o] pairs) */
      u[4 * k + 2 * o] = _mm512_shuffle_i64x2(t[4 * k + o], t[4 * k + 2 + o], 0x88);    /* words 0/4 (1/5) */
      u[4 * k + 2 * o + 1] = _mm512_shuffle_i64x2(t[4 * k + o], t[4 * k + 2 + o], 0xDD); /* words 2/6 (3/7) */
    }
  }
  /* u[4k + 2o + h]: messages 4k .. 4k + 3, words (2h + o) and (2h + o + 4) */
  __m512i w[8];
  for (int o = 0; o < 2; o++) {
    for (int h = 0; h < 2; h++) {
      w[2 * h + o] = _mm512_shuffle_i64x2(u[2 * o + h], u[4 + 2 * o + h], 0x88);
      w[2 * h + o + 4] = _mm512_shuffle_i64x2(u[2 * o + h], u[4 + 2 * o + h], 0xDD);
    }
  }
  __m512i a00 = w[0], a10 = w[1], a20 = w[2], a30 = w[3], a40 = w[4], a01 = w[5], a11 = w[6], a21 = w[7];
  __m512i a31 = _mm512_set1_epi64(1), a41 = _mm512_setzero_si512(); /* pad: byte 64 = 0x01 */
  __m512i a02 = a41, a12 = a41, a22 = a41, a32 = a41, a42 = a41, a03 = a41;
  __m512i a13 = _mm512_set1_epi64((long long)0x8000000000000000ull); /* pad: byte 135 = 0x80 */
  __m512i a23 = a41, a33 = a41, a43 = a41, a04 = a41, a14 = a41, a24 = a41, a34 = a41, a44 = a41;
  for (int r = 0; r < 24; r++) {
    const __m512i c0 = X8_XOR3(X8_XOR3(a00, a01, a02), a03, a04), c1 = X8_XOR3(X8_XOR3(a10, a11, a12), a13, a14);
    const __m512i c2 = X8_XOR3(X8_XOR3(a20, a21, a22), a23, a24), c3 = X8_XOR3(X8_XOR3(a30, a31, a32), a33, a34);
    const __m512i c4 = X8_XOR3(X8_XOR3(a40, a41, a42), a43, a44);
    /* (in an order that frees the column sums early: fewer registers live, fewer spills) */
    const __m512i d0 = _mm512_xor_si512(c4, X8_ROL(c1, 1)), d2 = _mm512_xor_si512(c1, X8_ROL(c3, 1));
    const __m512i d4 = _mm512_xor_si512(c3, X8_ROL(c0, 1)), d1 = _mm512_xor_si512(c0, X8_ROL(c2, 1));
    const __m512i d3 = _mm512_xor_si512(c2, X8_ROL(c4, 1));
    const __m512i b00 = _mm512_xor_si512(a00, d0), b13 = X8_ROL(_mm512_xor_si512(a01, d0), 36);
    const __m512i b21 = X8_ROL(_mm512_xor_si512(a02, d0), 3), b34 = X8_ROL(_mm512_xor_si512(a03, d0), 41);
    const __m512i b42 = X8_ROL(_mm512_xor_si512(a04, d0), 18), b02 = X8_ROL(_mm512_xor_si512(a10, d1), 1);
    const __m512i b10 = X8_ROL(_mm512_xor_si512(a11, d1), 44), b23 = X8_ROL(_mm512_xor_si512(a12, d1), 10);
    const __m512i b31 = X8_ROL(_mm512_xor_si512(a13, d1), 45), b44 = X8_ROL(_mm512_xor_si512(a14, d1), 2);
    const __m512i b04 = X8_ROL(_mm512_xor_si512(a20, d2), 62), b12 = X8_ROL(_mm512_xor_si512(a21, d2), 6);
    const __m512i b20 = X8_ROL(_mm512_xor_si512(a22, d2), 43), b33 = X8_ROL(_mm512_xor_si512(a23, d2), 15);
    const __m512i b41 = X8_ROL(_mm512_xor_si512(a24, d2), 61), b01 = X8_ROL(_mm512_xor_si512(a30, d3), 28);
    const __m512i b14 = X8_ROL(_mm512_xor_si512(a31, d3), 55), b22 = X8_ROL(_mm512_xor_si512(a32, d3), 25);
    const __m512i b30 = X8_ROL(_mm512_xor_si512(a33, d3), 21), b43 = X8_ROL(_mm512_xor_si512(a34, d3), 56);
    const __m512i b03 = X8_ROL(_mm512_xor_si512(a40, d4), 27), b11 = X8_ROL(_mm512_xor_si512(a41, d4), 20);
    const __m512i b24 = X8_ROL(_mm512_xor_si512(a42, d4), 39), b32 = X8_ROL(_mm512_xor_si512(a43, d4), 8);
    const __m512i b40 = X8_ROL(_mm512_xor_si512(a44, d4), 14);
    a00 = _mm512_xor_si512(X8_CHI(b00, b10, b20), _mm512_set1_epi64((long long)RC64[r]));
    a10 = X8_CHI(b10, b20, b30), a20 = X8_CHI(b20, b30, b40), a30 = X8_CHI(b30, b40, b00), a40 = X8_CHI(b40, b00, b10);
    a01 = X8_CHI(b01, b11, b21), a11 = X8_CHI(b11, b21, b31), a21 = X8_CHI(b21, b31, b41);
    a31 = X8_CHI(b31, b41, b01), a41 = X8_CHI(b41, b01, b11);
    a02 = X8_CHI(b02, b12, b22), a12 = X8_CHI(b12, b22, b32), a22 = X8_CHI(b22, b32, b42);
    a32 = X8_CHI(b32, b42, b02), a42 = X8_CHI(b42, b02, b12);
    a03 = X8_CHI(b03, b13, b23), a13 = X8_CHI(b13, b23, b33), a23 = X8_CHI(b23, b33, b43);
    a33 = X8_CHI(b33, b43, b03), a43 = X8_CHI(b43, b03, b13);
    a04 = X8_CHI(b04, b14, b24), a14 = X8_CHI(b14, b24, b34), a24 = X8_CHI(b24, b34, b44);
    a34 = X8_CHI(b34, b44, b04), a44 = X8_CHI(b44, b04, b14);
  }
  /* the digests: the first four lanes of each state, word by word into place */
  uint64_t d[4][8];
  _mm512_storeu_si512(d[0], a00), _mm512_storeu_si512(d[1], a10);
  _mm512_storeu_si512(d[2], a20), _mm512_storeu_si512(d[3], a30);
  for (int j = 0; j < 8; j++) {
    for (int k = 0; k < 4; k++) memcpy(out + 32 * j + 8 * k, &d[k][j], 8);
  }
}

static int x8_ok = -1;

/* 1 iff hash64_x8 runs (AVX-512 F, and OPML_SIMD is neither "generic" nor "avx2", as for the
 * kernels: core/kernels/simd.h). */
static int x8_available(void) {
  if (x8_ok < 0) {
    const char *e = getenv("OPML_SIMD");
    x8_ok = !(e && (!strcmp(e, "generic") || !strcmp(e, "avx2"))) && __builtin_cpu_supports("avx512f");
  }
  return x8_ok;
}
#else
static int x8_available(void) { return 0; }
static void hash64_x8(const uint8_t *in, uint8_t *out) { (void)in, (void)out; }
#endif

static int x4_ok = -1;

static int x4_available(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (x4_ok < 0) {
    const char *e = getenv("OPML_SIMD");
    x4_ok = !(e && !strcmp(e, "generic")) && __builtin_cpu_supports("avx2");
  }
  return x4_ok;
#else
  return 0;
#endif
}

/* cnt pair hashes: node i of dst = H(src[2i] || src[2i+1]), 32-byte nodes (dst may be src). */
static void hash_level(const uint8_t *src, uint8_t *dst, size_t cnt) {
  size_t i = 0;
  if (x8_available()) {
    for (; i + 8 <= cnt; i += 8) hash64_x8(src + 64 * i, dst + 32 * i);
  }
  if (x4_available()) {
    for (; i + 4 <= cnt; i += 4) {
      const uint8_t *in[4] = {src + 64 * i, src + 64 * (i + 1), src + 64 * (i + 2), src + 64 * (i + 3)};
      uint8_t *out[4] = {dst + 32 * i, dst + 32 * (i + 1), dst + 32 * (i + 2), dst + 32 * (i + 3)};
      hash64_x4(in, out);
    }
  }
  for (; i < cnt; i++) hash_nodes((const uint32_t *)(src + 64 * i), (const uint32_t *)(src + 64 * i + 32),
                                   (uint32_t *)(dst + 32 * i));
}

/* zero_nodes[h]: the root of 2^h zero leaves (made once, before main: threads only read it). */
static uint8_t zero_nodes[64][32];
__attribute__((constructor)) static void zero_nodes_init(void) {
  for (int h = 1; h < 64; h++) {
    hash_nodes((const uint32_t *)zero_nodes[h - 1], (const uint32_t *)zero_nodes[h - 1], (uint32_t *)zero_nodes[h]);
  }
}

/*
 * One level with hash64_x8: the parents of the nodes in src[0..bytes) (bytes / 64 full pairs,
 * then a rest of less than 512 bytes: more pairs, a last node zero-padded to a pair, or, with
 * sibling, an odd last node paired with sibling). The rest goes through one more hash64_x8 on a
 * zero-filled copy (unused lanes hash zeros), not the scalar permutation. dst may be src.
 */
static void level_x8(const uint8_t *src, size_t bytes, uint8_t *dst, const uint8_t *sibling) {
  size_t full = bytes / 64, i = 0;
  for (; i + 8 <= full; i += 8) hash64_x8(src + 64 * i, dst + 32 * i);
  size_t rest = bytes - 64 * i;
  if (!rest) return;
  uint8_t tmp[512] = {0};
  memcpy(tmp, src + 64 * i, rest);
  if (sibling) memcpy(tmp + rest, sibling, 32), rest += 32;
  hash64_x8(tmp, tmp);
  memcpy(dst + 32 * i, tmp, 32 * ((rest + 63) / 64));
}

/* The Merkle-data root of data[0..n) level by level; 0, or -1 without memory (nothing written). */
static int merkle_root_levels(const uint8_t *data, size_t n, uint8_t out[32]) {
  if (n <= 32) {
    memset(out, 0, 32);
    memcpy(out, data, n);
    return 0;
  }
  if (x8_available()) {
    size_t cnt = (n + 63) / 64; /* level-1 nodes: the last leaf, and a lone last leaf's pair, zero */
    uint8_t *lv = malloc(cnt * 32);
    if (!lv) return -1;
    level_x8(data, n, lv, 0);
    /* nodes of height h: an odd last one pairs with the zero subtree of height h */
    for (unsigned h = 1; cnt > 1; h++, cnt = (cnt + 1) / 2) level_x8(lv, 32 * cnt, lv, (cnt & 1) ? zero_nodes[h] : 0);
    memcpy(out, lv, 32);
    free(lv);
    return 0;
  }
  size_t pairs = n / 64, cnt = (n + 63) / 64; /* level-1 nodes: full pairs, then the tail */
  uint8_t *buf = malloc(cnt * 32 + 32);
  if (!buf) return -1;
  hash_level(data, buf, pairs);
  if (cnt > pairs) {
    /* the tail (< 64 bytes): one or two leaves, the last zero-padded; a lone leaf is paired
     * with the zero leaf, which is the same 64 bytes */
    uint8_t tail[64] = {0};
    memcpy(tail, data + 64 * pairs, n - 64 * pairs);
    hash_nodes((const uint32_t *)tail, (const uint32_t *)(tail + 32), (uint32_t *)(buf + 32 * pairs));
  }
  uint32_t zero[8] = {0};
  hash_nodes(zero, zero, zero); /* the zero subtree of height 1 */
  while (cnt > 1) {
    size_t full = cnt / 2;
    hash_level(buf, buf, full);
    if (cnt & 1) hash_nodes((const uint32_t *)(buf + 32 * (cnt - 1)), zero, (uint32_t *)(buf + 32 * full));
    cnt = (cnt + 1) / 2;
    hash_nodes(zero, zero, zero);
  }
  memcpy(out, buf, 32);
  free(buf);
  return 0;
}
