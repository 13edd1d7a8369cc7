/*
 * keccak256 and the Merkle-data commitments (see keccak.h).
 *
 * The state is kept bit-interleaved (the Keccak team's "32BI" technique): a 64-bit lane is two
 * 32-bit words, one with its even bits and one with its odd bits, so a 64-bit rotation is two
 * 32-bit rotations and no 64-bit arithmetic is needed (MIPS32 has none). Four lanes are kept
 * inverted ("lane complementing", below), which makes chi cheaper. Bytes are converted when
 * absorbed and squeezed; Merkle nodes stay interleaved between hashes.
 *
 * Cost in the opml VM (MIPS32, gcc -O2): 12,321 instructions per keccak-f[1600], about 513 per
 * round, of which 368 are arithmetic (152 xors, 52 rotations of 3 instructions as MIPS32 release
 * 1 has no rotate, 60 chi operations) and 145 loads and stores (at least 125 with this schedule:
 * 50 state words, some 26 free registers). A Merkle-data root costs 12,833 per 32-byte leaf.
 *
 * Native builds on 64-bit little-endian hosts (OPML_KECCAK64, keccak.h) replace the permutation,
 * the byte conversions and hash_nodes by the plain 64-bit ones of keccak64.h (lanes are bytes,
 * no interleaving, no complemented lanes) and hash large Merkle-data roots with threads over
 * independent subtrees (keccak_par.h); everything above the permutation is shared, and so are
 * the outputs (tests/runtime/keccak.test.ts compares both against TypeScript).
 */
#include "keccak.h"

#ifdef __mips__
#include "libc.h"
#else
#include <string.h>
#endif

#if !OPML_KECCAK64

#define ROL32(x, n) ((n) ? (((x) << (n)) | ((x) >> ((32 - (n)) & 31))) : (x))

/* The 24 round constants, interleaved: even word, odd word. */
static const uint32_t RC[48] = {
  0x00000001u, 0x00000000u, 0x00000000u, 0x00000089u, 0x00000000u, 0x8000008bu, 0x00000000u, 0x80008080u,
  0x00000001u, 0x0000008bu, 0x00000001u, 0x00008000u, 0x00000001u, 0x80008088u, 0x00000001u, 0x80000082u,
  0x00000000u, 0x0000000bu, 0x00000000u, 0x0000000au, 0x00000001u, 0x00008082u, 0x00000000u, 0x00008003u,
  0x00000001u, 0x0000808bu, 0x00000001u, 0x8000000bu, 0x00000001u, 0x8000008au, 0x00000001u, 0x80000081u,
  0x00000000u, 0x80000081u, 0x00000000u, 0x80000008u, 0x00000000u, 0x00000083u, 0x00000000u, 0x80008003u,
  0x00000001u, 0x80008088u, 0x00000000u, 0x80000088u, 0x00000001u, 0x00008000u, 0x00000000u, 0x80008082u,
};

/* ------------------------------------------------------------------------------------------ */
/* The permutation */

/* Lane complementing: the lanes (3,2), (0,3), (4,3) and (1,4) are always stored inverted (the
 * "stored form" of a state: the zero state has them all ones). The expressions below track
 * which values are inverted with constant masks, and pick for chi's x ^ (~y & z) the form that
 * needs no extra NOT: two operations (and, or, nor) instead of three for four of the five lanes
 * of each row. This set reaches that minimum (five rows form an odd cycle, so one lane per row
 * keeps three operations) with the fewest inverted lanes; it was found by a search over masks. */
#define INVERTED ((1u << 13) | (1u << 15) | (1u << 19) | (1u << 21)) /* bit x + 5y */
#define INV(x, y) ((INVERTED >> ((x) + 5 * (y))) & 1)
#define MASK(bit) (0u - (uint32_t)(bit))
/* whether column parity c[x] and theta's d[x] come out inverted */
#define INV_C(x) (INV(x, 0) ^ INV(x, 1) ^ INV(x, 2) ^ INV(x, 3) ^ INV(x, 4))
#define INV_D(x) (INV_C(((x) + 4) % 5) ^ INV_C(((x) + 1) % 5))

