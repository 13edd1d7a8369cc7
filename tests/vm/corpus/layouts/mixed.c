/*
 * mixed: initialised data (numbers, a table of pointers the linker relocates, a string),
 * read-only data and bss in one program; built in ld's default layouts, where the writable
 * segment starts mid-page, or -N puts everything in one RWX segment. Checks each kind of
 * memory, then writes all of them.
 */
#include "corpus.h"
#include "layout.h"

static const char *const names[] = {"text", "rodata", "data", "bss"}; /* .rodata: pointers */
static const char *greetings[3] = {"hello", "bonjour", "hallo"};     /* .data: pointers */
static uint32_t primes[8] = {2, 3, 5, 7, 11, 13, 17, 19};
static char word[16] = "initialised";
static uint16_t shorts[5] = {0xbeef, 1, 0xffff, 0x8000, 42};
static uint32_t zeros[300];
static uint8_t flag;

int main(void) {
  uint32_t fails = 0, i, sum = 0;
  uint32_t *p = launder(primes);
  uint16_t *sh = launder(shorts);
  const char **g = launder(greetings);
  for (i = 0; i < 8; i++) sum += p[i];
  rt_printf("%s: primes sum %u, shorts 0x%04x 0x%04x %u\n", names[2], sum, sh[0], sh[3], sh[4]);
  fails += sum != 77 || sh[0] != 0xbeef || sh[3] != 0x8000 || sh[4] != 42;
  rt_printf("%s: %s %s %s, word \"%s\" (%u)\n", names[2], g[0], g[1], g[2], word,
            (unsigned)strlen(launder(word)));
  fails += strcmp(g[1], "bonjour") != 0 || strlen(launder(word)) != 11;
  i = nonzero_bytes(launder(zeros), sizeof zeros) + nonzero_bytes(launder(&flag), 1);
  rt_printf("%s: %u nonzero bytes of %u\n", names[3], i, (unsigned)(sizeof zeros + 1));
  fails += i != 0;
  for (i = 0; i < 300; i++) zeros[i] = p[i % 8] * i;
  g[0] = names[0];
  strcpy(launder(word), "rewritten");
  flag = 1;
  p[7] = 23;
  sum = 0;
  for (i = 0; i < 300; i++) sum += ((uint32_t *)launder(zeros))[i];
  rt_printf("after writes: %s %s %u %u %u\n", g[0], word, sum, p[7], *(uint8_t *)launder(&flag));
  fails += strcmp(word, "rewritten") != 0;
  rt_printf("%s %s\n", names[1], fails ? "FAIL" : "ok");
  return fails ? 1 : 55;
}
