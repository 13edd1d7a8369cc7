/*
 * Test driver of core/runtime/keccak.c, built natively and for MIPS (tests/runtime/keccak.test.ts).
 *
 * Input: records `u8 op, u32be len, data[len]`; output: one line of lowercase hex per record.
 *   'h'  all commitments of data, space-separated: keccak256, keccak256 fed in uneven chunks
 *        (incremental API), Merkle-data root, the root fed in uneven chunks, Merkle-data key,
 *        keccak key
 *   'p'  data = u32be count || 200-byte state (little-endian lanes): the state after count
 *        keccak-f[1600] permutations
 *   'K'  data = u32be n: keccak256 of n zero bytes (n <= 16384; for step counts, where the input
 *        must not grow with n: it is read, and checked, in the VM)
 *   'M'  data = u32be n: the Merkle-data root of n zero bytes (n <= 16384)
 *   'L'  data = u64be leaves || u32be n: "accepted" or "refused", what opml_merkle_update does
 *        with n more bytes after `leaves` complete leaves (the size limit)
 * Natively and under qemu-mips the records come from stdin. In the opml VM (the preimage oracle
 * answers on fd 5) local key 1 holds the Merkle-data key of the records, which are read through
 * the oracle and checked against that key first (exit 3 on a mismatch).
 * The driver includes keccak.c itself so that 'p' can reach the internal permutation.
 */
#include "../../core/runtime/keccak.c"

#ifdef __mips__
#include "libc.h"
#include "sys.h"
#else
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#endif

static void die(const char *msg, int code) {
#ifdef __mips__
  rt_eprintf("keccak_driver: %s\n", msg);
  rt_exit(code);
#else
  fprintf(stderr, "keccak_driver: %s\n", msg);
  exit(code);
#endif
}

static void out_str(const char *s, size_t n) {
#ifdef __mips__
  rt_write(1, s, n);
#else
  fwrite(s, 1, n, stdout);
#endif
}

