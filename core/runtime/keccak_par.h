/*
 * Merkle-data roots of large data with threads (OPML_KECCAK_THREADS, keccak.h), included by
 * keccak.c. The padded tree of L leaves is cut into m >= 2 subtrees of C leaves (C a power of
 * two): the threads hash whole subtrees, independent work with no shared state, then one
 * thread hashes the m subtree roots as the top of the tree (an odd node at height h paired with
 * the zero subtree of height h, as everywhere). The leaf count padded to a power of two is
 * C * nextpow2(m), so this is the same tree and the same root as the serial code.
 * Threads: the online CPUs (at most 16), or OPML_HASH_THREADS.
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
  uint32_t zero[8] = {0};
  for (unsigned z = 0; z < got; z++) hash_nodes(zero, zero, zero);
  for (; got < h; got++) {
    hash_nodes(out, zero, out);
    hash_nodes(zero, zero, zero);
  }
}

static void *par_worker(void *arg) {
  par_job *j = arg;
  for (unsigned i = j->first; i < j->m; i += j->step) {
    size_t off = (size_t)i * j->chunk_bytes, len = j->n - off < j->chunk_bytes ? j->n - off : j->chunk_bytes;
    subtree_root(j->data + off, len, j->chunk_height, j->roots[i]);
  }
  return 0;
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
  if (n < PAR_MIN_BYTES) return 0;
  unsigned threads = par_threads();
  if (threads < 2) return 0;
  uint64_t leaves = (n + 31) / 32;
  /* about 4 subtrees per thread (balance), each at least 4096 leaves (128 KiB) */
  unsigned h = 12;
  while (((uint64_t)1 << h) * 4 * threads < leaves) h++;
  size_t chunk_bytes = (size_t)32 << h;
  unsigned m = (unsigned)((n + chunk_bytes - 1) / chunk_bytes);
  if (m < 2) return 0;
  uint32_t(*roots)[8] = malloc((size_t)m * sizeof *roots);
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
  /* the top of the tree over the m subtree roots */
  uint32_t zero[8] = {0};
  for (unsigned z = 0; z < h; z++) hash_nodes(zero, zero, zero);
  for (unsigned cnt = m; cnt > 1; cnt = (cnt + 1) / 2) {
    for (unsigned i = 0; i + 1 < cnt; i += 2) hash_nodes(roots[i], roots[i + 1], roots[i / 2]);
    if (cnt & 1) hash_nodes(roots[cnt - 1], zero, roots[cnt / 2]);
    hash_nodes(zero, zero, zero);
  }
  store_lanes(out, roots[0], 4);
  free(roots), free(jobs), free(tids);
  return 1;
}
