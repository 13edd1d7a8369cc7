/**
 * Compile-time sequences (core/compiler/sequences.ts): SequenceConstruct/Insert/Erase/At/Length,
 * ConcatFromSequence (concat and stack) and SplitToSequence (scalar split, split list, no split
 * with keepdims 0) inside one graph, at opset 17 (axes and split as inputs) and 12 (as
 * attributes): the native outputs equal onnxruntime's bit for bit (pure data movement). A
 * sequence at run time, a run-time position and a sequence read by another operator are one-line
 * rejections.
 */
import onnxProto from "onnx-proto";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative, runOrt } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { bytesOf, decodeModel } from "../../core/onnx/mod.ts";
import { makeModel, type NodeSpec } from "./_make_model.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;

/** A float32 model with int64 initializers `ints` and int64 outputs `intOutputs`. */
function model(spec: {
  nodes: NodeSpec[];
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  opset?: number;
  ints?: Record<string, number[] | number>;
  intOutputs?: string[];
}): Uint8Array {
  const m = onnx.ModelProto.decode(makeModel(spec));
  for (const [name, v] of Object.entries(spec.ints ?? {})) {
    const data = Array.isArray(v) ? v : [v];
    m.graph.initializer.push({
      name,
      dims: Array.isArray(v) ? [v.length] : [],
      dataType: 7,
      int64Data: data,
    });
  }
  // deno-lint-ignore no-explicit-any
  for (const o of m.graph.output as any[]) {
    if (spec.intOutputs?.includes(o.name)) o.type.tensorType.elemType = 7;
  }
  return onnx.ModelProto.encode(m).finish();
}

const ramp = (shape: number[], from: number): TensorValue => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: DType.float32, shape, data: Float32Array.from({ length: n }, (_, i) => from + i * 0.25) };
};

