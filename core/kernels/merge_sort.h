/*
 * A stable bottom-up merge sort of indices (NonMaxSuppression's scores, Unique's slices): one
 * fixed sequence of comparisons, so native and MIPS order every tie the same way.
 */
#ifndef OPML_MERGE_SORT_H
#define OPML_MERGE_SORT_H

#include <stdint.h>

/* Sorts the n indices in idx (tmp: scratch of n) so that a goes before b only when
 * before(ctx, a, b) or (neither goes before the other and a came first); returns the buffer that
 * holds the result (idx or tmp). */
static inline uint32_t *opml_merge_sort(uint32_t *idx, uint32_t *tmp, uint32_t n,
                                        int (*before)(const void *ctx, uint32_t a, uint32_t b), const void *ctx) {
  for (uint32_t w = 1; w < n; w *= 2) {
    for (uint32_t lo = 0; lo < n; lo += 2 * w) {
      uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, o = lo;
      while (i < mid && j < hi) tmp[o++] = before(ctx, idx[j], idx[i]) ? idx[j++] : idx[i++];
      while (i < mid) tmp[o++] = idx[i++];
      while (j < hi) tmp[o++] = idx[j++];
    }
    uint32_t *sw = idx;
    idx = tmp;
    tmp = sw;
  }
  return idx;
}

#endif
