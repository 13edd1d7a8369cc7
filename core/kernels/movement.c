/*
 * The data-movement kernels (op codes 200-299, docs/IR.md): Copy (Identity, Reshape, Flatten,
 * Squeeze, Unsqueeze), strided copies (Transpose, Slice, Expand), Concat, Split, Gather, Pad,
 * ConstantOfShape and Shape. They move elements as bytes by element size, so every dtype works
 * and float bits pass through unchanged. The ints layout of each op is documented here and in
 * core/compiler/ops/movement.ts (the two must agree; so must the op codes).
 */
#include "kernel.h"
#include "ops.h"

#ifdef __mips__
#include "libc.h"
#else
#include <string.h>
#endif

/* Pad modes (ints[0] of Pad). */
enum { PAD_CONSTANT = 0, PAD_REFLECT = 1, PAD_EDGE = 2, PAD_WRAP = 3 };

/* Aliasing-safe views for single-element copies. */
typedef uint16_t __attribute__((may_alias)) u16a;
typedef uint32_t __attribute__((may_alias)) u32a;
typedef uint64_t __attribute__((may_alias)) u64a;

/* Copies n elements of es bytes spaced `stride` elements apart in src to contiguous dst. A call
 * of memcpy per element would dominate in the VM, so small elements are moved as words. */
static void copy_strided(uint8_t *dst, const uint8_t *src, uint32_t n, int64_t stride, size_t es) {
  if (stride == 1) {
    if (es == 4 && n <= 16 && !(((uintptr_t)dst | (uintptr_t)src) & 3)) {
      for (uint32_t i = 0; i < n; i++) ((u32a *)dst)[i] = ((const u32a *)src)[i]; /* short runs: no call */
    } else {
      memcpy(dst, src, (size_t)n * es);
    }
    return;
  }
  ptrdiff_t sb = (ptrdiff_t)(stride * (int64_t)es);
  int aligned = (((uintptr_t)dst | (uintptr_t)src | (uintptr_t)sb) & (es - 1)) == 0;
  if (aligned && es == 4) {
    for (uint32_t i = 0; i < n; i++, src += sb) ((u32a *)dst)[i] = *(const u32a *)src;
  } else if (aligned && es == 8) {
    for (uint32_t i = 0; i < n; i++, src += sb) ((u64a *)dst)[i] = *(const u64a *)src;
  } else if (aligned && es == 2) {
    for (uint32_t i = 0; i < n; i++, src += sb) ((u16a *)dst)[i] = *(const u16a *)src;
  } else if (es == 1) {
    for (uint32_t i = 0; i < n; i++, src += sb) dst[i] = *src;
  } else {
    for (uint32_t i = 0; i < n; i++, src += sb, dst += es) memcpy(dst, src, es);
  }
}

/* Fills n elements of es bytes at dst with the element at val. */
static void fill(uint8_t *dst, const uint8_t *val, uint32_t n, size_t es) {
  if (n == 0) return;
  memcpy(dst, val, es);
  /* doubling: each memcpy copies everything written so far */
  size_t done = es, total = (size_t)n * es;
  while (done < total) {
    size_t k = done < total - done ? done : total - done;
    memcpy(dst + done, dst, k);
    done += k;
  }
}

static size_t esize(const opml_tensor *t) { return opml_dtype_size(t->dtype); }

/* A malformed program must give an error, never an out-of-bounds access: the node has between
 * in_min and in_max inputs (the first in_min present) and between out_min and out_max outputs
 * (all present). */
static int arity_ok(const opml_node *node, unsigned in_min, unsigned in_max, unsigned out_min,
                    unsigned out_max) {
  if (node->n_in < in_min || node->n_in > in_max) return 0;
  if (node->n_out < out_min || node->n_out > out_max) return 0;
  for (unsigned i = 0; i < in_min; i++)
    if (!node->in[i]) return 0;
  for (unsigned i = 0; i < node->n_out; i++)
    if (!node->out[i]) return 0;
  return 1;
}

