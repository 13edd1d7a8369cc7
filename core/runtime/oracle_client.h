/*
 * The guest side of the preimage oracle (docs/VM.md), shared by the MIPS images: write a key to
 * fd 6, read `u64be length || data` from fd 5 (or the data from fd 7, which writes each aligned
 * word little-endian). Under qemu-mips there is no oracle (fd 5 is closed, seen with fcntl):
 * every preimage then comes from stdin as records
 * `key[32] u64be length data`, read once at start.
 */
#ifndef OPML_ORACLE_CLIENT_H
#define OPML_ORACLE_CLIENT_H

#include <stdint.h>

typedef struct opml_blob {
  uint8_t *data;
  uint32_t len;
} opml_blob;

/* Detects the oracle (or reads stdin's records). Failures of this module print
 * `<prog>: <message>` on stderr and exit with fail_code. */
void opml_oracle_init(const char *prog, int fail_code);

/* Prints `<prog>: msg` and exits with the fail code. */
__attribute__((noreturn)) void opml_oracle_fail(const char *msg);

/* The preimage of key: into dst, whose size `expect` it must have, or (dst NULL) into a new
 * malloc'd buffer of any length. Fails if it is missing, too long or has the wrong length. */
opml_blob opml_oracle_fetch(const uint8_t key[32], void *dst, uint32_t expect);

/* As opml_oracle_fetch into dst (4-byte aligned, `expect` bytes) for data made of little-endian
 * 4-byte words: returns 1 when dst holds them in host order (the VM's read fd 7 swaps each word
 * as it writes it: no pass over the data), 0 when it holds the little-endian bytes (stdin). */
int opml_oracle_fetch_le32(const uint8_t key[32], void *dst, uint32_t expect);

/* Local key `ident`: type 1, then the identifier big-endian. */
void opml_local_key(uint8_t key[32], uint32_t ident);

#endif
