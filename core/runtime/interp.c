/* The program interpreter (docs/IR.md). */
#include "interp.h"
#include "../kernels/ops.h"
#include "../kernels/simd.h"

#ifdef __mips__
#include "libc.h"
#else
#include <stdlib.h>
#include <string.h>
#endif

#define NONE 0xffffffffu

void opml_err_append(char *err, size_t errlen, const char *s, size_t n) {
  size_t k = strlen(err);
  while (n-- && *s && k + 1 < errlen) err[k++] = *s++;
  err[k] = 0;
}

static void err_str(char *err, size_t errlen, const char *s) { opml_err_append(err, errlen, s, (size_t)-1); }

static void err_u32(char *err, size_t errlen, uint32_t v) {
  char b[12];
  int i = 11;
  b[i] = 0;
  do {
    b[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  err_str(err, errlen, b + i);
}

size_t opml_tensor_bytes(const opml_tensor *t) { return (size_t)t->size * opml_dtype_size(t->dtype); }

void opml_le_to_host(void *data, size_t n, size_t elem) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  uint8_t *p = data;
  if (elem == 2) {
    for (size_t i = 0; i < n; i++, p += 2) {
      uint8_t t = p[0];
      p[0] = p[1];
      p[1] = t;
    }
  } else if (elem == 4) {
    uint32_t *w = data;
    for (size_t i = 0; i < n; i++) {
      uint32_t v = w[i];
      w[i] = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    }
  } else if (elem == 8) {
    for (size_t i = 0; i < n; i++, p += 8) {
      for (int k = 0; k < 4; k++) {
        uint8_t t = p[k];
        p[k] = p[7 - k];
        p[7 - k] = t;
      }
    }
  }
#else
  (void)data, (void)n, (void)elem;
#endif
}

/* --- decoding ---------------------------------------------------------------------------- */

typedef struct reader {
  const uint8_t *p;
  size_t n, o;
  int bad;
} reader;

static int need(reader *r, size_t k) {
  if (r->bad || r->o + k > r->n) {
    r->bad = 1;
    return 0;
  }
  return 1;
}
static uint32_t rd_u8(reader *r) { return need(r, 1) ? r->p[r->o++] : 0; }
static uint32_t rd_u16(reader *r) {
  if (!need(r, 2)) return 0;
  uint32_t v = (uint32_t)r->p[r->o] | ((uint32_t)r->p[r->o + 1] << 8);
  r->o += 2;
  return v;
}
static uint32_t rd_u32(reader *r) {
  if (!need(r, 4)) return 0;
  const uint8_t *b = r->p + r->o;
  r->o += 4;
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static uint64_t rd_u64(reader *r) {
  uint64_t lo = rd_u32(r);
  return lo | ((uint64_t)rd_u32(r) << 32);
}
static const char *rd_str(reader *r, uint32_t *len) {
  *len = rd_u32(r);
  if (!need(r, *len)) return "";
  const char *s = (const char *)r->p + r->o;
  r->o = (r->o + *len + 3) & ~(size_t)3;
  if (r->o > r->n) r->bad = 1;
  return s;
}

static void *zalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p) memset(p, 0, n ? n : 1);
  return p;
}

