/*
 * syscalls: the system calls the VM implements, with results that are the same under qemu
 * (when run as tasks/qemu.ts does: stdin and fds 3/5 read-only, fds 4/6 write-only):
 * fcntl(F_GETFL) on fds 0..6 and a bad fd, fcntl with an unknown command, read from fd 0 (end of
 * input), hint write (fd 4, returns the count), writes and reads on a closed fd (EBADF), brk,
 * mmap, direct writes to stdout and stderr. Exit code 42.
 * The preimage fds are not used here (qemu does not implement the oracle).
 */
#include "corpus.h"

int main(void) {
  char buf[16];
  int fd;
  long r;
  for (fd = 0; fd <= 6; fd++) rt_printf("fcntl(%d, F_GETFL) = %ld\n", fd, sys_fcntl(fd, OPML_F_GETFL, 0));
  rt_printf("fcntl(100, F_GETFL) = %ld\n", sys_fcntl(100, OPML_F_GETFL, 0));
  rt_printf("fcntl(1, 1234) = %ld\n", sys_fcntl(1, 1234, 0));
  r = sys_read(0, buf, sizeof buf);
  rt_printf("read(0) = %ld\n", r);
  r = sys_read(0, buf, 1);
  rt_printf("read(0) again = %ld\n", r);
  rt_printf("write(4, hint) = %ld\n", sys_write(OPML_FD_HINT_WRITE, "hint-data", 9));
  rt_printf("write(4, 0 bytes) = %ld\n", sys_write(OPML_FD_HINT_WRITE, "", 0));
  rt_printf("write(100) = %ld\n", sys_write(100, "x", 1));
  rt_printf("read(100) = %ld\n", sys_read(100, buf, 4));
  r = sys_brk(0);
  rt_printf("brk(0): nonzero %d, page aligned %d\n", r != 0, (r & 4095) == 0);
  {
    uint32_t *a = (uint32_t *)sys_mmap(0, 4096 * 3 + 5);
    uint32_t *b = (uint32_t *)sys_mmap(0, 100);
    int ok = (uintptr_t)a < (uintptr_t)-4095 && (uintptr_t)b < (uintptr_t)-4095;
    uint32_t i, zero = 1, sum = 0;
    rt_printf("mmap ok %d, aligned %d %d, distinct %d\n", ok, ((uintptr_t)a & 4095) == 0,
              ((uintptr_t)b & 4095) == 0, a != b);
    if (ok) {
      for (i = 0; i < (4096 * 3 + 5) / 4; i++)
        if (a[i]) zero = 0;
      for (i = 0; i < 25; i++)
        if (b[i]) zero = 0;
      for (i = 0; i < (4096 * 3) / 4; i++) a[i] = i;
      for (i = 0; i < 25; i++) b[i] = 7;
      for (i = 0; i < (4096 * 3) / 4; i++) sum += a[i];
      for (i = 0; i < 25; i++) sum += b[i];
      rt_printf("mmap zero filled %d, sum %u\n", zero, sum);
    }
  }
  rt_flush();
  r = sys_write(1, "direct write to stdout\n", 23);
  rt_printf("direct write returned %ld\n", r);
  rt_flush();
  r = sys_write(2, "direct write to stderr\n", 23);
  rt_printf("stderr write returned %ld\n", r);
  rt_eprintf("syscalls: exit code 42\n");
  return 42;
}
