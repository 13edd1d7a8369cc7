/** Builds small ONNX models in memory (onnx-proto) for tests of bad input and the CLI. */
import onnxProto from "onnx-proto";
import type { TensorValue } from "../../core/ir/mod.ts";
import { bytesOf } from "../../core/onnx/load.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

/** A node of {@link makeModel}. */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  /** Attributes: an integral number is an int, an array ints (or strings), a Float32Array floats, a TensorValue a tensor. */
  attrs?: Record<string, number | number[] | string | string[] | Float32Array | TensorValue>;
}

/**
 * An ONNX model with float32 inputs/outputs of the given shapes (a string is a symbolic dim);
 * `types` gives other element types by name, `imports` other domains' opsets (ai.onnx.ml 5 needs
 * `irVersion` 10).
 */
export function makeModel(spec: {
  nodes: NodeSpec[];
  inputs: Record<string, (number | string)[]>;
  outputs: Record<string, (number | string)[]>;
  opset?: number;
  imports?: Record<string, number>;
  irVersion?: number;
  types?: Record<string, number>;
  initializers?: Record<string, { shape: number[]; data: number[] }>;
}): Uint8Array {
  const vi = (name: string, shape: (number | string)[]) => ({
    name,
    type: {
      tensorType: {
        elemType: spec.types?.[name] ?? 1,
        shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    opsetImport: [
      { domain: "", version: spec.opset ?? 17 },
      ...Object.entries(spec.imports ?? {}).map(([domain, version]) => ({ domain, version })),
    ],
    graph: {
      name: "g",
      node: spec.nodes.map((n, i) => ({
        name: `n${i}`,
        opType: n.op,
        domain: n.domain ?? "",
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([name, v]) =>
          typeof v === "string"
            ? { name, type: 3, s: new TextEncoder().encode(v) }
            : v instanceof Float32Array
            ? { name, type: 6, floats: [...v] }
            : Array.isArray(v) && v.some((x) => typeof x === "string")
            ? { name, type: 8, strings: v.map((x) => new TextEncoder().encode(String(x))) }
            : Array.isArray(v)
            ? { name, type: 7, ints: v }
            : typeof v === "object"
            ? { name, type: 4, t: { dims: v.shape, dataType: v.dtype, rawData: bytesOf(v) } }
            : Number.isInteger(v)
            ? { name, type: 2, i: v }
            : { name, type: 1, f: v }
        ),
      })),
      input: Object.entries(spec.inputs).map(([n, s]) => vi(n, s)),
      output: Object.entries(spec.outputs).map(([n, s]) => vi(n, s)),
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => ({
        name,
        dims: t.shape,
        dataType: 1,
        floatData: t.data,
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
