/**
 * The data-movement operators (op codes 200-299, docs/IR.md): Identity, Reshape, Flatten,
 * Squeeze, Unsqueeze, Transpose, Concat, Gather, Slice, Split, Pad, Expand, Shape, Size and
 * ConstantOfShape, BitCast, ai.onnx.ml's ArrayFeatureExtractor (a Gather), OptionalGetElement and
 * OptionalHasElement on plain tensors. Their kernels (core/kernels/movement.c) copy elements as bytes, so every
 * fixed-size dtype works. Shape-determining inputs (Reshape's shape, Slice's starts, Pad's pads,
 * ...) must be known at compile time and are dropped from the kernel call.
 *
 * Each op's `fold` runs `executeMovement` (movement_exec.ts), a TypeScript model of the C kernel
 * on the same normalised attributes, so folded values are exactly what the kernel would produce.
 * @module
 */
import { DType, dtypeName, dtypeSize, shapeSize, SMALL_FLOATS, type TensorValue } from "../../ir/types.ts";
import type { Lowered, NodeContext, OpDef, ValueInfo } from "./types.ts";
import { elementBits, executeMovement, MOVEMENT_OPS, PAD_MODES, stridesOf } from "./movement_exec.ts";

export { executeMovement, MOVEMENT_OPS } from "./movement_exec.ts";

// ---------------------------------------------------------------------------------------------
// helpers

function input(ctx: NodeContext, i: number): ValueInfo {
  const v = ctx.inputs[i];
  if (!v) ctx.fail(`input ${i} is required`);
  return v;
}

/** Bytes per element of a dtype this family can move; fails for string, float16, ... */
function elemSize(ctx: NodeContext, dtype: number): number {
  try {
    return dtypeSize(dtype);
  } catch {
    return ctx.fail(`dtype ${dtypeName(dtype)} is not supported`);
  }
}

/** A compile-time integer input (int32/int64) as numbers, or undefined when absent. */
export function constInts(ctx: NodeContext, i: number, what: string): number[] | undefined {
  const v = ctx.inputs[i];
  if (!v) return undefined;
  if (v.dtype !== DType.int64 && v.dtype !== DType.int32) {
    ctx.fail(`input '${what}' must be int64 or int32, got ${dtypeName(v.dtype)}`);
  }
  if (!v.value) ctx.fail(`input '${what}' must be known at compile time`);
  return Array.from(v.value.data as ArrayLike<number | bigint>, Number);
}

