/**
 * Old models (opsets below 7): the binary operators' legacy `broadcast`/`axis` attributes lower
 * to today's kernels. onnxruntime does not run opset 6, so the references are computed here from
 * the operator specification (B aligned to A's dimensions from `axis`), not from opml.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative, runOrt } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { makeModel, type NodeSpec } from "./_make_model.ts";
import { compareOutput } from "./_cases.ts";

const f32 = (shape: number[], data: number[]): TensorValue => ({
  dtype: DType.float32,
  shape,
  data: new Float32Array(data),
});

Deno.test("opset 6: Add/Mul/Sub with broadcast=1 align B from axis (constant and run-time B)", async () => {
  const x = Array.from({ length: 24 }, (_, i) => i * 0.5 - 3); // [2, 3, 4]
  const bias = [10, 20, 30]; // [3], axis 1
  const scale = [1, -1, 2, 0.5]; // [4], trailing (no axis)
  const model = makeModel({
    opset: 6,
    inputs: { x: [2, 3, 4], r: [2, 3] },
    outputs: { y: [2, 3, 4], z: [2, 3, 4] },
    initializers: { b: { shape: [3], data: bias }, s: { shape: [4], data: scale } },
    nodes: [
      { op: "Add", inputs: ["x", "b"], outputs: ["t"], attrs: { broadcast: 1, axis: 1 } },
      { op: "Mul", inputs: ["t", "s"], outputs: ["y"], attrs: { broadcast: 1 } },
      { op: "Sub", inputs: ["x", "r"], outputs: ["z"], attrs: { broadcast: 1, axis: 0 } },
    ],
  });
  const r = Array.from({ length: 6 }, (_, i) => i * 100);
  const program = compileGraph(decodeModel(model, "m.onnx"), { shapes: {} });
  const prog = assemble(program);
  const rt = await buildRuntime();
  const inputs = [f32([2, 3, 4], x), f32([2, 3], r)];
  const { outputs } = await runNative(rt.native, prog, inputs);
  // the spec's alignment, element by element: y[n,c,w] = (x + b[c]) * s[w], z[n,c,w] = x - r[n,c]
  const y: number[] = [], z: number[] = [];
  for (let n = 0; n < 2; n++) {
    for (let c = 0; c < 3; c++) {
      for (let w = 0; w < 4; w++) {
        const v = x[(n * 3 + c) * 4 + w];
        y.push(Math.fround(Math.fround(v + bias[c]) * scale[w]));
        z.push(Math.fround(v - r[n * 3 + c]));
      }
    }
  }
  assertEquals(Array.from(outputs[0].data as Float32Array), y);
  assertEquals(Array.from(outputs[1].data as Float32Array), z);
});

Deno.test("opset 6: a broadcast the legacy rules forbid is one line naming node, operator and opset", () => {
  const reject = (attrs: Record<string, number>, bShape: number[]): string => {
    const model = makeModel({
      opset: 6,
      inputs: { x: [2, 3], b: bShape },
      outputs: { y: [2, 3] },
      nodes: [{ op: "Add", inputs: ["x", "b"], outputs: ["y"], attrs }],
    });
    try {
      compileGraph(decodeModel(model, "m.onnx"));
    } catch (e) {
      assert(e instanceof LoweringError, String(e));
      return e.message;
    }
    return "compiled";
  };
  assertEquals(
    reject({}, [3]),
    "node 'n0' (Add, opset 6): inputs of shapes [2, 3] and [3] differ, and before opset 7 only broadcast=1 broadcasts",
  );
  assertEquals(
    reject({ broadcast: 1, axis: 1 }, [2]),
    "node 'n0' (Add, opset 6): B does not broadcast to A from axis 1: shapes [2, 3] and [2]",
  );
});

/** Compiles and runs a one-node model natively, and with onnxruntime-node from a file. */
async function againstOrt(
  opset: number,
  node: NodeSpec,
  x: number[],
  outShapes: Record<string, number[]>,
  init = {},
) {
  const model = makeModel({ opset, nodes: [node], inputs: { x: x }, outputs: outShapes, initializers: init });
  const shape = x;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 3);
  const prog = assemble(compileGraph(decodeModel(model, "m.onnx")));
  const rt = await buildRuntime();
  const { outputs } = await runNative(rt.native, prog, [f32(shape, data)]);
  const path = await Deno.makeTempFile({ suffix: ".onnx" });
  try {
    await Deno.writeFile(path, model);
    const ref = (await runOrt(path, { x: f32(shape, data) })).outputs;
    Object.keys(outShapes).forEach((name, i) => {
      const err = compareOutput(outputs[i], ref[name], `${node.op} opset ${opset} ${name}`, 1e-5, 1e-6);
      assert(err === undefined, err);
    });
  } finally {
    await Deno.remove(path);
  }
}

const bnParams = {
  s: { shape: [3], data: [1, 2, 0.5] },
  b: { shape: [3], data: [0, 1, -1] },
  m: { shape: [3], data: [0.1, -0.2, 0.3] },
  v: { shape: [3], data: [1, 0.5, 2] },
};