int opml_program_parse(const uint8_t *buf, size_t n, opml_program *p, char *err, size_t errlen) {
  reader r = {buf, n, 0, 0};
  memset(p, 0, sizeof *p);
  err[0] = 0;
  if (rd_u32(&r) != 0x5249504fu) {
    err_str(err, errlen, "not an opml program (bad magic)");
    return 1;
  }
  if (rd_u32(&r) != 1) {
    err_str(err, errlen, "unsupported program version");
    return 1;
  }
  p->n_tensors = rd_u32(&r);
  p->n_nodes = rd_u32(&r);
  p->n_inputs = rd_u32(&r);
  p->n_outputs = rd_u32(&r);
  if (r.bad || p->n_tensors > n || p->n_nodes > n || p->n_inputs > n || p->n_outputs > n) {
    err_str(err, errlen, "program truncated");
    return 1;
  }
  p->tensors = zalloc(sizeof(opml_ptensor) * p->n_tensors);
  p->nodes = zalloc(sizeof(opml_pnode) * p->n_nodes);
  p->inputs = zalloc(4 * p->n_inputs);
  p->outputs = zalloc(4 * p->n_outputs);
  if (!p->tensors || !p->nodes || !p->inputs || !p->outputs) {
    err_str(err, errlen, "out of memory");
    return 1;
  }
  for (uint32_t i = 0; i < p->n_tensors && !r.bad; i++) {
    opml_ptensor *t = &p->tensors[i];
    t->t.dtype = (uint8_t)rd_u8(&r);
    t->t.rank = (uint8_t)rd_u8(&r);
    t->kind = (uint8_t)rd_u8(&r);
    rd_u8(&r);
    if (t->t.rank > OPML_MAX_RANK || t->kind > 2 || !opml_dtype_size(t->t.dtype)) {
      err_str(err, errlen, "tensor ");
      err_u32(err, errlen, i);
      err_str(err, errlen, ": bad rank, kind or dtype");
      return 1;
    }
    uint64_t size = 1;
    for (uint32_t d = 0; d < t->t.rank; d++) {
      t->t.dims[d] = rd_u32(&r);
      size *= t->t.dims[d];
      if (size > 0xffffffffu) size = 0xffffffffu;
    }
    t->t.size = (uint32_t)size;
    t->name = rd_str(&r, &t->name_len);
    t->last_use = NONE;
    if (t->kind == OPML_KIND_CONSTANT) {
      if (need(&r, 32)) t->key = r.p + r.o;
      r.o += 32;
      t->slot = p->n_constants++;
    }
  }
  for (uint32_t i = 0; i < p->n_nodes && !r.bad; i++) {
    opml_pnode *nd = &p->nodes[i];
    nd->op = (uint16_t)rd_u16(&r);
    nd->n_in = (uint8_t)rd_u8(&r);
    nd->n_out = (uint8_t)rd_u8(&r);
    nd->n_ints = rd_u32(&r);
    nd->n_floats = rd_u32(&r);
    if (r.bad || nd->n_ints > n || nd->n_floats > n) break;
    int32_t *in = zalloc(4 * (size_t)nd->n_in);
    uint32_t *out = zalloc(4 * (size_t)nd->n_out);
    int64_t *ints = zalloc(8 * (size_t)nd->n_ints);
    float *floats = zalloc(4 * (size_t)nd->n_floats);
    if (!in || !out || !ints || !floats) {
      err_str(err, errlen, "out of memory");
      return 1;
    }
    for (uint32_t k = 0; k < nd->n_in; k++) in[k] = (int32_t)rd_u32(&r);
    for (uint32_t k = 0; k < nd->n_out; k++) out[k] = rd_u32(&r);
    for (uint32_t k = 0; k < nd->n_ints; k++) ints[k] = (int64_t)rd_u64(&r);
    for (uint32_t k = 0; k < nd->n_floats; k++) floats[k] = opml_bits_f32(rd_u32(&r));
    nd->in_ids = in, nd->out_ids = out, nd->ints = ints, nd->floats = floats;
    nd->name = rd_str(&r, &nd->name_len);
    nd->op_type = rd_str(&r, &nd->op_type_len);
    for (uint32_t k = 0; k < nd->n_in; k++) {
      if (in[k] >= 0 && (uint32_t)in[k] >= p->n_tensors) r.bad = 1;
      else if (in[k] >= 0) p->tensors[in[k]].last_use = i;
    }
    for (uint32_t k = 0; k < nd->n_out; k++) {
      if (out[k] >= p->n_tensors || p->tensors[out[k]].kind != OPML_KIND_ACTIVATION) r.bad = 1;
    }
    const char *kname = 0;
    nd->fn = opml_kernel_find(nd->op, &kname);
    if (!nd->fn) {
      err_str(err, errlen, "node '");
      opml_err_append(err, errlen, nd->name, nd->name_len);
      err_str(err, errlen, "': op code ");
      err_u32(err, errlen, nd->op);
      err_str(err, errlen, " is not in this runtime (rebuild the runtime)");
      return 1;
    }
  }
  for (uint32_t i = 0; i < p->n_inputs; i++) {
    p->inputs[i] = rd_u32(&r);
    if (p->inputs[i] >= p->n_tensors) r.bad = 1;
    else p->tensors[p->inputs[i]].slot = i;
  }
  for (uint32_t i = 0; i < p->n_outputs; i++) {
    p->outputs[i] = rd_u32(&r);
    if (p->outputs[i] >= p->n_tensors) r.bad = 1;
  }
  if (r.bad || r.o != n) {
    err_str(err, errlen, "malformed program (truncated, trailing bytes or an index out of range)");
    return 1;
  }
  for (uint32_t i = 0; i < p->n_outputs; i++) p->tensors[p->outputs[i]].last_use = NONE - 1;
  return 0;
}

