/*
 * opml-runtime: the native (hosted) runner of a program (docs/IR.md, "Runtime I/O") and the
 * phase-1 states of docs/MULTIPHASE.md.
 *   opml-runtime PROGRAM.opir WEIGHTS.bin OUT.bin [INPUT.bin ...] [--repeat N]
 *                [--states FILE] [--tamper K] [--checker-data A B DIR] [--repeat-stdin]
 *                [--threads N]
 * --threads N: the kernels' threads (default: the machine's online cores); the outputs are the
 * same bytes for any N (core/runtime/parallel.c).
 * --repeat-stdin (benchmarks): after loading, one inference per line read on stdin, each
 * answered by a line `compute_ns N` on stdout, so a benchmark can interleave these runs with
 * another engine's in the same process schedule (tasks/bench_models.ts).
 */
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interp.h"
#include "keccak.h"
#include "parallel.h"
#include "phase1.h"
#include "simd.h"
#include <unistd.h>

typedef struct native_io {
  uint8_t *weights;
  size_t weights_len;
  size_t *const_offset; /* per constant slot */
  uint8_t **inputs;
  size_t *input_len;
  uint32_t tamper;   /* 1-based node whose first output gets one bit flipped; 0: none */
  opml_table table;  /* phase-1 table, kept when states or checker data are asked for */
  int track;
  uint8_t program_key[32];
  uint8_t *states;   /* S_0 .. S_(N+1), 32 bytes each, or NULL */
} native_io;

static void die(const char *msg, const char *detail) {
  fprintf(stderr, "opml-runtime: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
  exit(3);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* 64-byte aligned so that constants can be used in place */
  uint8_t *buf = aligned_alloc(64, ((size_t)n + 64) & ~(size_t)63);
  if (!buf) die("out of memory reading", path);
  if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read", path);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* The weights file mapped copy-on-write (constants are used in place; pages load as the nodes
 * read them, nothing is copied), or read like any file where mapping fails. */
static uint8_t *map_file(const char *path, size_t *len, int *mapped) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
    void *p = mmap(0, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p != MAP_FAILED) {
      *len = (size_t)st.st_size;
      *mapped = 1;
      return p;
    }
  } else if (fd >= 0) {
    close(fd);
  }
  return read_file(path, len);
}

#ifdef OPML_X86
/* The kernels copied [p, p + n) of the mapped weights (packed panels): give its whole pages
 * back. The mapping is private and never written, so a later read refaults the same bytes from
 * the file; the copy would otherwise double the weights' memory. */
static void drop_pages(const void *p, size_t n) {
  const uintptr_t page = 4096, lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + n) & ~(page - 1);
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
#endif

static const void *io_map(void *ctx, const opml_ptensor *t, size_t bytes) {
  native_io *io = ctx;
  (void)bytes;
  if (t->kind == OPML_KIND_CONSTANT) return io->weights + io->const_offset[t->slot];
  return io->inputs[t->slot];
}

static int io_load(void *ctx, const opml_ptensor *t, void *dst, size_t bytes) {
  if (t->kind == OPML_KIND_ACTIVATION) return 1; /* read before produced: a malformed program */
  memcpy(dst, io_map(ctx, t, bytes), bytes);
  return 0;
}

/* After node i (0-based): the dishonest server's bit flip, then the node's outputs into the
 * table and S_(i+1). */
static int after_node(void *ctx, opml_program *p, uint32_t i) {
  native_io *io = ctx;
  if (io->tamper == i + 1) {
    opml_tensor *t = &p->tensors[p->nodes[i].out_ids[0]].t;
    size_t es = opml_dtype_size(t->dtype);
    uint8_t *b = t->data;
    uint16_t probe = 1;
    b[*(uint8_t *)&probe ? 0 : es - 1] ^= 1; /* the lowest bit of the first element */
  }
  if (io->track) {
    opml_table_add_node(&io->table, p, i);
    if (io->states) opml_table_state(&io->table, io->program_key, i + 1, io->states + 32 * (size_t)(i + 1));
  }
  return 0;
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) die("cannot write", path);
  if (n && fwrite(data, 1, n, f) != n) die("cannot write", path);
  if (fclose(f)) die("cannot write", path);
}

static uint32_t parse_u32(const char *flag, const char *s) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || *s == '-' || v > 0xffffffffull) die(flag, "expects a non-negative integer");
  return (uint32_t)v;
}

/*
 * --checker-data A B DIR: after node A (table_A), writes what the transition checker of A -> B
 * needs beyond the program, constants and inputs: DIR/table.bin (table_A) and, for every
 * activation that exists after node A and that a node in A+1 .. min(B, N) reads,
 * DIR/<tensor index>.bin (little-endian bytes).
 */
