/* elementwise kernels (docs/IR.md). */
#include "kernel.h"

const opml_kernel_entry opml_kernels_elementwise[] = {
    {0, 0, 0},
};
