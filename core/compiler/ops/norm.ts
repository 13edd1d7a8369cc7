/**
 * The norm family (op codes 660-699, docs/IR.md; kernels in core/kernels/norm.c):
 * RMSNormalization, GroupNormalization, InstanceNormalization (a GroupNormalization with one
 * channel per group), LpNormalization, MeanVarianceNormalization, LRN, Hardmax, Shrink and
 * Swish; float32. Layouts in schema.ts; nothing folds at compile time.
 * @module
 */
import { DType, dtypeName, shapeSize } from "../../ir/types.ts";
import type { Lowered, NodeContext, OpDef, ValueInfo } from "./types.ts";
import { type OpCodes, opCodes } from "./schema.ts";
import { checkDtype, FLOAT, input } from "./elementwise.ts";
import { normAxis, reduceInts } from "./nn.ts";

/** Op codes of the norm kernels, from the operator schema (schema.ts documents each attribute layout). */
export const NORM_OPS: OpCodes<"norm"> = opCodes("norm");

/** A float32 input `i` (required). */
function floatIn(ctx: NodeContext, i: number, what: string): ValueInfo {
  const v = ctx.inputs[i];
  if (!v) return ctx.fail(`input ${i} (${what}) is required`);
  checkDtype(ctx, v, FLOAT, what);
  return v;
}

const same = (x: ValueInfo) => [{ dtype: x.dtype, shape: [...x.shape] }];

function stashFloat(ctx: NodeContext): void {
  const stash = ctx.attrs.int("stash_type", 1);
  if (stash !== DType.float32) ctx.fail(`stash_type ${dtypeName(stash)} is not supported (only float)`);
}

function lowerRms(ctx: NodeContext): Lowered {
  const x = floatIn(ctx, 0, "X"), scale = floatIn(ctx, 1, "scale");
  const rank = x.shape.length;
  if (rank === 0) ctx.fail("X must have rank >= 1");
  stashFloat(ctx);
  if (ctx.outputCount > 1) ctx.fail(`${ctx.outputCount} outputs: RMSNormalization has one`);
  const axis = normAxis(ctx, ctx.attrs.int("axis", -1), rank);
  const norm = x.shape.slice(axis), N = shapeSize(norm);
  // scale: the normalised shape or a trailing part of it (leading 1s allowed), read at k mod its size
  const core = scale.shape.slice(Math.max(0, scale.shape.findIndex((d) => d !== 1)));
  if (
    scale.shape.findIndex((d) => d !== 1) < 0 ? shapeSize(scale.shape) !== 1 : core.length > norm.length ||
      core.join() !== norm.slice(norm.length - core.length).join()
  ) {
    ctx.fail(`scale [${scale.shape}] must be the normalised shape [${norm}] or a trailing part of it`);
  }
  return {
    op: NORM_OPS.RMSNormalization,
    ints: [shapeSize(x.shape.slice(0, axis)), N, shapeSize(scale.shape)],
    floats: [ctx.attrs.float("epsilon", 1e-5)],
    outputs: same(x),
  };
}

function lowerGroupNorm(ctx: NodeContext, instance: boolean): Lowered {
  const x = floatIn(ctx, 0, "X"), scale = floatIn(ctx, 1, "scale"), bias = floatIn(ctx, 2, "B");
  if (x.shape.length < 2) ctx.fail(`X [${x.shape}] must have rank >= 2`);
  const [N, C] = x.shape;
  const G = instance ? C : ctx.attrs.int("num_groups");
  if (!(G >= 1) || C % G) ctx.fail(`num_groups ${G} does not divide the ${C} channels`);
  const perChannel = instance || ctx.opset >= 21;
  if (!instance) stashFloat(ctx);
  const want = perChannel ? C : G;
  for (const [v, name] of [[scale, "scale"], [bias, "bias"]] as const) {
    if (v.shape.length !== 1 || v.shape[0] !== want) ctx.fail(`${name} [${v.shape}] must be [${want}]`);
  }
  return {
    op: NORM_OPS.GroupNormalization,
    ints: [N, G, C / G, shapeSize(x.shape.slice(2)), perChannel ? 1 : 0],
    floats: [ctx.attrs.float("epsilon", 1e-5)],
    outputs: same(x),
  };
}

