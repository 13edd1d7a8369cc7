/**
 * Run-time shapes (docs/IR.md, "Run-time shapes"): which operators take a tensor with a run-time
 * dimension (bounded at compile time, its length an int64 scalar tensor computed at run time)
 * and where that dimension is in their outputs. Such a tensor is computed over its whole bound
 * (the positions past the length hold deterministic values: zeros from the producers, whatever
 * the consumers compute from them after), so an operator may take it only when each valid
 * output element depends on valid input elements alone: elementwise operators, Gather and
 * GatherElements through their indices, movement and reductions along other axes. Anything
 * else is rejected in one line naming node, operator, opset and input.
 * @module
 */
import { DType } from "../ir/types.ts";
import { type NodeContext, RUNTIME_DOMAIN, type RuntimeDim, type ValueInfo } from "./ops/mod.ts";

/** Operators whose outputs are their broadcast inputs, element by element. */
const POINTWISE: ReadonlySet<string> = new Set([
  "Identity",
  "Cast",
  "Neg",
  "Abs",
  "Relu",
  "Sigmoid",
  "Tanh",
  "Exp",
  "Log",
  "Sqrt",
  "Reciprocal",
  "Floor",
  "Ceil",
  "Round",
  "Sign",
  "Not",
  "Erf",
  "Sin",
  "Cos",
  "Tan",
  "Asin",
  "Acos",
  "Atan",
  "Sinh",
  "Cosh",
  "Asinh",
  "Acosh",
  "Atanh",
  "Softplus",
  "Softsign",
  "Elu",
  "Selu",
  "Celu",
  "LeakyRelu",
  "HardSigmoid",
  "HardSwish",
  "ThresholdedRelu",
  "Mish",
  "Gelu",
  "IsNaN",
  "IsInf",
  "BitwiseNot",
  "Clip",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Pow",
  "Mod",
  "Equal",
  "Less",
  "LessOrEqual",
  "Greater",
  "GreaterOrEqual",
  "And",
  "Or",
  "Xor",
  "BitShift",
  "BitwiseAnd",
  "BitwiseOr",
  "BitwiseXor",
  "Max",
  "Min",
  "Sum",
  "Mean",
  "Where",
]); // deno-fmt-ignore

/** Reductions with `axes` and `keepdims`, and the opset from which `axes` is an input. */
const REDUCE: Record<string, number> = {
  ReduceSum: 13,
  ReduceMean: 18,
  ReduceMax: 18,
  ReduceMin: 18,
  ReduceProd: 18,
  ReduceL1: 18,
  ReduceL2: 18,
  ReduceLogSum: 18,
  ReduceLogSumExp: 18,
  ReduceSumSquare: 18,
};

/** Where each output's run-time dimension is, given the lowered outputs. */
export type RuntimeRule = (outputs: ValueInfo[]) => (RuntimeDim | undefined)[];

/**
 * The rule of a default-domain node that reads a tensor with a run-time dimension, or a
 * one-line rejection (`ctx.fail`) when the operator cannot take it.
 *
 * @example
 * ```ts
 * const rule = runtimeRule(ctx); // throws for, say, Reshape
 * const dims = rule(outputs);    // outputs[k].runtime = dims[k]
 * ```
 */
