/**
 * The small types at opml's boundaries: ONNX's packed int4/int2 data unpacks to one element per
 * byte and packs back; JSON inputs take int4/int2 values in range and refuse float16 in one
 * line; JSON outputs print small floats as their values; fidelity samples of the float types; double reductions against binary64 in JavaScript. Expected values are written out by hand
 * from the formats' definitions (IEEE binary16: 0x3C00 = 1, 0xC000 = -2, 0x7C00 = inf).
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  assemble,
  type AssembledProgram,
  buildRuntime,
  compileGraph,
  sampleInputs,
} from "../../core/compiler/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { makeModel } from "./_make_model.ts";
import { InputError, parseInputFile, runNative, runVm, tensorJson } from "../../core/engine/mod.ts";
import { packSubByte, unpackSubByte } from "../../core/onnx/load.ts";
import { DType, smallFloatValue } from "../../core/ir/mod.ts";

Deno.test("packed int4/uint2 data unpacks low bits first, sign-extended, and packs back", () => {
  // int4 bytes 0x8F = [15 -> -1, 8 -> -8], 0x07 = [7, 0 (padding)]
  assertEquals(Array.from(unpackSubByte(DType.int4, [0x8f, 0x07], 3) as Int8Array), [-1, -8, 7]);
  assertEquals(Array.from(packSubByte(DType.int4, [-1, -8, 7])), [0x8f, 0x07]);
  // uint2: 0b11_10_01_00 = [0, 1, 2, 3]
  assertEquals(Array.from(unpackSubByte(DType.uint2, [0xe4], 4) as Uint8Array), [0, 1, 2, 3]);
  assertThrows(() => unpackSubByte(DType.int4, [1, 2, 3], 3), Error, /expected 2/);
});

Deno.test("JSON inputs: int4 values in range, float16 refused in one line; outputs print values", () => {
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  const v = parseInputFile("x.json", enc({ x: { data: [-8, 7, 0] } }), [{
    name: "x",
    dtype: DType.int4,
    shape: [3],
  }]);
  assertEquals(Array.from(v.x.data as Int8Array), [-8, 7, 0]);
  assertThrows(
    () => parseInputFile("x.json", enc({ x: { data: [8] } }), [{ name: "x", dtype: DType.int4, shape: [1] }]),
    InputError,
    /element 0 is 8/,
  );
  assertThrows(
    () =>
      parseInputFile("x.json", enc({ x: { data: [1.5] } }), [{
        name: "x",
        dtype: DType.float16,
        shape: [1],
      }]),
    InputError,
    /^x\.json: input 'x' has type float16, which JSON inputs do not take/,
  );
  const json = tensorJson({ dtype: DType.float16, shape: [3], data: Uint16Array.of(0x3c00, 0xc000, 0x7c00) });
  assertEquals(json.data, [1, -2, "Infinity"]);
});

Deno.test("fidelity samples of float16, bfloat16 and double inputs are exact values in [0, 1)", () => {
  const tensors = [DType.float16, DType.bfloat16, DType.float64].map((dtype, i) => ({
    name: `x${i}`,
    dtype,
    shape: [64],
    kind: "input" as const,
  }));
  const prog = {
    program: { tensors, nodes: [], inputs: [0, 1, 2], outputs: [] },
  } as unknown as AssembledProgram;
  const [h, b, d] = sampleInputs(prog, 7);
  const steps = [1024, 128];
  [h, b].forEach((v, k) => {
    const values = Array.from(v.data as Uint16Array, (bits) => smallFloatValue(v.dtype, bits));
    assert(values.every((x) => x >= 0 && x < 1 && Number.isInteger(x * steps[k])), String(values));
    assert(new Set(values).size > 16, "samples vary");
  });
  assert(Array.from(d.data as Float64Array).every((x) => x >= 0 && x < 1));
});

Deno.test("double ReduceSum/Prod/SumSquare/L1/Max/Min: binary64 in ascending order, VM bits = native", async () => {
  const x = Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(i * 1.3) * 7)); // [2, 3, 4]
  const ops = ["ReduceSum", "ReduceProd", "ReduceSumSquare", "ReduceL1", "ReduceMax", "ReduceMin"];
  const model = makeModel({
    opset: 11,
    inputs: { x: [2, 3, 4] },
    outputs: Object.fromEntries(ops.map((op) => [op, [2, 4]])),
    nodes: [
      { op: "Cast", inputs: ["x"], outputs: ["xd"], attrs: { to: DType.float64 } },
      ...ops.map((op) => ({
        op,
        inputs: ["xd"],
        outputs: [op],
        attrs: { axes: [1], keepdims: 0 },
      })),
    ],
    initializers: {},
  });
  const prog = assemble(compileGraph(decodeModel(model, "m.onnx")));
  const rt = await buildRuntime();
  const input = [{ dtype: DType.float32, shape: [2, 3, 4], data: Float32Array.from(x) }];
  const { outputs } = await runNative(rt.native, prog, input);
  // the reference in JavaScript's binary64, the same ascending order over axis 1
  const steps: Record<string, [number, (a: number, v: number) => number]> = {
    ReduceSum: [0, (a, v) => a + v],
    ReduceProd: [1, (a, v) => a * v],
    ReduceSumSquare: [0, (a, v) => a + v * v],
    ReduceL1: [0, (a, v) => a + Math.abs(v)],
    ReduceMax: [-Infinity, (a, v) => Math.max(a, v)],
    ReduceMin: [Infinity, (a, v) => Math.min(a, v)],
  };
  ops.forEach((op, k) => {
    const [init, step] = steps[op];
    const want: number[] = [];
    for (let n = 0; n < 2; n++) {
      for (let w = 0; w < 4; w++) {
        let a = init;
        for (let c = 0; c < 3; c++) a = step(a, x[(n * 3 + c) * 4 + w]);
        want.push(a);
      }
    }
    assertEquals(outputs[k].dtype, DType.float64, op);
    assertEquals(Array.from(outputs[k].data as Float64Array), want, op);
  });
  const vm = runVm(Deno.readFileSync(rt.mips), prog, input);
  vm.outputs.forEach((o, k) =>
    assertEquals(new Uint8Array(o.data.buffer), new Uint8Array(outputs[k].data.buffer))
  );
});