/* Product of dims[from..to). */
static uint32_t dim_prod(const opml_tensor *t, unsigned from, unsigned to) {
  uint32_t p = 1;
  for (unsigned k = from; k < to; k++) p *= t->dims[k];
  return p;
}

/* 200 Copy: out = in, byte for byte (the shapes differ only in how the same elements are
 * grouped). ints: none. */
static int k_copy(const opml_node *node) {
  if (!arity_ok(node, 1, 1, 1, 1)) return OPML_EATTR;
  const opml_tensor *x = node->in[0];
  opml_tensor *y = node->out[0];
  size_t es = esize(x);
  if (es == 0 || y->dtype != x->dtype) return OPML_EDTYPE;
  if (y->size != x->size) return OPML_EATTR;
  if (y->data != x->data) memcpy(y->data, x->data, (size_t)x->size * es);
  return OPML_OK;
}

/* 210 BitCast: the input's bytes under the output's dtype of the same element size. */
static int k_bitcast(const opml_node *node) {
  if (!arity_ok(node, 1, 1, 1, 1)) return OPML_EATTR;
  const opml_tensor *x = node->in[0];
  opml_tensor *y = node->out[0];
  size_t es = esize(x);
  if (es == 0 || esize(y) != es) return OPML_EDTYPE;
  if (y->size != x->size) return OPML_EATTR;
  if (y->data != x->data) memcpy(y->data, x->data, (size_t)x->size * es);
  return OPML_OK;
}

/* 201 Transpose, 204 Slice, 207 Expand: a strided view of the input, copied out.
 * ints: [offset, stride_0 .. stride_{r-1}] with r the output rank: output element (i_0..i_{r-1})
 * is input element offset + sum(i_k * stride_k) (flat index, in elements; strides may be 0 for
 * broadcast or negative for reversed slices). */
static int k_strided(const opml_node *node) {
  if (!arity_ok(node, 1, 1, 1, 1)) return OPML_EATTR;
  const opml_tensor *x = node->in[0];
  opml_tensor *y = node->out[0];
  size_t es = esize(x);
  if (es == 0 || y->dtype != x->dtype) return OPML_EDTYPE;
  unsigned r = y->rank;
  if (node->n_ints != 1u + r) return OPML_EATTR;
  if (y->size == 0) return OPML_OK;
  int64_t offset = node->ints[0];
  if (offset < 0 || offset >= (int64_t)x->size) return OPML_EATTR;
  /* drop size-1 axes and merge axes that are contiguous in the input */
  uint32_t dims[OPML_MAX_RANK];
  int64_t strides[OPML_MAX_RANK];
  unsigned n = 0;
  int64_t lo = offset, hi = offset;
  for (unsigned k = 0; k < r; k++) {
    int64_t s = node->ints[1 + k];
    uint32_t d = y->dims[k];
    if (d == 1) continue;
    /* a reach beyond the input is an error; checked so that nothing below can overflow */
    uint64_t mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
    if (mag >= x->size) return OPML_EATTR;
    uint64_t span = mag * (uint64_t)(d - 1); /* < 2^32 * 2^32 */
    if (span >= x->size) return OPML_EATTR;
    if (s > 0) hi += (int64_t)span;
    else lo -= (int64_t)span;
    if (n > 0 && strides[n - 1] == s * (int64_t)d) {
      dims[n - 1] *= d;
      strides[n - 1] = s;
    } else {
      dims[n] = d;
      strides[n] = s;
      n++;
    }
  }
  if (lo < 0 || hi >= (int64_t)x->size) return OPML_EATTR;
  const uint8_t *src = (const uint8_t *)x->data;
  uint8_t *dst = (uint8_t *)y->data;
  if (n == 0) {
    memcpy(dst, src + (size_t)offset * es, es);
    return OPML_OK;
  }
  /* odometer over the outer axes; the innermost one is copied as a run */
  uint32_t inner = dims[n - 1];
  int64_t inner_stride = strides[n - 1];
  size_t run_bytes = (size_t)inner * es;
  uint32_t idx[OPML_MAX_RANK] = {0};
  int64_t off = offset;
  for (;;) {
    if (inner_stride == 0) fill(dst, src + (size_t)off * es, inner, es);
    else copy_strided(dst, src + (size_t)off * es, inner, inner_stride, es);
    dst += run_bytes;
    int k = (int)n - 2;
    for (; k >= 0; k--) {
      off += strides[k];
      if (++idx[k] < dims[k]) break;
      off -= strides[k] * (int64_t)dims[k];
      idx[k] = 0;
    }
    if (k < 0) break;
  }
  return OPML_OK;
}