/** opml's native outputs against onnxruntime's, byte for byte. */
async function sameAsOrt(
  bytes: Uint8Array,
  inputs: Record<string, TensorValue>,
  shapes: Record<string, number[]>,
) {
  const program = compileGraph(decodeModel(bytes, "seq.onnx"));
  const prog = assemble(program);
  const rt = await buildRuntime();
  const { outputs } = await runNative(
    rt.native,
    prog,
    program.inputs.map((t) => inputs[program.tensors[t].name]),
  );
  const path = await Deno.makeTempFile({ suffix: ".onnx" });
  try {
    await Deno.writeFile(path, bytes);
    const ref = (await runOrt(path, inputs)).outputs;
    Object.keys(shapes).forEach((name, i) => {
      assertEquals(outputs[i].shape, shapes[name], `${name} shape`);
      assertEquals(ref[name].shape, shapes[name], `${name} onnxruntime shape`);
      assertEquals(outputs[i].dtype, ref[name].dtype, `${name} dtype`);
      assertEquals(bytesOf(outputs[i]), bytesOf(ref[name]), `${name} differs from onnxruntime`);
    });
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("sequences: construct, insert, erase, at, length, concat and stack equal onnxruntime", async () => {
  for (const opset of [17, 12]) {
    const outputs = { a: [2, 3], c: [2, 9], st: [2, 3, 3], st0: [3, 2, 3], n: [] };
    const bytes = model({
      opset,
      inputs: { x: [2, 3], y: [2, 3], z: [2, 3] },
      outputs,
      ints: { back: -1, first: 0, last: 2 },
      intOutputs: ["n"],
      nodes: [
        { op: "SequenceConstruct", inputs: ["x", "y", "z"], outputs: ["s"] },
        { op: "SequenceInsert", inputs: ["s", "y", "back"], outputs: ["s2"] }, // x y y z
        { op: "SequenceErase", inputs: ["s2", "first"], outputs: ["s3"] }, // y y z
        { op: "SequenceInsert", inputs: ["s3", "x"], outputs: ["s4"] }, // y y z x
        { op: "SequenceErase", inputs: ["s4"], outputs: ["s5"] }, // y y z
        { op: "SequenceAt", inputs: ["s5", "last"], outputs: ["a"] }, // z
        { op: "ConcatFromSequence", inputs: ["s5"], outputs: ["c"], attrs: { axis: 1 } },
        { op: "ConcatFromSequence", inputs: ["s5"], outputs: ["st"], attrs: { axis: -1, new_axis: 1 } },
        { op: "ConcatFromSequence", inputs: ["s5"], outputs: ["st0"], attrs: { axis: 0, new_axis: 1 } },
        { op: "SequenceLength", inputs: ["s5"], outputs: ["n"] },
      ],
    });
    await sameAsOrt(bytes, { x: ramp([2, 3], 0), y: ramp([2, 3], 10), z: ramp([2, 3], -5) }, outputs);
  }
});

Deno.test("sequences: SplitToSequence (scalar split, split list, keepdims 0) then SequenceAt/ConcatFromSequence equal onnxruntime", async () => {
  for (const opset of [17, 12]) {
    const outputs = { tail: [3, 2], rows: [2, 6], t: [6, 3], back: [3, 6], kept: [3, 1] };
    const bytes = model({
      opset,
      inputs: { x: [3, 6] },
      outputs,
      ints: { four: 4, sizes: [1, 2], one: 1, minus1: -1 },
      nodes: [
        { op: "SplitToSequence", inputs: ["x", "four"], outputs: ["q"], attrs: { axis: 1 } }, // [3,4] [3,2]
        { op: "SequenceAt", inputs: ["q", "minus1"], outputs: ["tail"] },
        { op: "ConcatFromSequence", inputs: ["q"], outputs: ["back"], attrs: { axis: 1 } },
        { op: "SplitToSequence", inputs: ["x", "sizes"], outputs: ["r"] }, // [1,6] [2,6]
        { op: "SequenceAt", inputs: ["r", "one"], outputs: ["rows"] },
        { op: "SplitToSequence", inputs: ["x"], outputs: ["u"], attrs: { keepdims: 0 } }, // 3 x [6]
        { op: "ConcatFromSequence", inputs: ["u"], outputs: ["t"], attrs: { axis: 1, new_axis: 1 } },
        { op: "SplitToSequence", inputs: ["x"], outputs: ["v"], attrs: { axis: -1 } }, // 6 x [3,1]
        { op: "SequenceAt", inputs: ["v", "one"], outputs: ["kept"] },
      ],
    });
    await sameAsOrt(bytes, { x: ramp([3, 6], 1) }, outputs);
  }
});

Deno.test("sequences: a run-time position, a position out of range, a sequence read by another operator: one line", () => {
  const reject = (nodes: NodeSpec[], ints: Record<string, number>, extra: Record<string, number[]> = {}) => {
    const bytes = model({ inputs: { x: [2], ...extra }, outputs: { y: [2] }, ints, nodes });
    const e = assertThrows(() => compileGraph(decodeModel(bytes, "seq.onnx")), LoweringError);
    assert(!e.message.includes("\n"), e.message);
    return e.message;
  };
  const construct: NodeSpec = { op: "SequenceConstruct", inputs: ["x", "x"], outputs: ["s"] };
  assertEquals(
    reject([construct, { op: "SequenceAt", inputs: ["s", "p"], outputs: ["y"] }], {}, { p: [] }),
    "node 'n1' (SequenceAt, opset 17): the position 'p' must be known at compile time",
  );
  assertEquals(
    reject([construct, { op: "SequenceAt", inputs: ["s", "p"], outputs: ["y"] }], { p: 2 }),
    "node 'n1' (SequenceAt, opset 17): position 2 is out of range [-2, 1] for a sequence of 2",
  );
  assertEquals(
    reject([construct, { op: "Identity", inputs: ["s"], outputs: ["y"] }], {}),
    "node 'n1' (Identity, opset 17): input 0 's' is a sequence, which only SequenceAt, SequenceLength, SequenceInsert, SequenceErase and ConcatFromSequence read (sequences are resolved at compile time inside one graph)",
  );
  assertEquals(
    reject([{ op: "SequenceConstruct", inputs: ["x"], outputs: ["y"] }], {}),
    "graph output 'y' is a sequence: opml programs give tensors only",
  );
});
