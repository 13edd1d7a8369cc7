/**
 * Helpers of the quantized kernel tests: one-node ONNX models (any domain) built with
 * `onnx-proto` so onnxruntime-node can run them, a seeded PRNG, and straightforward reference
 * implementations written from the ONNX reference formulas (numpy semantics: int32 accumulation,
 * the float32 multiplier, a float64 product and np.rint), independent of core/kernels/quant.c.
 * @module
 */
import onnxProto from "onnx-proto";
import { DType, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import { bytesOf } from "../../core/onnx/load.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

/** One input of the node: fed at run time, or an initializer when `constant`. */
export interface QInput {
  name: string;
  value: TensorValue;
  constant?: boolean;
}

/** A one-node model. */
export interface QModel {
  opType: string;
  domain?: string;
  opset: number;
  /** In node order; null for an absent optional input. */
  inputs: (QInput | null)[];
  attrs?: Record<string, number | number[] | string>;
  /** The node's (and graph's) outputs; default one, `y`. */
  outputs?: string[];
  /** A second node reading the first's output `y` (then not a graph output unless `keepY`), and
   * its own inputs after it; its output `z` is the graph's. */
  then?: {
    opType: string;
    inputs?: QInput[];
    attrs?: Record<string, number | number[] | string>;
    keepY?: boolean;
  };
}

function tensorProto(name: string, v: TensorValue) {
  return onnx.TensorProto.create({ name, dataType: v.dtype, dims: v.shape, rawData: bytesOf(v).slice() });
}

function attribute(name: string, a: number | number[] | string) {
  const A = onnx.AttributeProto;
  // a non-integer number is a FLOAT attribute (Gemm's alpha, beta), an integer an INT one
  if (typeof a === "number") {
    return Number.isInteger(a) ? A.create({ name, type: 2, i: a }) : A.create({ name, type: 1, f: a });
  }
  if (typeof a === "string") return A.create({ name, type: 3, s: new TextEncoder().encode(a) });
  return A.create({ name, type: 7, ints: a.map(String) });
}

/** Encodes the model; its outputs (default one, `y`) have their types left to inference. */
export function encodeQModel(m: QModel): Uint8Array {
  const present = [...m.inputs, ...(m.then?.inputs ?? [])].filter((i): i is QInput => i !== null);
  const vi = (i: QInput) =>
    onnx.ValueInfoProto.create({
      name: i.name,
      type: {
        tensorType: { elemType: i.value.dtype, shape: { dim: i.value.shape.map((d) => ({ dimValue: d })) } },
      },
    });
  const opsets = [{ domain: "", version: m.domain ? 13 : m.opset }];
  if (m.domain) opsets.push({ domain: m.domain, version: m.opset });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: opsets,
    graph: onnx.GraphProto.create({
      name: m.opType,
      node: [
        onnx.NodeProto.create({
          name: "n",
          opType: m.opType,
          domain: m.domain ?? "",
          input: m.inputs.map((i) => i?.name ?? ""),
          output: m.outputs ?? ["y"],
          attribute: Object.entries(m.attrs ?? {}).map(([k, v]) => attribute(k, v)),
        }),
        ...(m.then
          ? [onnx.NodeProto.create({
            name: "n2",
            opType: m.then.opType,
            input: ["y", ...(m.then.inputs ?? []).map((i) => i.name)],
            output: ["z"],
            attribute: Object.entries(m.then.attrs ?? {}).map(([k, v]) => attribute(k, v)),
          })]
          : []),
      ],
      input: present.filter((i) => !i.constant).map(vi),
      initializer: present.filter((i) => i.constant).map((i) => tensorProto(i.name, i.value)),
      output: (m.then ? (m.then.keepY ? ["y", "z"] : ["z"]) : (m.outputs ?? ["y"])).map((name) =>
        onnx.ValueInfoProto.create({ name })
      ),
    }),
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
}

/** The range of an integer dtype. */
export function rangeOf(dtype: number): [number, number] {
  switch (dtype) {
    case DType.uint8:
      return [0, 255];
    case DType.int8:
      return [-128, 127];
    case DType.uint16:
      return [0, 65535];
    case DType.int16:
      return [-32768, 32767];
    case DType.int32:
      return [-(2 ** 31), 2 ** 31 - 1];
    default:
      throw new Error(`no range for dtype ${dtype}`);
  }
}

/** A tensor of an integer or float dtype from plain numbers. */
export function tensor(dtype: number, shape: number[], values: ArrayLike<number>): TensorValue {
  const ctor = {
    [DType.float32]: Float32Array,
    [DType.uint8]: Uint8Array,
    [DType.int8]: Int8Array,
    [DType.uint16]: Uint16Array,
    [DType.int16]: Int16Array,
    [DType.int32]: Int32Array,
  }[dtype];
  if (!ctor) throw new Error(`dtype ${dtype}`);
  if (values.length !== shapeSize(shape)) throw new Error(`${values.length} values for shape [${shape}]`);
  return { dtype, shape, data: ctor.from(values as ArrayLike<number>) };
}

/** Uniform random integers of a dtype (within [lo, hi] when given). */
export function randomInts(rng: Rng, dtype: number, shape: number[], lo?: number, hi?: number): TensorValue {
  const [a, b] = rangeOf(dtype);
  return tensor(dtype, shape, Array.from({ length: shapeSize(shape) }, () => rng.int(lo ?? a, hi ?? b)));
}

/** Round half to even (np.rint), without negative zeros. */
export function rint(v: number): number {
  const r = Math.round(v);
  return (r - v === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

/**
 * The ONNX reference requantisation: int32 accumulator times the float32 multiplier
 * fl32(fl32(s1 * s2) / sy), in float64 (exact for |acc| < 2^29), plus the zero point,
 * rounded half to even and clipped.
 */
export function requantRef(
  acc: number,
  s1: number,
  s2: number,
  sy: number,
  zp: number,
  dtype: number,
): number {
  const m = Math.fround(Math.fround(s1 * s2) / sy);
  const [lo, hi] = rangeOf(dtype);
  return Math.min(hi, Math.max(lo, rint(acc * m + zp)));
}

/** Numpy matmul of integer tensors minus zero points (a per row or per tensor, b per column or per tensor). */
export function matmulRef(
  a: TensorValue,
  b: TensorValue,
  azp?: TensorValue,
  bzp?: TensorValue,
): { shape: number[]; acc: number[] } {
  const as = a.shape.length === 1 ? [1, ...a.shape] : a.shape,
    bs = b.shape.length === 1 ? [...b.shape, 1] : b.shape;
  const M = as[as.length - 2], K = as[as.length - 1], N = bs[bs.length - 1];
  const ab = as.slice(0, -2), bb = bs.slice(0, -2), R = Math.max(ab.length, bb.length);
  const pa = [...Array(R - ab.length).fill(1), ...ab], pb = [...Array(R - bb.length).fill(1), ...bb];
  const dims = pa.map((d, i) => Math.max(d, pb[i]));
  const acc: number[] = [];
  const zpA = (m: number) => (azp ? Number(azp.data[azp.data.length === 1 ? 0 : m]) : 0);
  const zpB = (n: number) => (bzp ? Number(bzp.data[bzp.data.length === 1 ? 0 : n]) : 0);
  for (let batch = 0; batch < shapeSize(dims); batch++) {
    let rest = batch, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let d = R - 1; d >= 0; d--) {
      const i = rest % dims[d];
      rest = Math.floor(rest / dims[d]);
      ia += (pa[d] === 1 ? 0 : i) * sa;
      ib += (pb[d] === 1 ? 0 : i) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          s += (Number(a.data[(ia * M + m) * K + k]) - zpA(m)) *
            (Number(b.data[(ib * K + k) * N + n]) - zpB(n));
        }
        acc.push(s);
      }
    }
  }
  const shape = [...dims, ...(a.shape.length > 1 ? [M] : []), ...(b.shape.length > 1 ? [N] : [])];
  return { shape, acc };
}