/* 202 Concat: ints [axis] (normalised, 0 <= axis < rank). For each outer index, each input's
 * block along the axis is one contiguous run in both input and output. */
static int k_concat(const opml_node *node) {
  if (!arity_ok(node, node->n_in, 255, 1, 1) || node->n_in == 0) return OPML_EATTR;
  opml_tensor *y = node->out[0];
  size_t es = esize(y);
  if (es == 0) return OPML_EDTYPE;
  if (node->n_ints != 1 || node->ints[0] < 0 || node->ints[0] >= y->rank) return OPML_EATTR;
  unsigned axis = (unsigned)node->ints[0];
  uint32_t outer = dim_prod(y, 0, axis), inner = dim_prod(y, axis + 1, y->rank);
  uint32_t total = 0;
  for (unsigned i = 0; i < node->n_in; i++) {
    const opml_tensor *x = node->in[i];
    if (x->dtype != y->dtype || x->rank != y->rank) return OPML_EATTR;
    for (unsigned k = 0; k < y->rank; k++)
      if (k != axis && x->dims[k] != y->dims[k]) return OPML_EATTR;
    total += x->dims[axis];
  }
  if (total != y->dims[axis]) return OPML_EATTR;
  uint8_t *dst = (uint8_t *)y->data;
  if (es == 4 && total * inner <= 16 && !((uintptr_t)dst & 3)) {
    /* short runs of words (RoPE's interleave of two halves): word loads, no call per run */
    uint32_t w = 0;
    for (unsigned i = 0; i < node->n_in; i++) w |= (uint32_t)(uintptr_t)node->in[i]->data & 3;
    if (!w) {
      for (unsigned i = 0, at = 0; i < node->n_in; i++) {
        const uint32_t run = node->in[i]->dims[axis] * inner;
        const u32a *src = (const u32a *)node->in[i]->data;
        u32a *d = (u32a *)dst + at;
        for (uint32_t o = 0; o < outer; o++, src += run, d += total * inner) {
          for (uint32_t k = 0; k < run; k++) d[k] = src[k];
        }
        at += run;
      }
      return OPML_OK;
    }
  }
  for (uint32_t o = 0; o < outer; o++) {
    for (unsigned i = 0; i < node->n_in; i++) {
      const opml_tensor *x = node->in[i];
      size_t run = (size_t)x->dims[axis] * inner * es;
      memcpy(dst, (const uint8_t *)x->data + o * run, run);
      dst += run;
    }
  }
  return OPML_OK;
}

/* 205 Split: ints [axis] (normalised); the output sizes along the axis are the outputs' dims. */
static int k_split(const opml_node *node) {
  if (!arity_ok(node, 1, 1, 1, 255)) return OPML_EATTR;
  const opml_tensor *x = node->in[0];
  size_t es = esize(x);
  if (es == 0) return OPML_EDTYPE;
  if (node->n_ints != 1 || node->ints[0] < 0 || node->ints[0] >= x->rank) return OPML_EATTR;
  unsigned axis = (unsigned)node->ints[0];
  uint32_t outer = dim_prod(x, 0, axis), inner = dim_prod(x, axis + 1, x->rank);
  uint32_t total = 0;
  for (unsigned i = 0; i < node->n_out; i++) {
    const opml_tensor *y = node->out[i];
    if (y->dtype != x->dtype || y->rank != x->rank) return OPML_EATTR;
    for (unsigned k = 0; k < x->rank; k++)
      if (k != axis && y->dims[k] != x->dims[k]) return OPML_EATTR;
    total += y->dims[axis];
  }
  if (total != x->dims[axis]) return OPML_EATTR;
  const uint8_t *src = (const uint8_t *)x->data;
  for (uint32_t o = 0; o < outer; o++) {
    for (unsigned i = 0; i < node->n_out; i++) {
      opml_tensor *y = node->out[i];
      size_t run = (size_t)y->dims[axis] * inner * es;
      memcpy((uint8_t *)y->data + o * run, src, run);
      src += run;
    }
  }
  return OPML_OK;
}