/* Half h (0 even, 1 odd) of lane (x, y) of state a after theta (xor d) and rho (rotation by r),
 * as stored: inverted iff M(x, y). A 64-bit rotation by r takes half h from half h ^ (r & 1),
 * rotated by (r + 1 - h) / 2 bits. */
#define B(x, y, r, h)                                                                           \
  ROL32(a[2 * ((x) + 5 * (y)) + ((h) ^ ((r) & 1))] ^ d[2 * (x) + ((h) ^ ((r) & 1))], ((r) + 1 - (h)) / 2)
#define M(x, y) (INV(x, y) ^ INV_D(x))

/* chi's ~y & z on true values, inverted iff inv, from stored values y, z inverted iff my, mz:
 * one operation (and, or, nor) in half of the cases, two in the others. */
#define TERM(y, z, my, mz, inv)                                                                 \
  ((my) ? ((mz) ? ((inv) ? (~y | z) : (y & ~z)) : ((inv) ? ~(y & z) : (y & z)))                  \
        : ((mz) ? ((inv) ? (y | z) : ~(y | z)) : ((inv) ? (y | ~z) : (~y & z))))

/* OPAQUE keeps GCC from rewriting x ^ ~t as ~(x ^ t): MIPS has nor but no xnor. */
#if defined(__GNUC__)
#define OPAQUE(v) __asm__("" : "+r"(v))
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define OPAQUE(v) (void)0
#define ALWAYS_INLINE static inline
#endif

/* chi (and iota word k) for half h of output lane (X, Y) from the row's stored b values
 * (inverted iff m0, m1, m2); the result is stored inverted iff INV(X, Y). The odd halves also
 * accumulate the next round's column parities co. */
#define CHI(X, Y, h, k, b0, b1, b2, m0, m1, m2)                                                 \
  do {                                                                                          \
    uint32_t t_ = TERM(b1, b2, m1, m2, (m0) ^ INV(X, Y));                                       \
    OPAQUE(t_);                                                                                 \
    uint32_t v_ = b0 ^ t_ ^ (k);                                                                \
    e[2 * ((X) + 5 * (Y)) + (h)] = v_;                                                          \
    if (h) co[X] = ((Y) ? co[X] : 0) ^ v_;                                                      \
  } while (0)

/* Half h of output plane Y: rho and pi bring lane (xX, X) rotated by rX to position X, then chi. */
#define PLANE(Y, h, k, x0, r0, x1, r1, x2, r2, x3, r3, x4, r4)                                  \
  do {                                                                                          \
    uint32_t b0 = B(x0, 0, r0, h), b1 = B(x1, 1, r1, h), b2 = B(x2, 2, r2, h);                  \
    uint32_t b3 = B(x3, 3, r3, h), b4 = B(x4, 4, r4, h);                                        \
    int m0 = M(x0, 0), m1 = M(x1, 1), m2 = M(x2, 2), m3 = M(x3, 3), m4 = M(x4, 4);              \
    CHI(0, Y, h, k, b0, b1, b2, m0, m1, m2);                                                    \
    CHI(1, Y, h, 0u, b1, b2, b3, m1, m2, m3);                                                   \
    CHI(2, Y, h, 0u, b2, b3, b4, m2, m3, m4);                                                   \
    CHI(3, Y, h, 0u, b3, b4, b0, m3, m4, m0);                                                   \
    CHI(4, Y, h, 0u, b4, b0, b1, m4, m0, m1);                                                   \
  } while (0)

/* All five planes of half h; k is the iota word of lane (0, 0). */
#define HALF(h, k)                                                                              \
  do {                                                                                          \
    PLANE(0, h, k, 0, 0, 1, 44, 2, 43, 3, 21, 4, 14);                                           \
    PLANE(1, h, 0u, 3, 28, 4, 20, 0, 3, 1, 45, 2, 61);                                          \
    PLANE(2, h, 0u, 1, 1, 2, 6, 3, 25, 4, 8, 0, 18);                                            \
    PLANE(3, h, 0u, 4, 27, 0, 36, 1, 10, 2, 15, 3, 56);                                         \
    PLANE(4, h, 0u, 2, 62, 3, 55, 4, 39, 0, 41, 1, 2);                                          \
  } while (0)

