/**
 * Operators whose output shape depends on values (docs/IR.md, "Run-time shapes"): NonZero,
 * Compress, TopK with a run-time k, NonMaxSuppression (always at run time: its bound is
 * B * C * min(N, max_output_boxes_per_class)) and Unique (always at run time, bounded by the
 * input's length). With the values that decide the shape known at compile
 * time, NonZero is a constant, Compress a Gather of the selected indices and TopK the index
 * family's kernel. Otherwise the shape is bounded at compile time and its length computed at
 * run time: NonZero is the run-time NonZero kernel (bound: the input's size), Compress a Gather
 * of its condition's run-time NonZero (bound: the condition's length), TopK sorts the whole
 * axis (bound: its length) and takes k, checked at run time, as the length.
 * @module
 */
import type { OnnxNode } from "../onnx/load.ts";
import { DType, numericValues, shapeSize } from "../ir/mod.ts";
import { type NodeContext, RUNTIME_DOMAIN } from "./ops/mod.ts";
import { constant, type FlowHost, lowerOne, withoutMarks } from "./control_flow.ts";

/** The operators this module lowers. */
export const DATA_SHAPED: ReadonlySet<string> = new Set([
  "NonZero",
  "Compress",
  "TopK",
  "NonMaxSuppression",
  "Unique",
]);

/**
 * Lowers a NonZero, Compress, TopK, NonMaxSuppression or Unique node (names final) through `host`; false when it is an
 * ordinary node (a TopK with a known k) for the operator table.
 *
 * @example
 * ```ts
 * if (DATA_SHAPED.has(node.opType) && lowerDataShaped(host, node, ctx)) return;
 * ```
 */
export function lowerDataShaped(host: FlowHost, node: OnnxNode, ctx: NodeContext): boolean {
  if (node.opType === "NonZero") nonZero(host, node, ctx);
  else if (node.opType === "Compress") compress(host, node, ctx);
  else if (node.opType === "NonMaxSuppression") nonMaxSuppression(host, node);
  else if (node.opType === "Unique") unique(host, node, ctx);
  else return topK(host, node, ctx);
  return true;
}

/** Marks `names` as having a run-time length `length` on `axis`. */
function runtimeDim(host: FlowHost, names: string[], axis: number, length: string): void {
  for (const n of names) if (n) host.values.get(n)!.runtime = { axis, length };
}

/**
 * The run-time NonZero of `x` into `out` ([rank, size of x], its length `${out}:length`); of an
 * `x` with a run-time dimension, the kernel counts its valid part only.
 */
function nonZeroAtRunTime(host: FlowHost, name: string, x: string, out: string): void {
  const length = `${out}:length`, valid = host.values.get(x)?.runtime;
  const inputs = valid ? [x, valid.length] : [x];
  host.lower({
    name,
    opType: "NonZero",
    domain: RUNTIME_DOMAIN,
    inputs,
    outputs: [out, length],
    attributes: new Map(),
  });
  runtimeDim(host, [out], 1, length);
}

/** NonMaxSuppression: the selected [bound, 3] rows, the bound from the known inputs (vision.ts). */
function nonMaxSuppression(host: FlowHost, node: OnnxNode): void {
  const out = node.outputs[0], length = `${out}:length`;
  host.lower({ ...node, domain: RUNTIME_DOMAIN, outputs: [out, length] });
  runtimeDim(host, [out], 0, length);
}

/**
 * Unique: Y, indices and counts have a run-time length (Y on `axis`, or 0 flattened);
 * inverse_indices is fixed.
 */
function unique(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const names = [0, 1, 2, 3].map((i) => node.outputs[i] || `${node.name}:unused${i}`);
  const length = `${names[0]}:length`;
  host.lower({ ...node, domain: RUNTIME_DOMAIN, outputs: [...names, length] });
  let axis = ctx.attrs.has("axis") ? ctx.attrs.int("axis") : 0;
  if (axis < 0) axis += ctx.inputs[0]!.shape.length;
  runtimeDim(host, [names[0]], axis, length);
  runtimeDim(host, [names[1], names[3]], 0, length);
}

/**
 * `x` (with a run-time dimension) with its padding replaced by `fill`: Where(position < length,
 * x, fill), the positions a constant along the run-time axis. The result keeps the run-time
 * dimension (its padding now `fill`).
 *
 * @example
 * ```ts
 * const masked = maskPadding(host, node.name, "scores", -Infinity); // then ReduceMax over it
 * ```
 */
