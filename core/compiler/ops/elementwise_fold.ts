/**
 * A TypeScript model of the elementwise kernels (core/kernels/elementwise.c) for compile-time
 * folding: broadcasting, and the exact integer, bool and IEEE float semantics of Add, Sub, Mul,
 * Div, Equal, Where, Relu, Clip and Cast. Every function returns undefined where it cannot give
 * the kernel's exact bits (a float64 NaN, a float-to-integer conversion out of range), and the
 * compiler then keeps the kernel call.
 * @module
 */
import { allocArray, DType, shapeSize, SMALL_FLOATS, type TensorValue } from "../../ir/types.ts";

/** One element: a number, or a bigint for int64/uint64. */
export type Elem = number | bigint;

/**
 * The numpy multidirectional broadcast of shapes, or undefined if they do not broadcast.
 *
 * @example
 * ```ts
 * broadcastShape([[3, 4, 5], [5]]); // [3, 4, 5]
 * broadcastShape([[2, 1], [1, 3]]); // [2, 3]
 * ```
 */
export function broadcastShape(shapes: readonly (readonly number[])[]): number[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = s[i], j = rank - s.length + i;
      if (d === out[j] || d === 1) continue;
      if (out[j] !== 1) return undefined;
      out[j] = d;
    }
  }
  return out;
}

const isBig = (dtype: number) => dtype === DType.int64 || dtype === DType.uint64;
const isFloat = (dtype: number) => dtype === DType.float32 || dtype === DType.float64;

/** Applies fn to the broadcast elements of the inputs, in row-major order of outShape. */
export function mapBroadcast(outShape: number[], inputs: TensorValue[], fn: (v: Elem[]) => Elem): Elem[] {
  const n = shapeSize(outShape), rank = outShape.length;
  const strides = inputs.map((t) => {
    const st: number[] = new Array(rank).fill(0);
    let run = 1;
    for (let i = t.shape.length - 1; i >= 0; i--) {
      if (t.shape[i] !== 1) st[rank - t.shape.length + i] = run;
      run *= t.shape[i];
    }
    return st;
  });
  const out: Elem[] = new Array(n);
  const idx: number[] = new Array(rank).fill(0);
  const vals: Elem[] = new Array(inputs.length);
  for (let e = 0; e < n; e++) {
    for (let k = 0; k < inputs.length; k++) {
      let off = 0;
      for (let d = 0; d < rank; d++) off += idx[d] * strides[k][d];
      vals[k] = inputs[k].data[off];
    }
    out[e] = fn(vals);
    for (let d = rank - 1; d >= 0 && ++idx[d] === outShape[d]; d--) idx[d] = 0;
  }
  return out;
}

/**
 * Stores elements as a tensor of dtype: integers wrap like C, a float32 NaN becomes 0x7FC00000
 * (the interpreter's canonical NaN); undefined (decline) for a float64 NaN, whose bits the
 * kernels do not canonicalise the same way on both builds.
 */
export function store(dtype: number, shape: number[], elems: Elem[]): TensorValue | undefined {
  const data = allocArray(dtype, elems.length);
  if (!data) return undefined;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const bits = data instanceof BigInt64Array ? BigInt.asIntN : BigInt.asUintN;
    elems.forEach((v, i) => (data[i] = bits(64, typeof v === "bigint" ? v : BigInt(v))));
  } else {
    for (let i = 0; i < elems.length; i++) {
      const v = Number(elems[i]);
      if (Number.isNaN(v) && dtype === DType.float64) return undefined;
      (data as Float32Array)[i] = v; // typed-array stores wrap integers modulo 2^bits like C
    }
    if (data instanceof Float32Array) {
      const u = new Uint32Array(data.buffer);
      data.forEach((v, i) => Number.isNaN(v) && (u[i] = 0x7fc00000));
    }
  }
  return { dtype, shape: [...shape], data };
}

/** Integer division as the kernel does it: truncating, x / 0 = 0 (wrapping happens on store). */
function intDiv(a: Elem, b: Elem): Elem {
  if (typeof a === "bigint" && typeof b === "bigint") return b === 0n ? 0n : a / b;
  const x = Number(a), y = Number(b);
  return y === 0 ? 0 : Math.trunc(x / y); // exact for 32-bit operands
}

/**
 * Add, Sub, Mul or Div of two tensors of one dtype, broadcast, exactly as the kernel computes
 * it (float32 rounded once: binary64 then binary32 is exact for these operations).
 */
export function foldArith(
  op: "Add" | "Sub" | "Mul" | "Div",
  a: TensorValue,
  b: TensorValue,
): TensorValue | undefined {
  const shape = broadcastShape([a.shape, b.shape]);
  if (!shape || a.dtype !== b.dtype) return undefined;
  const dt = a.dtype;
  let fn: (v: Elem[]) => Elem;
  if (isBig(dt)) {
    const f = {
      Add: (x: bigint, y: bigint) => x + y,
      Sub: (x: bigint, y: bigint) => x - y,
      Mul: (x: bigint, y: bigint) => x * y,
      Div: intDiv,
    }[op];
    fn = (v) => f(v[0] as bigint, v[1] as bigint) as bigint;
  } else if (isFloat(dt)) {
    const r = dt === DType.float32 ? Math.fround : (x: number) => x;
    const f = {
      Add: (x: number, y: number) => x + y,
      Sub: (x: number, y: number) => x - y,
      Mul: (x: number, y: number) => x * y,
      Div: (x: number, y: number) => x / y,
    }[op];
    fn = (v) => r(f(v[0] as number, v[1] as number));
  } else {
    // 8 to 32-bit integers: exact in a double except 32-bit products, which Math.imul wraps
    const f = {
      Add: (x: number, y: number) => x + y,
      Sub: (x: number, y: number) => x - y,
      Mul: Math.imul,
      Div: intDiv,
    }[op];
    fn = (v) => f(v[0] as number, v[1] as number);
  } // deno-fmt-ignore
  return store(dt, shape, mapBroadcast(shape, [a, b], fn));
}

