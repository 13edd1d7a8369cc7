/**
 * Tensor sequences resolved at compile time, inside one graph: a sequence is a list of tensor
 * names known while lowering (SequenceConstruct, SequenceEmpty, SequenceInsert, SequenceErase
 * with compile-time positions, SplitToSequence with a compile-time split), read by SequenceAt
 * (an Identity of the element), SequenceLength (a constant) and ConcatFromSequence (a Concat,
 * after an Unsqueeze of every element for new_axis=1). No sequence exists at run time: a
 * sequence that crosses the model boundary, a control-flow body's boundary, or reaches another
 * operator is rejected in one line.
 * @module
 */
import type { AttributeValue, OnnxNode } from "../onnx/load.ts";
import { DType, dtypeName, type TensorValue } from "../ir/types.ts";
import type { FlowHost } from "./control_flow.ts";
import type { NodeContext } from "./ops/types.ts";

/** A compile-time sequence: its element type and the names of its tensors, in order. */
export interface CompileTimeSequence {
  dtype: number;
  elements: string[];
}

/** The sequence operators lowered here. */
export const SEQUENCE_OPS: ReadonlySet<string> = new Set([
  "SequenceConstruct",
  "SequenceEmpty",
  "SequenceInsert",
  "SequenceErase",
  "SequenceAt",
  "SequenceLength",
  "ConcatFromSequence",
  "SplitToSequence",
]);

/** Which inputs of a sequence operator are sequences (the others are tensors). */
const SEQUENCE_INPUTS: Record<string, number[]> = {
  SequenceInsert: [0],
  SequenceErase: [0],
  SequenceAt: [0],
  SequenceLength: [0],
  ConcatFromSequence: [0],
};

/** True for the inputs of `opType` that are sequences. */
export function readsSequence(opType: string, i: number): boolean {
  return SEQUENCE_INPUTS[opType]?.includes(i) ?? false;
}

const ints = (value: number[]): AttributeValue => ({ kind: "ints", value });
const int = (value: number): AttributeValue => ({ kind: "int", value });
const int64s = (v: number[], shape = [v.length]): TensorValue => ({
  dtype: DType.int64,
  shape,
  data: BigInt64Array.from(v, (x) => BigInt(x)),
});

/**
 * Lowers one sequence operator. `ctx` is the node's context with its sequence inputs absent;
 * `sequences` holds every sequence defined so far, by name.
 *
 * @example
 * ```ts
 * if (SEQUENCE_OPS.has(node.opType)) lowerSequence(host, node, ctx, sequences);
 * ```
 */
