/*
 * nn kernels (op codes 100-199, docs/IR.md): MatMul, Gemm, Conv, MaxPool, AveragePool,
 * GlobalAveragePool, BatchNormalization, LayerNormalization, Softmax, LogSoftmax, ReduceMean.
 * The attribute layouts are documented with each op in core/compiler/ops/nn.ts.
 *
 * Every result is defined by a fixed sequence of IEEE float32 operations per output; the fast
 * paths below only change which outputs are computed together, never that sequence:
 *  - matrix products (MatMul, Gemm, Conv): acc = +0, then acc = acc + a_k * b_k for k = 0, 1, ...
 *    (one rounding per product, one per sum), then the op's epilogue (alpha/beta/bias);
 *  - sums (means, softmax denominators, normalisations): ascending index, one accumulator;
 *  - maxima: first element, then `if (v > m) m = v` in ascending order.
 */
#include "kernel.h"
#include "ops.h"
#include "mathf.h"
#include "simd.h"
#ifdef __mips__
#include "libc.h"
#else
#include <string.h>
#endif

typedef ptrdiff_t idx;

/* --- the matrix product core ---------------------------------------------------------------
 * C(i,j) = epilogue(acc(i,j)), acc(i,j) = sum over k ascending of A(i,k) * B(k,j), where
 * A(i,k) = a[arow[i] + acol[k]] (so A can be a strided matrix or an implicit im2col of a
 * convolution input) and B(k,j) = b[k*b_rs + j*b_cs].
 * Register-blocked tiles of 8, 4 (MIPS: 3) or 1 rows by NR columns: each accumulator is one
 * output, updated once per k in ascending k, so the compiler may keep NR outputs in SIMD
 * registers (lanes are independent outputs) without changing any output's bits. Costs:
 * natively about 15-20 GMAC/s with AVX2 on this project's reference machine, 60-110 with the
 * AVX-512 tiles (8 x 32, packed panels; pointwise convolutions of mobilenet_v2); in the MIPS image
 * 3.0 (3-row tile) to 4.0 (1-row tile) VM steps per multiply-add: a mul.s and an add.s each,
 * plus the loads and address arithmetic (docs/BENCHMARKS.md, section 2). */

#define NR 8
#define WR_MAX 32 /* the most positions in one im2col panel (AVX-512: WR) */

typedef struct mm_args {
  idx M, N, K;
  const float *a;
  const idx *arow, *acol;
  const float *b;
  idx b_rs, b_cs;
  float *c;
  idx c_rs, c_cs;
  float alpha, beta;  /* C = alpha*acc + beta*bias; a factor 1 is skipped (same bits) */
  const float *bias;  /* NULL: no bias term */
  idx bias_rs, bias_cs;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(OPML_NN_GENERIC) /* (NN_AVX2, below) */
  struct bpack *bp;   /* B's panels packed once per process (bpack_use), or NULL */
  const idx *boff;    /* conv_grid's tiles: B's row k at b + boff[k] */
#endif
  const opml_epilogue *epi; /* NULL, or a fused node after the epilogue (opml_node.epi) */
} mm_args;

/* A fused node (opml_node.epi) on one output: a NaN becomes the canonical one (the
 * interpreter's NaN pass), then Clip's expression (elementwise.c: NaN passes, -0 stays) or
 * opml_hardswishf, its NaN made canonical again. */
static inline float epi1(const opml_epilogue *e, float v) {
  if (v != v) return opml_bits_f32(0x7fc00000u);
  if (e->hardswish) {
    const float u = opml_hardswishf(v);
    return u != u ? opml_bits_f32(0x7fc00000u) : u;
  }
  const float t = v < e->lo ? e->lo : v;
  return t > e->hi ? e->hi : t;
}

/* epi1 over n outputs in place. */
static void epi_run(const opml_epilogue *e, float *y, idx n);

/* acc[r*NR + j] = sum_k A(r,k) * b[k*ldb + j] for the rows r < ROWS at arow[0..ROWS). The
 * loops are unrolled so that the ROWS x NR accumulators stay in registers. */
#define TILE(NAME, ROWS, ATTR)                                                                    \
  ATTR static void NAME(idx K, const float *a, const idx *arow, const idx *acol, const float *b,   \
                        idx ldb, float *acc) {                                                    \
    float c[ROWS][NR];                                                                            \
    const float *ar[ROWS];                                                                        \
    _Pragma("GCC unroll 16") for (int r = 0; r < ROWS; r++) {                                     \
      ar[r] = a + arow[r];                                                                        \
      _Pragma("GCC unroll 16") for (int j = 0; j < NR; j++) c[r][j] = 0.0f;                       \
    }                                                                                             \
    for (idx k = 0; k < K; k++) {                                                                 \
      const idx o = acol[k];                                                                      \
      const float *bk = b + k * ldb;                                                              \
      _Pragma("GCC unroll 16") for (int r = 0; r < ROWS; r++) {                                   \
        const float x = ar[r][o];                                                                 \
        _Pragma("GCC unroll 16") for (int j = 0; j < NR; j++) c[r][j] += x * bk[j];               \
      }                                                                                           \
    }                                                                                             \
    _Pragma("GCC unroll 16") for (int r = 0; r < ROWS; r++) {                                     \
      _Pragma("GCC unroll 16") for (int j = 0; j < NR; j++) acc[r * NR + j] = c[r][j];            \
    }                                                                                             \
  }

typedef void (*tile_fn)(idx K, const float *a, const idx *arow, const idx *acol, const float *b, idx ldb,
                        float *acc);

TILE(tile_4, 4, )
TILE(tile_1, 1, )

#if defined(__mips__)
/* The MIPS image (the VM, where every instruction is a step): a 4 x 8 tile's 32 accumulators
 * fill all 32 FPU registers and GCC spills a third of them every k. 3 x 8 keeps its 24 in
 * registers if the B row is not loaded all at once ahead of the products (the scheduler's
 * choice, hence no-schedule-insns): 3.0 instead of 4.8 steps per multiply-add. */
TILE(tile_3, 3, __attribute__((optimize("no-schedule-insns"))))
#endif

/* On x86-64 hosts with AVX2 the same tiles, 8 rows high, in 256-bit registers: identical bits
 * (each output is still its own sequence of float operations; -ffp-contract=off forbids FMA),
 * chosen at run time so the native runtime still runs on any x86-64. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(OPML_NN_GENERIC) /* (the flag: testing) */
#define NN_AVX2 1
#include <sys/mman.h> /* madvise: huge pages for the packed constant panels */
TILE(tile_8_avx2, 8, __attribute__((target("avx2"))))
TILE(tile_4_avx2, 4, __attribute__((target("avx2"))))
TILE(tile_1_avx2, 1, __attribute__((target("avx2"))))
#endif

/* The tile kernels of this host: rows[i] high, widest first. */
typedef struct tiles {
  int n;
  idx rows[3];
  tile_fn fn[3];
} tiles;

static tiles host_tiles(void) {
#ifdef NN_AVX2
  if (opml_use_avx2()) return (tiles){3, {8, 4, 1}, {tile_8_avx2, tile_4_avx2, tile_1_avx2}};
#endif
#if defined(__mips__)
  return (tiles){2, {3, 1, 0}, {tile_3, tile_1, 0}};
#else
  return (tiles){2, {4, 1, 0}, {tile_4, tile_1, 0}};
#endif
}

/* One column of B for 8 rows: independent scalar chains (a lone column wastes SIMD lanes). */
static void col_8(idx K, const float *a, const idx *arow, const idx *acol, const float *b, idx b_rs,
                  float *acc) {
  float s[8];
  for (int r = 0; r < 8; r++) s[r] = 0.0f;
  for (idx k = 0; k < K; k++) {
    const idx o = acol[k];
    const float y = b[k * b_rs];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) s[r] += a[arow[r] + o] * y;
  }
  for (int r = 0; r < 8; r++) acc[r * NR] = s[r];
}

/* C(i0 + r, j0 + j) = epilogue(acc[r * ld + j]) for r < mr, j < nr (then epi1, in
 * store_tile_ld). */
static void store_tile_raw(const mm_args *g, const float *acc, idx ld, idx i0, idx mr, idx j0, idx nr) {
  const idx cs = g->c_cs, bcs = g->bias_cs;
  if (cs == 1 && nr == NR && g->alpha == 1.0f && !g->bias) { /* the common case, vectorised */
    for (idx r = 0; r < mr; r++) {
      float *c = g->c + (i0 + r) * g->c_rs + j0;
      for (int j = 0; j < NR; j++) c[j] = acc[r * ld + j];
    }
    return;
  }
  if (cs == 1 && g->alpha == 1.0f && g->bias && g->beta == 1.0f && bcs == 0) {
    /* a bias per row (pointwise Conv, panels): contiguous rows, vectorised */
    for (idx r = 0; r < mr; r++) {
      float *c = g->c + (i0 + r) * g->c_rs + j0;
      const float bv = g->bias[(i0 + r) * g->bias_rs];
      if (nr == NR) {
        for (int j = 0; j < NR; j++) c[j] = acc[r * ld + j] + bv;
      } else {
        for (idx j = 0; j < nr; j++) c[j] = acc[r * ld + j] + bv;
      }
    }
    return;
  }
  if (g->c_rs == 1 && g->alpha == 1.0f && (!g->bias || g->beta == 1.0f)) {
    /* a transposed output (Conv: channels are columns): contiguous runs along the rows */
    for (idx j = 0; j < nr; j++) {
      float *c = g->c + (j0 + j) * cs + i0;
      if (g->bias) {
        const float *bi = g->bias + i0 * g->bias_rs + (j0 + j) * bcs;
        for (idx r = 0; r < mr; r++) c[r] = acc[r * ld + j] + bi[r * g->bias_rs];
      } else {
        for (idx r = 0; r < mr; r++) c[r] = acc[r * ld + j];
      }
    }
    return;
  }
  for (idx r = 0; r < mr; r++) {
    float *c = g->c + (i0 + r) * g->c_rs + j0 * cs;
    const float *s = acc + r * ld;
    const float *bi = g->bias ? g->bias + (i0 + r) * g->bias_rs + j0 * bcs : 0;
    if (g->alpha == 1.0f && !bi) {
      for (idx j = 0; j < nr; j++) c[j * cs] = s[j];
    } else if (g->alpha == 1.0f && g->beta == 1.0f) {
      for (idx j = 0; j < nr; j++) c[j * cs] = s[j] + bi[j * bcs];
    } else if (!bi) {
      for (idx j = 0; j < nr; j++) c[j * cs] = g->alpha * s[j];
    } else {
      for (idx j = 0; j < nr; j++) c[j * cs] = g->alpha * s[j] + g->beta * bi[j * bcs];
    }
  }
}

static void store_tile_ld(const mm_args *g, const float *acc, idx ld, idx i0, idx mr, idx j0, idx nr) {
  store_tile_raw(g, acc, ld, i0, mr, j0, nr);
  if (!g->epi) return;
  for (idx r = 0; r < mr; r++) {
    float *c = g->c + (i0 + r) * g->c_rs + j0 * g->c_cs;
    if (g->c_cs == 1) {
      epi_run(g->epi, c, nr);
    } else {
      for (idx j = 0; j < nr; j++) c[j * g->c_cs] = epi1(g->epi, c[j * g->c_cs]);
    }
  }
}

static void store_tile(const mm_args *g, const float *acc, idx i0, idx mr, idx j0, idx nr) {
  store_tile_ld(g, acc, NR, i0, mr, j0, nr);
}

/* One work item of a product: the output columns [j0, j0 + NR) and rows [i0, i1). */
typedef struct mm_job {
  const mm_args *g;
  tiles ts;
  idx rows, chunks; /* rows per item (a multiple of 8), items per column panel */
  int wide;         /* items of WR columns in AVX-512 tiles (B rows contiguous) */
  int failed;       /* an item had no scratch memory */
#ifdef NN_AVX2
  float *packed;    /* wide: B's panels packed once per process (K x WR each), or NULL */
  int fill;         /* packed is new: each item packs its own panel first (one item per panel) */
#endif
} mm_job;

/* Rows [i0, i1) of the output columns [j0, j0 + NR). */
static void mm_panel(mm_job *job, idx j0, idx i0, idx i1) {
  const mm_args *g = job->g;
  const idx nr = g->N - j0 < NR ? g->N - j0 : NR;
  const float *b = g->b + j0 * g->b_cs;
  float acc[8 * NR];
  if (nr == 1) { /* a lone column: scalar chains, no packing */
    for (; i0 + 8 <= i1; i0 += 8) {
      col_8(g->K, g->a, g->arow + i0, g->acol, b, g->b_rs, acc);
      store_tile(g, acc, i0, 8, j0, 1);
    }
  }
  if (i0 >= i1) return;
  idx ldb = g->b_rs;
  float *panel = 0;
  if (g->b_cs != 1 || nr < NR) {
    /* pack the panel B(:, j0..j0+nr) as K rows of NR floats, zero-padded */
    panel = opml_alloc((size_t)(g->K > 0 ? g->K : 1) * NR * sizeof(float));
    if (!panel) {
      job->failed = 1;
      return;
    }
    for (idx k = 0; k < g->K; k++) {
      const float *src = b + k * g->b_rs;
      float *dst = panel + k * NR;
      idx j = 0;
      for (; j < nr; j++) dst[j] = src[j * g->b_cs];
      for (; j < NR; j++) dst[j] = 0.0f;
    }
    b = panel, ldb = NR;
  }
  const tiles *ts = &job->ts;
  for (int t = 0; t < ts->n; t++) {
    for (; i0 + ts->rows[t] <= i1; i0 += ts->rows[t]) {
      ts->fn[t](g->K, g->a, g->arow + i0, g->acol, b, ldb, acc);
      store_tile(g, acc, i0, ts->rows[t], j0, nr);
    }
  }
  if (panel) opml_free(panel);
}

#ifdef NN_AVX2
/* With AVX-512: tiles of ROWS rows by 16 V contiguous columns (V = 1 or 2 registers per row, up
 * to 16 accumulators), B read at b + k ldb, lanes past the last column masked off (they are
 * neither loaded nor stored). Each lane is one output, acc = acc + a_k * b_k in ascending k, a
 * separate multiply and add (no FMA): the bits of the plain tiles. The epilogue stores whole
 * rows from the registers where it is C = acc [+ bias per row or a contiguous bias row] (the
 * same single addition per output), and goes through store_tile_ld otherwise. */
#define AVX512 __attribute__((target("avx512f")))
#define WR 32 /* columns of the widest tile */

/* epi1 in 16 and 8 lanes: the same operations and comparisons per lane (ordered: false for
 * NaN). */
AVX512 static inline __m512 canon16(__m512 v) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v, _mm512_castsi512_ps(_mm512_set1_epi32(0x7fc00000)));
}
AVX512 static inline __m512 epi16(const opml_epilogue *e, __m512 v) {
  v = canon16(v);
  if (e->hardswish) {
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    __m512 u = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.0f / 6.0f)), _mm512_set1_ps(0.5f));
    u = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(one, u, _CMP_LT_OQ), u, one);
    u = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(zero, u, _CMP_GT_OQ), u, zero);
    return canon16(_mm512_mul_ps(v, u));
  }
  const __m512 lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
  const __m512 t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), v, lo);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, hi, _CMP_GT_OQ), t, hi);
}
__attribute__((target("avx2"))) static inline __m256 canon8(__m256 v) {
  return _mm256_blendv_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000)), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
