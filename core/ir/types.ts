/**
 * The deterministic program (IR) that `opml compile` lowers an ONNX graph to: static-shape
 * tensors and an ordered list of nodes, each one call of a C kernel (docs/IR.md).
 * @module
 */

/** Element types, numbered as onnx.TensorProto.DataType (and `DT_*` in core/kernels/kernel.h). */
export const DType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
  uint32: 12,
  uint64: 13,
  float16: 10,
  bfloat16: 16,
  float8e4m3fn: 17,
  float8e4m3fnuz: 18,
  float8e5m2: 19,
  float8e5m2fnuz: 20,
  uint4: 21,
  int4: 22,
  float4e2m1: 23,
  float8e8m0: 24,
  uint2: 25,
  int2: 26,
} as const;

/**
 * The storage-only float types (docs/IR.md, "Small types"): held as their bit patterns
 * (float16/bfloat16 in a Uint16Array, the float8 and float4 formats one per byte) and computed by
 * widening to float32 or float64.
 */
export const SMALL_FLOATS: ReadonlySet<number> = new Set([10, 16, 17, 18, 19, 20, 23, 24]);

/**
 * Bits per element of the packed sub-byte types (int4, uint4, float4e2m1: 4; int2, uint2: 2), or
 * undefined. ONNX packs them (first element in the low bits); the program, the runtime and their
 * data keys hold them unpacked, one byte per element (docs/IR.md), converted where ONNX data
 * enters (initializers, `.pb` files).
 */
export function packedBits(dtype: number): number | undefined {
  return dtype === 21 || dtype === 22 || dtype === 23 ? 4 : dtype === 25 || dtype === 26 ? 2 : undefined;
}

/** A dtype code. */
export type DTypeCode = (typeof DType)[keyof typeof DType];

/** Bytes per element (bool: one byte). */
export function dtypeSize(dtype: number): number {
  switch (dtype) {
    case DType.bool:
    case DType.uint8:
    case DType.int8:
    case DType.float8e4m3fn:
    case DType.float8e4m3fnuz:
    case DType.float8e5m2:
    case DType.float8e5m2fnuz:
    case DType.float8e8m0:
    case DType.float4e2m1:
    case DType.uint4:
    case DType.int4:
    case DType.uint2:
    case DType.int2:
      return 1;
    case DType.uint16:
    case DType.int16:
    case DType.float16:
    case DType.bfloat16:
      return 2;
    case DType.float32:
    case DType.int32:
    case DType.uint32:
      return 4;
    case DType.int64:
    case DType.uint64:
    case DType.float64:
      return 8;
    default:
      throw new RangeError(`unsupported dtype ${dtypeName(dtype)}`);
  }
}

/** The ONNX name of a dtype code (`float`, `int64`, ...). */
export function dtypeName(dtype: number): string {
  const names: Record<number, string> = {
    1: "float",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "string",
    9: "bool",
    10: "float16",
    11: "double",
    12: "uint32",
    13: "uint64",
    14: "complex64",
    15: "complex128",
    16: "bfloat16",
    17: "float8e4m3fn",
    18: "float8e4m3fnuz",
    19: "float8e5m2",
    20: "float8e5m2fnuz",
    21: "uint4",
    22: "int4",
    23: "float4e2m1",
    24: "float8e8m0",
    25: "uint2",
    26: "int2",
  };
  return names[dtype] ?? `dtype ${dtype}`;
}

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A tensor's element type and static shape. */
export interface TensorType {
  dtype: number;
  shape: number[];
}

/** Typed-array storage of a tensor value (bool is a Uint8Array of 0/1). */
export type TensorArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A tensor value known at compile time (a weight, a folded constant, a test input). */
export interface TensorValue extends TensorType {
  data: TensorArray;
}

/** How a tensor of the program gets its data. */
export type TensorKind = "activation" | "constant" | "input";

/** One tensor of the program. */
export interface IrTensor extends TensorType {
  name: string;
  kind: TensorKind;
  /** Little-endian bytes of a constant (committed by its Merkle-data key). */
  data?: Uint8Array;
  /**
   * The axis whose length is decided at run time (docs/IR.md, "Run-time shapes"): `shape[axis]`
   * is its bound. A program output with one has its length tensor among the trailing outputs.
   */
  runtimeAxis?: number;
}

/** One kernel call. */
export interface IrNode {
  /** The ONNX node's name (or `<opType>_<index>` when it has none): named in every error. */
  name: string;
  /** The ONNX op type it came from. */
  opType: string;
  /** Kernel op code. */
  op: number;
  /** Tensor indices; null for an absent optional input. */
  inputs: (number | null)[];
  outputs: number[];
  /** Normalised integer attributes (layout defined by the op, see core/compiler/ops/). */
  ints: bigint[];
  /** Normalised float attributes. */
  floats: number[];
}

/** The whole deterministic program. */
export interface Program {
  tensors: IrTensor[];
  nodes: IrNode[];
  /** Graph inputs, in order (tensor indices). */
  inputs: number[];
  /**
   * Graph outputs, in order (tensor indices), then the length tensor (int64 scalar) of each
   * graph output with a `runtimeAxis`, in the same order (core/ir/runtime_shapes.ts).
   */
  outputs: number[];
}

/** Allocates the typed array of a dtype (bool: Uint8Array), or undefined for a dtype without one. */
export function allocArray(dtype: number, n: number): TensorArray | undefined {
  switch (dtype) {
    case DType.float32:
      return new Float32Array(n);
    case DType.float64:
      return new Float64Array(n);
    case DType.int8:
    case DType.int4:
    case DType.int2:
      return new Int8Array(n);
    case DType.uint8:
    case DType.bool:
    case DType.uint4:
    case DType.uint2:
    case DType.float8e4m3fn:
    case DType.float8e4m3fnuz:
    case DType.float8e5m2:
    case DType.float8e5m2fnuz:
    case DType.float8e8m0:
    case DType.float4e2m1:
      return new Uint8Array(n);
    case DType.int16:
      return new Int16Array(n);
    case DType.uint16:
    case DType.float16:
    case DType.bfloat16:
      return new Uint16Array(n);
    case DType.int32:
      return new Int32Array(n);
    case DType.uint32:
      return new Uint32Array(n);
    case DType.int64:
      return new BigInt64Array(n);
    case DType.uint64:
      return new BigUint64Array(n);
    default:
      return undefined;
  }
} // deno-fmt-ignore