export function lowerSequence(
  host: FlowHost,
  node: OnnxNode,
  ctx: NodeContext,
  sequences: Map<string, CompileTimeSequence>,
): void {
  const seqIn = (i: number): CompileTimeSequence => {
    const s = sequences.get(node.inputs[i]);
    if (!s) ctx.fail(`input ${i} '${node.inputs[i]}' is not a sequence`);
    return s!;
  };
  const tensorIn = (i: number) => {
    const v = ctx.inputs[i];
    if (!v) ctx.fail(`input ${i} is missing`);
    return v!;
  };
  /** A scalar position known at compile time, in [-n, n - 1] (or [-n, n] when `end` is allowed). */
  const position = (i: number, n: number, end: boolean): number => {
    const v = tensorIn(i);
    if (!v.value) ctx.fail(`the position '${node.inputs[i]}' must be known at compile time`);
    if (v.value!.data.length !== 1) ctx.fail(`the position has ${v.value!.data.length} values, expected 1`);
    const p = Number(v.value!.data[0]);
    const hi = end ? n : n - 1;
    if (p < -n || p > hi) ctx.fail(`position ${p} is out of range [${-n}, ${hi}] for a sequence of ${n}`);
    return p < 0 ? p + n : p;
  };
  const define = (s: CompileTimeSequence) => sequences.set(node.outputs[0], s);
  const sub = (suffix: string) => `${node.outputs[0]}:${node.name}:${suffix}`;
  const opset = ctx.opset;
  /** Unsqueeze or Squeeze of every tensor on one axis (axes: an input from opset 13, else an attribute). */
  const onAxis = (opType: string, tensors: string[], axis: number, label: string): string[] => {
    const axesName = sub(`${opType}-axes`);
    if (opset >= 13) host.values.set(axesName, { dtype: DType.int64, shape: [1], value: int64s([axis]) });
    return tensors.map((t, i) => {
      const out = sub(`${label}${i}`);
      host.lower({
        name: `${node.name}/${opType}${i}`,
        opType,
        domain: "",
        inputs: opset >= 13 ? [t, axesName] : [t],
        outputs: [out],
        attributes: opset >= 13 ? new Map() : new Map([["axes", ints([axis])]]),
      });
      return out;
    });
  };

  switch (node.opType) {
    case "SequenceConstruct": {
      if (!node.inputs.length) ctx.fail("it needs at least one input");
      const dtypes = node.inputs.map((_, i) => tensorIn(i).dtype);
      if (dtypes.some((d) => d !== dtypes[0])) {
        ctx.fail(`its inputs have different types (${dtypes.map(dtypeName).join(", ")})`);
      }
      return void define({ dtype: dtypes[0], elements: [...node.inputs] });
    }
    case "SequenceEmpty":
      return void define({ dtype: ctx.attrs.int("dtype", DType.float32), elements: [] });
    case "SequenceInsert": {
      const s = seqIn(0), t = tensorIn(1);
      if (t.dtype !== s.dtype) {
        ctx.fail(`the tensor is ${dtypeName(t.dtype)}, the sequence holds ${dtypeName(s.dtype)}`);
      }
      const p = node.inputs[2] ? position(2, s.elements.length, true) : s.elements.length;
      const elements = [...s.elements];
      elements.splice(p, 0, node.inputs[1]);
      return void define({ dtype: s.dtype, elements });
    }
    case "SequenceErase": {
      const s = seqIn(0), n = s.elements.length;
      if (!n) ctx.fail("the sequence is empty");
      const p = node.inputs[1] ? position(1, n, false) : n - 1;
      return void define({ dtype: s.dtype, elements: s.elements.filter((_, i) => i !== p) });
    }
    case "SequenceAt": {
      const s = seqIn(0);
      const p = position(1, s.elements.length, false);
      return host.lower({ ...node, opType: "Identity", inputs: [s.elements[p]], attributes: new Map() });
    }
    case "SequenceLength": {
      const n = seqIn(0).elements.length;
      const v = int64s([n], []);
      return void host.values.set(node.outputs[0], { dtype: v.dtype, shape: v.shape, value: v });
    }
    case "ConcatFromSequence": {
      const s = seqIn(0);
      if (!s.elements.length) ctx.fail("the sequence is empty");
      if (!ctx.attrs.has("axis")) ctx.fail("the attribute 'axis' is required");
      const newAxis = ctx.attrs.int("new_axis", 0);
      let axis = ctx.attrs.int("axis");
      let inputs = s.elements;
      if (newAxis === 1) {
        // stack: every element gets a new dimension of 1 at `axis`, then a Concat along it
        const rank = host.values.get(inputs[0])!.shape.length;
        if (axis < -rank - 1 || axis > rank) ctx.fail(`axis ${axis} is out of range for rank ${rank} + 1`);
        if (axis < 0) axis += rank + 1;
        inputs = onAxis("Unsqueeze", inputs, axis, "unsqueezed");
      } else if (newAxis !== 0) ctx.fail(`new_axis must be 0 or 1, not ${newAxis}`);
      return host.lower({ ...node, opType: "Concat", inputs, attributes: new Map([["axis", int(axis)]]) });
    }
    case "SplitToSequence": {
      const x = tensorIn(0), rank = x.shape.length;
      let axis = ctx.attrs.int("axis", 0);
      if (axis < -rank || axis >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
      if (axis < 0) axis += rank;
      const dim = x.shape[axis];
      let sizes: number[];
      const split = node.inputs[1] ? tensorIn(1) : undefined;
      if (split) {
        if (!split.value) ctx.fail(`the split '${node.inputs[1]}' must be known at compile time`);
        const v = [...split.value!.data].map(Number);
        if (split.shape.length === 0) {
          if (!(v[0] > 0)) ctx.fail(`the split ${v[0]} must be positive`);
          sizes = Array.from({ length: Math.ceil(dim / v[0]) }, (_, i) => Math.min(v[0], dim - i * v[0]));
        } else {
          if (split.shape.length !== 1) ctx.fail(`the split has rank ${split.shape.length}, expected 0 or 1`);
          if (v.some((d) => !(d > 0))) ctx.fail(`the split [${v}] has a size below 1`);
          if (v.reduce((a, b) => a + b, 0) !== dim) {
            ctx.fail(`the split [${v}] does not add up to dimension ${axis}'s ${dim}`);
          }
          sizes = v;
        }
      } else sizes = Array(dim).fill(1);
      const squeeze = !split && ctx.attrs.int("keepdims", 1) === 0;
      const parts = sizes.map((_, i) => sub(squeeze ? `part${i}` : `${i}`));
      if (sizes.length) {
        const splitName = sub("split");
        if (opset >= 13) {
          host.values.set(splitName, { dtype: DType.int64, shape: [sizes.length], value: int64s(sizes) });
        }
        host.lower({
          name: `${node.name}/split`,
          opType: "Split",
          domain: "",
          inputs: opset >= 13 ? [node.inputs[0], splitName] : [node.inputs[0]],
          outputs: parts,
          attributes: new Map<string, AttributeValue>([
            ["axis", int(axis)],
            ...(opset >= 13 ? [] : [["split", ints(sizes)] as [string, AttributeValue]]),
          ]),
        });
      }
      let elements = parts;
      if (squeeze) {
        elements = onAxis("Squeeze", parts, axis, "");
      }
      return void define({ dtype: x.dtype, elements });
    }
  }
  ctx.fail("is not a sequence operator");
}