/* theta's column parities of a (stored values) */
#define PARITY(i) c[i] = a[i] ^ a[i + 10] ^ a[i + 20] ^ a[i + 30] ^ a[i + 40]
/* theta's d for column x: c[x-1] ^ rot64(c[x+1], 1) */
#define THETA_D(x)                                                                              \
  (d[2 * (x)] = c[2 * (((x) + 4) % 5)] ^ ROL32(c[2 * (((x) + 1) % 5) + 1], 1),                  \
   d[2 * (x) + 1] = c[2 * (((x) + 4) % 5) + 1] ^ c[2 * (((x) + 1) % 5)])

/* One round from state a to state e; co holds the parities of a's odd words on entry and of
 * e's on exit. The even halves of all planes come first, then the odd ones (chi never mixes
 * halves): few values are live at once, so they fit MIPS's registers; each even word is loaded
 * twice per round, each odd word once, each word stored once. */
ALWAYS_INLINE void keccak_round(const uint32_t *a, uint32_t *e, const uint32_t *rc, uint32_t *co) {
  uint32_t c[10], d[10];
  PARITY(0), PARITY(2), PARITY(4), PARITY(6), PARITY(8);
  c[1] = co[0], c[3] = co[1], c[5] = co[2], c[7] = co[3], c[9] = co[4];
  THETA_D(0), THETA_D(1), THETA_D(2), THETA_D(3), THETA_D(4);
  HALF(0, rc[0]);
  HALF(1, rc[1]);
}

/* The words of the INVERTED lanes (x + 5y = 13, 15, 19, 21), for setting up and converting. */
#define FOR_INVERTED_WORDS(F) F(26) F(27) F(30) F(31) F(38) F(39) F(42) F(43)
#define SET_ONES(i) s[i] = ~0u;
#define FLIP(i) s[i] = ~s[i];

/* s = the all-zero state, in stored form. */
static void state_zero(uint32_t s[50]) {
  memset(s, 0, 50 * sizeof *s);
  FOR_INVERTED_WORDS(SET_ONES)
}

/* Converts between a plain interleaved state and the stored form (an involution). */
static inline void invert_lanes(uint32_t s[50]) {
  FOR_INVERTED_WORDS(FLIP)
}

/* GCC's partial redundancy elimination and register-pressure-blind scheduling hoist loads
 * across the round and spill: on MIPS 13,292 instead of 12,321 instructions per permutation
 * (and slower on x86-64 too). */
#if defined(__GNUC__) && !defined(__clang__)
#define PERMUTATION_OPT __attribute__((optimize("no-tree-pre", "sched-pressure")))
#else
#define PERMUTATION_OPT
#endif

/* keccak-f[1600] on a stored-form state. The rounds alternate between s and a scratch state
 * through swapped pointers (unrolled, GCC would make both 100 spilled scalars). The odd-word
 * column parities are carried from one round to the next in registers. */