/** An axis in [-rank, rank) normalised to [0, rank). */
function normAxis(ctx: NodeContext, axis: number, rank: number, what = "axis"): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    ctx.fail(`${what} ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalised, duplicate-free axes. */
function normAxes(ctx: NodeContext, axes: number[], rank: number, what = "axes"): number[] {
  const out = axes.map((a) => normAxis(ctx, a, rank, what));
  if (new Set(out).size !== out.length) ctx.fail(`${what} [${axes.join(", ")}] has duplicates`);
  return out;
}

/** The bits of a scalar float (attribute) as an element of `dtype`. */
function scalarBits(ctx: NodeContext, value: number, dtype: number): bigint {
  if (dtype === DType.float32) return BigInt(new Uint32Array(new Float32Array([value]).buffer)[0]);
  if (dtype === DType.float64) return new BigUint64Array(new Float64Array([value]).buffer)[0];
  if (dtype === DType.bool) return value ? 1n : 0n;
  if (SMALL_FLOATS.has(dtype)) {
    if (value !== 0 || Object.is(value, -0)) {
      ctx.fail(`a fill value ${value} for ${dtypeName(dtype)} data is not supported`);
    }
    return 0n;
  }
  if (!Number.isInteger(value)) ctx.fail(`value ${value} is not an integer for ${dtypeName(dtype)} data`);
  return BigInt.asUintN(dtypeSize(dtype) * 8, BigInt(value));
}

/** Makes an OpDef whose fold runs the kernel model on its own lowering. */
function op(opType: string, lower: (ctx: NodeContext) => Lowered): OpDef {
  return {
    opType,
    lower,
    fold: (ctx, inputs) => executeMovement(ctx, lower(ctx), inputs),
  };
}

/** A byte copy to a new shape (same element count). */
function copyTo(ctx: NodeContext, x: ValueInfo, shape: number[]): Lowered {
  if (shapeSize(shape) !== shapeSize(x.shape)) {
    ctx.fail(`cannot reshape [${x.shape.join(", ")}] to [${shape.join(", ")}]`);
  }
  return { op: MOVEMENT_OPS.Copy, outputs: [{ dtype: x.dtype, shape }], keepInputs: [0] };
}

// ---------------------------------------------------------------------------------------------
// the operators

/** Identity: a byte copy. */
const identity = op("Identity", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  return copyTo(ctx, x, [...x.shape]);
});

/**
 * Reshape (shape attribute before opset 5, input after; `allowzero` from opset 14): 0 copies
 * the input's dim (or is a real 0 with allowzero), -1 is inferred. Lowers to Copy.
 */
const reshape = op("Reshape", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const spec = ctx.opset < 5 ? ctx.attrs.ints("shape") : constInts(ctx, 1, "shape");
  if (!spec) return ctx.fail("input 'shape' is required");
  const allowzero = ctx.opset >= 14 ? ctx.attrs.int("allowzero", 0) : 0;
  if (allowzero && spec.includes(0) && spec.includes(-1)) {
    ctx.fail("shape cannot hold both 0 and -1 when allowzero is set");
  }
  let infer = -1;
  const shape = spec.map((d, i) => {
    if (d === -1) {
      if (infer >= 0) ctx.fail(`shape [${spec.join(", ")}] has more than one -1`);
      infer = i;
      return 1;
    }
    if (d === 0 && !allowzero) {
      if (i >= x.shape.length) ctx.fail(`shape [${spec.join(", ")}] copies dim ${i} the input lacks`);
      return x.shape[i];
    }
    if (d < 0) ctx.fail(`shape [${spec.join(", ")}] has a negative dim`);
    return d;
  });
  if (infer >= 0) {
    const known = shapeSize(shape), total = shapeSize(x.shape);
    if (known === 0 || total % known !== 0) {
      ctx.fail(`cannot infer the -1 of shape [${spec.join(", ")}] for input [${x.shape.join(", ")}]`);
    }
    shape[infer] = total / known;
  }
  return copyTo(ctx, x, shape);
});

/** Flatten: [d_0*..*d_{axis-1}, d_axis*..*d_{r-1}] (axis in [-r, r], default 1). Copy. */
const flatten = op("Flatten", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const r = x.shape.length;
  let axis = ctx.attrs.int("axis", 1);
  if (axis < -r || axis > r) ctx.fail(`axis ${axis} is out of range for rank ${r}`);
  if (axis < 0) axis += r;
  return copyTo(ctx, x, [shapeSize(x.shape.slice(0, axis)), shapeSize(x.shape.slice(axis))]);
});

/** Squeeze (axes attribute before opset 13, optional input after; none: every 1). Copy. */
const squeeze = op("Squeeze", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const r = x.shape.length;
  const raw = ctx.opset < 13
    ? (ctx.attrs.has("axes") ? ctx.attrs.ints("axes") : undefined)
    : constInts(ctx, 1, "axes");
  const axes = raw ? normAxes(ctx, raw, r) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (x.shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
  return copyTo(ctx, x, x.shape.filter((_, i) => !axes.includes(i)));
});

/** Unsqueeze (axes attribute before opset 13, input after; relative to the output rank). Copy. */
const unsqueeze = op("Unsqueeze", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const raw = ctx.opset < 13 ? ctx.attrs.ints("axes") : constInts(ctx, 1, "axes");
  if (!raw) return ctx.fail("input 'axes' is required");
  const rank = x.shape.length + raw.length;
  const axes = normAxes(ctx, raw, rank);
  const shape: number[] = [];
  let next = 0;
  for (let k = 0; k < rank; k++) shape.push(axes.includes(k) ? 1 : x.shape[next++]);
  return copyTo(ctx, x, shape);
});

/** Transpose (perm default: reversed axes): a strided copy, stride_k = input stride of perm[k]. */
const transpose = op("Transpose", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const r = x.shape.length;
  const perm = ctx.attrs.ints("perm", [...Array(r).keys()].reverse());
  if (
    perm.length !== r || !perm.every((p) => Number.isInteger(p) && p >= 0 && p < r) ||
    new Set(perm).size !== r
  ) {
    ctx.fail(`perm [${perm.join(", ")}] is not a permutation of ${r} axes`);
  }
  const istr = stridesOf(x.shape);
  return {
    op: MOVEMENT_OPS.Transpose,
    ints: [0, ...perm.map((p) => istr[p])],
    outputs: [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }],
    keepInputs: [0],
  };
});

/** Concat along `axis` (required from opset 4; default 1 before). */
const concat = op("Concat", (ctx) => {
  const xs = ctx.inputs.map((_, i) => input(ctx, i));
  if (xs.length === 0) ctx.fail("needs at least one input");
  const first = xs[0];
  elemSize(ctx, first.dtype);
  const r = first.shape.length;
  if (r === 0) ctx.fail("cannot concatenate scalars");
  const axis = normAxis(ctx, ctx.opset < 4 ? ctx.attrs.int("axis", 1) : ctx.attrs.int("axis"), r);
  let total = 0;
  for (const x of xs) {
    if (x.dtype !== first.dtype) ctx.fail(`inputs mix ${dtypeName(first.dtype)} and ${dtypeName(x.dtype)}`);
    if (x.shape.length !== r || x.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
      ctx.fail(
        `input shapes [${first.shape.join(", ")}] and [${x.shape.join(", ")}] differ off axis ${axis}`,
      );
    }
    total += x.shape[axis];
  }
  const shape = [...first.shape];
  shape[axis] = total;
  return { op: MOVEMENT_OPS.Concat, ints: [axis], outputs: [{ dtype: first.dtype, shape }] };
});

/** Gather along `axis` (default 0) with int32/int64 indices (run-time ones are checked by the kernel). */
const gather = op("Gather", (ctx) => {
  const x = input(ctx, 0), ind = input(ctx, 1);
  elemSize(ctx, x.dtype);
  if (ind.dtype !== DType.int64 && ind.dtype !== DType.int32) {
    ctx.fail(`indices must be int32 or int64, got ${dtypeName(ind.dtype)}`);
  }
  const r = x.shape.length;
  if (r === 0) ctx.fail("data must have rank >= 1");
  const axis = normAxis(ctx, ctx.attrs.int("axis", 0), r);
  const n = x.shape[axis];
  if (ind.value) {
    for (const v of Array.from(ind.value.data as ArrayLike<number | bigint>)) {
      if (Number(v) < -n || Number(v) >= n) {
        ctx.fail(`index ${v} is out of range for axis ${axis} of size ${n}`);
      }
    }
  }
  const shape = [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)];
  // inputs 2 and 3 (compile.ts, runtime_shapes.ts): the run-time lengths of data on the axis and
  // of the indices on their first axis
  const lengths = ctx.inputs.length > 2 ? [2, 3] : [];
  const ints = ctx.inputs[3] ? [axis, ind.shape[0]] : [axis];
  return {
    op: MOVEMENT_OPS.Gather,
    ints,
    outputs: [{ dtype: x.dtype, shape }],
    keepInputs: [0, 1, ...lengths],
  };
});

/**
 * ai.onnx.ml ArrayFeatureExtractor: Gather along the last axis of X (rank >= 2) with 1-D int64
 * indices Y; an index out of range fails the node at run time (a negative one counts from the
 * end, as Gather's).
 */
const arrayFeatureExtractor: OpDef = {
  opType: "ArrayFeatureExtractor",
  domain: "ai.onnx.ml",
  lower(ctx) {
    const x = input(ctx, 0), ind = input(ctx, 1);
    elemSize(ctx, x.dtype);
    if (x.shape.length < 2) ctx.fail(`X of rank ${x.shape.length} is not supported (rank >= 2)`);
    if (ind.dtype !== DType.int64 || ind.shape.length !== 1) {
      ctx.fail(`Y must be 1-D int64, got ${dtypeName(ind.dtype)} [${ind.shape.join(", ")}]`);
    }
    return {
      op: MOVEMENT_OPS.Gather,
      ints: [x.shape.length - 1],
      outputs: [{ dtype: x.dtype, shape: [...x.shape.slice(0, -1), ind.shape[0]] }],
      keepInputs: [0, 1],
    };
  },
};

/**
 * Slice (starts/ends/axes attributes before opset 10; starts, ends, axes, steps inputs after,
 * known at compile time). Clamping as the ONNX spec; lowers to a strided copy.
 */
const slice = op("Slice", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const r = x.shape.length;
  let starts: number[], ends: number[], axesRaw: number[] | undefined, steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = ctx.attrs.ints("starts");
    ends = ctx.attrs.ints("ends");
    axesRaw = ctx.attrs.has("axes") ? ctx.attrs.ints("axes") : undefined;
  } else {
    starts = constInts(ctx, 1, "starts") ?? ctx.fail("input 'starts' is required");
    ends = constInts(ctx, 2, "ends") ?? ctx.fail("input 'ends' is required");
    axesRaw = constInts(ctx, 3, "axes");
    steps = constInts(ctx, 4, "steps");
  }
  const m = starts.length;
  if (ends.length !== m || (axesRaw && axesRaw.length !== m) || (steps && steps.length !== m)) {
    ctx.fail("starts, ends, axes and steps must have the same length");
  }
  const axes = normAxes(ctx, axesRaw ?? [...Array(m).keys()], r);
  const start = new Array<number>(r).fill(0), step = new Array<number>(r).fill(1), shape = [...x.shape];
  axes.forEach((a, j) => {
    const d = x.shape[a], p = steps ? steps[j] : 1;
    if (p === 0) ctx.fail(`step of axis ${a} is 0`);
    let s = starts[j] < 0 ? starts[j] + d : starts[j];
    let e = ends[j] < 0 ? ends[j] + d : ends[j];
    if (p > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      shape[a] = Math.max(0, Math.ceil((e - s) / p));
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      shape[a] = Math.max(0, Math.ceil((s - e) / -p));
    }
    start[a] = s;
    step[a] = p;
  });
  const istr = stridesOf(x.shape);
  const offset = shapeSize(shape) === 0 ? 0 : start.reduce((acc, s, k) => acc + s * istr[k], 0);
  return {
    op: MOVEMENT_OPS.Slice,
    ints: [offset, ...step.map((p, k) => p * istr[k])],
    outputs: [{ dtype: x.dtype, shape }],
    keepInputs: [0],
  };
});

/**
 * Split along `axis` into the node's outputs: sizes from the `split` attribute (before opset
 * 13) or input (after), else `num_outputs` chunks of ceil(d/n) with a smaller last one (opset
 * 18), else equal parts.
 */
const split = op("Split", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const r = x.shape.length;
  if (r === 0) ctx.fail("cannot split a scalar");
  const axis = normAxis(ctx, ctx.attrs.int("axis", 0), r);
  const d = x.shape[axis], n = ctx.outputCount;
  let sizes = ctx.opset < 13
    ? (ctx.attrs.has("split") ? ctx.attrs.ints("split") : undefined)
    : constInts(ctx, 1, "split");
  if (sizes) {
    if (sizes.length !== n) ctx.fail(`split has ${sizes.length} sizes for ${n} outputs`);
    if (sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== d) {
      ctx.fail(`split [${sizes.join(", ")}] does not cover axis ${axis} of size ${d}`);
    }
  } else if (ctx.opset >= 18 && ctx.attrs.has("num_outputs")) {
    const k = ctx.attrs.int("num_outputs");
    if (k !== n) ctx.fail(`num_outputs ${k} differs from the node's ${n} outputs`);
    const chunk = Math.ceil(d / k);
    sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
    if (sizes.reduce((a, b) => a + b, 0) !== d || sizes.some((s, i) => i < k - 1 && s !== chunk)) {
      ctx.fail(`axis ${axis} of size ${d} cannot be split into ${k} chunks`);
    }
  } else {
    if (d % n !== 0) ctx.fail(`axis ${axis} of size ${d} does not split into ${n} equal parts`);
    sizes = new Array<number>(n).fill(d / n);
  }
  return {
    op: MOVEMENT_OPS.Split,
    ints: [axis],
    outputs: sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((v, k) => (k === axis ? s : v)) })),
    keepInputs: [0],
  };
});

