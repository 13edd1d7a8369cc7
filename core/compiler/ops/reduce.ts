/**
 * The reduce family (op codes 500-599, docs/IR.md; kernels in core/kernels/reduce.c): ReduceSum,
 * ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp,
 * ReduceSumSquare (axes as attribute or constant input, keepdims, noop_with_empty_axes: an empty
 * axes list with the noop flag is a Copy), ArgMax and ArgMin (keepdims, select_last_index).
 * Layouts in schema.ts. Integer and bool ReduceSum/Prod/SumSquare/Max/Min fold at compile time
 * (shape arithmetic such as a product of dims; wrapping sums are the kernel's in any order), and
 * so do float ReduceMax/Min (selections); float sums stay kernel calls.
 * @module
 */
import { DType, shapeSize, type TensorValue } from "../../ir/types.ts";
import type { NodeContext, OpDef } from "./types.ts";
import { type Elem, store } from "./elementwise_fold.ts";
import { stridesOf } from "./movement_exec.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, input } from "./elementwise.ts";
import { normAxis, reduceInts, reductionAxes } from "./nn.ts";
import { MOVEMENT_OPS } from "./movement_exec.ts";

/** Op codes of the reduce kernels, from the operator schema (schema.ts documents each attribute layout). */
export const REDUCE_OPS: OpCodes<"reduce"> = opCodes("reduce");

const F = DType.float32;
const D = DType.float64;
const SUM_TYPES = new Set<number>([F, D, DType.int32, DType.int64]);
const MINMAX_TYPES = new Set<number>([F, D, DType.int8, DType.uint8, DType.int32, DType.int64, DType.bool]);

const FOLDS: Partial<Record<keyof typeof REDUCE_OPS, (acc: bigint, v: bigint) => bigint>> = {
  ReduceSum: (a, v) => a + v,
  ReduceProd: (a, v) => a * v,
  ReduceSumSquare: (a, v) => a + v * v,
  ReduceMax: (a, v) => (v > a ? v : a),
  ReduceMin: (a, v) => (v < a ? v : a),
};

/**
 * A reduction at compile time, exactly as reduce.c: integers and bools (wrapping on store), and
 * float ReduceMax/ReduceMin (a selection: the first extreme element, -inf/+inf when empty; a NaN
 * operand declines). Float sums stay kernel calls.
 */
function foldReduce(
  ctx: NodeContext,
  opType: keyof typeof REDUCE_OPS,
  x: TensorValue,
  axesInputFrom: number,
): TensorValue[] | undefined {
  const step = FOLDS[opType];
  const float = x.dtype === F || x.dtype === D, minmax = opType === "ReduceMax" || opType === "ReduceMin";
  if (!step || (float && (!minmax || (x.data as Float32Array).some(Number.isNaN)))) return undefined;
  const { reduced, shape } = reductionAxes(ctx, x, axesInputFrom);
  if (reduced.size === 0) return [{ dtype: x.dtype, shape, data: x.data.slice() }]; // the Copy
  const keptStrides = stridesOf(x.shape.map((d, k) => (reduced.has(k) ? 1 : d)));
  const acc: (Elem | undefined)[] = new Array(shapeSize(shape)).fill(undefined);
  const first = opType === "ReduceProd" ? 1n : 0n;
  const fstep = (a: number, v: number) => (opType === "ReduceMax" ? v > a : v < a) ? v : a;
  const idx = new Array<number>(x.shape.length).fill(0);
  for (let e = 0; e < x.data.length; e++) {
    let o = 0;
    for (let k = 0; k < idx.length; k++) if (!reduced.has(k)) o += idx[k] * keptStrides[k];
    const a = acc[o];
    if (float) {
      const v = x.data[e] as number;
      acc[o] = a === undefined ? v : fstep(a as number, v);
    } else {
      const v = BigInt(x.data[e]);
      acc[o] = a === undefined ? (minmax ? v : step(first, v)) : step(a as bigint, v);
    }
    for (let k = idx.length - 1; k >= 0 && ++idx[k] === x.shape[k]; k--) idx[k] = 0;
  }
  const big = x.dtype === DType.int64;
  const out = store(
    x.dtype,
    shape,
    acc.map((a) => {
      if (float) return a ?? (opType === "ReduceMax" ? -Infinity : Infinity); // an empty maximum
      const v = (a ?? first) as bigint; // an empty sum or product
      return big ? v : Number(BigInt.asIntN(32, v));
    }),
  );
  return out ? [out] : undefined;
}

function reduction(opType: keyof typeof REDUCE_OPS, allowed: ReadonlySet<number>, axesInputFrom = 18): OpDef {
  return {
    opType,
    lower(ctx) {
      const x = input(ctx, 0);
      checkDtype(ctx, x, allowed);
      const { reduced, shape } = reductionAxes(ctx, x, axesInputFrom);
      const outputs = [{ dtype: x.dtype, shape }];
      if (reduced.size === 0) return { op: MOVEMENT_OPS.Copy, outputs, keepInputs: [0] };
      if (
        (opType === "ReduceMax" || opType === "ReduceMin") && x.dtype !== F && x.dtype !== D &&
        reduced.size && [...reduced].some((a) => x.shape[a] === 0)
      ) {
        ctx.fail("an empty integer reduction has no maximum or minimum");
      }
      return { op: REDUCE_OPS[opType], ints: reduceInts(x.shape, reduced), outputs, keepInputs: [0] };
    },
    fold: (ctx, [x]) => foldReduce(ctx, opType, x!, axesInputFrom),
  };
}

function arg(opType: "ArgMax" | "ArgMin"): OpDef {
  return {
    opType,
    lower(ctx) {
      const x = input(ctx, 0);
      checkDtype(ctx, x, new Set([F, DType.int32, DType.int64]));
      const rank = x.shape.length;
      if (rank === 0) ctx.fail("a scalar input has no axis");
      const axis = normAxis(ctx, ctx.attrs.int("axis", 0), rank);
      const keepdims = ctx.attrs.int("keepdims", 1) !== 0;
      const D = x.shape[axis];
      if (D === 0) ctx.fail(`axis ${axis} is empty`);
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const shape = x.shape.flatMap((d, i) => (i === axis ? (keepdims ? [1] : []) : [d]));
      return {
        op: REDUCE_OPS[opType],
        ints: [outer, D, inner, ctx.attrs.int("select_last_index", 0) ? 1 : 0],
        outputs: [{ dtype: DType.int64, shape }],
      };
    },
  };
}

/** Every reduce operator. */
export const OPS: readonly OpDef[] = [
  reduction("ReduceSum", SUM_TYPES, 13),
  reduction("ReduceMax", MINMAX_TYPES),
  reduction("ReduceMin", MINMAX_TYPES),
  reduction("ReduceProd", SUM_TYPES),
  reduction("ReduceSumSquare", SUM_TYPES),
  reduction("ReduceL1", new Set([F, D])),
  reduction("ReduceL2", new Set([F, D])),
  reduction("ReduceLogSum", new Set([F, D])),
  reduction("ReduceLogSumExp", new Set([F, D])),
  arg("ArgMax"),
  arg("ArgMin"),
];