/* 203 Gather: ints [axis] (normalised). Inputs: data, indices (int32 or int64, any shape, may be
 * computed at run time: negative ones count from the end, out-of-range ones give OPML_EVALUE).
 * out = data[:axis] ++ indices.shape ++ data[axis+1:]. */
/* Gather: ints [axis] or [axis, indices' first dim]; inputs data, indices, then (docs/IR.md,
 * "Run-time shapes") data's run-time length L on the axis (indices count from it, and must be
 * below it) and the indices' run-time length on their first axis (the positions past it are
 * padding: not checked, their output left zero). */
static int k_gather(const opml_node *node) {
  if (!arity_ok(node, 2, 4, 1, 1)) return OPML_EATTR;
  const opml_tensor *x = node->in[0], *ind = node->in[1];
  const opml_tensor *xlen = node->n_in > 2 ? node->in[2] : 0, *ilen = node->n_in > 3 ? node->in[3] : 0;
  opml_tensor *y = node->out[0];
  size_t es = esize(x);
  if (es == 0 || y->dtype != x->dtype) return OPML_EDTYPE;
  if (ind->dtype != DT_INT32 && ind->dtype != DT_INT64) return OPML_EDTYPE;
  if ((node->n_ints != 1 && node->n_ints != 2) || node->ints[0] < 0 || node->ints[0] >= x->rank) return OPML_EATTR;
  unsigned axis = (unsigned)node->ints[0];
  uint32_t outer = dim_prod(x, 0, axis), inner = dim_prod(x, axis + 1, x->rank);
  int64_t n = x->dims[axis], valid = n;
  uint32_t m = ind->size, m_valid = m;
  if (y->size != outer * m * inner) return OPML_EATTR;
  if (xlen) {
    if (xlen->dtype != DT_INT64 || xlen->size != 1) return OPML_EATTR;
    valid = ((const int64_t *)xlen->data)[0];
    if (valid < 0 || valid > n) return OPML_EVALUE;
  }
  if (ilen) {
    if (ilen->dtype != DT_INT64 || ilen->size != 1 || node->n_ints != 2 || node->ints[1] <= 0) return OPML_EATTR;
    int64_t l = ((const int64_t *)ilen->data)[0];
    if (l < 0 || l > node->ints[1]) return OPML_EVALUE;
    m_valid = (uint32_t)(l * (m / node->ints[1]));
  }
  if (m == 0) return OPML_OK;
  /* check and normalise every index before writing anything (even when the output is empty) */
  uint32_t *pos = (uint32_t *)opml_alloc((size_t)m * sizeof(uint32_t));
  if (!pos) return OPML_ENOMEM;
  for (uint32_t j = 0; j < m_valid; j++) {
    int64_t v = ind->dtype == DT_INT64 ? ((const int64_t *)ind->data)[j]
                                       : (int64_t)((const int32_t *)ind->data)[j];
    if (v < 0) v += valid;
    if (v < 0 || v >= valid) {
      opml_free(pos);
      return OPML_EVALUE;
    }
    pos[j] = (uint32_t)v;
  }
  const uint8_t *src = (const uint8_t *)x->data;
  uint8_t *dst = (uint8_t *)y->data;
  size_t block = (size_t)inner * es;
  if (inner == 1 && es == 4 && !(((uintptr_t)src | (uintptr_t)dst) & 3)) {
    /* one element per index (e.g. RoPE's even and odd halves): word loads, no call per element */
    const u32a *s4 = (const u32a *)src;
    u32a *d4 = (u32a *)dst;
    for (uint32_t o = 0; o < outer; o++, s4 += n, d4 += m) {
      for (uint32_t j = 0; j < m_valid; j++) d4[j] = s4[pos[j]];
    }
    opml_free(pos);
    return OPML_OK;
  }
  for (uint32_t o = 0; o < outer; o++) {
    const uint8_t *base = src + (size_t)o * (size_t)n * block;
    if (inner == 1) {
      /* one element per index: word copies instead of a memcpy call each */
      for (uint32_t j = 0; j < m_valid; j++) copy_strided(dst + j * es, base + pos[j] * es, 1, 0, es);
    } else {
      for (uint32_t j = 0; j < m_valid; j++) memcpy(dst + j * block, base + pos[j] * block, block);
    }
    dst += m * block;
  }
  opml_free(pos);
  return OPML_OK;
}

