/*
 * opml_parallel (kernel.h): the native runtime's worker threads; serial in the MIPS image.
 * Workers take item indices from a shared counter, so which thread computes an item varies from
 * run to run, but every item writes its own outputs with the same operations: the bits do not.
 *
 * Hand-over without waiting on sleepers: a job is published by making `gen` even (open) and
 * closed by making it odd. The calling thread runs items itself and, once they are all taken,
 * closes the job and waits only for the workers that joined it (`refs`), never for a worker that
 * is asleep or slow to wake: a small job costs no wake-up. Workers spin (with `pause`) for a
 * while after each job and during an inference (opml_parallel_begin .. _end), then sleep on a
 * condition variable, so an idle runtime takes no core from its neighbours. Spinning longer (say a
 * whole inference) was tried: on a loaded machine the spinning worker took the core the calling
 * thread needed (phase-1 states at 2 threads 2x slower).
 */
#include "../kernels/kernel.h"
#include "parallel.h"

#if defined(__x86_64__) && !defined(__mips__)
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

/* Below this many multiply-adds a call runs on the calling thread alone: handing items over to
 * a spinning worker costs about a microsecond (cache-line transfers). */
#define MIN_WORK 65536
/* Waking sleeping workers costs the caller a system call and them tens of microseconds: a call
 * wakes them from this much work on, and an inference starts by waking them when the previous
 * one handed out at least WAKE_TOTAL (a tiny model then never pays for threads it cannot use). */
#define WAKE_WORK 1000000
#define WAKE_TOTAL 2000000
/* How long an idle worker spins before it sleeps (ns): longer than the usual gap between two
 * jobs of an inference, short against a time slice. */
#define SPIN_NS 100000

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  int threads; /* including the calling thread */
  int started; /* workers created */
  atomic_ulong gen;      /* even: a job is open; odd: closed */
  atomic_int refs;       /* workers inside the open job */
  atomic_int sleepers;   /* workers waiting on `wake` */
  atomic_int busy_epoch; /* bumped by opml_parallel_begin: sleepers wake and spin */
  atomic_int parked;     /* set by opml_parallel_end: idle workers sleep at once */
  size_t total, last_total; /* work handed out in this and in the last inference */
  size_t n;
  void (*fn)(void *, size_t);
  void *ctx;
  atomic_size_t next;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .threads = 1, .gen = 1,
           .last_total = WAKE_TOTAL /* the first inference wakes them */};

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void run_items(void) {
  for (;;) {
    size_t i = atomic_fetch_add(&pool.next, 1);
    if (i >= pool.n) return;
    pool.fn(pool.ctx, i);
  }
}

static void *worker(void *arg) {
  (void)arg;
  unsigned long seen = 1;
  uint64_t idle_since = now_ns();
  for (unsigned spins = 0;; spins++) {
    unsigned long g = atomic_load(&pool.gen);
    if (!(g & 1) && g != seen) {
      seen = g;
      /* join, then check the job is still open: the caller closes it before it reads `refs` */
      atomic_fetch_add(&pool.refs, 1);
      if (atomic_load(&pool.gen) == g) run_items();
      atomic_fetch_sub(&pool.refs, 1);
      idle_since = now_ns();
      spins = 0;
      continue;
    }
    if (spins & 63) {
      _mm_pause();
      continue;
    }
    if (!atomic_load(&pool.parked) && now_ns() - idle_since < SPIN_NS) {
      /* let any other runnable thread have the core (the calling thread, a neighbour's): a
       * spinner that does not yield slowed a loaded 2-core machine's inferences by a third */
      sched_yield();
      continue;
    }
    /* sleep until a job we have not seen opens or begin() is called */
    pthread_mutex_lock(&pool.mu);
    atomic_fetch_add(&pool.sleepers, 1);
    int epoch = atomic_load(&pool.busy_epoch);
    for (;;) {
      g = atomic_load(&pool.gen);
      if ((!(g & 1) && g != seen) || atomic_load(&pool.busy_epoch) != epoch) break;
      pthread_cond_wait(&pool.wake, &pool.mu);
    }
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.mu);
    idle_since = now_ns();
    spins = 0;
  }
  return 0;
}

static void start_workers(void) {
  while (pool.started < pool.threads - 1) {
    pthread_t t;
    if (pthread_create(&t, 0, worker, 0)) break; /* fewer workers: still correct */
    pthread_detach(t);
    pool.started++;
  }
}

static void wake_sleepers(void) {
  if (!atomic_load(&pool.sleepers)) return;
  pthread_mutex_lock(&pool.mu);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
}

void opml_set_threads(int n) { pool.threads = n < 1 ? 1 : n > 256 ? 256 : n; }
int opml_threads(void) { return pool.threads; }

static void wake_workers(void) {
  atomic_store(&pool.parked, 0);
  atomic_fetch_add(&pool.busy_epoch, 1);
  wake_sleepers();
}

void opml_parallel_begin(void) {
  if (pool.threads <= 1) return;
  start_workers();
  pool.total = 0;
  if (pool.last_total >= WAKE_TOTAL) wake_workers();
}

void opml_parallel_end(void) {
  atomic_store(&pool.parked, 1);
  pool.last_total = pool.total;
}

void opml_parallel(size_t n, size_t work, void (*fn)(void *ctx, size_t i), void *ctx) {
  if (pool.threads <= 1 || n <= 1 || work < MIN_WORK) {
    for (size_t i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  start_workers();
  pool.total += work;
  const int asleep = atomic_load(&pool.sleepers) == pool.started;
  if (asleep && work < WAKE_WORK) { /* not worth a wake-up */
    for (size_t i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  pool.n = n, pool.fn = fn, pool.ctx = ctx;
  atomic_store(&pool.next, 0);
  atomic_fetch_add(&pool.gen, 1); /* open */
  /* workers asleep: wake them for the next jobs; this one does not wait for them */
  if (atomic_load(&pool.sleepers)) wake_workers();
  run_items();
  atomic_fetch_add(&pool.gen, 1); /* closed: late workers back out without touching the job */
  while (atomic_load(&pool.refs)) _mm_pause();
}
#else
void opml_set_threads(int n) { (void)n; }
int opml_threads(void) { return 1; }
void opml_parallel_begin(void) {}
void opml_parallel_end(void) {}

void opml_parallel(size_t n, size_t work, void (*fn)(void *ctx, size_t i), void *ctx) {
  (void)work;
  for (size_t i = 0; i < n; i++) fn(ctx, i);
}
#endif
