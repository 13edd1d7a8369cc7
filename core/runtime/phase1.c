/* Phase-1 states (docs/MULTIPHASE.md): see phase1.h. */
#include "phase1.h"

#ifdef __mips__
#include "libc.h"
#else
#include <stdlib.h>
#include <string.h>
#endif

/* Zero subtrees: zero_hash[h] is the root of 2^h zero leaves. */
static uint8_t zero_hash[33][32];
static int zero_ready;

static void hash_pair(const uint8_t *l, const uint8_t *r, uint8_t out[32]) { opml_keccak_pair(l, r, out); }

static void zero_init(void) {
  if (zero_ready) return;
  memset(zero_hash[0], 0, 32);
  for (int h = 1; h <= 32; h++) hash_pair(zero_hash[h - 1], zero_hash[h - 1], zero_hash[h]);
  zero_ready = 1;
}

static int table_alloc(opml_table *t, uint32_t n) {
  zero_init();
  uint32_t cap = 1;
  while (cap < n) cap <<= 1;
  t->n = n;
  t->cap = cap;
  t->node = malloc((size_t)2 * cap * 32);
  t->log = 0;
  t->n_log = t->cap_log = 0;
  if (!t->node) return OPML_ENOMEM;
  memset(t->node[cap], 0, (size_t)cap * 32);
  return 0;
}

/* Hashes every internal node bottom up; subtrees wholly past the last entry are zero subtrees
 * (no hashing), so the cost is about n hashes whatever the padding. */
static void table_rebuild(opml_table *t) {
  uint32_t first_zero = t->n; /* at this level: nodes from here on are zero subtrees */
  for (uint32_t h = 1, lo = t->cap >> 1; lo >= 1; h++, lo >>= 1) {
    first_zero = (first_zero + 1) >> 1;
    for (uint32_t i = 0; i < lo; i++) {
      uint32_t k = lo + i;
      if (i >= first_zero) memcpy(t->node[k], zero_hash[h], 32);
      else hash_pair(t->node[2 * k], t->node[2 * k + 1], t->node[k]);
    }
  }
}

int opml_table_init0(opml_table *t, const opml_program *p, const uint8_t *input_keys) {
  if (table_alloc(t, p->n_tensors)) return OPML_ENOMEM;
  for (uint32_t i = 0; i < p->n_tensors; i++) {
    const opml_ptensor *pt = &p->tensors[i];
    if (pt->kind == OPML_KIND_CONSTANT) memcpy(t->node[t->cap + i], pt->key, 32);
    else if (pt->kind == OPML_KIND_INPUT) memcpy(t->node[t->cap + i], input_keys + 32 * (size_t)pt->slot, 32);
  }
  table_rebuild(t);
  return 0;
}

int opml_table_load(opml_table *t, uint32_t n, const uint8_t *bytes) {
  if (table_alloc(t, n)) return OPML_ENOMEM;
  memcpy(t->node[t->cap], bytes, (size_t)n * 32);
  table_rebuild(t);
  return 0;
}

void opml_table_free(opml_table *t) {
  free(t->node);
  free(t->log);
  t->node = 0;
  t->log = 0;
  t->n_log = t->cap_log = 0;
}

void opml_table_set(opml_table *t, uint32_t i, const uint8_t key[32]) {
  uint32_t k = t->cap + i;
  memcpy(t->node[k], key, 32);
  for (k >>= 1; k >= 1; k >>= 1) hash_pair(t->node[2 * k], t->node[2 * k + 1], t->node[k]);
}

const uint8_t *opml_table_entry(const opml_table *t, uint32_t i) { return t->node[t->cap + i]; }

const uint8_t *opml_table_bytes(const opml_table *t) { return t->node[t->cap]; }

void opml_table_key(const opml_table *t, uint8_t out[32]) {
  opml_merkle_data_key_of(t->node[1], (uint64_t)t->n * 32, out);
}

void opml_tensor_key(const opml_tensor *t, uint8_t out[32]) {
  size_t bytes = opml_tensor_bytes(t);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  /* hash a little-endian copy, 1 KiB at a time (a multiple of every element size) */
  size_t es = opml_dtype_size(t->dtype);
  uint32_t chunk[256];
  opml_merkle_ctx c;
  opml_merkle_init(&c);
  for (size_t o = 0; o < bytes; o += sizeof chunk) {
    size_t n = bytes - o < sizeof chunk ? bytes - o : sizeof chunk;
    memcpy(chunk, (const uint8_t *)t->data + o, n);
    opml_le_to_host(chunk, n / es, es); /* host to little-endian: the same swap */
    opml_merkle_update(&c, (const uint8_t *)chunk, n);
  }
  uint8_t root[32];
  opml_merkle_final(&c, root);
  opml_merkle_data_key_of(root, bytes, out);
#else
  opml_merkle_data_key(t->data, bytes, out);
#endif
}

/* An activation input of node nd whose bytes equal out's (a Reshape, Squeeze, Identity, ...): its
 * table entry is out's data key too (the key is a function of the little-endian bytes, and equal
 * host bytes of the same element size are equal little-endian bytes). -1 if none. */
static int32_t same_bytes_input(const opml_table *t, const opml_program *p, const opml_pnode *nd,
                                const opml_tensor *out) {
  size_t bytes = opml_tensor_bytes(out), es = opml_dtype_size(out->dtype);
  static const uint8_t zero[32];
  for (uint32_t j = 0; j < nd->n_in; j++) {
    int32_t id = nd->in_ids[j];
    if (id < 0) continue;
    const opml_ptensor *in = &p->tensors[id];
    if (in->kind != OPML_KIND_ACTIVATION || !in->t.data) continue;
    if (opml_dtype_size(in->t.dtype) != es || opml_tensor_bytes(&in->t) != bytes) continue;
    if (!memcmp(t->node[t->cap + (uint32_t)id], zero, 32)) continue; /* no entry yet */
    /* the same buffer: a Copy that took its input's (opml_io.alias_copies) */
    if (in->t.data == out->data || !memcmp(in->t.data, out->data, bytes)) return id;
  }
  return -1;
}

