/*
 * heap: malloc/free/realloc on mmap: a singly linked list (build, reverse, filter, free), a
 * chained hash table of strings, a binary search tree, growth of a dynamic array with realloc,
 * block reuse after free, and direct mmap pages. No addresses are printed (they differ between
 * the VM and qemu). Exit code 0.
 */
#include "corpus.h"

typedef struct node {
  uint32_t value;
  struct node *next;
} node_t;

static node_t *push(node_t *head, uint32_t v) {
  node_t *n = (node_t *)malloc(sizeof *n);
  if (!n) rt_panic("out of memory");
  n->value = v;
  n->next = head;
  return n;
}

static node_t *reverse(node_t *h) {
  node_t *prev = 0;
  while (h) {
    node_t *next = h->next;
    h->next = prev;
    prev = h;
    h = next;
  }
  return prev;
}

typedef struct entry {
  char *key;
  uint32_t count;
  struct entry *next;
} entry_t;

#define BUCKETS 31
static entry_t *table[BUCKETS];

static uint32_t hash_str(const char *s) {
  uint32_t h = 5381;
  while (*s) h = h * 33 + (uint8_t)*s++;
  return h;
}

static void count_word(const char *w, size_t n) {
  char key[32];
  entry_t *e;
  uint32_t b;
  if (n >= sizeof key) n = sizeof key - 1;
  memcpy(key, w, n);
  key[n] = 0;
  b = hash_str(key) % BUCKETS;
  for (e = table[b]; e; e = e->next)
    if (!strcmp(e->key, key)) {
      e->count++;
      return;
    }
  e = (entry_t *)malloc(sizeof *e);
  e->key = (char *)malloc(n + 1);
  strcpy(e->key, key);
  e->count = 1;
  e->next = table[b];
  table[b] = e;
}

typedef struct tree {
  int32_t key;
  struct tree *l, *r;
} tree_t;

static tree_t *insert(tree_t *t, int32_t k) {
  if (!t) {
    t = (tree_t *)calloc(1, sizeof *t);
    t->key = k;
    return t;
  }
  if (k < t->key) t->l = insert(t->l, k);
  else if (k > t->key) t->r = insert(t->r, k);
  return t;
}

static uint32_t inorder(const tree_t *t, uint32_t h, int32_t *last, int *ok, uint32_t *n) {
  if (!t) return h;
  h = inorder(t->l, h, last, ok, n);
  if (*n && t->key <= *last) *ok = 0;
  *last = t->key;
  (*n)++;
  h = mix32(h, (uint32_t)t->key);
  return inorder(t->r, h, last, ok, n);
}

static uint32_t depth(const tree_t *t) {
  uint32_t a, b;
  if (!t) return 0;
  a = depth(t->l);
  b = depth(t->r);
  return 1 + (a > b ? a : b);
}

static void free_tree(tree_t *t) {
  if (!t) return;
  free_tree(t->l);
  free_tree(t->r);
  free(t);
}

int main(void) {
  node_t *list = 0, *n;
  uint32_t i, sum = 0, cnt = 0, s = 99;
  static const char text[] =
      "the quick brown fox jumps over the lazy dog and the dog sleeps while the fox runs over "
      "the hill and the quick dog follows the brown fox";
  /* linked list */
  for (i = 1; i <= 1000; i++) list = push(list, i * i);
  list = reverse(list);
  for (n = list, i = 0; n && i < 5; n = n->next, i++) rt_printf("list[%u]=%u\n", i, n->value);
  while (list) {
    n = list->next;
    if (list->value % 3 == 0) {
      sum += list->value;
      cnt++;
    }
    free(list);
    list = n;
  }
  rt_printf("multiples of 3: %u, sum %u\n", cnt, sum);
  /* freed blocks are reused: allocate the same sizes again */
  for (i = 0; i < 1000; i++) list = push(list, i);
  for (cnt = 0, n = list; n; n = n->next) cnt++;
  rt_printf("second list length %u\n", cnt);
  /* hash table of words */
  {
    const char *p = text;
    while (*p) {
      const char *w = p;
      while (*p && *p != ' ') p++;
      count_word(w, (size_t)(p - w));
      while (*p == ' ') p++;
    }
    for (i = 0; i < BUCKETS; i++) {
      entry_t *e;
      for (e = table[i]; e; e = e->next)
        if (e->count > 1) rt_printf("word %-6s x%u\n", e->key, e->count);
    }
  }
  /* binary search tree */
  {
    tree_t *t = 0;
    int32_t last = 0;
    int ok = 1;
    uint32_t h, nn = 0;
    for (i = 0; i < 2000; i++) t = insert(t, (int32_t)(rng_next(&s) % 5000) - 2500);
    h = inorder(t, MIX_INIT, &last, &ok, &nn);
    rt_printf("bst: %u keys, ordered=%d, depth %u, hash 0x%08x\n", nn, ok, depth(t), h);
    free_tree(t);
  }
  /* realloc growth */
  {
    uint32_t *v = 0, cap = 0, len = 0, h = MIX_INIT;
    for (i = 0; i < 5000; i++) {
      if (len == cap) {
        cap = cap ? cap * 2 : 4;
        v = (uint32_t *)realloc(v, cap * sizeof *v);
        if (!v) rt_panic("realloc failed");
      }
      v[len++] = i * 2654435761u;
    }
    for (i = 0; i < len; i++) h = mix32(h, v[i]);
    rt_printf("vector: len %u cap %u hash 0x%08x\n", len, cap, h);
    free(v);
  }
  /* big block (direct mmap) and raw pages */
  {
    uint8_t *big = (uint8_t *)malloc(300000);
    uint8_t *pg = (uint8_t *)sys_mmap(0, 10000);
    uint32_t h = MIX_INIT, zero = 1;
    if (!big || (uintptr_t)pg >= (uintptr_t)-4095) rt_panic("mmap failed");
    for (i = 0; i < 10000; i++)
      if (pg[i]) zero = 0;
    rt_printf("mmap: page aligned %d, zero filled %d\n", ((uintptr_t)pg & 4095) == 0, zero);
    for (i = 0; i < 300000; i++) big[i] = (uint8_t)(i * 7);
    for (i = 0; i < 300000; i += 997) h = mix32(h, big[i]);
    rt_printf("big block hash 0x%08x\n", h);
    free(big);
  }
  return 0;
}
