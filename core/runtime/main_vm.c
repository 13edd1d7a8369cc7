/*
 * The MIPS image's entry: runs a program whose data comes through the preimage oracle
 * (docs/IR.md, "Runtime I/O"). Local key 1: the program's data key; local key 2: the input key,
 * i.e. the data key of the inputs' data keys (32 bytes each, in input order). Outputs go to stdout, little-endian, concatenated.
 * Under qemu-mips (no oracle) the preimages come from stdin as `key[32] u64be len data` records.
 */
#include "interp.h"
#include "libc.h"
#include "oracle_client.h"

static uint8_t *input_keys;
static uint32_t n_input_keys;

static int io_load(void *ctx, const opml_ptensor *t, void *dst, size_t bytes) {
  (void)ctx;
  const uint8_t *key = t->key;
  if (t->kind == OPML_KIND_ACTIVATION) return 1; /* read before produced: a malformed program */
  if (t->kind == OPML_KIND_INPUT) {
    if (t->slot >= n_input_keys) opml_oracle_fail("fewer input keys than program inputs");
    key = input_keys + 32 * t->slot;
  }
  if (opml_dtype_size(t->t.dtype) == 4) {
    return opml_oracle_fetch_le32(key, dst, (uint32_t)bytes) ? OPML_LOADED_HOST_ORDER : 0;
  }
  opml_oracle_fetch(key, dst, (uint32_t)bytes);
  return 0;
}

int main(void) {
  opml_oracle_init("opml-runtime", 1);
  uint8_t key[32];
  opml_local_key(key, 1);
  opml_blob pkey = opml_oracle_fetch(key, 0, 0);
  if (pkey.len != 32) opml_oracle_fail("local key 1 must be the 32-byte program key");
  opml_local_key(key, 2);
  opml_blob ikey = opml_oracle_fetch(key, 0, 0);
  if (ikey.len != 32) opml_oracle_fail("local key 2 must be the 32-byte input key");
  opml_blob ikeys = opml_oracle_fetch(ikey.data, 0, 0);
  if (ikeys.len % 32) opml_oracle_fail("the input key's data must be 32-byte input data keys");
  input_keys = ikeys.data;
  n_input_keys = ikeys.len / 32;
  opml_blob prog_bytes = opml_oracle_fetch(pkey.data, 0, 0);

  opml_program prog;
  char err[512];
  if (opml_program_parse(prog_bytes.data, prog_bytes.len, &prog, err, sizeof err)) opml_oracle_fail(err);
  if (prog.n_inputs != n_input_keys) opml_oracle_fail("the number of input keys differs from the program's inputs");
  opml_io io = {0, 0, io_load, 0, 1};
  if (opml_program_run(&prog, &io, err, sizeof err)) opml_oracle_fail(err);
  for (uint32_t i = 0; i < prog.n_outputs; i++) {
    opml_tensor *t = &prog.tensors[prog.outputs[i]].t;
    size_t es = opml_dtype_size(t->dtype);
    opml_le_to_host(t->data, t->size, es); /* host to little-endian: the same swap */
    rt_write(1, t->data, opml_tensor_bytes(t));
    opml_le_to_host(t->data, t->size, es); /* back: the same tensor may be a later output too */
  }
  rt_flush();
  return 0;
}
