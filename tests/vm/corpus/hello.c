/* hello: plain output on stdout and stderr, exit code 0. */
#include "corpus.h"

int main(void) {
  static const char msg[] = "hello from the opml corpus\n";
  long n = sys_write(1, msg, sizeof msg - 1); /* unbuffered, direct syscall */
  rt_printf("write returned %ld\n", n);
  print_str("print_str works\n");
  rt_printf("%s %d %u 0x%x %c|%6d|%-6d|%06d|%3s|\n", "fmt", -12345, 4000000000u, 0xdeadbeefu, 'Z',
            42, 42, -42, "ab");
  rt_printf("%lld %llu 0x%llx\n", -1234567890123456789ll, 18446744073709551615ull,
            0x0123456789abcdefull);
  print_hex32(0xcafe);
  print_nl();
  print_hex64(0x1122334455667788ull);
  print_nl();
  print_u64(10000000000000000000ull);
  print_nl();
  print_i64(-42);
  print_nl();
  print_i32(-2147483647 - 1);
  print_nl();
  print_u32(4294967295u);
  print_nl();
  rt_eprintf("hello on stderr\n");
  return 0;
}
