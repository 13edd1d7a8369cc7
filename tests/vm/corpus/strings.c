/*
 * strings: string handling with byte loads/stores: length, compare, copy, search, reverse,
 * integer <-> text conversions, tokenising, a Caesar cipher, palindromes, snprintf, overlapping
 * memmove. Exit code 0.
 */
#include "corpus.h"

static void reverse(char *s) {
  size_t i, n = strlen(s);
  for (i = 0; i < n / 2; i++) {
    char t = s[i];
    s[i] = s[n - 1 - i];
    s[n - 1 - i] = t;
  }
}

static int32_t my_atoi(const char *s) {
  int neg = 0;
  uint32_t v = 0;
  while (*s == ' ') s++;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  while (*s >= '0' && *s <= '9') v = v * 10 + (uint32_t)(*s++ - '0');
  return neg ? -(int32_t)v : (int32_t)v;
}

static char *my_itoa(int32_t v, char *buf, unsigned base) {
  char *p = buf;
  uint32_t u = v < 0 && base == 10 ? -(uint32_t)v : (uint32_t)v;
  do {
    uint32_t d = u % base;
    *p++ = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    u /= base;
  } while (u);
  if (v < 0 && base == 10) *p++ = '-';
  *p = 0;
  reverse(buf);
  return buf;
}

static int is_palindrome(const char *s) {
  size_t i = 0, j = strlen(s);
  while (i < j) {
    char a, b;
    while (i < j && !(s[i] >= 'a' && s[i] <= 'z')) i++;
    while (i < j && !(s[j - 1] >= 'a' && s[j - 1] <= 'z')) j--;
    if (i >= j) break;
    a = s[i++];
    b = s[--j];
    if (a != b) return 0;
  }
  return 1;
}

static void caesar(char *s, int k) {
  for (; *s; s++) {
    if (*s >= 'a' && *s <= 'z') *s = (char)('a' + (*s - 'a' + k + 26) % 26);
    else if (*s >= 'A' && *s <= 'Z') *s = (char)('A' + (*s - 'A' + k + 26) % 26);
  }
}

static const char *find(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (!strncmp(hay, needle, n)) return hay;
  return 0;
}

int main(void) {
  char buf[128], num[40];
  static const int32_t nums[] = {0, 7, -7, 123456789, -2147483647 - 1, 2147483647, 65535};
  unsigned i;
  const char *words = "  alpha beta,gamma;;delta  epsilon ";
  strcpy(buf, "Hello, MIPS world!");
  rt_printf("len=%u\n", (unsigned)strlen(buf));
  reverse(buf);
  rt_printf("reversed: %s\n", buf);
  reverse(buf);
  caesar(buf, 3);
  rt_printf("caesar+3: %s\n", buf);
  caesar(buf, -3);
  rt_printf("caesar-3: %s\n", buf);
  rt_printf("strcmp: %d %d %d %d\n", strcmp("abc", "abd") < 0, strcmp("abc", "abc"),
            strcmp("b", "abc") > 0, strcmp("", "a") < 0);
  rt_printf("strchr: %s find: %s\n", strchr(buf, 'M'), find(buf, "world"));
  for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    int32_t v = opqi(nums[i]);
    my_itoa(v, num, 10);
    rt_printf("itoa %s hex %s", num, my_itoa(v, buf, 16));
    rt_printf(" bin %s atoi %d\n", my_itoa(v & 0xFFFF, buf, 2), my_atoi(num));
  }
  /* tokenise on separators */
  {
    const char *p = words;
    int count = 0;
    while (*p) {
      const char *start;
      while (*p == ' ' || *p == ',' || *p == ';') p++;
      if (!*p) break;
      start = p;
      while (*p && *p != ' ' && *p != ',' && *p != ';') p++;
      memcpy(buf, start, (size_t)(p - start));
      buf[p - start] = 0;
      rt_printf("token %d: '%s'\n", count++, buf);
    }
  }
  rt_printf("palindromes: %d %d %d\n", is_palindrome("a man, a plan, a canal: panama"),
            is_palindrome("never odd or even"), is_palindrome("not a palindrome"));
  {
    int n = rt_snprintf(buf, sizeof buf, "[%5s|%-5s|%08x|%lld]", "ab", "cd", 0xBEEFu,
                        (long long)-99);
    rt_printf("snprintf %d: %s\n", n, buf);
    n = rt_snprintf(num, 8, "truncated %d", 123456);
    rt_printf("snprintf %d: %s\n", n, num);
  }
  strcpy(buf, "0123456789abcdef");
  memmove(buf + 2, buf, 10);
  rt_printf("memmove overlap: %s\n", buf);
  /* byte histogram with signed and unsigned chars */
  {
    static const char bytes[] = "\x01\x7f\x80\xff\x10\xf0";
    int32_t ssum = 0;
    uint32_t usum = 0;
    for (i = 0; i < sizeof bytes - 1; i++) {
      ssum += (signed char)bytes[i];
      usum += (unsigned char)bytes[i];
    }
    rt_printf("signed sum %d unsigned sum %u\n", ssum, usum);
  }
  return 0;
}
