/*
 * Loss kernels (docs/IR.md; the "loss" family of core/compiler/ops/schema.ts; lowering in
 * core/compiler/ops/loss.ts): NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, float32.
 *
 * ints: [N, C, D, reduction, hasIgnore, ignoreIndex], the input viewed as [N, C, D] (D the
 * product of the trailing dims), the target as [N, D]; reduction 0 none, 1 sum, 2 mean.
 * One order: loss[n, d] = -w[t] * x[n, t, d] (0 where t is the ignore index), visited in
 * ascending (n, d); sum adds them from +0 in that order, mean divides that sum by the sum of the
 * weights w[t] (1 without a weight input) of the non-ignored elements, added in the same order.
 * SoftmaxCrossEntropyLoss first takes log_prob[n, c, d] = (x - m) - log(sum_c exp(x - m)), m the
 * maximum over c (sum in ascending c), then the NLL loss of log_prob.
 */
#include "kernel.h"
#include "mathf.h"
#include "ops.h"

enum { RED_NONE = 0, RED_SUM = 1, RED_MEAN = 2 };

/* The NLL loss of x [N, C, D] (log-probabilities) into Y. */
static int nll(const opml_node *nd, const float *x, const opml_tensor *T, const opml_tensor *W, opml_tensor *Y) {
  int64_t N = nd->ints[0], C = nd->ints[1], D = nd->ints[2], red = nd->ints[3];
  int has_ignore = nd->ints[4] != 0;
  int64_t ignore = nd->ints[5];
  if (T->size != N * D || (W && (W->size != C || W->dtype != DT_FLOAT))) return OPML_EATTR;
  if (Y->dtype != DT_FLOAT || Y->size != (red == RED_NONE ? N * D : 1)) return OPML_EATTR;
  float *y = (float *)Y->data, sum = 0.0f, wsum = 0.0f;
  const float *w = W ? (const float *)W->data : 0;
  for (int64_t n = 0; n < N; n++) {
    for (int64_t d = 0; d < D; d++) {
      int64_t at = n * D + d;
      int64_t t = T->dtype == DT_INT64 ? ((const int64_t *)T->data)[at]
                  : T->dtype == DT_INT32 ? ((const int32_t *)T->data)[at] : -1;
      if (T->dtype != DT_INT64 && T->dtype != DT_INT32) return OPML_EDTYPE;
      float l = 0.0f, wt = 0.0f;
      if (!(has_ignore && t == ignore)) {
        if (t < 0 || t >= C) return OPML_EVALUE;
        wt = w ? w[t] : 1.0f;
        l = -(wt * x[(n * C + t) * D + d]);
      }
      if (red == RED_NONE) y[at] = l;
      sum += l;
      wsum += wt;
    }
  }
  if (red == RED_SUM) y[0] = sum;
  if (red == RED_MEAN) y[0] = sum / wsum;
  return OPML_OK;
}

static int check_ints(const opml_node *nd, const opml_tensor *X) {
  if (nd->n_ints != 6 || X->dtype != DT_FLOAT) return OPML_EATTR;
  if (nd->ints[0] * nd->ints[1] * nd->ints[2] != X->size || nd->ints[3] < 0 || nd->ints[3] > 2) return OPML_EATTR;
  return OPML_OK;
}

/* NegativeLogLikelihoodLoss: inputs input, target, weight?. */
static int k_nll_loss(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  int r = check_ints(nd, X);
  if (r) return r;
  return nll(nd, (const float *)X->data, nd->in[1], nd->n_in > 2 ? nd->in[2] : 0, nd->out[0]);
}

/* SoftmaxCrossEntropyLoss: inputs scores, labels, weights?; outputs loss, log_prob?. */
static int k_softmax_ce_loss(const opml_node *nd) {
  const opml_tensor *X = nd->in[0];
  opml_tensor *LP = nd->n_out > 1 ? nd->out[1] : 0;
  int r = check_ints(nd, X);
  if (r) return r;
  if (LP && (LP->dtype != DT_FLOAT || LP->size != X->size)) return OPML_EATTR;
  float *lp = LP ? (float *)LP->data : (float *)opml_alloc((size_t)X->size * sizeof(float) + 1);
  if (!lp) return OPML_ENOMEM;
  int64_t N = nd->ints[0], C = nd->ints[1], D = nd->ints[2];
  const float *x = (const float *)X->data;
  for (int64_t n = 0; n < N; n++) {
    for (int64_t d = 0; d < D; d++) {
      const float *row = x + n * C * D + d;
      float m = row[0], s = 0.0f;
      for (int64_t c = 1; c < C; c++) {
        if (row[c * D] > m || row[c * D] != row[c * D]) m = row[c * D];
      }
      for (int64_t c = 0; c < C; c++) s += opml_expf(row[c * D] - m);
      float ls = opml_logf(s);
      for (int64_t c = 0; c < C; c++) lp[n * C * D + c * D + d] = (row[c * D] - m) - ls;
    }
  }
  r = nll(nd, lp, nd->in[1], nd->n_in > 2 ? nd->in[2] : 0, nd->out[0]);
  if (!LP) opml_free(lp);
  return r;
}

const opml_kernel_entry opml_kernels_loss[] = {
    {OP_NEGATIVE_LOG_LIKELIHOOD_LOSS, "NegativeLogLikelihoodLoss", k_nll_loss},
    {OP_SOFTMAX_CROSS_ENTROPY_LOSS, "SoftmaxCrossEntropyLoss", k_softmax_ce_loss},
    {0, 0, 0},
};
