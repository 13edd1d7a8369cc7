/*
 * Linux o32 system calls for opml MIPS guests (freestanding: no libc).
 *
 * Convention: number in $v0, arguments in $a0..$a3 (5th and 6th on the stack at 16($sp) and
 * 20($sp)), result in $v0, error flag in $a3 (nonzero: $v0 holds a positive errno). The wrappers
 * return the result, or -errno on error.
 *
 * What the opml VM implements (docs/VM.md): write to fds 1, 2 (output) and 4 (hint), read fd 0
 * (always 0 = end of input), fd 3 (hint read) and fd 5 (preimage read, at most 4 bytes per call
 * within one aligned word), write fd 6 (preimage key); mmap(0, size) bump-allocates from
 * 0x20000000 (size rounded up to 4 KiB); brk returns 0x40000000; clone returns 1; fcntl(F_GETFL);
 * other fds give -EBADF.
 */
#ifndef OPML_SYS_H
#define OPML_SYS_H

#include <stddef.h>
#include <stdint.h>

#define SYS_read 4003
#define SYS_write 4004
#define SYS_brk 4045
#define SYS_fcntl 4055
#define SYS_mmap 4090
#define SYS_clone 4120
#define SYS_exit_group 4246

#define OPML_FD_STDIN 0
#define OPML_FD_STDOUT 1
#define OPML_FD_STDERR 2
#define OPML_FD_HINT_READ 3
#define OPML_FD_HINT_WRITE 4
#define OPML_FD_PREIMAGE_READ 5
#define OPML_FD_PREIMAGE_WRITE 6
#define OPML_FD_PREIMAGE_READ_LE 7 /* as 5, each aligned word little-endian (docs/VM.md) */

#define OPML_F_GETFL 3
#define OPML_O_ACCMODE 3
#define OPML_EBADF 9
#define OPML_EINVAL 22

/* MIPS Linux mmap constants */
#define OPML_PROT_READ 1
#define OPML_PROT_WRITE 2
#define OPML_MAP_PRIVATE 0x002
#define OPML_MAP_ANONYMOUS 0x800

/* registers the kernel may change besides $v0/$a3 (as in musl's MIPS port) */
#define OPML_SYSCALL_CLOBBERS \
  "$1", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25", "hi", "lo", \
      "memory"

static inline long opml_syscall3(long n, long a, long b, long c) {
  register long r4 __asm__("$4") = a;
  register long r5 __asm__("$5") = b;
  register long r6 __asm__("$6") = c;
  register long r7 __asm__("$7");
  register long r2 __asm__("$2") = n;
  __asm__ __volatile__("syscall"
                       : "+r"(r2), "=r"(r7)
                       : "r"(r4), "r"(r5), "r"(r6)
                       : OPML_SYSCALL_CLOBBERS);
  return r7 ? -r2 : r2;
}

static inline long opml_syscall4(long n, long a, long b, long c, long d) {
  register long r4 __asm__("$4") = a;
  register long r5 __asm__("$5") = b;
  register long r6 __asm__("$6") = c;
  register long r7 __asm__("$7") = d;
  register long r2 __asm__("$2") = n;
  __asm__ __volatile__("syscall"
                       : "+r"(r2), "+r"(r7)
                       : "r"(r4), "r"(r5), "r"(r6)
                       : OPML_SYSCALL_CLOBBERS);
  return r7 ? -r2 : r2;
}

/* six arguments: the 5th and 6th go to 16($sp) and 20($sp) of a temporary frame */
static inline long opml_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long r4 __asm__("$4") = a;
  register long r5 __asm__("$5") = b;
  register long r6 __asm__("$6") = c;
  register long r7 __asm__("$7") = d;
  register long r2 __asm__("$2") = n;
  __asm__ __volatile__(
      "addiu $sp, $sp, -32\n\t"
      "sw %5, 16($sp)\n\t"
      "sw %6, 20($sp)\n\t"
      "syscall\n\t"
      "addiu $sp, $sp, 32"
      : "+r"(r2), "+r"(r7)
      : "r"(r4), "r"(r5), "r"(r6), "r"(e), "r"(f)
      : OPML_SYSCALL_CLOBBERS);
  return r7 ? -r2 : r2;
}

long sys_write(int fd, const void *buf, size_t n);
long sys_read(int fd, void *buf, size_t n);
long sys_fcntl(int fd, int cmd, long arg);
long sys_brk(void *addr);
/* anonymous private mapping; returns the address, or a value in [-4095, -1] cast to a pointer */
void *sys_mmap(void *addr, size_t len);
/* raw clone(flags, stack, parent_tid, tls, child_tid); the VM returns 1 (never forks) */
long sys_clone(unsigned long flags, void *stack, void *ptid, void *tls, void *ctid);
__attribute__((noreturn)) void sys_exit_group(int code);

/* write all of buf (loops on short writes); returns n or -errno */
long sys_write_all(int fd, const void *buf, size_t n);

#endif
