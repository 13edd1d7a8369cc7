/**
 * Operators whose output shape depends on values (docs/IR.md, "Control flow"): NonZero and
 * Compress, lowered when the values that decide the shape are known at compile time (constants,
 * initializers, or folded). NonZero then is a constant; Compress is a Gather of the selected
 * indices (a flattening Reshape first without `axis`), so its data may come at run time. With
 * those values known only at run time they are rejected in one line.
 * @module
 */
import type { OnnxNode } from "../onnx/load.ts";
import { DType, numericValues, shapeSize } from "../ir/mod.ts";
import type { NodeContext } from "./ops/mod.ts";
import { constant, type FlowHost, lowerOne } from "./control_flow.ts";

/** The operators this module lowers. */
export const DATA_SHAPED: ReadonlySet<string> = new Set(["NonZero", "Compress"]);

/**
 * Lowers a NonZero or Compress node (names final) through `host`.
 *
 * @example
 * ```ts
 * if (DATA_SHAPED.has(node.opType)) lowerDataShaped(host, node, ctx);
 * ```
 */
export function lowerDataShaped(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  if (node.opType === "NonZero") nonZero(host, node, ctx);
  else compress(host, node, ctx);
}

function known(ctx: NodeContext, i: number, what: string) {
  const v = ctx.inputs[i];
  if (!v) return ctx.fail(`input ${i} (${what}) is required`);
  if (!v.value) {
    return ctx.fail(
      `${what} (input '${
        ctx.inputNames[i]
      }') must be known at compile time: output shapes that depend on run-time data are not supported yet`,
    );
  }
  return v.value;
}

/** Whether each element is nonzero (NaN is; -0 is not). */
function nonzeroMask(v: { dtype: number; data: ArrayLike<number | bigint> }): boolean[] {
  return Array.from(numericValues(v.dtype, v.data), (x) => (typeof x === "bigint" ? x !== 0n : x !== 0));
}

/** NonZero: the indices of the nonzero elements, int64 [rank, count], in row-major order. */
function nonZero(host: FlowHost, node: OnnxNode, ctx: NodeContext): void {
  const x = known(ctx, 0, "X");
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
  const cond = known(ctx, 1, "the condition");
  if (cond.dtype !== DType.bool || cond.shape.length !== 1) {
    ctx.fail("the condition must be a 1-D bool tensor");
  }
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
