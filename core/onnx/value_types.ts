/**
 * ONNX's declared value types (tensor, sequence, optional, map, sparse tensor) of a model's
 * value infos, and their one-phrase description for error messages. opml computes on tensors
 * only: the compiler rejects the others at the model boundary (docs/CONFORMANCE.md).
 * @module
 */
/** A declared value type other than a plain tensor. */
export type NonTensorType =
  | { kind: "sequence"; elem?: ValueType }
  | { kind: "optional"; elem?: ValueType }
  | { kind: "map" }
  | { kind: "sparse tensor" };

/** A declared value type: a tensor (its element dtype) or a non-tensor type. */
export type ValueType = { kind: "tensor"; dtype: number } | NonTensorType;

/**
 * Converts a decoded `onnx.TypeProto` into a {@link ValueType} (undefined when it gives none).
 *
 * @example
 * ```ts
 * valueType({ sequenceType: { elemType: { tensorType: { elemType: 1 } } } }); // a sequence of tensors
 * ```
 */
// deno-lint-ignore no-explicit-any
export function valueType(t: any): ValueType | undefined {
  if (!t) return undefined;
  if (t.tensorType) return { kind: "tensor", dtype: t.tensorType.elemType ?? 0 };
  if (t.sequenceType) return { kind: "sequence", elem: valueType(t.sequenceType.elemType) };
  if (t.optionalType) return { kind: "optional", elem: valueType(t.optionalType.elemType) };
  if (t.mapType) return { kind: "map" };
  if (t.sparseTensorType) return { kind: "sparse tensor" };
  return undefined;
}

/**
 * The phrase for a value type, as in "input 'x' is a sequence of tensors".
 *
 * @example
 * ```ts
 * describeValueType({ kind: "optional", elem: { kind: "tensor", dtype: 1 } }); // "an optional tensor"
 * ```
 */
export function describeValueType(t: ValueType | undefined): string {
  if (!t) return "a value of unknown type";
  switch (t.kind) {
    case "tensor":
      return "a tensor";
    case "sequence":
      return t.elem ? `a sequence of ${describeValueType(t.elem).replace(/^an? /, "")}s` : "a sequence";
    case "optional":
      return t.elem ? `an optional ${describeValueType(t.elem).replace(/^an? /, "")}` : "an optional";
    case "map":
      return "a map";
    case "sparse tensor":
      return "a sparse tensor";
  }
}