/** Convolution parameters of {@link convRef}, every value explicit (2-D; 1-D with H = KH = 1). */
export interface ConvParams {
  group: number;
  pads: [number, number, number, number]; // top, left, bottom, right
  strides: [number, number];
  dilations: [number, number];
}

/** Int32 accumulators (plus bias) of a grouped 2-D convolution of x [N,C,H,W] and w [M,C/g,KH,KW]. */
export function convRef(
  x: TensorValue,
  w: TensorValue,
  zx: number,
  zw: (m: number) => number,
  bias: TensorValue | undefined,
  p: ConvParams,
): { shape: number[]; acc: number[] } {
  const [N, C, H, W] = x.shape, [M, Cg, KH, KW] = w.shape;
  const [pt, pl, pb, pr] = p.pads, [sh, sw] = p.strides, [dh, dw] = p.dilations;
  const OH = Math.floor((H + pt + pb - (dh * (KH - 1) + 1)) / sh) + 1;
  const OW = Math.floor((W + pl + pr - (dw * (KW - 1) + 1)) / sw) + 1;
  const Mg = M / p.group;
  const acc: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? Number(bias.data[m]) : 0;
          for (let c = 0; c < Cg; c++) {
            for (let kh = 0; kh < KH; kh++) {
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * sh + kh * dh - pt, iw = ow * sw + kw * dw - pl;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xv = Number(x.data[((n * C + g * Cg + c) * H + ih) * W + iw]) - zx;
                s += xv * (Number(w.data[((m * Cg + c) * KH + kh) * KW + kw]) - zw(m));
              }
            }
          }
          acc.push(s);
        }
      }
    }
  }
  return { shape: [N, M, OH, OW], acc };
}
