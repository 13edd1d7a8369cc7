/**
 * The reduce family (op codes 500-599, docs/IR.md; kernels in core/kernels/reduce.c): ReduceSum,
 * ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp,
 * ReduceSumSquare (axes as attribute or constant input, keepdims, noop_with_empty_axes: an empty
 * axes list with the noop flag is a Copy), ArgMax and ArgMin (keepdims, select_last_index).
 * Layouts in schema.ts; nothing folds at compile time.
 * @module
 */
import { DType } from "../../ir/types.ts";
import type { OpDef } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, input } from "./elementwise.ts";
import { normAxis, reduceInts, reductionAxes } from "./nn.ts";
import { MOVEMENT_OPS } from "./movement_exec.ts";

/** Op codes of the reduce kernels, from the operator schema (schema.ts documents each attribute layout). */
export const REDUCE_OPS: OpCodes<"reduce"> = opCodes("reduce");

const F = DType.float32;
const SUM_TYPES = new Set<number>([F, DType.int32, DType.int64]);
const MINMAX_TYPES = new Set<number>([F, DType.int8, DType.uint8, DType.int32, DType.int64, DType.bool]);
const FLOAT_ONLY = new Set<number>([F]);

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
        (opType === "ReduceMax" || opType === "ReduceMin") && x.dtype !== F &&
        reduced.size && [...reduced].some((a) => x.shape[a] === 0)
      ) {
        ctx.fail("an empty integer reduction has no maximum or minimum");
      }
      return { op: REDUCE_OPS[opType], ints: reduceInts(x.shape, reduced), outputs, keepInputs: [0] };
    },
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
  reduction("ReduceL1", FLOAT_ONLY),
  reduction("ReduceL2", FLOAT_ONLY),
  reduction("ReduceLogSum", FLOAT_ONLY),
  reduction("ReduceLogSumExp", FLOAT_ONLY),
  arg("ArgMax"),
  arg("ArgMin"),
];