export function maskPadding(host: FlowHost, name: string, x: string, fill: number | bigint): string {
  const v = host.values.get(x)!, d = v.runtime!, bound = v.shape[d.axis];
  const positions = `${name}:positions`, shape = `${name}:mask_shape`, value = `${name}:fill`;
  constant(host, positions, {
    dtype: DType.int64,
    shape: [bound],
    data: BigInt64Array.from({ length: bound }, (_, i) => BigInt(i)),
  });
  const dims = v.shape.map((s, i) => (i === d.axis ? BigInt(s) : 1n));
  constant(host, shape, { dtype: DType.int64, shape: [dims.length], data: BigInt64Array.from(dims) });
  const valid = lowerOne(host, name, "Less", [positions, d.length], `${name}:valid`);
  const mask = lowerOne(host, name, "Reshape", [valid, shape], `${name}:mask`);
  host.values.get(mask)!.runtime = d; // true on the valid part, false on the padding
  const data = typeof fill === "bigint"
    ? (v.dtype === DType.int32 ? Int32Array.of(Number(fill)) : BigInt64Array.of(fill))
    : (v.dtype === DType.float64 ? Float64Array.of(fill) : Float32Array.of(fill));
  constant(host, value, { dtype: v.dtype, shape: [], data });
  return lowerOne(host, name, "Where", [mask, x, value], `${name}:masked`);
}

/**
 * Concat along a run-time axis: the valid parts packed one after the other (the ConcatRuntime
 * kernel), the length their sum; an input without a run-time length there counts whole.
 *
 * @example
 * ```ts
 * concatAtRunTime(host, node, ctx, axis); // torch.cat of per-class lists
 * ```
 */
export function concatAtRunTime(host: FlowHost, node: OnnxNode, ctx: NodeContext, axis: number): void {
  const lengths = ctx.inputs.map((v, i) => {
    if (v?.runtime) return v.runtime.length;
    const name = `${node.name}:length${i}`;
    constant(host, name, { dtype: DType.int64, shape: [], data: BigInt64Array.of(BigInt(v!.shape[axis])) });
    return name;
  });
  const out = node.outputs[0], length = `${out}:length`;
  // the inputs' marks go: the kernel reads their lengths itself
  withoutMarks(
    host,
    node.inputs,
    () =>
      host.lower({
        ...node,
        domain: RUNTIME_DOMAIN,
        inputs: [...node.inputs, ...lengths],
        outputs: [out, length],
      }),
  );
  // packings of the same lengths have the same length (torch.cat of boxes and of their labels):
  // one length tensor, so elementwise operators may combine them
  const key = lengths.join("\u0000"), seen = sameLengths.get(host) ?? new Map<string, string>();
  sameLengths.set(host, seen);
  if (!seen.has(key)) seen.set(key, length);
  runtimeDim(host, [out], axis, seen.get(key)!);
}

/** The length of each packing (by its inputs' lengths), per compile. */
const sameLengths = new WeakMap<FlowHost, Map<string, string>>();

/**
 * Shape of a tensor with a run-time dimension (`start`/`end` from opset 15): its fixed dims as
 * constants and the run-time one its length tensor, concatenated (a constant when the slice
 * leaves the run-time dimension out).
 *
 * @example
 * ```ts
 * if (node.opType === "Shape" && ctx.inputs[0]?.runtime) lowerRuntimeShape(host, node, ctx);
 * ```
 */
export function lowerRuntimeShape(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const x = ctx.inputs[0]!, d = x.runtime!, r = x.shape.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = ctx.opset >= 15 ? clamp(ctx.attrs.int("start", 0)) : 0;
  const end = ctx.opset >= 15 && ctx.attrs.has("end") ? clamp(ctx.attrs.int("end")) : r;
  const dims = (from: number, to: number) => BigInt64Array.from(x.shape.slice(from, to).map(BigInt));
  const out = node.outputs[0];
  if (d.axis < start || d.axis >= end) {
    const data = dims(start, Math.max(start, end));
    return constant(host, out, { dtype: DType.int64, shape: [data.length], data });
  }
  const parts: string[] = [];
  const part = (name: string, data: BigInt64Array) => {
    constant(host, name, { dtype: DType.int64, shape: [data.length], data });
    parts.push(name);
  };
  if (d.axis > start) part(`${out}:before`, dims(start, d.axis));
  part(`${out}:one`, BigInt64Array.of(1n));
  parts[parts.length - 1] = lowerOne(host, node.name, "Reshape", [d.length, `${out}:one`], `${out}:length`);
  if (end > d.axis + 1) part(`${out}:after`, dims(d.axis + 1, end));
  if (parts.length === 1) host.alias(out, parts[0]);
  else lowerOne(host, node.name, "Concat", parts, out, new Map([["axis", { kind: "int", value: 0 }]]));
  host.values.get(host.resolve(out))!.runtimeShape = {
    dims: x.shape.slice(start, end),
    axis: d.axis - start,
    length: d.length,
  };
}

