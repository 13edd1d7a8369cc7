/**
 * Single-node ONNX models for the movement kernel tests: built with `onnx-proto` so that
 * onnxruntime-node can serve as the independent reference, plus seeded random tensors.
 * @module
 */
import onnxProto from "onnx-proto";
import { DType, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import { allocArray, bytesOf } from "../../core/onnx/load.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

/** An attribute value: int, ints, float, string or a tensor. */
export type Attr = number | number[] | bigint[] | { float: number } | string | TensorValue;

/** One input of the node: a graph input (fed at run time) or an initializer. */
export interface NodeInput {
  name: string;
  value: TensorValue;
  /** Stored as an initializer (a compile-time constant). */
  constant?: boolean;
}

/** A one-node model. */
export interface NodeModel {
  opType: string;
  opset: number;
  /** Inputs in node order; null for an absent optional input. */
  inputs: (NodeInput | null)[];
  attrs?: Record<string, Attr>;
  outputs?: number;
}

function tensorProto(name: string, v: TensorValue) {
  return onnx.TensorProto.create({ name, dataType: v.dtype, dims: v.shape, rawData: bytesOf(v).slice() });
}

function attribute(name: string, a: Attr) {
  const A = onnx.AttributeProto;
  if (typeof a === "number") return A.create({ name, type: 2, i: a });
  if (typeof a === "string") return A.create({ name, type: 3, s: new TextEncoder().encode(a) });
  if (Array.isArray(a)) {
    return A.create({
      name,
      type: 7,
      ints: (a as (number | bigint)[]).map((x) => x.toString()),
    });
  }
  if ("float" in a) return A.create({ name, type: 1, f: a.float });
  return A.create({ name, type: 4, t: tensorProto(name, a) });
}

function valueInfo(name: string, v?: TensorValue) {
  if (!v) return onnx.ValueInfoProto.create({ name }); // type left to inference
  const tensorType = { elemType: v.dtype, shape: { dim: v.shape.map((d) => ({ dimValue: d })) } };
  return onnx.ValueInfoProto.create({ name, type: { tensorType } });
}

/**
 * Encodes the model. Outputs are named `y0`, `y1`, ... with unknown type (the compiler infers
 * them; onnxruntime too).
 */
export function encodeNodeModel(m: NodeModel): Uint8Array {
  const outs = Array.from({ length: m.outputs ?? 1 }, (_, i) => `y${i}`);
  const present = m.inputs.filter((i): i is NodeInput => i !== null);
  const graph = onnx.GraphProto.create({
    name: m.opType,
    node: [onnx.NodeProto.create({
      name: "n",
      opType: m.opType,
      input: m.inputs.map((i) => i?.name ?? ""),
      output: outs,
      attribute: Object.entries(m.attrs ?? {}).map(([k, v]) => attribute(k, v)),
    })],
    input: present.filter((i) => !i.constant).map((i) => valueInfo(i.name, i.value)),
    initializer: present.filter((i) => i.constant).map((i) => tensorProto(i.name, i.value)),
    output: outs.map((o) => valueInfo(o)),
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: m.opset }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A small seeded PRNG (mulberry32), so every run tests the same cases. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

/** Special float32 bit patterns every copy must preserve (canonical NaN only: the runtime canonicalises). */
const SPECIAL_F32 = [
  0x00000000,
  0x80000000,
  0x00000001,
  0x807fffff,
  0x7f800000,
  0xff800000,
  0x7fc00000,
  0x3f800000,
];

/** A random tensor of a dtype: distinct-looking values, including float specials. */
export function randomTensor(rng: Rng, dtype: number, shape: number[]): TensorValue {
  const n = shapeSize(shape);
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) {
    if (data instanceof BigInt64Array) data[i] = BigInt(rng.int(-1e9, 1e9)) * 1000003n;
    else if (data instanceof BigUint64Array) data[i] = BigInt(rng.int(0, 2e9)) * 1000003n;
    else if (data instanceof Float32Array) {
      if (rng.next() < 0.2) new Uint32Array(data.buffer)[i] = rng.pick(SPECIAL_F32);
      else data[i] = (rng.next() - 0.5) * 1000;
    } else if (data instanceof Float64Array) data[i] = (rng.next() - 0.5) * 1e6;
    else if (dtype === DType.bool) data[i] = rng.int(0, 1);
    else data[i] = rng.int(-100000, 100000); // wraps into the type's range
  }
  return { dtype, shape, data };
}

/** An int64 tensor. */
export function i64(values: (number | bigint)[], shape = [values.length]): TensorValue {
  return { dtype: DType.int64, shape, data: BigInt64Array.from(values.map((v) => BigInt(v))) };
}

/** An int32 tensor. */
export function i32(values: number[], shape = [values.length]): TensorValue {
  return { dtype: DType.int32, shape, data: Int32Array.from(values) };
}
