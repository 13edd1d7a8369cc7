/*
 * opml-runtime: the native (hosted) runner of a program (docs/IR.md, "Runtime I/O") and the
 * phase-1 states of docs/MULTIPHASE.md.
 *   opml-runtime PROGRAM.opir WEIGHTS.bin OUT.bin [INPUT.bin ...] [--repeat N]
 *                [--states FILE] [--tamper K] [--checker-data A B DIR] [--repeat-stdin]
 *                [--threads N]
 *   opml-runtime PROGRAM.opir WEIGHTS.bin --session [--threads N]
 * --threads N: the kernels' threads (default: the machine's online cores); the outputs are the
 * same bytes for any N (core/runtime/parallel.c).
 * --repeat-stdin (benchmarks): after loading, one inference per line read on stdin, each
 * answered by a line `compute_ns N` on stdout, so a benchmark can interleave these runs with
 * another engine's in the same process schedule (tasks/bench_models.ts).
 * --session (serving, core/engine/session.ts): after loading, one request per line read on stdin,
 * `OUT.bin<TAB>INPUT.bin<TAB>...` (paths hold no tab or newline), each run on those inputs and
 * answered by a line on stdout: `ok COMPUTE_NS` once OUT.bin is written, or `error MESSAGE` (the
 * one-shot run's one-line message: a missing file, a wrong size, ...) and the session goes on.
 * End of input exits 0. The process keeps the packed weights and the faulted-in pages between
 * requests: only its first inference pays them (docs/BENCHMARKS.md).
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
  /* states: the table's paths rehashed after the run, all nodes' at once (phase1.h); not with
   * --checker-data (its table is read mid-run) nor OPML_STATES=serial (node by node, for tests) */
  int defer;
  uint8_t program_key[32];
  uint8_t *states;   /* S_0 .. S_(N+1), 32 bytes each, or NULL */
} native_io;

static void die(const char *msg, const char *detail) {
  fprintf(stderr, "opml-runtime: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
  exit(3);
}

/* "msg: detail" into err (the one-line message of die, or of a session's `error` answer); 1. */
static int fail(char *err, size_t errlen, const char *msg, const char *detail) {
  snprintf(err, errlen, "%s%s%s", msg, detail ? ": " : "", detail ? detail : "");
  return 1;
}

/* A whole file, 64-byte aligned (so that constants can be used in place); NULL with a message
 * in err on failure. */
static uint8_t *try_read_file(const char *path, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, errlen, "cannot open", path), NULL;
  long n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
  uint8_t *buf = 0;
  if (n < 0 || fseek(f, 0, SEEK_SET)) {
    fail(err, errlen, "cannot read", path);
  } else if (!(buf = aligned_alloc(64, ((size_t)n + 64) & ~(size_t)63))) {
    fail(err, errlen, "out of memory reading", path);
  } else if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fail(err, errlen, "cannot read", path);
    free(buf);
    buf = 0;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static uint8_t *read_file(const char *path, size_t *len) {
  char err[4200];
  uint8_t *buf = try_read_file(path, len, err, sizeof err);
  if (!buf) die(err, 0);
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
  if (io->defer) {
    if (opml_table_defer_node(&io->table, p, i)) die("out of memory", 0);
    return 0;
  }
  if (io->track) {
    opml_table_add_node(&io->table, p, i);
    if (io->states) opml_table_state(&io->table, io->program_key, i + 1, io->states + 32 * (size_t)(i + 1));
  }
  return 0;
}

/* The inputs from their files, checked against the program (count, sizes); the previous ones
 * (a session's last request) are freed. Nonzero with a message in err on failure. */
static int load_inputs(const opml_program *p, native_io *io, const char *const *paths, int n, char *err,
                       size_t errlen) {
  char why[512];
  for (uint32_t i = 0; i < p->n_inputs; i++) free(io->inputs[i]), io->inputs[i] = 0;
  if ((uint32_t)n != p->n_inputs) {
    snprintf(why, sizeof why, "the program has %u inputs, %d given", p->n_inputs, n);
    return fail(err, errlen, why, 0);
  }
  for (uint32_t i = 0; i < p->n_inputs; i++) {
    io->inputs[i] = try_read_file(paths[i], &io->input_len[i], err, errlen);
    if (!io->inputs[i]) return 1;
    const opml_ptensor *t = &p->tensors[p->inputs[i]];
    size_t need = opml_tensor_bytes(&t->t);
    if (io->input_len[i] != need) {
      snprintf(why, sizeof why, "input %u ('%.*s') has %zu bytes, expected %zu", i, (int)t->name_len, t->name,
               io->input_len[i], need);
      return fail(err, errlen, paths[i], why);
    }
  }
  return 0;
}

/* The program's outputs, one after the other, into path (host order: x86 is little-endian). */
static int write_outputs(const opml_program *p, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "wb");
  if (!f) return fail(err, errlen, "cannot write", path);
  int bad = 0;
  for (uint32_t i = 0; i < p->n_outputs && !bad; i++) {
    const opml_tensor *t = &p->tensors[p->outputs[i]].t;
    size_t nb = opml_tensor_bytes(t);
    bad = nb && fwrite(t->data, 1, nb, f) != nb;
  }
  if (fclose(f) || bad) return fail(err, errlen, "cannot write", path);
  return 0;
}

