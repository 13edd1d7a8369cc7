/*
 * ai.onnx.ml kernels (docs/IR.md; the "ml" family of core/compiler/ops/schema.ts, which documents
 * the ints layouts; lowering in core/compiler/ops/ml.ts): TreeEnsemble, TreeEnsembleRegressor.
 *
 * Both walk each tree from its root, comparing X in binary64 (a float X converts exactly, so
 * float and double give the comparisons of their own type), to a leaf, then aggregate the leaf's
 * votes (TreeEnsemble: one) into their targets in Y's type, the trees in root order, the votes in
 * order: one order, so one result; then AVERAGE divides by the tree count and the Regressor adds
 * its base values. The compiler checked every index and that the trees have no cycle; a walk longer
 * than nNodes steps still fails (OPML_EATTR) rather than loop.
 */
#include "kernel.h"
#include "ops.h"

enum { AGG_AVERAGE, AGG_SUM, AGG_MIN, AGG_MAX };
enum { M_LEQ, M_LT, M_GTE, M_GT, M_EQ, M_NEQ, M_MEMBER };
#define NODE_INTS 8 /* feature, mode, trueRef, falseRef, missingTracksTrue, split, memberStart, memberCount */

static double bits_f64(int64_t b) {
  union { int64_t i; double d; } v;
  v.i = b;
  return v.d;
}

/* The branch node n takes for value x: 1 true, 0 false. */
static int branch(const int64_t *node, const int64_t *members, double x) {
  if (x != x && node[4]) return 1; /* a missing value tracks the true branch */
  double s = bits_f64(node[5]);
  switch (node[1]) {
    case M_LEQ: return x <= s;
    case M_LT: return x < s;
    case M_GTE: return x >= s;
    case M_GT: return x > s;
    case M_EQ: return x == s;
    case M_NEQ: return x != s;
    default: /* M_MEMBER */
      for (int64_t k = 0; k < node[7]; k++) {
        if (x == bits_f64(members[node[6] + k])) return 1;
      }
      return 0;
  }
}

typedef struct {
  int64_t nF, nT, agg, nRoots, nNodes;
  const int64_t *roots, *nodes, *leaves, *members;
  const int64_t *votes; /* NULL: leaf i is one vote [target, weight] at leaves + 2i; else [start, count] */
  const int64_t *base;  /* NULL, or nT binary64 values added last */
} trees;

/* The leaf a tree's walk from ref ends at, or -1 after more than nNodes steps (a cycle). */
static int64_t walk(const trees *e, int64_t ref, const double *x) {
  for (int64_t steps = 0; ref < e->nNodes; steps++) {
    if (steps > e->nNodes) return -1;
    const int64_t *node = e->nodes + ref * NODE_INTS;
    ref = branch(node, e->members, x[node[0]]) ? node[2] : node[3];
  }
  return ref - e->nNodes;
}

/* One row x (as binary64) into y[nT] in type T; seen[nT] marks MIN/MAX's first vote. */
#define AGGREGATE(NAME, T)                                                                    \
  static int NAME(const trees *e, const double *x, T *y, uint8_t *seen) {                     \
    for (int64_t t = 0; t < e->nT; t++) y[t] = (T)0, seen[t] = 0;                             \
    for (int64_t r = 0; r < e->nRoots; r++) {                                                 \
      int64_t leaf = walk(e, e->roots[r], x), n = 1;                                          \
      if (leaf < 0) return OPML_EATTR;                                                        \
      const int64_t *v = e->leaves + leaf * 2;                                                \
      if (e->votes) n = v[1], v = e->votes + v[0] * 2;                                        \
      for (int64_t k = 0; k < n; k++, v += 2) {                                               \
        int64_t t = v[0];                                                                     \
        T w = (T)bits_f64(v[1]);                                                              \
        if (e->agg == AGG_MIN) y[t] = (!seen[t] || w < y[t]) ? w : y[t];                      \
        else if (e->agg == AGG_MAX) y[t] = (!seen[t] || w > y[t]) ? w : y[t];                 \
        else y[t] = y[t] + w;                                                                 \
        seen[t] = 1;                                                                          \
      }                                                                                       \
    }                                                                                         \
    for (int64_t t = 0; t < e->nT; t++) {                                                     \
      if (e->agg == AGG_AVERAGE) y[t] = y[t] / (T)e->nRoots;                                  \
      if (e->base) y[t] = y[t] + (T)bits_f64(e->base[t]);                                     \
    }                                                                                         \
    return OPML_OK;                                                                           \
  }
AGGREGATE(aggregate_float, float)
AGGREGATE(aggregate_double, double)

