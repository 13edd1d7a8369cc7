/**
 * The ONNX front end: decodes a `ModelProto` (npm `onnx-proto`) into a plain graph of nodes,
 * typed value infos and initializer values, and a `TensorProto` into a {@link TensorValue}.
 * @module
 */
import { OpmlError } from "../errors.ts";
import onnxProto from "onnx-proto";
import {
  allocArray as allocTyped,
  DType,
  dtypeName,
  dtypeSize,
  packedBits,
  shapeSize,
  type TensorArray,
  type TensorValue,
} from "../ir/types.ts";
import { type NonTensorType, valueType } from "./value_types.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

/** A model file that cannot be read as ONNX: the message names the file and the problem. */
export class OnnxFormatError extends OpmlError {
  override name = "OnnxFormatError";
}

/** One attribute, already converted to plain values. */
export type AttributeValue =
  | { kind: "int"; value: number }
  | { kind: "ints"; value: number[] }
  | { kind: "float"; value: number }
  | { kind: "floats"; value: number[] }
  | { kind: "string"; value: string }
  | { kind: "strings"; value: string[] }
  | { kind: "tensor"; value: TensorValue }
  | { kind: "graph"; value: OnnxGraph }
  | { kind: "unsupported"; type: string };

/** One graph node. Empty input names mean an absent optional input. */
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

/** A graph input or output: dtype and shape; a dimension is a number or a symbolic name. */
export interface OnnxValueInfo {
  name: string;
  dtype: number;
  shape: (number | string)[];
  /** The model gives no shape at all (rank unknown): `shape` is then empty, not a scalar's. */
  rankUnknown?: boolean;
  /** A sequence, optional, map or sparse-tensor value (dtype 0): not a tensor. */
  nonTensor?: NonTensorType;
}

/**
 * A graph: the model's main graph, or a control-flow body (If's branches, Loop's and Scan's
 * body), whose nodes may also read names of the enclosing graphs.
 */
export interface OnnxGraph {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: Map<string, TensorValue>;
  nodes: OnnxNode[];
}

/** A decoded model. */
export interface OnnxModel extends OnnxGraph {
  irVersion: number;
  /** Opset version per domain ("" is the default ONNX domain). */
  opsets: Map<string, number>;
}

// deno-lint-ignore no-explicit-any
function num(v: any): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return v;
  return Number(BigInt(v.toString()));
}

// deno-lint-ignore no-explicit-any
function big(v: any): bigint {
  if (typeof v === "number") return BigInt(v);
  return BigInt(v.toString());
}

/** Allocates the typed array of a dtype, or throws naming the dtype. */
export function allocArray(dtype: number, n: number): TensorArray {
  const a = allocTyped(dtype, n);
  if (!a) throw new OnnxFormatError(`tensor type ${dtypeName(dtype)} is not supported`);
  return a;
}

/** A typed array over little-endian bytes (copied, so it is aligned). */
export function arrayFromBytes(dtype: number, bytes: Uint8Array, n: number): TensorArray {
  const out = allocArray(dtype, n);
  const need = out.byteLength;
  if (bytes.length !== need) {
    throw new OnnxFormatError(`raw data has ${bytes.length} bytes, expected ${need}`);
  }
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * Unpacks ONNX's packed sub-byte elements (int4, uint4, float4e2m1: two per byte; int2, uint2:
 * four per byte; first element in the low bits) to one per element, sign-extending int4/int2.
 */
export function unpackSubByte(dtype: number, packed: ArrayLike<number>, n: number): TensorArray {
  const bits = packedBits(dtype)!;
  const per = 8 / bits, need = Math.ceil(n / per);
  if (packed.length !== need) {
    throw new OnnxFormatError(`packed ${dtypeName(dtype)} data has ${packed.length} bytes, expected ${need}`);
  }
  const out = allocArray(dtype, n);
  const signed = dtype === DType.int4 || dtype === DType.int2;
  const mask = (1 << bits) - 1;
  for (let i = 0; i < n; i++) {
    const v = (packed[Math.floor(i / per)] >> ((i % per) * bits)) & mask;
    out[i] = signed && v >> (bits - 1) ? v - (1 << bits) : v;
  }
  return out;
}

/** Packs one-per-element sub-byte values the ONNX way (the inverse of {@link unpackSubByte}). */
export function packSubByte(dtype: number, data: ArrayLike<number>): Uint8Array {
  const bits = packedBits(dtype)!;
  const per = 8 / bits, mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(data.length / per));
  for (let i = 0; i < data.length; i++) out[Math.floor(i / per)] |= (data[i] & mask) << ((i % per) * bits);
  return out;
}