static uint64_t elapsed_ns(const struct timespec *t0, const struct timespec *t1) {
  return (uint64_t)(t1->tv_sec - t0->tv_sec) * 1000000000u + (uint64_t)(t1->tv_nsec - t0->tv_nsec);
}

/* --session: answers requests until end of input (see the top of this file). */
static int serve_session(opml_program *p, native_io *io, const opml_io *oio) {
  char *line = 0, err[4200];
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) >= 0) {
    if (len && line[len - 1] == '\n') line[--len] = 0;
    int nf = 1;
    for (ssize_t i = 0; i < len; i++) nf += line[i] == '\t';
    char **field = malloc(sizeof(char *) * (size_t)nf);
    field[0] = line; /* split by hand, not strtok: an empty field stays a field */
    for (int k = 1, i = 0; i < len; i++) {
      if (line[i] == '\t') line[i] = 0, field[k++] = line + i + 1;
    }
    opml_program_reset(p); /* the last request's tensors, before its inputs are freed */
    struct timespec t0, t1;
    int bad = !*field[0] ? fail(err, sizeof err, "a request is OUT.bin<TAB>INPUT.bin...", "no output file") :
                           load_inputs(p, io, (const char *const *)field + 1, nf - 1, err, sizeof err);
    if (!bad) {
      clock_gettime(CLOCK_MONOTONIC, &t0);
      opml_parallel_begin();
      bad = opml_program_run(p, oio, err, sizeof err);
      opml_parallel_end();
      clock_gettime(CLOCK_MONOTONIC, &t1);
    }
    if (!bad) bad = write_outputs(p, field[0], err, sizeof err);
    free(field);
    if (bad) {
      for (char *c = err; *c; c++) if (*c == '\n' || *c == '\r') *c = ' '; /* one answer, one line */
      printf("error %s\n", err);
    } else {
      printf("ok %llu\n", (unsigned long long)elapsed_ns(&t0, &t1));
    }
    fflush(stdout);
  }
  free(line);
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
  int repeat = 0, has_tamper = 0, has_range = 0, repeat_stdin = 0, session = 0;
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
    else if (!strcmp(argv[i], "--session")) session = 1;
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
  if (npos < 3 && !(session && npos == 2)) {
    die("usage: opml-runtime PROGRAM.opir WEIGHTS.bin OUT.bin [INPUT.bin ...] [--repeat N] [--states FILE] "
        "[--tamper K] [--checker-data A B DIR] [--repeat-stdin] [--threads N], or "
        "opml-runtime PROGRAM.opir WEIGHTS.bin --session [--threads N]", 0);
  }
  if (session && (npos > 2 || repeat || repeat_stdin || states_file || has_tamper || has_range)) {
    die("--session takes PROGRAM.opir WEIGHTS.bin and --threads only (the files come on stdin)", 0);
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
  char err[4200];
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
  io.inputs = calloc(prog.n_inputs + 1, sizeof(uint8_t *));
  io.input_len = calloc(prog.n_inputs + 1, sizeof(size_t));
  if (session) {
    opml_io sio = {&io, io_map, io_load, after_node, 1, 1};
    return serve_session(&prog, &io, &sio);
  }
  if (load_inputs(&prog, &io, pos + 3, npos - 3, err, sizeof err)) die(err, 0);
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
  const char *sm = getenv("OPML_STATES");
  io.defer = states_file && !has_range && !(sm && !strcmp(sm, "serial"));
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
  /* --tamper modifies outputs; states and checker data read every node's */
  opml_io oio = {&io, io_map, io_load, after_node, !has_tamper, !has_tamper && !io.track};
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
    if (io.defer && opml_table_defer_states(&io.table, io.program_key, n, io.states)) die("out of memory", 0);
    if (io.states) {
      uint8_t okey[32];
      opml_output_key(&io.table, &prog, okey);
      opml_state(io.program_key, n + 1, okey, io.states + 32 * ((size_t)n + 1));
    }
    opml_parallel_end();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns[r] = elapsed_ns(&t0, &t1);
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
  if (write_outputs(&prog, pos[2], err, sizeof err)) die(err, 0);
  return 0;
}
