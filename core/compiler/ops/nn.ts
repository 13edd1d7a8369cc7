/**
 * The nn operators (op codes 100-199, docs/IR.md): MatMul, Gemm, Conv, MaxPool, AveragePool,
 * GlobalAveragePool, BatchNormalization, LayerNormalization, Softmax, LogSoftmax and ReduceMean.
 * Lowering checks dtypes and attributes, infers output shapes and resolves every ONNX default
 * (auto_pad, implicit strides, opset-dependent axis semantics) into the flat int/float layouts
 * documented on {@link NN_OPS}, so the kernels in core/kernels/nn.c never see ONNX defaults.
 *
 * Nothing here folds at compile time: these are float computations and stay kernel calls.
 * @module
 */
import { type OpCodes, opCodes } from "./schema.ts";
import { LINALG_OPS } from "./linalg.ts";
import { DType, dtypeName, shapeSize } from "../../ir/types.ts";
import type { Lowered, NodeContext, OpDef, ValueInfo } from "./types.ts";

/** Op codes of the nn kernels, from the operator schema (schema.ts documents each attribute layout). */
export const NN_OPS: OpCodes<"nn"> = opCodes("nn");

// ---------------------------------------------------------------------------------------------
// helpers

/** A required float32 input. */
function floatInput(ctx: NodeContext, i: number, what: string): ValueInfo {
  const v = ctx.inputs[i];
  if (!v) return ctx.fail(`input ${i} (${what}) is required`);
  if (v.dtype !== DType.float32) {
    ctx.fail(`input ${what} has type ${dtypeName(v.dtype)}; only float is supported`);
  }
  return v;
}

/** An optional float32 input. */
function optFloatInput(ctx: NodeContext, i: number, what: string): ValueInfo | undefined {
  return ctx.inputs[i] ? floatInput(ctx, i, what) : undefined;
}