static void write_checker_data(native_io *io, opml_program *p, uint32_t a, uint32_t b, const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/table.bin", dir);
  write_file(path, opml_table_bytes(&io->table), (size_t)p->n_tensors * 32);
  uint32_t end = b < p->n_nodes ? b : p->n_nodes;
  for (uint32_t i = a; i < end; i++) {
    const opml_pnode *nd = &p->nodes[i];
    for (uint32_t k = 0; k < nd->n_in; k++) {
      if (nd->in_ids[k] < 0) continue;
      opml_ptensor *t = &p->tensors[nd->in_ids[k]];
      if (t->kind != OPML_KIND_ACTIVATION || !t->t.data) continue; /* produced inside the range */
      snprintf(path, sizeof path, "%s/%d.bin", dir, nd->in_ids[k]);
      write_file(path, t->t.data, opml_tensor_bytes(&t->t)); /* x86: host order is little-endian */
    }
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  /* Activations are allocated and freed node after node: keep freed memory in the process
   * (no mmap per large tensor, no trimming), so a run does not pay page faults for memory the
   * previous node just released. */
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, -1);
  mallopt(M_TOP_PAD, 64 << 20);
  int repeat = 0, has_tamper = 0, has_range = 0, repeat_stdin = 0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = cores < 1 ? 1 : cores > 256 ? 256 : (int)cores;
  uint32_t tamper = 0, range_a = 0, range_b = 0;
  const char *states_file = 0, *data_dir = 0;
  const char *pos[260];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--states") && i + 1 < argc) states_file = argv[++i];
    else if (!strcmp(argv[i], "--repeat-stdin")) repeat_stdin = 1;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      uint32_t t = parse_u32("--threads", argv[++i]);
      if (t < 1 || t > 256) die("--threads", "expects 1 .. 256");
      threads = (int)t;
    }
    else if (!strcmp(argv[i], "--tamper") && i + 1 < argc) tamper = parse_u32("--tamper", argv[++i]), has_tamper = 1;
    else if (!strcmp(argv[i], "--checker-data") && i + 3 < argc) {
      range_a = parse_u32("--checker-data", argv[++i]);
      range_b = parse_u32("--checker-data", argv[++i]);
      data_dir = argv[++i];
      has_range = 1;
    } else if (!strncmp(argv[i], "--", 2)) die("unknown option or missing value", argv[i]);
    else if (npos < 260) pos[npos++] = argv[i];
  }
  if (npos < 3) {
    die("usage: opml-runtime PROGRAM.opir WEIGHTS.bin OUT.bin [INPUT.bin ...] [--repeat N] [--states FILE] "
        "[--tamper K] [--checker-data A B DIR] [--repeat-stdin] [--threads N]", 0);
  }
  if (has_range && (states_file || repeat || repeat_stdin)) {
    die("--checker-data cannot be combined with --states or --repeat", 0);
  }
  if (repeat_stdin && repeat) die("--repeat-stdin cannot be combined with --repeat", 0);
  opml_set_threads(threads);
  /* phase-1 states: an activation's root from 16 KiB on is hashed as subtrees on the workers */
  opml_keccak_set_runner(opml_parallel, (unsigned)opml_threads(), (size_t)16 << 10);
  size_t plen, wlen;
  uint8_t *pbuf = read_file(pos[0], &plen);
  opml_program prog;
  char err[512];
  if (opml_program_parse(pbuf, plen, &prog, err, sizeof err)) die(pos[0], err);

  native_io io = {0};
  int mapped = 0;
  io.weights = map_file(pos[1], &wlen, &mapped);
#ifdef OPML_X86
  opml_set_const_data(io.weights, wlen, mapped ? drop_pages : 0);
