/**
 * The elementwise operators (op codes 1-99, docs/IR.md): Add, Sub, Mul, Div, Pow, Equal and
 * Where with numpy multidirectional broadcasting; Relu, LeakyRelu, Clip, Sigmoid, Tanh, Exp,
 * Erf, Sqrt and Gelu; Cast and CastLike. The kernels are core/kernels/elementwise.c; the float math is
 * core/kernels/mathf.c. Broadcasting is resolved at run time from the tensors' shapes, so most
 * ops have no attributes.
 *
 * Integer, bool and the exact float cases of Add, Sub, Mul, Div, Equal, Where, Relu, Clip and
 * Cast fold at compile time (elementwise_fold.ts models the kernels exactly); Pow and the
 * transcendental ops always stay kernel calls.
 * @module
 */
import { type OpCodes, opCodes } from "./schema.ts";
import { DType, dtypeName, shapeSize, SMALL_FLOATS, type TensorValue } from "../../ir/types.ts";
import type { Lowered, NodeContext, OpDef, ValueInfo } from "./types.ts";
import {
  broadcastShape,
  type Elem,
  foldArith,
  foldCast,
  foldClip,
  foldEqual,
  foldRelu,
  foldWhere,
} from "./elementwise_fold.ts";

export { broadcastShape } from "./elementwise_fold.ts";

/** Op codes of the elementwise kernels, from the operator schema (schema.ts documents each attribute layout). */
export const ELEMENTWISE_OPS: OpCodes<"elementwise"> = opCodes("elementwise");

/** The dtypes the kernels handle (the IR's whole set). */
export const NUMERIC = new Set<number>([
  DType.float32,
  DType.float64,
  DType.int8,
  DType.uint8,
  DType.int16,
  DType.uint16,
  DType.int32,
  DType.uint32,
  DType.int64,
  DType.uint64,
]); // deno-fmt-ignore
export const INTEGER = new Set<number>([...NUMERIC].filter((d) => d !== DType.float32 && d !== DType.float64));

/** ONNX names of the element types beyond {@link dtypeName}'s, for precise messages. */
const EXOTIC: Record<number, string> = {
  17: "float8e4m3fn",
  18: "float8e4m3fnuz",
  19: "float8e5m2",
  20: "float8e5m2fnuz",
  21: "uint4",
  22: "int4",
  23: "float4e2m1",
  24: "float8e8m0",
  25: "uint2",
  26: "int2",
};
export const typeName = (dtype: number) => EXOTIC[dtype] ?? dtypeName(dtype);

// ---------------------------------------------------------------------------------------------
// helpers

/** One folded output, or undefined (declined). */
const one = (v: TensorValue | undefined): TensorValue[] | undefined => (v ? [v] : undefined);

export function input(ctx: NodeContext, i: number): ValueInfo {
  const v = ctx.inputs[i];
  if (!v) return ctx.fail(`input ${i} is required`);
  return v;
}

export function checkDtype(
  ctx: NodeContext,
  v: ValueInfo,
  allowed: ReadonlySet<number>,
  what = "input",
): void {
  if (!allowed.has(v.dtype)) {
    ctx.fail(`${ctx.opType} on ${what} of type ${typeName(v.dtype)} is not supported`);
  }
}

/** The broadcast output shape of some inputs, or a failure naming their shapes. */
export function broadcastOf(ctx: NodeContext, vs: ValueInfo[]): number[] {
  const shape = broadcastShape(vs.map((v) => v.shape));
  if (!shape) {
    ctx.fail(`input shapes ${vs.map((v) => `[${v.shape.join(", ")}]`).join(" and ")} do not broadcast`);
  }
  return shape;
}

/** A same-shape unary op on the given dtypes. */
export function unary(
  ctx: NodeContext,
  op: number,
  allowed: ReadonlySet<number>,
  extra: Partial<Lowered> = {},
): Lowered {
  const x = input(ctx, 0);
  checkDtype(ctx, x, allowed);
  return { op, ...extra, outputs: [{ dtype: x.dtype, shape: [...x.shape] }] };
}

export const FLOAT = new Set<number>([DType.float32]);

/** float32 and float64 (the binary64 functions of core/kernels/mathf.h). */
export const FLOAT_DOUBLE = new Set<number>([DType.float32, DType.float64]);

function floatUnary(opType: keyof typeof ELEMENTWISE_OPS, allowed: ReadonlySet<number> = FLOAT): OpDef {
  return { opType, lower: (ctx) => unary(ctx, ELEMENTWISE_OPS[opType], allowed) };
}

// ---------------------------------------------------------------------------------------------
// binary ops

function arith(opType: "Add" | "Sub" | "Mul" | "Div"): OpDef {
  return {
    opType,
    lower(ctx) {
      const a = input(ctx, 0), b = input(ctx, 1);
      checkDtype(ctx, a, NUMERIC);
      if (b.dtype !== a.dtype) ctx.fail(`input types differ: ${typeName(a.dtype)} and ${typeName(b.dtype)}`);
      return { op: ELEMENTWISE_OPS[opType], outputs: [{ dtype: a.dtype, shape: broadcastOf(ctx, [a, b]) }] };
    },
    fold: (_ctx, [a, b]) => one(foldArith(opType, a!, b!)),
  };
}