/* Every row: X (float, double, int32, int64) read as binary64, Y float or double. */
static int tree_rows(const trees *e, const opml_tensor *X, opml_tensor *Y) {
  int64_t nN = (int64_t)Y->size / e->nT;
  if (nN * e->nT != (int64_t)Y->size || nN * e->nF != (int64_t)X->size) return OPML_EATTR;
  if (Y->dtype != DT_FLOAT && Y->dtype != DT_DOUBLE) return OPML_EDTYPE;
  double *x = (double *)opml_alloc((size_t)e->nF * sizeof(double) + 1);
  uint8_t *seen = (uint8_t *)opml_alloc((size_t)e->nT + 1);
  int rc = x && seen ? OPML_OK : OPML_ENOMEM;
  for (int64_t row = 0; row < nN && rc == OPML_OK; row++) {
    for (int64_t f = 0; f < e->nF; f++) {
      int64_t i = row * e->nF + f;
      switch (X->dtype) {
        case DT_FLOAT: x[f] = (double)((const float *)X->data)[i]; break;
        case DT_DOUBLE: x[f] = ((const double *)X->data)[i]; break;
        case DT_INT32: x[f] = (double)((const int32_t *)X->data)[i]; break;
        case DT_INT64: x[f] = (double)((const int64_t *)X->data)[i]; break;
        default: rc = OPML_EDTYPE; break;
      }
    }
    if (rc != OPML_OK) break;
    if (Y->dtype == DT_FLOAT) rc = aggregate_float(e, x, (float *)Y->data + row * e->nT, seen);
    else rc = aggregate_double(e, x, (double *)Y->data + row * e->nT, seen);
  }
  if (x) opml_free(x);
  if (seen) opml_free(seen);
  return rc;
}

/* The common head of both layouts: [N, F, T, aggregate, nRoots, nNodes, nLeaves, nMembers, ...]. */
static int read_head(const opml_node *nd, trees *e, int64_t *nLeaves, int64_t *nMembers) {
  if (nd->n_ints < 8) return OPML_EATTR;
  const int64_t *a = nd->ints;
  e->nF = a[1], e->nT = a[2], e->agg = a[3], e->nRoots = a[4], e->nNodes = a[5];
  *nLeaves = a[6], *nMembers = a[7];
  if (e->nT < 1 || e->agg < AGG_AVERAGE || e->agg > AGG_MAX) return OPML_EATTR;
  return OPML_OK;
}

static int k_tree_ensemble(const opml_node *nd) {
  trees e = {0};
  int64_t nLeaves, nMembers;
  if (read_head(nd, &e, &nLeaves, &nMembers)) return OPML_EATTR;
  if (8 + e.nRoots + e.nNodes * NODE_INTS + nLeaves * 2 + nMembers != (int64_t)nd->n_ints) return OPML_EATTR;
  if (nd->in[0]->dtype != nd->out[0]->dtype) return OPML_EDTYPE;
  e.roots = nd->ints + 8;
  e.nodes = e.roots + e.nRoots;
  e.leaves = e.nodes + e.nNodes * NODE_INTS;
  e.members = e.leaves + nLeaves * 2;
  return tree_rows(&e, nd->in[0], nd->out[0]);
}

/* TreeEnsembleRegressor: the head, then nVotes, hasBase, roots, nodes, leaves as [voteStart,
 * voteCount], votes as [target, weight], base[T] when hasBase. */
static int k_tree_ensemble_regressor(const opml_node *nd) {
  trees e = {0};
  int64_t nLeaves, nMembers;
  if (read_head(nd, &e, &nLeaves, &nMembers) || nd->n_ints < 10 || nMembers != 0) return OPML_EATTR;
  int64_t nVotes = nd->ints[8], hasBase = nd->ints[9];
  int64_t want = 10 + e.nRoots + e.nNodes * NODE_INTS + nLeaves * 2 + nVotes * 2 + (hasBase ? e.nT : 0);
  if (want != (int64_t)nd->n_ints || nd->out[0]->dtype != DT_FLOAT) return OPML_EATTR;
  e.roots = nd->ints + 10;
  e.nodes = e.roots + e.nRoots;
  e.leaves = e.nodes + e.nNodes * NODE_INTS;
  e.members = e.leaves; /* no SET_MEMBER nodes */
  e.votes = e.leaves + nLeaves * 2;
  e.base = hasBase ? e.votes + nVotes * 2 : 0;
  return tree_rows(&e, nd->in[0], nd->out[0]);
}

const opml_kernel_entry opml_kernels_ml[] = {
    {OP_TREE_ENSEMBLE, "TreeEnsemble", k_tree_ensemble},
    {OP_TREE_ENSEMBLE_REGRESSOR, "TreeEnsembleRegressor", k_tree_ensemble_regressor},
    {0, 0, 0},
};