/** The little-endian bytes of a tensor value (a view when possible). */
export function bytesOf(t: TensorValue): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Options of {@link decodeModel} and {@link tensorFromProto}. */
export interface DecodeOptions {
  /**
   * The folder of the model file, where its external data lives (`location` is relative to it
   * and must stay inside it). Without it, a tensor with external data is an error.
   */
  externalDir?: string;
  /**
   * Collects each external data file the model names: its `location` (relative to the model's
   * folder) and the resolved path. The manifest records their digests (core/compiler/model_dir.ts).
   */
  externalFiles?: Map<string, string>;
}

/** Where a tensor's bytes are in an external data file (checked to exist and be long enough). */
export interface ExternalData {
  /** The file, resolved inside the model's folder. */
  path: string;
  offset: number;
  length: number;
}

/** The external data of lazily read tensors (their `data` is read on first use). */
const EXTERNAL = new WeakMap<TensorValue, { source: ExternalData; read: () => Uint8Array }>();

/**
 * The external data of a tensor decoded from a model with external data, and a reader of its
 * little-endian bytes that does not keep them (undefined for other tensors, and for a tensor
 * whose data is unpacked from sub-byte elements: its bytes are not the file's).
 */
export function externalSource(t: TensorValue): { source: ExternalData; read: () => Uint8Array } | undefined {
  return EXTERNAL.get(t);
}

/** Reads `length` bytes at `offset` of a file, naming the tensor when the file is too short. */
function readExternal(x: ExternalData, tensor: string): Uint8Array {
  const out = new Uint8Array(x.length);
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(x.path);
  } catch (e) {
    throw new OnnxFormatError(`tensor '${tensor}': cannot read external data ${x.path} (${errorWhy(e)})`);
  }
  try {
    f.seekSync(x.offset, Deno.SeekMode.Start);
    for (let got = 0; got < x.length;) {
      const k = f.readSync(out.subarray(got));
      if (k === null) {
        throw new OnnxFormatError(
          `tensor '${tensor}': external data ${x.path} ends at ${
            x.offset + got
          } bytes, before offset ${x.offset} + length ${x.length}`,
        );
      }
      got += k;
    }
  } finally {
    f.close();
  }
  return out;
}

function errorWhy(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return (e as Error).message.split(": ")[0];
}

/**
 * Resolves and checks a TensorProto's `external_data` entries (the ONNX convention: `location`
 * relative to the model's folder, optional `offset` and `length` in bytes): the file must be a
 * regular file inside the folder (no absolute path, no `..`, no symbolic link out of it) holding
 * `offset + length` bytes, and `length`, when given, the tensor's size.
 */
// deno-lint-ignore no-explicit-any
function externalData(p: any, size: number, opts: DecodeOptions): ExternalData {
  const name = p.name, dir = opts.externalDir;
  const entries = new Map<string, string>();
  for (const e of p.externalData ?? []) entries.set(e.key ?? "", e.value ?? "");
  const location = entries.get("location");
  if (!location) throw new OnnxFormatError(`tensor '${name}' has external data without a location`);
  if (dir === undefined) {
    throw new OnnxFormatError(
      `tensor '${name}' has external data (${location}), but the model was not read from a file`,
    );
  }
  if (location.startsWith("/") || location.split(/[\\/]/).includes("..") || location.includes("\0")) {
    throw new OnnxFormatError(
      `tensor '${name}': external data location '${location}' is outside the model's folder (a relative path below it is required)`,
    );
  }
  const field = (key: string, dflt: number): number => {
    const v = entries.get(key);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      throw new OnnxFormatError(`tensor '${name}': external data ${key} '${v}' is not a byte count`);
    }
    return Number(v);
  };
  const offset = field("offset", 0);
  const length = field("length", size);
  if (length !== size) {
    throw new OnnxFormatError(
      `tensor '${name}': external data length ${length}, but the tensor takes ${size} bytes`,
    );
  }
  const path = `${dir}/${location}`;
  let real: string, realDir: string;
  try {
    realDir = Deno.realPathSync(dir);
    real = Deno.realPathSync(path);
  } catch (e) {
    throw new OnnxFormatError(`tensor '${name}': external data ${path}: ${errorWhy(e)}`);
  }
  if (!real.startsWith(realDir.endsWith("/") ? realDir : `${realDir}/`)) {
    throw new OnnxFormatError(
      `tensor '${name}': external data ${path} leads outside the model's folder (to ${real})`,
    );
  }
  const st = Deno.statSync(real);
  if (!st.isFile) throw new OnnxFormatError(`tensor '${name}': external data ${path} is not a file`);
  if (st.size < offset + length) {
    throw new OnnxFormatError(
      `tensor '${name}': external data ${path} has ${st.size} bytes, fewer than offset ${offset} + length ${length}`,
    );
  }
  opts.externalFiles?.set(location, real);
  return { path: real, offset, length };
}