/* --- running ----------------------------------------------------------------------------- */

/* Gives a tensor about to be read its data: mapped or loaded (constants, inputs, and activations
 * produced before a partial run began). */
static int materialise(opml_ptensor *t, const opml_io *io) {
  if (t->t.data) return 0;
  size_t bytes = opml_tensor_bytes(&t->t);
  if (t->kind != OPML_KIND_ACTIVATION && io->map) {
    const void *d = io->map(io->ctx, t, bytes);
    if (d) {
      t->t.data = (void *)d;
      t->owned = 0;
      return 0;
    }
  }
  t->t.data = malloc(bytes ? bytes : 1); /* not zeroed: load fills every byte or fails */
  if (!t->t.data) return OPML_ENOMEM;
  t->owned = 1;
  int r = io->load(io->ctx, t, t->t.data, bytes);
  if (r == OPML_LOADED_HOST_ORDER) return 0;
  if (r) return OPML_EVALUE;
  opml_le_to_host(t->t.data, t->t.size, opml_dtype_size(t->t.dtype));
  return 0;
}

/* A node's output: fresh zeroed memory. */
/* 1 iff the kernel of op writes every element of its outputs whenever it succeeds (the float
 * products and convolutions, the elementwise loops over the whole output), so its outputs need
 * not be zeroed first: a pass over memory saved per node. Every other kernel gets zeroed outputs. */
static int writes_every_output(uint16_t op) {
  switch (op) {
  case OP_CONV: case OP_MATMUL: case OP_GEMM: case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_RELU:
  case OP_CLIP:
    return 1;
#if defined(OPML_X86)
  case OP_SIGMOID: case OP_BATCH_NORMALIZATION: case OP_CONCAT: /* (natively only: the VM's steps stay) */
    return 1;
#endif
  default:
    return 0;
  }
}

static int alloc_output(opml_ptensor *t, int zero) {
  const size_t n = opml_tensor_bytes(&t->t);
  t->t.data = zero ? zalloc(n) : malloc(n ? n : 1);
  if (!t->t.data) return OPML_ENOMEM;
  t->owned = 1;
  return 0;
}

static void release(opml_ptensor *t) {
  if (t->owned && t->t.data) free(t->t.data);
  t->t.data = 0;
  t->owned = 0;
}

/* opml_io.alias_copies: node i, a Copy, gives its output out the buffer of its input when that
 * input is an activation of the same size that no later node reads (the kernel then copies
 * nothing); so does a Relu/Clip/HardSwish fused into the Conv before it (opml_io.fuse: the
 * buffer holds its result already). The input keeps the pointer, no longer owning it, until it is released after the
 * node, so after_node sees both with the same bytes. 1 iff taken. */
static int take_dying_input(opml_program *p, const opml_pnode *nd, uint32_t i, opml_ptensor *out) {
  if (nd->n_in < 1 || nd->in_ids[0] < 0) return 0;
  opml_ptensor *in = &p->tensors[nd->in_ids[0]];
  if (in->kind != OPML_KIND_ACTIVATION || !in->owned || !in->t.data || in->last_use != i) return 0;
  if (in->t.dtype != out->t.dtype || opml_tensor_bytes(&in->t) != opml_tensor_bytes(&out->t)) return 0;
  out->t.data = in->t.data;
  out->owned = 1;
  in->owned = 0;
  return 1;
}

/* x86 and the soft-float produce different NaN bits: every float output gets the canonical one.
 * Natively the vector paths only read until they meet a NaN (most tensors have none) and rewrite
 * the NaN lanes alone: the same bytes as the plain loop. */
