/*
 * Merkle-data roots of large data with threads (OPML_KECCAK_THREADS, keccak.h), included by
 * keccak.c. The padded tree of L leaves is cut into m >= 2 subtrees of C leaves (C a power of
 * two): the threads hash whole subtrees, independent work with no shared state, then one
 * thread hashes the m subtree roots as the top of the tree (an odd node at height h paired with
 * the zero subtree of height h, as everywhere). The leaf count padded to a power of two is
 * C * nextpow2(m), so this is the same tree and the same root as the serial code.
 * Threads: the online CPUs (at most 16), or OPML_HASH_THREADS. Zero subtrees: zero_nodes
 * (keccak_x4.h, which every OPML_KECCAK_THREADS build includes first).
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* Below this size one thread is about as fast (thread start-up is some 50 us). */
#define PAR_MIN_BYTES ((size_t)1 << 20)
#define PAR_MAX_THREADS 16

typedef struct par_job {
  const uint8_t *data;
  size_t n, chunk_bytes;
  unsigned chunk_height, m, step, first;
  uint32_t (*roots)[8];
} par_job;

/* The root of data[0..n), 0 < n <= 2^h * 32, padded with zero leaves to 2^h leaves. */
static void subtree_root(const uint8_t *data, size_t n, unsigned h, uint32_t out[8]) {
  uint8_t root[32];
  if (merkle_root_levels(data, n, root)) merkle_data_root_serial(data, n, root);
  load_lanes(out, root, 4);
  /* that root is padded to the next power of two of the leaf count: climb to height h */
  uint64_t leaves = (n + 31) / 32;
  unsigned got = 0;
  while (((uint64_t)1 << got) < leaves) got++;
  for (; got < h; got++) hash_nodes(out, (const uint32_t *)zero_nodes[got], out);
}

static void par_chunk(const par_job *j, unsigned i) {
  size_t off = (size_t)i * j->chunk_bytes, len = j->n - off < j->chunk_bytes ? j->n - off : j->chunk_bytes;
  subtree_root(j->data + off, len, j->chunk_height, j->roots[i]);
}

static void *par_worker(void *arg) {
  par_job *j = arg;
  for (unsigned i = j->first; i < j->m; i += j->step) par_chunk(j, i);
  return 0;
}

static void par_item(void *ctx, size_t i) { par_chunk(ctx, (unsigned)i); }

/* opml_keccak_set_runner's: the caller's worker threads, their count, the smallest root split */
static struct {
  opml_keccak_runner run;
  unsigned threads;
  size_t min_bytes;
} par_runner;

void opml_keccak_set_runner(opml_keccak_runner run, unsigned threads, size_t min_bytes) {
  par_runner.run = threads > 1 ? run : 0;
  par_runner.threads = threads;
  par_runner.min_bytes = min_bytes;
}

/* The top of the tree over the m subtree roots of height h (roots is overwritten). */
static void par_top(uint32_t (*roots)[8], unsigned m, unsigned h, uint8_t out[32]) {
  for (unsigned cnt = m; cnt > 1; cnt = (cnt + 1) / 2, h++) {
    for (unsigned i = 0; i + 1 < cnt; i += 2) hash_nodes(roots[i], roots[i + 1], roots[i / 2]);
    if (cnt & 1) hash_nodes(roots[cnt - 1], (const uint32_t *)zero_nodes[h], roots[cnt / 2]);
  }
  store_lanes(out, roots[0], 4);
}

static unsigned par_threads(void) {
  const char *env = getenv("OPML_HASH_THREADS");
  long t = env && *env ? strtol(env, 0, 10) : sysconf(_SC_NPROCESSORS_ONLN);
  if (t < 1) t = 1;
  return t > PAR_MAX_THREADS ? PAR_MAX_THREADS : (unsigned)t;
}

/* Writes the root and returns 1, or returns 0 (nothing written) to leave it to the serial code:
 * small data, one thread, or no memory or threads available. */
static int merkle_data_root_parallel(const uint8_t *data, size_t n, uint8_t out[32]) {
  const int pool = par_runner.run != 0;
  if (n < (pool ? par_runner.min_bytes : PAR_MIN_BYTES)) return 0;
  unsigned threads = pool ? par_runner.threads : par_threads();
  if (threads < 2) return 0;
  uint64_t leaves = (n + 31) / 32;
  /* about 4 subtrees per thread (balance), each at least 4096 leaves (128 KiB); on the caller's
   * pool, whose hand-over is cheap, 256 leaves (8 KiB) */
  unsigned h = pool ? 8 : 12;
  while (((uint64_t)1 << h) * 4 * threads < leaves) h++;
  size_t chunk_bytes = (size_t)32 << h;
  unsigned m = (unsigned)((n + chunk_bytes - 1) / chunk_bytes);
  if (m < 2) return 0;
  uint32_t(*roots)[8] = malloc((size_t)m * sizeof *roots);
  if (pool && roots) {
    par_job job = {data, n, chunk_bytes, h, m, 1, 0, roots};
    par_runner.run(m, n * 32, par_item, &job); /* work: about 32 multiply-adds' time per byte */
    par_top(roots, m, h, out);
    free(roots);
    return 1;
  }
  par_job *jobs = malloc(threads * sizeof *jobs);
  pthread_t *tids = malloc(threads * sizeof *tids);
  if (!roots || !jobs || !tids) {
    free(roots), free(jobs), free(tids);
    return 0;
  }
  unsigned started = 1;
  for (unsigned t = 0; t < threads; t++) {
    jobs[t] = (par_job){data, n, chunk_bytes, h, m, threads, t, roots};
  }
  for (unsigned t = 1; t < threads; t++, started++) {
    if (pthread_create(&tids[t], 0, par_worker, &jobs[t])) break;
  }
  /* threads that did not start: their chunks are done here */
  for (unsigned t = started; t < threads; t++) par_worker(&jobs[t]);
  par_worker(&jobs[0]);
  for (unsigned t = 1; t < started; t++) pthread_join(tids[t], 0);
  par_top(roots, m, h, out);
  free(roots), free(jobs), free(tids);
  return 1;
}