/**
 * ConstantOfShape of a shape with a run-time length (from {@link lowerRuntimeShape}): the
 * constant at the bound, its padding the same value, with that run-time dimension.
 *
 * @example
 * ```ts
 * if (ctx.inputs[0]?.runtimeShape) constantOfRuntimeShape(host, node, ctx); // torch.full_like
 * ```
 */
export function constantOfRuntimeShape(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const s = ctx.inputs[0]!.runtimeShape!, bound = `${node.name}:bound_shape`;
  constant(host, bound, {
    dtype: DType.int64,
    shape: [s.dims.length],
    data: BigInt64Array.from(s.dims.map(BigInt)),
  });
  host.lower({ ...node, inputs: [bound] });
  host.values.get(host.resolve(node.outputs[0]))!.runtime = { axis: s.axis, length: s.length };
}

/**
 * TopK with a run-time k (the whole axis sorted, k checked in [0, axis length] its length), or
 * along an axis with a run-time length (the kernel sorts the valid part: its length an input).
 */
function topK(host: FlowHost, node: OnnxNode, ctx: NodeContext): boolean {
  const x = ctx.inputs[0], k = ctx.inputs[1];
  if (ctx.opset < 10 || !x || !k || node.inputs.length > 2) return false;
  const r = x.shape.length;
  let axis = ctx.attrs.int("axis", -1);
  if (axis < -r || axis >= r) ctx.fail(`axis ${axis} is out of range for rank ${r}`);
  if (axis < 0) axis += r;
  const along = x.runtime?.axis === axis ? [x.runtime.length] : [];
  if (k.value && !along.length) return false;
  if (k.value) {
    host.lower({ ...node, inputs: [...node.inputs, ...along] });
    return true;
  }
  const length = `${node.name}:k`, all = `${node.name}:all`;
  host.lower({
    name: node.name,
    opType: "RuntimeLength",
    domain: RUNTIME_DOMAIN,
    inputs: [node.inputs[1], ...along],
    outputs: [length],
    attributes: new Map([["bound", { kind: "int", value: x.shape[axis] }]]),
  });
  constant(host, all, { dtype: DType.int64, shape: [1], data: BigInt64Array.of(BigInt(x.shape[axis])) });
  const attributes = new Map([...node.attributes, ["strict", { kind: "int" as const, value: 0 }]]);
  host.lower({ ...node, inputs: [node.inputs[0], all, ...along], attributes });
  runtimeDim(host, node.outputs, axis, length);
  return true;
}

/** Whether each element is nonzero (NaN is; -0 is not). */
function nonzeroMask(v: { dtype: number; data: ArrayLike<number | bigint> }): boolean[] {
  return Array.from(numericValues(v.dtype, v.data), (x) => (typeof x === "bigint" ? x !== 0n : x !== 0));
}

/** NonZero: the indices of the nonzero elements, int64 [rank, count], in row-major order. */
function nonZero(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const x = ctx.inputs[0]?.value;
  if (!ctx.inputs[0]) ctx.fail("input 0 (X) is required");
  if (!x) return nonZeroAtRunTime(host, node.name, node.inputs[0], node.outputs[0]);
  const rank = x.shape.length;
  if (rank === 0) ctx.fail("a scalar input is not supported");
  const at = nonzeroMask(x).flatMap((nz, i) => (nz ? [i] : []));
  const data = new BigInt64Array(rank * at.length);
  at.forEach((flat, j) => {
    for (let d = rank - 1; d >= 0; d--) {
      data[d * at.length + j] = BigInt(flat % x.shape[d]);
      flat = Math.floor(flat / x.shape[d]);
    }
  });
  constant(host, node.outputs[0], { dtype: DType.int64, shape: [rank, at.length], data });
}