/** Equal (bool output): IEEE comparison for floats, -0 == +0, NaN unequal. */
export function foldEqual(a: TensorValue, b: TensorValue): TensorValue | undefined {
  const shape = broadcastShape([a.shape, b.shape]);
  if (!shape || a.dtype !== b.dtype) return undefined;
  const fn = a.dtype === DType.bool
    ? (v: Elem[]) => ((v[0] !== 0) === (v[1] !== 0) ? 1 : 0)
    : (v: Elem[]) => (v[0] === v[1] ? 1 : 0);
  return store(DType.bool, shape, mapBroadcast(shape, [a, b], fn));
}

/** Where(cond, x, y), three-way broadcast. */
export function foldWhere(c: TensorValue, x: TensorValue, y: TensorValue): TensorValue | undefined {
  const shape = broadcastShape([c.shape, x.shape, y.shape]);
  if (!shape || x.dtype !== y.dtype) return undefined;
  return store(x.dtype, shape, mapBroadcast(shape, [c, x, y], (v) => (v[0] !== 0 ? v[1] : v[2])));
}

/** Relu: x < 0 ? 0 : x. */
export function foldRelu(x: TensorValue): TensorValue | undefined {
  return store(
    x.dtype,
    x.shape,
    Array.from(x.data as ArrayLike<Elem>, (v) => (v < 0 ? (isBig(x.dtype) ? 0n : 0) : v)),
  );
}

/** Clip to [lo, hi] as min(max(x, lo), hi): lo > hi gives hi, NaN stays NaN. */
export function foldClip(x: TensorValue, lo: Elem, hi: Elem): TensorValue | undefined {
  return store(
    x.dtype,
    x.shape,
    Array.from(x.data as ArrayLike<Elem>, (v) => {
      const m = v < lo ? lo : v;
      return m > hi ? hi : m;
    }),
  );
}

const INT_BITS: Record<number, [number, boolean]> = {
  [DType.int8]: [8, true],
  [DType.uint8]: [8, false],
  [DType.int16]: [16, true],
  [DType.uint16]: [16, false],
  [DType.int32]: [32, true],
  [DType.uint32]: [32, false],
  [DType.int64]: [64, true],
  [DType.uint64]: [64, false],
};

/** A bigint rounded to the nearest float32 (ties to even), as (float)x does. */
function bigToFloat32(x: bigint): number {
  const neg = x < 0n, a = neg ? -x : x;
  const len = a.toString(2).length;
  if (len <= 53) return Math.fround(Number(x)); // exact in a double, so rounded once
  const shift = BigInt(len - 24);
  let m = a >> shift;
  const rest = a - (m << shift), half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
  const v = Number(m) * 2 ** Number(shift); // exact: m has at most 25 bits
  return neg ? -v : v;
}

/**
 * Cast to dtype `to`, exactly as the kernel converts: integers wrap, int to float rounds to
 * nearest even, float to integer truncates; declines a NaN or out-of-range float-to-integer
 * conversion (whose result the kernel defines by x86 rules) and any 64-bit NaN.
 */
export function foldCast(x: TensorValue, to: number): TensorValue | undefined {
  const src = x.dtype, out: Elem[] = new Array(x.data.length);
  const target = INT_BITS[to];
  if (SMALL_FLOATS.has(src)) return undefined; // bit patterns: the kernel converts them
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    if (to === DType.bool) {
      out[i] = (typeof v === "bigint" ? v !== 0n : v !== 0) ? 1 : 0;
    } else if (to === DType.float32 || to === DType.float64) {
      if (typeof v === "bigint") out[i] = to === DType.float32 ? bigToFloat32(v) : Number(v);
      else out[i] = to === DType.float32 ? Math.fround(v) : v;
    } else if (target) {
      let n: bigint;
      if (isFloat(src)) {
        const t = Math.trunc(v as number);
        // the kernel converts through int32 (8 to 32-bit targets), int64 (uint32, int64) or uint64
        const [lo, hi] = target[0] < 32 || to === DType.int32
          ? [-(2 ** 31), 2 ** 31]
          : to === DType.uint64
          ? [0, 2 ** 64]
          : [-(2 ** 63), 2 ** 63];
        if (!(t >= lo && t < hi)) return undefined;
        n = BigInt(t);
      } else {
        n = BigInt(v);
      }
      const w = target[1] ? BigInt.asIntN(target[0], n) : BigInt.asUintN(target[0], n);
      out[i] = target[0] === 64 ? w : Number(w);
    } else {
      return undefined;
    }
  }
  return store(to, x.shape, out);
}