#if defined(OPML_X86)
__attribute__((target("avx512f"))) static void canonical_f32_avx512(uint32_t *w, uint32_t n) {
  const __m512i abs = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i qnan = _mm512_set1_epi32(0x7fc00000);
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __mmask16 m = _mm512_cmpgt_epi32_mask(_mm512_and_si512(_mm512_loadu_si512(w + i), abs), inf);
    if (m) _mm512_mask_storeu_epi32(w + i, m, qnan);
  }
  if (i < n) { /* masked lanes past the end are neither read nor written */
    const __mmask16 t = (__mmask16)((1u << (n - i)) - 1);
    const __m512i v = _mm512_maskz_loadu_epi32(t, w + i);
    const __mmask16 m = _mm512_mask_cmpgt_epi32_mask(t, _mm512_and_si512(v, abs), inf);
    if (m) _mm512_mask_storeu_epi32(w + i, m, qnan);
  }
}

__attribute__((target("avx2"))) static uint32_t canonical_f32_avx2(uint32_t *w, uint32_t n) {
  const __m256i abs = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i qnan = _mm256_set1_epi32(0x7fc00000);
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(w + i));
    const __m256i m = _mm256_cmpgt_epi32(_mm256_and_si256(v, abs), inf);
    if (!_mm256_testz_si256(m, m)) _mm256_storeu_si256((__m256i *)(w + i), _mm256_blendv_epi8(v, qnan, m));
  }
  return i;
}
#endif

static void canonical_nans(opml_tensor *t) {
  const uint32_t n = t->size;
  if (t->dtype == DT_FLOAT) {
    uint32_t *w = t->data, i = 0;
#if defined(OPML_X86)
    if (opml_use_avx512()) {
      canonical_f32_avx512(w, n);
      return;
    }
    if (opml_use_avx2()) i = canonical_f32_avx2(w, n);
#endif
    for (; i < n; i++) {
      uint32_t v = w[i];
      w[i] = (v & 0x7fffffffu) > 0x7f800000u ? 0x7fc00000u : v; /* branch-free: vectorises */
    }
  } else if (t->dtype == DT_DOUBLE) {
    uint64_t *w = t->data;
    for (uint32_t i = 0; i < n; i++) {
      uint64_t v = w[i];
      w[i] = (v & 0x7fffffffffffffffull) > 0x7ff0000000000000ull ? 0x7ff8000000000000ull : v;
    }
  }
}

/* 1 iff node nd only moves elements of its inputs (no arithmetic: Identity/Reshape copies,
 * Transpose, Concat, Gather, Slice, Split, Expand) and its float inputs are all activations,
 * whose NaNs the pass below already made canonical: its outputs need no pass. */
static int moves_canonical(const opml_program *p, const opml_pnode *nd) {
  switch (nd->op) {
  case OP_COPY: case OP_TRANSPOSE: case OP_CONCAT: case OP_GATHER: case OP_SLICE: case OP_SPLIT: case OP_EXPAND:
    break;
  default:
    return 0;
  }
  for (uint32_t k = 0; k < nd->n_in; k++) {
    if (nd->in_ids[k] < 0) continue;
    const opml_ptensor *t = &p->tensors[nd->in_ids[k]];
    if ((t->t.dtype == DT_FLOAT || t->t.dtype == DT_DOUBLE) && t->kind != OPML_KIND_ACTIVATION) return 0;
  }
  return 1;
}

#if defined(OPML_X86)
/* 1 iff f is a NaN other than the canonical one. */
static int odd_nan(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof b);
  return (b & 0x7fffffffu) > 0x7f800000u && b != 0x7fc00000u;
}

/* Natively (a pass re-reads the whole output: 7% of mobilenet_v2's time), also 1 iff every NaN
 * node nd can output is one of its data input's, which is an activation (already canonical), so
 * the pass would change nothing: Relu (x or +0), MaxPool (a tap or +0), Clip (x or a bound, when
 * neither bound is a NaN other than the canonical one), Sigmoid (x itself when NaN, and no NaN
 * from a number: opml_sigmoidf). (The VM keeps the pass: its steps stay as they are.) */
