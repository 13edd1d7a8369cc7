/* Linux o32 system call wrappers for opml MIPS guests: see sys.h. */
#include "sys.h"

long sys_write(int fd, const void *buf, size_t n) {
  return opml_syscall3(SYS_write, fd, (long)buf, (long)n);
}

long sys_read(int fd, void *buf, size_t n) {
  return opml_syscall3(SYS_read, fd, (long)buf, (long)n);
}

long sys_fcntl(int fd, int cmd, long arg) { return opml_syscall3(SYS_fcntl, fd, cmd, arg); }

long sys_brk(void *addr) { return opml_syscall3(SYS_brk, (long)addr, 0, 0); }

void *sys_mmap(void *addr, size_t len) {
  return (void *)opml_syscall6(SYS_mmap, (long)addr, (long)len, OPML_PROT_READ | OPML_PROT_WRITE,
                               OPML_MAP_PRIVATE | OPML_MAP_ANONYMOUS, -1, 0);
}

long sys_clone(unsigned long flags, void *stack, void *ptid, void *tls, void *ctid) {
  return opml_syscall6(SYS_clone, (long)flags, (long)stack, (long)ptid, (long)tls, (long)ctid, 0);
}

void sys_exit_group(int code) {
  for (;;) opml_syscall3(SYS_exit_group, code, 0, 0);
}

long sys_write_all(int fd, const void *buf, size_t n) {
  const char *p = (const char *)buf;
  size_t done = 0;
  while (done < n) {
    long r = sys_write(fd, p + done, n - done);
    if (r < 0) return r;
    if (r == 0) break;
    done += (size_t)r;
  }
  return (long)done;
}
