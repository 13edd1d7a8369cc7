/*
 * ai.onnx.ml kernels (docs/IR.md; the "ml" family of core/compiler/ops/schema.ts, which documents
 * the ints layout; lowering in core/compiler/ops/ml.ts): TreeEnsemble.
 *
 * TreeEnsemble walks each tree from its root, comparing X in binary64 (a float X converts
 * exactly, so float and double give the comparisons of their own type), to a leaf, then
 * aggregates the leaf's weight into its target in X's type, the trees in root order: one order,
 * so one result. The compiler checked every index and that the trees have no cycle; a walk longer
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
  int64_t nN, nF, nT, agg, nRoots, nNodes;
  const int64_t *roots, *nodes, *leaves, *members;
} trees;

/* Every row in type T (float or double): y[T] aggregated per row, seen[T] marking MIN/MAX's first. */
#define TREE_ROWS(NAME, T)                                                                    \
  static int NAME(const trees *e, const T *X, T *Y, uint8_t *seen) {                          \
    for (int64_t row = 0; row < e->nN; row++) {                                               \
      T *y = Y + row * e->nT;                                                                 \
      for (int64_t t = 0; t < e->nT; t++) y[t] = (T)0, seen[t] = 0;                           \
      for (int64_t r = 0; r < e->nRoots; r++) {                                               \
        int64_t ref = e->roots[r], steps = 0;                                                 \
        while (ref < e->nNodes) {                                                             \
          const int64_t *node = e->nodes + ref * NODE_INTS;                                   \
          ref = branch(node, e->members, (double)X[row * e->nF + node[0]]) ? node[2] : node[3]; \
          if (++steps > e->nNodes) return OPML_EATTR;                                         \
        }                                                                                     \
        const int64_t *leaf = e->leaves + (ref - e->nNodes) * 2;                              \
        int64_t t = leaf[0];                                                                  \
        T w = (T)bits_f64(leaf[1]);                                                           \
        if (e->agg == AGG_MIN) y[t] = (!seen[t] || w < y[t]) ? w : y[t];                      \
        else if (e->agg == AGG_MAX) y[t] = (!seen[t] || w > y[t]) ? w : y[t];                 \
        else y[t] = y[t] + w;                                                                 \
        seen[t] = 1;                                                                          \
      }                                                                                       \
      if (e->agg == AGG_AVERAGE) {                                                            \
        for (int64_t t = 0; t < e->nT; t++) y[t] = y[t] / (T)e->nRoots;                       \
      }                                                                                       \
    }                                                                                         \
    return OPML_OK;                                                                           \
  }
TREE_ROWS(tree_rows_float, float)
TREE_ROWS(tree_rows_double, double)

static int k_tree_ensemble(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *Y = nd->out[0];
  if (nd->n_ints < 8 || X->dtype != Y->dtype) return OPML_EATTR;
  const int64_t *a = nd->ints;
  trees e = {a[0], a[1], a[2], a[3], a[4], a[5], 0, 0, 0, 0};
  int64_t nLeaves = a[6], nMembers = a[7];
  if (8 + e.nRoots + e.nNodes * NODE_INTS + nLeaves * 2 + nMembers != (int64_t)nd->n_ints) return OPML_EATTR;
  if (e.nN * e.nF != (int64_t)X->size || e.nN * e.nT != (int64_t)Y->size) return OPML_EATTR;
  if (e.agg < AGG_AVERAGE || e.agg > AGG_MAX) return OPML_EATTR;
  e.roots = a + 8;
  e.nodes = e.roots + e.nRoots;
  e.leaves = e.nodes + e.nNodes * NODE_INTS;
  e.members = e.leaves + nLeaves * 2;
  uint8_t *seen = (uint8_t *)opml_alloc((size_t)e.nT + 1);
  if (!seen) return OPML_ENOMEM;
  int rc = OPML_EDTYPE;
  if (X->dtype == DT_FLOAT) rc = tree_rows_float(&e, (const float *)X->data, (float *)Y->data, seen);
  if (X->dtype == DT_DOUBLE) rc = tree_rows_double(&e, (const double *)X->data, (double *)Y->data, seen);
  opml_free(seen);
  return rc;
}

const opml_kernel_entry opml_kernels_ml[] = {
    {OP_TREE_ENSEMBLE, "TreeEnsemble", k_tree_ensemble},
    {0, 0, 0},
};
