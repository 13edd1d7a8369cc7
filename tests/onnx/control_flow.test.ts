/**
 * Control flow (docs/IR.md, "Control flow"): a Loop whose body holds a nested If reading names of
 * both enclosing graphs, and a Scan, against onnxruntime (the independent reference), natively
 * and byte-identical in the VM; a run-time If and a Loop that stops on data (every condition and
 * trip count of the cases against onnxruntime, VM and qemu-mips bytes = native); Compress and
 * NonZero whose shapes are known at compile time (run-time ones: runtime_shapes.test.ts); one-line rejections of what it cannot express;
 * and an offline dispute where a dishonest server lies in the third execution of a loop body node:
 * `opml challenge` ends on that transition, and MIPS.sol accepts the step `opml prove` gives.
 *
 * Run: deno test -A tests/onnx/control_flow.test.ts
 */
import onnxProto from "onnx-proto";
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../../core/engine/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { anvilAvailable } from "../dispute/_chain.ts";
import { assertDisputeEndsAt } from "./_offline_dispute.ts";
import { assertOneLineError, opml, opmlOk } from "../_cli.ts";
import { qemuImage } from "../kernels/_qemu_image.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;
const tmp = Deno.makeTempDirSync({ prefix: "opml-control-flow-" });
const runtime = buildRuntime();

const FLOAT = 1, INT64 = 7, BOOL = 9;
const vi = (name: string, elemType: number, dims: number[] | null) => ({
  name,
  type: { tensorType: { elemType, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } },
});
const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attribute: Record<string, unknown>[] = [],
) => ({ name: outputs[0], opType: op, input: inputs, output: outputs, attribute });
const graphAttr = (name: string, g: unknown) => ({ name, type: 5, g });
const floats = (name: string, dims: number[], data: number[]) => ({
  name,
  dims,
  dataType: FLOAT,
  floatData: data,
});

/**
 * A Loop of M iterations (M an input when `tripInput`, else an initializer) carrying x[4]:
 * t = x * w (w: the main graph's), u = t + i (the iteration number), v = If(flag) then u - w
 * else u + w (the branches read u: the body's, and w), carried v, scan output u; then a Scan
 * summing the rows of u (and its reversed running sums).
 */