const pow: OpDef = {
  opType: "Pow",
  lower(ctx) {
    const a = input(ctx, 0), b = input(ctx, 1);
    checkDtype(ctx, a, new Set([DType.float32, DType.int32, DType.int64]), "base");
    checkDtype(ctx, b, new Set([DType.float32, ...INTEGER]), "exponent");
    return { op: ELEMENTWISE_OPS.Pow, outputs: [{ dtype: a.dtype, shape: broadcastOf(ctx, [a, b]) }] };
  },
};

const equal: OpDef = {
  opType: "Equal",
  lower(ctx) {
    const a = input(ctx, 0), b = input(ctx, 1);
    checkDtype(ctx, a, new Set([...NUMERIC, DType.bool]));
    if (b.dtype !== a.dtype) ctx.fail(`input types differ: ${typeName(a.dtype)} and ${typeName(b.dtype)}`);
    return { op: ELEMENTWISE_OPS.Equal, outputs: [{ dtype: DType.bool, shape: broadcastOf(ctx, [a, b]) }] };
  },
  fold: (_ctx, [a, b]) => one(foldEqual(a!, b!)),
};

const where: OpDef = {
  opType: "Where",
  lower(ctx) {
    const c = input(ctx, 0), x = input(ctx, 1), y = input(ctx, 2);
    if (c.dtype !== DType.bool) ctx.fail(`condition must be bool, got ${typeName(c.dtype)}`);
    checkDtype(ctx, x, new Set([...NUMERIC, DType.bool]));
    if (y.dtype !== x.dtype) ctx.fail(`X and Y types differ: ${typeName(x.dtype)} and ${typeName(y.dtype)}`);
    return { op: ELEMENTWISE_OPS.Where, outputs: [{ dtype: x.dtype, shape: broadcastOf(ctx, [c, x, y]) }] };
  },
  fold: (_ctx, [c, x, y]) => one(foldWhere(c!, x!, y!)),
};

// ---------------------------------------------------------------------------------------------
// unary ops

const relu: OpDef = {
  opType: "Relu",
  lower: (ctx) =>
    unary(
      ctx,
      ELEMENTWISE_OPS.Relu,
      new Set([DType.float32, DType.float64, DType.int8, DType.int16, DType.int32, DType.int64]),
    ),
  fold: (_ctx, [x]) => one(foldRelu(x!)),
};

const leakyRelu: OpDef = {
  opType: "LeakyRelu",
  lower: (ctx) => unary(ctx, ELEMENTWISE_OPS.LeakyRelu, FLOAT, { floats: [ctx.attrs.float("alpha", 0.01)] }),
};

const gelu: OpDef = {
  opType: "Gelu",
  lower(ctx) {
    const approx = ctx.attrs.string("approximate", "none");
    if (approx !== "none" && approx !== "tanh") {
      ctx.fail(`approximate="${approx}" is not supported (none or tanh)`);
    }
    return unary(ctx, ELEMENTWISE_OPS.Gelu, FLOAT, { ints: [approx === "tanh" ? 1 : 0] });
  },
};

const FLT_MAX = 3.4028234663852886e38;

/** The smallest and largest value of an integer dtype. */
function intRange(dtype: number): [bigint, bigint] {
  const bits = {
    [DType.int8]: 8,
    [DType.uint8]: 8,
    [DType.int16]: 16,
    [DType.uint16]: 16,
    [DType.int32]: 32,
    [DType.uint32]: 32,
  }[dtype] ?? 64;
  const signed = dtype === DType.int8 || dtype === DType.int16 || dtype === DType.int32 ||
    dtype === DType.int64;
  return signed
    ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n]
    : [0n, (1n << BigInt(bits)) - 1n];
} // deno-fmt-ignore

/** Clip's bounds (from attributes before opset 11, from constant inputs after), as elements. */
function clipBounds(ctx: NodeContext, x: ValueInfo): { lo: Elem; hi: Elem; runtime: boolean } {
  if (ctx.opset < 11) {
    return { lo: ctx.attrs.float("min", -FLT_MAX), hi: ctx.attrs.float("max", FLT_MAX), runtime: false };
  }
  const isInt = INTEGER.has(x.dtype);
  const [dlo, dhi]: Elem[] = isInt ? intRange(x.dtype) : [-Infinity, Infinity];
  const bound = (i: number, dflt: Elem): Elem | undefined => {
    const v = ctx.inputs[i];
    if (!v) return dflt;
    if (v.dtype !== x.dtype) ctx.fail(`${i === 1 ? "min" : "max"} has type ${typeName(v.dtype)}, X has ${typeName(x.dtype)}`);
    if (shapeSize(v.shape) !== 1) ctx.fail(`${i === 1 ? "min" : "max"} must be a scalar, got shape [${v.shape.join(", ")}]`);
    if (!v.value) return undefined;
    const e = v.value.data[0];
    return isInt ? BigInt(e) : e;
  };
  const lo = bound(1, dlo), hi = bound(2, dhi);
  return { lo: lo ?? dlo, hi: hi ?? dhi, runtime: lo === undefined || hi === undefined };
}