static void out_hex(const uint8_t *p, size_t n, char end) {
  static const char digits[] = "0123456789abcdef";
  char buf[2 * 200 + 1];
  for (size_t i = 0; i < n; i++) buf[2 * i] = digits[p[i] >> 4], buf[2 * i + 1] = digits[p[i] & 15];
  buf[2 * n] = end;
  out_str(buf, 2 * n + 1);
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* All of stdin in a malloc'd buffer. */
static uint8_t *read_stdin(size_t *len) {
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) die("out of memory", 2);
    if (n == cap) buf = realloc(buf, cap *= 2);
    if (!buf) die("out of memory", 2);
#ifdef __mips__
    long r = sys_read(0, buf + n, cap - n);
#else
    long r = (long)read(0, buf + n, cap - n);
#endif
    if (r < 0) die("cannot read stdin", 2);
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

#ifdef __mips__
static void read_exact(int fd, uint8_t *dst, size_t n) {
  while (n) {
    long r = sys_read(fd, dst, n);
    if (r <= 0) die("short read", 2);
    dst += r, n -= (size_t)r;
  }
}

/* The preimage of key through the oracle (fd 6 key, fd 5 u64be length || data). */
static uint8_t *oracle_fetch(const uint8_t key[32], size_t *len) {
  uint8_t head[8];
  if (sys_write_all(OPML_FD_PREIMAGE_WRITE, key, 32) != 32) die("preimage key write failed", 2);
  read_exact(OPML_FD_PREIMAGE_READ, head, 8);
  if (be32(head)) die("preimage too large", 2);
  *len = be32(head + 4);
  uint8_t *data = malloc(*len ? *len : 1);
  if (!data) die("out of memory", 2);
  read_exact(OPML_FD_PREIMAGE_READ, data, *len);
  return data;
}

/* The records from the oracle, checked against their Merkle-data key (local key 1). */
static uint8_t *read_oracle(size_t *len) {
  uint8_t local[32] = {1}, check[32];
  local[31] = 1;
  size_t klen;
  uint8_t *key = oracle_fetch(local, &klen);
  if (klen != 32) die("local key 1 must hold a 32-byte key", 2);
  uint8_t *data = oracle_fetch(key, len);
  opml_merkle_data_key(data, *len, check);
  if (memcmp(check, key, 32) != 0) die("the records do not match their Merkle-data key", 3);
  return data;
}
#endif

/* Chunk sizes for the incremental APIs: around the rate, the leaf size and tiny pieces. */
static const size_t CHUNKS[] = {1, 3, 31, 32, 33, 64, 135, 136, 137, 500, 0};

static void keccak_chunked(const uint8_t *p, size_t n, uint8_t out[32]) {
  opml_keccak_ctx c;
  opml_keccak_init(&c);
  for (size_t i = 0, k; n; i++, p += k, n -= k) {
    k = CHUNKS[i % 11] < n ? CHUNKS[i % 11] : n;
    opml_keccak_update(&c, p, k); /* includes zero-length updates */
  }
  opml_keccak_final(&c, out);
}

static void merkle_chunked(const uint8_t *p, size_t n, uint8_t out[32]) {
  opml_merkle_ctx c;
  opml_merkle_init(&c);
  for (size_t i = 0, k; n; i++, p += k, n -= k) {
    k = CHUNKS[i % 11] < n ? CHUNKS[i % 11] : n;
    if (opml_merkle_update(&c, p, k) != 0) die("merkle update refused", 2);
  }
  opml_merkle_final(&c, out);
}

static const uint8_t zeros[16384];

/* The 'p' record: count permutations of a byte state. */
static void permute_record(const uint8_t *p, size_t n) {
  if (n != 204) die("a 'p' record is u32be count || 200 bytes", 2);
  uint32_t s[50], count = be32(p);
  uint8_t out[200];
  load_lanes(s, p + 4, 25);
  invert_lanes(s); /* to the stored form */
  while (count--) keccak_f(s);
  invert_lanes(s);
  store_lanes(out, s, 25);
  out_hex(out, 200, '\n');
}

#if OPML_KECCAK_THREADS
/* OPML_TEST_RUNNER=1: every root of 2 bytes or more split into subtrees as on the runtime's
 * workers (keccak_par.h), the items run here one after the other */
static void serial_runner(size_t n, size_t work, void (*fn)(void *ctx, size_t i), void *ctx) {
  (void)work;
  for (size_t i = 0; i < n; i++) fn(ctx, i);
}
#endif

int main(void) {
  size_t len;
  uint8_t *in;
#if OPML_KECCAK_THREADS
  if (getenv("OPML_TEST_RUNNER")) opml_keccak_set_runner(serial_runner, 2, 2);
#endif
#ifdef __mips__
  if (sys_fcntl(OPML_FD_PREIMAGE_READ, OPML_F_GETFL, 0) >= 0) in = read_oracle(&len);
  else in = read_stdin(&len);
#else
  in = read_stdin(&len);
#endif
  for (size_t off = 0; off < len;) {
    if (len - off < 5) die("truncated record header", 2);
    uint8_t op = in[off];
    size_t n = be32(in + off + 1);
    const uint8_t *p = in + off + 5;
    if (n > len - off - 5) die("truncated record", 2);
    off += 5 + n;
    uint8_t h[32];
    switch (op) {
      case 'h':
        opml_keccak256(p, n, h), out_hex(h, 32, ' ');
        keccak_chunked(p, n, h), out_hex(h, 32, ' ');
        opml_merkle_data_root(p, n, h), out_hex(h, 32, ' ');
        merkle_chunked(p, n, h), out_hex(h, 32, ' ');
        opml_merkle_data_key(p, n, h), out_hex(h, 32, ' ');
        opml_keccak_key(p, n, h), out_hex(h, 32, '\n');
        break;
      case 'p': permute_record(p, n); break;
      case 'K':
      case 'M': {
        if (n != 4 || be32(p) > sizeof zeros) die("a 'K' or 'M' record is u32be n <= 16384", 2);
        if (op == 'K') opml_keccak256(zeros, be32(p), h);
        else opml_merkle_data_root(zeros, be32(p), h);
        out_hex(h, 32, '\n');
        break;
      }
      case 'L': {
        static opml_merkle_ctx c;
        if (n != 12) die("an 'L' record is u64be leaves || u32be n", 2);
        opml_merkle_init(&c);
        c.leaves = (uint64_t)be32(p) << 32 | be32(p + 4);
        if (be32(p + 8) > sizeof zeros) die("at most 16384 bytes", 2);
        const char *r = opml_merkle_update(&c, zeros, be32(p + 8)) == 0 ? "accepted\n" : "refused\n";
        out_str(r, strlen(r));
        break;
      }
      default: die("unknown record op", 2);
    }
  }
#ifndef __mips__
  fflush(stdout);
#endif
  return 0;
}