/** [outer, D, inner] around one axis (`coerce`: the pre-13 2-D coercion at the axis). */
function around(ctx: NodeContext, x: ValueInfo, dflt: number, coerce: boolean): number[] {
  const rank = x.shape.length;
  if (rank === 0) ctx.fail("the input must have rank >= 1");
  const axis = normAxis(ctx, ctx.attrs.int("axis", dflt), rank);
  const outer = shapeSize(x.shape.slice(0, axis));
  return coerce
    ? [outer, shapeSize(x.shape.slice(axis)), 1]
    : [outer, x.shape[axis], shapeSize(x.shape.slice(axis + 1))];
}

function lowerLpNorm(ctx: NodeContext): Lowered {
  const x = floatIn(ctx, 0, "input");
  const p = ctx.attrs.int("p", 2);
  if (p !== 1 && p !== 2) ctx.fail(`p ${p} must be 1 or 2`);
  return { op: NORM_OPS.LpNormalization, ints: [...around(ctx, x, -1, false), p], outputs: same(x) };
}

function lowerMvn(ctx: NodeContext): Lowered {
  const x = floatIn(ctx, 0, "X");
  const axes = ctx.attrs.ints("axes", [0, 2, 3]).map((a) => normAxis(ctx, a, x.shape.length, "axes entry"));
  const reduced = new Set(axes);
  if (reduced.size !== axes.length) ctx.fail(`axes [${axes}] has duplicates`);
  return { op: NORM_OPS.MeanVarianceNormalization, ints: reduceInts(x.shape, reduced), outputs: same(x) };
}

function lowerLrn(ctx: NodeContext): Lowered {
  const x = floatIn(ctx, 0, "X");
  if (x.shape.length < 2) ctx.fail(`X [${x.shape}] must have rank >= 2`);
  const size = ctx.attrs.int("size");
  if (!(size >= 1)) ctx.fail(`size ${size} must be positive`);
  return {
    op: NORM_OPS.LRN,
    ints: [x.shape[0], x.shape[1], shapeSize(x.shape.slice(2)), size],
    floats: [ctx.attrs.float("alpha", 1e-4), ctx.attrs.float("beta", 0.75), ctx.attrs.float("bias", 1)],
    outputs: same(x),
  };
}

function lowerHardmax(ctx: NodeContext): Lowered {
  const x = floatIn(ctx, 0, "input");
  const modern = ctx.opset >= 13;
  const ints = around(ctx, x, modern ? -1 : 1, !modern);
  if (ints[1] === 0) ctx.fail("the axis is empty");
  return { op: NORM_OPS.Hardmax, ints, outputs: same(x) };
}

/** Every norm operator. */
export const OPS: readonly OpDef[] = [
  { opType: "RMSNormalization", lower: lowerRms },
  { opType: "GroupNormalization", lower: (ctx) => lowerGroupNorm(ctx, false) },
  { opType: "InstanceNormalization", lower: (ctx) => lowerGroupNorm(ctx, true) },
  { opType: "LpNormalization", lower: lowerLpNorm },
  { opType: "MeanVarianceNormalization", lower: lowerMvn },
  { opType: "LRN", lower: lowerLrn },
  { opType: "Hardmax", lower: lowerHardmax },
  {
    opType: "Shrink",
    lower: (ctx) => {
      const x = floatIn(ctx, 0, "input");
      return {
        op: NORM_OPS.Shrink,
        floats: [ctx.attrs.float("lambd", 0.5), ctx.attrs.float("bias", 0)],
        outputs: same(x),
      };
    },
  },
  {
    opType: "Swish",
    lower: (ctx) => {
      const x = input(ctx, 0);
      checkDtype(ctx, x, FLOAT);
      return { op: NORM_OPS.Swish, floats: [ctx.attrs.float("alpha", 1)], outputs: same(x) };
    },
  },
];
