/**
 * Serialized ONNX values of the conformance cases (`.pb` files): a `TensorProto`, a
 * `SequenceProto` or an `OptionalProto`. Which one a file holds follows from the model's
 * declared type (value_types.ts), not from the bytes: read as a TensorProto, a SequenceProto's
 * name field would decode as the dims of a shape.
 * @module
 */
import onnxProto from "onnx-proto";
import type { TensorValue } from "../ir/types.ts";
import { decodeTensor, OnnxFormatError, tensorFromProto } from "./load.ts";
import { describeValueType, type ValueType } from "./value_types.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

/** A decoded sequence value (`SequenceProto`). */
export interface SequenceValue {
  kind: "sequence";
  elements: OnnxValue[];
}

/** A decoded optional value (`OptionalProto`): `value` is absent for an empty optional. */
export interface OptionalValue {
  kind: "optional";
  value?: OnnxValue;
}

/** A value of a conformance case: a tensor, a sequence or an optional. */
export type OnnxValue = TensorValue | SequenceValue | OptionalValue;

// The protobuf wire format, just enough for SequenceProto / OptionalProto (onnx-proto has no
// message types for them): a field list of (number, varint or bytes).
function fields(bytes: Uint8Array): { no: number; int?: number; bytes?: Uint8Array }[] {
  const out: { no: number; int?: number; bytes?: Uint8Array }[] = [];
  let p = 0;
  const varint = (): number => {
    let v = 0, mul = 1;
    for (;;) {
      if (p >= bytes.length) throw new Error("truncated varint");
      const b = bytes[p++];
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
      if (mul > 2 ** 63) throw new Error("varint too long");
    }
  };
  while (p < bytes.length) {
    const key = varint(), no = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) out.push({ no, int: varint() });
    else if (wire === 2) {
      const n = varint();
      if (p + n > bytes.length) throw new Error("truncated field");
      out.push({ no, bytes: bytes.subarray(p, p + n) });
      p += n;
    } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else throw new Error(`wire type ${wire} is not supported`);
  }
  return out;
}

// SequenceProto / OptionalProto: elem_type 2 (1 tensor, 2 sparse tensor, 3 sequence, 4 map,
// 5 optional); the values in fields 3 (tensor), 4 (sparse), 5 (sequence), 6 (map), 7 (optional)
const ELEM_FIELD: Record<number, number> = { 1: 3, 2: 4, 3: 5, 4: 6, 5: 7 };

function decodeElement(no: number, bytes: Uint8Array): OnnxValue {
  if (no === 3) return tensorFromProto(onnx.TensorProto.decode(bytes));
  if (no === 5) return decodeSequenceProto(bytes);
  if (no === 7) return decodeOptionalProto(bytes);
  throw new Error(no === 4 ? "sparse tensor elements are not supported" : "map elements are not supported");
}

function decodeSequenceProto(bytes: Uint8Array): SequenceValue {
  const fs = fields(bytes);
  const elemType = fs.find((f) => f.no === 2)?.int ?? 0;
  const want = ELEM_FIELD[elemType];
  const elements = fs.filter((f) => f.no >= 3 && f.no <= 7).map((f) => {
    if (f.no !== want) throw new Error(`sequence of element type ${elemType} holds field ${f.no}`);
    return decodeElement(f.no, f.bytes!);
  });
  return { kind: "sequence", elements };
}

function decodeOptionalProto(bytes: Uint8Array): OptionalValue {
  const fs = fields(bytes);
  const elemType = fs.find((f) => f.no === 2)?.int ?? 0;
  const held = fs.filter((f) => f.no >= 3 && f.no <= 7);
  if (held.length > 1) throw new Error(`optional holds ${held.length} values`);
  if (!held.length) return { kind: "optional" };
  if (held[0].no !== ELEM_FIELD[elemType]) {
    throw new Error(`optional of element type ${elemType} holds field ${held[0].no}`);
  }
  return { kind: "optional", value: decodeElement(held[0].no, held[0].bytes!) };
}

const ELEM_NAMES: Record<number, string> = {
  1: "tensor",
  2: "sparse tensor",
  3: "sequence",
  4: "map",
  5: "optional",
};

/**
 * What bytes that are not a TensorProto hold when they read as a SequenceProto or OptionalProto
 * ("a SequenceProto 'x' of 3 tensors", "a SequenceProto or OptionalProto of 1 tensor": the two
 * encode one element alike; "an empty SequenceProto or OptionalProto 'x'"), else undefined.
 */
function heldInstead(bytes: Uint8Array): string | undefined {
  let n: number, fs: ReturnType<typeof fields>;
  try {
    n = decodeSequenceProto(bytes).elements.length;
    fs = fields(bytes);
  } catch {
    return undefined;
  }
  const raw = fs.find((f) => f.no === 1)?.bytes;
  const text = raw ? new TextDecoder().decode(raw) : "";
  const name = /^[\x20-\x7e]+$/.test(text) ? ` '${text}'` : "";
  const elem = ELEM_NAMES[fs.find((f) => f.no === 2)?.int ?? 0];
  // an empty one has no element type to tell it from a tensor without data: its name must
  if (n === 0) return elem || name ? `an empty SequenceProto or OptionalProto${name}` : undefined;
  if (!elem) return undefined;
  const what = n > 1 ? "a SequenceProto" : "a SequenceProto or OptionalProto";
  return `${what}${name} of ${n} ${elem}${n === 1 ? "" : "s"}`;
}

/**
 * Decodes a serialized value of the declared type: a `TensorProto` for a tensor, a
 * `SequenceProto` for a sequence, an `OptionalProto` for an optional. A tensor's file that holds
 * a SequenceProto or OptionalProto is rejected in one line saying so.
 *
 * @example
 * ```ts
 * const seq = decodeValue(Deno.readFileSync("input_0.pb"), { kind: "sequence" }, "input_0.pb");
 * ```
 */
export function decodeValue(bytes: Uint8Array, type: ValueType | undefined, file = "value"): OnnxValue {
  if (!type || type.kind === "tensor") {
    try {
      const { dtype, shape, data } = decodeTensor(bytes, file);
      return { dtype, shape, data };
    } catch (e) {
      const held = e instanceof OnnxFormatError ? heldInstead(bytes) : undefined;
      if (held) throw new OnnxFormatError(`${file}: ${held}, not a TensorProto: opml takes tensors only`);
      throw e;
    }
  }
  try {
    if (type.kind === "sequence") return decodeSequenceProto(bytes);
    if (type.kind === "optional") return decodeOptionalProto(bytes);
  } catch (e) {
    const what = type.kind === "sequence" ? "SequenceProto" : "OptionalProto";
    throw new OnnxFormatError(`${file}: not a valid ONNX ${what} (${(e as Error).message})`);
  }
  throw new OnnxFormatError(`${file}: ${describeValueType(type)} value cannot be read`);
}