static int selects_canonical(const opml_program *p, const opml_pnode *nd) {
  if (nd->op != OP_RELU && nd->op != OP_MAX_POOL && nd->op != OP_CLIP && nd->op != OP_SIGMOID) return 0;
  if (nd->n_in < 1 || nd->in_ids[0] < 0 || p->tensors[nd->in_ids[0]].kind != OPML_KIND_ACTIVATION) return 0;
  if (nd->op != OP_CLIP || p->tensors[nd->in_ids[0]].t.dtype != DT_FLOAT) return nd->op != OP_CLIP;
  for (uint32_t k = 1; k < 3; k++) { /* the bounds: input k's first element, else floats[k - 1] */
    const opml_tensor *b = k < nd->n_in && nd->in_ids[k] >= 0 ? &p->tensors[nd->in_ids[k]].t : 0;
    if (b && (b->dtype != DT_FLOAT || b->size < 1 || !b->data)) return 0;
    if (b ? odd_nan(((const float *)b->data)[0]) : nd->n_floats < k || odd_nan(nd->floats[k - 1])) return 0;
  }
  return 1;
}
#endif

#if defined(OPML_X86)
/* opml_io.fuse: 1 iff node i is a Conv whose float output only node i + 1 reads: a Relu or a
 * Clip of it (its data input) that selects_canonical, with its bounds at hand, or a HardSwish,
 * inside [i, end); e = what the Conv's stores then apply (opml_node.epi; a Relu: the Clip
 * [+0, +inf], the same selections as its `v < 0 ? 0 : v`). */
static int fusable_tail(opml_program *p, const opml_io *io, uint32_t i, uint32_t end, opml_epilogue *e) {
  const opml_pnode *nd = &p->nodes[i], *nx = &p->nodes[i + 1];
  if (nd->op != OP_CONV || nd->n_out != 1 || i + 1 >= end) return 0;
  if ((nx->op != OP_RELU && nx->op != OP_CLIP && nx->op != OP_HARD_SWISH) || nx->n_out != 1 || nx->n_in < 1 ||
      nx->in_ids[0] != nd->out_ids[0]) {
    return 0;
  }
  const opml_ptensor *y = &p->tensors[nd->out_ids[0]], *z = &p->tensors[nx->out_ids[0]];
  if (y->t.dtype != DT_FLOAT || y->last_use != i + 1 || z->t.dtype != DT_FLOAT || z->t.size != y->t.size) return 0;
  e->hardswish = nx->op == OP_HARD_SWISH;
  if (e->hardswish) return nx->n_in == 1 && nx->n_floats == 0; /* (else k_float_unary reports it) */
  if (nx->op == OP_RELU) {
    e->lo = 0.0f, e->hi = __builtin_inff();
    return nx->n_in == 1 && selects_canonical(p, nx);
  }
  if (nx->n_floats != 2) return 0; /* (k_clip reports it) */
  for (uint32_t k = 1; k < 3; k++) { /* k_clip's CLIP_BOUND: input k's first element, else floats[k - 1] */
    const int32_t id = k < nx->n_in ? nx->in_ids[k] : -1;
    if (id == nd->out_ids[0]) return 0;
    if (id >= 0 && materialise(&p->tensors[id], io)) return 0;
    const opml_tensor *b = id >= 0 ? &p->tensors[id].t : 0;
    if (b && (b->dtype != DT_FLOAT || b->size < 1)) return 0;
    const float v = b ? ((const float *)b->data)[0] : nx->floats[k - 1];
    if (k == 1) e->lo = v;
    else e->hi = v;
  }
  return selects_canonical(p, nx);
}
#endif

#if defined(OPML_X86)
/* --- elementwise chains (opml_io.fuse) ------------------------------------------------------
 * Consecutive float elementwise nodes over the same n elements, each reading an output of the
 * ones before it, run chunk by chunk: every node on elements [s, s + CHAIN_CHUNK) before the
 * next chunk, the outputs that only the chain reads in per-chunk scratch (never whole tensors),
 * the chunks split across the pool. Every element sees the operations it sees node by node (the
 * kernels and the NaN pass are elementwise), so the same bits; the data passes through the cache
 * once instead of once per node through memory (SiLU's Sigmoid and Mul, Gelu's Div, Erf, Add,
 * Mul, Mul, a residual Add and its Relu). */
