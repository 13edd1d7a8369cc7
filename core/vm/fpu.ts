/**
 * The VM's binary32 floating-point unit (docs/VM.md, "Floating point"): IEEE-754 binary32
 * arithmetic on bit patterns (int32 in, int32 out) with round-to-nearest-even, subnormals and
 * the NaN rule of x86-64 SSE, so that native code and the VM give the same bits.
 * `contracts/src/MIPS.sol` computes the same functions with integer arithmetic.
 *
 * Doubles compute binary32 results exactly here: a double holds every binary32 sum, difference
 * and product of two binary32 values within one rounding, and double precision (53 bits) is at
 * least 2 x 24 + 2, so rounding a double +, -, x, / or sqrt result to binary32 gives the
 * correctly rounded binary32 result (no double-rounding error). NaN payloads never pass through
 * a double: NaN operands are handled on the bits.
 * @module
 */

const F = new Float32Array(1);
const U = new Int32Array(F.buffer);

/** The default NaN of an invalid operation (x86 SSE's "real indefinite"). */
export const DEFAULT_NAN = 0xffc00000 | 0;
/** The quiet bit of a binary32 NaN (IEEE 754-2008 encoding, as x86). */
const QUIET = 0x00400000;
/** What a float-to-integer conversion gives for NaN and out-of-range values (x86 cvt(t)ss2si). */
export const INT_INDEFINITE = 0x80000000 | 0;

/** Whether the bits are a NaN. */
export function isNaN32(b: number): boolean {
  return (b & 0x7fffffff) > 0x7f800000;
}

function value(b: number): number {
  U[0] = b;
  return F[0];
}

/** The binary32 bits of a double rounded to binary32 (never called with a NaN). */
function bits(x: number): number {
  F[0] = x;
  return U[0];
}

/**
 * The NaN result of an operation with operands `a` and `b`: the first NaN operand, quieted;
 * else (an invalid operation such as inf - inf, 0 x inf, 0 / 0) the default NaN.
 */
function nanOf(a: number, b: number): number {
  if (isNaN32(a)) return a | QUIET;
  if (isNaN32(b)) return b | QUIET;
  return DEFAULT_NAN;
}

/** Rounds the exact-within-double result `x` of an operation on `a` and `b` to binary32 bits. */
function result(x: number, a: number, b: number): number {
  return x !== x ? nanOf(a, b) : bits(x);
}

/**
 * `add.s`: a + b, rounded to nearest even.
 *
 * @example
 * ```ts
 * fadd(0x3f800000, 0x3f800000); // 0x40000000 (1 + 1 = 2)
 * ```
 */
export function fadd(a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) return nanOf(a, b);
  return result(value(a) + value(b), a, b);
}

/** `sub.s`: a - b. */
export function fsub(a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) return nanOf(a, b);
  return result(value(a) - value(b), a, b);
}

/** `mul.s`: a x b. */
export function fmul(a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) return nanOf(a, b);
  return result(value(a) * value(b), a, b);
}

/** `div.s`: a / b (x / 0 is an infinity, 0 / 0 the default NaN). */
export function fdiv(a: number, b: number): number {
  if (isNaN32(a) || isNaN32(b)) return nanOf(a, b);
  return result(value(a) / value(b), a, b);
}

/** `sqrt.s`: the square root (sqrt(-0) = -0; a negative number gives the default NaN). */
export function fsqrt(a: number): number {
  if (isNaN32(a)) return a | QUIET;
  return result(Math.sqrt(value(a)), a, a);
}

/** `cvt.s.w`: the int32 `a` rounded to binary32. */
export function cvtSW(a: number): number {
  return bits(a | 0);
}

/** Rounding of a float-to-integer conversion: the MIPS `round`, `trunc`, `ceil`, `floor`. */
export const RoundTo = { nearest: 0, zero: 1, up: 2, down: 3 } as const;

/**
 * `cvt.w.s`/`round.w.s` (nearest even), `trunc.w.s`, `ceil.w.s`, `floor.w.s`: binary32 to
 * int32; NaN and results outside int32 give 0x80000000, as x86's cvtss2si/cvttss2si.
 */
export function cvtWS(a: number, mode: number): number {
  if (isNaN32(a)) return INT_INDEFINITE;
  const x = value(a);
  let r: number;
  if (mode === RoundTo.zero) r = Math.trunc(x);
  else if (mode === RoundTo.up) r = Math.ceil(x);
  else if (mode === RoundTo.down) r = Math.floor(x);
  else {
    const f = Math.floor(x), d = x - f; // exact for binary32 x
    r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  }
  return r >= -2147483648 && r <= 2147483647 ? r | 0 : INT_INDEFINITE;
}

/**
 * `c.cond.s`: the MIPS compare predicate `cond` (0-15; bit 0 unordered, bit 1 equal, bit 2
 * less; bit 3, signalling, only raises flags, which the VM does not keep) of a and b.
 */
export function fcompare(a: number, b: number, cond: number): boolean {
  if (isNaN32(a) || isNaN32(b)) return (cond & 1) !== 0;
  const x = value(a), y = value(b);
  return ((cond & 2) !== 0 && x === y) || ((cond & 4) !== 0 && x < y);
}