/* The data key of node nd's output k. */
static void output_key(const opml_table *t, const opml_program *p, const opml_pnode *nd, uint32_t k, uint8_t key[32]) {
  const opml_tensor *out = &p->tensors[nd->out_ids[k]].t;
  int32_t same = same_bytes_input(t, p, nd, out);
  if (same >= 0) memcpy(key, t->node[t->cap + (uint32_t)same], 32);
  else opml_tensor_key(out, key);
}

void opml_table_add_node(opml_table *t, const opml_program *p, uint32_t i) {
  const opml_pnode *nd = &p->nodes[i];
  uint8_t key[32];
  for (uint32_t k = 0; k < nd->n_out; k++) {
    output_key(t, p, nd, k, key);
    opml_table_set(t, nd->out_ids[k], key);
  }
}

int opml_table_defer_node(opml_table *t, const opml_program *p, uint32_t i) {
  const opml_pnode *nd = &p->nodes[i];
  for (uint32_t k = 0; k < nd->n_out; k++) {
    if (t->n_log == t->cap_log) {
      const uint32_t cap = t->cap_log ? 2 * t->cap_log : 256;
      opml_table_change *log = realloc(t->log, (size_t)cap * sizeof *log);
      if (!log) return OPML_ENOMEM;
      t->log = log, t->cap_log = cap;
    }
    opml_table_change *c = &t->log[t->n_log++];
    c->entry = (uint32_t)nd->out_ids[k], c->node = i;
    memcpy(c->prev, t->node[t->cap + c->entry], 32);
    output_key(t, p, nd, k, t->node[t->cap + c->entry]);
  }
  return 0;
}

int opml_table_defer_states(opml_table *t, const uint8_t program_key[32], uint32_t count, uint8_t *states) {
  const uint32_t m = t->n_log, cap = t->cap;
  uint8_t(*cur)[32] = malloc((size_t)(m ? m : 1) * 96), (*pairs)[64] = (uint8_t(*)[64])(cur + (m ? m : 1));
  if (!cur) return OPML_ENOMEM;
  /* the entries' keys; then the leaves as before the deferred nodes, newest first */
  for (uint32_t u = 0; u < m; u++) memcpy(cur[u], t->node[cap + t->log[u].entry], 32);
  for (uint32_t u = m; u-- > 0;) memcpy(t->node[cap + t->log[u].entry], t->log[u].prev, 32);
  uint8_t root0[32];
  memcpy(root0, t->node[1], 32); /* (untouched since: the root before the deferred nodes) */
  /* height h: each entry's node of height h - 1 takes its value after that entry (cur), in
   * order, so its sibling holds the value it had then; the pairs hash to the parents' values */
  for (uint32_t w = cap; w > 1; w >>= 1) {
    const uint32_t shift = (uint32_t)__builtin_ctz(cap) - (uint32_t)__builtin_ctz(w);
    for (uint32_t u = 0; u < m; u++) {
      const uint32_t c = (cap + t->log[u].entry) >> shift;
      memcpy(t->node[c], cur[u], 32);
      memcpy(pairs[u], t->node[c & ~1u], 32);
      memcpy(pairs[u] + 32, t->node[c | 1u], 32);
    }
    opml_keccak_pairs(pairs[0], cur[0], m);
  }
  if (m) memcpy(t->node[1], cur[m - 1], 32); /* cur: the roots after each entry */
  uint8_t key[32];
  for (uint32_t i = 0, u = 0; i < count; i++) {
    while (u < m && t->log[u].node <= i) u++;
    opml_merkle_data_key_of(u ? cur[u - 1] : root0, (uint64_t)t->n * 32, key);
    opml_state(program_key, i + 1, key, states + 32 * (size_t)(i + 1));
  }
  free(cur);
  t->n_log = 0;
  return 0;
}

void opml_output_key(const opml_table *t, const opml_program *p, uint8_t out[32]) {
  opml_merkle_ctx c;
  uint8_t root[32];
  opml_merkle_init(&c);
  for (uint32_t i = 0; i < p->n_outputs; i++) opml_merkle_update(&c, opml_table_entry(t, p->outputs[i]), 32);
  opml_merkle_final(&c, root);
  opml_merkle_data_key_of(root, (uint64_t)p->n_outputs * 32, out);
}

void opml_state_preimage(const uint8_t program_key[32], uint32_t index, const uint8_t key[32],
                         uint8_t out[OPML_STATE_PREIMAGE_SIZE]) {
  memcpy(out, program_key, 32);
  out[32] = (uint8_t)(index >> 24);
  out[33] = (uint8_t)(index >> 16);
  out[34] = (uint8_t)(index >> 8);
  out[35] = (uint8_t)index;
  memcpy(out + 36, key, 32);
}

void opml_state(const uint8_t program_key[32], uint32_t index, const uint8_t key[32], uint8_t out[32]) {
  uint8_t pre[OPML_STATE_PREIMAGE_SIZE];
  opml_state_preimage(program_key, index, key, pre);
  opml_keccak_key(pre, sizeof pre, out);
}

void opml_table_state(const opml_table *t, const uint8_t program_key[32], uint32_t k, uint8_t out[32]) {
  uint8_t key[32];
  opml_table_key(t, key);
  opml_state(program_key, k, key, out);
}