/* Writes the element value `bits` (an unsigned integer of the element's size, host order). */
static void put_bits(uint8_t *dst, uint64_t bits, size_t es) {
  uint8_t b1 = (uint8_t)bits;
  uint16_t b2 = (uint16_t)bits;
  uint32_t b4 = (uint32_t)bits;
  const void *src = es == 1 ? (const void *)&b1 : es == 2 ? (const void *)&b2 : es == 4 ? (const void *)&b4 : (const void *)&bits;
  memcpy(dst, src, es);
}

/* The input coordinate of output coordinate o along an axis of input length n padded by `before`
 * (Pad's modes; -1 means "the constant"). */
static int64_t pad_source(int64_t o, int64_t before, int64_t n, int mode) {
  int64_t i = o - before;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PAD_EDGE:
      return i < 0 ? 0 : n - 1;
    case PAD_WRAP: {
      int64_t r = i % n;
      return r < 0 ? r + n : r;
    }
    case PAD_REFLECT: {
      if (n == 1) return 0;
      int64_t period = 2 * (n - 1);
      int64_t r = i % period;
      if (r < 0) r += period;
      return r < n ? r : period - r;
    }
    default:
      return -1;
  }
}

/* Pads one output block of axis k (and everything inside it). */
typedef struct pad_ctx {
  const opml_tensor *x;
  opml_tensor *y;
  const int64_t *before;
  int mode;
  size_t es;
  const uint8_t *fill;
  int64_t istride[OPML_MAX_RANK]; /* in elements */
  int64_t ostride[OPML_MAX_RANK];
} pad_ctx;

static void pad_axis(const pad_ctx *c, unsigned k, const uint8_t *src, uint8_t *dst) {
  uint32_t od = c->y->dims[k];
  int64_t n = c->x->dims[k], before = c->before[k];
  size_t es = c->es;
  if (k + 1 == c->y->rank) {
    /* innermost axis: the in-range part is one run */
    int64_t lo = before > 0 ? before : 0;
    int64_t hi = before + n < (int64_t)od ? before + n : (int64_t)od;
    if (hi < lo) hi = lo;
    for (int64_t o = 0; o < lo; o++) {
      int64_t i = pad_source(o, before, n, c->mode);
      memcpy(dst + o * es, i < 0 ? c->fill : src + i * es, es);
    }
    if (hi > lo) memcpy(dst + lo * es, src + (lo - before) * es, (size_t)(hi - lo) * es);
    for (int64_t o = hi; o < (int64_t)od; o++) {
      int64_t i = pad_source(o, before, n, c->mode);
      memcpy(dst + o * es, i < 0 ? c->fill : src + i * es, es);
    }
    return;
  }
  size_t oblock = (size_t)c->ostride[k] * es;
  for (uint32_t o = 0; o < od; o++) {
    int64_t i = pad_source(o, before, n, c->mode);
    if (i < 0) fill(dst + o * oblock, c->fill, (uint32_t)c->ostride[k], es);
    else pad_axis(c, k + 1, src + (size_t)(i * c->istride[k]) * es, dst + o * oblock);
  }
}

