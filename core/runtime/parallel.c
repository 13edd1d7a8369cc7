/*
 * opml_parallel (kernel.h): the native runtime's worker threads; serial in the MIPS image.
 * Workers take item indices from a shared counter, so which thread computes an item varies from
 * run to run, but every item writes its own outputs with the same operations: the bits do not.
 */
#include "../kernels/kernel.h"
#include "parallel.h"

#if defined(__x86_64__) && !defined(__mips__)
#include <pthread.h>
#include <stdatomic.h>

/* Below this many multiply-adds a call is not worth waking the workers (tens of microseconds on a loaded machine). */
#define MIN_WORK 1000000

static struct {
  pthread_mutex_t mu;
  pthread_cond_t start, done;
  int threads;            /* including the calling thread */
  int started;            /* workers created */
  unsigned long gen;      /* bumped per job */
  int busy;               /* workers still in the current job */
  size_t n;
  void (*fn)(void *, size_t);
  void *ctx;
  atomic_size_t next;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 1, 0, 0, 0, 0, 0, 0, 0};

static void run_items(void) {
  for (;;) {
    size_t i = atomic_fetch_add(&pool.next, 1);
    if (i >= pool.n) return;
    pool.fn(pool.ctx, i);
  }
}

static void *worker(void *arg) {
  (void)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&pool.mu);
  for (;;) {
    while (pool.gen == seen) pthread_cond_wait(&pool.start, &pool.mu);
    seen = pool.gen;
    pthread_mutex_unlock(&pool.mu);
    run_items();
    pthread_mutex_lock(&pool.mu);
    if (--pool.busy == 0) pthread_cond_signal(&pool.done);
  }
  return 0;
}

void opml_set_threads(int n) { pool.threads = n < 1 ? 1 : n > 256 ? 256 : n; }
int opml_threads(void) { return pool.threads; }

void opml_parallel(size_t n, size_t work, void (*fn)(void *ctx, size_t i), void *ctx) {
  if (pool.threads <= 1 || n <= 1 || work < MIN_WORK) {
    for (size_t i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  pthread_mutex_lock(&pool.mu);
  while (pool.started < pool.threads - 1) {
    pthread_t t;
    if (pthread_create(&t, 0, worker, 0)) break; /* fewer workers: still correct */
    pthread_detach(t);
    pool.started++;
  }
  pool.n = n, pool.fn = fn, pool.ctx = ctx;
  atomic_store(&pool.next, 0);
  pool.busy = pool.started;
  pool.gen++;
  pthread_cond_broadcast(&pool.start);
  pthread_mutex_unlock(&pool.mu);
  run_items();
  pthread_mutex_lock(&pool.mu);
  while (pool.busy) pthread_cond_wait(&pool.done, &pool.mu);
  pthread_mutex_unlock(&pool.mu);
}
#else
void opml_set_threads(int n) { (void)n; }
int opml_threads(void) { return 1; }

void opml_parallel(size_t n, size_t work, void (*fn)(void *ctx, size_t i), void *ctx) {
  (void)work;
  for (size_t i = 0; i < n; i++) fn(ctx, i);
}
#endif
