/* The native runtime's thread count for opml_parallel (kernel.h); 1 in the MIPS image. */
#ifndef OPML_PARALLEL_H
#define OPML_PARALLEL_H

/* Threads of later opml_parallel calls, the calling one included (1 .. 256; opml_threads()
 * in kernel.h reads it). */
void opml_set_threads(int n);

#endif
