/**
 * Sequence and optional values (core/onnx/values.ts): the conformance cases' SequenceProto and
 * OptionalProto `.pb` files decode to the values the ONNX test generator wrote (onnx's
 * backend/test/case/node/*.py), malformed bytes fail in one line naming the file, and the
 * declared types read from a model describe themselves for the compiler's rejection.
 */
import onnxProto from "onnx-proto";
import { assertEquals, assertThrows } from "../_assert.ts";
import {
  decodeModel,
  decodeTensor,
  decodeValue,
  describeValueType,
  OnnxFormatError,
  type OnnxValue,
} from "../../core/onnx/mod.ts";
import type { TensorValue } from "../../core/ir/mod.ts";
import { SHARED } from "./_cases.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;
const dir = (name: string) => `${SHARED}node-tests/${name}`;

/** The .pb file of a case, decoded by the type its model declares. */
function read(name: string, file: "input_0" | "output_0"): OnnxValue {
  const model = decodeModel(Deno.readFileSync(`${dir(name)}/model.onnx`));
  const info = file === "input_0" ? model.inputs[0] : model.outputs[0];
  return decodeValue(
    Deno.readFileSync(`${dir(name)}/test_data_set_0/${file}.pb`),
    info.nonTensor,
    `${file}.pb`,
  );
}

const plain = (t: OnnxValue) => {
  const v = t as TensorValue;
  return { dtype: v.dtype, shape: v.shape, data: [...v.data].map(Number) };
};

Deno.test("values: SequenceProto and OptionalProto files decode to the generator's values", () => {
  // test_if_seq: res = [np.array([1, 2, 3, 4, 5], float32)]
  const seq = read("test_if_seq", "output_0");
  if (!("kind" in seq) || seq.kind !== "sequence") throw new Error("not a sequence");
  assertEquals(seq.elements.map(plain), [{ dtype: 1, shape: [5], data: [1, 2, 3, 4, 5] }]);
  // test_identity_opt: an optional sequence holding [np.array([1, 2, 3, 4, 5], float32)]
  const opt = read("test_identity_opt", "input_0");
  assertEquals(
    JSON.stringify(opt, (_, v) => (ArrayBuffer.isView(v) ? [...(v as Float32Array)] : v)),
    JSON.stringify({
      kind: "optional",
      value: { kind: "sequence", elements: [{ dtype: 1, shape: [5], data: [1, 2, 3, 4, 5] }] },
    }),
  );
  // test_optional_has_element_empty_optional_input: an empty optional
  assertEquals(read("test_optional_has_element_empty_optional_input", "input_0"), { kind: "optional" });
  // test_split_to_sequence_nokeepdims: X [3,6] split along axis 1 without keepdims: its 6 columns
  const x = decodeTensor(
    Deno.readFileSync(`${dir("test_split_to_sequence_nokeepdims")}/test_data_set_0/input_0.pb`),
  );
  const cols = read("test_split_to_sequence_nokeepdims", "output_0");
  if (!("kind" in cols) || cols.kind !== "sequence") throw new Error("not a sequence");
  assertEquals(
    cols.elements.map(plain),
    [0, 1, 2, 3, 4, 5].map((c) => ({
      dtype: 1,
      shape: [3],
      data: [0, 1, 2].map((r) => x.data[r * 6 + c] as number),
    })),
  );
});

Deno.test("values: a hand-encoded SequenceProto decodes; truncated or mistyped bytes fail in one line naming the file", () => {
  const t = onnx.TensorProto.encode({ dims: [2], dataType: 7, int64Data: [300, -1] }).finish() as Uint8Array;
  // name "s" (field 1), elem_type 1 = tensor (field 2), one tensor (field 3)
  const bytes = new Uint8Array([0x0a, 1, 0x73, 0x10, 1, 0x1a, t.length, ...t]);
  const v = decodeValue(bytes, { kind: "sequence" }, "s.pb");
  if (!("kind" in v) || v.kind !== "sequence") throw new Error("not a sequence");
  assertEquals(v.elements.length, 1);
  assertEquals([...(v.elements[0] as TensorValue).data], [300n, -1n]);
  assertThrows(
    () => decodeValue(bytes.slice(0, -2), { kind: "sequence" }, "s.pb"),
    OnnxFormatError,
    /^s\.pb: not a valid ONNX SequenceProto \(truncated/,
  );
  // elem_type 5 (optional) holding a tensor field: inconsistent
  const mistyped = new Uint8Array([0x10, 5, 0x1a, t.length, ...t]);
  assertThrows(
    () => decodeValue(mistyped, { kind: "sequence" }, "m.pb"),
    OnnxFormatError,
    /^m\.pb: not a valid ONNX SequenceProto \(sequence of element type 5 holds field 3\)$/,
  );
});

Deno.test("values: declared types from the model describe themselves", () => {
  const model = decodeModel(Deno.readFileSync(`${dir("test_loop16_seq_none")}/model.onnx`));
  const opt = model.inputs.find((i) => i.nonTensor);
  assertEquals(describeValueType(opt?.nonTensor), "an optional sequence of tensors");
  assertEquals(describeValueType(model.outputs[0].nonTensor), "a sequence of tensors");
  assertEquals(model.inputs.filter((i) => !i.nonTensor).map((i) => i.dtype), [7, 9]);
  assertEquals(describeValueType({ kind: "map" }), "a map");
});