/** Compress: a Gather of the indices where the (known) condition is true. */
function compress(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const x = ctx.inputs[0];
  if (!x) return ctx.fail("input 0 (input) is required");
  const c = ctx.inputs[1];
  if (!c) return ctx.fail("input 1 (condition) is required");
  if (c.dtype !== DType.bool || c.shape.length !== 1) ctx.fail("the condition must be a 1-D bool tensor");
  let data = node.inputs[0], axis = 0;
  if (ctx.attrs.has("axis")) {
    axis = ctx.attrs.int("axis");
    if (axis < -x.shape.length || axis >= x.shape.length) ctx.fail(`axis ${axis} is out of range`);
    if (axis < 0) axis += x.shape.length;
  } else if (x.shape.length !== 1) {
    const shape = `${node.name}:flat:shape`;
    constant(host, shape, { dtype: DType.int64, shape: [1], data: BigInt64Array.of(-1n) });
    data = lowerOne(host, `${node.name}:flatten`, "Reshape", [data, shape], `${node.name}:flat`);
  }
  if (!c.value) {
    // the condition's run-time NonZero [1, n] as indices [n] (Gather of row 0), then Gather
    const nz = `${node.name}:nonzero`, row = `${node.name}:row`;
    nonZeroAtRunTime(host, node.name, node.inputs[1], nz);
    constant(host, row, { dtype: DType.int64, shape: [], data: BigInt64Array.of(0n) });
    const at = lowerOne(host, node.name, "Gather", [nz, row], `${node.name}:indices`);
    lowerOne(
      host,
      node.name,
      "Gather",
      [data, at],
      node.outputs[0],
      new Map([["axis", { kind: "int", value: axis }]]),
    );
    return;
  }
  const cond = c.value;
  const size = ctx.attrs.has("axis") ? x.shape[axis] : shapeSize(x.shape);
  const mask = nonzeroMask(cond);
  if (mask.slice(size).some((b) => b)) {
    ctx.fail(`the condition selects element ${mask.lastIndexOf(true)}, past the ${size} along the axis`);
  }
  const at = mask.flatMap((b, i) => (b ? [BigInt(i)] : []));
  if (at.length === 0) ctx.fail("the condition selects nothing: empty tensors are not supported");
  const indices = `${node.name}:indices`;
  constant(host, indices, { dtype: DType.int64, shape: [at.length], data: BigInt64Array.from(at) });
  host.lower({
    name: node.name,
    opType: "Gather",
    domain: "",
    inputs: [data, indices],
    outputs: [node.outputs[0]],
    attributes: new Map([["axis", { kind: "int", value: axis }]]),
  });
}

/** `length` times `k` (one tensor per pair, per compile), or `length` itself for k = 1. */
function scaledLength(host: FlowHost, name: string, length: string, k: number): string {
  if (k === 1) return length;
  const key = `${length}\u0000${k}`, seen = scaledLengths.get(host) ?? new Map<string, string>();
  scaledLengths.set(host, seen);
  if (!seen.has(key)) {
    const factor = `${name}:rows_per_item`;
    constant(host, factor, { dtype: DType.int64, shape: [], data: BigInt64Array.of(BigInt(k)) });
    seen.set(key, lowerOne(host, name, "Mul", [length, factor], `${name}:length`));
  }
  return seen.get(key)!;
}

/** The products `length * k` of each pair, per compile. */
const scaledLengths = new WeakMap<FlowHost, Map<string, string>>();

/**
 * Reshape or Flatten of a tensor with a run-time length on axis 0 (docs/IR.md, "Run-time
 * shapes"): the output keeps axis 0 run-time, the trailing axes fixed, so the valid part stays a
 * prefix. Reshape's target is `[-1 or 0, fixed...]`, or a shape vector holding that same length
 * first (`x.view(n, -1, 4)`); each valid row becomes k whole rows (length * k), as the element
 * counts say, or the node is rejected.
 *
 * @example
 * ```ts
 * reshapeAtRunTime(host, node, ctx); // [n?, 90, 4] -> [-1, 4]: [n * 90?, 4]
 * ```
 */