__attribute__((target("avx2"))) static inline __m256 epi8(const opml_epilogue *e, __m256 v) {
  v = canon8(v);
  if (e->hardswish) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    __m256 u = _mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.0f / 6.0f)), _mm256_set1_ps(0.5f));
    u = _mm256_blendv_ps(u, one, _mm256_cmp_ps(one, u, _CMP_LT_OQ));
    u = _mm256_blendv_ps(u, zero, _mm256_cmp_ps(zero, u, _CMP_GT_OQ));
    return canon8(_mm256_mul_ps(v, u));
  }
  const __m256 lo = _mm256_set1_ps(e->lo), hi = _mm256_set1_ps(e->hi);
  const __m256 t = _mm256_blendv_ps(v, lo, _mm256_cmp_ps(v, lo, _CMP_LT_OQ));
  return _mm256_blendv_ps(t, hi, _mm256_cmp_ps(t, hi, _CMP_GT_OQ));
}
AVX512 static void epi_run_avx512(const opml_epilogue *e, float *y, idx n) {
  idx i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, epi16(e, _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, epi16(e, _mm512_maskz_loadu_ps(m, y + i)));
  }
}

AVX512 static inline __attribute__((always_inline)) void wide_store(const mm_args *g, __m512 *c, int rows, int v, idx i0, idx j0, __mmask16 m0,
                              __mmask16 m1) {
  const idx bcs = g->bias_cs;
  if (g->c_cs == 1 && g->alpha == 1.0f && (!g->bias || (g->beta == 1.0f && (bcs == 0 || bcs == 1)))) {
    for (int r = 0; r < rows; r++) {
      float *cr = g->c + (i0 + r) * g->c_rs + j0;
      for (int h = 0; h < v; h++) {
        const __mmask16 m = h ? m1 : m0;
        __m512 y = c[r * v + h];
        if (g->bias) {
          const float *bi = g->bias + (i0 + r) * g->bias_rs + (j0 + 16 * h) * bcs;
          y = _mm512_add_ps(y, !bcs ? _mm512_set1_ps(*bi) : m == 0xFFFF ? _mm512_loadu_ps(bi) : _mm512_maskz_loadu_ps(m, bi));
        }
        if (g->epi) y = epi16(g->epi, y);
        if (m == 0xFFFF) { /* (masked loads and stores are slow: WTILE) */
          _mm512_storeu_ps(cr + 16 * h, y);
        } else {
          _mm512_mask_storeu_ps(cr + 16 * h, m, y);
        }
      }
    }
    return;
  }
  if (rows == 8 && g->c_rs == 1 && g->alpha == 1.0f && (!g->bias || (g->beta == 1.0f && g->bias_rs == 0))) {
    /* a transposed output (a convolution with positions as rows): 8 x 8 blocks transposed in
     * registers, each column's 8 rows stored at once, plus its bias (the same single addition) */
    const idx nr = (idx)__builtin_popcount(m0) + (idx)__builtin_popcount(m1);
    for (int h = 0; h < v; h++) {
      for (int q8 = 0; q8 < 2 && 16 * h + 8 * q8 < nr; q8++) {
        __m256 x[8], u[8];
        for (int r = 0; r < 8; r++) {
          x[r] = q8 ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(c[r * v + h]), 1)) : _mm512_castps512_ps256(c[r * v + h]);
        }
        for (int r = 0; r < 8; r += 2) u[r] = _mm256_unpacklo_ps(x[r], x[r + 1]), u[r + 1] = _mm256_unpackhi_ps(x[r], x[r + 1]);
        for (int r = 0; r < 8; r += 4) {
          x[r] = _mm256_shuffle_ps(u[r], u[r + 2], 0x44), x[r + 1] = _mm256_shuffle_ps(u[r], u[r + 2], 0xEE);
          x[r + 2] = _mm256_shuffle_ps(u[r + 1], u[r + 3], 0x44), x[r + 3] = _mm256_shuffle_ps(u[r + 1], u[r + 3], 0xEE);
        }
        for (int r = 0; r < 4; r++) {
          u[r] = _mm256_permute2f128_ps(x[r], x[r + 4], 0x20), u[r + 4] = _mm256_permute2f128_ps(x[r], x[r + 4], 0x31);
        }
        const idx jb = j0 + 16 * h + 8 * q8; /* u[l]: column jb + l's rows i0 .. i0 + 7 */
        for (idx l = 0; l < 8 && jb - j0 + l < nr; l++) {
          __m256 y = u[l];
          if (g->bias) y = _mm256_add_ps(y, _mm256_set1_ps(g->bias[(jb + l) * g->bias_cs]));
          if (g->epi) y = epi8(g->epi, y);
          _mm256_storeu_ps(g->c + (jb + l) * g->c_cs + i0, y);
        }
      }
    }
    return;
  }
  float t[8 * WR];
  for (int r = 0; r < rows; r++) {
    for (int h = 0; h < v; h++) _mm512_storeu_ps(t + r * WR + 16 * h, c[r * v + h]);
  }
  const idx nr = (idx)__builtin_popcount(m0) + (idx)__builtin_popcount(m1);
  store_tile_ld(g, t, WR, i0, rows, j0, nr);
}

/* Software prefetch distance in B rows: packed panels (ldb = WR, 128 bytes a row) 8 KiB ahead,
 * the hardware prefetcher restarting at every 4 KiB page; B rows far apart 16 rows ahead. */
#ifndef PF_PACKED
#define PF_PACKED 64
#endif
#define PF_ROWS(ldb) ((ldb) == WR ? PF_PACKED : 16)
/* FULL: every lane of B's V registers is a column (no masks: a masked load halves the tiles'
 * throughput on the reference machine, AMD Zen 5: 60 against 120 GMAC/s from the L1). */
#define WTILE(NAME, ROWS, V, FULL)                                                                \
  AVX512 static void NAME(const mm_args *g, idx i0, idx j0, const float *b, idx ldb, __mmask16 m0, \
                          __mmask16 m1) {                                                         \
    const idx pfd = PF_ROWS(ldb) * ldb;                                                           \
    const int PF = g->K > PF_ROWS(ldb);                                                           \
    __m512 c[ROWS * V];                                                                           \
    const float *ar[ROWS];                                                                        \
    _Pragma("GCC unroll 8") for (int r = 0; r < ROWS; r++) {                                     \
      ar[r] = g->a + g->arow[i0 + r];                                                             \
      _Pragma("GCC unroll 2") for (int h = 0; h < V; h++) c[r * V + h] = _mm512_setzero_ps();    \
    }                                                                                             \
    const idx *acol = g->acol;                                                                    \
    for (idx k = 0; k < g->K; k++) {                                                              \
      const idx o = acol[k];                                                                      \
      const float *bk = b + k * ldb;                                                              \
      if (PF) { /* the stream ahead, where the hardware prefetcher stops (PF_ROWS) */          \
        _mm_prefetch((const char *)(bk + pfd), _MM_HINT_T0);                                      \
        if (V > 1) _mm_prefetch((const char *)(bk + pfd + 16), _MM_HINT_T0);                      \
      }                                                                                           \
      const __m512 b0 = FULL ? _mm512_loadu_ps(bk) : _mm512_maskz_loadu_ps(m0, bk);               \
      const __m512 b1 = V == 1 ? b0 : FULL ? _mm512_loadu_ps(bk + 16) : _mm512_maskz_loadu_ps(m1, bk + 16); \
      _Pragma("GCC unroll 8") for (int r = 0; r < ROWS; r++) {                                   \
        const __m512 x = _mm512_set1_ps(ar[r][o]);                                                \
        c[r * V] = _mm512_add_ps(c[r * V], _mm512_mul_ps(x, b0));                                 \
        if (V > 1) c[r * V + V - 1] = _mm512_add_ps(c[r * V + V - 1], _mm512_mul_ps(x, b1));      \
      }                                                                                           \
    }                                                                                             \
    __m512 out[ROWS * V]; /* (c's address must not escape: it would be stored at every k) */    \
    _Pragma("GCC unroll 16") for (int i = 0; i < ROWS * V; i++) out[i] = c[i];                   \
    wide_store(g, out, ROWS, V, i0, j0, m0, m1);                                                  \
  }
WTILE(wtile_8x2, 8, 2, 0)
WTILE(wtile_4x2, 4, 2, 0)
WTILE(wtile_1x2, 1, 2, 0)
WTILE(wtile_8x1, 8, 1, 0)
WTILE(wtile_4x1, 4, 1, 0)
WTILE(wtile_1x1, 1, 1, 0)
WTILE(wtile_8x2f, 8, 2, 1)
WTILE(wtile_4x2f, 4, 2, 1)
WTILE(wtile_1x2f, 1, 2, 1)
WTILE(wtile_8x1f, 8, 1, 1)

/* conv_grid's tiles: ROWS rows of A (rows of W) by the WR columns from j0, B's row k at
 * b + boff[k] (a tap's view of the padded input: no im2col panel), all lanes columns. */
#ifndef GPF
#define GPF 16 /* taps ahead */
#endif
#define GTILE(NAME, ROWS)                                                                         \
  AVX512 static void NAME(const mm_args *g, idx i0, idx j0, const float *b) {                     \
    __m512 c[ROWS * 2];                                                                           \
    const float *ar[ROWS];                                                                        \
    _Pragma("GCC unroll 8") for (int r = 0; r < ROWS; r++) {                                     \
      ar[r] = g->a + g->arow[i0 + r];                                                             \
      c[2 * r] = c[2 * r + 1] = _mm512_setzero_ps();                                              \
    }                                                                                             \
    const idx *boff = g->boff, K = g->K, kpf = K > GPF ? K - GPF : 0;                             \
    for (idx k = 0; k < K; k++) {                                                                 \
      const float *bk = b + boff[k];                                                              \
      if (k < kpf) { /* taps' rows are planes apart: no stream for the hardware prefetcher */    \
        _mm_prefetch((const char *)(b + boff[k + GPF]), _MM_HINT_T0);                             \
        _mm_prefetch((const char *)(b + boff[k + GPF] + 31), _MM_HINT_T0);                        \
      }                                                                                           \
      const __m512 b0 = _mm512_loadu_ps(bk), b1 = _mm512_loadu_ps(bk + 16);                      \
      _Pragma("GCC unroll 8") for (int r = 0; r < ROWS; r++) {                                   \
        const __m512 x = _mm512_set1_ps(ar[r][k]);                                                \
        c[2 * r] = _mm512_add_ps(c[2 * r], _mm512_mul_ps(x, b0));                                 \
        c[2 * r + 1] = _mm512_add_ps(c[2 * r + 1], _mm512_mul_ps(x, b1));                         \
      }                                                                                           \
    }                                                                                             \
    __m512 out[ROWS * 2];                                                                         \
    _Pragma("GCC unroll 16") for (int i = 0; i < ROWS * 2; i++) out[i] = c[i];                   \
    wide_store(g, out, ROWS, 2, i0, j0, 0xFFFF, 0xFFFF);                                          \
  }
GTILE(gtile_8, 8)
GTILE(gtile_4, 4)
GTILE(gtile_1, 1)

/* Rows [i0, i1) of the nr <= WR output columns from j0, B's columns at b (row stride ldb). */
AVX512 static void wide_rows(const mm_args *g, idx j0, idx nr, idx i0, idx i1, const float *b, idx ldb) {
  const __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
  if (nr == 32) {
    for (; i0 + 8 <= i1; i0 += 8) wtile_8x2f(g, i0, j0, b, ldb, m0, m1);
    for (; i0 + 4 <= i1; i0 += 4) wtile_4x2f(g, i0, j0, b, ldb, m0, m1);
    for (; i0 < i1; i0++) wtile_1x2f(g, i0, j0, b, ldb, m0, m1);
  } else if (nr == 16) {
    for (; i0 + 8 <= i1; i0 += 8) wtile_8x1f(g, i0, j0, b, ldb, m0, m1);
  }
  if (nr > 16) {
    for (; i0 + 8 <= i1; i0 += 8) wtile_8x2(g, i0, j0, b, ldb, m0, m1);
    for (; i0 + 4 <= i1; i0 += 4) wtile_4x2(g, i0, j0, b, ldb, m0, m1);
    for (; i0 < i1; i0++) wtile_1x2(g, i0, j0, b, ldb, m0, m1);
  } else {
    for (; i0 + 8 <= i1; i0 += 8) wtile_8x1(g, i0, j0, b, ldb, m0, m1);
    for (; i0 + 4 <= i1; i0 += 4) wtile_4x1(g, i0, j0, b, ldb, m0, m1);
    for (; i0 < i1; i0++) wtile_1x1(g, i0, j0, b, ldb, m0, m1);
  }
}

/* B's columns [j0, j0 + nr) packed as K rows of WR floats (zeros past nr): the tiles then read
 * one contiguous stream instead of K rows far apart (B rows of a convolution's positions are
 * tens of KiB apart and alias in the cache). */
AVX512 static void pack_wide(const mm_args *g, idx j0, idx nr, float *p) {
  if (g->b_cs != 1) { /* a transposed B (Gemm's transB weights, packed once): along its rows */
    for (idx j = 0; j < WR; j++) {
      const float *s = g->b + (j0 + j) * g->b_cs;
      for (idx k = 0; k < g->K; k++) p[k * WR + j] = j < nr ? s[k * g->b_rs] : 0.0f;
    }
    return;
  }
  const __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
  const float *b = g->b + j0;
  if (nr == WR) { /* (masked loads are slow: WTILE) */
    for (idx k = 0; k < g->K; k++, b += g->b_rs, p += WR) {
      _mm512_storeu_ps(p, _mm512_loadu_ps(b));
      _mm512_storeu_ps(p + 16, _mm512_loadu_ps(b + 16));
    }
    return;
  }
  for (idx k = 0; k < g->K; k++, b += g->b_rs, p += WR) {
    _mm512_storeu_ps(p, _mm512_maskz_loadu_ps(m0, b));
    _mm512_storeu_ps(p + 16, _mm512_maskz_loadu_ps(m1, b + 16));
  }
}

/* --- constant B matrices, packed once per process (native only) ---------------------------
 * A product whose B lies in the runtime's constant data (the mapped weights: simd.h) reads B
 * from panels of WR columns packed at its second use and kept for the rest of the process:
 * K x WR floats per panel, one contiguous stream, where B's own rows are a whole row apart
 * (the 768 x 50257 LM head of a GPT-2: 200 KB, a new page every 128 bytes read). Same values,
 * same order per output: only where the tiles read B from changes. That use packs each panel
 * in the item that then reads it (still in the cache); afterwards the runtime may drop the
 * original's pages (its `drop` callback). The table is only touched by the calling thread
 * (mm_run; opml_parallel's items only fill the panels of their own columns). */
typedef struct bpack {
  const float *b;
  idx K, N, b_rs, b_cs;
  float *p;  /* NULL until B's second use */
  int ready; /* p holds the panels */
  int nomem; /* no memory for p: never packed */
} bpack;

#define BPACK_MAX 4096
static bpack bpacks[BPACK_MAX];
static int n_bpacks;
static struct {
  const char *lo;
  size_t n;
  void (*drop)(const void *p, size_t n);
} const_data;

void opml_set_const_data(const void *lo, size_t n, void (*drop)(const void *p, size_t n)) {
  const_data.lo = lo, const_data.n = n, const_data.drop = drop;
}

static int in_const_data(const void *p, size_t n) {
  const char *c = p;
  return const_data.lo && c >= const_data.lo && n <= const_data.n && (size_t)(c - const_data.lo) <= const_data.n - n;
}

/* Bytes from B's first element to the end of its last. */
static size_t b_span(idx K, idx N, idx b_rs, idx b_cs) {
  return ((size_t)(K - 1) * (size_t)b_rs + (size_t)(N - 1) * (size_t)b_cs + 1) * sizeof(float);
}

/* 1 iff B is constant data that bpack_use packs (row-major, or transposed: column-major). */
static int b_packable(const float *b, idx K, idx N, idx b_rs, idx b_cs) {
  return K > 0 && N > 0 && ((b_cs == 1 && b_rs >= N) || (b_rs == 1 && b_cs >= K)) &&
         in_const_data(b, b_span(K, N, b_rs, b_cs));
}

/*
 * The packed panels of a constant B for a product about to run: NULL at B's first use in the
 * process (a process that runs one inference pays no packing: its products read B in place,
 * prefetched) or when B is not constant data or memory is short; from the second use on the
 * panels, ready or to be packed by this product (ready = 0).
 */
