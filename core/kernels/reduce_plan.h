/*
 * A reduction's plan, shared by reduce.c and norm.c: the ReduceMean layout [n, dims[n],
 * reduced[n]] split into kept and reduced axes with their input strides (innermost first).
 */
#ifndef OPML_REDUCE_PLAN_H
#define OPML_REDUCE_PLAN_H

#include "kernel.h"

typedef struct {
  uint32_t nk, nr;
  int64_t kdim[OPML_MAX_RANK], kstr[OPML_MAX_RANK], rdim[OPML_MAX_RANK], rstr[OPML_MAX_RANK];
  int64_t ksize, rsize;
} rplan;

/* Splits the merged shape into kept and reduced axes with their input strides; the input has
 * xsize elements and, unless ysize < 0, the output ysize (one per kept index). */
static inline int plan_of(const opml_node *nd, int64_t xsize, int64_t ysize, rplan *p) {
  if (nd->n_ints < 1) return OPML_EATTR;
  int64_t n = nd->ints[0], stride = 1, total = 1;
  if (n < 1 || n > OPML_MAX_RANK || nd->n_ints != 1 + 2 * (uint32_t)n) return OPML_EATTR;
  p->nk = p->nr = 0;
  p->ksize = p->rsize = 1;
  for (int64_t i = n - 1; i >= 0; i--) { /* innermost first, reversed below */
    int64_t d = nd->ints[1 + i];
    if (d < 0) return OPML_EATTR;
    if (nd->ints[1 + n + i]) p->rdim[p->nr] = d, p->rstr[p->nr++] = stride, p->rsize *= d;
    else p->kdim[p->nk] = d, p->kstr[p->nk++] = stride, p->ksize *= d;
    stride *= d;
    total *= d;
  }
  if (total != xsize || (ysize >= 0 && p->ksize != ysize)) return OPML_EATTR;
  return OPML_OK;
}

/* Input offset of flat index j over dims/strides stored innermost first. */
static inline int64_t offset_of(int64_t j, uint32_t n, const int64_t *dim, const int64_t *str) {
  int64_t off = 0;
  for (uint32_t a = 0; a < n; a++) {
    off += (j % dim[a]) * str[a];
    j /= dim[a];
  }
  return off;
}

#endif
