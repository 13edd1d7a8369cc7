/**
 * Shape arithmetic on run-time lengths (docs/IR.md, "Run-time shapes"): the integer vectors a
 * model computes from `Shape` of a tensor with a run-time dimension (torchvision builds
 * `torch.zeros((levels.size(0), C, H, W))`, `x.view(n, -1, 4)` and expand's target shapes that
 * way). Their elements are known numbers but for one, the run-time length itself, so the
 * compiler follows them through Gather, Unsqueeze, Squeeze, Reshape, Flatten, Identity, Cast,
 * Concat, Add, Sub, Mul (by 0 and 1), Equal and Where: a result with no run-time element is a
 * constant (a length lies in [0, bound], so `length == -1` is false), one with the run-time
 * element once is marked `runtimeShape` (ConstantOfShape, Reshape, Expand and Slice read the
 * mark). The nodes that compute such a vector still run: the mark is compile-time knowledge of
 * their result, never a replacement of it.
 * @module
 */
import { DType, type TensorValue } from "../ir/types.ts";
import { findOperator, type NodeContext, type ValueInfo } from "./ops/mod.ts";

/** One element: a known integer or bool, or the run-time length (the `length` tensor's value). */
type Element = bigint | boolean | { length: string; bound: number };

const isLength = (e: Element): e is { length: string; bound: number } => typeof e === "object";

/** The elements of a known integer/bool tensor or of a marked shape vector, flattened. */
function elementsOf(v: ValueInfo | undefined): Element[] | undefined {
  if (!v) return undefined;
  if (v.value) {
    if (v.dtype === DType.int64) return Array.from(v.value.data as BigInt64Array);
    if (v.dtype === DType.int32) return Array.from(v.value.data as Int32Array, BigInt);
    if (v.dtype === DType.bool) return Array.from(v.value.data as Uint8Array, (b) => b !== 0);
    return undefined;
  }
  const s = v.runtimeShape;
  if (!s) return undefined;
  return s.dims.map((d, i) => (i === s.axis ? { length: s.length, bound: d } : BigInt(d)));
}

/** What is known of a node's (first) output: a constant, or a vector with one run-time element. */
export type ShapeValue =
  | { value: TensorValue }
  | { runtimeShape: NonNullable<ValueInfo["runtimeShape"]> };

/**
 * The value of a default-domain node's output when it is shape arithmetic on a marked vector
 * (some input marked `runtimeShape`), else undefined (the node is an ordinary one).
 *
 * @example
 * ```ts
 * const known = shapeValue(ctx); // Gather(Shape(rois), 1): { value: 4 }
 * ```
 */
export function shapeValue(ctx: NodeContext): ShapeValue | undefined {
  if (ctx.domain !== "" || !ctx.inputs.some((v) => v?.runtimeShape) || ctx.outputCount !== 1) {
    return undefined;
  }
  const elements = evaluate(ctx);
  if (!elements) return undefined;
  const lengths = elements.filter(isLength);
  if (lengths.length > 1) return undefined;
  const def = findOperator("", ctx.opType);
  if (!def) return undefined;
  const out = def.lower(ctx).outputs[0];
  if (lengths.length === 1) {
    const axis = elements.findIndex(isLength);
    const dims = elements.map((e) => Number(isLength(e) ? e.bound : e));
    return { runtimeShape: { dims, axis, length: lengths[0].length } };
  }
  const data = out.dtype === DType.bool
    ? Uint8Array.from(elements, (e) => (e ? 1 : 0))
    : out.dtype === DType.int32
    ? Int32Array.from(elements, (e) => Number(e))
    : out.dtype === DType.int64
    ? BigInt64Array.from(elements as bigint[])
    : undefined;
  return data ? { value: { dtype: out.dtype, shape: [...out.shape], data } } : undefined;
}

/** The output's elements, or undefined when they are not shape arithmetic this module follows. */
function evaluate(ctx: NodeContext): Element[] | undefined {
  const ins = ctx.inputs.map(elementsOf);
  const x = ins[0];
  switch (ctx.opType) {
    case "Identity":
    case "Unsqueeze":
    case "Squeeze":
    case "Flatten":
      return x;
    case "Reshape":
      return ctx.inputs[1]?.value ? x : undefined;
    case "Cast": {
      const to = ctx.attrs.int("to");
      return to === DType.int64 || to === DType.int32
        ? x?.map((e) => (typeof e === "boolean" ? BigInt(e) : e))
        : undefined;
    }
    case "Gather": {
      const at = ins[1];
      if (!x || !at || ctx.inputs[0]!.shape.length !== 1 || at.some(isLength)) return undefined;
      const picked = at.map((i) => Number(i) < 0 ? Number(i) + x.length : Number(i));
      return picked.every((i) => i >= 0 && i < x.length) ? picked.map((i) => x[i]) : undefined;
    }
    case "Concat":
      if (ins.some((e) => !e) || ctx.inputs.some((v) => v!.shape.length !== 1)) return undefined;
      return ins.flat() as Element[];
  }
  // elementwise: vectors (or scalars) only, where broadcasting is one element against n
  if (ctx.inputs.some((v) => !v || v.shape.length > 1)) return undefined;
  switch (ctx.opType) {
    case "Add":
    case "Sub":
    case "Mul":
    case "Equal":
      return ins.length === 2 && ins[0] && ins[1] ? broadcast(ins[0], ins[1], binary(ctx.opType)) : undefined;
    case "Where": {
      const [c, a, b] = ins;
      if (!c || !a || !b || c.some(isLength)) return undefined;
      const n = Math.max(c.length, a.length, b.length);
      if ([c, a, b].some((e) => e.length !== n && e.length !== 1)) return undefined;
      return Array.from({ length: n }, (_, i) => (c[c.length === 1 ? 0 : i] ? a : b)[a.length === 1 ? 0 : i]);
    }
  }
  return undefined;
}

/** Two vectors elementwise (one of them may have one element); undefined when an element is unknown. */
function broadcast(
  a: Element[],
  b: Element[],
  f: (x: Element, y: Element) => Element | undefined,
): Element[] | undefined {
  const n = Math.max(a.length, b.length);
  if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
  const out: Element[] = [];
  for (let i = 0; i < n; i++) {
    const e = f(a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]);
    if (e === undefined) return undefined;
    out.push(e);
  }
  return out;
}

/** Add/Sub/Mul/Equal of two elements: known ones computed, a length only by x + 0, x - 0, x * 1. */
function binary(op: string): (x: Element, y: Element) => Element | undefined {
  return (x, y) => {
    if (!isLength(x) && !isLength(y)) {
      if (typeof x === "boolean" || typeof y === "boolean") return op === "Equal" ? x === y : undefined;
      if (op === "Add") return BigInt.asIntN(64, x + y);
      if (op === "Sub") return BigInt.asIntN(64, x - y);
      if (op === "Mul") return BigInt.asIntN(64, x * y);
      return x === y;
    }
    if (op === "Equal") {
      if (isLength(x) && isLength(y)) return x.length === y.length ? true : undefined;
      const [l, c] = isLength(x) ? [x, y] : [y as { bound: number }, x];
      // a length lies in [0, bound]: any other value differs from it
      return typeof c === "bigint" && (c < 0n || c > BigInt(l.bound)) ? false : undefined;
    }
    if (isLength(x) && y === 0n && op !== "Mul") return x;
    if (isLength(y) && x === 0n && op === "Add") return y;
    if (op === "Mul" && ((isLength(x) && y === 1n) || (isLength(y) && x === 1n))) return isLength(x) ? x : y;
    return undefined;
  };
}
