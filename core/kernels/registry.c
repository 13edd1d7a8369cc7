/* The kernel table: every family's kernels, looked up by op code. */
#include "kernel.h"

static const opml_kernel_entry *const families[] = {
    opml_kernels_elementwise,
    opml_kernels_nn,
    opml_kernels_movement,
    opml_kernels_quant,
    opml_kernels_math,
    opml_kernels_reduce,
    opml_kernels_vision,
    opml_kernels_norm,
    opml_kernels_sequence,
    opml_kernels_spectral,
    opml_kernels_index,
    opml_kernels_loss,
    opml_kernels_signal,
    opml_kernels_linalg,
    opml_kernels_integer,
    opml_kernels_ml,
};

opml_kernel_fn opml_kernel_find(uint16_t op, const char **name) {
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
    for (const opml_kernel_entry *e = families[f]; e->fn; e++) {
      if (e->op == op) {
        if (name) *name = e->name;
        return e->fn;
      }
    }
  }
  return 0;
}

size_t opml_dtype_size(uint8_t dtype) {
  switch (dtype) {
    case DT_BOOL: case DT_UINT8: case DT_INT8: return 1;
    case DT_F8E4M3FN: case DT_F8E4M3FNUZ: case DT_F8E5M2: case DT_F8E5M2FNUZ: case DT_F8E8M0: return 1;
    case DT_UINT4: case DT_INT4: case DT_F4E2M1: case DT_UINT2: case DT_INT2: return 1;
    case DT_UINT16: case DT_INT16: case DT_FLOAT16: case DT_BFLOAT16: return 2;
    case DT_FLOAT: case DT_INT32: case DT_UINT32: return 4;
    case DT_INT64: case DT_UINT64: case DT_DOUBLE: return 8;
    default: return 0;
  }
}