Deno.test("opsets 7-12: attribute forms of later inputs give onnxruntime's values", async () => {
  const F = (...v: number[]) => Float32Array.from(v);
  await againstOrt(
    7,
    {
      op: "BatchNormalization",
      inputs: ["x", "s", "b", "m", "v"],
      outputs: ["y"],
      attrs: { spatial: 1, epsilon: 1e-3 },
    },
    [2, 3, 2, 2],
    { y: [2, 3, 2, 2] },
    bnParams,
  );
  await againstOrt(
    9,
    { op: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: ["y"] },
    [2, 3, 2],
    { y: [2, 3, 2] },
    bnParams,
  );
  await againstOrt(
    9,
    { op: "Slice", inputs: ["x"], outputs: ["y"], attrs: { starts: [0, 1], ends: [1, 1000], axes: [0, 1] } },
    [2, 4],
    { y: [1, 3] },
  );
  await againstOrt(
    9,
    { op: "Pad", inputs: ["x"], outputs: ["y"], attrs: { pads: [0, 1, 1, 2], value: 0.5 } },
    [2, 4],
    { y: [3, 7] },
  );
  await againstOrt(
    9,
    { op: "Pad", inputs: ["x"], outputs: ["y"], attrs: { pads: [1, 1, 1, 1], mode: "reflect" } },
    [3, 4],
    { y: [5, 6] },
  );
  await againstOrt(7, { op: "Upsample", inputs: ["x"], outputs: ["y"], attrs: { scales: F(1, 1, 2, 3) } }, [
    1,
    2,
    2,
    2,
  ], { y: [1, 2, 4, 6] });
  await againstOrt(9, { op: "Upsample", inputs: ["x", "sc"], outputs: ["y"] }, [1, 2, 2, 2], {
    y: [1, 2, 4, 4],
  }, { sc: { shape: [4], data: [1, 1, 2, 2] } });
  await againstOrt(
    11,
    { op: "ReduceSum", inputs: ["x"], outputs: ["y"], attrs: { axes: [1], keepdims: 0 } },
    [2, 4, 3],
    { y: [2, 3] },
  );
  await againstOrt(12, { op: "ReduceMax", inputs: ["x"], outputs: ["y"], attrs: { axes: [-1] } }, [2, 4, 3], {
    y: [2, 4, 1],
  });
  await againstOrt(
    11,
    { op: "Split", inputs: ["x"], outputs: ["y", "z"], attrs: { axis: 1, split: [1, 3] } },
    [2, 4],
    { y: [2, 1], z: [2, 3] },
  );
  await againstOrt(11, { op: "Squeeze", inputs: ["x"], outputs: ["y"], attrs: { axes: [0, 2] } }, [1, 4, 1], {
    y: [4],
  });
  await againstOrt(11, { op: "Unsqueeze", inputs: ["x"], outputs: ["y"], attrs: { axes: [0, 3] } }, [2, 4], {
    y: [1, 2, 4, 1],
  });
  await againstOrt(9, { op: "TopK", inputs: ["x"], outputs: ["y", "i"], attrs: { k: 2 } }, [2, 5], {
    y: [2, 2],
  });
  await againstOrt(7, { op: "Dropout", inputs: ["x"], outputs: ["y"], attrs: { ratio: 0.25 } }, [2, 4], {
    y: [2, 4],
  });
  await againstOrt(10, { op: "Dropout", inputs: ["x"], outputs: ["y"], attrs: { ratio: 0.25 } }, [2, 4], {
    y: [2, 4],
  });
  await againstOrt(7, { op: "Clip", inputs: ["x"], outputs: ["y"], attrs: { min: -1.5, max: 0.75 } }, [
    2,
    4,
  ], { y: [2, 4] });
  await againstOrt(
    7,
    { op: "Gemm", inputs: ["x", "w", "c"], outputs: ["y"], attrs: { alpha: 0.5, transB: 1 } },
    [2, 4],
    { y: [2, 3] },
    {
      w: { shape: [3, 4], data: Array.from({ length: 12 }, (_, i) => i / 7) },
      c: { shape: [3], data: [1, 2, 3] },
    },
  );
  await againstOrt(7, { op: "Add", inputs: ["x", "c"], outputs: ["y"] }, [2, 3], { y: [2, 3] }, {
    c: { shape: [3], data: [1, 2, 3] },
  });
});

Deno.test("opset 6: BatchNormalization (is_test, spatial), Clip and Dropout attributes against the spec", async () => {
  const x = Array.from({ length: 12 }, (_, i) => i - 5.5); // [1, 3, 2, 2]
  const model = makeModel({
    opset: 6,
    inputs: { x: [1, 3, 2, 2] },
    outputs: { y: [1, 3, 2, 2], c: [1, 3, 2, 2], d: [1, 3, 2, 2] },
    initializers: bnParams,
    nodes: [
      {
        op: "BatchNormalization",
        inputs: ["x", "s", "b", "m", "v"],
        outputs: ["y"],
        attrs: { is_test: 1, spatial: 1, epsilon: 0.25 },
      },
      {
        op: "Clip",
        inputs: ["x"],
        outputs: ["c"],
        attrs: { min: -2.5, max: 3.25 },
      },
      { op: "Dropout", inputs: ["x"], outputs: ["d"], attrs: { is_test: 1, ratio: 0.5 } },
    ],
  });
  const prog = assemble(compileGraph(decodeModel(model, "m.onnx")));
  const rt = await buildRuntime();
  const { outputs } = await runNative(rt.native, prog, [f32([1, 3, 2, 2], x)]);
  // y = scale (x - mean) / sqrt(var + epsilon) + bias per channel; Clip clamps; Dropout at test is the identity
  const y = x.map((v, i) => {
    const c = Math.floor(i / 4);
    return bnParams.s.data[c] * (v - bnParams.m.data[c]) / Math.sqrt(bnParams.v.data[c] + 0.25) +
      bnParams.b.data[c];
  });
  const err = compareOutput(outputs[0], f32([1, 3, 2, 2], y), "BatchNormalization", 1e-6, 1e-6);
  assert(err === undefined, err);
  assertEquals(Array.from(outputs[1].data as Float32Array), x.map((v) => Math.min(3.25, Math.max(-2.5, v))));
  assertEquals(Array.from(outputs[2].data as Float32Array), x);
});