export function runtimeRule(ctx: NodeContext): RuntimeRule {
  const dyn = ctx.inputs.flatMap((v, i) => (v?.runtime ? [i] : []));
  const first = dyn[0], d = ctx.inputs[first]!.runtime!;
  const reject = (why: string): never =>
    ctx.fail(
      `input '${
        ctx.inputNames[first]
      }' has a run-time length on axis ${d.axis} (docs/IR.md, "Run-time shapes"): ${why}`,
    );
  const all = (pos: number, length = d.length): RuntimeRule => (outs) =>
    outs.map(() => ({ axis: pos, length }));
  const only = (i: number) => {
    if (dyn.some((k) => k !== i)) reject(`${ctx.opType} takes it only as input ${i}`);
  };
  const rank = (i: number) => ctx.inputs[i]!.shape.length;
  const op = ctx.domain === ""
    ? ctx.opType
    : ctx.domain === RUNTIME_DOMAIN
    ? `${RUNTIME_DOMAIN}::${ctx.opType}`
    : "";
  if (POINTWISE.has(op)) return pointwise(ctx, dyn, reject);
  switch (op) {
    case "Gather": {
      const axis = norm(ctx.attrs.int("axis", 0), rank(0));
      const dd = ctx.inputs[0]!.runtime, di = ctx.inputs[1]!.runtime;
      if (dd?.axis === axis) {
        // the kernel gets both lengths (runtimeInputs): indices count from data's length
        if (di && di.axis !== 0) {
          reject("Gather from it by indices with a run-time length on another axis than 0");
        }
        return di ? all(axis, di.length) : (outs) => outs.map(() => undefined);
      }
      if (dd && di) reject("Gather of indices with a run-time length from data with one on another axis");
      if (di) return all(axis + di.axis, di.length);
      return all(dd!.axis < axis ? dd!.axis : dd!.axis + rank(1) - 1);
    }
    case "GatherElements":
      only(1);
      return all(d.axis);
    case "GatherND": {
      only(1);
      const batch = ctx.attrs.int("batch_dims", 0);
      if (d.axis < batch || d.axis === rank(1) - 1) {
        reject("GatherND with it on a batch axis or the index axis");
      }
      return all(d.axis);
    }
    case "NonMaxSuppression":
    case `${RUNTIME_DOMAIN}::NonMaxSuppression`: {
      // boxes [B, N?, 4] and scores [B, C, N?] with one run-time count: the kernel reads it
      const db = ctx.inputs[0]!.runtime, ds = ctx.inputs[1]?.runtime;
      if (dyn.some((k) => k > 1 && k !== 5) || db?.axis !== 1 || ds?.axis !== 2 || db.length !== ds.length) {
        reject("NonMaxSuppression takes only boxes and scores with the same run-time number of boxes");
      }
      return (outs) => outs.map(() => undefined);
    }
    case "RoiAlign": {
      // rois [R?, 4] and batch_indices [R?] with one run-time number: opml.runtime's RoiAlign
      // reads it and pools those rois only (RUNTIME_VARIANT)
      const dr = ctx.inputs[1]?.runtime, dbi = ctx.inputs[2]?.runtime;
      if (ctx.inputs[0]!.runtime || dr?.axis !== 0 || dbi?.axis !== 0 || dr.length !== dbi.length) {
        reject("RoiAlign takes only rois and batch_indices with the same run-time number of rois");
      }
      return all(0, dr!.length);
    }
    case "ScatterElements": {
      // data with it on the scattered axis (indices count from the length), indices and updates
      // with one on axis 0 (their padding rows are not applied): the kernel reads both
      const axis = norm(ctx.attrs.int("axis", 0), rank(0));
      const dd = ctx.inputs[0]!.runtime, di = ctx.inputs[1]!.runtime, du = ctx.inputs[2]!.runtime;
      if (dd && dd.axis !== axis) reject("ScatterElements with it on another axis than the scattered one");
      if ((di || du) && (di?.axis !== 0 || du?.axis !== 0 || di.length !== du.length)) {
        reject("ScatterElements of indices and updates without the same run-time length on axis 0");
      }
      return dd ? all(axis, dd.length) : (outs) => outs.map(() => undefined);
    }
    case "NonZero":
    case "Compress":
    case `${RUNTIME_DOMAIN}::NonZero`:
      // the kernel counts the valid part (data_shapes.ts gives it the length and the output its own)
      if (op !== "Compress") only(0);
      else only(1);
      return (outs) => outs.map(() => undefined);
    case "TopK": {
      only(0);
      // along that axis data_shapes.ts gives the kernel the length (and the outputs theirs)
      const axis = norm(ctx.attrs.int("axis", -1), rank(0));
      return axis === d.axis ? (outs) => outs.map(() => undefined) : all(d.axis);
    }
    case "Split": {
      only(0);
      if (norm(ctx.attrs.int("axis", 0), rank(0)) === d.axis) reject("Split along that axis");
      return all(d.axis);
    }
    case "Expand": {
      // to a known shape with the bound (or 1) on that axis (data_shapes.ts puts the bound in
      // place of a run-time length in the shape)
      only(0);
      const to = ints(ctx, "", 1, 0)!, at = d.axis + to.length - rank(0); // the axis in `to`
      if (at >= 0 && to[at] !== 1 && to[at] !== ctx.inputs[0]!.shape[d.axis]) reject("Expand of that axis");
      return all(Math.max(at, d.axis));
    }
    case "Transpose": {
      const perm = ctx.attrs.ints("perm", [...Array(rank(0)).keys()].reverse());
      return all(perm.indexOf(d.axis));
    }
    case "Unsqueeze":
    case "Squeeze": {
      only(0);
      const axes = ints(ctx, "axes", 1, 13);
      if (op === "Unsqueeze") {
        const out = rank(0) + axes!.length, at = new Set(axes!.map((a) => norm(a, out)));
        const kept = [...Array(out).keys()].filter((k) => !at.has(k));
        return all(kept[d.axis]);
      }
      const shape = ctx.inputs[0]!.shape;
      const at = axes
        ? axes.map((a) => norm(a, shape.length))
        : shape.flatMap((s, k) => (s === 1 ? [k] : []));
      if (at.includes(d.axis)) reject("Squeeze of that axis");
      return all(d.axis - at.filter((a) => a < d.axis).length);
    }
    case "Slice": {
      only(0);
      const prefix = slicedPrefix(ctx);
      if (prefix === null) reject("Slice along that axis (other than x[0:end] with end >= 0)");
      // a prefix x[0:end] along it: compile.ts gives the output the length min(length, its bound)
      return prefix === undefined ? all(d.axis) : (outs) => outs.map(() => undefined);
    }
    case "Concat": {
      const axis = norm(ctx.attrs.int("axis"), rank(0));
      if (axis === d.axis && ctx.inputs.length === 1) return all(d.axis); // torch.cat of one tensor
      if (axis === d.axis) reject("Concat along that axis");
      const same = ctx.inputs.every((v) => v?.runtime?.axis === d.axis && v.runtime.length === d.length);
      if (!same) reject("Concat with inputs without the same run-time length");
      return all(d.axis);
    }
    case "ArgMax":
    case "ArgMin": {
      const axis = norm(ctx.attrs.int("axis", 0), rank(0));
      if (axis === d.axis) reject(`${op} along that axis`);
      return all(ctx.attrs.int("keepdims", 1) || axis > d.axis ? d.axis : d.axis - 1);
    }
    case "Softmax":
    case "LogSoftmax":
    case "Hardmax": {
      const axis = norm(ctx.attrs.int("axis", ctx.opset < 13 ? 1 : -1), rank(0));
      if (ctx.opset < 13 ? d.axis >= axis : d.axis === axis) reject(`${op} over that axis`);
      return all(d.axis);
    }
    case "Gemm": {
      // A's rows (axis 0, or 1 transposed) at run time: the output's rows; C must broadcast
      only(0);
      const rows = ctx.attrs.int("transA", 0) ? 1 : 0, c = ctx.inputs[2];
      if (d.axis !== rows) reject("Gemm over that axis");
      if (c && c.shape.length === 2 && c.shape[0] !== 1) reject("Gemm with a C of more than one row");
      return all(0);
    }
    case "MatMul": {
      only(0);
      const ra = rank(0), rb = rank(1);
      if (ra < 2 || d.axis === ra - 1) reject("MatMul over that axis");
      const fromEnd = ra - d.axis; // 2: A's rows; more: a batch axis, which B must broadcast
      if (fromEnd > 2 && fromEnd <= rb && ctx.inputs[1]!.shape[rb - fromEnd] !== 1) {
        reject("MatMul with a batch axis of B that is not 1");
      }
      return (outs) => outs.map((o) => ({ axis: o.shape.length - fromEnd, length: d.length }));
    }
  }
  if (op in REDUCE) {
    only(0);
    const at = reducedAxes(ctx);
    if (at.includes(d.axis)) reject(`${op} over that axis`);
    return all(ctx.attrs.int("keepdims", 1) ? d.axis : d.axis - at.filter((a) => a < d.axis).length);
  }
  return reject(`${ctx.domain ? `${ctx.domain}::` : ""}${ctx.opType} cannot take a run-time length`);
}

