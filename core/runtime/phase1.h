/*
 * Phase-1 states (docs/MULTIPHASE.md), shared by the native runner (which computes every state
 * while it runs a model) and the transition checker in the MIPS image (which recomputes one):
 * the same C code on both sides.
 *
 * - the table: one 32-byte entry per tensor (its data key, or zeros while it does not exist),
 *   kept as a complete binary keccak Merkle tree so that setting an entry costs log2(nTensors)
 *   hashes and the table's Merkle-data key is one more hash;
 * - tensor data keys over the LITTLE-ENDIAN bytes (the interpreter holds host order: on the
 *   big-endian MIPS image the bytes are swapped chunk by chunk while hashing, the tensor is not
 *   touched);
 * - the state preimage `programKey || u32be(index) || key` and its hash H (keccak key, type 2).
 */
#ifndef OPML_PHASE1_H
#define OPML_PHASE1_H

#include "interp.h"
#include "keccak.h"

#define OPML_STATE_PREIMAGE_SIZE 68

typedef struct opml_table {
  uint32_t n;          /* entries (tensors of the program) */
  uint32_t cap;        /* leaves: n rounded up to a power of two, at least 1 */
  uint8_t (*node)[32]; /* 2*cap nodes in heap order: node[1] is the root, entry t is node[cap+t] */
  /* entries set by opml_table_defer_node whose paths are not rehashed yet, in order */
  struct opml_table_change *log;
  uint32_t n_log, cap_log;
} opml_table;

/* A deferred entry: which, the node that set it, its key before. */
typedef struct opml_table_change {
  uint32_t entry, node;
  uint8_t prev[32];
} opml_table_change;

/* table_0 of a program: every constant's key (from the program) and the inputs' keys (32 bytes
 * each, in input order); activations zero. About nTensors hashes. 0, or OPML_ENOMEM. */
int opml_table_init0(opml_table *t, const opml_program *p, const uint8_t *input_keys);
/* A table from its 32 * n bytes (e.g. fetched by its key). About n hashes. 0, or OPML_ENOMEM. */
int opml_table_load(opml_table *t, uint32_t n, const uint8_t *bytes);
void opml_table_free(opml_table *t);

/* Sets entry i and rehashes its path (log2(cap) hashes). */
void opml_table_set(opml_table *t, uint32_t i, const uint8_t key[32]);
/* Entry i (32 bytes). */
const uint8_t *opml_table_entry(const opml_table *t, uint32_t i);
/* The table's bytes (32 * n, contiguous). */
const uint8_t *opml_table_bytes(const opml_table *t);
/* tableKey: the Merkle-data key of the table's bytes (one hash: the root is kept). */
void opml_table_key(const opml_table *t, uint8_t out[32]);

/* The data key of a tensor held in host order: K(its little-endian bytes). */
void opml_tensor_key(const opml_tensor *t, uint8_t out[32]);
/* Sets the entries of node i's outputs (0-based) to their data keys. */
void opml_table_add_node(opml_table *t, const opml_program *p, uint32_t i);
/* As opml_table_add_node, but the entries' paths are rehashed later, by opml_table_defer_states
 * (entries read meanwhile are current, the root is not). 0, or OPML_ENOMEM. */
int opml_table_defer_node(opml_table *t, const opml_program *p, uint32_t i);
/* The states S_1 .. S_count (at states + 32, + 64, ...) after the deferred nodes 0 .. count - 1,
 * the table's paths rehashed level by level: every deferred entry's parent at one height, then
 * the next, eight pair hashes at a time natively (the values of opml_table_add_node and
 * opml_table_state node by node). 0, or OPML_ENOMEM. */
int opml_table_defer_states(opml_table *t, const uint8_t program_key[32], uint32_t count, uint8_t *states);
/* The output key: K(the table entries of the graph outputs, in output order). */
void opml_output_key(const opml_table *t, const opml_program *p, uint8_t out[32]);

/* The state preimage programKey || u32be(index) || key. */
void opml_state_preimage(const uint8_t program_key[32], uint32_t index, const uint8_t key[32],
                         uint8_t out[OPML_STATE_PREIMAGE_SIZE]);
/* The state H(preimage): its keccak key, so a state is the oracle key of its own preimage. */
void opml_state(const uint8_t program_key[32], uint32_t index, const uint8_t key[32], uint8_t out[32]);
/* The state after node index k (1 <= k <= N) of a table: H(programKey || k || tableKey). */
void opml_table_state(const opml_table *t, const uint8_t program_key[32], uint32_t k, uint8_t out[32]);

#endif