function loopModel(tripInput = false): Uint8Array {
  const thenBranch = {
    name: "then",
    node: [node("Sub", ["u", "w"], ["v_then"])],
    output: [vi("v_then", FLOAT, [4])],
  };
  const elseBranch = {
    name: "else",
    node: [node("Add", ["u", "w"], ["v_else"])],
    output: [vi("v_else", FLOAT, [4])],
  };
  const body = {
    name: "body",
    input: [vi("i", INT64, []), vi("c", BOOL, []), vi("x_in", FLOAT, [4])],
    node: [
      node("Mul", ["x_in", "w"], ["t"]),
      node("Cast", ["i"], ["fi"], [{ name: "to", type: 2, i: FLOAT }]),
      node("Add", ["t", "fi"], ["u"]),
      node("If", ["flag"], ["v"], [
        graphAttr("then_branch", thenBranch),
        graphAttr("else_branch", elseBranch),
      ]),
      node("Identity", ["c"], ["c_out"]),
    ],
    output: [vi("c_out", BOOL, []), vi("v", FLOAT, [4]), vi("u", FLOAT, [4])],
  };
  const scanBody = {
    name: "scan_body",
    input: [vi("acc", FLOAT, [4]), vi("row", FLOAT, [4])],
    node: [node("Add", ["acc", "row"], ["acc_out"]), node("Identity", ["acc_out"], ["running"])],
    output: [vi("acc_out", FLOAT, [4]), vi("running", FLOAT, [4])],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      node: [
        node("Loop", [tripInput ? "M" : "M_const", "", "x"], ["y", "us"], [graphAttr("body", body)]),
        node("Scan", ["zero", "us"], ["total", "sums"], [
          graphAttr("body", scanBody),
          { name: "num_scan_inputs", type: 2, i: 1 },
          { name: "scan_output_directions", type: 7, ints: [1] },
        ]),
      ],
      input: [vi("x", FLOAT, [4]), ...(tripInput ? [vi("M", INT64, [])] : [])],
      output: [
        vi("y", FLOAT, [4]),
        vi("us", FLOAT, [5, 4]),
        vi("total", FLOAT, [4]),
        vi("sums", FLOAT, [5, 4]),
      ],
      initializer: [
        floats("w", [4], [1.5, -0.75, 0.5, 2]),
        floats("zero", [4], [0, 0, 0, 0]),
        { name: "M_const", dims: [], dataType: INT64, int64Data: [5] },
        { name: "flag", dims: [], dataType: BOOL, int32Data: [1] },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Run-time control flow: y = If(flag) then x * 2 else x + 1 (both branches read x), and a Loop
 * of at most M = 10 iterations doubling z while the sum stays under 100 (the condition is data),
 * or, with `unbounded`, without M. With `scan`, the loop also stacks each iteration's z as a scan
 * output `zs` (as many rows as iterations ran) and `zsum` sums its rows.
 */
function dataModel(unbounded = false, scan = false): Uint8Array {
  const then = { name: "then", node: [node("Mul", ["x", "two"], ["t"])], output: [vi("t", FLOAT, [3])] };
  const els = { name: "else", node: [node("Add", ["x", "one"], ["e"])], output: [vi("e", FLOAT, [3])] };
  const body = {
    name: "body",
    input: [vi("i", INT64, []), vi("c", BOOL, []), vi("z_in", FLOAT, [3])],
    node: [
      node("Mul", ["z_in", "two"], ["z2"]),
      node("ReduceSum", ["z2"], ["s"], [{ name: "keepdims", type: 2, i: 0 }]),
      node("Less", ["s", "limit"], ["go"]),
    ],
    output: [vi("go", BOOL, []), vi("z2", FLOAT, [3]), ...(scan ? [vi("z2", FLOAT, [3])] : [])],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      node: [
        node("If", ["flag"], ["y"], [graphAttr("then_branch", then), graphAttr("else_branch", els)]),
        node("Loop", [unbounded ? "" : "M", "", "z"], ["z_final", ...(scan ? ["zs"] : [])], [
          graphAttr("body", body),
        ]),
        ...(scan
          ? [node("ReduceSum", ["zs", "axes0"], ["zsum"], [{ name: "keepdims", type: 2, i: 0 }])]
          : []),
      ],
      input: [vi("flag", BOOL, []), vi("x", FLOAT, [3]), vi("z", FLOAT, [3])],
      output: [
        vi("y", FLOAT, [3]),
        vi("z_final", FLOAT, [3]),
        ...(scan ? [vi("zs", FLOAT, null), vi("zsum", FLOAT, [3])] : []),
      ],
      initializer: [
        floats("two", [], [2]),
        floats("one", [], [1]),
        floats("limit", [], [100]),
        { name: "M", dims: [], dataType: INT64, int64Data: [10] },
        { name: "axes0", dims: [1], dataType: INT64, int64Data: [0] },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The VM's outputs are the native outputs, byte for byte. */
function assertVmBytes(vm: TensorValue[], native: TensorValue[]): void {
  assertEquals(vm.length, native.length, "output count");
  vm.forEach((o, i) =>
    assertEquals(new Uint8Array(o.data.buffer), new Uint8Array(native[i].data.buffer), `VM output ${i}`)
  );
}

const X: TensorValue = { dtype: DType.float32, shape: [4], data: Float32Array.of(0.25, 3, -1.5, 0.125) };
const modelPath = `${tmp}/loop.onnx`;
Deno.writeFileSync(modelPath, loopModel());

Deno.test("Loop with a nested If, and a reversed Scan: as onnxruntime; VM bytes = native", async () => {
  const rt = await runtime;
  const prog = assemble(compileGraph(decodeModel(loopModel(), "loop.onnx")));
  const p = prog.program;
  // unrolled: every iteration's body is its own nodes (5 Mul, 5 Sub of the then branch, no Add of else)
  assertEquals(p.nodes.filter((n) => n.opType === "Mul").length, 5);
  assertEquals(p.nodes.filter((n) => n.opType === "Sub").length, 5);
  assertEquals(p.outputs.map((t) => p.tensors[t].name), ["y", "us", "total", "sums"]);
  const native = await runNative(rt.native, prog, [X]);
  const ref = (await runOrt(modelPath, { x: X })).outputs;
  ["y", "us", "total", "sums"].forEach((name, i) => {
    assertEquals(native.outputs[i].shape, ref[name].shape, name);
    // the same float operations in the same order: the same bits
    assertEquals(
      Array.from(native.outputs[i].data as Float32Array),
      Array.from(ref[name].data as Float32Array),
      name,
    );
  });
  const vm = runVm(Deno.readFileSync(rt.mips), prog, [X]);
  assertVmBytes(vm.outputs, native.outputs);
});

Deno.test("run-time If and a Loop that stops on data: as onnxruntime for each condition and trip count; VM = native", async () => {
  const rt = await runtime;
  const path = `${tmp}/data.onnx`;
  Deno.writeFileSync(path, dataModel());
  const prog = assemble(compileGraph(decodeModel(dataModel(), "data.onnx")));
  // all M iterations are program nodes (transitions), stopped ones masked by Where
  // (the last iteration's condition is read by nothing: its ReduceSum and Less are dead nodes)
  assertEquals(prog.program.nodes.filter((n) => /^z_final@\d+#\d+\/z2$/.test(n.name)).length, 10);
  assertEquals(prog.program.nodes.filter((n) => n.opType === "ReduceSum").length, 9);
  const image = Deno.readFileSync(rt.mips);
  const f32 = (...v: number[]): TensorValue => ({
    dtype: DType.float32,
    shape: [3],
    data: Float32Array.from(v),
  });
  const cases: [boolean, TensorValue][] = [[true, f32(1, 1, 1)], [false, f32(10, 10, 10)], [
    true,
    f32(60, 0, 0),
  ], [
    false,
    f32(0.125, 0, 0),
  ]];
  const seen = new Set<number>();
  for (const [flag, z] of cases) {
    const inputs = [{ dtype: DType.bool, shape: [], data: Uint8Array.of(flag ? 1 : 0) }, f32(0.5, -3, 7), z];
    const native = await runNative(rt.native, prog, inputs);
    const ref = (await runOrt(path, { flag: inputs[0], x: inputs[1], z })).outputs;
    ["y", "z_final"].forEach((name, i) =>
      assertEquals(
        Array.from(native.outputs[i].data as Float32Array),
        Array.from(ref[name].data as Float32Array),
        `${name} (flag ${flag}, z ${Array.from(z.data as Float32Array)})`,
      )
    );
    seen.add(Math.log2((native.outputs[1].data as Float32Array)[0] / (z.data as Float32Array)[0]));
    const vm = runVm(image, prog, inputs);
    assertVmBytes(vm.outputs, native.outputs);
    // and an independent CPU: qemu-mips runs the same image to the same bytes
    const nativeBytes = native.outputs.flatMap((o) => [...new Uint8Array(o.data.buffer)]);
    assertEquals([...await qemuImage(rt.mips, prog, inputs, "data model")], nativeBytes, "qemu-mips output");
  }
  assertEquals(
    [...seen].sort((a, b) => a - b),
    [1, 2, 6, 10],
    "the cases stop after 1, 2, 6 and all 10 iterations",
  );
});

Deno.test("a Loop that stops on data with a scan output: as many rows as iterations ran, as onnxruntime; VM and qemu = native", async () => {
  const rt = await runtime;
  const path = `${tmp}/data_scan.onnx`;
  Deno.writeFileSync(path, dataModel(false, true));
  const prog = assemble(compileGraph(decodeModel(dataModel(false, true), "data_scan.onnx")));
  const p = prog.program;
  // bounded by M: the buffer holds 10 rows, the length is the iterations that ran
  assertEquals(p.tensors[p.outputs[2]].shape, [10, 3]);
  const image = Deno.readFileSync(rt.mips);
  const rows = new Set<number>();
  for (const z of [[1, 1, 1], [10, 10, 10], [60, 0, 0], [0.125, 0, 0], [-3, 0.5, 1]]) {
    const inputs: TensorValue[] = [
      { dtype: DType.bool, shape: [], data: Uint8Array.of(1) },
      { dtype: DType.float32, shape: [3], data: Float32Array.of(0.5, -3, 7) },
      { dtype: DType.float32, shape: [3], data: Float32Array.from(z) },
    ];
    const native = await runNative(rt.native, prog, inputs);
    const ref = (await runOrt(path, { flag: inputs[0], x: inputs[1], z: inputs[2] })).outputs;
    ["y", "z_final", "zs", "zsum"].forEach((name, i) => {
      assertEquals(native.outputs[i].shape, ref[name].shape, `${name} shape (z ${z})`);
      assertEquals(
        Array.from(native.outputs[i].data as Float32Array),
        Array.from(ref[name].data as Float32Array),
        `${name} (z ${z})`,
      );
    });
    rows.add(native.outputs[2].shape[0]);
    const vm = runVm(image, prog, inputs);
    assertVmBytes(vm.outputs, native.outputs);
    assertEquals(
      [...await qemuImage(rt.mips, prog, inputs, "scan model")],
      [...vm.stdout],
      "qemu-mips output",
    );
  }
  assertEquals([...rows].sort((a, b) => a - b), [1, 2, 6, 10], "the loops ran 1, 2, 6 and 10 times");
});

/** y = Compress(x, cond, axis 1), nz = NonZero(mask): cond and mask initializers. */
function compressModel(): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "g",
      node: [
        node("Compress", ["x", "cond"], ["y"], [{ name: "axis", type: 2, i: 1 }]),
        node("NonZero", ["mask"], ["nz"]),
      ],
      input: [vi("x", FLOAT, [2, 5])],
      output: [vi("y", FLOAT, [2, 3]), vi("nz", INT64, [2, 3])],
      initializer: [
        { name: "cond", dims: [5], dataType: BOOL, int32Data: [1, 0, 1, 1, 0] },
        { name: "mask", dims: [2, 3], dataType: FLOAT, floatData: [0, 2, -0, 0.5, 0, -1] },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

Deno.test("Compress and NonZero with shapes decided at compile time: as onnxruntime; VM = native", async () => {
  const rt = await runtime;
  const path = `${tmp}/compress.onnx`;
  Deno.writeFileSync(path, compressModel());
  const prog = assemble(compileGraph(decodeModel(compressModel(), "compress.onnx")));
  const x: TensorValue = {
    dtype: DType.float32,
    shape: [2, 5],
    data: Float32Array.from({ length: 10 }, (_, i) => i - 3.5),
  };
  const native = await runNative(rt.native, prog, [x]);
  const ref = (await runOrt(path, { x })).outputs;
  assertEquals(native.outputs[0].shape, [2, 3]);
  assertEquals(Array.from(native.outputs[0].data as Float32Array), Array.from(ref.y.data as Float32Array));
  assertEquals(native.outputs[1].shape, ref.nz.shape);
  assertEquals(Array.from(native.outputs[1].data as BigInt64Array), Array.from(ref.nz.data as BigInt64Array));
  const vm = runVm(Deno.readFileSync(rt.mips), prog, [x]);
  assertVmBytes(vm.outputs, native.outputs);
});

Deno.test("control flow it cannot express: one-line rejections naming node and operator", async () => {
  const compile = (bytes: Uint8Array) => () => compileGraph(decodeModel(bytes, "m.onnx"));
  const message = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert(e instanceof LoweringError, String(e));
      return e.message;
    }
    throw new Error("compiled");
  };
  assertEquals(
    message(compile(loopModel(true))),
    "node 'y' (Loop, opset 17): the trip count M (input 'M') must be known at compile time (a constant, or computed from shapes): run-time control flow is not supported yet",
  );
  assertEquals(
    message(compile(dataModel(true))),
    "node 'z_final' (Loop, opset 17): the body's condition output 'go' depends on run-time data: a loop that stops on data needs a trip count M known at compile time",
  );
  const path = `${tmp}/trip.onnx`;
  Deno.writeFileSync(path, loopModel(true));
  assertOneLineError(
    await opml("compile", path, "-o", `${tmp}/trip`, "--no-fidelity"),
    2,
    /^opml: node 'y' \(Loop, opset 17\): the trip count M \(input 'M'\) must be known at compile time/,
  );
});

Deno.test({
  name:
    "dispute: a lie in the 3rd execution of a loop body node ends on that transition; MIPS.sol accepts the step",
  ignore: !anvilAvailable(),
  async fn() {
    const dir = `${tmp}/dir`;
    await opmlOk("compile", modelPath, "-o", dir, "--no-fidelity");
    const input = `${tmp}/x.bin`;
    Deno.writeFileSync(input, new Uint8Array((X.data as Float32Array).buffer));
    const prog = assemble(compileGraph(decodeModel(loopModel(), "loop.onnx")));
    // the body's Add "u" in iteration 2 (0-based): transition k of phase 1
    const k = 1 + prog.program.nodes.findIndex((n) => /^y@2#\d+\/u$/.test(n.name));
    assert(k > 0, "iteration 2's Add is a node of the program");
    const { honest } = await assertDisputeEndsAt(tmp, dir, ["-i", input], k);
    assertEquals(honest.nodes, prog.program.nodes.length, "phase 1 has one transition per executed node");
  },
});
