/*
 * sort: quicksort (recursive, function-pointer comparator), merge sort (malloc'd buffer), heap
 * sort, insertion sort and a stable sort of records, on pseudo-random data; each result is
 * verified and summarised by a checksum. Exit code 0.
 */
#include "corpus.h"

#define N 1500

typedef int (*cmp_t)(const void *, const void *);

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}
static int cmp_u32_desc(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x < y) - (x > y);
}

static void swap_bytes(char *a, char *b, size_t n) {
  while (n--) {
    char t = *a;
    *a++ = *b;
    *b++ = t;
  }
}

/* generic quicksort (median of three, recursion on the smaller side) */
static void quicksort(void *base, size_t n, size_t size, cmp_t cmp) {
  char *b = (char *)base;
  while (n > 8) {
    size_t mid = n / 2, i = 0, j = n - 1;
    char *pivot;
    if (cmp(b + mid * size, b) < 0) swap_bytes(b + mid * size, b, size);
    if (cmp(b + (n - 1) * size, b) < 0) swap_bytes(b + (n - 1) * size, b, size);
    if (cmp(b + (n - 1) * size, b + mid * size) < 0)
      swap_bytes(b + (n - 1) * size, b + mid * size, size);
    swap_bytes(b + mid * size, b + (n - 2) * size, size);
    pivot = b + (n - 2) * size;
    j = n - 2;
    for (;;) {
      while (cmp(b + (++i) * size, pivot) < 0) {
      }
      while (j > 0 && cmp(b + (--j) * size, pivot) > 0) {
      }
      if (i >= j) break;
      swap_bytes(b + i * size, b + j * size, size);
    }
    swap_bytes(b + i * size, pivot, size);
    if (i < n - i - 1) {
      quicksort(b, i, size, cmp);
      b += (i + 1) * size;
      n -= i + 1;
    } else {
      quicksort(b + (i + 1) * size, n - i - 1, size, cmp);
      n = i;
    }
  }
  { /* insertion sort for the small rest */
    size_t i, j;
    for (i = 1; i < n; i++)
      for (j = i; j > 0 && cmp(b + (j - 1) * size, b + j * size) > 0; j--)
        swap_bytes(b + (j - 1) * size, b + j * size, size);
  }
}

static void merge_sort(int32_t *a, int32_t *tmp, size_t n) {
  size_t mid = n / 2, i = 0, j = mid, k = 0;
  if (n < 2) return;
  merge_sort(a, tmp, mid);
  merge_sort(a + mid, tmp, n - mid);
  while (i < mid && j < n) tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
  while (i < mid) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

static void sift(uint32_t *a, size_t root, size_t n) {
  for (;;) {
    size_t c = 2 * root + 1;
    uint32_t t;
    if (c >= n) return;
    if (c + 1 < n && a[c + 1] > a[c]) c++;
    if (a[root] >= a[c]) return;
    t = a[root];
    a[root] = a[c];
    a[c] = t;
    root = c;
  }
}

static void heap_sort(uint32_t *a, size_t n) {
  size_t i;
  for (i = n / 2; i-- > 0;) sift(a, i, n);
  for (i = n; i-- > 1;) {
    uint32_t t = a[0];
    a[0] = a[i];
    a[i] = t;
    sift(a, 0, i);
  }
}

typedef struct {
  uint16_t key;
  uint16_t seq;
  char name[4];
} rec_t;

static void insertion_sort_recs(rec_t *r, size_t n) { /* stable */
  size_t i, j;
  for (i = 1; i < n; i++) {
    rec_t x = r[i];
    for (j = i; j > 0 && r[j - 1].key > x.key; j--) r[j] = r[j - 1];
    r[j] = x;
  }
}

int main(void) {
  static int32_t a[N], b[N];
  static uint32_t c[N], d[N];
  static rec_t recs[64];
  int32_t *tmp = (int32_t *)malloc(N * sizeof(int32_t));
  uint32_t s = 2024, h = MIX_INIT;
  size_t i;
  int ok = 1;
  if (!tmp) rt_panic("malloc failed");
  for (i = 0; i < N; i++) {
    a[i] = b[i] = (int32_t)rng_next(&s) >> (i % 13);
    c[i] = d[i] = rng_next(&s) % 1000;
  }
  quicksort(a, N, sizeof a[0], cmp_i32);
  merge_sort(b, tmp, N);
  heap_sort(c, N);
  quicksort(d, N, sizeof d[0], cmp_u32_desc);
  for (i = 0; i < N; i++) {
    if (i && (a[i - 1] > a[i] || c[i - 1] > c[i] || d[i - 1] < d[i])) ok = 0;
    if (a[i] != b[i] || c[i] != d[N - 1 - i]) ok = 0;
    h = mix32(h, (uint32_t)a[i] ^ c[i]);
  }
  rt_printf("sorted ok=%d min=%d max=%d median=%d checksum 0x%08x\n", ok, a[0], a[N - 1],
            a[N / 2], h);
  rt_printf("heap: first %u %u %u last %u %u\n", c[0], c[1], c[2], c[N - 2], c[N - 1]);
  for (i = 0; i < 64; i++) {
    recs[i].key = (uint16_t)(rng_next(&s) % 8);
    recs[i].seq = (uint16_t)i;
    recs[i].name[0] = (char)('a' + i % 26);
    recs[i].name[1] = (char)('A' + (i * 7) % 26);
    recs[i].name[2] = (char)('0' + i % 10);
    recs[i].name[3] = 0;
  }
  insertion_sort_recs(recs, 64);
  {
    int stable = 1;
    for (i = 1; i < 64; i++)
      if (recs[i - 1].key == recs[i].key && recs[i - 1].seq > recs[i].seq) stable = 0;
    rt_printf("records stable=%d:", stable);
    for (i = 0; i < 64; i += 8) rt_printf(" %u/%u/%s", recs[i].key, recs[i].seq, recs[i].name);
    rt_printf("\n");
  }
  free(tmp);
  return ok ? 0 : 1;
}
