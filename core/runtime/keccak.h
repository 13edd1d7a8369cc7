/*
 * The project's commitments in C, for the native binary and the MIPS images alike:
 *
 * - keccak256 as the EVM defines it (original Keccak padding 0x01, not SHA3's 0x06), one-shot and
 *   incremental (init/update/final), the preimage oracle's keccak key (type 2);
 * - the Merkle-data root and key of docs/VM.md (key type 3): the binary keccak Merkle tree of the
 *   data's 32-byte leaves (last one zero-padded, empty data is one zero leaf), the leaf count
 *   padded to a power of two with zero subtrees; key = 0x03 || keccak256(root || u64be(len))[1..].
 *   Streaming, with O(log n) memory (one pending subtree per height), never a copy of the data.
 *
 * Same bits as core/vm/keccak.ts and core/vm/oracle.ts (tests/runtime/keccak.test.ts checks it).
 * Portable C11 with no libc beyond memcpy/memset; correct on big-endian MIPS (lanes are loaded
 * and stored byte by byte). The permutation works on bit-interleaved 32-bit words (no 64-bit
 * arithmetic, which MIPS32 lacks); internal Merkle nodes stay in that form between hashes.
 */
#ifndef OPML_KECCAK_H
#define OPML_KECCAK_H

#include <stddef.h>
#include <stdint.h>

/* OPML_KECCAK64: the plain 64-bit permutation (keccak64.h), for native builds on 64-bit
 * little-endian hosts; the MIPS images (and any build with -DOPML_KECCAK32) keep the 32-bit
 * bit-interleaved one. Same outputs either way. OPML_KECCAK_THREADS: large Merkle-data roots
 * hashed by threads over independent subtrees (hosted 64-bit builds; -DOPML_KECCAK_NO_THREADS
 * turns it off). */
#ifndef OPML_KECCAK64
#if !defined(__mips__) && !defined(OPML_KECCAK32) && UINTPTR_MAX == UINT64_MAX && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OPML_KECCAK64 1
#else
#define OPML_KECCAK64 0
#endif
#endif
#ifndef OPML_KECCAK_THREADS
#if OPML_KECCAK64 && !defined(OPML_KECCAK_NO_THREADS) && defined(__linux__)
#define OPML_KECCAK_THREADS 1
#else
#define OPML_KECCAK_THREADS 0
#endif
#endif

/* keccak256's rate: bytes absorbed per permutation. */
#define OPML_KECCAK_RATE 136

/* Incremental keccak256 state. Treat as opaque. */
typedef struct opml_keccak_ctx {
  uint32_t s[50];                  /* 25 lanes, bit-interleaved: s[2i] even bits, s[2i+1] odd;
                                      four lanes inverted (keccak.c); with OPML_KECCAK64 the
                                      200 bytes of the little-endian lanes */
  uint8_t buf[OPML_KECCAK_RATE];   /* the not yet absorbed tail of the input */
  uint32_t fill;                   /* bytes in buf */
} opml_keccak_ctx;

void opml_keccak_init(opml_keccak_ctx *c);
void opml_keccak_update(opml_keccak_ctx *c, const uint8_t *data, size_t n);
/* Writes the hash; the context must be re-initialised before further use. */
void opml_keccak_final(opml_keccak_ctx *c, uint8_t out[32]);

/* keccak256(data[0..n)). */
void opml_keccak256(const uint8_t *data, size_t n, uint8_t out[32]);
/* keccak256(left || right) of two 32-byte nodes, without the sponge's byte loop (out may alias). */
void opml_keccak_pair(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);
/* n pair hashes: out + 32 i = keccak256(the 64 bytes at in + 64 i), natively eight at a time
 * (out may be in). */
void opml_keccak_pairs(const uint8_t *in, uint8_t *out, size_t n);
/* The preimage oracle's keccak key: keccak256(data) with its first byte set to 2. */
void opml_keccak_key(const uint8_t *data, size_t n, uint8_t out[32]);

/* Heights of pending subtrees a Merkle context can hold: up to 2^48 leaves (8 PiB of data). */
#define OPML_MERKLE_MAX_HEIGHT 48

/* Incremental Merkle-data root. Treat as opaque. */
typedef struct opml_merkle_ctx {
  uint32_t stack[OPML_MERKLE_MAX_HEIGHT][8]; /* pending subtree of height h iff bit h of leaves */
  uint64_t leaves;                           /* complete leaves so far */
  uint64_t len;                              /* bytes so far */
  uint8_t leaf[32];                          /* the partial leaf */
  uint32_t fill;                             /* bytes in leaf */
} opml_merkle_ctx;

void opml_merkle_init(opml_merkle_ctx *c);
/* Returns 0, or -1 (nothing absorbed) if the data would exceed OPML_MERKLE_MAX_HEIGHT. */
int opml_merkle_update(opml_merkle_ctx *c, const uint8_t *data, size_t n);
/* Writes the root of everything absorbed; the context must be re-initialised before reuse. */
void opml_merkle_final(opml_merkle_ctx *c, uint8_t root[32]);

/* The Merkle-data root of data[0..n), n < 2^53. */
void opml_merkle_data_root(const uint8_t *data, size_t n, uint8_t out[32]);
/* The threads that hash large roots' subtrees (OPML_KECCAK_THREADS builds): run(n, work, fn, ctx)
 * calls fn(ctx, i) for every i < n on the caller's worker threads (the native runtime passes
 * opml_parallel) and `threads` is how many there are; from min_bytes on a root is split. Unset,
 * roots of 1 MiB and more start threads of their own. Same roots either way. */
typedef void (*opml_keccak_runner)(size_t n, size_t work, void (*fn)(void *ctx, size_t i), void *ctx);
void opml_keccak_set_runner(opml_keccak_runner run, unsigned threads, size_t min_bytes);
/* The Merkle-data key for a known root and length: 0x03 || keccak256(root || u64be(len))[1..]. */
void opml_merkle_data_key_of(const uint8_t root[32], uint64_t len, uint8_t out[32]);
/* The Merkle-data key (preimage key type 3) of data[0..n). */
void opml_merkle_data_key(const uint8_t *data, size_t n, uint8_t out[32]);

#endif
