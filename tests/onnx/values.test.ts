/**
 * Sequence and optional values (core/onnx/values.ts): the conformance cases' SequenceProto and
 * OptionalProto `.pb` files decode to the values the ONNX test generator wrote (onnx's
 * backend/test/case/node/*.py), malformed bytes fail in one line naming the file (a sequence or
 * optional where a tensor is expected says what it holds), and the
 * declared types read from a model describe themselves for the compiler's rejection.
 */
import onnxProto from "onnx-proto";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  decodeModel,
  decodeTensor,
  decodeValue,
  describeValueType,
  OnnxFormatError,
  type OnnxValue,
} from "../../core/onnx/mod.ts";
import type { TensorValue } from "../../core/ir/mod.ts";
import { conformanceIndex, SHARED } from "./_cases.ts";

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

/** The one-line error of reading a file as a tensor. */
function asTensorError(path: string, file: string): string {
  try {
    decodeValue(Deno.readFileSync(path), undefined, file);
  } catch (e) {
    assert(e instanceof OnnxFormatError, String(e));
    return e.message;
  }
  return "decoded as a tensor";
}

Deno.test("values: every sequence or optional .pb of the cases, read as a tensor, is one line saying what it holds", () => {
  let checked = 0;
  for (const name of Object.keys(conformanceIndex())) {
    let model;
    try {
      model = decodeModel(Deno.readFileSync(`${SHARED}${name}/model.onnx`));
    } catch (e) {
      if (e instanceof OnnxFormatError) continue; // string tensors and other out-of-scope models
      throw e;
    }
    const values = [
      ...model.inputs.map((v, i) => [v, `input_${i}`] as const),
      ...model.outputs.map((v, i) => [v, `output_${i}`] as const),
    ];
    for (const [info, file] of values) {
      if (!info.nonTensor) continue;
      const message = asTensorError(`${SHARED}${name}/test_data_set_0/${file}.pb`, `${file}.pb`);
      const want = new RegExp(
        `^${file}\\.pb: (a|an empty) SequenceProto( or OptionalProto)?( '${info.name}')?( of \\d+ [a-z ]+)?, not a TensorProto: opml takes tensors only$`,
      );
      assert(want.test(message), `${name} ${file}: ${message}`);
      checked++;
    }
  }
  assert(checked >= 20, `only ${checked} sequence and optional files`);
  // two elements: a sequence; one: a SequenceProto's bytes are an OptionalProto's too
  const data = (name: string, file: string) => `${dir(name)}/test_data_set_0/${file}.pb`;
  assertEquals(
    asTensorError(data("test_identity_sequence", "input_0"), "s.pb"),
    "s.pb: a SequenceProto 'x' of 2 tensors, not a TensorProto: opml takes tensors only",
  );
  assertEquals(
    asTensorError(data("test_if_seq", "output_0"), "o.pb"),
    "o.pb: a SequenceProto or OptionalProto 'res' of 1 tensor, not a TensorProto: opml takes tensors only",
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