static bpack *bpack_use(const float *b, idx K, idx N, idx b_rs, idx b_cs) {
  if (!b_packable(b, K, N, b_rs, b_cs)) return 0;
  bpack *e = 0;
  for (int i = 0; i < n_bpacks && !e; i++) {
    bpack *x = &bpacks[i];
    if (x->b == b && x->K == K && x->N == N && x->b_rs == b_rs && x->b_cs == b_cs) e = x;
  }
  if (!e) {
    if (n_bpacks < BPACK_MAX) bpacks[n_bpacks++] = (bpack){b, K, N, b_rs, b_cs, 0, 0, 0};
    return 0;
  }
  if (!e->p && !e->nomem) {
    const size_t bytes = (size_t)((N + WR - 1) / WR) * (size_t)K * WR * sizeof(float);
    /* 2 MiB aligned, so that the kernel may back it with huge pages (fewer faults, TLB misses);
     * not rounded up to whole huge pages (the tail takes small ones: no memory wasted) */
    const size_t align = bytes >= (2u << 20) ? (2u << 20) : 64;
    void *p = 0;
    e->p = posix_memalign(&p, align, bytes) ? 0 : p;
    e->nomem = !e->p;
#ifdef MADV_HUGEPAGE
    /* huge pages: a fifth of the page faults' and TLB misses' cost, measurably faster reads */
    if (e->p && align > 64) madvise(e->p, bytes & ~(size_t)4095, MADV_HUGEPAGE);
#endif
  }
  return e->p ? e : 0;
}

/* Packs one panel of a constant B; a transposed B's panel is its own rows, whose pages can go
 * at once (the peak memory of a large tied LM head then stays near the weights' size). */
static void bpack_panel(const mm_args *g, idx j0, idx nr, float *panel) {
  pack_wide(g, j0, nr, panel);
  if (g->b_cs != 1 && const_data.drop) {
    const_data.drop(g->b + j0 * g->b_cs, ((size_t)(nr - 1) * (size_t)g->b_cs + (size_t)g->K) * sizeof(float));
  }
}

static void bpack_fill_item(void *ctx, size_t panel) {
  mm_job *job = ctx;
  const mm_args *g = job->g;
  const idx j0 = (idx)panel * WR, nr = g->N - j0 < WR ? g->N - j0 : WR;
  bpack_panel(g, j0, nr, job->packed + panel * (size_t)g->K * WR);
}

static void bpack_done(bpack *e) {
  e->ready = 1;
  if (const_data.drop) const_data.drop(e->b, b_span(e->K, e->N, e->b_rs, e->b_cs));
}
#endif

static void mm_item(void *ctx, size_t item) {
  mm_job *job = ctx;
  const mm_args *g = job->g;
#ifdef NN_AVX2
  const idx w = job->wide ? WR : NR; /* columns per item */
#else
  const idx w = NR;
#endif
  const idx j0 = (idx)(item / (size_t)job->chunks) * w, i1c = ((idx)(item % (size_t)job->chunks) + 1) * job->rows;
  const idx i1 = i1c < g->M ? i1c : g->M;
  idx i0 = i1c - job->rows;
#ifdef NN_AVX2
  if (job->wide) {
    const idx nr = g->N - j0 < WR ? g->N - j0 : WR;
    if (job->packed) {
      float *panel = job->packed + (size_t)(j0 / WR) * (size_t)g->K * WR;
      if (job->fill) bpack_panel(g, j0, nr, panel);
      wide_rows(g, j0, nr, i0, i1, panel, WR);
      return;
    }
    /* packing pays when the panel is read by two 8-row tiles or more */
    float *panel = i1 - i0 >= 16 ? opml_alloc((size_t)(g->K > 0 ? g->K : 1) * WR * sizeof(float)) : 0;
    if (panel) pack_wide(g, j0, nr, panel);
    wide_rows(g, j0, nr, i0, i1, panel ? panel : g->b + j0, panel ? WR : g->b_rs);
    if (panel) opml_free(panel);
    return;
  }
#endif
  mm_panel(job, j0, i0, i1);
}

/*
 * Runs a product (arow/acol filled by the caller); returns OPML_ENOMEM without scratch memory.
 * Work items are column panels of NR outputs, split by rows when there are few panels
 * (opml_parallel); every output is computed by exactly one item, in its own fixed order.
 */
static int mm_run(const mm_args *g) {
  mm_job job = {g, host_tiles(), g->M, 1, 0, 0};
#ifdef NN_AVX2
  bpack *bp = opml_use_avx512() ? g->bp : 0; /* constant B: packed panels */
  job.wide = bp || (g->b_cs == 1 && opml_use_avx512());
  const idx w = job.wide ? WR : NR;
#else
  const idx w = NR;
#endif
  const idx want = 4 * (idx)opml_threads(); /* items, for balance */
  const idx panels = (g->N + w - 1) / w;
  if (want > 4 && panels < want && g->M > 8) {
    idx chunks = (want + panels - 1) / panels, max = (g->M + 7) / 8;
    if (chunks > max) chunks = max;
    job.rows = ((g->M + chunks - 1) / chunks + 7) & ~(idx)7;
    job.chunks = (g->M + job.rows - 1) / job.rows;
  }
  const size_t items = (size_t)(panels * job.chunks), work = (size_t)g->M * (size_t)g->N * (size_t)g->K;
#ifdef NN_AVX2
  if (bp) {
    job.packed = bp->p;
    job.fill = !bp->ready;
    if (job.fill && job.chunks > 1) { /* several items per panel: pack them all first */
      opml_parallel((size_t)panels, work, bpack_fill_item, &job);
      job.fill = 0;
    }
  }
#endif
  opml_parallel(items, work, mm_item, &job);
#ifdef NN_AVX2
  if (bp && !bp->ready && !job.failed) bpack_done(bp);
#endif
  return job.failed ? OPML_ENOMEM : OPML_OK;
}

/* A strided product: A(i,k) = a[i*a_rs + k*a_cs]. */
typedef struct gemm_args {
  idx M, N, K;
  const float *a;
  idx a_rs, a_cs;
  const float *b;
  idx b_rs, b_cs;
  float *c;
  idx c_rs, c_cs;
  float alpha, beta;
  const float *bias;
  idx bias_rs, bias_cs;
} gemm_args;

static int gemm(gemm_args g) {
  if (g.M <= 0 || g.N <= 0) return OPML_OK;
  /* Columns of B that are not contiguous must be packed. C^T = B^T A^T is the same arithmetic
   * per output (products commute), so transpose the problem when that packs less. */
  const idx pack_b = g.b_cs != 1 ? g.K * g.N : 0, pack_a = g.a_rs != 1 ? g.K * g.M : 0;
#ifdef NN_AVX2
  /* a constant B is packed once per process (from its second use): no transposition then */
  bpack *bp = opml_use_avx512() ? bpack_use(g.b, g.K, g.N, g.b_rs, g.b_cs) : 0;
#else
  const int bp = 0;
#endif
  if (!bp && pack_b > pack_a) {
    gemm_args t = g;
    t.M = g.N, t.N = g.M;
    t.a = g.b, t.a_rs = g.b_cs, t.a_cs = g.b_rs;
    t.b = g.a, t.b_rs = g.a_cs, t.b_cs = g.a_rs;
    t.c_rs = g.c_cs, t.c_cs = g.c_rs;
    t.bias_rs = g.bias_cs, t.bias_cs = g.bias_rs;
    g = t;
  }
  idx *offs = opml_alloc((size_t)(g.M + g.K + 1) * sizeof(idx));
  if (!offs) return OPML_ENOMEM;
  for (idx i = 0; i < g.M; i++) offs[i] = i * g.a_rs;
  for (idx k = 0; k < g.K; k++) offs[g.M + k] = k * g.a_cs;
  mm_args m = {g.M, g.N, g.K, g.a, offs, offs + g.M, g.b, g.b_rs, g.b_cs, g.c, g.c_rs, g.c_cs,
               g.alpha, g.beta, g.bias, g.bias_rs, g.bias_cs};
#ifdef NN_AVX2
  m.bp = bp;
#endif
  int e = mm_run(&m);
  opml_free(offs);
  return e;
}

static int is_f32(const opml_tensor *t) { return t && t->dtype == DT_FLOAT; }

/* --- MatMul --------------------------------------------------------------------------------
 * ints: [M, N, K, nb, dims[nb], a_strides[nb], b_strides[nb]]: nb batch axes of the output
 * (odometer order), with the element offsets one step along each axis adds to A and B (0 on
 * broadcast axes). A batch is an [M,K] x [K,N] product. */
static int k_matmul(const opml_node *nd) {
  const opml_tensor *A = nd->in[0], *B = nd->in[1];
  opml_tensor *Y = nd->out[0];
  if (!is_f32(A) || !is_f32(B) || !is_f32(Y)) return OPML_EDTYPE;
  if (nd->n_ints < 4) return OPML_EATTR;
  const int64_t *p = nd->ints;
  idx M = p[0], N = p[1], K = p[2], nb = p[3];
  if (nb < 0 || nb > OPML_MAX_RANK || nd->n_ints != 4 + 3 * (uint32_t)nb) return OPML_EATTR;
  const int64_t *dims = p + 4, *as = dims + nb, *bs = as + nb;
  idx count[OPML_MAX_RANK] = {0};
  idx aoff = 0, boff = 0;
  float *y = Y->data;
  idx nbatch = 1;
  for (idx d = 0; d < nb; d++) nbatch *= dims[d];
  for (idx t = 0; t < nbatch; t++) {
    gemm_args g = {M, N, K, (const float *)A->data + aoff, K, 1, (const float *)B->data + boff, N, 1,
                   y + t * M * N, N, 1, 1.0f, 1.0f, 0, 0, 0};
    int e = gemm(g);
    if (e) return e;
    for (idx d = nb - 1; d >= 0; d--) { /* odometer */
      aoff += as[d], boff += bs[d];
      if (++count[d] < dims[d]) break;
      aoff -= as[d] * dims[d], boff -= bs[d] * dims[d];
      count[d] = 0;
    }
  }
  return OPML_OK;
}

/* --- Gemm ----------------------------------------------------------------------------------
 * ints: [M, N, K, transA, transB, c_rs, c_cs]; floats: [alpha, beta]; optional input 2 (C) is
 * read at C[i*c_rs + j*c_cs]. Y = alpha*acc + beta*C. */
static int k_gemm(const opml_node *nd) {
  const opml_tensor *A = nd->in[0], *B = nd->in[1], *C = nd->n_in > 2 ? nd->in[2] : 0;
  opml_tensor *Y = nd->out[0];
  if (!is_f32(A) || !is_f32(B) || !is_f32(Y) || (C && !is_f32(C))) return OPML_EDTYPE;
  if (nd->n_ints != 7 || nd->n_floats != 2) return OPML_EATTR;
  const int64_t *p = nd->ints;
  idx M = p[0], N = p[1], K = p[2];
  gemm_args g = {M, N, K, A->data, p[3] ? 1 : K, p[3] ? M : 1, B->data, p[4] ? 1 : N, p[4] ? K : 1,
                 Y->data, N, 1, nd->floats[0], nd->floats[1], C ? C->data : 0, p[5], p[6]};
  return gemm(g);
}

/* --- Conv ----------------------------------------------------------------------------------
 * Spatial rank normalised to 3 (missing leading spatial axes have size 1). ints:
 *   [N, C, OC, G, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW]
 * (P* are the leading pads; the trailing ones only matter for the output size).
 * y[n, oc, o] = (sum over (ic, kd, kh, kw) ascending of x_pad[...] * w[oc, ic, kd, kh, kw])
 *               + bias[oc],
 * where padding taps are zeros (they add 0*w). When every weight is finite, 0*w is +0 or -0,
 * and adding a zero leaves the sum's bits unchanged: the sum starts at +0 and a float sum is -0
 * only when both terms are, so it is never -0. Then the taps that lie wholly in the padding are
 * skipped (same bits, in the VM too); with an infinite or NaN weight they are added as 0*w.
 * Three native paths, each computing that sequence per output (docs/IR.md, "Determinism"); the
 * MIPS image takes the first two (depthwise with 2-row chunks) and, for the others, conv_im2col:
 *  - pointwise (1x1, stride 1, unpadded): Y_g = W_g X_g, a plain product with output channels
 *    as rows and positions as contiguous columns (no packing, no im2col);
 *  - depthwise (one input channel per group): a whole output row at a time, tap by tap,
 *    `y[ow] += x[...] * w` over the positions whose tap is inside the input (vector lanes);
 *  - the others: per block of 8 or 32 (AVX-512) output positions, an im2col panel of the taps that are not
 *    wholly padding (taps x positions, padding lanes 0), then the product core with output
 *    channels as rows and the block's positions as columns.
 * Natively with AVX-512 also: positions as rows for small maps, from the constant weights'
 * second use (pointwise: X^T W^T; others: conv_rows), and a padded grid for stride-1 2-D
 * convolutions to few channels (conv_grid); both add every tap (the full sequence). */

static void epi_run(const opml_epilogue *e, float *y, idx n) {
#ifdef NN_AVX2
  if (opml_use_avx512()) {
    epi_run_avx512(e, y, n);
    return;
  }
#endif
  for (idx i = 0; i < n; i++) y[i] = epi1(e, y[i]);
}

typedef struct conv_geom {
  idx N, C, OC, G, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW;
} conv_geom;

/* 1 iff no weight is infinite or NaN (padding taps may then be skipped, see above). */
static int all_finite(const float *w, idx n) {
  uint32_t bad = 0;
  for (idx i = 0; i < n; i++) bad |= (opml_f32_bits(w[i]) & 0x7f800000u) == 0x7f800000u;
  return !bad;
}

#ifdef NN_AVX2
/* all_finite of a constant weight tensor (simd.h), remembered per process: every Conv call
 * scanned all its weights (5% of resnet18's time, its 44 MB of weights read once more per
 * inference). Other data is scanned every time. */
static int weights_finite(const float *w, idx n) {
  static struct {
    const float *w;
    idx n;
    int finite;
  } seen[1024];
  static int n_seen;
  if (!in_const_data(w, (size_t)n * sizeof(float))) return all_finite(w, n);
  for (int i = 0; i < n_seen; i++) {
    if (seen[i].w == w && seen[i].n == n) return seen[i].finite;
  }
  const int f = all_finite(w, n);
  if (n_seen < 1024) seen[n_seen].w = w, seen[n_seen].n = n, seen[n_seen++].finite = f;
  return f;
}
#endif

/* The outputs o in [0, count) with 0 <= o*s + off < n: [*lo, *hi). */
static void valid_range(idx off, idx s, idx n, idx count, idx *lo, idx *hi) {
  idx a = off >= 0 ? 0 : (-off + s - 1) / s;
  idx b = off >= n ? 0 : (n - off + s - 1) / s;
  if (b > count) b = count;
  if (a > b) a = b;
  *lo = a, *hi = b;
}

typedef struct conv_job {
  const conv_geom *q;
  const float *x, *w, *bias;
  float *y;
  idx K, P, nb, blocks; /* taps per output; positions; panel width and blocks per (n, g) */
  int finite, failed;
  const opml_epilogue *epi; /* a fused node (opml_node.epi), or NULL */
#ifdef NN_AVX2
  idx ld;         /* the panel's row stride, when not nb (conv_rows) */
  const float *xd; /* stride 2 along rows: x with each row split into its even and odd elements */
  idx hw2;        /* xd's half rows ((IW + 1) / 2 floats each), or 0 */
#endif
} conv_job;

/* One depthwise output channel (item = n * OC + oc): its input plane copied into a zero-padded
 * buffer (8 spare columns, so every chunk reads inside it), then chunks of 8 outputs along a row
 * by RB rows, whose accumulators stay in registers over all the taps (padding taps included, as
 * zeros: the exact sequence above), lanes past the row's end dropped. SWC: the stride W when it
 * is 1 or 2 (a constant: contiguous or paired loads), 0 for any other. */
