/**
 * Old models (opsets below 7): the binary operators' legacy `broadcast`/`axis` attributes lower
 * to today's kernels. onnxruntime does not run opset 6, so the references are computed here from
 * the operator specification (B aligned to A's dimensions from `axis`), not from opml.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { makeModel } from "./_make_model.ts";

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