#define CHAIN_CHUNK 4096u
#define CHAIN_MAX 8
#define CHAIN_MIN 8192u /* elements: smaller tensors stay in the cache node by node */

static int elementwise_op(uint16_t op) {
  switch (op) {
  case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_POW: case OP_RELU: case OP_LEAKY_RELU: case OP_CLIP:
  case OP_SIGMOID: case OP_TANH: case OP_EXP: case OP_ERF: case OP_SQRT: case OP_GELU: case OP_NEG: case OP_ABS:
  case OP_RECIPROCAL: case OP_FLOOR: case OP_CEIL: case OP_ROUND: case OP_SIGN: case OP_LOG: case OP_SIN: case OP_COS:
  case OP_TAN: case OP_SINH: case OP_COSH: case OP_ASIN: case OP_ACOS: case OP_ATAN: case OP_ASINH: case OP_ACOSH:
  case OP_ATANH: case OP_SOFTPLUS: case OP_SOFTSIGN: case OP_HARD_SIGMOID: case OP_HARD_SWISH: case OP_ELU:
  case OP_SELU: case OP_CELU: case OP_MISH: case OP_THRESHOLDED_RELU:
    return 1;
  default:
    return 0;
  }
}

/* 1 iff node nd may join a chain over n elements: an elementwise op whose one output and every
 * input are float, the output of n elements, each input of n or 1. */
static int chain_node(const opml_program *p, const opml_pnode *nd, uint32_t n) {
  if (!elementwise_op(nd->op) || nd->n_out != 1 || nd->n_in > 4) return 0;
  const opml_tensor *o = &p->tensors[nd->out_ids[0]].t;
  if (o->dtype != DT_FLOAT || o->size != n) return 0;
  for (uint32_t k = 0; k < nd->n_in; k++) {
    if (nd->in_ids[k] < 0) continue;
    const opml_tensor *t = &p->tensors[nd->in_ids[k]].t;
    if (t->dtype != DT_FLOAT || (t->size != n && t->size != 1)) return 0;
  }
  return 1;
}

/* The position in the chain from node first (of len nodes) of the node that outputs tensor id,
 * or -1. */
static int chain_source(const opml_program *p, uint32_t first, uint32_t len, int32_t id) {
  for (uint32_t q = 0; q < len; q++) {
    if (p->nodes[first + q].out_ids[0] == id) return (int)q;
  }
  return -1;
}

/* The length of the chain from node i, or 0. */
static uint32_t chain_len(const opml_program *p, uint32_t i, uint32_t end) {
  const opml_pnode *nd = &p->nodes[i];
  if (nd->n_out != 1) return 0;
  const uint32_t n = p->tensors[nd->out_ids[0]].t.size;
  if (n < CHAIN_MIN || !chain_node(p, nd, n)) return 0;
  uint32_t len = 1;
  for (; len < CHAIN_MAX && i + len < end && chain_node(p, &p->nodes[i + len], n); len++) {
    const opml_pnode *nx = &p->nodes[i + len];
    int linked = 0;
    for (uint32_t k = 0; k < nx->n_in; k++) linked |= nx->in_ids[k] >= 0 && chain_source(p, i, len, nx->in_ids[k]) >= 0;
    if (!linked) break;
  }
  /* one node alone gains nothing on one thread; on several its chunks share the work (the
   * elementwise kernels do not split themselves) */
  return len >= 2 || opml_threads() > 1 ? len : 0;
}

typedef struct chain_job {
  opml_program *p;
  uint32_t first, len, n;
  int canon[CHAIN_MAX]; /* node k's output takes the NaN pass */
  int err;              /* a kernel's error code, at node err_node */
  uint32_t err_node;
} chain_job;

static opml_tensor chain_view(float *data, uint32_t n) {
  opml_tensor t = {DT_FLOAT, 1, {n}, n, data};
  return t;
}