/**
 * Pad: `paddings`/`pads` and `value` attributes before opset 11; `pads`, `constant_value`
 * (run-time allowed) and, from opset 18, `axes` inputs after. Modes constant, reflect, edge,
 * wrap (opset 19); negative pads crop.
 */
const pad = op("Pad", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const r = x.shape.length;
  const modeName = ctx.attrs.string("mode", "constant");
  const mode = PAD_MODES[modeName];
  if (mode === undefined || (modeName === "wrap" && ctx.opset < 19)) {
    ctx.fail(`mode '${modeName}' is not supported`);
  }
  let pads: number[], fill = 0n, axesRaw: number[] | undefined;
  const keep = [0];
  if (ctx.opset < 11) {
    pads = ctx.attrs.ints(ctx.opset < 2 ? "paddings" : "pads");
    fill = scalarBits(ctx, ctx.attrs.float("value", 0), x.dtype);
  } else {
    pads = constInts(ctx, 1, "pads") ?? ctx.fail("input 'pads' is required");
    const cv = ctx.inputs[2];
    if (cv) {
      if (cv.dtype !== x.dtype) {
        ctx.fail(`constant_value is ${dtypeName(cv.dtype)}, data is ${dtypeName(x.dtype)}`);
      }
      if (shapeSize(cv.shape) !== 1) ctx.fail("constant_value must have one element");
      if (cv.value) fill = elementBits(cv.value, 0);
      else if (mode === PAD_MODES.constant) keep.push(2);
    }
    if (ctx.opset >= 18) axesRaw = constInts(ctx, 3, "axes");
  }
  const axes = normAxes(ctx, axesRaw ?? [...Array(r).keys()], r);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} values for ${axes.length} axes`);
  const before = new Array<number>(r).fill(0), shape = [...x.shape];
  axes.forEach((a, j) => {
    const b = pads[j], e = pads[j + axes.length];
    before[a] = b;
    shape[a] = x.shape[a] + b + e;
    if (shape[a] < 0) ctx.fail(`pads [${pads.join(", ")}] crop axis ${a} below zero`);
    if (mode !== PAD_MODES.constant && x.shape[a] === 0 && shape[a] > 0) {
      ctx.fail(`mode '${modeName}' cannot pad the empty axis ${a}`);
    }
  });
  return {
    op: MOVEMENT_OPS.Pad,
    ints: [mode, BigInt.asIntN(64, fill), ...before],
    outputs: [{ dtype: x.dtype, shape }],
    keepInputs: keep,
  };
});

/** Expand: bidirectional broadcast to a compile-time shape; stride 0 on broadcast axes. */
const expand = op("Expand", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  const spec = constInts(ctx, 1, "shape") ?? ctx.fail("input 'shape' is required");
  const rank = Math.max(x.shape.length, spec.length);
  const xs = [...new Array<number>(rank - x.shape.length).fill(1), ...x.shape];
  const ss = [...new Array<number>(rank - spec.length).fill(1), ...spec];
  const shape = xs.map((a, k) => {
    const b = ss[k];
    if (a === b || b === 1) return a;
    if (a === 1 && b >= 0) return b;
    return ctx.fail(`cannot broadcast [${x.shape.join(", ")}] to [${spec.join(", ")}]`);
  });
  const istr = stridesOf(xs);
  return {
    op: MOVEMENT_OPS.Expand,
    ints: [0, ...xs.map((a, k) => (a === 1 ? 0 : istr[k]))],
    outputs: [{ dtype: x.dtype, shape }],
    keepInputs: [0],
  };
});

/** Shape (start/end from opset 15, clamped): int64 values known at compile time. */
const shapeOp = op("Shape", (ctx) => {
  const x = input(ctx, 0);
  const r = x.shape.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clamp(ctx.opset >= 15 ? ctx.attrs.int("start", 0) : 0);
  const end = clamp(ctx.opset >= 15 ? ctx.attrs.int("end", r) : r);
  const values = x.shape.slice(start, Math.max(start, end));
  return {
    op: MOVEMENT_OPS.Shape,
    ints: values,
    outputs: [{ dtype: DType.int64, shape: [values.length] }],
    keepInputs: [],
  };
});

/** Size: the element count as an int64 scalar, known at compile time (the Shape kernel). */
const size = op("Size", (ctx) => {
  const x = input(ctx, 0);
  return {
    op: MOVEMENT_OPS.Shape,
    ints: [shapeSize(x.shape)],
    outputs: [{ dtype: DType.int64, shape: [] }],
    keepInputs: [],
  };
});

/** OptionalGetElement on a plain tensor: the tensor (optional and sequence values are rejected
 * where they are decoded). */
const optionalGetElement = op("OptionalGetElement", (ctx) => {
  const x = input(ctx, 0);
  elemSize(ctx, x.dtype);
  return copyTo(ctx, x, [...x.shape]);
});

/** OptionalHasElement: false without an input (none, or the empty name), true for a tensor. */
const optionalHasElement = op("OptionalHasElement", (ctx) => ({
  op: MOVEMENT_OPS.ConstantOfShape,
  ints: [ctx.inputs[0] ? 1n : 0n],
  outputs: [{ dtype: DType.bool, shape: [] }],
  keepInputs: [],
}));

/** ConstantOfShape: a compile-time shape filled with `value` (default float32 0). */
const constantOfShape = op("ConstantOfShape", (ctx) => {
  const shape = constInts(ctx, 0, "input") ?? ctx.fail("input 'input' is required");
  if (shape.some((d) => d < 0)) ctx.fail(`shape [${shape.join(", ")}] has a negative dim`);
  const value: TensorValue = ctx.attrs.has("value")
    ? ctx.attrs.tensor("value")
    : { dtype: DType.float32, shape: [1], data: new Float32Array(1) };
  if (shapeSize(value.shape) !== 1) ctx.fail("value must have one element");
  elemSize(ctx, value.dtype);
  return {
    op: MOVEMENT_OPS.ConstantOfShape,
    ints: [BigInt.asIntN(64, elementBits(value, 0))],
    outputs: [{ dtype: value.dtype, shape }],
    keepInputs: [],
  };
});

/** Types BitCast does not reinterpret: sub-byte ones (unpacked, one per byte: their bytes are not
 * their bits) and bool as a target (not every byte is a bool). */
const NO_BITCAST = new Set<number>([DType.uint4, DType.int4, DType.float4e2m1, DType.uint2, DType.int2]);

/** Bytes per element of a type BitCast reinterprets, or undefined. */
function bitCastSize(dtype: number, target: boolean): number | undefined {
  if (NO_BITCAST.has(dtype) || (target && dtype === DType.bool)) return undefined;
  try {
    return dtypeSize(dtype);
  } catch {
    return undefined; // string, complex
  }
}

/**
 * BitCast (opset 26): the same bytes as another dtype of the same width (little endian, as every
 * tensor in opml). A float output's NaNs come out canonical, as every float output's.
 */
const bitCast: OpDef = {
  opType: "BitCast",
  lower(ctx) {
    const x = input(ctx, 0);
    const to = ctx.attrs.int("to");
    const from = bitCastSize(x.dtype, false), width = bitCastSize(to, true);
    if (from === undefined) ctx.fail(`BitCast from ${dtypeName(x.dtype)} is not supported`);
    if (width === undefined) ctx.fail(`BitCast to ${dtypeName(to)} is not supported`);
    if (width !== from) ctx.fail(`BitCast from ${dtypeName(x.dtype)} to ${dtypeName(to)}: the widths differ`);
    return { op: MOVEMENT_OPS.BitCast, outputs: [{ dtype: to, shape: [...x.shape] }], keepInputs: [0] };
  },
};

/** Every movement operator. */
export const OPS: readonly OpDef[] = [
  identity,
  reshape,
  flatten,
  squeeze,
  unsqueeze,
  transpose,
  concat,
  gather,
  slice,
  split,
  pad,
  expand,
  shapeOp,
  size,
  constantOfShape,
  bitCast,
  arrayFeatureExtractor,
  optionalGetElement,
  optionalHasElement,
];