/**
 * Operators that, reading a run-time length as an extra input ({@link runtimeInputs}), are
 * lowered as the opml.runtime operator of that name (the ONNX operator has no such input).
 */
export const RUNTIME_VARIANT: ReadonlySet<string> = new Set(["RoiAlign", "ScatterElements"]);

/**
 * The run-time lengths a node's kernel reads as extra inputs: Gather from data with a run-time
 * length on the gathered axis gets that length and the indices' one (or ""); NonMaxSuppression
 * the boxes' run-time number (as input 5); RoiAlign the rois' (as input 3).
 *
 * @example
 * ```ts
 * const extra = runtimeInputs(ctx); // appended to the node's inputs before it is lowered
 * ```
 */
export function runtimeInputs(ctx: NodeContext): string[] {
  if (ctx.domain === "" && ctx.opType === "RoiAlign") return [ctx.inputs[1]!.runtime!.length];
  if (ctx.domain === "" && ctx.opType === "ScatterElements") {
    return [ctx.inputs[0]!.runtime?.length ?? "", ctx.inputs[1]!.runtime?.length ?? ""];
  }
  if (ctx.domain === "" && ctx.opType === "NonMaxSuppression") {
    const absent = Array(Math.max(0, 5 - ctx.inputNames.length)).fill("");
    return [...absent, ctx.inputs[0]!.runtime!.length];
  }
  if (ctx.domain !== "" || ctx.opType !== "Gather") return [];
  const dd = ctx.inputs[0]?.runtime, di = ctx.inputs[1]?.runtime;
  const axis = norm(ctx.attrs.int("axis", 0), ctx.inputs[0]!.shape.length);
  return dd?.axis === axis ? [dd.length, di?.length ?? ""] : [];
}