/* Chunk `item` through every node of the chain. */
static void chain_item(void *ctx, size_t item) {
  chain_job *c = ctx;
  const opml_program *p = c->p;
  const uint32_t s = (uint32_t)item * CHAIN_CHUNK, m = c->n - s < CHAIN_CHUNK ? c->n - s : CHAIN_CHUNK;
  float scratch[CHAIN_MAX][CHAIN_CHUNK];
  float *out[CHAIN_MAX];
  for (uint32_t k = 0; k < c->len && !c->err; k++) {
    const opml_pnode *nd = &p->nodes[c->first + k];
    opml_tensor iv[4], ov;
    const opml_tensor *ins[4];
    for (uint32_t j = 0; j < nd->n_in; j++) {
      ins[j] = 0;
      if (nd->in_ids[j] < 0) continue;
      const opml_tensor *t = &p->tensors[nd->in_ids[j]].t;
      const int q = chain_source(p, c->first, k, nd->in_ids[j]);
      iv[j] = q >= 0 ? chain_view(out[q], m) : t->size == 1 ? chain_view(t->data, 1) : chain_view((float *)t->data + s, m);
      ins[j] = &iv[j];
    }
    const opml_tensor *o = &p->tensors[nd->out_ids[0]].t;
    out[k] = o->data ? (float *)o->data + s : scratch[k];
    ov = chain_view(out[k], m);
    opml_tensor *outs[1] = {&ov};
    opml_node node = {nd->op, nd->n_in, 1, ins, outs, nd->ints, nd->n_ints, nd->floats, nd->n_floats, 0};
    const int e = nd->fn(&node);
    if (e) {
      c->err = e, c->err_node = c->first + k;
      return;
    }
    if (c->canon[k]) canonical_nans(&ov);
  }
}
#endif

static const char *const ERRORS[] = {"ok", "unsupported dtype", "malformed attributes",
                                     "invalid value (e.g. an index out of range)", "out of memory"};

static int node_error(const opml_pnode *nd, const char *what, char *err, size_t errlen) {
  err_str(err, errlen, "node '");
  opml_err_append(err, errlen, nd->name, nd->name_len);
  err_str(err, errlen, "' (");
  opml_err_append(err, errlen, nd->op_type, nd->op_type_len);
  err_str(err, errlen, "): ");
  err_str(err, errlen, what);
  return 1;
}

#if defined(OPML_X86)
/* Runs the chain of len nodes from node first (chain_len); nonzero with err set on failure. */
static int run_chain(opml_program *p, const opml_io *io, uint32_t first, uint32_t len, char *err, size_t errlen) {
  chain_job c = {p, first, len, p->tensors[p->nodes[first].out_ids[0]].t.size, {0}, 0, 0};
  for (uint32_t k = 0; k < len; k++) {
    const opml_pnode *nd = &p->nodes[first + k];
    for (uint32_t j = 0; j < nd->n_in; j++) {
      if (nd->in_ids[j] < 0 || chain_source(p, first, k, nd->in_ids[j]) >= 0) continue;
      const int e = materialise(&p->tensors[nd->in_ids[j]], io);
      if (e) return node_error(nd, e == OPML_ENOMEM ? "out of memory" : "cannot load an input tensor", err, errlen);
    }
    /* an output read after the chain (or a graph output) is written whole; the others live in
     * the chunks' scratch */
    opml_ptensor *t = &p->tensors[nd->out_ids[0]];
    release(t);
    const uint32_t last = t->last_use;
    if (last != NONE && last >= first + len && alloc_output(t, 0)) return node_error(nd, "out of memory", err, errlen);
    c.canon[k] = !moves_canonical(p, nd) && !selects_canonical(p, nd);
  }
  opml_parallel((c.n + CHAIN_CHUNK - 1) / CHAIN_CHUNK, (size_t)c.n * len * 16, chain_item, &c);
  if (c.err) return node_error(&p->nodes[c.err_node], ERRORS[c.err < 5 ? c.err : 2], err, errlen);
  for (uint32_t k = 0; k < len; k++) {
    const uint32_t i = first + k;
    const opml_pnode *nd = &p->nodes[i];
    if (io->after_node && io->after_node(io->ctx, p, i)) return node_error(nd, "stopped after this node", err, errlen);
    for (uint32_t j = 0; j < nd->n_in; j++) {
      if (nd->in_ids[j] >= 0 && p->tensors[nd->in_ids[j]].last_use == i) release(&p->tensors[nd->in_ids[j]]);
    }
    if (p->tensors[nd->out_ids[0]].last_use == NONE) release(&p->tensors[nd->out_ids[0]]);
  }
  return 0;
}
#endif