PERMUTATION_OPT static void keccak_f(uint32_t s[50]) {
  uint32_t t[50];
  uint32_t *a = s, *e = t, co[5];
  for (int i = 0; i < 5; i++) {
    co[i] = a[2 * i + 1] ^ a[2 * i + 11] ^ a[2 * i + 21] ^ a[2 * i + 31] ^ a[2 * i + 41];
  }
  for (const uint32_t *rc = RC; rc < RC + 48; rc += 2) {
    keccak_round(a, e, rc, co);
    uint32_t *x = a;
    a = e, e = x;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Bytes to and from interleaved lanes */

/* Gathers the even bits of x into its low half and the odd bits into its high half. */
static inline uint32_t unzip32(uint32_t x) {
  uint32_t t;
  t = (x ^ (x >> 1)) & 0x22222222u, x ^= t ^ (t << 1);
  t = (x ^ (x >> 2)) & 0x0c0c0c0cu, x ^= t ^ (t << 2);
  t = (x ^ (x >> 4)) & 0x00f000f0u, x ^= t ^ (t << 4);
  t = (x ^ (x >> 8)) & 0x0000ff00u, x ^= t ^ (t << 8);
  return x;
}

/* The inverse of unzip32: the low half to the even bits, the high half to the odd bits. */
static inline uint32_t zip32(uint32_t x) {
  uint32_t t;
  t = (x ^ (x >> 8)) & 0x0000ff00u, x ^= t ^ (t << 8);
  t = (x ^ (x >> 4)) & 0x00f000f0u, x ^= t ^ (t << 4);
  t = (x ^ (x >> 2)) & 0x0c0c0c0cu, x ^= t ^ (t << 2);
  t = (x ^ (x >> 1)) & 0x22222222u, x ^= t ^ (t << 1);
  return x;
}

static inline uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* The interleaved words (even bits, odd bits) of the little-endian 8-byte lane at p. */
static inline void lane_in(const uint8_t *p, uint32_t *even, uint32_t *odd) {
  uint32_t lo = unzip32(load_le32(p)), hi = unzip32(load_le32(p + 4));
  *even = (lo & 0xffffu) | (hi << 16);
  *odd = (lo >> 16) | (hi & 0xffff0000u);
}

/* XORs `lanes` little-endian 8-byte lanes from p into the interleaved words s. */
static void xor_lanes(uint32_t *s, const uint8_t *p, unsigned lanes) {
  for (unsigned i = 0; i < lanes; i++, p += 8, s += 2) {
    uint32_t e, o;
    lane_in(p, &e, &o);
    s[0] ^= e, s[1] ^= o;
  }
}

/* Sets s to `lanes` little-endian 8-byte lanes from p, interleaved. */
static void load_lanes(uint32_t *s, const uint8_t *p, unsigned lanes) {
  for (unsigned i = 0; i < lanes; i++, p += 8, s += 2) lane_in(p, &s[0], &s[1]);
}

/* Writes `lanes` interleaved lanes from s as little-endian bytes (the first lanes of a stored
 * state are never inverted). */
static void store_lanes(uint8_t *p, const uint32_t *s, unsigned lanes) {
  for (unsigned i = 0; i < lanes; i++, p += 8, s += 2) {
    store_le32(p, zip32((s[0] & 0xffffu) | (s[1] << 16)));
    store_le32(p + 4, zip32((s[0] >> 16) | (s[1] & 0xffff0000u)));
  }
}

#endif /* !OPML_KECCAK64 */

#if OPML_KECCAK64
#include "keccak64.h"
#endif

/* ------------------------------------------------------------------------------------------ */
/* keccak256 */

void opml_keccak_init(opml_keccak_ctx *c) {
  state_zero(c->s);
  c->fill = 0;
}

/* Absorbs data; whole blocks straight from the input, only a tail is buffered. */
void opml_keccak_update(opml_keccak_ctx *c, const uint8_t *data, size_t n) {
  if (n == 0) return;
  if (c->fill) {
    size_t k = OPML_KECCAK_RATE - c->fill;
    if (k > n) k = n;
    memcpy(c->buf + c->fill, data, k);
    c->fill += (uint32_t)k, data += k, n -= k;
    if (c->fill < OPML_KECCAK_RATE) return;
    xor_lanes(c->s, c->buf, OPML_KECCAK_RATE / 8);
    keccak_f(c->s);
    c->fill = 0;
  }
  for (; n >= OPML_KECCAK_RATE; data += OPML_KECCAK_RATE, n -= OPML_KECCAK_RATE) {
    xor_lanes(c->s, data, OPML_KECCAK_RATE / 8);
    keccak_f(c->s);
  }
  memcpy(c->buf, data, n);
  c->fill = (uint32_t)n;
}

/* Pads the tail (0x01 ... 0x80, Keccak's pad10*1), absorbs it and squeezes 32 bytes. */
void opml_keccak_final(opml_keccak_ctx *c, uint8_t out[32]) {
  memset(c->buf + c->fill, 0, OPML_KECCAK_RATE - c->fill);
  c->buf[c->fill] ^= 0x01;
  c->buf[OPML_KECCAK_RATE - 1] ^= 0x80;
  xor_lanes(c->s, c->buf, OPML_KECCAK_RATE / 8);
  keccak_f(c->s);
  store_lanes(out, c->s, 4);
}

void opml_keccak256(const uint8_t *data, size_t n, uint8_t out[32]) {
  opml_keccak_ctx c;
  opml_keccak_init(&c);
  opml_keccak_update(&c, data, n);
  opml_keccak_final(&c, out);
}

void opml_keccak_key(const uint8_t *data, size_t n, uint8_t out[32]) {
  opml_keccak256(data, n, out);
  out[0] = 2;
}

/* ------------------------------------------------------------------------------------------ */
/* Merkle-data roots. Nodes are kept as 8 interleaved words (the first 4 lanes of a state), so
 * hashing two of them needs no byte conversion; only leaves and the root are converted. */

#if !OPML_KECCAK64
/* out = keccak256(left || right) on interleaved nodes (out may alias either). The setup is
 * unrolled: loops (or memset) cost some 170 more VM steps per hash. */
static void hash_nodes(const uint32_t left[8], const uint32_t right[8], uint32_t out[8]) {
  uint32_t s[50];
#define NODES(i) s[i] = left[i], s[i + 8] = right[i];
#define ZERO(i) s[i] = 0, s[i + 1] = 0;
#define OUT(i) out[i] = s[i];
  NODES(0) NODES(1) NODES(2) NODES(3) NODES(4) NODES(5) NODES(6) NODES(7)
  ZERO(16) ZERO(18) ZERO(20) ZERO(22) ZERO(24) ZERO(28) ZERO(32) ZERO(34) ZERO(36) ZERO(40)
  ZERO(44) ZERO(46) ZERO(48)
  FOR_INVERTED_WORDS(SET_ONES) /* words 26, 27, 30, 31, 38, 39, 42, 43 */
  s[16] = 1;           /* pad: byte 64 = 0x01 is bit 0 of lane 8, an even bit */
  s[33] = 0x80000000u; /* pad: byte 135 bit 7 is bit 63 of lane 16, odd bit 31 */
  keccak_f(s);
  OUT(0) OUT(1) OUT(2) OUT(3) OUT(4) OUT(5) OUT(6) OUT(7)
}

#endif /* !OPML_KECCAK64 (keccak64.h has the 64-bit hash_nodes) */

void opml_keccak_pair(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
  uint32_t l[8], r[8];
  load_lanes(l, left, 4);
  load_lanes(r, right, 4);
  hash_nodes(l, r, l);
  store_lanes(out, l, 4);
}

void opml_merkle_init(opml_merkle_ctx *c) {
  c->leaves = 0;
  c->len = 0;
  c->fill = 0;
}

/* Adds a complete leaf (interleaved): merges it with the pending subtrees it completes. */
static void push_leaf(opml_merkle_ctx *c, uint32_t node[8]) {
  unsigned h = 0;
  for (uint64_t k = c->leaves; k & 1; k >>= 1, h++) hash_nodes(c->stack[h], node, node);
  for (int i = 0; i < 8; i++) c->stack[h][i] = node[i];
  c->leaves++;
}

/* Converts 32 bytes of data to an interleaved leaf and adds it. */
static void push_leaf_bytes(opml_merkle_ctx *c, const uint8_t *p) {
  uint32_t node[8];
  load_lanes(node, p, 4);
  push_leaf(c, node);
}

int opml_merkle_update(opml_merkle_ctx *c, const uint8_t *data, size_t n) {
  /* the final leaf count (this data, a carried partial leaf, the final partial leaf) must stay
   * below 2^MAX_HEIGHT, so that every pending subtree has a slot */
  uint64_t limit = (uint64_t)1 << OPML_MERKLE_MAX_HEIGHT;
  if ((uint64_t)n / 32 + 3 > limit - c->leaves) return -1;
  if (n == 0) return 0;
  c->len += n;
  if (c->fill) {
    size_t k = 32 - c->fill;
    if (k > n) k = n;
    memcpy(c->leaf + c->fill, data, k);
    c->fill += (uint32_t)k, data += k, n -= k;
    if (c->fill < 32) return 0;
    push_leaf_bytes(c, c->leaf);
    c->fill = 0;
  }
  for (; n >= 32; data += 32, n -= 32) push_leaf_bytes(c, data);
  memcpy(c->leaf, data, n);
  c->fill = (uint32_t)n;
  return 0;
}

/* Completes the tree: the partial leaf zero-padded (or one zero leaf for empty data), then at
 * each height the rightmost node is paired with its pending left sibling or, if it has none,
 * with the zero subtree of that height, until one node is left. */
void opml_merkle_final(opml_merkle_ctx *c, uint8_t root[32]) {
  if (c->fill || c->leaves == 0) {
    memset(c->leaf + c->fill, 0, 32 - c->fill);
    push_leaf_bytes(c, c->leaf);
  }
  unsigned h = 0;
  while (!((c->leaves >> h) & 1)) h++;
  uint32_t node[8], zero[8] = {0};
  unsigned zero_h = 0; /* zero is the root of an all-zero subtree of height zero_h */
  for (int i = 0; i < 8; i++) node[i] = c->stack[h][i];
  for (uint64_t m = c->leaves >> h; m > 1; m = (m + 1) >> 1, h++) {
    if (m & 1) {
      for (; zero_h < h; zero_h++) hash_nodes(zero, zero, zero);
      hash_nodes(node, zero, node);
    } else {
      hash_nodes(c->stack[h], node, node);
    }
  }
  store_lanes(root, node, 4);
}

static void merkle_data_root_serial(const uint8_t *data, size_t n, uint8_t out[32]) {
  opml_merkle_ctx c;
  opml_merkle_init(&c);
  opml_merkle_update(&c, data, n); /* cannot fail below 2^53 bytes (keccak.h) */
  opml_merkle_final(&c, out);
}

#if OPML_KECCAK64
#include "keccak_x4.h"
/* Roots of at least this many bytes are hashed level by level, four pairs at a time. */
#define LEVELS_MIN_BYTES 256
#endif
#if OPML_KECCAK_THREADS
#include "keccak_par.h"
#else
void opml_keccak_set_runner(opml_keccak_runner run, unsigned threads, size_t min_bytes) {
  (void)run, (void)threads, (void)min_bytes;
}
#endif

void opml_keccak_pairs(const uint8_t *in, uint8_t *out, size_t n) {
#if OPML_KECCAK64
  hash_level(in, out, n);
#else
  for (size_t i = 0; i < n; i++) opml_keccak_pair(in + 64 * i, in + 64 * i + 32, out + 32 * i);
#endif
}

void opml_merkle_data_root(const uint8_t *data, size_t n, uint8_t out[32]) {
#if OPML_KECCAK_THREADS
  if (merkle_data_root_parallel(data, n, out)) return;
#endif
#if OPML_KECCAK64
  if (n >= LEVELS_MIN_BYTES && merkle_root_levels(data, n, out) == 0) return;
#endif
  merkle_data_root_serial(data, n, out);
}

void opml_merkle_data_key_of(const uint8_t root[32], uint64_t len, uint8_t out[32]) {
  uint8_t buf[40];
  memcpy(buf, root, 32);
  for (int i = 0; i < 8; i++) buf[32 + i] = (uint8_t)(len >> (56 - 8 * i));
  opml_keccak256(buf, sizeof buf, out);
  out[0] = 3;
}

void opml_merkle_data_key(const uint8_t *data, size_t n, uint8_t out[32]) {
  uint8_t root[32];
  opml_merkle_data_root(data, n, root);
  opml_merkle_data_key_of(root, (uint64_t)n, out);
}