/* 206 Pad: ints [mode, fill, before_0 .. before_{r-1}]: mode 0 constant, 1 reflect, 2 edge,
 * 3 wrap; fill the constant's bits (the element's value as an unsigned integer of its size:
 * float bits for float); before_k the (possibly negative) padding at the start of axis k (the
 * end padding follows from the output dims). Input 1, when present, is a one-element tensor
 * of the data's dtype holding the constant at run time (it overrides `fill`). */
static int k_pad(const opml_node *node) {
  if (!arity_ok(node, 1, 2, 1, 1)) return OPML_EATTR;
  const opml_tensor *x = node->in[0];
  opml_tensor *y = node->out[0];
  size_t es = esize(x);
  if (es == 0 || y->dtype != x->dtype) return OPML_EDTYPE;
  unsigned r = x->rank;
  if (y->rank != r || node->n_ints != 2u + r || node->ints[0] < 0 || node->ints[0] > 3) return OPML_EATTR;
  if (y->size == 0) return OPML_OK;
  pad_ctx c;
  c.x = x;
  c.y = y;
  c.before = node->ints + 2;
  c.mode = (int)node->ints[0];
  c.es = es;
  uint8_t fillv[8];
  const opml_tensor *cv = node->n_in > 1 ? node->in[1] : 0;
  if (cv) {
    if (cv->dtype != x->dtype || cv->size != 1) return OPML_EATTR;
    memcpy(fillv, cv->data, es);
  } else {
    put_bits(fillv, (uint64_t)node->ints[1], es);
  }
  c.fill = fillv;
  int64_t is = 1, os = 1;
  for (int k = (int)r - 1; k >= 0; k--) {
    c.istride[k] = is;
    c.ostride[k] = os;
    is *= x->dims[k];
    os *= y->dims[k];
    /* only the constant mode can pad an empty axis */
    if (c.mode != PAD_CONSTANT && x->dims[k] == 0) return OPML_EATTR;
  }
  if (r == 0) {
    memcpy(y->data, x->data, es);
    return OPML_OK;
  }
  pad_axis(&c, 0, (const uint8_t *)x->data, (uint8_t *)y->data);
  return OPML_OK;
}

/* 208 ConstantOfShape: ints [value]: the element's bits as an unsigned integer of its size
 * (float: its IEEE bits). No inputs (the shape is static). */
static int k_constant_of_shape(const opml_node *node) {
  if (!arity_ok(node, 0, 0, 1, 1)) return OPML_EATTR;
  opml_tensor *y = node->out[0];
  size_t es = esize(y);
  if (es == 0) return OPML_EDTYPE;
  if (node->n_ints != 1) return OPML_EATTR;
  uint8_t v[8];
  put_bits(v, (uint64_t)node->ints[0], es);
  fill((uint8_t *)y->data, v, y->size, es);
  return OPML_OK;
}

/* 209 Shape: ints are the int64 output values (the static shape slice). No inputs. */
static int k_shape(const opml_node *node) {
  if (!arity_ok(node, 0, 0, 1, 1)) return OPML_EATTR;
  opml_tensor *y = node->out[0];
  if (y->dtype != DT_INT64) return OPML_EDTYPE;
  if (node->n_ints != y->size) return OPML_EATTR;
  if (y->size) memcpy(y->data, node->ints, (size_t)y->size * sizeof(int64_t));
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_movement[] = {
    {OP_COPY, "Copy", k_copy},
    {OP_TRANSPOSE, "Transpose", k_strided},
    {OP_CONCAT, "Concat", k_concat},
    {OP_GATHER, "Gather", k_gather},
    {OP_SLICE, "Slice", k_strided},
    {OP_SPLIT, "Split", k_split},
    {OP_PAD, "Pad", k_pad},
    {OP_EXPAND, "Expand", k_strided},
    {OP_CONSTANT_OF_SHAPE, "ConstantOfShape", k_constant_of_shape},
    {OP_SHAPE, "Shape", k_shape},
    {OP_BIT_CAST, "BitCast", k_bitcast},
    {0, 0, 0},
};
