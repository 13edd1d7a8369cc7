/*
 * opml-runtime: the native (hosted) runner of a program (docs/IR.md, "Runtime I/O").
 *   opml-runtime PROGRAM.opir WEIGHTS.bin OUT.bin [INPUT.bin ...] [--repeat N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interp.h"

typedef struct native_io {
  uint8_t *weights;
  size_t weights_len;
  size_t *const_offset; /* per constant slot */
  uint8_t **inputs;
  size_t *input_len;
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

static const void *io_map(void *ctx, const opml_ptensor *t, size_t bytes) {
  native_io *io = ctx;
  (void)bytes;
  if (t->kind == OPML_KIND_CONSTANT) return io->weights + io->const_offset[t->slot];
  return io->inputs[t->slot];
}

static int io_load(void *ctx, const opml_ptensor *t, void *dst, size_t bytes) {
  memcpy(dst, io_map(ctx, t, bytes), bytes);
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int repeat = 0;
  const char *pos[260];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (npos < 260) pos[npos++] = argv[i];
  }
  if (npos < 3) die("usage: opml-runtime PROGRAM.opir WEIGHTS.bin OUT.bin [INPUT.bin ...] [--repeat N]", 0);
  size_t plen, wlen;
  uint8_t *pbuf = read_file(pos[0], &plen);
  opml_program prog;
  char err[512];
  if (opml_program_parse(pbuf, plen, &prog, err, sizeof err)) die(pos[0], err);

  native_io io = {0};
  io.weights = read_file(pos[1], &wlen);
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
  opml_io oio = {&io, io_map, io_load};
  int runs = repeat > 0 ? repeat : 1;
  uint64_t *ns = calloc((size_t)runs, sizeof(uint64_t));
  for (int r = 0; r < runs; r++) {
    if (r) opml_program_reset(&prog);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (opml_program_run(&prog, &oio, err, sizeof err)) die(err, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns[r] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)(t1.tv_nsec - t0.tv_nsec);
  }
  if (repeat > 0) {
    qsort(ns, (size_t)runs, sizeof(uint64_t), cmp_u64);
    fprintf(stderr, "compute_ns %llu\n", (unsigned long long)ns[runs / 2]);
  }
  FILE *f = fopen(pos[2], "wb");
  if (!f) die("cannot write", pos[2]);
  for (uint32_t i = 0; i < prog.n_outputs; i++) {
    opml_tensor *t = &prog.tensors[prog.outputs[i]].t;
    size_t n = opml_tensor_bytes(t);
    if (n && fwrite(t->data, 1, n, f) != n) die("cannot write", pos[2]);
  }
  if (fclose(f)) die("cannot write", pos[2]);
  return 0;
}
