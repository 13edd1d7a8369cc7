/* The native runtime's thread count for opml_parallel (kernel.h); 1 in the MIPS image. */
#ifndef OPML_PARALLEL_H
#define OPML_PARALLEL_H

/* Threads of later opml_parallel calls, the calling one included (1 .. 256; opml_threads()
 * in kernel.h reads it). */
void opml_set_threads(int n);

/* An inference starts / ends. begin wakes sleeping workers early, so the first jobs find them
 * spinning (a hand-over then costs about a microsecond, not a wake-up); after each job a worker
 * spins 100 us for the next. end lets idle workers sleep at once (no core taken from the next
 * process to run). */
void opml_parallel_begin(void);
void opml_parallel_end(void);

#endif