/**
 * A Slice of a tensor with a run-time length: undefined when it leaves that axis alone, the
 * slice's end when it takes a prefix x[0:end] of it (end >= 0, step 1: the valid part stays a
 * prefix), null otherwise (a start or a negative end would count from the length).
 *
 * @example
 * ```ts
 * const end = slicedPrefix(ctx); // keep[:post_nms_top_n]: 1000
 * ```
 */
export function slicedPrefix(ctx: NodeContext): number | null | undefined {
  const x = ctx.inputs[0]!, d = x.runtime!, r = x.shape.length;
  const old = ctx.opset < 10;
  const starts = old ? ctx.attrs.ints("starts") : ints(ctx, "", 1, 0)!;
  const ends = old ? ctx.attrs.ints("ends") : ints(ctx, "", 2, 0)!;
  const axes = (old ? ctx.attrs.ints("axes", []) : ints(ctx, "", 3, 0) ?? []).map((a) => norm(a, r));
  const steps = old ? [] : ints(ctx, "", 4, 0) ?? [];
  const k = (axes.length ? axes : [...starts.keys()]).indexOf(d.axis);
  if (k < 0) return undefined;
  return starts[k] === 0 && (steps[k] ?? 1) === 1 && ends[k] >= 0 ? ends[k] : null;
}

/**
 * The axis of a Concat of several inputs along their run-time axis (all with the run-time
 * length on it, or a fixed dim there: data_shapes.ts packs their valid parts), else undefined.
 *
 * @example
 * ```ts
 * const axis = concatAxis(ctx); // torch.cat of per-class lists: 0
 * ```
 */
export function concatAxis(ctx: NodeContext): number | undefined {
  if (ctx.domain !== "" || ctx.opType !== "Concat" || ctx.inputs.length < 2) return undefined;
  const d = ctx.inputs.find((v) => v?.runtime)?.runtime;
  if (!d || norm(ctx.attrs.int("axis"), ctx.inputs[0]!.shape.length) !== d.axis) return undefined;
  return ctx.inputs.every((v) => v && (!v.runtime || v.runtime.axis === d.axis)) ? d.axis : undefined;
}

