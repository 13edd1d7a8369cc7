/**
 * A TypeScript model of the math family's kernels (core/kernels/math.c) for compile-time
 * folding of shape arithmetic (`Mod`, `Not`, `And`, `Less`, ... over values computed from static
 * shapes, and the float arithmetic exporters put between them, such as torchvision's
 * `floor(320 * min(320 / h, 640 / w))`): on integers and bools Neg, Abs, Sign, Not, BitwiseNot,
 * Mod, the comparisons, And/Or/Xor, the bitwise operators and the variadic Max/Min; on floats
 * only the operations whose result IEEE 754 defines exactly (Neg, Abs, Sign, Reciprocal, Floor,
 * Ceil, Round, Max, Min, the comparisons), never the project's approximations (Log, Sin, ...),
 * and never with a NaN operand (returns undefined), so a folded value is always the kernel's.
 * @module
 */
import { DType, type TensorValue } from "../../ir/types.ts";
import { broadcastShape, type Elem, mapBroadcast, store } from "./elementwise_fold.ts";

const SIGNED = new Set<number>([DType.int8, DType.int16, DType.int32, DType.int64]);
const UNSIGNED = new Set<number>([DType.uint8, DType.uint16, DType.uint32, DType.uint64]);
const isInt = (dt: number) => SIGNED.has(dt) || UNSIGNED.has(dt);

/** A bigint view of an element (so one code path serves every width). */
const big = (v: Elem): bigint => (typeof v === "bigint" ? v : BigInt(v));

/** Elements back to the dtype's representation (bigint for 64-bit, number otherwise; wrapped on store). */
function elem(dt: number, v: bigint): Elem {
  return dt === DType.int64 || dt === DType.uint64 ? v : Number(BigInt.asIntN(64, v));
}

/** Mod as math.c's SMOD/UMOD: truncated (fmod 1) or floored (fmod 0), x mod 0 = x mod -1 = 0. */
function mod(x: bigint, y: bigint, fmod: boolean, signed: boolean): bigint {
  if (y === 0n || (signed && y === -1n)) return 0n;
  const r = x % y;
  return !fmod && r !== 0n && (r < 0n) !== (y < 0n) ? r + y : r;
}

const UNARY: Record<string, (x: bigint, signed: boolean) => bigint> = {
  Neg: (x) => -x,
  Abs: (x) => (x < 0n ? -x : x),
  Sign: (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n),
  BitwiseNot: (x) => ~x,
};

const COMPARE: Record<string, (x: Elem, y: Elem) => boolean> = {
  Less: (x, y) => x < y,
  Greater: (x, y) => x > y,
  LessOrEqual: (x, y) => x <= y,
  GreaterOrEqual: (x, y) => x >= y,
};

const BITWISE: Record<string, (x: bigint, y: bigint) => bigint> = {
  And: (x, y) => x & y,
  Or: (x, y) => x | y,
  Xor: (x, y) => x ^ y,
  BitwiseAnd: (x, y) => x & y,
  BitwiseOr: (x, y) => x | y,
  BitwiseXor: (x, y) => x ^ y,
};

/**
 * Folds a math-family node whose operands are integers or bools, exactly as math.c computes it;
 * undefined for float operands or an operator without a model here.
 *
 * @example
 * ```ts
 * foldMathInt("Mod", [x, y], { fmod: 0 }); // floored remainder, as the kernel
 * ```
 */