/** An axis in [-rank, rank) normalised to [0, rank). */
export function normAxis(ctx: NodeContext, axis: number, rank: number, what = "axis"): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    ctx.fail(`${what} ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Fails when the node declares more outputs than `max`. */
function maxOutputs(ctx: NodeContext, max: number, why: string): void {
  if (ctx.outputCount > max) ctx.fail(`${ctx.outputCount} outputs: ${why}`);
}

/** Row-major element strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

/** Pads a per-spatial-axis list in front to three axes (the kernels' 3-D normal form). */
export function to3(values: number[], fill: number): number[] {
  return [...new Array<number>(3 - values.length).fill(fill), ...values];
}

// ---------------------------------------------------------------------------------------------
// MatMul and Gemm

function lowerMatMul(ctx: NodeContext): Lowered {
  // double: the Einsum kernel over the labels [batch..., m, n, k] (k innermost, in order)
  const dbl = ctx.inputs[0]?.dtype === DType.float64 && ctx.inputs[1]?.dtype === DType.float64;
  const a = dbl ? ctx.inputs[0]! : floatInput(ctx, 0, "A"),
    b = dbl ? ctx.inputs[1]! : floatInput(ctx, 1, "B");
  if (a.shape.length === 0 || b.shape.length === 0) ctx.fail("scalar operands are not allowed");
  const aS = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bS = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const M = aS[aS.length - 2], K = aS[aS.length - 1], N = bS[bS.length - 1];
  if (bS[bS.length - 2] !== K) {
    ctx.fail(`inner dimensions differ: A [${a.shape}] and B [${b.shape}]`);
  }
  const nb = Math.max(aS.length, bS.length) - 2;
  const aB = [...new Array<number>(nb - (aS.length - 2)).fill(1), ...aS.slice(0, -2)];
  const bB = [...new Array<number>(nb - (bS.length - 2)).fill(1), ...bS.slice(0, -2)];
  const outB = aB.map((d, i) => {
    const e = bB[i];
    if (d !== e && d !== 1 && e !== 1) {
      ctx.fail(`batch dimensions of A [${a.shape}] and B [${b.shape}] do not broadcast`);
    }
    return d === 1 ? e : d;
  });
  const aStr = stridesOf(aB).map((s, i) => (aB[i] === 1 ? 0 : s * M * K));
  const bStr = stridesOf(bB).map((s, i) => (bB[i] === 1 ? 0 : s * K * N));
  const shape = [...outB, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  if (dbl) {
    return {
      op: LINALG_OPS.Einsum,
      ints: [
        2,
        nb + 3,
        ...outB,
        M,
        N,
        K,
        ...stridesOf([...outB, M, N]),
        0,
        ...aStr,
        K,
        0,
        1,
        ...bStr,
        0,
        1,
        N,
      ],
      outputs: [{ dtype: DType.float64, shape }],
    };
  }
  // Batch axes of size 1 do nothing; when B is shared by every batch and A's batches are
  // contiguous, the batches are just more rows of one product.
  const keep = outB.map((_, i) => i).filter((i) => outB[i] !== 1);
  let dims = keep.map((i) => outB[i]), as = keep.map((i) => aStr[i]), bs = keep.map((i) => bStr[i]);
  let rows = M;
  if (bs.every((s) => s === 0) && as.every((s, i) => s === M * K * shapeSize(dims.slice(i + 1)))) {
    rows = M * shapeSize(dims);
    dims = [], as = [], bs = [];
  }
  return {
    op: NN_OPS.MatMul,
    ints: [rows, N, K, dims.length, ...dims, ...as, ...bs],
    outputs: [{ dtype: DType.float32, shape }],
  };
}

function lowerGemm(ctx: NodeContext): Lowered {
  const a = floatInput(ctx, 0, "A"), b = floatInput(ctx, 1, "B");
  const c = optFloatInput(ctx, 2, "C");
  if (a.shape.length !== 2 || b.shape.length !== 2) ctx.fail(`A [${a.shape}] and B [${b.shape}] must be 2-D`);
  const transA = ctx.attrs.int("transA", 0) ? 1 : 0, transB = ctx.attrs.int("transB", 0) ? 1 : 0;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (K !== Kb) {
    ctx.fail(
      `inner dimensions differ: A [${a.shape}] (transA=${transA}) and B [${b.shape}] (transB=${transB})`,
    );
  }
  let cRs = 0, cCs = 0;
  if (c) {
    if (c.shape.length > 2) ctx.fail(`C [${c.shape}] has rank > 2`);
    const [cr, cc] = to3(c.shape, 1).slice(1);
    if ((cr !== 1 && cr !== M) || (cc !== 1 && cc !== N)) {
      ctx.fail(`C [${c.shape}] does not broadcast to [${M}, ${N}]`);
    }
    cRs = cr !== 1 ? cc : 0;
    cCs = cc !== 1 ? 1 : 0;
  }
  return {
    op: NN_OPS.Gemm,
    ints: [M, N, K, transA, transB, cRs, cCs],
    floats: [ctx.attrs.float("alpha", 1), ctx.attrs.float("beta", 1)],
    outputs: [{ dtype: DType.float32, shape: [M, N] }],
  };
}

// ---------------------------------------------------------------------------------------------
// Conv and pooling: spatial geometry

interface Geometry {
  out: number[];
  padBegin: number[];
  padEnd: number[];
}

/** Output sizes and explicit pads per spatial axis, with `auto_pad` resolved. */
export function geometry(
  ctx: NodeContext,
  inSizes: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  ceilMode: boolean,
): Geometry {
  const S = inSizes.length;
  const autoPad = ctx.attrs.string("auto_pad", "NOTSET");
  const pads = ctx.attrs.ints("pads", new Array<number>(2 * S).fill(0));
  if (pads.length !== 2 * S) ctx.fail(`pads has ${pads.length} values, expected ${2 * S}`);
  if (pads.some((p) => p < 0)) ctx.fail(`negative pads [${pads}] are not supported`);
  for (
    const [name, v] of [["kernel_shape", kernel], ["strides", strides], ["dilations", dilations]] as const
  ) {
    if (v.length !== S) ctx.fail(`${name} has ${v.length} values, expected ${S}`);
    if (v.some((x) => !Number.isInteger(x) || x < 1)) ctx.fail(`${name} [${v}] must be positive`);
  }
  const out: number[] = [], padBegin: number[] = [], padEnd: number[] = [];
  for (let i = 0; i < S; i++) {
    const n = inSizes[i], k = kernel[i], s = strides[i], d = dilations[i];
    const span = (k - 1) * d + 1;
    let o: number, pb: number, pe: number;
    switch (autoPad) {
      case "NOTSET":
      case "VALID": {
        [pb, pe] = autoPad === "VALID" ? [0, 0] : [pads[i], pads[i + S]];
        const room = n + pb + pe - span;
        o = (ceilMode ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
        // a last window that would start in the trailing padding is dropped (ONNX, PyTorch)
        if (ceilMode && (o - 1) * s >= n + pb) o--;
        break;
      }
      case "SAME_UPPER":
      case "SAME_LOWER": {
        o = Math.ceil(n / s);
        const total = Math.max(0, (o - 1) * s + span - n);
        pb = autoPad === "SAME_UPPER" ? Math.floor(total / 2) : Math.ceil(total / 2);
        pe = total - pb;
        break;
      }
      default:
        return ctx.fail(`auto_pad '${autoPad}' is not supported`);
    }
    if (o < 1) {
      ctx.fail(`spatial axis ${i}: input ${n} is smaller than the window ${span} (pads ${pb}+${pe})`);
    }
    out.push(o), padBegin.push(pb), padEnd.push(pe);
  }
  return { out, padBegin, padEnd };
}

/**
 * Conv's checks and normalised ints (the 3-D layout of schema.ts) for X and W of any dtype;
 * ConvInteger shares them.
 *
 * @example
 * ```ts
 * const { ints, shape } = convLayout(ctx, x, w); // shape [N, OC, ...spatial]
 * ```
 */
export function convLayout(
  ctx: NodeContext,
  x: ValueInfo,
  w: ValueInfo,
): { ints: number[]; shape: number[] } {
  const rank = x.shape.length, S = rank - 2;
  if (S < 1 || S > 3) ctx.fail(`X [${x.shape}]: only 1-D, 2-D and 3-D convolutions are supported`);
  if (w.shape.length !== rank) ctx.fail(`W [${w.shape}] must have the rank of X [${x.shape}]`);
  const [N, C] = x.shape, OC = w.shape[0];
  const group = ctx.attrs.int("group", 1);
  if (group < 1 || C % group !== 0 || OC % group !== 0 || w.shape[1] * group !== C) {
    ctx.fail(`group ${group} does not fit X [${x.shape}] and W [${w.shape}]`);
  }
  const kernel = ctx.attrs.ints("kernel_shape", w.shape.slice(2));
  if (kernel.join() !== w.shape.slice(2).join()) {
    ctx.fail(`kernel_shape [${kernel}] differs from W [${w.shape}]`);
  }
  const strides = ctx.attrs.ints("strides", new Array<number>(S).fill(1));
  const dilations = ctx.attrs.ints("dilations", new Array<number>(S).fill(1));
  const g = geometry(ctx, x.shape.slice(2), kernel, strides, dilations, false);
  return {
    ints: [
      N,
      C,
      OC,
      group,
      ...to3(x.shape.slice(2), 1),
      ...to3(g.out, 1),
      ...to3(kernel, 1),
      ...to3(strides, 1),
      ...to3(dilations, 1),
      ...to3(g.padBegin, 0),
    ],
    shape: [N, OC, ...g.out],
  };
}

function lowerConv(ctx: NodeContext): Lowered {
  const x = floatInput(ctx, 0, "X"), w = floatInput(ctx, 1, "W");
  const bias = optFloatInput(ctx, 2, "B");
  const { ints, shape } = convLayout(ctx, x, w);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== shape[1])) {
    ctx.fail(`B [${bias.shape}] must be [${shape[1]}]`);
  }
  return { op: NN_OPS.Conv, ints, outputs: [{ dtype: DType.float32, shape }] };
}

export function lowerPool(ctx: NodeContext, max: boolean): Lowered {
  const x = ctx.inputs[0];
  if (!x) return ctx.fail("input 0 (X) is required");
  const okTypes: number[] = max ? [DType.float32, DType.uint8, DType.int8] : [DType.float32];
  if (!okTypes.includes(x.dtype)) {
    ctx.fail(`input X has type ${dtypeName(x.dtype)}; supported: ${okTypes.map(dtypeName).join(", ")}`);
  }
  const rank = x.shape.length, S = rank - 2;
  if (S < 1 || S > 3) ctx.fail(`X [${x.shape}]: only 1-D, 2-D and 3-D pooling is supported`);
  const kernel = ctx.attrs.ints("kernel_shape");
  const strides = ctx.attrs.ints("strides", new Array<number>(S).fill(1));
  const dilations = ctx.attrs.ints("dilations", new Array<number>(S).fill(1));
  const ceil = ctx.attrs.int("ceil_mode", 0) !== 0;
  const g = geometry(ctx, x.shape.slice(2), kernel, strides, dilations, ceil);
  const shape = [x.shape[0], x.shape[1], ...g.out];
  let flag: number;
  const outputs = [{ dtype: x.dtype, shape }];
  if (max) {
    maxOutputs(ctx, 2, "MaxPool has outputs Y and Indices");
    flag = ctx.attrs.int("storage_order", 0);
    if (flag !== 0 && flag !== 1) ctx.fail(`storage_order ${flag} must be 0 or 1`);
    if (ctx.outputCount > 1) outputs.push({ dtype: DType.int64, shape });
  } else {
    flag = ctx.attrs.int("count_include_pad", 0) ? 1 : 0;
  }
  return {
    op: max ? NN_OPS.MaxPool : NN_OPS.AveragePool,
    ints: [
      x.shape[0] * x.shape[1],
      ...to3(x.shape.slice(2), 1),
      ...to3(g.out, 1),
      ...to3(kernel, 1),
      ...to3(strides, 1),
      ...to3(dilations, 1),
      ...to3(g.padBegin, 0),
      ...to3(g.padEnd, 0),
      flag,
    ],
    outputs,
  };
}

// ---------------------------------------------------------------------------------------------
// reductions and normalisations

/** ReduceMean's ints for a shape and the set of reduced axes (size-1 axes dropped, runs merged). */
export function reduceInts(shape: number[], reduced: Set<number>): number[] {
  const dims: number[] = [], red: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const r = reduced.has(i) ? 1 : 0;
    if (red.length && red[red.length - 1] === r) dims[dims.length - 1] *= d;
    else dims.push(d), red.push(r);
  });
  if (dims.length === 0) dims.push(1), red.push(0);
  return [dims.length, ...dims, ...red];
}

/**
 * A reduction's axes (from the `axes` input, a compile-time constant, from opset `inputFrom`; else
 * the attribute), `keepdims` and `noop_with_empty_axes`: the reduced axes and the output shape.
 */
export function reductionAxes(
  ctx: NodeContext,
  x: ValueInfo,
  inputFrom: number,
): { reduced: Set<number>; shape: number[] } {
  const rank = x.shape.length;
  let axes: number[];
  if (ctx.opset >= inputFrom) {
    const a = ctx.inputs[1];
    if (a && !a.value) ctx.fail("input 'axes' must be known at compile time");
    if (a && a.dtype !== DType.int64) ctx.fail(`input 'axes' has type ${dtypeName(a.dtype)}, expected int64`);
    axes = a ? Array.from(a.value!.data as BigInt64Array, Number) : [];
  } else {
    axes = ctx.attrs.ints("axes", []);
  }
  const keepdims = ctx.attrs.int("keepdims", 1) !== 0;
  const noop = ctx.attrs.int("noop_with_empty_axes", 0) !== 0;
  let reduced: Set<number>;
  if (axes.length === 0) {
    reduced = noop ? new Set() : new Set(x.shape.map((_, i) => i));
  } else {
    reduced = new Set(axes.map((a) => normAxis(ctx, a, rank, "axes entry")));
    if (reduced.size !== axes.length) ctx.fail(`axes [${axes}] has duplicates`);
  }
  const shape = x.shape.flatMap((d, i) => (reduced.has(i) ? (keepdims ? [1] : []) : [d]));
  return { reduced, shape };
}

function lowerReduceMean(ctx: NodeContext): Lowered {
  const x = floatInput(ctx, 0, "data");
  const { reduced, shape } = reductionAxes(ctx, x, 18);
  return {
    op: NN_OPS.ReduceMean,
    ints: reduceInts(x.shape, reduced),
    outputs: [{ dtype: DType.float32, shape }],
    keepInputs: [0],
  };
}

function lowerGlobalAveragePool(ctx: NodeContext): Lowered {
  const x = floatInput(ctx, 0, "X");
  if (x.shape.length < 3) ctx.fail(`X [${x.shape}] must have spatial axes`);
  const spatial = new Set(x.shape.map((_, i) => i).filter((i) => i >= 2));
  return {
    op: NN_OPS.GlobalAveragePool,
    ints: reduceInts(x.shape, spatial),
    outputs: [{ dtype: DType.float32, shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }],
  };
}

function lowerSoftmax(ctx: NodeContext, log: boolean): Lowered {
  const x = ctx.inputs[0]?.dtype === DType.float64 ? ctx.inputs[0] : floatInput(ctx, 0, "input");
  const rank = x.shape.length;
  if (rank === 0) ctx.fail("the input must have rank >= 1");
  // before opset 13 the input is coerced to 2-D at `axis`; from 13 on, one axis
  const modern = ctx.opset >= 13;
  const axis = normAxis(ctx, ctx.attrs.int("axis", modern ? -1 : 1), rank);
  const outer = shapeSize(x.shape.slice(0, axis));
  const [D, inner] = modern
    ? [x.shape[axis], shapeSize(x.shape.slice(axis + 1))]
    : [shapeSize(x.shape.slice(axis)), 1];
  return {
    op: log ? NN_OPS.LogSoftmax : NN_OPS.Softmax,
    ints: [outer, D, inner],
    outputs: [{ dtype: x.dtype, shape: [...x.shape] }],
  };
}

function lowerBatchNorm(ctx: NodeContext): Lowered {
  const x = floatInput(ctx, 0, "X");
  const names = ["scale", "B", "input_mean", "input_var"];
  if (x.shape.length < 2) ctx.fail(`X [${x.shape}] must have rank >= 2`);
  const C = x.shape[1];
  names.forEach((n, i) => {
    const v = floatInput(ctx, i + 1, n);
    if (v.shape.length !== 1 || v.shape[0] !== C) ctx.fail(`${n} [${v.shape}] must be [${C}]`);
  });
  if (ctx.attrs.int("spatial", 1) !== 1) ctx.fail("spatial=0 (per-activation statistics) is not supported");
  let training = 0;
  if (ctx.opset >= 14) {
    training = ctx.attrs.int("training_mode", 0) ? 1 : 0;
    maxOutputs(
      ctx,
      training ? 3 : 1,
      training ? "training mode has at most 3" : "running_mean/running_var need training_mode=1",
    );
  } else {
    maxOutputs(
      ctx,
      1,
      `training-mode outputs (mean, var, saved_mean, saved_var) are not supported at opset ${ctx.opset}`,
    );
    if (ctx.opset < 7 && ctx.attrs.int("is_test", 0) === 0) ctx.fail("is_test=0 (training) is not supported");
  }
  const outputs = [{ dtype: DType.float32, shape: [...x.shape] }];
  for (let i = 1; i < ctx.outputCount; i++) outputs.push({ dtype: DType.float32, shape: [C] });
  return {
    op: NN_OPS.BatchNormalization,
    ints: [x.shape[0], C, shapeSize(x.shape.slice(2)), training],
    floats: [ctx.attrs.float("epsilon", 1e-5), ctx.attrs.float("momentum", 0.9)],
    outputs,
  };
}

function lowerLayerNorm(ctx: NodeContext): Lowered {
  const x = floatInput(ctx, 0, "X");
  const rank = x.shape.length;
  if (rank === 0) ctx.fail("X must have rank >= 1");
  const axis = normAxis(ctx, ctx.attrs.int("axis", -1), rank);
  const stash = ctx.attrs.int("stash_type", 1);
  if (stash !== DType.float32) ctx.fail(`stash_type ${dtypeName(stash)} is not supported (only float)`);
  maxOutputs(ctx, 3, "LayerNormalization has outputs Y, Mean and InvStdDev");
  const norm = x.shape.slice(axis), N = shapeSize(norm);
  // scale and bias must cover the normalised axes (leading 1s allowed), not broadcast inside them
  for (const [i, name] of [[1, "Scale"], [2, "B"]] as const) {
    const v = i === 1 ? floatInput(ctx, i, name) : optFloatInput(ctx, i, name);
    if (!v) continue;
    const s = v.shape;
    const k = s.findIndex((d) => d !== 1);
    const core = k < 0 ? [] : s.slice(k);
    const ok = s.length <= norm.length && shapeSize(s) === N &&
      core.join() === norm.slice(norm.length - core.length).join();
    if (!ok) {
      ctx.fail(
        `${name} [${s}] must have the normalised shape [${norm}] (broadcasting inside it is not supported)`,
      );
    }
  }
  const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
  const outputs = [{ dtype: DType.float32, shape: [...x.shape] }];
  for (let i = 1; i < ctx.outputCount; i++) outputs.push({ dtype: DType.float32, shape: statShape });
  return {
    op: NN_OPS.LayerNormalization,
    ints: [shapeSize(x.shape.slice(0, axis)), N],
    floats: [ctx.attrs.float("epsilon", 1e-5)],
    outputs,
  };
}

/** Every nn operator. */
export const OPS: readonly OpDef[] = [
  { opType: "MatMul", lower: lowerMatMul },
  { opType: "Gemm", lower: lowerGemm },
  { opType: "Conv", lower: lowerConv },
  { opType: "MaxPool", lower: (ctx) => lowerPool(ctx, true) },
  { opType: "AveragePool", lower: (ctx) => lowerPool(ctx, false) },
  { opType: "GlobalAveragePool", lower: lowerGlobalAveragePool },
  { opType: "BatchNormalization", lower: lowerBatchNorm },
  { opType: "LayerNormalization", lower: lowerLayerNorm },
  { opType: "Softmax", lower: (ctx) => lowerSoftmax(ctx, false) },
  { opType: "LogSoftmax", lower: (ctx) => lowerSoftmax(ctx, true) },
  { opType: "ReduceMean", lower: lowerReduceMean },
];