export function reshapeAtRunTime(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const x = ctx.inputs[0]!, d = x.runtime, t = ctx.inputs[1], op = node.opType;
  if (!d) {
    return ctx.fail(
      `shape '${node.inputs[1]}' holds a run-time length (docs/IR.md, "Run-time shapes"): Reshape of input '${
        node.inputs[0]
      }', which has none, to it is not supported`,
    );
  }
  const reject = (why: string): never =>
    ctx.fail(
      `input '${
        node.inputs[0]
      }' has a run-time length on axis ${d.axis} (docs/IR.md, "Run-time shapes"): ${why}`,
    );
  if (d.axis !== 0) reject(`${op} takes it on axis 0 only`);
  const flatAxis = op === "Flatten" ? ctx.attrs.int("axis", 1) : 1;
  if (flatAxis === 0 || flatAxis === -x.shape.length) {
    reject("Flatten with axis 0 (it moves the length into axis 1)");
  }
  let inputs = node.inputs;
  if (op === "Reshape") {
    let spec: number[];
    if (t?.runtimeShape) {
      const s = t.runtimeShape;
      if (s.axis !== 0 || s.length !== d.length) {
        reject(`Reshape to shape '${node.inputs[1]}', which holds another`);
      }
      spec = s.dims; // the bound in place of the length: the other dims resolve as at the length
    } else if (t?.value) {
      spec = Array.from(t.value.data as BigInt64Array, Number);
      if (spec[0] !== -1 && (spec[0] !== 0 || ctx.attrs.int("allowzero", 0))) {
        reject(`Reshape to [${spec.join(", ")}], which does not leave axis 0 to it (-1 or 0 there)`);
      }
    } else {
      return reject("Reshape to a shape known only at run time");
    }
    const bound = `${node.name}:bound_shape`;
    constant(host, bound, {
      dtype: DType.int64,
      shape: [spec.length],
      data: BigInt64Array.from(spec.map(BigInt)),
    });
    inputs = [node.inputs[0], bound];
  }
  withoutMarks(host, [node.inputs[0]], () => host.lower({ ...node, inputs }));
  const out = host.values.get(host.resolve(node.outputs[0]))!;
  const inRow = shapeSize(x.shape.slice(1)), outRow = shapeSize(out.shape.slice(1));
  if (out.shape.length === 0 || outRow === 0 || inRow % outRow !== 0) {
    reject(`${op} of rows of ${inRow} elements into rows of ${outRow}`);
  }
  out.runtime = { axis: 0, length: scaledLength(host, node.name, d.length, inRow / outRow) };
}

/**
 * Expand to a shape vector holding a run-time length (`labels.expand_as(scores)`, the level
 * mapper's index.expand(n, C, H, W)): the bound in its place; the input has 1 there, or that same
 * length on the aligned axis; the output has the length on that axis.
 *
 * @example
 * ```ts
 * expandToRuntimeShape(host, node, ctx); // [1, 91] to [n?, 91]: [n?, 91]
 * ```
 */
export function expandToRuntimeShape(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const x = ctx.inputs[0]!, s = ctx.inputs[1]!.runtimeShape!, at = s.axis - (s.dims.length - x.shape.length);
  const fits = x.runtime
    ? x.runtime.axis === at && x.runtime.length === s.length
    : at < 0 || x.shape[at] === 1;
  if (!fits || (x.runtime && at < 0)) {
    ctx.fail(
      `its shape '${node.inputs[1]}' holds a run-time length on axis ${s.axis} that input '${
        node.inputs[0]
      }' does not broadcast to (docs/IR.md, "Run-time shapes")`,
    );
  }
  const bound = `${node.name}:bound_shape`;
  constant(host, bound, {
    dtype: DType.int64,
    shape: [s.dims.length],
    data: BigInt64Array.from(s.dims.map(BigInt)),
  });
  host.lower({ ...node, inputs: [node.inputs[0], bound] });
  host.values.get(host.resolve(node.outputs[0]))!.runtime = { axis: s.axis, length: s.length };
}

/**
 * Slice x[0:n] along x's run-time axis where `ends` holds that very length n (torchvision's
 * per-image split of a batch of one): the whole valid part, so x itself. Undefined when the
 * Slice is not that.
 *
 * @example
 * ```ts
 * if (sliceToLength(host, node, ctx)) return;
 * ```
 */
export function sliceToLength(host: FlowHost, node: OnnxNode, ctx: NodeContext): boolean {
  const x = ctx.inputs[0], ends = ctx.inputs[2]?.runtimeShape, d = x?.runtime;
  if (ctx.opset < 10 || !d || !ends || ends.dims.length !== 1 || ends.length !== d.length) return false;
  const known = (i: number) => ctx.inputs[i]?.value?.data as BigInt64Array | undefined;
  const starts = known(1), axes = known(3), steps = known(4);
  const axis = axes ? Number(axes[0]) : 0;
  if (
    !starts || starts[0] !== 0n || (ctx.inputs[3] && !axes) || (ctx.inputs[4] && (!steps || steps[0] !== 1n))
  ) {
    return false;
  }
  if ((axis < 0 ? axis + x.shape.length : axis) !== d.axis) return false;
  host.alias(node.outputs[0], node.inputs[0]);
  return true;
}
