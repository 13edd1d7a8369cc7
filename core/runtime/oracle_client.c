/* The guest side of the preimage oracle: see oracle_client.h. */
#include "oracle_client.h"

#include "libc.h"
#include "sys.h"

static int have_oracle;
static uint8_t *stdin_buf; /* qemu: all records */
static uint32_t stdin_len;
static const char *prog_name = "opml";
static int fail_code = 1;

void opml_oracle_fail(const char *msg) {
  rt_eprintf("%s: %s\n", prog_name, msg);
  rt_exit(fail_code);
}

/* The VM's preimage reads return at most 4 bytes each, so this loop runs once per data word of
 * every weight and input: the syscall is inlined (sys_read's call costs as much again). */
static void read_all(int fd, uint8_t *dst, uint32_t n) {
  while (n) {
    long r = opml_syscall3(SYS_read, fd, (long)dst, (long)n);
    if (r <= 0) opml_oracle_fail("preimage read failed");
    dst += r;
    n -= (uint32_t)r;
  }
}

static void load_stdin(void) {
  uint32_t cap = 1 << 16;
  stdin_buf = malloc(cap);
  if (!stdin_buf) opml_oracle_fail("out of memory reading stdin");
  for (;;) {
    if (stdin_len == cap) {
      cap *= 2;
      stdin_buf = realloc(stdin_buf, cap);
      if (!stdin_buf) opml_oracle_fail("out of memory reading stdin");
    }
    long r = sys_read(0, stdin_buf + stdin_len, cap - stdin_len);
    if (r < 0) opml_oracle_fail("cannot read stdin");
    if (r == 0) break;
    stdin_len += (uint32_t)r;
  }
}

void opml_oracle_init(const char *prog, int code) {
  prog_name = prog;
  fail_code = code;
  have_oracle = sys_fcntl(OPML_FD_PREIMAGE_READ, OPML_F_GETFL, 0) >= 0;
  if (!have_oracle) load_stdin();
}

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint8_t *target(void *dst, uint32_t len, uint32_t expect) {
  if (dst && len != expect) opml_oracle_fail("preimage has the wrong length");
  uint8_t *p = dst ? dst : malloc(len ? len : 1);
  if (!p) opml_oracle_fail("out of memory");
  return p;
}

opml_blob opml_oracle_fetch(const uint8_t key[32], void *dst, uint32_t expect) {
  opml_blob b = {0, 0};
  if (have_oracle) {
    uint8_t lenb[8];
    if (sys_write_all(OPML_FD_PREIMAGE_WRITE, key, 32) != 32) opml_oracle_fail("preimage key write failed");
    read_all(OPML_FD_PREIMAGE_READ, lenb, 8);
    if (be32(lenb)) opml_oracle_fail("preimage too large");
    b.len = be32(lenb + 4);
    b.data = target(dst, b.len, expect);
    read_all(OPML_FD_PREIMAGE_READ, b.data, b.len);
    return b;
  }
  for (uint32_t o = 0; o + 40 <= stdin_len;) {
    const uint8_t *rec = stdin_buf + o;
    uint32_t len = be32(rec + 36);
    if (be32(rec + 32) || len > stdin_len - o - 40) opml_oracle_fail("malformed preimage records on stdin");
    if (!memcmp(rec, key, 32)) {
      b.len = len;
      b.data = target(dst, len, expect);
      memcpy(b.data, rec + 40, len);
      return b;
    }
    o += 40 + len;
  }
  opml_oracle_fail("preimage not found on stdin");
}

int opml_oracle_fetch_le32(const uint8_t key[32], void *dst, uint32_t expect) {
  if (!have_oracle || ((uintptr_t)dst & 3)) {
    opml_oracle_fetch(key, dst, expect);
    return 0;
  }
  uint8_t lenb[8];
  if (sys_write_all(OPML_FD_PREIMAGE_WRITE, key, 32) != 32) opml_oracle_fail("preimage key write failed");
  read_all(OPML_FD_PREIMAGE_READ, lenb, 8);
  if (be32(lenb) || be32(lenb + 4) != expect) opml_oracle_fail("preimage has the wrong length");
  read_all(OPML_FD_PREIMAGE_READ_LE, dst, expect);
  return 1;
}

void opml_local_key(uint8_t key[32], uint32_t ident) {
  memset(key, 0, 32);
  key[0] = 1;
  key[28] = (uint8_t)(ident >> 24);
  key[29] = (uint8_t)(ident >> 16);
  key[30] = (uint8_t)(ident >> 8);
  key[31] = (uint8_t)ident;
}