/** The axes a Reduce* node reduces (none for a no-op). */
function reducedAxes(ctx: NodeContext): number[] {
  const r = ctx.inputs[0]!.shape.length, from = REDUCE[ctx.opType];
  const axes = ints(ctx, "axes", 1, from) ?? [];
  if (axes.length === 0 && ctx.opset >= from && ctx.attrs.int("noop_with_empty_axes", 0) === 1) return [];
  return axes.length ? axes.map((a) => norm(a, r)) : [...Array(r).keys()];
}

/**
 * The value that stands for the padding of a reduction over the run-time axis, so that the
 * reduction over the whole bound is the reduction over the valid part (docs/IR.md): 0 for sums
 * (x + 0 = x exactly, the sum starting from +0), 1 for ReduceProd, -inf/+inf (or the integer
 * type's extreme) for ReduceMax/Min; undefined when the node does not reduce over it or has no
 * such value (ReduceMean, ReduceLogSumExp, other types).
 *
 * @example
 * ```ts
 * const fill = reductionPadding(ctx); // ReduceMax of float: -Infinity
 * ```
 */
export function reductionPadding(ctx: NodeContext): number | bigint | undefined {
  const x = ctx.inputs[0], d = x?.runtime;
  if (ctx.domain !== "" || !(ctx.opType in REDUCE) || !d || !reducedAxes(ctx).includes(d.axis)) {
    return undefined;
  }
  if (ctx.inputs.slice(1).some((v) => v?.runtime)) return undefined;
  const float = x.dtype === DType.float32 || x.dtype === DType.float64;
  const extreme: Record<number, [bigint, bigint]> = {
    [DType.int32]: [-(2n ** 31n), 2n ** 31n - 1n],
    [DType.int64]: [-(2n ** 63n), 2n ** 63n - 1n],
  };
  if (!float && !extreme[x.dtype]) return undefined;
  const num = (v: number) => (float ? v : BigInt(v));
  switch (ctx.opType) {
    case "ReduceSum":
    case "ReduceSumSquare":
    case "ReduceL1":
    case "ReduceL2":
    case "ReduceLogSum":
      return num(0);
    case "ReduceProd":
      return num(1);
    case "ReduceMax":
      return float ? -Infinity : extreme[x.dtype][0];
    case "ReduceMin":
      return float ? Infinity : extreme[x.dtype][1];
  }
  return undefined;
}

/** Broadcasting: every input with a run-time length has the same one at the same output axis. */
function pointwise(ctx: NodeContext, dyn: number[], reject: (why: string) => never): RuntimeRule {
  const ranks = ctx.inputs.map((v) => v?.shape.length ?? 0);
  const r = Math.max(...ranks);
  const d = ctx.inputs[dyn[0]]!.runtime!, pos = r - ranks[dyn[0]] + d.axis;
  ctx.inputs.forEach((v, i) => {
    if (!v) return;
    const at = pos - (r - ranks[i]);
    if (v.runtime) {
      if (at !== v.runtime.axis || v.runtime.length !== d.length) reject("it meets another run-time length");
    } else if (at >= 0 && v.shape[at] !== 1) {
      reject(`it meets a fixed dimension of ${v.shape[at]} in input '${ctx.inputNames[i]}'`);
    }
  });
  const bound = ctx.inputs[dyn[0]]!.shape[d.axis];
  return (outs) =>
    outs.map((o) => (o.shape[pos] === bound ? { axis: pos, length: d.length } : reject("it is broadcast")));
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** An ints attribute (before opset `from`) or a known int input (from it on); undefined when absent. */
function ints(ctx: NodeContext, attr: string, input: number, from: number): number[] | undefined {
  if (ctx.opset < from) return ctx.attrs.has(attr) ? ctx.attrs.ints(attr) : undefined;
  const v = ctx.inputs[input];
  if (!v) return undefined;
  if (!v.value) return ctx.fail(`input '${ctx.inputNames[input]}' must be known at compile time`);
  return Array.from(v.value.data as ArrayLike<number | bigint>, Number);
}
