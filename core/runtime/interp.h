/*
 * The interpreter of the deterministic program (docs/IR.md): decodes a `.opir` program and
 * runs it node by node through the kernel table. Model-independent: the same code runs natively
 * and in the MIPS image; only the loading of tensor data differs (opml_io).
 */
#ifndef OPML_INTERP_H
#define OPML_INTERP_H

#include "../kernels/kernel.h"

enum { OPML_KIND_ACTIVATION = 0, OPML_KIND_CONSTANT = 1, OPML_KIND_INPUT = 2 };

typedef struct opml_ptensor {
  opml_tensor t;
  uint8_t kind;
  uint8_t owned;      /* data was allocated by the interpreter (freed after its last use) */
  const uint8_t *key; /* constants: the 32-byte data key */
  const char *name;
  uint32_t name_len;
  uint32_t last_use;  /* index of the last node reading it; UINT32_MAX: never freed */
  uint32_t slot;      /* constants: index among constants; inputs: input position */
} opml_ptensor;

typedef struct opml_pnode {
  uint16_t op;
  uint8_t n_in, n_out;
  const int32_t *in_ids;   /* may be unaligned in the file: copied at parse time */
  const uint32_t *out_ids;
  const int64_t *ints;
  const float *floats;
  uint32_t n_ints, n_floats;
  const char *name, *op_type;
  uint32_t name_len, op_type_len;
  opml_kernel_fn fn;
} opml_pnode;

struct opml_program {
  uint32_t n_tensors, n_nodes, n_inputs, n_outputs, n_constants;
  opml_ptensor *tensors;
  opml_pnode *nodes;
  uint32_t *inputs, *outputs;
};

typedef struct opml_program opml_program;

/*
 * Where tensor data comes from. `map` may return a pointer to the tensor's bytes in host order
 * that stays valid for the whole run (zero copy), or NULL; then `load` fills `dst` with the
 * tensor's little-endian bytes and returns 0, or with its bytes already in host order and returns
 * OPML_LOADED_HOST_ORDER (the MIPS images' 4-byte elements, swapped by the VM's read). Anything
 * else is a failure; `map` returns NULL to decline. `load` is also asked for an
 * activation that a node reads before any node of this run produced it (only a run of part of
 * the program does that: the transition checker loads such tensors by key).
 * `after_node` (optional) is called after node i ran and its outputs were canonicalised, before
 * anything is freed (phase-1 states hash the outputs there); nonzero stops the run.
 */
#define OPML_LOADED_HOST_ORDER 0x484f5354 /* a `load` result: dst holds host order */

typedef struct opml_io {
  void *ctx;
  const void *(*map)(void *ctx, const opml_ptensor *t, size_t bytes);
  int (*load)(void *ctx, const opml_ptensor *t, void *dst, size_t bytes);
  int (*after_node)(void *ctx, opml_program *p, uint32_t node);
  /* 1: a Copy (Reshape, Squeeze, ...) whose input dies at it takes the input's buffer instead of
   * copying it (both then hold the same memory until the input is released after the node). Only
   * for callers whose outputs nobody modifies after the node (the dishonest --tamper does, and
   * so does the simulated dishonest check in the checker image's memory). */
  int alias_copies;
  /* 1: nodes are fused where the bits allow (interp.c): a Conv whose float output only a Relu,
   * Clip or HardSwish reads applies it in its stores (opml_node.epi) and that node takes its
   * buffer; chains of elementwise nodes run chunk by chunk. Outputs read only inside a fused
   * group are never materialised, so only for callers that observe no node's output (no states,
   * no --tamper). */
  int fuse;
} opml_io;

/* Decodes a program; on failure returns nonzero with a message in err. */
int opml_program_parse(const uint8_t *buf, size_t n, opml_program *p, char *err, size_t errlen);

/* Runs the program; outputs are then in p->tensors[p->outputs[i]].t (host order). */
int opml_program_run(opml_program *p, const opml_io *io, char *err, size_t errlen);

/*
 * Runs nodes first .. end-1 only (0-based) and loads nothing else. A tensor is freed after the
 * node whose index is its last_use (callers running part of a program may rewrite last_use).
 */
int opml_program_run_nodes(opml_program *p, const opml_io *io, uint32_t first, uint32_t end, char *err,
                           size_t errlen);

/* Bytes of a tensor's data. */
size_t opml_tensor_bytes(const opml_tensor *t);

/* Converts between little-endian bytes and host order in place (no-op on little-endian hosts). */
void opml_le_to_host(void *data, size_t n_elems, size_t elem);

/* Small formatter (no printf in the MIPS image): appends s[0..n) to err. */
void opml_err_append(char *err, size_t errlen, const char *s, size_t n);



/* Frees every tensor the interpreter owns, so the program can run again. */
void opml_program_reset(opml_program *p);
#endif