#define DW_CHUNK(NAME, RB, SWC, ATTR)                                                             \
  ATTR static void NAME(const conv_geom *q, const float *xp, idx XH, idx XW, const float *w,      \
                        float *y, idx od, idx oh, idx o0, const float *bias) {                    \
    float acc[RB][8];                                                                             \
    _Pragma("GCC unroll 8") for (int r = 0; r < RB; r++) {                                       \
      _Pragma("GCC unroll 8") for (int l = 0; l < 8; l++) acc[r][l] = 0.0f;                      \
    }                                                                                             \
    const idx SW = SWC ? SWC : q->SW;                                                             \
    for (idx kd = 0; kd < q->KD; kd++) {                                                          \
      for (idx kh = 0; kh < q->KH; kh++) {                                                        \
        const float *wr = w + (kd * q->KH + kh) * q->KW;                                          \
        const float *xr = xp + ((od * q->SD + kd * q->DD) * XH + oh * q->SH + kh * q->DH) * XW + o0 * SW; \
        for (idx kw = 0; kw < q->KW; kw++) {                                                      \
          const float wk = wr[kw];                                                                \
          _Pragma("GCC unroll 8") for (int r = 0; r < RB; r++) {                                 \
            const float *xk = xr + r * q->SH * XW + kw * q->DW;                                   \
            _Pragma("GCC unroll 8") for (int l = 0; l < 8; l++) acc[r][l] += xk[l * SW] * wk;    \
          }                                                                                       \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    const idx nl = q->OW - o0 < 8 ? q->OW - o0 : 8;                                               \
    for (int r = 0; r < RB; r++) {                                                                \
      float *yr = y + r * q->OW + o0;                                                             \
      if (bias) {                                                                                 \
        for (idx l = 0; l < nl; l++) yr[l] = acc[r][l] + *bias;                                   \
      } else {                                                                                    \
        for (idx l = 0; l < nl; l++) yr[l] = acc[r][l];                                           \
      }                                                                                           \
    }                                                                                             \
  }
/* Rows per chunk of the plain-C path: 4 natively; 2 in the MIPS image, whose 32 single FPU
 * registers then hold the 16 accumulators, the weight and a row value (4 x 8 would spill). */
#if defined(__mips__)
#define DW_RB 2
#else
#define DW_RB 4
#endif
#define DW_ROWS(NAME, SWC, ATTR)                                                                  \
  DW_CHUNK(NAME##_rb, DW_RB, SWC, ATTR)                                                           \
  DW_CHUNK(NAME##_1, 1, SWC, ATTR)                                                                \
  DW_ROWS_LOOP(NAME, 8, DW_RB)
/* All outputs: chunks of L (8 or 16) positions by RB rows (the last rows one by one). */
#define DW_ROWS_LOOP(NAME, L, RB)                                                                 \
  static void NAME(const conv_geom *q, const float *xp, idx XH, idx XW, const float *w, float *y, \
                   const float *bias) {                                                           \
    for (idx od = 0; od < q->OD; od++) {                                                          \
      float *yd = y + od * q->OH * q->OW;                                                         \
      for (idx o0 = 0; o0 < q->OW; o0 += L) {                                                     \
        idx oh = 0;                                                                               \
        for (; oh + RB <= q->OH; oh += RB) NAME##_rb(q, xp, XH, XW, w, yd + oh * q->OW, od, oh, o0, bias); \
        for (; oh < q->OH; oh++) NAME##_1(q, xp, XH, XW, w, yd + oh * q->OW, od, oh, o0, bias);   \
      }                                                                                           \
    }                                                                                             \
  }
typedef void (*dw_rows_fn)(const conv_geom *, const float *, idx, idx, const float *, float *, const float *);
DW_ROWS(dw_rows_s1, 1, )
DW_ROWS(dw_rows_s2, 2, )
DW_ROWS(dw_rows_sn, 0, )

#ifdef NN_AVX2
/* DW_CHUNK with AVX2 intrinsics (GCC does not keep DW_CHUNK's accumulators in registers): the
 * same multiply, then add, per lane. Stride 2: 16 floats deinterleaved (one spare column). */
__attribute__((target("avx2"))) static inline __m256 dw_load(const float *p, idx sw) {
  if (sw == 1) return _mm256_loadu_ps(p);
  if (sw == 2) {
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    const __m256 e = _mm256_shuffle_ps(a, b, 0x88); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
  }
  return _mm256_set_ps(p[7 * sw], p[6 * sw], p[5 * sw], p[4 * sw], p[3 * sw], p[2 * sw], p[sw], p[0]);
}
#define DW_CHUNK_AVX2(NAME, RB, SWC)                                                              \
  __attribute__((target("avx2"))) static void NAME(const conv_geom *q, const float *xp, idx XH,   \
                                                   idx XW, const float *w, float *y, idx od,      \
                                                   idx oh, idx o0, const float *bias) {           \
    __m256 acc[RB];                                                                               \
    for (int r = 0; r < RB; r++) acc[r] = _mm256_setzero_ps();                                    \
    const idx SW = SWC ? SWC : q->SW;                                                             \
    for (idx kd = 0; kd < q->KD; kd++) {                                                          \
      for (idx kh = 0; kh < q->KH; kh++) {                                                        \
        const float *wr = w + (kd * q->KH + kh) * q->KW;                                          \
        const float *xr = xp + ((od * q->SD + kd * q->DD) * XH + oh * q->SH + kh * q->DH) * XW + o0 * SW; \
        for (idx kw = 0; kw < q->KW; kw++) {                                                      \
          const __m256 wk = _mm256_set1_ps(wr[kw]);                                               \
          for (int r = 0; r < RB; r++)                                                            \
            acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(dw_load(xr + r * q->SH * XW + kw * q->DW, SW), wk)); \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    const idx nl = q->OW - o0 < 8 ? q->OW - o0 : 8;                                               \
    const __m256 bv = _mm256_set1_ps(bias ? *bias : 0.0f);                                        \
    for (int r = 0; r < RB; r++) {                                                                \
      float *yr = y + r * q->OW + o0, t[8];                                                       \
      const __m256 v = bias ? _mm256_add_ps(acc[r], bv) : acc[r];                                 \
      if (nl == 8) {                                                                              \
        _mm256_storeu_ps(yr, v);                                                                  \
      } else {                                                                                    \
        _mm256_storeu_ps(t, v);                                                                   \
        for (idx l = 0; l < nl; l++) yr[l] = t[l];                                                \
      }                                                                                           \
    }                                                                                             \
  }
#define DW_ROWS_AVX2(NAME, SWC)                                                                   \
  DW_CHUNK_AVX2(NAME##_rb, 4, SWC)                                                                \
  DW_CHUNK_AVX2(NAME##_1, 1, SWC)                                                                 \
  DW_ROWS_LOOP(NAME, 8, 4)
DW_ROWS_AVX2(dw_rows_s1_avx2, 1)
DW_ROWS_AVX2(dw_rows_s2_avx2, 2)
DW_ROWS_AVX2(dw_rows_sn_avx2, 0)

/* The same with AVX-512, 16 positions per register (strides 1 and 2; stride 2 deinterleaves 32
 * loaded floats), the row's last lanes stored under a mask. */
__attribute__((target("avx512f"))) static inline __m512 dw_load16(const float *p, idx sw) {
  if (sw == 1) return _mm512_loadu_ps(p);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
}
/* rb rows of a chunk's 16 positions, the bias added (the same add as the plain code's); a masked
 * store only at a row's end: they are slow. */
__attribute__((target("avx512f"))) static inline void dw_store16(const conv_geom *q, float *y, idx o0,
                                                                 const __m512 *acc, int rb, const float *bias) {
  const idx nl = q->OW - o0 < 16 ? q->OW - o0 : 16;
  const __m512 bv = _mm512_set1_ps(bias ? *bias : 0.0f);
  for (int r = 0; r < rb; r++) {
    const __m512 v = bias ? _mm512_add_ps(acc[r], bv) : acc[r];
    if (nl == 16) {
      _mm512_storeu_ps(y + r * q->OW + o0, v);
    } else {
      _mm512_mask_storeu_ps(y + r * q->OW + o0, (__mmask16)((1u << nl) - 1), v);
    }
  }
}
/* K3: the 3x3 kernels of 2-D convolutions without dilation (the mobilenets'), whose constant
 * bounds let the taps unroll and the rows' loads be shared; the same multiply, then add, per
 * lane in the same (kd, kh, kw) order either way. */
#define DW_CHUNK_AVX512(NAME, RB, SWC, K3)                                                        \
  __attribute__((target("avx512f"))) static void NAME(const conv_geom *q, const float *xp, idx XH, \
                                                      idx XW, const float *w, float *y, idx od,   \
                                                      idx oh, idx o0, const float *bias) {        \
    const idx KD = K3 ? 1 : q->KD, KH = K3 ? 3 : q->KH, KW = K3 ? 3 : q->KW;                      \
    const idx DH = K3 ? 1 : q->DH, DW = K3 ? 1 : q->DW;                                           \
    __m512 acc[RB];                                                                               \
    _Pragma("GCC unroll 4") for (int r = 0; r < RB; r++) acc[r] = _mm512_setzero_ps();           \
    for (idx kd = 0; kd < KD; kd++) {                                                             \
      _Pragma("GCC unroll 3") for (idx kh = 0; kh < KH; kh++) {                                  \
        const float *wr = w + (kd * KH + kh) * KW;                                                \
        const float *xr = xp + ((od * q->SD + kd * q->DD) * XH + oh * q->SH + kh * DH) * XW + o0 * SWC; \
        _Pragma("GCC unroll 3") for (idx kw = 0; kw < KW; kw++) {                                \
          const __m512 wk = _mm512_set1_ps(wr[kw]);                                               \
          _Pragma("GCC unroll 4") for (int r = 0; r < RB; r++)                                   \
            acc[r] = _mm512_add_ps(acc[r], _mm512_mul_ps(dw_load16(xr + r * q->SH * XW + kw * DW, SWC), wk)); \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    dw_store16(q, y, o0, acc, RB, bias);                                                          \
  }
#define DW_ROWS_AVX512(NAME, SWC, K3)                                                             \
  DW_CHUNK_AVX512(NAME##_rb, 4, SWC, K3)                                                          \
  DW_CHUNK_AVX512(NAME##_1, 1, SWC, K3)                                                           \
  DW_ROWS_LOOP(NAME, 16, 4)
DW_ROWS_AVX512(dw_rows_s1_avx512, 1, 0)
DW_ROWS_AVX512(dw_rows_s2_avx512, 2, 0)
DW_ROWS_AVX512(dw_rows_s1_3x3, 1, 1)
DW_ROWS_AVX512(dw_rows_s2_3x3, 2, 1)
#endif

static void conv_dw_item(void *ctx, size_t item) {
  conv_job *j = ctx;
  const conv_geom *q = j->q;
  const idx oc = (idx)item % q->OC, n = (idx)item / q->OC, OCg = q->OC / q->G;
  /* the padded extents: every tap of every chunk (L lanes from each row's first output) */
  const idx XD = (q->OD - 1) * q->SD + (q->KD - 1) * q->DD + 1 > q->ID + q->PD
                     ? (q->OD - 1) * q->SD + (q->KD - 1) * q->DD + 1 : q->ID + q->PD;
  const idx XH = (q->OH - 1) * q->SH + (q->KH - 1) * q->DH + 1 > q->IH + q->PH
                     ? (q->OH - 1) * q->SH + (q->KH - 1) * q->DH + 1 : q->IH + q->PH;
  /* AVX-512: chunks of 16 positions along rows longer than 8 (strides 1 and 2) */
  int wide = 0;
#ifdef NN_AVX2
  wide = q->OW > 8 && (q->SW == 1 || q->SW == 2) && opml_use_avx512();
#endif
  const idx L = wide ? 16 : 8, OWc = (q->OW + L - 1) / L * L, XWn = (OWc - 1) * q->SW + (q->KW - 1) * q->DW + 2;
  const idx XW = XWn > q->IW + q->PW ? XWn : q->IW + q->PW;
  float *xp = opml_alloc((size_t)(XD * XH * XW) * sizeof(float));
  if (!xp) {
    j->failed = 1;
    return;
  }
  const float *x = j->x + (n * q->C + oc / OCg) * q->ID * q->IH * q->IW;
  /* zeros only around the input (zeroing the whole buffer was most of this item's time) */
  const idx rpad = XW - q->PW - q->IW;
  for (idx d = 0; d < XD; d++) {
    float *xd = xp + d * XH * XW;
    if (d < q->PD || d >= q->PD + q->ID) {
      memset(xd, 0, (size_t)(XH * XW) * sizeof(float));
      continue;
    }
    memset(xd, 0, (size_t)(q->PH * XW + q->PW) * sizeof(float)); /* to the first row's input */
    const float *src = x + (d - q->PD) * q->IH * q->IW;
    for (idx ih = 0; ih < q->IH; ih++) {
      float *dst = xd + (ih + q->PH) * XW + q->PW;
      memcpy(dst, src + ih * q->IW, (size_t)q->IW * sizeof(float));
      /* the row's right padding and the next row's left padding */
      memset(dst + q->IW, 0, (size_t)(ih + 1 < q->IH ? rpad + q->PW : rpad) * sizeof(float));
    }
    const idx done = (q->PH + q->IH) * XW; /* the rows below the input */
    memset(xd + done, 0, (size_t)(XH * XW - done) * sizeof(float));
  }
  dw_rows_fn rows = q->SW == 1 ? dw_rows_s1 : q->SW == 2 ? dw_rows_s2 : dw_rows_sn;
#ifdef NN_AVX2
  if (opml_use_avx2()) rows = q->SW == 1 ? dw_rows_s1_avx2 : q->SW == 2 ? dw_rows_s2_avx2 : dw_rows_sn_avx2;
  if (wide) rows = q->SW == 1 ? dw_rows_s1_avx512 : dw_rows_s2_avx512;
  if (wide && q->KD == 1 && q->KH == 3 && q->KW == 3 && q->DH == 1 && q->DW == 1 && q->OD == 1) {
    rows = q->SW == 1 ? dw_rows_s1_3x3 : dw_rows_s2_3x3;
  }
#endif
  float *y = j->y + (n * q->OC + oc) * j->P;
  rows(q, xp, XH, XW, j->w + oc * j->K, y, j->bias ? j->bias + oc : 0);
  if (j->epi) epi_run(j->epi, y, j->P); /* the channel's plane, still in the cache */
  opml_free(xp);
}


#ifdef NN_AVX2
/*
 * conv_panel_item's panel with AVX-512, stride 1 along rows (the same values in the same places,
 * so the same bits): the kept taps' rows of one block (nseg runs `seg` of its positions along
 * output rows), each run copied by masked 16-lane loads and stores (padding lanes masked off:
 * zeros) instead of scalar loops. Which lanes of a run a tap reads, and from where, depends on
 * the spatial tap and the run only, not on the input channel: computed once per block (the
 * scalar loop divided twice per tap and run). Returns the number of kept taps (their indices in
 * acol, unless NULL), -1 without scratch memory. Panel rows are j->ld apart (j->nb if 0). (Gathers
 * were tried: slower than the scalar loop.)
 */
AVX512 static idx panel_fill_avx512(const conv_job *j, const float *xg, idx seg[][5], idx nseg, float *panel,
                                   idx *acol) {
  const conv_geom *q = j->q;
  const idx T = q->KD * q->KH * q->KW, Cg = q->C / q->G, nb = j->ld ? j->ld : j->nb, SW = q->SW;
  const idx rw = j->hw2 ? 2 * j->hw2 : q->IW, plane = q->ID * q->IH * rw; /* (xg: j->xd's if hw2) */
  /* per (spatial tap, run): the plane offset of the run's first lane, and its lanes inside the
   * input (bit i: lane i reads src + i; stride 2: from the half row of the first lane's parity) */
  idx *src = opml_alloc((size_t)(T * nseg + T) * sizeof(idx) + (size_t)(T * nseg) * sizeof(uint32_t));
  if (!src) return -1;
  idx *any = src + T * nseg;
  uint32_t *in = (uint32_t *)(any + T);
  idx tt = 0;
  for (idx kd = 0; kd < q->KD; kd++) {
    for (idx kh = 0; kh < q->KH; kh++) {
      for (idx kw = 0; kw < q->KW; kw++, tt++) {
        any[tt] = 0;
        for (idx s = 0; s < nseg; s++) {
          const idx e = tt * nseg + s;
          const idx id = seg[s][0] * q->SD - q->PD + kd * q->DD, ih = seg[s][1] * q->SH - q->PH + kh * q->DH;
          const idx off = seg[s][2] * SW - q->PW + kw * q->DW, par = off & 1;
          idx a = 0, b = 0;
          if (id >= 0 && id < q->ID && ih >= 0 && ih < q->IH) valid_range(off, SW, q->IW, seg[s][4], &a, &b);
          src[e] = (id * q->IH + ih) * rw + (j->hw2 ? par * j->hw2 + (off - par) / 2 : off);
          in[e] = a < b ? (uint32_t)(((b - a < 32 ? (1ull << (b - a)) : (1ull << 32)) - 1) << a) : 0;
          any[tt] |= a < b;
        }
      }
    }
  }
  uint32_t st[WR_MAX]; /* per run: its lanes */
  for (idx s = 0; s < nseg; s++) st[s] = (uint32_t)((1ull << seg[s][4]) - 1);
  idx t = 0, k = 0;
  for (idx ic = 0; ic < Cg; ic++) {
    const float *xc = xg + ic * plane;
    for (tt = 0; tt < T; tt++, k++) {
      if (!any[tt] && j->finite) continue;
      float *pr = panel + t * nb;
      if (acol) acol[t] = k;
      t++;
      for (idx s = 0; s < nseg; s++) {
        /* (masked-off lanes are never read: their addresses may lie outside the input) */
        const idx e = tt * nseg + s;
        const float *x0 = xc + src[e];
        float *d = pr + seg[s][3];
        for (int h = 0; h < 2 && st[s] >> 16 * h; h++) {
          const __mmask16 sm = (__mmask16)(st[s] >> 16 * h), lm = (__mmask16)(in[e] >> 16 * h);
          if ((__mmask16)(sm & lm) == 0xFFFF) { /* 16 lanes inside: no masks (they are slow) */
            _mm512_storeu_ps(d + 16 * h, _mm512_loadu_ps(x0 + 16 * h));
          } else {
            _mm512_mask_storeu_ps(d + 16 * h, sm, _mm512_maskz_loadu_ps(lm, x0 + 16 * h));
          }
        }
      }
    }
  }
  opml_free(src);
  return t;
}
#endif

#ifdef NN_AVX2
/* rows rows of n floats from x to y, each as its even then its odd elements (h floats each). */
AVX512 static void split_rows(const float *x, float *y, idx rows, idx n, idx h) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (idx r = 0; r < rows; r++, x += n, y += 2 * h) {
    idx i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
      _mm512_storeu_ps(y + i / 2, _mm512_permutex2var_ps(a, even, b));
      _mm512_storeu_ps(y + h + i / 2, _mm512_permutex2var_ps(a, odd, b));
    }
    for (; i < n; i++) y[(i & 1) * h + i / 2] = x[i];
  }
}
#endif

/* The positions [p0, p0 + cnt) as runs along output rows: (od, oh, first ow, first lane,
 * length) each; returns their number. */
static idx block_runs(const conv_geom *q, idx p0, idx cnt, idx seg[][5]) {
  idx nseg = 0;
  for (idx l = 0; l < cnt;) {
    const idx p = p0 + l, ow = p % q->OW, oh = (p / q->OW) % q->OH, od = p / (q->OW * q->OH);
    const idx len = q->OW - ow < cnt - l ? q->OW - ow : cnt - l;
    seg[nseg][0] = od, seg[nseg][1] = oh, seg[nseg][2] = ow, seg[nseg][3] = l, seg[nseg][4] = len;
    nseg++, l += len;
  }
  return nseg;
}

#ifdef NN_AVX2
/* conv_rows: block `item` of WR positions of the panel (every tap: j->finite is 0). */
static void conv_rows_fill_item(void *ctx, size_t item) {
  conv_job *j = ctx;
  const idx p0 = (idx)item * WR, cnt = j->P - p0 < WR ? j->P - p0 : WR;
  idx seg[WR_MAX][5], nseg = block_runs(j->q, p0, cnt, seg);
  if (panel_fill_avx512(j, j->hw2 ? j->xd : j->x, seg, nseg, (float *)j->y + p0, 0) < 0) j->failed = 1;
}

/*
 * A convolution (one group, stride 1 along rows) with its P positions as rows, from the second
 * use of its constant weights on (see positions_as_rows): Y^T = panel^T W^T, the panel holding
 * every tap (padding taps as zeros: the full sequence, so the same bits as skipping them)
 * for all positions (rows LD apart), W^T packed once per process (bpack), the output stored
 * transposed. Returns -1 when it does not apply (W's first use), else OPML_OK or OPML_ENOMEM.
 */
static int conv_rows(const conv_job *j0, idx LD) {
  const conv_geom *q = j0->q;
  const idx K = j0->K, P = j0->P, plane = q->ID * q->IH * q->IW;
  bpack *bp = bpack_use(j0->w, K, q->OC, 1, K);
  if (!bp) return -1;
  float *panel = opml_alloc((size_t)K * (size_t)LD * sizeof(float));
  idx *offs = opml_alloc((size_t)(P + K) * sizeof(idx));
  if (!panel || !offs) {
    if (panel) opml_free(panel);
    if (offs) opml_free(offs);
    return OPML_ENOMEM;
  }
  idx *arow = offs, *acol = offs + P;
  for (idx p = 0; p < P; p++) arow[p] = p;
  for (idx k = 0; k < K; k++) acol[k] = k * LD;
  int e = OPML_OK;
  for (idx n = 0; n < q->N && !e; n++) {
    conv_job jf = *j0; /* the fill's: panel as y, every tap kept */
    jf.x = j0->x + n * q->C * plane, jf.y = panel, jf.finite = 0, jf.ld = LD, jf.failed = 0;
    if (jf.hw2) jf.xd = j0->xd + n * q->C * q->ID * q->IH * 2 * j0->hw2;
    opml_parallel((size_t)(LD / WR), (size_t)K * (size_t)LD, conv_rows_fill_item, &jf);
    if (jf.failed) {
      e = OPML_ENOMEM;
      break;
    }
    mm_args m = {P, q->OC, K, panel, arow, acol, j0->w, 1, K, j0->y + n * q->OC * P, 1, P, 1.0f, 1.0f,
                 j0->bias, 0, 1};
    m.bp = bp, m.epi = j0->epi;
    e = mm_run(&m);
  }
  opml_free(offs);
  opml_free(panel);
  return e;
}
#endif

#ifdef NN_AVX2
/*
 * A 2-D convolution of stride 1 without im2col: its outputs on a grid of OH rows by GW columns
 * (GW: the zero-padded input's width, so GW - OW columns per row are computed and dropped),
 * where output (oh, ow) of tap (ic, kh, kw) reads the padded input at grid position oh GW + ow
 * plus the tap's offset ic GH GW + kh DH GW + kw DW: 32 consecutive grid positions are 32
 * consecutive inputs, so the tiles read B straight from the padded input (GTILE). Every tap is
 * computed, padding ones as 0 * w: the full sequence, the same bits as skipping them. Items are
 * blocks of 32 grid positions (all output channels: the block's inputs stay in the L1), the
 * grid then copied to the output without its extra columns.
 */
typedef struct grid_job {
  const mm_args *m;
  idx OCg, blocks;
} grid_job;

static void conv_grid_item(void *ctx, size_t item) {
  const grid_job *gj = ctx;
  const idx q0 = (idx)item * WR;
  const float *b = gj->m->b + q0;
  idx i0 = 0;
  for (; i0 + 8 <= gj->OCg; i0 += 8) gtile_8(gj->m, i0, q0, b);
  for (; i0 + 4 <= gj->OCg; i0 += 4) gtile_4(gj->m, i0, q0, b);
  for (; i0 < gj->OCg; i0++) gtile_1(gj->m, i0, q0, b);
}

static int conv_grid(const conv_job *j, idx GW, idx GH) {
  const conv_geom *q = j->q;
  const idx Cg = q->C / q->G, OCg = q->OC / q->G, K = j->K, P = j->P, plane = GH * GW;
  const idx blocks = (q->OH * GW + WR - 1) / WR, QS = blocks * WR; /* grid floats per channel */
  /* the last block's taps read up to WR - 1 + (KW - 1) DW past the last channel's plane */
  float *xp = opml_alloc(((size_t)(Cg * plane) + (size_t)(WR + (q->KW - 1) * q->DW)) * sizeof(float));
  float *yp = opml_alloc((size_t)(OCg * QS) * sizeof(float));
  idx *offs = opml_alloc((size_t)(OCg + 2 * K) * sizeof(idx));
  int e = xp && yp && offs ? OPML_OK : OPML_ENOMEM;
  if (!e) {
    idx *arow = offs, *acol = offs + OCg, *boff = acol + K, k = 0;
    for (idx i = 0; i < OCg; i++) arow[i] = i * K;
    for (idx ic = 0; ic < Cg; ic++) {
      for (idx kh = 0; kh < q->KH; kh++) {
        for (idx kw = 0; kw < q->KW; kw++, k++) acol[k] = k, boff[k] = ic * plane + kh * q->DH * GW + kw * q->DW;
      }
    }
    for (size_t i = (size_t)(Cg * plane); i < (size_t)(Cg * plane) + (size_t)(WR + (q->KW - 1) * q->DW); i++) xp[i] = 0.0f;
    for (idx n = 0; n < q->N; n++) {
      for (idx g = 0; g < q->G; g++) {
        const float *x = j->x + (n * q->C + g * Cg) * q->IH * q->IW;
        for (idx ic = 0; ic < Cg; ic++) { /* the zero-padded input */
          float *d = xp + ic * plane;
          memset(d, 0, (size_t)plane * sizeof(float));
          for (idx ih = 0; ih < q->IH; ih++) {
            memcpy(d + (ih + q->PH) * GW + q->PW, x + (ic * q->IH + ih) * q->IW, (size_t)q->IW * sizeof(float));
          }
        }
        mm_args m = {OCg, QS, K, j->w + g * OCg * K, arow, acol, xp, 0, 1, yp, QS, 1, 1.0f, 1.0f,
                     j->bias ? j->bias + g * OCg : 0, 1, 0};
        m.boff = boff, m.epi = j->epi; /* (the dropped columns too) */
        grid_job gj = {&m, OCg, blocks};
        opml_parallel((size_t)blocks, (size_t)(OCg * QS) * (size_t)K, conv_grid_item, &gj);
        float *y = j->y + (n * q->OC + g * OCg) * P;
        for (idx oc = 0; oc < OCg; oc++) { /* the grid without its extra columns */
          for (idx oh = 0; oh < q->OH; oh++) {
            memcpy(y + (oc * q->OH + oh) * q->OW, yp + oc * QS + oh * GW, (size_t)q->OW * sizeof(float));
          }
        }
      }
    }
  }
  if (xp) opml_free(xp);
  if (yp) opml_free(yp);
  if (offs) opml_free(offs);
  return e;
}
#endif

/* One block of output positions of one (n, g) (item = (n * G + g) * blocks + block): its
 * im2col panel (the kept taps x nb positions), then the product core over the group's output
 * channels, on this thread. */
static void conv_panel_item(void *ctx, size_t item) {
  conv_job *j = ctx;
  const conv_geom *q = j->q;
  const idx blk = (idx)item % j->blocks, ng = (idx)item / j->blocks, g = ng % q->G, n = ng / q->G;
  const idx Cg = q->C / q->G, OCg = q->OC / q->G, K = j->K, nb = j->nb, p0 = blk * nb;
  const idx cnt = j->P - p0 < nb ? j->P - p0 : nb;
  float *panel = opml_alloc((size_t)(K > 0 ? K : 1) * (size_t)nb * sizeof(float));
  idx *offs = opml_alloc((size_t)(K + OCg) * sizeof(idx));
  if (!panel || !offs) {
    if (panel) opml_free(panel);
    if (offs) opml_free(offs);
    j->failed = 1;
    return;
  }
  idx seg[WR_MAX][5], nseg = block_runs(q, p0, cnt, seg);
  const float *xg = j->x + (n * q->C + g * Cg) * q->ID * q->IH * q->IW;
  idx *acol = offs, *arow = offs + K, t = 0, k = 0;
#ifdef NN_AVX2
  if (opml_use_avx512() && (q->SW == 1 || j->hw2)) {
    t = panel_fill_avx512(j, j->hw2 ? j->xd + (n * q->C + g * Cg) * q->ID * q->IH * 2 * j->hw2 : xg, seg, nseg,
                          panel, acol);
    if (t < 0) {
      opml_free(offs);
      opml_free(panel);
      j->failed = 1;
      return;
    }
  } else
#endif
  for (idx ic = 0; ic < Cg; ic++) {
    const float *xc = xg + ic * q->ID * q->IH * q->IW;
    for (idx kd = 0; kd < q->KD; kd++) {
      for (idx kh = 0; kh < q->KH; kh++) {
        for (idx kw = 0; kw < q->KW; kw++, k++) {
          float *pr = panel + t * nb;
          int any = 0;
          for (idx s = 0; s < nseg; s++) {
            const idx id = seg[s][0] * q->SD - q->PD + kd * q->DD, ih = seg[s][1] * q->SH - q->PH + kh * q->DH;
            const idx l0 = seg[s][3], len = seg[s][4];
            idx a = 0, b = 0;
            const idx off = seg[s][2] * q->SW - q->PW + kw * q->DW;
            if (id >= 0 && id < q->ID && ih >= 0 && ih < q->IH) valid_range(off, q->SW, q->IW, len, &a, &b);
            float *d = pr + l0;
            for (idx i = 0; i < a; i++) d[i] = 0.0f;
            if (a < b) {
              const float *xr = xc + (id * q->IH + ih) * q->IW;
              any = 1;
              if (q->SW == 1) {
                for (idx i = a; i < b; i++) d[i] = xr[i + off];
              } else {
                for (idx i = a; i < b; i++) d[i] = xr[i * q->SW + off];
              }
            }
            for (idx i = b; i < len; i++) d[i] = 0.0f;
          }
          if (any || !j->finite) acol[t++] = k;
        }
      }
    }
  }
  for (idx i = 0; i < OCg; i++) arow[i] = i * K;
  mm_args m = {OCg, cnt, t, j->w + g * OCg * K, arow, acol, panel, nb, 1,
               j->y + (n * q->OC + g * OCg) * j->P + p0, j->P, 1, 1.0f, 1.0f,
               j->bias ? j->bias + g * OCg : 0, 1, 0};
  m.epi = j->epi;
  mm_job job = {&m, host_tiles(), OCg, 1, 0, 0};
#ifdef NN_AVX2
  if (opml_use_avx512()) {
    wide_rows(&m, 0, cnt, 0, OCg, panel, nb); /* the panel is packed already */
  } else
#endif
  {
    for (idx c = 0; c < cnt; c += NR) mm_panel(&job, c, 0, OCg);
  }
  if (job.failed) j->failed = 1;
  opml_free(offs);
  opml_free(panel);
}

#if defined(__mips__)
/* The MIPS image (every instruction a VM step): the implicit im2col of a zero-padded copy of the
 * input, every tap multiplied (no panel to build: 28% fewer steps on mnist-cnn than the panels).
 * The panels' skipped padding taps only add +-0 there, so both give the same bits; the tests
 * compare them (qemu-mips against the native plain C). Output positions are rows, output
 * channels columns, A(o, k) read through row and column offset tables. */
static int conv_im2col(const conv_geom *q, const float *x, const float *w, const float *bias, float *y,
                       const opml_epilogue *epi) {
  const idx Cg = q->C / q->G, OCg = q->OC / q->G, K = Cg * q->KD * q->KH * q->KW, P = q->OD * q->OH * q->OW;
  const idx XD = (q->OD - 1) * q->SD + (q->KD - 1) * q->DD + 1, XH = (q->OH - 1) * q->SH + (q->KH - 1) * q->DH + 1,
            XW = (q->OW - 1) * q->SW + (q->KW - 1) * q->DW + 1;
  const idx PDe = XD > q->ID + q->PD ? XD : q->ID + q->PD, PHe = XH > q->IH + q->PH ? XH : q->IH + q->PH,
            PWe = XW > q->IW + q->PW ? XW : q->IW + q->PW; /* padded sizes */
  const int copy = q->PD || q->PH || q->PW || PDe != q->ID || PHe != q->IH || PWe != q->IW;
  const idx plane = PDe * PHe * PWe;
  idx *offs = opml_alloc((size_t)(P + K) * sizeof(idx));
  float *xp = copy ? opml_alloc((size_t)(Cg * plane) * sizeof(float)) : 0;
  if (!offs || (copy && !xp)) {
    if (offs) opml_free(offs);
    return OPML_ENOMEM;
  }
  idx *arow = offs, *acol = offs + P, t = 0;
  for (idx od = 0; od < q->OD; od++) {
    for (idx oh = 0; oh < q->OH; oh++) {
      for (idx ow = 0; ow < q->OW; ow++) arow[t++] = (od * q->SD * PHe + oh * q->SH) * PWe + ow * q->SW;
    }
  }
  t = 0;
  for (idx ic = 0; ic < Cg; ic++) {
    for (idx kd = 0; kd < q->KD; kd++) {
      for (idx kh = 0; kh < q->KH; kh++) {
        for (idx kw = 0; kw < q->KW; kw++) acol[t++] = ((ic * PDe + kd * q->DD) * PHe + kh * q->DH) * PWe + kw * q->DW;
      }
    }
  }
  int e = OPML_OK;
  for (idx n = 0; n < q->N && !e; n++) {
    for (idx g = 0; g < q->G && !e; g++) {
      const float *xg = x + (n * q->C + g * Cg) * q->ID * q->IH * q->IW;
      if (copy) {
        for (idx i = 0; i < Cg * plane; i++) xp[i] = 0.0f;
        for (idx ic = 0; ic < Cg; ic++) {
          for (idx id = 0; id < q->ID; id++) {
            for (idx ih = 0; ih < q->IH; ih++) {
              const float *src = xg + ((ic * q->ID + id) * q->IH + ih) * q->IW;
              float *dst = xp + ((ic * PDe + id + q->PD) * PHe + ih + q->PH) * PWe + q->PW;
              for (idx iw = 0; iw < q->IW; iw++) dst[iw] = src[iw];
            }
          }
        }
      }
      mm_args m = {P, OCg, K, copy ? xp : xg, arow, acol, w + g * OCg * K, 1, K,
                   y + (n * q->OC + g * OCg) * P, 1, P, 1.0f, 1.0f, bias ? bias + g * OCg : 0, 0, 1};
      m.epi = epi;
      e = mm_run(&m);
    }
  }
  if (xp) opml_free(xp);
  opml_free(offs);
  return e;
}
#endif

#ifdef NN_AVX2
/* 1 iff a convolution's product runs better with its P positions as rows (8-row tiles) and its
 * OC output channels as the 32 columns of the AVX-512 tiles than the other way round: the
 * fraction of useful lanes, a 4-row tile counted as 5 rows' time and a 1-row tile as 3. */
static int positions_as_rows(idx P, idx OC) {
  const double cols = (double)P / (double)((P + WR - 1) / WR * WR);
  const double rows = (double)P / (double)(P / 8 * 8 + P % 8 / 4 * 5 + P % 4 * 3) *
                      ((double)OC / (double)((OC + WR - 1) / WR * WR));
  return rows > cols + 0.03;
}
#endif

static int k_conv(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *W = nd->in[1], *Bt = nd->n_in > 2 ? nd->in[2] : 0;
  opml_tensor *Y = nd->out[0];
  if (!is_f32(X) || !is_f32(W) || !is_f32(Y) || (Bt && !is_f32(Bt))) return OPML_EDTYPE;
  if (nd->n_ints != 22) return OPML_EATTR;
  conv_geom q;
  idx *f = &q.N;
  for (int i = 0; i < 22; i++) f[i] = nd->ints[i];
  if (q.G <= 0 || q.C % q.G || q.OC % q.G) return OPML_EATTR;
  if (q.SD <= 0 || q.SH <= 0 || q.SW <= 0) return OPML_EATTR;
  const idx Cg = q.C / q.G, OCg = q.OC / q.G, K = Cg * q.KD * q.KH * q.KW, P = q.OD * q.OH * q.OW;
  if (P == 0 || q.OC == 0 || q.N == 0) return OPML_OK;
  const float *x = X->data, *w = W->data, *bias = Bt ? Bt->data : 0;
  float *y = Y->data;
  const size_t work = (size_t)q.N * (size_t)q.OC * (size_t)P * (size_t)K;
  if (K == Cg && q.SD == 1 && q.SH == 1 && q.SW == 1 && !q.PD && !q.PH && !q.PW && q.OD == q.ID &&
      q.OH == q.IH && q.OW == q.IW) { /* pointwise: Y_g[oc, p] = sum_ic W_g[oc, ic] * X_g[ic, p] */
#ifdef NN_AVX2
    idx *offs = opml_alloc((size_t)(OCg + 2 * Cg + P) * sizeof(idx)); /* (and positions as rows) */
#else
    idx *offs = opml_alloc((size_t)(OCg + Cg) * sizeof(idx));
#endif
    if (!offs) return OPML_ENOMEM;
    for (idx i = 0; i < OCg; i++) offs[i] = i * Cg;
    for (idx k = 0; k < Cg; k++) offs[OCg + k] = k;
    int e = OPML_OK;
    for (idx n = 0; n < q.N && !e; n++) {
      for (idx g = 0; g < q.G && !e; g++) {
#ifdef NN_AVX2
        /* few positions (a 7 x 7 map: 49 = 32 + 17 columns) and constant weights: positions as
         * rows, Y_g^T = X_g^T W_g^T, W_g^T packed once per process (from its second use) */
        bpack *bp = opml_use_avx512() && positions_as_rows(P, OCg) ? bpack_use(w + g * OCg * Cg, Cg, OCg, 1, Cg) : 0;
        if (bp) {
          idx *prow = offs + OCg + Cg, *pcol = prow + P;
          for (idx i = 0; i < P; i++) prow[i] = i;
          for (idx k = 0; k < Cg; k++) pcol[k] = k * P;
          mm_args m = {P, OCg, Cg, x + (n * q.C + g * Cg) * P, prow, pcol, w + g * OCg * Cg, 1, Cg,
                       y + (n * q.OC + g * OCg) * P, 1, P, 1.0f, 1.0f, bias ? bias + g * OCg : 0, 0, 1};
          m.bp = bp, m.epi = nd->epi;
          e = mm_run(&m);
          continue;
        }
#endif
        /* A(oc, ic) = W, B(ic, p) = X (the tiles compute w * x: products commute) */
        mm_args m = {OCg, P, Cg, w + g * OCg * Cg, offs, offs + OCg, x + (n * q.C + g * Cg) * P, P, 1,
                     y + (n * q.OC + g * OCg) * P, P, 1, 1.0f, 1.0f, bias ? bias + g * OCg : 0, 1, 0};
        m.epi = nd->epi;
        e = mm_run(&m);
      }
    }
    opml_free(offs);
    return e;
  }
#ifdef NN_AVX2
  conv_job j = {&q, x, w, bias, y, K, P, 0, 0, weights_finite(w, q.OC * K), 0, nd->epi};
#else
  conv_job j = {&q, x, w, bias, y, K, P, 0, 0, all_finite(w, q.OC * K), 0, nd->epi};
#endif
  if (Cg == 1) {
    opml_parallel((size_t)(q.N * q.OC), work, conv_dw_item, &j);
    return j.failed ? OPML_ENOMEM : OPML_OK;
  }
#if defined(__mips__)
  return conv_im2col(&q, x, w, bias, y, nd->epi);
#endif
#ifdef NN_AVX2
  float *xd = 0;
  if (opml_use_avx512() && q.SW == 2) { /* x's rows split by parity: stride 2 as stride 1 */
    j.hw2 = (q.IW + 1) / 2;
    xd = opml_alloc((size_t)(q.N * q.C * q.ID * q.IH) * (size_t)(2 * j.hw2) * sizeof(float));
    if (!xd) return OPML_ENOMEM;
    split_rows(x, xd, q.N * q.C * q.ID * q.IH, q.IW, j.hw2);
    j.xd = xd;
  }
  if (opml_use_avx512() && q.G == 1 && (q.SW == 1 || q.SW == 2) && positions_as_rows(P, OCg) &&
      (size_t)K * (size_t)((P + WR - 1) / WR * WR) <= ((size_t)2 << 20)) { /* (a panel of 8 MiB at most) */
    const int e = conv_rows(&j, (P + WR - 1) / WR * WR);
    if (e >= 0) {
      if (xd) opml_free(xd);
      return e;
    }
  }
  if (opml_use_avx512() && q.KD == 1 && q.ID == 1 && q.OD == 1 && q.SH == 1 && q.SW == 1) {
    /* stride 1 in 2-D: the grid, where it costs less than the panels. Measured on resnet18
     * (Zen 5): GTILE takes about 1.13 times the time per multiply-add of the tiles on packed
     * panels (unaligned loads from rows planes apart), times GW / OW for the extra columns; a
     * panel's copy adds about 11 / OCg (it is read by OCg / 8 tiles): densenet121's 3x3
     * convolutions to 32 channels gain, resnet18's to 64 break even. */
    const idx GW = q.IW + q.PW > q.OW + (q.KW - 1) * q.DW ? q.IW + q.PW : q.OW + (q.KW - 1) * q.DW;
    const idx GH = q.IH + q.PH > q.OH + (q.KH - 1) * q.DH ? q.IH + q.PH : q.OH + (q.KH - 1) * q.DH;
    if (113 * GW * OCg < 100 * q.OW * (OCg + 11)) {
      const int e = conv_grid(&j, GW, GH);
      if (xd) opml_free(xd);
      return e;
    }
  }
  j.nb = opml_use_avx512() ? WR : NR; /* 32 positions: the 8 x 32 tiles */
#else
  j.nb = NR;
#endif
  j.blocks = (P + j.nb - 1) / j.nb;
  opml_parallel((size_t)(q.N * q.G * j.blocks), work, conv_panel_item, &j);
#ifdef NN_AVX2
  if (xd) opml_free(xd);
#endif
  return j.failed ? OPML_ENOMEM : OPML_OK;
}

/* --- pooling -------------------------------------------------------------------------------
 * Spatial rank normalised to 3. ints:
 *   [NC, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW, ED, EH, EW, flag]
 * (P* leading pads, E* trailing pads). Window taps are visited in ascending (kd, kh, kw).
 * MaxPool: flag = storage_order of the optional Indices output (int64 flat input index; with 1,
 *   the spatial part is column-major). Max of the taps inside the input, as described above.
 * AveragePool: flag = count_include_pad. Sum of the taps inside the input from +0, divided by
 *   the number of taps inside the input (0) or inside the padded input [-P, I+E) (1). */

typedef struct pool_geom {
  idx NC, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, PD, PH, PW, ED, EH, EW, flag;
} pool_geom;

static int pool_geom_of(const opml_node *nd, pool_geom *q) {
  if (nd->n_ints != 23) return OPML_EATTR;
  idx *f = &q->NC;
  for (int i = 0; i < 23; i++) f[i] = nd->ints[i];
  if (q->SD <= 0 || q->SH <= 0 || q->SW <= 0) return OPML_EATTR;
  return OPML_OK;
}

/* The taps along one axis of output o that lie in [lo, hi): tap t for t in [*t0, *t1). */
static void taps(idx o, idx s, idx pad, idx d, idx k, idx lo, idx hi, idx *t0, idx *t1) {
  idx start = o * s - pad, a = 0, b = k;
  while (a < b && start + a * d < lo) a++;
  while (b > a && start + (b - 1) * d >= hi) b--;
  *t0 = a, *t1 = b;
}

/* The offset in a plane of the input row that tap (kd, kh) of output row (od, oh) reads, less
 * the W padding: x[tap_row + kw * DW + ow * SW] is the tap's input for output ow. */
static inline idx tap_row(const pool_geom *q, idx od, idx oh, idx kd, idx kh) {
  return ((od * q->SD - q->PD + kd * q->DD) * q->IH + oh * q->SH - q->PH + kh * q->DH) * q->IW - q->PW;
}

/* The flat offsets (within one [D,H,W] plane) of the window taps inside the input, in
 * ascending (kd, kh, kw); returns how many. With `cm`, also the column-major offsets. */
static idx window(const pool_geom *q, idx od, idx oh, idx ow, idx *offs, idx *cm) {
  idx d0, d1, h0, h1, w0, w1, n = 0;
  taps(od, q->SD, q->PD, q->DD, q->KD, 0, q->ID, &d0, &d1);
  taps(oh, q->SH, q->PH, q->DH, q->KH, 0, q->IH, &h0, &h1);
  taps(ow, q->SW, q->PW, q->DW, q->KW, 0, q->IW, &w0, &w1);
  for (idx kd = d0; kd < d1; kd++) {
    idx id = od * q->SD - q->PD + kd * q->DD;
    for (idx kh = h0; kh < h1; kh++) {
      idx ih = oh * q->SH - q->PH + kh * q->DH;
      for (idx kw = w0; kw < w1; kw++) {
        idx iw = ow * q->SW - q->PW + kw * q->DW;
        if (cm) cm[n] = (iw * q->IH + ih) * q->ID + id;
        offs[n++] = (id * q->IH + ih) * q->IW + iw;
      }
    }
  }
  return n;
}

/* Index of the maximum among the n taps (the first one on ties), or -1 if n == 0. */
#define ARGMAX(T)                                                                                 \
  static idx argmax_##T(const T *x, const idx *offs, idx n) {                                      \
    idx best = n > 0 ? 0 : -1;                                                                    \
    for (idx t = 1; t < n; t++) {                                                                 \
      if (x[offs[t]] > x[offs[best]]) best = t;                                                   \
    }                                                                                             \
    return best;                                                                                  \
  }
ARGMAX(float)
ARGMAX(uint8_t)
ARGMAX(int8_t)
#undef ARGMAX


/* The divisor of AveragePool for output (od, oh, ow): taps inside the input, or with
 * count_include_pad inside the padded input. */
static idx avg_count(const pool_geom *q, idx od, idx oh, idx ow) {
  idx a, b, n;
  const idx lo = q->flag ? -1 : 0; /* -1: bounds include the pads */
  taps(od, q->SD, q->PD, q->DD, q->KD, lo ? -q->PD : 0, q->ID + (lo ? q->ED : 0), &a, &b), n = b - a;
  taps(oh, q->SH, q->PH, q->DH, q->KH, lo ? -q->PH : 0, q->IH + (lo ? q->EH : 0), &a, &b), n *= b - a;
  taps(ow, q->SW, q->PW, q->DW, q->KW, lo ? -q->PW : 0, q->IW + (lo ? q->EW : 0), &a, &b), n *= b - a;
  return n;
}

/* One output of float MaxPool (avg = 0) or AveragePool (avg = 1) over plane x. */
static float pool_one_f32(const pool_geom *q, const float *x, idx od, idx oh, idx ow, int avg) {
  idx d0, d1, h0, h1, w0, w1;
  taps(od, q->SD, q->PD, q->DD, q->KD, 0, q->ID, &d0, &d1);
  taps(oh, q->SH, q->PH, q->DH, q->KH, 0, q->IH, &h0, &h1);
  taps(ow, q->SW, q->PW, q->DW, q->KW, 0, q->IW, &w0, &w1);
  float m = 0.0f;
  int first = 1;
  for (idx kd = d0; kd < d1; kd++) {
    for (idx kh = h0; kh < h1; kh++) {
      const float *xr = x + tap_row(q, od, oh, kd, kh);
      for (idx kw = w0; kw < w1; kw++) {
        const float v = xr[ow * q->SW + kw * q->DW];
        if (avg) m += v;
        else if (first || v > m) m = v;
        first = 0;
      }
    }
  }
  return avg ? m / (float)(int32_t)avg_count(q, od, oh, ow) : m;
}

/* Float MaxPool without indices (avg = 0) and AveragePool (avg = 1), one output row (od, oh)
 * at a time: the outputs whose W window lies inside the input are computed together, tap by
 * tap in ascending (kd, kh, kw) order (each output's own order), the others one by one. */
#ifdef NN_AVX2
/* The lanes [lo, hi) of 16, clipped. */
static inline __mmask16 lanes16(idx lo, idx hi) {
  lo = lo < 0 ? 0 : lo, hi = hi > 16 ? 16 : hi;
  return hi <= lo ? 0 : (__mmask16)(((1u << (hi - lo)) - 1) << lo);
}

/* pool_f32's MaxPool outputs [a, b) of a row (stride 1 or 2, every W tap inside the input) in
 * 16 lanes, each lane's maximum kept in a register over the taps (the scalar loop read and
 * wrote y at every tap, 4 lanes at a time): the first tap, then `v > m ? v : m` per tap in the
 * same order (NaN and -0 as in the scalar code). Masked loads only at the plane's end, masked
 * stores at a row's end (they are slow); x_end: the end of x's plane. */
AVX512 static void max_rows_avx512(const pool_geom *q, const float *x, const float *x_end, float *y, idx od,
                                   idx oh, idx d0, idx d1, idx h0, idx h1, idx a, idx b) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  for (idx ow0 = a; ow0 < b; ow0 += 16) {
    const idx cnt = b - ow0 < 16 ? b - ow0 : 16;
    const __mmask16 mk = lanes16(0, cnt);
    __m512 m = _mm512_setzero_ps();
    int first = 1;
    for (idx kd = d0; kd < d1; kd++) {
      for (idx kh = h0; kh < h1; kh++) {
        const idx row = tap_row(q, od, oh, kd, kh);
        for (idx kw = 0; kw < q->KW; kw++, first = 0) {
          const float *p = x + row + kw * q->DW + ow0 * q->SW;
          __m512 v;
          /* (lanes past cnt: other inputs of the plane, computed and never stored) */
          if (q->SW == 1) {
            v = p + 16 <= x_end ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mk, p);
          } else if (p + 32 <= x_end) {
            v = _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
          } else { /* elements 0, 2, .., 2 cnt - 2 */
            v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lanes16(0, 2 * cnt - 1), p), even,
                                       _mm512_maskz_loadu_ps(lanes16(-16, 2 * cnt - 17), p + 16));
          }
          m = first ? v : _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, m, _CMP_GT_OQ), m, v);
        }
      }
    }
    if (cnt == 16) {
      _mm512_storeu_ps(y + ow0, m);
    } else {
      _mm512_mask_storeu_ps(y + ow0, mk, m);
    }
  }
}
#endif

/* Planes [nc0, nc1) of a float pooling. */
static void pool_planes_f32(const pool_geom *q, const float *x, float *y, int avg, idx nc0, idx nc1) {
  const idx plane = q->ID * q->IH * q->IW;
  idx lo, hi; /* the outputs whose W taps are all inside the input */
  valid_range(-q->PW, q->SW, q->IW - (q->KW - 1) * q->DW, q->OW, &lo, &hi);
  x += nc0 * plane, y += nc0 * q->OD * q->OH * q->OW;
  for (idx nc = nc0; nc < nc1; nc++, x += plane) {
    for (idx od = 0; od < q->OD; od++) {
      for (idx oh = 0; oh < q->OH; oh++, y += q->OW) {
        idx d0, d1, h0, h1;
        taps(od, q->SD, q->PD, q->DD, q->KD, 0, q->ID, &d0, &d1);
        taps(oh, q->SH, q->PH, q->DH, q->KH, 0, q->IH, &h0, &h1);
        const idx a = d0 < d1 && h0 < h1 ? lo : q->OW, b = d0 < d1 && h0 < h1 ? hi : q->OW;
        for (idx ow = 0; ow < a; ow++) y[ow] = pool_one_f32(q, x, od, oh, ow, avg);
        for (idx ow = b; ow < q->OW; ow++) y[ow] = pool_one_f32(q, x, od, oh, ow, avg);
        if (a >= b) continue;
#ifdef NN_AVX2
        if (!avg && (q->SW == 1 || q->SW == 2) && opml_use_avx512()) {
          max_rows_avx512(q, x, x + plane, y, od, oh, d0, d1, h0, h1, a, b);
          continue;
        }
#endif
        if (avg) {
          for (idx ow = a; ow < b; ow++) y[ow] = 0.0f;
        }
        int first = 1;
        for (idx kd = d0; kd < d1; kd++) {
          for (idx kh = h0; kh < h1; kh++) {
            const idx row = tap_row(q, od, oh, kd, kh);
            for (idx kw = 0; kw < q->KW; kw++, first = 0) {
              const idx r = row + kw * q->DW; /* x[r + ow * SW] is inside the row */
              if (avg) {
                for (idx ow = a; ow < b; ow++) y[ow] += x[r + ow * q->SW];
              } else if (first) {
                for (idx ow = a; ow < b; ow++) y[ow] = x[r + ow * q->SW];
              } else {
                for (idx ow = a; ow < b; ow++) {
                  const float v = x[r + ow * q->SW];
                  y[ow] = v > y[ow] ? v : y[ow];
                }
              }
            }
          }
        }
        if (avg) {
          const float n = (float)(int32_t)avg_count(q, od, oh, a);
          for (idx ow = a; ow < b; ow++) y[ow] = y[ow] / n;
        }
      }
    }
  }
}

typedef struct pool_job {
  const pool_geom *q;
  const float *x;
  float *y;
  int avg;
  idx per; /* planes per item */
} pool_job;

static void pool_item(void *ctx, size_t item) {
  const pool_job *j = ctx;
  const idx nc0 = (idx)item * j->per, nc1 = nc0 + j->per < j->q->NC ? nc0 + j->per : j->q->NC;
  pool_planes_f32(j->q, j->x, j->y, j->avg, nc0, nc1);
}

/* Each plane (n, c) is pooled on its own: blocks of planes are the threads' items. */
static int pool_f32(const pool_geom *q, const float *x, float *y, int avg) {
  const idx items = 4 * (idx)opml_threads(), per = (q->NC + items - 1) / items;
  pool_job j = {q, x, y, avg, per > 0 ? per : 1};
  const size_t work = (size_t)q->NC * (size_t)(q->OD * q->OH * q->OW) * (size_t)(q->KD * q->KH * q->KW);
  opml_parallel((size_t)((q->NC + j.per - 1) / j.per), work, pool_item, &j);
  return OPML_OK;
}

/* 8-bit MaxPool without indices: pool_f32's order and edges, for integer values (an empty
 * window gives 0, as the general path does). */
#ifdef NN_AVX2
/* pool_max_T's outputs from a to at most b of a row (stride 1 or 2, every W tap inside the
 * input) 16 at a time in 32-bit lanes (AVX-512 F: bytes widened, the maximum taken, narrowed
 * back; an integer maximum, so the taps' order does not matter), while the block's furthest read
 * stays before x_end. Returns the first output left to the scalar loop. */
AVX512 static idx max_rows_bytes(const pool_geom *q, const uint8_t *x, const uint8_t *x_end, uint8_t *y, int sgn,
                                 idx od, idx oh, idx d0, idx d1, idx h0, idx h1, idx a, idx b) {
  const idx last = tap_row(q, od, oh, d1 - 1, h1 - 1) + (q->KW - 1) * q->DW;
  idx ow0 = a;
  for (; ow0 + 16 <= b && x + last + ow0 * q->SW + 16 * q->SW <= x_end; ow0 += 16) {
    __m512i m = _mm512_set1_epi32(sgn ? -128 : 0);
    for (idx kd = d0; kd < d1; kd++) {
      for (idx kh = h0; kh < h1; kh++) {
        const idx row = tap_row(q, od, oh, kd, kh);
        for (idx kw = 0; kw < q->KW; kw++) {
          const uint8_t *p = x + row + kw * q->DW + ow0 * q->SW;
          __m512i v;
          if (q->SW == 1) {
            const __m128i b16 = _mm_loadu_si128((const __m128i *)p);
            v = sgn ? _mm512_cvtepi8_epi32(b16) : _mm512_cvtepu8_epi32(b16);
          } else { /* the even bytes: the low byte of each of 16 little-endian 16-bit words */
            v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
            v = sgn ? _mm512_srai_epi32(_mm512_slli_epi32(v, 24), 24) : _mm512_and_si512(v, _mm512_set1_epi32(0xFF));
          }
          m = _mm512_max_epi32(m, v);
        }
      }
    }
    _mm_storeu_si128((__m128i *)(y + ow0), _mm512_cvtepi32_epi8(m));
  }
  return ow0;
}
#endif

#define POOL_MAX_INT(T)                                                                           \
  static T pool_one_##T(const pool_geom *q, const T *x, idx od, idx oh, idx ow) {                 \
    idx d0, d1, h0, h1, w0, w1;                                                                   \
    taps(od, q->SD, q->PD, q->DD, q->KD, 0, q->ID, &d0, &d1);                                     \
    taps(oh, q->SH, q->PH, q->DH, q->KH, 0, q->IH, &h0, &h1);                                     \
    taps(ow, q->SW, q->PW, q->DW, q->KW, 0, q->IW, &w0, &w1);                                     \
    T m = 0;                                                                                      \
    int first = 1;                                                                                \
    for (idx kd = d0; kd < d1; kd++) {                                                            \
      for (idx kh = h0; kh < h1; kh++) {                                                          \
        const T *xr = x + tap_row(q, od, oh, kd, kh);                                             \
        for (idx kw = w0; kw < w1; kw++, first = 0) {                                             \
          const T v = xr[ow * q->SW + kw * q->DW];                                                \
          if (first || v > m) m = v;                                                              \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    return m;                                                                                     \
  }                                                                                               \
  static int pool_max_##T(const pool_geom *q, const T *x, T *y) {                                 \
    const idx plane = q->ID * q->IH * q->IW;                                                      \
    idx lo, hi;                                                                                   \
    valid_range(-q->PW, q->SW, q->IW - (q->KW - 1) * q->DW, q->OW, &lo, &hi);                     \
    for (idx nc = 0; nc < q->NC; nc++, x += plane) {                                              \
      for (idx od = 0; od < q->OD; od++) {                                                        \
        for (idx oh = 0; oh < q->OH; oh++, y += q->OW) {                                          \
          idx d0, d1, h0, h1;                                                                     \
          taps(od, q->SD, q->PD, q->DD, q->KD, 0, q->ID, &d0, &d1);                               \
          taps(oh, q->SH, q->PH, q->DH, q->KH, 0, q->IH, &h0, &h1);                               \
          idx a = d0 < d1 && h0 < h1 ? lo : q->OW;                                                \
          const idx b = d0 < d1 && h0 < h1 ? hi : q->OW;                                          \
          for (idx ow = 0; ow < a; ow++) y[ow] = pool_one_##T(q, x, od, oh, ow);                  \
          for (idx ow = b; ow < q->OW; ow++) y[ow] = pool_one_##T(q, x, od, oh, ow);              \
          POOL_MAX_VEC(T)                                                                         \
          int first = 1;                                                                          \
          for (idx kd = d0; kd < d1; kd++) {                                                      \
            for (idx kh = h0; kh < h1; kh++) {                                                    \
              const idx row = tap_row(q, od, oh, kd, kh);                                         \
              for (idx kw = 0; kw < q->KW; kw++, first = 0) {                                     \
                const T *xr = x + row + kw * q->DW;                                               \
                if (first) {                                                                      \
                  for (idx ow = a; ow < b; ow++) y[ow] = xr[ow * q->SW];                          \
                } else {                                                                          \
                  for (idx ow = a; ow < b; ow++) y[ow] = xr[ow * q->SW] > y[ow] ? xr[ow * q->SW] : y[ow]; \
                }                                                                                 \
              }                                                                                   \
            }                                                                                     \
          }                                                                                       \
        }                                                                                         \
      }                                                                                           \
    }                                                                                             \
    return OPML_OK;                                                                               \
  }
#ifdef NN_AVX2
#define POOL_MAX_VEC(T)                                                                           \
  if (a < b && (q->SW == 1 || q->SW == 2) && opml_use_avx512()) {                                 \
    a = max_rows_bytes(q, (const uint8_t *)x, (const uint8_t *)(x + plane), (uint8_t *)y, (T)-1 < 0, od, oh, d0, d1, \
                       h0, h1, a, b);                                                             \
  }
#else
#define POOL_MAX_VEC(T)
#endif
POOL_MAX_INT(uint8_t)
POOL_MAX_INT(int8_t)
#undef POOL_MAX_INT
#undef POOL_MAX_VEC

static int k_maxpool(const opml_node *nd) {
  pool_geom q;
  if (pool_geom_of(nd, &q)) return OPML_EATTR;
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0], *I = nd->n_out > 1 ? nd->out[1] : 0;
  if (Y->dtype != X->dtype || (I && I->dtype != DT_INT64)) return OPML_EDTYPE;
  if (X->dtype != DT_FLOAT && X->dtype != DT_UINT8 && X->dtype != DT_INT8) return OPML_EDTYPE;
  if (X->dtype == DT_FLOAT && !I) return pool_f32(&q, X->data, Y->data, 0);
  if (X->dtype == DT_UINT8 && !I) return pool_max_uint8_t(&q, X->data, Y->data);
  if (X->dtype == DT_INT8 && !I) return pool_max_int8_t(&q, X->data, Y->data);
  idx ktaps = q.KD * q.KH * q.KW, plane = q.ID * q.IH * q.IW, o = 0;
  idx *offs = opml_alloc(2 * (size_t)(ktaps > 0 ? ktaps : 1) * sizeof(idx));
  if (!offs) return OPML_ENOMEM;
  idx *cm = I && q.flag ? offs + ktaps : 0;
  int64_t *ind = I ? I->data : 0;
  for (idx nc = 0; nc < q.NC; nc++) {
    const idx base = nc * plane;
    for (idx od = 0; od < q.OD; od++) {
      for (idx oh = 0; oh < q.OH; oh++) {
        for (idx ow = 0; ow < q.OW; ow++, o++) {
          idx n = window(&q, od, oh, ow, offs, cm), t;
          switch (X->dtype) {
            case DT_FLOAT:
              t = argmax_float((const float *)X->data + base, offs, n);
              ((float *)Y->data)[o] = t < 0 ? 0.0f : ((const float *)X->data)[base + offs[t]];
              break;
            case DT_UINT8:
              t = argmax_uint8_t((const uint8_t *)X->data + base, offs, n);
              ((uint8_t *)Y->data)[o] = t < 0 ? 0 : ((const uint8_t *)X->data)[base + offs[t]];
              break;
            default:
              t = argmax_int8_t((const int8_t *)X->data + base, offs, n);
              ((int8_t *)Y->data)[o] = t < 0 ? 0 : ((const int8_t *)X->data)[base + offs[t]];
              break;
          }
          if (ind) ind[o] = t < 0 ? 0 : base + (cm ? cm[t] : offs[t]);
        }
      }
    }
  }
  opml_free(offs);
  return OPML_OK;
}

static int k_averagepool(const opml_node *nd) {
  pool_geom q;
  if (pool_geom_of(nd, &q)) return OPML_EATTR;
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (!is_f32(X) || !is_f32(Y)) return OPML_EDTYPE;
  return pool_f32(&q, X->data, Y->data, 1);
}

/* --- reductions ----------------------------------------------------------------------------
 * ReduceMean and GlobalAveragePool. ints: [n, dims[n], reduced[n]]: the input shape with
 * adjacent axes of the same kind merged. Each output is (+0 + x_0 + x_1 + ...) / count over its
 * reduced elements in ascending (row-major) order, count = product of the reduced dims. */
static int k_reducemean(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (!is_f32(X) || !is_f32(Y)) return OPML_EDTYPE;
  if (nd->n_ints < 1) return OPML_EATTR;
  idx n = nd->ints[0];
  if (n < 1 || n > OPML_MAX_RANK || nd->n_ints != 1 + 2 * (uint32_t)n) return OPML_EATTR;
  idx dims[OPML_MAX_RANK], ostr[OPML_MAX_RANK], count[OPML_MAX_RANK] = {0};
  idx rcount = 1, total = 1, ysize = 1;
  for (idx i = n - 1; i >= 0; i--) {
    dims[i] = nd->ints[1 + i];
    int red = nd->ints[1 + n + i] != 0;
    ostr[i] = red ? 0 : ysize; /* output stride of this axis */
    if (red) rcount *= dims[i];
    else ysize *= dims[i];
    total *= dims[i];
  }
  const float *x = X->data;
  float *y = Y->data;
#ifdef NN_AVX2
  int trailing = 1; /* the reduced axes are the last ones (a global average pool) */
  for (idx i = 1; i < n; i++) trailing &= !(ostr[i - 1] == 0 && ostr[i] != 0);
  if (trailing && total > 0 && rcount > 1) {
    /* y[c] = (+0 + x[c R] + x[c R + 1] + ...) / R, the sequence below; 8 outputs' chains
     * interleaved (one chain waited on each addition's latency) */
    const float cnt = (float)(int32_t)rcount;
    idx c = 0;
    for (; c + 8 <= ysize; c += 8) {
      const float *xc = x + c * rcount;
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
      for (idx i = 0; i < rcount; i++) {
        s0 += xc[i], s1 += xc[rcount + i], s2 += xc[2 * rcount + i], s3 += xc[3 * rcount + i];
        s4 += xc[4 * rcount + i], s5 += xc[5 * rcount + i], s6 += xc[6 * rcount + i], s7 += xc[7 * rcount + i];
      }
      y[c] = s0 / cnt, y[c + 1] = s1 / cnt, y[c + 2] = s2 / cnt, y[c + 3] = s3 / cnt;
      y[c + 4] = s4 / cnt, y[c + 5] = s5 / cnt, y[c + 6] = s6 / cnt, y[c + 7] = s7 / cnt;
    }
    for (; c < ysize; c++) {
      float s = 0.0f;
      for (idx i = 0; i < rcount; i++) s += x[c * rcount + i];
      y[c] = s / cnt;
    }
    return OPML_OK;
  }
#endif
  for (idx i = 0; i < ysize; i++) y[i] = 0.0f;
  if (total > 0) {
    /* visit x in row-major order; the innermost group is one loop */
    idx inner = dims[n - 1], yoff = 0;
    int inner_red = ostr[n - 1] == 0;
    for (idx xoff = 0; xoff < total; xoff += inner) {
      if (inner_red) {
        float s = y[yoff];
        for (idx i = 0; i < inner; i++) s += x[xoff + i];
        y[yoff] = s;
      } else {
        for (idx i = 0; i < inner; i++) y[yoff + i] += x[xoff + i];
      }
      for (idx d = n - 2; d >= 0; d--) {
        yoff += ostr[d];
        if (++count[d] < dims[d]) break;
        yoff -= ostr[d] * dims[d];
        count[d] = 0;
      }
    }
  }
  const float cnt = (float)(int32_t)rcount;
  for (idx i = 0; i < ysize; i++) y[i] = y[i] / cnt;
  return OPML_OK;
}

/* --- Softmax and LogSoftmax ----------------------------------------------------------------
 * ints: [outer, D, inner]: softmax over the D axis of each [outer, D, inner] slice.
 * m = max, e_k = exp(x_k - m), s = +0 + e_0 + e_1 + ...; Softmax y_k = e_k / s, LogSoftmax
 * y_k = (x_k - m) - log(s). Double: the same in binary64 (mathf.h's opml_exp and opml_log). */
/* One softmax row of D elements at stride st (x and y may not overlap). */
static void softmax_row(const float *xs, float *ys, idx D, idx st, int logsm) {
  float m = xs[0];
  for (idx k = 1; k < D; k++) {
    if (xs[k * st] > m) m = xs[k * st];
  }
  float s = 0.0f;
  if (logsm) {
    for (idx k = 0; k < D; k++) s += opml_expf(xs[k * st] - m);
    const float ls = opml_logf(s);
    for (idx k = 0; k < D; k++) ys[k * st] = (xs[k * st] - m) - ls;
  } else if (st == 1) { /* the same values: exp of x - m by arrays, then the sum in order */
    for (idx k = 0; k < D; k++) ys[k] = xs[k] - m;
    opml_expf_n(ys, ys, (size_t)D);
    for (idx k = 0; k < D; k++) s += ys[k];
    for (idx k = 0; k < D; k++) ys[k] = ys[k] / s;
  } else {
    for (idx k = 0; k < D; k++) {
      const float e = opml_expf(xs[k * st] - m);
      ys[k * st] = e;
      s += e;
    }
    for (idx k = 0; k < D; k++) ys[k * st] = ys[k * st] / s;
  }
}

/* softmax_row (not log) of 8 consecutive unit-stride rows at once: the same operations per
 * row, the rows' running maxima and sums interleaved as 8 independent chains (one row's sum is
 * a chain of dependent additions: attention rows of 49 spent most of their time waiting on it). */
static void softmax_rows8(const float *xs, float *ys, idx D) {
  float m[8], s[8];
  for (int r = 0; r < 8; r++) m[r] = xs[r * D], s[r] = 0.0f;
  for (idx k = 1; k < D; k++) {
    for (int r = 0; r < 8; r++) {
      if (xs[r * D + k] > m[r]) m[r] = xs[r * D + k];
    }
  }
  for (int r = 0; r < 8; r++) {
    for (idx k = 0; k < D; k++) ys[r * D + k] = xs[r * D + k] - m[r];
  }
  opml_expf_n(ys, ys, (size_t)(8 * D));
  for (idx k = 0; k < D; k++) {
    for (int r = 0; r < 8; r++) s[r] += ys[r * D + k];
  }
  for (int r = 0; r < 8; r++) {
    for (idx k = 0; k < D; k++) ys[r * D + k] = ys[r * D + k] / s[r];
  }
}

/* softmax_row in binary64 (opml_exp, opml_log), the same order and rules. */
static void softmax_row_d(const double *xs, double *ys, idx D, idx st, int logsm) {
  double m = xs[0], s = 0.0;
  for (idx k = 1; k < D; k++) {
    if (xs[k * st] > m) m = xs[k * st];
  }
  if (logsm) {
    for (idx k = 0; k < D; k++) s += opml_exp(xs[k * st] - m);
    const double ls = opml_log(s);
    for (idx k = 0; k < D; k++) ys[k * st] = (xs[k * st] - m) - ls;
    return;
  }
  for (idx k = 0; k < D; k++) {
    const double e = opml_exp(xs[k * st] - m);
    ys[k * st] = e;
    s += e;
  }
  for (idx k = 0; k < D; k++) ys[k * st] = ys[k * st] / s;
}

typedef struct softmax_job {
  const float *x;
  float *y;
  idx D;
} softmax_job;

static void softmax_block_item(void *ctx, size_t b) {
  const softmax_job *j = ctx;
  softmax_rows8(j->x + (idx)b * 8 * j->D, j->y + (idx)b * 8 * j->D, j->D);
}

static int softmax_common(const opml_node *nd, int logsm) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints != 3) return OPML_EATTR;
  const idx outer = nd->ints[0], D = nd->ints[1], inner = nd->ints[2];
  if (X->dtype == DT_DOUBLE && Y->dtype == DT_DOUBLE) {
    for (idx o = 0; D > 0 && o < outer; o++) {
      for (idx i = 0; i < inner; i++) {
        softmax_row_d((const double *)X->data + o * D * inner + i, (double *)Y->data + o * D * inner + i, D,
                      inner, logsm);
      }
    }
    return OPML_OK;
  }
  if (!is_f32(X) || !is_f32(Y)) return OPML_EDTYPE;
  const float *x = X->data;
  float *y = Y->data;
  if (D <= 0) return OPML_OK;
  idx o = 0;
  if (inner == 1 && !logsm && opml_use_avx2()) { /* native only: the VM has no ILP to gain */
    softmax_job j = {x, y, D};
    o = outer / 8 * 8;
    /* blocks of 8 rows for the threads (a block's rows are its own: the same bits) */
    opml_parallel((size_t)(outer / 8), (size_t)outer * (size_t)D * 16, softmax_block_item, &j);
  }
  for (; o < outer; o++) {
    if (inner == 1) { /* the usual last-axis softmax: unit stride (vectorisable loops) */
      softmax_row(x + o * D, y + o * D, D, 1, logsm);
      continue;
    }
    for (idx i = 0; i < inner; i++) softmax_row(x + o * D * inner + i, y + o * D * inner + i, D, inner, logsm);
  }
  return OPML_OK;
}

static int k_softmax(const opml_node *nd) { return softmax_common(nd, 0); }
static int k_logsoftmax(const opml_node *nd) { return softmax_common(nd, 1); }

/* --- BatchNormalization --------------------------------------------------------------------
 * ints: [N, C, S (spatial size), training]; floats: [epsilon, momentum]; inputs X, scale, B,
 * mean, var (each [C]). Inference: a = scale / sqrt(var + eps), b = B - mean * a, y = x * a + b.
 * Training (outputs Y, running_mean, running_var): batch mean mu (sum over (n, s) ascending /
 * count), batch variance v (same for (x - mu)^2), y = (x - mu) / sqrt(v + eps) * scale + B,
 * running_mean = mean * momentum + mu * (1 - momentum), likewise running_var with v. */
#ifdef NN_AVX2
/* y[s] = x[s] * a + b for s < n, 16 lanes at a time (a separate multiply and add, as the
 * scalar loop: the default build's 4 lanes were 3% of densenet121's time). */
__attribute__((target("avx512f,prefer-vector-width=512"))) static void scale_shift_avx512(const float *x, float *y,
                                                                                          idx n, float a, float b) {
  for (idx s = 0; s < n; s++) y[s] = x[s] * a + b;
}
#endif

static int k_batchnorm(const opml_node *nd) {
  if (nd->n_in != 5 || nd->n_ints != 4 || nd->n_floats != 2) return OPML_EATTR;
  for (int i = 0; i < 5; i++) {
    if (!is_f32(nd->in[i])) return OPML_EDTYPE;
  }
  for (int i = 0; i < nd->n_out; i++) {
    if (!is_f32(nd->out[i])) return OPML_EDTYPE;
  }
  idx N = nd->ints[0], C = nd->ints[1], S = nd->ints[2];
  int training = nd->ints[3] != 0;
  const float eps = nd->floats[0], mom = nd->floats[1];
  const float *x = nd->in[0]->data, *sc = nd->in[1]->data, *bi = nd->in[2]->data;
  const float *mean = nd->in[3]->data, *var = nd->in[4]->data;
  float *y = nd->out[0]->data;
  for (idx c = 0; c < C; c++) {
    if (!training) {
      const float a = sc[c] / opml_sqrtf(var[c] + eps), b = bi[c] - mean[c] * a;
      for (idx n = 0; n < N; n++) {
        const float *xs = x + (n * C + c) * S;
        float *ys = y + (n * C + c) * S;
#ifdef NN_AVX2
        if (opml_use_avx512()) {
          scale_shift_avx512(xs, ys, S, a, b);
          continue;
        }
#endif
        for (idx s = 0; s < S; s++) ys[s] = xs[s] * a + b;
      }
      continue;
    }
    const float cnt = (float)(int32_t)(N * S);
    float mu = 0.0f, v = 0.0f;
    for (idx n = 0; n < N; n++) {
      const float *xs = x + (n * C + c) * S;
      for (idx s = 0; s < S; s++) mu += xs[s];
    }
    mu = mu / cnt;
    for (idx n = 0; n < N; n++) {
      const float *xs = x + (n * C + c) * S;
      for (idx s = 0; s < S; s++) {
        const float d = xs[s] - mu;
        v += d * d;
      }
    }
    v = v / cnt;
    const float sd = opml_sqrtf(v + eps);
    for (idx n = 0; n < N; n++) {
      const float *xs = x + (n * C + c) * S;
      float *ys = y + (n * C + c) * S;
      for (idx s = 0; s < S; s++) ys[s] = (xs[s] - mu) / sd * sc[c] + bi[c];
    }
    if (nd->n_out > 1) ((float *)nd->out[1]->data)[c] = mean[c] * mom + mu * (1.0f - mom);
    if (nd->n_out > 2) ((float *)nd->out[2]->data)[c] = var[c] * mom + v * (1.0f - mom);
  }
  return OPML_OK;
}

/* --- LayerNormalization --------------------------------------------------------------------
 * ints: [outer, N]; floats: [epsilon]; inputs X, scale [N], optional B [N]; outputs Y and
 * optionally Mean and InvStdDev ([outer] each). The ONNX function body per row:
 * mu = (sum x) / N, d = x - mu, var = (sum d*d) / N, r = 1 / sqrt(var + eps),
 * y = d * r * scale (+ B). */
static int k_layernorm(const opml_node *nd) {
  const opml_tensor *X = nd->in[0], *Sc = nd->in[1], *Bt = nd->n_in > 2 ? nd->in[2] : 0;
  if (!is_f32(X) || !is_f32(Sc) || (Bt && !is_f32(Bt))) return OPML_EDTYPE;
  for (int i = 0; i < nd->n_out; i++) {
    if (!is_f32(nd->out[i])) return OPML_EDTYPE;
  }
  if (nd->n_ints != 2 || nd->n_floats != 1) return OPML_EATTR;
  idx outer = nd->ints[0], N = nd->ints[1];
  const float eps = nd->floats[0], cnt = (float)(int32_t)N;
  const float *x = X->data, *sc = Sc->data, *bi = Bt ? Bt->data : 0;
  float *y = nd->out[0]->data;
  float *mo = nd->n_out > 1 ? nd->out[1]->data : 0, *ro = nd->n_out > 2 ? nd->out[2]->data : 0;
  for (idx o = 0; o < outer; o++) {
    const float *xs = x + o * N;
    float *ys = y + o * N;
    float mu = 0.0f, v = 0.0f;
    for (idx k = 0; k < N; k++) mu += xs[k];
    mu = mu / cnt;
    for (idx k = 0; k < N; k++) {
      const float d = xs[k] - mu;
      ys[k] = d;
      v += d * d;
    }
    v = v / cnt;
    const float r = 1.0f / opml_sqrtf(v + eps);
    if (bi) {
      for (idx k = 0; k < N; k++) ys[k] = ys[k] * r * sc[k] + bi[k];
    } else {
      for (idx k = 0; k < N; k++) ys[k] = ys[k] * r * sc[k];
    }
    if (mo) mo[o] = mu;
    if (ro) ro[o] = r;
  }
  return OPML_OK;
}

const opml_kernel_entry opml_kernels_nn[] = {
    {OP_MATMUL, "MatMul", k_matmul},
    {OP_GEMM, "Gemm", k_gemm},
    {OP_CONV, "Conv", k_conv},
    {OP_MAX_POOL, "MaxPool", k_maxpool},
    {OP_AVERAGE_POOL, "AveragePool", k_averagepool},
    {OP_GLOBAL_AVERAGE_POOL, "GlobalAveragePool", k_reducemean},
    {OP_BATCH_NORMALIZATION, "BatchNormalization", k_batchnorm},
    {OP_LAYER_NORMALIZATION, "LayerNormalization", k_layernorm},
    {OP_SOFTMAX, "Softmax", k_softmax},
    {OP_LOG_SOFTMAX, "LogSoftmax", k_logsoftmax},
    {OP_REDUCE_MEAN, "ReduceMean", k_reducemean},
    {0, 0, 0},
};
