/*
 * The MIPS image's entry: runs a program whose data comes through the preimage oracle
 * (docs/IR.md, "Runtime I/O"). Local key 1: the program's data key; local key 2: the input key,
 * i.e. the data key of the inputs' data keys (32 bytes each, in input order). Outputs go to stdout, little-endian, concatenated.
 * Under qemu-mips (no oracle) the preimages come from stdin as `key[32] u64be len data` records.
 */
#include "interp.h"
#include "libc.h"
#include "sys.h"

typedef struct blob {
  uint8_t *data;
  uint32_t len;
} blob;

/* stdin-backed oracle for qemu: all records read once */
static uint8_t *stdin_buf;
static uint32_t stdin_len;
static int have_oracle;

static void fail(const char *msg) {
  rt_eprintf("opml-runtime: %s\n", msg);
  rt_exit(1);
}

static void read_all(int fd, uint8_t *dst, uint32_t n) {
  while (n) {
    long r = sys_read(fd, dst, n);
    if (r <= 0) fail("preimage read failed");
    dst += r;
    n -= (uint32_t)r;
  }
}

static void load_stdin(void) {
  uint32_t cap = 1 << 16;
  stdin_buf = malloc(cap);
  for (;;) {
    if (stdin_len == cap) {
      cap *= 2;
      stdin_buf = realloc(stdin_buf, cap);
      if (!stdin_buf) fail("out of memory reading stdin");
    }
    long r = sys_read(0, stdin_buf + stdin_len, cap - stdin_len);
    if (r < 0) fail("cannot read stdin");
    if (r == 0) break;
    stdin_len += (uint32_t)r;
  }
}

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Fetches the preimage of `key` into dst (or a new buffer when dst is NULL). */
static blob fetch(const uint8_t key[32], void *dst, uint32_t expect) {
  blob b = {0, 0};
  if (have_oracle) {
    uint8_t lenb[8];
    if (sys_write_all(OPML_FD_PREIMAGE_WRITE, key, 32) != 32) fail("preimage key write failed");
    read_all(OPML_FD_PREIMAGE_READ, lenb, 8);
    if (be32(lenb)) fail("preimage too large");
    b.len = be32(lenb + 4);
    if (dst && b.len != expect) fail("preimage has the wrong length");
    b.data = dst ? dst : malloc(b.len ? b.len : 1);
    if (!b.data) fail("out of memory");
    read_all(OPML_FD_PREIMAGE_READ, b.data, b.len);
    return b;
  }
  for (uint32_t o = 0; o + 40 <= stdin_len;) {
    const uint8_t *rec = stdin_buf + o;
    uint32_t len = be32(rec + 36);
    if (be32(rec + 32) || o + 40 + len > stdin_len) fail("malformed preimage records on stdin");
    if (!memcmp(rec, key, 32)) {
      if (dst && len != expect) fail("preimage has the wrong length");
      b.data = dst ? dst : malloc(len ? len : 1);
      if (!b.data) fail("out of memory");
      memcpy(b.data, rec + 40, len);
      b.len = len;
      return b;
    }
    o += 40 + len;
  }
  fail("preimage not found on stdin");
  return b;
}

static uint8_t *input_keys;
static uint32_t n_input_keys;

static int io_load(void *ctx, const opml_ptensor *t, void *dst, size_t bytes) {
  (void)ctx;
  const uint8_t *key = t->key;
  if (t->kind == OPML_KIND_INPUT) {
    if (t->slot >= n_input_keys) fail("fewer input keys than program inputs");
    key = input_keys + 32 * t->slot;
  }
  fetch(key, dst, (uint32_t)bytes);
  return 0;
}

static void local_key(uint8_t key[32], uint32_t ident) {
  memset(key, 0, 32);
  key[0] = 1;
  key[31] = (uint8_t)ident;
}

int main(void) {
  have_oracle = sys_fcntl(OPML_FD_PREIMAGE_READ, OPML_F_GETFL, 0) >= 0;
  if (!have_oracle) load_stdin();
  uint8_t key[32];
  local_key(key, 1);
  blob pkey = fetch(key, 0, 0);
  if (pkey.len != 32) fail("local key 1 must be the 32-byte program key");
  local_key(key, 2);
  blob ikey = fetch(key, 0, 0);
  if (ikey.len != 32) fail("local key 2 must be the 32-byte input key");
  blob ikeys = fetch(ikey.data, 0, 0);
  if (ikeys.len % 32) fail("the input key's data must be 32-byte input data keys");
  input_keys = ikeys.data;
  n_input_keys = ikeys.len / 32;
  blob prog_bytes = fetch(pkey.data, 0, 0);

  opml_program prog;
  char err[512];
  if (opml_program_parse(prog_bytes.data, prog_bytes.len, &prog, err, sizeof err)) fail(err);
  if (prog.n_inputs != n_input_keys) fail("the number of input keys differs from the program's inputs");
  opml_io io = {0, 0, io_load};
  if (opml_program_run(&prog, &io, err, sizeof err)) fail(err);
  for (uint32_t i = 0; i < prog.n_outputs; i++) {
    opml_tensor *t = &prog.tensors[prog.outputs[i]].t;
    size_t es = opml_dtype_size(t->dtype);
    opml_le_to_host(t->data, t->size, es); /* host to little-endian: the same swap */
    rt_write(1, t->data, opml_tensor_bytes(t));
  }
  rt_flush();
  return 0;
}
