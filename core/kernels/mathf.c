/* The project's float32 math functions: see mathf.h. */
#include "mathf.h"