export function foldMathInt(
  opType: string,
  xs: TensorValue[],
  attrs: { fmod?: number } = {},
): TensorValue | undefined {
  const dt = xs[0].dtype;
  if (!isInt(dt) && dt !== DType.bool) return undefined;
  if (xs.some((x) => x.dtype !== dt)) return undefined;
  const signed = SIGNED.has(dt);
  const shape = broadcastShape(xs.map((x) => x.shape));
  if (!shape) return undefined;
  if (opType === "Not") {
    if (dt !== DType.bool) return undefined;
    return store(dt, shape, Array.from(xs[0].data as ArrayLike<number>, (v) => (v === 0 ? 1 : 0)));
  }
  const un = UNARY[opType];
  if (un) {
    if (!isInt(dt) || (opType === "Neg" && !signed)) return undefined;
    return store(dt, shape, Array.from(xs[0].data as ArrayLike<Elem>, (v) => elem(dt, un(big(v), signed))));
  }
  const cmp = COMPARE[opType];
  if (cmp) {
    if (!isInt(dt)) return undefined;
    return store(DType.bool, shape, mapBroadcast(shape, xs, (v) => (cmp(big(v[0]), big(v[1])) ? 1 : 0)));
  }
  const bit = BITWISE[opType];
  if (bit) {
    if ((dt === DType.bool) !== (opType === "And" || opType === "Or" || opType === "Xor")) return undefined;
    return store(dt, shape, mapBroadcast(shape, xs, (v) => elem(dt, bit(big(v[0]), big(v[1])))));
  }
  if (!isInt(dt)) return undefined;
  if (opType === "Mod") {
    const fm = attrs.fmod === 1;
    return store(dt, shape, mapBroadcast(shape, xs, (v) => elem(dt, mod(big(v[0]), big(v[1]), fm, signed))));
  }
  if (opType === "Max" || opType === "Min") {
    const pick = (a: bigint, b: bigint) => (opType === "Max" ? (a > b ? a : b) : (a < b ? a : b));
    return store(dt, shape, mapBroadcast(shape, xs, (v) => elem(dt, v.map(big).reduce(pick))));
  }
  return undefined;
}

/** Round half to even, keeping the sign (-0.25 gives -0), as opml_roundevenf. */
function roundHalfEven(x: number): number {
  const a = Math.abs(x), f = Math.floor(a), d = a - f; // exact for a float32 value
  const n = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  return x < 0 || Object.is(x, -0) ? -n : n;
}

const FLOAT_UNARY: Record<string, (x: number) => number> = {
  Neg: (x) => -x,
  Abs: Math.abs,
  Sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), // keeps -0
  Reciprocal: (x) => 1 / x, // one rounding to binary64, then one to binary32: exact for division
  Floor: Math.floor, // opml_floorf: -0 stays -0, -0.5 gives -1, 0.5 gives +0
  Ceil: Math.ceil, // -opml_floorf(-x): -0.5 gives -0
  Round: roundHalfEven,
};

/** The math.c kernels of each float op: which dtypes it takes. */
const FLOAT_KERNEL: Record<string, ReadonlySet<number>> = {
  Neg: new Set([DType.float32]),
  Abs: new Set([DType.float32]),
  Sign: new Set([DType.float32]),
  Reciprocal: new Set([DType.float32]),
  Floor: new Set([DType.float32]),
  Ceil: new Set([DType.float32]),
  Round: new Set([DType.float32]),
  Max: new Set([DType.float32, DType.float64]),
  Min: new Set([DType.float32, DType.float64]),
  Less: new Set([DType.float32, DType.float64]),
  Greater: new Set([DType.float32, DType.float64]),
  LessOrEqual: new Set([DType.float32, DType.float64]),
  GreaterOrEqual: new Set([DType.float32, DType.float64]),
};

/**
 * Folds a math-family node whose operands are float32 (or float64 where the kernel takes it),
 * exactly as math.c computes it; undefined for an operator whose float result is not exactly
 * defined by IEEE 754, or when an operand is NaN (whose bits the kernels do not promise).
 *
 * @example
 * ```ts
 * foldMathFloat("Floor", [{ dtype: DType.float32, shape: [], data: Float32Array.of(-0.5) }]); // -1
 * ```
 */
export function foldMathFloat(opType: string, xs: TensorValue[]): TensorValue | undefined {
  const dt = xs[0].dtype;
  if (!FLOAT_KERNEL[opType]?.has(dt) || xs.some((x) => x.dtype !== dt)) return undefined;
  if (xs.some((x) => (x.data as Float32Array).some(Number.isNaN))) return undefined;
  const shape = broadcastShape(xs.map((x) => x.shape));
  if (!shape) return undefined;
  const r = dt === DType.float32 ? Math.fround : (x: number) => x;
  const un = FLOAT_UNARY[opType];
  if (un) return store(dt, shape, Array.from(xs[0].data as Float32Array, (v) => r(un(v))));
  const cmp = COMPARE[opType];
  if (cmp) {
    return store(DType.bool, shape, mapBroadcast(shape, xs, (v) => (cmp(v[0], v[1]) ? 1 : 0)));
  }
  // Max, Min: acc = first, then (acc > v ? acc : v) per operand, as the kernel (+0 and -0: the later wins)
  const max = opType === "Max";
  return store(
    dt,
    shape,
    mapBroadcast(shape, xs, (v) => (v as number[]).reduce((acc, x) => ((max ? acc > x : acc < x) ? acc : x))),
  );
}
