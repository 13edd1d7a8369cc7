/*
 * opml soft-float: integer-only IEEE 754 binary32 and binary64 arithmetic.
 *
 * This is the float semantics of the whole project in the MIPS image (the VM has no FPU), and it
 * must give the same bits as x86-64 SSE hardware compiled with `-ffp-contract=off` and no
 * fast-math. Rules:
 *   - round to nearest, ties to even; subnormals are produced and consumed (no flush to zero);
 *   - every NaN produced by an arithmetic operation or a conversion is the canonical quiet NaN
 *     (binary32 0x7FC00000, binary64 0x7FF8000000000000), whatever the operands' NaN payloads;
 *   - negation (`__negsf2`, `__negdf2`) only flips the sign bit, also for NaNs, exactly like the
 *     inline code GCC emits for `-x` (it is a bit operation, not arithmetic);
 *   - no exception flags, no other rounding modes;
 *   - float-to-integer conversions truncate; out-of-range and NaN inputs give what GCC's
 *     x86-64 SSE2 code gives (see softfloat.c), so native and VM agree even there.
 *
 * The bit-level API below works on uint32_t / uint64_t encodings; softfloat.c also exports the
 * libgcc soft-float entry points (__addsf3, ...) that GCC calls for `float` and `double` code
 * built with -msoft-float.
 */
#ifndef OPML_SOFTFLOAT_H
#define OPML_SOFTFLOAT_H

#include <stdint.h>

#define OPML_F32_NAN 0x7FC00000u
#define OPML_F64_NAN 0x7FF8000000000000ull

/* binary32 */
uint32_t opml_f32_add(uint32_t a, uint32_t b);
uint32_t opml_f32_sub(uint32_t a, uint32_t b);
uint32_t opml_f32_mul(uint32_t a, uint32_t b);
uint32_t opml_f32_div(uint32_t a, uint32_t b);
uint32_t opml_f32_sqrt(uint32_t a);
/* -1 if a < b, 0 if a == b (+0 == -0), 1 if a > b, 2 if unordered (a NaN operand) */
int opml_f32_cmp(uint32_t a, uint32_t b);
uint32_t opml_f32_from_i32(int32_t a);
uint32_t opml_f32_from_u32(uint32_t a);
uint32_t opml_f32_from_i64(int64_t a);
uint32_t opml_f32_from_u64(uint64_t a);
int32_t opml_f32_to_i32(uint32_t a);
uint32_t opml_f32_to_u32(uint32_t a);
int64_t opml_f32_to_i64(uint32_t a);
uint64_t opml_f32_to_u64(uint32_t a);
uint64_t opml_f32_to_f64(uint32_t a);

/* binary64 */
uint64_t opml_f64_add(uint64_t a, uint64_t b);
uint64_t opml_f64_sub(uint64_t a, uint64_t b);
uint64_t opml_f64_mul(uint64_t a, uint64_t b);
uint64_t opml_f64_div(uint64_t a, uint64_t b);
int opml_f64_cmp(uint64_t a, uint64_t b);
uint64_t opml_f64_sqrt(uint64_t a);
uint64_t opml_f64_from_i32(int32_t a);
uint64_t opml_f64_from_u32(uint32_t a);
uint64_t opml_f64_from_i64(int64_t a);
uint64_t opml_f64_from_u64(uint64_t a);
int32_t opml_f64_to_i32(uint64_t a);
uint32_t opml_f64_to_u32(uint64_t a);
int64_t opml_f64_to_i64(uint64_t a);
uint64_t opml_f64_to_u64(uint64_t a);
uint32_t opml_f64_to_f32(uint64_t a);

/* correctly rounded square root of a float (the C-level entry point; never libm) */
float opml_sqrtf(float x);
double opml_sqrt(double x);

/* bit casts */
static inline uint32_t opml_f32_bits(float f) {
  union { float f; uint32_t u; } v;
  v.f = f;
  return v.u;
}
static inline float opml_f32_from_bits(uint32_t u) {
  union { float f; uint32_t u; } v;
  v.u = u;
  return v.f;
}
static inline uint64_t opml_f64_bits(double d) {
  union { double d; uint64_t u; } v;
  v.d = d;
  return v.u;
}
static inline double opml_f64_from_bits(uint64_t u) {
  union { double d; uint64_t u; } v;
  v.u = u;
  return v.d;
}

#endif