/**
 * Converts a decoded `onnx.TensorProto` into a {@link TensorValue}. A tensor with external data
 * (`opts.externalDir`) is checked at once and read when its `data` is first used.
 *
 * @example
 * ```ts
 * const t = tensorFromProto(onnx.TensorProto.decode(bytes));
 * ```
 */
// deno-lint-ignore no-explicit-any
export function tensorFromProto(p: any, opts: DecodeOptions = {}): TensorValue {
  const dtype = p.dataType ?? 0;
  const shape: number[] = (p.dims ?? []).map(num);
  const n = shapeSize(shape);
  if (!(n >= 0 && n <= 2 ** 31) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new OnnxFormatError(`tensor '${p.name}' has an invalid shape [${shape.join(",")}]`);
  }
  if (dtype === 8) throw new OnnxFormatError(`tensor '${p.name}' has type string, which is not supported`);
  if (p.dataLocation === 1 || (p.externalData && p.externalData.length)) {
    allocArray(dtype, 0); // an unsupported dtype is named before the file is looked at
    const bits = packedBits(dtype);
    const size = bits ? Math.ceil(n * bits / 8) : n * dtypeSize(dtype);
    const source = externalData(p, size, opts);
    const read = () => readExternal(source, p.name);
    let data: TensorArray | undefined;
    const t = { dtype, shape } as TensorValue;
    Object.defineProperty(t, "data", {
      enumerable: true,
      get: () => (data ??= bits ? unpackSubByte(dtype, read(), n) : arrayFromBytes(dtype, read(), n)),
      set: (v: TensorArray) => (data = v),
    });
    if (!bits) EXTERNAL.set(t, { source, read });
    return t;
  }
  if (packedBits(dtype)) {
    const packed = p.rawData && p.rawData.length ? p.rawData : (p.int32Data ?? []).map(num);
    return { dtype, shape, data: unpackSubByte(dtype, packed, n) };
  }
  if (p.rawData && p.rawData.length) {
    return { dtype, shape, data: arrayFromBytes(dtype, p.rawData, n) };
  }
  const data = allocArray(dtype, n);
  // deno-lint-ignore no-explicit-any
  let src: any[] = [];
  switch (dtype) {
    case DType.float32:
      src = p.floatData ?? [];
      break;
    case DType.float64:
      src = p.doubleData ?? [];
      break;
    case DType.int64:
      src = p.int64Data ?? [];
      break;
    case DType.uint32:
    case DType.uint64:
      src = p.uint64Data ?? [];
      break;
    default: // int8/uint8/int16/uint16/int32/bool and the small floats' bits are in int32_data
      src = p.int32Data ?? [];
  }
  if (src.length !== n) {
    throw new OnnxFormatError(`tensor '${p.name}' has ${src.length} values for shape [${shape.join(",")}]`);
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) data[i] = big(src[i]);
  } else {
    for (let i = 0; i < n; i++) data[i] = num(src[i]);
  }
  return { dtype, shape, data };
}

/**
 * Decodes a serialized `onnx.TensorProto` (`.pb` file of the conformance cases).
 *
 * @example
 * ```ts
 * const t = decodeTensor(Deno.readFileSync("input_0.pb"));
 * ```
 */
export function decodeTensor(bytes: Uint8Array, file = "tensor"): TensorValue & { name: string } {
  let p;
  try {
    p = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`${file}: not an ONNX TensorProto (${(e as Error).message})`);
  }
  // field 3, which a SequenceProto's or OptionalProto's tensors take too (values.ts tells them apart)
  if (p.segment) throw new OnnxFormatError(`${file}: a segmented TensorProto (field 3) is not supported`);
  try {
    return { ...tensorFromProto(p), name: p.name ?? "" };
  } catch (e) {
    throw new OnnxFormatError(`${file}: ${(e as Error).message}`);
  }
}