const clip: OpDef = {
  opType: "Clip",
  lower(ctx) {
    const x = input(ctx, 0);
    checkDtype(ctx, x, ctx.opset < 11 ? FLOAT : new Set([DType.float32, ...INTEGER]));
    const { lo, hi, runtime } = clipBounds(ctx, x);
    const attrs: Partial<Lowered> = x.dtype === DType.float32
      ? { floats: [Number(lo), Number(hi)] }
      : { ints: [BigInt.asIntN(64, BigInt(lo)), BigInt.asIntN(64, BigInt(hi))] };
    return {
      op: ELEMENTWISE_OPS.Clip,
      ...attrs,
      outputs: [{ dtype: x.dtype, shape: [...x.shape] }],
      keepInputs: runtime ? undefined : [0],
    };
  },
  fold(ctx, [x]) {
    const { lo, hi } = clipBounds(ctx, x!);
    const big = x!.dtype === DType.int64 || x!.dtype === DType.uint64;
    if (x!.dtype === DType.float32) {
      return one(foldClip(x!, Math.fround(Number(lo)), Math.fround(Number(hi))));
    }
    return one(foldClip(x!, big ? BigInt(lo) : Number(lo), big ? BigInt(hi) : Number(hi)));
  },
};

// ---------------------------------------------------------------------------------------------
// Cast

/** Every dtype Cast converts from and to: the numeric ones, bool, the small floats and the sub-byte integers. */
export const CASTABLE: ReadonlySet<number> = new Set<number>([
  ...NUMERIC,
  DType.bool,
  ...SMALL_FLOATS,
  DType.int4,
  DType.uint4,
  DType.int2,
  DType.uint2,
]);

const ROUND_MODES = ["up", "down", "nearest"];

/**
 * Cast's kernel attributes [saturate, round_mode] (saturate: float8 targets, from opset 19;
 * round_mode: float8e8m0 targets, opset 25: 0 up, 1 down, 2 nearest).
 */
export function castInts(ctx: NodeContext): number[] {
  const saturate = ctx.opset >= 19 ? ctx.attrs.int("saturate", 1) : 1;
  const mode = ctx.opset >= 25 ? ctx.attrs.string("round_mode", "up") : "up";
  if (!ROUND_MODES.includes(mode)) ctx.fail(`round_mode="${mode}" must be up, down or nearest`);
  return [saturate ? 1 : 0, ROUND_MODES.indexOf(mode)];
}

/** Checks a Cast between two dtypes and lowers it; `shape` is the input's. */
export function lowerCast(ctx: NodeContext, from: number, to: number, shape: number[]): Lowered {
  if (!CASTABLE.has(from)) ctx.fail(`Cast from ${typeName(from)} is not supported`);
  if (!CASTABLE.has(to)) ctx.fail(`Cast to ${typeName(to)} is not supported`);
  return { op: ELEMENTWISE_OPS.Cast, ints: castInts(ctx), outputs: [{ dtype: to, shape: [...shape] }] };
}

const cast: OpDef = {
  opType: "Cast",
  lower(ctx) {
    const x = input(ctx, 0);
    return lowerCast(ctx, x.dtype, ctx.attrs.int("to"), x.shape);
  },
  fold: (ctx, [x]) => one(foldCast(x!, ctx.attrs.int("to"))),
};

/** CastLike (opset 15): Cast to the dtype of the second input, whose values are not read. */
const castLike: OpDef = {
  opType: "CastLike",
  lower(ctx) {
    const x = input(ctx, 0), like = input(ctx, 1);
    if (!CASTABLE.has(x.dtype)) ctx.fail(`CastLike from ${typeName(x.dtype)} is not supported`);
    if (!CASTABLE.has(like.dtype)) ctx.fail(`CastLike to ${typeName(like.dtype)} is not supported`);
    return {
      op: ELEMENTWISE_OPS.Cast,
      ints: castInts(ctx),
      outputs: [{ dtype: like.dtype, shape: [...x.shape] }],
      keepInputs: [0],
    };
  },
  fold: (ctx, [x]) => one(foldCast(x!, input(ctx, 1).dtype)),
};

/** Every elementwise operator. */
export const OPS: readonly OpDef[] = [
  arith("Add"),
  arith("Sub"),
  arith("Mul"),
  arith("Div"),
  pow,
  equal,
  where,
  relu,
  leakyRelu,
  clip,
  gelu,
  cast,
  castLike,
  floatUnary("Sigmoid"),
  floatUnary("Tanh"),
  floatUnary("Exp", FLOAT_DOUBLE),
  floatUnary("Erf"),
  floatUnary("Sqrt", FLOAT_DOUBLE),
];
