/*
 * Minimal freestanding C library for opml MIPS guests (and usable natively).
 *
 * - memory and string functions GCC may also call implicitly (memcpy, memset, memmove, memcmp);
 * - buffered output on fd 1 (stdout) and fd 2 (stderr), flushed by rt_flush() and rt_exit();
 * - print_* helpers and a small printf (rt_printf / rt_eprintf / rt_fprintf):
 *   conversions %d %i %u %x %X %c %s %%, flags '-' and '0', a width, and the length modifiers
 *   l (32-bit, ignored) and ll (64-bit); no floating point conversions: use print_f32/print_f64;
 * - float printing with integer arithmetic only: the exact bit pattern in hex, then the decimal
 *   value correctly rounded (ties to even) to 9 (binary32) or 17 (binary64) significant digits,
 *   e.g. `0x3f800000 1.00000000e+00`, `0x7fc00000 nan`, `0xff800000 -inf`;
 * - malloc/calloc/realloc/free on mmap (power-of-two size classes, deterministic).
 * Nothing here prints addresses, so output is the same under the VM and under qemu.
 */
#ifndef OPML_LIBC_H
#define OPML_LIBC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
char *strchr(const char *s, int c);

/* output (buffered for fds 1 and 2, direct for others) */
void rt_write(int fd, const void *buf, size_t n);
void rt_putc(int fd, int c);
void rt_flush(void);
__attribute__((noreturn)) void rt_exit(int code);
__attribute__((noreturn)) void rt_panic(const char *msg); /* message to stderr, exit code 99 */

int rt_vfprintf(int fd, const char *fmt, va_list ap);
__attribute__((format(printf, 1, 2))) int rt_printf(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) int rt_eprintf(const char *fmt, ...);
__attribute__((format(printf, 2, 3))) int rt_fprintf(int fd, const char *fmt, ...);
/* snprintf-like into a buffer (always NUL-terminated when size > 0); returns the full length */
__attribute__((format(printf, 3, 4))) int rt_snprintf(char *buf, size_t size, const char *fmt,
                                                       ...);

/* stdout helpers */
void print_str(const char *s);
void print_char(int c);
void print_nl(void);
void print_u32(uint32_t v);
void print_i32(int32_t v);
void print_hex32(uint32_t v); /* 0x%08x */
void print_u64(uint64_t v);
void print_i64(int64_t v);
void print_hex64(uint64_t v); /* 0x%016llx */
void print_f32(float f);      /* "0x3f800000 1.00000000e+00" */
void print_f64(double d);     /* "0x3ff0000000000000 1.0000000000000000e+00" */
void print_f32_bits(uint32_t bits);
void print_f64_bits(uint64_t bits);

/* format the decimal part only (no hex); returns the length. buf needs 32 bytes. */
int fmt_f32_dec(char *buf, uint32_t bits);
int fmt_f64_dec(char *buf, uint64_t bits);

/* 64-bit by small (< 65536) division using only 32-bit operations */
uint64_t u64_divmod_small(uint64_t x, uint32_t d, uint32_t *rem);

/* heap on mmap */
void *malloc(size_t n);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);

#endif
