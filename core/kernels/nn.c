/* nn kernels (docs/IR.md). */
#include "kernel.h"

const opml_kernel_entry opml_kernels_nn[] = {
    {0, 0, 0},
};