// deno-lint-ignore no-explicit-any
function attribute(a: any, file: string, opts: DecodeOptions): AttributeValue {
  switch (a.type) {
    case 5:
      return { kind: "graph", value: decodeGraph(a.g, file, opts) };
    case 1:
      return { kind: "float", value: a.f ?? 0 };
    case 2:
      return { kind: "int", value: num(a.i) };
    case 3:
      return { kind: "string", value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case 4:
      return { kind: "tensor", value: tensorFromProto(a.t, opts) };
    case 6:
      return { kind: "floats", value: [...(a.floats ?? [])] };
    case 7:
      return { kind: "ints", value: (a.ints ?? []).map(num) };
    case 8:
      // deno-lint-ignore no-explicit-any
      return { kind: "strings", value: (a.strings ?? []).map((s: any) => new TextDecoder().decode(s)) };
    default:
      return { kind: "unsupported", type: `attribute type ${a.type}` };
  }
}

// deno-lint-ignore no-explicit-any
function valueInfo(v: any): OnnxValueInfo {
  const type = valueType(v.type);
  if (type && type.kind !== "tensor") {
    return { name: v.name, dtype: 0, shape: [], rankUnknown: true, nonTensor: type };
  }
  const tt = v.type?.tensorType;
  if (!tt) return { name: v.name, dtype: 0, shape: [], rankUnknown: true };
  if (!tt.shape) return { name: v.name, dtype: tt.elemType ?? 0, shape: [], rankUnknown: true };
  // deno-lint-ignore no-explicit-any
  const shape = (tt.shape?.dim ?? []).map((d: any, i: number) =>
    d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : `?${i}`
  );
  return { name: v.name, dtype: tt.elemType ?? 0, shape };
}

/**
 * Decodes an ONNX model.
 *
 * @example
 * ```ts
 * const model = decodeModel(Deno.readFileSync("mnist.onnx"), "mnist.onnx");
 * console.log(model.nodes.length);
 * ```
 */
export function decodeModel(bytes: Uint8Array, file = "model", opts: DecodeOptions = {}): OnnxModel {
  // deno-lint-ignore no-explicit-any
  let m: any;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`${file}: not an ONNX model (${(e as Error).message})`);
  }
  const g = m.graph;
  if (!g || !g.node) throw new OnnxFormatError(`${file}: not an ONNX model (no graph)`);
  const opsets = new Map<string, number>();
  for (const o of m.opsetImport ?? []) opsets.set(o.domain ?? "", num(o.version));
  if (!opsets.has("") && opsets.has("ai.onnx")) opsets.set("", opsets.get("ai.onnx")!);
  return { irVersion: num(m.irVersion), opsets, ...decodeGraph(g, file, opts) };
}

/**
 * Reads and decodes an ONNX model file; its external data, if any, is resolved in the file's
 * folder, checked at once and read when used. Returns the model file's bytes too (the data
 * files are not included: `external` names them, by location, sorted, with their resolved paths).
 *
 * @example
 * ```ts
 * const { model, external } = readModelFile("build/models/big.onnx");
 * ```
 */
export function readModelFile(
  path: string,
): { model: OnnxModel; bytes: Uint8Array; external: { name: string; path: string }[] } {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw new OnnxFormatError(`${path}: ${errorWhy(e)}`);
  }
  const externalDir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  const externalFiles = new Map<string, string>();
  const model = decodeModel(bytes, path, { externalDir, externalFiles });
  const external = [...externalFiles].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([name, path]) => ({ name, path }));
  return { model, bytes, external };
}

/** Decodes a `GraphProto` (the main graph or a control-flow body). */
// deno-lint-ignore no-explicit-any
function decodeGraph(g: any, file: string, opts: DecodeOptions): OnnxGraph {
  const initializers = new Map<string, TensorValue>();
  try {
    for (const t of g?.initializer ?? []) initializers.set(t.name, tensorFromProto(t, opts));
  } catch (e) {
    throw new OnnxFormatError(`${file}: ${(e as Error).message}`);
  }
  // deno-lint-ignore no-explicit-any
  const nodes: OnnxNode[] = (g?.node ?? []).map((n: any, i: number) => {
    const attributes = new Map<string, AttributeValue>();
    for (const a of n.attribute ?? []) {
      try {
        attributes.set(a.name, attribute(a, file, opts));
      } catch (e) {
        throw new OnnxFormatError(
          `${file}: node '${n.name || i}' attribute ${a.name}: ${(e as Error).message}`,
        );
      }
    }
    return {
      name: n.name || `${n.opType}_${i}`,
      opType: n.opType ?? "",
      domain: n.domain === "ai.onnx" ? "" : (n.domain ?? ""),
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attributes,
    };
  });
  const inputs = (g?.input ?? []).map(valueInfo).filter((v: OnnxValueInfo) => !initializers.has(v.name));
  return { inputs, outputs: (g?.output ?? []).map(valueInfo), initializers, nodes };
}
