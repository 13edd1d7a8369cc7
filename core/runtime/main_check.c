/*
 * The transition checker (docs/MULTIPHASE.md, phase 2): checks in the VM that phase-1 state S_a
 * leads to a claimed S_b. Local keys: 1 = S_a (32 bytes), 2 = the claimed S_b (32), 3 = u32be(b).
 * Everything else comes by key through the oracle, lazily: the preimage of S_a (program key, a,
 * table key or input key), the program, the table, and each input tensor of the nodes it runs;
 * a tensor is freed after its last use within the range, so memory holds one node's tensors
 * plus the table, not the model.
 *
 * Exit 0: the computed S_b equals the claim; 1: it does not (or a node fails: no valid S_b
 * exists); 2: malformed local data, preimage, program or table. Writes the computed S_b (32
 * bytes) to stdout. Under qemu-mips the preimages come from stdin (oracle_client.h).
 */
#include "interp.h"
#include "libc.h"
#include "oracle_client.h"
#include "phase1.h"

#define NONE 0xffffffffu

static opml_table table;

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static opml_program prog;

/* Every tensor a node reads is loaded by its key in the table: constants, inputs and the
 * activations produced before node a+1 alike. */
static int load_by_key(void *ctx, const opml_ptensor *t, void *dst, size_t bytes) {
  (void)ctx;
  const uint8_t *key = opml_table_entry(&table, (uint32_t)(t - prog.tensors));
  static const uint8_t zero[32];
  if (!memcmp(key, zero, 32)) opml_oracle_fail("a node reads a tensor that does not exist in the table");
  if (opml_dtype_size(t->t.dtype) == 4) {
    return opml_oracle_fetch_le32(key, dst, (uint32_t)bytes) ? OPML_LOADED_HOST_ORDER : 0;
  }
  opml_oracle_fetch(key, dst, (uint32_t)bytes);
  return 0;
}

static int add_node(void *ctx, opml_program *p, uint32_t i) {
  (void)ctx;
  opml_table_add_node(&table, p, i);
  return 0;
}

__attribute__((noreturn)) static void fail_exit(const char *msg, int code) {
  rt_eprintf("opml-check: %s\n", msg);
  rt_exit(code);
}

int main(void) {
  opml_oracle_init("opml-check", 2);
  uint8_t key[32], s_a[32], claim[32], bb[4], pre[OPML_STATE_PREIMAGE_SIZE];
  opml_local_key(key, 1);
  opml_oracle_fetch(key, s_a, 32);
  opml_local_key(key, 2);
  opml_oracle_fetch(key, claim, 32);
  opml_local_key(key, 3);
  opml_oracle_fetch(key, bb, 4);
  uint32_t b = be32(bb);
  opml_oracle_fetch(s_a, pre, sizeof pre);
  const uint8_t *program_key = pre, *state_key = pre + 36;
  uint32_t a = be32(pre + 32);

  opml_blob bytes = opml_oracle_fetch(program_key, 0, 0);
  char err[512];
  if (opml_program_parse(bytes.data, bytes.len, &prog, err, sizeof err)) opml_oracle_fail(err);
  uint32_t n = prog.n_nodes;
  if (a > n || b <= a || b > n + 1) opml_oracle_fail("need a < b <= N + 1 and a <= N (a from S_a, b local key 3)");

  if (a == 0) {
    /* S_0 = H(programKey || 0 || inputKey): table_0 from the program's constants and the inputs */
    opml_blob ikeys = opml_oracle_fetch(state_key, 0, 0);
    if (ikeys.len != 32 * prog.n_inputs) opml_oracle_fail("the input key's data must be one key per program input");
    if (opml_table_init0(&table, &prog, ikeys.data)) opml_oracle_fail("out of memory");
    free(ikeys.data);
  } else {
    opml_blob tb = opml_oracle_fetch(state_key, 0, 0);
    if (tb.len != 32 * prog.n_tensors) opml_oracle_fail("the table must hold 32 bytes per tensor");
    if (opml_table_load(&table, prog.n_tensors, tb.data)) opml_oracle_fail("out of memory");
    free(tb.data);
  }

  /* last uses within nodes a+1 .. end only: everything else is freed as soon as it is hashed */
  uint32_t end = b < n ? b : n;
  for (uint32_t t = 0; t < prog.n_tensors; t++) prog.tensors[t].last_use = NONE;
  for (uint32_t i = a; i < end; i++) {
    const opml_pnode *nd = &prog.nodes[i];
    for (uint32_t k = 0; k < nd->n_in; k++) {
      if (nd->in_ids[k] >= 0) prog.tensors[nd->in_ids[k]].last_use = i;
    }
  }
  /* no aliased copies: a dishonest defender's check is simulated by flipping a bit of node K's
   * output in this image's memory at add_node (core/dispute/check_run.ts, tamperedCheck), and an
   * output sharing its input's buffer would take the input's (honest) key */
  opml_io io = {0, 0, load_by_key, add_node, 0};
  if (opml_program_run_nodes(&prog, &io, a, end, err, sizeof err)) fail_exit(err, 1);

  uint8_t s_b[32];
  if (b == n + 1) {
    opml_output_key(&table, &prog, key);
    opml_state(program_key, b, key, s_b);
  } else {
    opml_table_state(&table, program_key, b, s_b);
  }
  rt_write(1, s_b, 32);
  if (memcmp(s_b, claim, 32)) fail_exit("the computed state differs from the claim", 1);
  rt_flush();
  return 0;
}
