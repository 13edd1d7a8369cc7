/**
 * The interface between the ONNX front end and the per-family operator modules: each ONNX
 * operator is one {@link OpDef} that checks a node, infers its output types, normalises its
 * attributes for the C kernel (docs/IR.md), and may evaluate it at compile time.
 * @module
 */
import { EXIT, OpmlError } from "../../errors.ts";
import type { TensorType, TensorValue } from "../../ir/types.ts";

/** What the front end knows about one input of a node. */
export interface ValueInfo extends TensorType {
  /** The value, when known at compile time (initializer, Constant, or folded). */
  value?: TensorValue;
  /**
   * A run-time dimension (docs/IR.md, "Run-time shapes"): `shape[axis]` is only its bound, the
   * actual length is the int64 scalar tensor named `length`, computed at run time.
   */
  runtime?: RuntimeDim;
  /**
   * A shape vector (the output of Shape) whose element `axis` is a run-time length (the others
   * are `dims`; `dims[axis]` is the bound): ConstantOfShape of it has a run-time dimension.
   */
  runtimeShape?: { dims: number[]; axis: number; length: string };
}

/** The domain of the compiler's own operators for run-time shapes (docs/IR.md, "Run-time shapes"). */
export const RUNTIME_DOMAIN = "opml.runtime";

/** A dimension whose length is known only at run time: `axis`, length tensor `length`. */
export interface RuntimeDim {
  axis: number;
  /** The int64 scalar tensor that holds the length (at most the bound, the static dim). */
  length: string;
}

/** Read access to a node's ONNX attributes, with defaults. Throws a {@link LoweringError} if a required one is missing. */
export interface Attributes {
  has(name: string): boolean;
  int(name: string, dflt?: number): number;
  ints(name: string, dflt?: number[]): number[];
  float(name: string, dflt?: number): number;
  floats(name: string, dflt?: number[]): number[];
  string(name: string, dflt?: string): string;
  strings(name: string, dflt?: string[]): string[];
  tensor(name: string): TensorValue;
}

/** Everything an {@link OpDef} sees of a node. */
export interface NodeContext {
  /** Node name (or `<opType>_<index>`). */
  name: string;
  opType: string;
  /** "" for the default ONNX domain. */
  domain: string;
  /** The model's opset version of the node's domain. */
  opset: number;
  /** One entry per ONNX input; undefined where an optional input is absent (empty name). */
  inputs: (ValueInfo | undefined)[];
  /** The ONNX names of the inputs ("" where absent), for messages that name a tensor. */
  inputNames: string[];
  /** Number of outputs the node declares (trailing optional ones may be unused). */
  outputCount: number;
  attrs: Attributes;
  /** Throws a {@link LoweringError} naming this node and operator. */
  fail(message: string): never;
}

/** The IR node an ONNX node lowers to. */
export interface Lowered {
  /** Kernel op code (the same number as in the family's C kernel table). */
  op: number;
  /** Normalised integer attributes. */
  ints?: (number | bigint)[];
  /** Normalised float attributes. */
  floats?: number[];
  /** Output types, one per output the node produces. */
  outputs: TensorType[];
  /**
   * Which ONNX inputs the kernel receives, in order (default: all). Inputs that only matter at
   * compile time (e.g. Reshape's shape) are left out.
   */
  keepInputs?: number[];
}

/** One ONNX operator. */
export interface OpDef {
  opType: string;
  /** "" (default) or e.g. "com.microsoft". */
  domain?: string;
  /** Lowering: checks dtypes and attributes, infers outputs, normalises attributes. */
  lower(ctx: NodeContext): Lowered;
  /**
   * Compile-time evaluation when every present input has a value (shape arithmetic on
   * integers, Shape itself, data movement of small constants). Must give exactly what the kernel
   * gives. The front end only calls it for small outputs, after `lower`. Returns undefined to
   * decline (e.g. a float computation that must stay a kernel call).
   */
  fold?(ctx: NodeContext, inputs: (TensorValue | undefined)[]): TensorValue[] | undefined;
}

/** An ONNX node the compiler cannot lower: the message names the node, operator and opset. */
export class LoweringError extends OpmlError {
  override name = "LoweringError";
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}