int opml_program_run_nodes(opml_program *p, const opml_io *io, uint32_t first, uint32_t end, char *err,
                           size_t errlen) {
  const opml_tensor *ins[256];
  opml_tensor *outs[256];
  err[0] = 0;
  if (end > p->n_nodes) end = p->n_nodes;
  opml_epilogue tail;
  int fused = 0; /* node i is the Relu/Clip/HardSwish fused into node i - 1 (fusable_tail) */
  for (uint32_t i = first; i < end; i++) {
    opml_pnode *nd = &p->nodes[i];
    int fuse = 0, took = 0;
#if defined(OPML_X86)
    fuse = !fused && io->fuse && fusable_tail(p, io, i, end, &tail);
    const uint32_t chain = !fuse && !fused && io->fuse ? chain_len(p, i, end) : 0;
    if (chain) {
      if (run_chain(p, io, i, chain, err, errlen)) return 1;
      i += chain - 1;
      continue;
    }
#endif
    for (uint32_t k = 0; k < nd->n_in; k++) {
      if (nd->in_ids[k] < 0) {
        ins[k] = 0;
        continue;
      }
      opml_ptensor *t = &p->tensors[nd->in_ids[k]];
      int e = materialise(t, io);
      if (e) return node_error(nd, e == OPML_ENOMEM ? "out of memory" : "cannot load an input tensor", err, errlen);
      ins[k] = &t->t;
    }
    for (uint32_t k = 0; k < nd->n_out; k++) {
      opml_ptensor *t = &p->tensors[nd->out_ids[k]];
      release(t); /* a tensor written twice (never in compiled programs) starts clean */
      const int take = fused || (io->alias_copies && nd->op == OP_COPY && nd->n_in == 1);
      took = take && take_dying_input(p, nd, i, t);
      if (!took && alloc_output(t, !writes_every_output(nd->op))) return node_error(nd, "out of memory", err, errlen);
      outs[k] = &t->t;
    }
    if (!(fused && took)) { /* (a fused node's output holds its result already) */
      opml_node node = {nd->op, nd->n_in, nd->n_out, ins, outs, nd->ints, nd->n_ints, nd->floats, nd->n_floats,
                        fuse ? &tail : 0};
      int e = nd->fn(&node);
      if (e) return node_error(nd, ERRORS[e < 5 ? e : 2], err, errlen);
    }
#if defined(OPML_X86)
    if (!fuse && !fused && !moves_canonical(p, nd) && !selects_canonical(p, nd)) {
#else
    if (!moves_canonical(p, nd)) {
#endif
      for (uint32_t k = 0; k < nd->n_out; k++) canonical_nans(outs[k]);
    }
    fused = fuse;
    if (io->after_node && io->after_node(io->ctx, p, i)) return node_error(nd, "stopped after this node", err, errlen);
    /* free what no later node reads */
    for (uint32_t k = 0; k < nd->n_in; k++) {
      if (nd->in_ids[k] >= 0 && p->tensors[nd->in_ids[k]].last_use == i) release(&p->tensors[nd->in_ids[k]]);
    }
    for (uint32_t k = 0; k < nd->n_out; k++) {
      if (p->tensors[nd->out_ids[k]].last_use == NONE) release(&p->tensors[nd->out_ids[k]]);
    }
  }
  return 0;
}

int opml_program_run(opml_program *p, const opml_io *io, char *err, size_t errlen) {
  if (opml_program_run_nodes(p, io, 0, p->n_nodes, err, errlen)) return 1;
  for (uint32_t i = 0; i < p->n_outputs; i++) {
    int e = materialise(&p->tensors[p->outputs[i]], io);
    if (e) {
      err_str(err, errlen, "cannot load output ");
      err_u32(err, errlen, i);
      return 1;
    }
  }
  return 0;
}

void opml_program_reset(opml_program *p) {
  for (uint32_t i = 0; i < p->n_tensors; i++) release(&p->tensors[i]);
}

void *opml_alloc(size_t n) { return malloc(n ? n : 1); }
void opml_free(void *p) { free(p); }
