/**
 * The vision, norm, sequence and spectral operators under bad input: each unsupported node is
 * one LoweringError line naming the node, the operator and the opset (exit code 2), raised
 * before anything is built; and a supported shape the conformance cases do not cover
 * (RMSNormalization's scale of a trailing axis) against a binary64 reference.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType } from "../../core/ir/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { EXIT } from "../../core/errors.ts";
import { makeModel, type NodeSpec } from "./_make_model.ts";

function rejection(
  node: NodeSpec,
  inputs: Record<string, number[]>,
  opset: number,
  initializers: Record<string, { shape: number[]; data: number[] }> = {},
): LoweringError {
  const model = makeModel({
    nodes: [node],
    inputs,
    outputs: Object.fromEntries(node.outputs.filter(Boolean).map((o) => [o, [1]])),
    opset,
    initializers,
  });
  try {
    compileGraph(decodeModel(model, "bad.onnx"), {});
  } catch (e) {
    assert(e instanceof LoweringError, `expected a LoweringError, got ${e}`);
    return e;
  }
  throw new Error("the model compiled");
}

const cases: [string, () => LoweringError, string][] = [
  [
    "Resize with scales known only at run time",
    () =>
      rejection({ op: "Resize", inputs: ["x", "", "s"], outputs: ["y"] }, { x: [1, 1, 2, 2], s: [4] }, 19),
    "node 'n0' (Resize, opset 19): input 'scales' must be known at compile time",
  ],
  [
    "Resize whose scales do not match the rank",
    () =>
      rejection({ op: "Resize", inputs: ["x", "", "s"], outputs: ["y"] }, { x: [1, 1, 2, 2] }, 19, {
        s: { shape: [2], data: [2, 2] },
      }),
    "node 'n0' (Resize, opset 19): scales has 2 values, expected 4",
  ],
  [
    "ConvTranspose with a group that does not divide the channels",
    () =>
      rejection({ op: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attrs: { group: 2 } }, {
        x: [1, 3, 4, 4],
        w: [3, 1, 3, 3],
      }, 22),
    "node 'n0' (ConvTranspose, opset 22): group 2 does not fit X [1,3,4,4] and W [3,1,3,3]",
  ],
  [
    "RMSNormalization whose scale broadcasts inside the normalised axes",
    () =>
      rejection({ op: "RMSNormalization", inputs: ["x", "s"], outputs: ["y"], attrs: { axis: 1 } }, {
        x: [2, 3, 4],
        s: [3, 1],
      }, 23),
    "node 'n0' (RMSNormalization, opset 23): scale [3,1] must be the normalised shape [3,4] or a trailing part of it",
  ],
  [
    "LpNormalization with p = 3",
    () =>
      rejection({ op: "LpNormalization", inputs: ["x"], outputs: ["y"], attrs: { p: 3 } }, { x: [2, 3] }, 22),
    "node 'n0' (LpNormalization, opset 22): p 3 must be 1 or 2",
  ],
  [
    "Attention with query heads not a multiple of the key heads",
    () =>
      rejection({ op: "Attention", inputs: ["q", "k", "v"], outputs: ["y"] }, {
        q: [1, 3, 4, 8],
        k: [1, 2, 4, 8],
        v: [1, 2, 4, 8],
      }, 23),
    "node 'n0' (Attention, opset 23): 3 query heads are not a multiple of 2 key/value heads",
  ],
  [
    "LSTM with input_forget",
    () =>
      rejection({
        op: "LSTM",
        inputs: ["x", "w", "r"],
        outputs: ["y"],
        attrs: { hidden_size: 2, input_forget: 1 },
      }, {
        x: [3, 1, 2],
        w: [1, 8, 2],
        r: [1, 8, 2],
      }, 22),
    "node 'n0' (LSTM, opset 22): input_forget=1 is not supported",
  ],
  [
    "a onesided DFT of a complex signal",
    () =>
      rejection({ op: "DFT", inputs: ["x"], outputs: ["y"], attrs: { onesided: 1 } }, { x: [1, 8, 2] }, 19),
    "node 'n0' (DFT, opset 19): a onesided transform needs a real input",
  ],
];

for (const [what, run, message] of cases) {
  Deno.test(`lowering errors: ${what}`, () => {
    const e = run();
    assertEquals(e.message, message);
    assertEquals(e.exitCode, EXIT.usage);
    assert(!e.message.includes("\n"), "one line");
  });
}

Deno.test("RMSNormalization: a scale of the trailing normalised axis only, against a binary64 reference", async () => {
  const x = Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(i + 1) * 3));
  const scale = [0.5, -1.25, 2, 0.75];
  const model = makeModel({
    nodes: [{ op: "RMSNormalization", inputs: ["x", "s"], outputs: ["y"], attrs: { axis: 1 } }],
    inputs: { x: [2, 3, 4] },
    outputs: { y: [2, 3, 4] },
    opset: 23,
    initializers: { s: { shape: [4], data: scale } },
  });
  const prog = assemble(compileGraph(decodeModel(model, "rms.onnx"), {}));
  const rt = await buildRuntime();
  const { outputs } = await runNative(rt.native, prog, [{
    dtype: DType.float32,
    shape: [2, 3, 4],
    data: new Float32Array(x),
  }]);
  for (let row = 0; row < 2; row++) {
    const xs = x.slice(row * 12, row * 12 + 12);
    const r = 1 / Math.sqrt(xs.reduce((a, v) => a + v * v, 0) / 12 + 1e-5);
    xs.forEach((v, k) => {
      const want = v * r * scale[k % 4], got = outputs[0].data[row * 12 + k] as number;
      assert(
        Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-6,
        `y[${row * 12 + k}] ${got}, expected ${want}`,
      );
    });
  }
});