#endif
  io.weights_len = wlen;
  io.const_offset = calloc(prog.n_constants + 1, sizeof(size_t));
  size_t off = 0;
  for (uint32_t i = 0; i < prog.n_tensors; i++) {
    opml_ptensor *t = &prog.tensors[i];
    if (t->kind != OPML_KIND_CONSTANT) continue;
    io.const_offset[t->slot] = off;
    off += (opml_tensor_bytes(&t->t) + 63) & ~(size_t)63; /* each constant 64-byte aligned */
  }
  if (off != wlen) {
    snprintf(err, sizeof err, "%zu bytes, but the program's constants take %zu", wlen, off);
    die(pos[1], err);
  }
  if ((uint32_t)(npos - 3) != prog.n_inputs) {
    snprintf(err, sizeof err, "the program has %u inputs, %d given", prog.n_inputs, npos - 3);
    die(err, 0);
  }
  io.inputs = calloc(prog.n_inputs + 1, sizeof(uint8_t *));
  io.input_len = calloc(prog.n_inputs + 1, sizeof(size_t));
  for (uint32_t i = 0; i < prog.n_inputs; i++) {
    io.inputs[i] = read_file(pos[3 + i], &io.input_len[i]);
    opml_ptensor *t = &prog.tensors[prog.inputs[i]];
    size_t need = opml_tensor_bytes(&t->t);
    if (io.input_len[i] != need) {
      snprintf(err, sizeof err, "input %u ('%.*s') has %zu bytes, expected %zu", i, (int)t->name_len, t->name,
               io.input_len[i], need);
      die(pos[3 + i], err);
    }
  }
  uint32_t n = prog.n_nodes;
  if (has_tamper && (tamper < 1 || tamper > n)) {
    snprintf(err, sizeof err, "--tamper %u: the program's nodes are 1 .. %u", tamper, n);
    die(err, 0);
  }
  if (has_tamper && !opml_tensor_bytes(&prog.tensors[prog.nodes[tamper - 1].out_ids[0]].t)) {
    snprintf(err, sizeof err, "--tamper %u: the node's first output is empty", tamper);
    die(err, 0);
  }
  if (has_range && !(range_a < range_b && range_b <= n + 1)) {
    snprintf(err, sizeof err, "--checker-data %u %u: need A < B <= %u (the node count + 1)", range_a, range_b, n + 1);
    die(err, 0);
  }
  io.tamper = tamper;
  io.track = states_file || has_range;
  /* the task's keys (S_0's ingredients): the program key and the inputs' data keys */
  uint8_t *input_keys = calloc(prog.n_inputs + 1, 32);
  if (io.track) {
    opml_merkle_data_key(pbuf, plen, io.program_key);
    for (uint32_t i = 0; i < prog.n_inputs; i++) opml_merkle_data_key(io.inputs[i], io.input_len[i], input_keys + 32 * i);
  }
  if (states_file) {
    io.states = malloc(32 * ((size_t)n + 2));
    uint8_t ikey[32];
    opml_merkle_data_key(input_keys, 32 * (size_t)prog.n_inputs, ikey);
    opml_state(io.program_key, 0, ikey, io.states);
  }
  opml_io oio = {&io, io_map, io_load, after_node, !has_tamper}; /* --tamper modifies outputs */
  int runs = repeat > 0 ? repeat : repeat_stdin ? 2 : 1;
  uint64_t *ns = calloc((size_t)runs, sizeof(uint64_t));
  char line[64];
  for (int r = 0; r < runs; r++) {
    /* --repeat-stdin: run 0 is the warm-up, then run 1 again for every line until end of input */
    if (repeat_stdin && r && !fgets(line, sizeof line, stdin)) break;
    if (r) opml_program_reset(&prog);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (io.track) {
      if (r) opml_table_free(&io.table);
      if (opml_table_init0(&io.table, &prog, input_keys)) die("out of memory", 0);
    }
    if (has_range) {
      /* the dishonest server's data too: --tamper applies as in a full run */
      if (opml_program_run_nodes(&prog, &oio, 0, range_a, err, sizeof err)) die(err, 0);
      write_checker_data(&io, &prog, range_a, range_b, data_dir);
      return 0;
    }
    opml_parallel_begin();
    if (opml_program_run(&prog, &oio, err, sizeof err)) die(err, 0);
    if (io.states) {
      uint8_t okey[32];
      opml_output_key(&io.table, &prog, okey);
      opml_state(io.program_key, n + 1, okey, io.states + 32 * ((size_t)n + 1));
    }
    opml_parallel_end();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns[r] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)(t1.tv_nsec - t0.tv_nsec);
    if (repeat_stdin && r) {
      printf("compute_ns %llu\n", (unsigned long long)ns[r]);
      fflush(stdout);
      r = 0; /* the next line runs as run 1 again */
    }
  }
  if (states_file) write_file(states_file, io.states, 32 * ((size_t)n + 2));
  if (repeat > 0) {
    qsort(ns, (size_t)runs, sizeof(uint64_t), cmp_u64);
    fprintf(stderr, "compute_ns %llu\n", (unsigned long long)ns[runs / 2]);
  }
  FILE *f = fopen(pos[2], "wb");
  if (!f) die("cannot write", pos[2]);
  for (uint32_t i = 0; i < prog.n_outputs; i++) {
    opml_tensor *t = &prog.tensors[prog.outputs[i]].t;
    size_t nb = opml_tensor_bytes(t);
    if (nb && fwrite(t->data, 1, nb, f) != nb) die("cannot write", pos[2]);
  }
  if (fclose(f)) die("cannot write", pos[2]);
  return 0;
}
