/*
 * The C kernel ABI of opml (docs/IR.md): tensors, nodes and the kernel table. The same kernels
 * are compiled natively (gcc, SSE) and to MIPS32 (soft-float); they must give identical bits.
 *
 * Rules for every kernel (docs/IR.md, "Determinism"):
 *  - plain C11 over the types below; float arithmetic as ordinary `float` expressions (the MIPS
 *    build turns them into the project's soft-float calls); no libm: use mathf.h;
 *  - every reduction in one fixed order (ascending index), whatever the build; vectorisation
 *    may only split work across independent outputs;
 *  - no NaN bit inspection: the interpreter canonicalises float outputs after every node;
 *  - no I/O, no allocation beyond opml_alloc/opml_free, no global state.
 */
#ifndef OPML_KERNEL_H
#define OPML_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* float -> int32 with x86-64's result for NaN and out-of-range values (INT32_MIN), decided
 * before the conversion instruction sees them: the VM's FPU gives the same as x86, but
 * qemu-mips, the tests' second reference, gives INT32_MAX (docs/VM.md, Floating point). Any
 * other type converts as C does (double through the soft-float, which gives x86's result). */
static inline int32_t opml_f32_to_i32(float f) {
  return (f >= -2147483648.0f && f < 2147483648.0f) ? (int32_t)f : INT32_MIN;
}
#define OPML_I32(v) _Generic((v), float: opml_f32_to_i32((float)(v)), default: (int32_t)(v))

/* Element types: the codes of onnx.TensorProto.DataType. */
enum {
  DT_FLOAT = 1,
  DT_UINT8 = 2,
  DT_INT8 = 3,
  DT_UINT16 = 4,
  DT_INT16 = 5,
  DT_INT32 = 6,
  DT_INT64 = 7,
  DT_BOOL = 9,
  DT_DOUBLE = 11,
  DT_UINT32 = 12,
  DT_UINT64 = 13,
  DT_FLOAT16 = 10,   /* the small floats (smallfloat.h): bit patterns, 2 bytes */
  DT_BFLOAT16 = 16,
  DT_F8E4M3FN = 17,  /* 1 byte each */
  DT_F8E4M3FNUZ = 18,
  DT_F8E5M2 = 19,
  DT_F8E5M2FNUZ = 20,
  DT_UINT4 = 21,     /* sub-byte integers: unpacked, one byte per element (docs/IR.md) */
  DT_INT4 = 22,      /* (sign-extended) */
  DT_F4E2M1 = 23,    /* its 4-bit code in one byte */
  DT_F8E8M0 = 24,
  DT_UINT2 = 25,
  DT_INT2 = 26,
};

#define OPML_MAX_RANK 8

typedef struct opml_tensor {
  uint8_t dtype;                 /* DT_* */
  uint8_t rank;                  /* 0 (scalar) .. OPML_MAX_RANK */
  uint32_t dims[OPML_MAX_RANK];  /* row-major (C order) */
  uint32_t size;                 /* number of elements (1 for a scalar, may be 0) */
  void *data;                    /* size * dtype_size(dtype) bytes, host byte order */
} opml_tensor;

/* What the native interpreter fused into a node's stores (interp.c, fusable_tail; only Conv
 * takes one): each float output y becomes f(y's canonical NaN), then the canonical NaN again,
 * the bits that the node, the NaN pass and the fused node give in turn. f: Clip(lo, hi) (a Relu
 * as [+0, +inf]), or with hardswish HardSwish (opml_hardswishf, mathf.h). */
typedef struct opml_epilogue {
  int hardswish;
  float lo, hi;
} opml_epilogue;

typedef struct opml_node {
  uint16_t op;                   /* OP_* code (ops.h, generated from core/compiler/ops/schema.ts) */
  uint8_t n_in, n_out;
  const opml_tensor *const *in;  /* n_in entries; NULL where an optional input is absent */
  opml_tensor *const *out;       /* n_out entries, already allocated with their final shape */
  const int64_t *ints;           /* the op's normalised integer attributes (layout per op) */
  uint32_t n_ints;
  const float *floats;           /* the op's normalised float attributes */
  uint32_t n_floats;
  const opml_epilogue *epi; /* NULL, or a node fused into this one's stores (above) */
} opml_node;

/* Returns 0 on success, or an OPML_E* code (the interpreter reports the node by name). */
typedef int (*opml_kernel_fn)(const opml_node *node);

enum {
  OPML_OK = 0,
  OPML_EDTYPE = 1,  /* a dtype combination the kernel does not implement */
  OPML_EATTR = 2,   /* malformed attributes (a compiler bug: shapes are checked at compile time) */
  OPML_EVALUE = 3,  /* a data-dependent error: index out of range, ... */
  OPML_ENOMEM = 4,
};

typedef struct opml_kernel_entry {
  uint16_t op;
  const char *name;              /* the ONNX op type (or our own name) it implements */
  opml_kernel_fn fn;
} opml_kernel_entry;

/* Kernel tables, one per family, each ended by an entry with fn == NULL. */
extern const opml_kernel_entry opml_kernels_elementwise[]; /* op codes   1..99  */
extern const opml_kernel_entry opml_kernels_nn[];          /* op codes 100..199 */
extern const opml_kernel_entry opml_kernels_movement[];    /* op codes 200..299 */
extern const opml_kernel_entry opml_kernels_quant[];       /* op codes 300..399 */
extern const opml_kernel_entry opml_kernels_math[];        /* op codes 400..499 */
extern const opml_kernel_entry opml_kernels_reduce[];      /* op codes 500..599 */
extern const opml_kernel_entry opml_kernels_vision[];      /* op codes 600..659 */
extern const opml_kernel_entry opml_kernels_norm[];        /* op codes 660..699 */
extern const opml_kernel_entry opml_kernels_sequence[];    /* op codes 700..749 */
extern const opml_kernel_entry opml_kernels_spectral[];    /* op codes 750..799 */
extern const opml_kernel_entry opml_kernels_index[];       /* op codes 800..899 */
extern const opml_kernel_entry opml_kernels_loss[];        /* op codes 900..949 */
extern const opml_kernel_entry opml_kernels_signal[];      /* op codes 950..969 */
extern const opml_kernel_entry opml_kernels_linalg[];      /* op codes 970..979 */
extern const opml_kernel_entry opml_kernels_integer[];     /* op codes 980..999 */
extern const opml_kernel_entry opml_kernels_ml[];          /* op codes 1000..1019 */

/* The kernel of `op`, or NULL. */
opml_kernel_fn opml_kernel_find(uint16_t op, const char **name);

/* Bytes per element of a dtype (bool is one byte), 0 if unknown. */
size_t opml_dtype_size(uint8_t dtype);

/* Scratch memory for kernels (freed by the kernel before it returns). */
void *opml_alloc(size_t n);
void opml_free(void *p);

/*
 * Runs fn(ctx, i) for every i in [0, n), natively on the runtime's threads (core/runtime/
 * parallel.c; in any order and on any thread), in the MIPS image one after the other. Only for
 * items that compute disjoint, independent outputs: each output is still one fixed sequence of
 * operations, so the bits do not depend on the thread count. `work` estimates the whole call's
 * cost in multiply-adds (size_t: it may wrap in the 32-bit MIPS build, which ignores it): small
 * calls run on the calling thread alone.
 */
void opml_parallel(size_t n, size_t work, void (*fn)(void *ctx, size_t i), void *ctx);
/* The threads opml_parallel uses (1 in the MIPS image): kernels may split finer when > 1. */
int opml_threads(void);

/* Little helpers every family uses. */
static inline uint32_t opml_f32_bits(float f) {
  union { float f; uint32_t u; } v;
  v.f = f;
  return v.u;
}
static inline float opml_bits_f32(uint32_t u) {
  union { float f; uint32_t u; } v;
  v.u = u;
  return v.f;
}

#endif
