/**
 * Run-time shapes (docs/IR.md, "Run-time shapes"): NonZero, TopK with a run-time k and Compress
 * with a run-time condition feeding Gather, elementwise operators, Transpose and a reduction
 * along another axis, against onnxruntime (the independent reference) for several inputs
 * (empty results included), with the VM's and qemu-mips's bytes equal to native and the result
 * state S_(N+1) that of the program outputs at their bounds (what a task commits); one-line
 * rejections of consumers that cannot take a run-time length; NonMaxSuppression feeding Gather
 * and box decoding (a detection model's chain); indices and a k past a run-time length failing the
 * run natively and in the VM where onnxruntime fails (never the padding's value); and an offline
 * dispute where a
 * dishonest server lies in the NonZero node: `opml challenge` ends on that node, and MIPS.sol
 * accepts the step `opml prove` gives.
 *
 * Run: deno test -A tests/onnx/runtime_shapes.test.ts
 */
import onnxProto from "onnx-proto";
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { resultState, runNative, runOrt, RuntimeError, runVm } from "../../core/engine/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { anvilAvailable } from "../dispute/_chain.ts";
import { assertOneLineError, opml, opmlOk } from "../_cli.ts";
import { assertDisputeEndsAt } from "./_offline_dispute.ts";
import { qemuImage } from "../kernels/_qemu_image.ts";

// deno-lint-ignore no-explicit-any
const onnx = (onnxProto as any).onnx;
const tmp = Deno.makeTempDirSync({ prefix: "opml-runtime-shapes-" });
const runtime = buildRuntime();

const FLOAT = 1, INT64 = 7, BOOL = 9;
const vi = (name: string, elemType: number, dims: (number | string)[]) => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
    },
  },
});
const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attribute: Record<string, unknown>[] = [],
) => ({
  name: outputs[0],
  opType: op,
  input: inputs,
  output: outputs,
  attribute,
});
const int = (name: string, i: number) => ({ name, type: 2, i });
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });

/**
 * x[6], k[1], m[2, 3], c[4] at run time:
 * (v, i) = TopK(x, k); top = v * Gather(w, i) + 1;
 * nz = NonZero(m); rows = Relu(Gather(table, nz[1]) - 1.5) (Gather of NonZero's second row);
 * sums = ReduceSum(Transpose(rows), axes [0]) (the rows' sums, along the fixed axis);
 * sel = Compress(table, c, axis 1) (columns where c is true); best = TopK(sums, min(N, 3)) (N
 * read back through Shape); gnd = GatherND(table, cols as [N, 1]); right = Split(rows, axis 1)[1];
 * again = Gather(sums, best's indices) (both run-time lengths); big_at = NonZero(sums > 5).
 * With `bad`, a consumer that cannot take a run-time length: Reshape of nz, ReduceMean over N.
 */
function model(bad?: "reshape" | "reduce"): Uint8Array {
  const nodes = [
    node("TopK", ["x", "k"], ["v", "i"], [int("axis", 0)]),
    node("Gather", ["w", "i"], ["wi"]),
    node("Mul", ["v", "wi"], ["vw"]),
    node("Add", ["vw", "one"], ["top"]),
    node("NonZero", ["m"], ["nz"]),
    node("Gather", ["nz", "row1"], ["cols"], [int("axis", 0)]),
    node("Gather", ["table", "cols"], ["picked"], [int("axis", 0)]),
    node("Sub", ["picked", "half3"], ["shifted"]),
    node("Relu", ["shifted"], ["rows"]),
    node("Transpose", ["rows"], ["rowsT"], [ints("perm", [1, 0])]),
    node("ReduceSum", ["rowsT", "axis0"], ["sums"], [int("keepdims", 0)]),
    node("Compress", ["table", "c"], ["sel"], [int("axis", 1)]),
    // the run-time count read back as a value: k = min(N, 3), the k largest sums (TopK along the
    // run-time axis: only its valid part is sorted)
    node("Shape", ["rows"], ["rows_shape"]),
    node("Gather", ["rows_shape", "row0"], ["n"], [int("axis", 0)]),
    node("Min", ["n", "three"], ["k2"]),
    node("Reshape", ["k2", "one1"], ["k2v"]),
    node("TopK", ["sums", "k2v"], ["best", "best_at"], [int("axis", 0)]),
    node("Unsqueeze", ["cols", "axis1"], ["cols2"]),
    node("GatherND", ["table", "cols2"], ["gnd"]),
    node("Split", ["rows", "halves"], ["left", "right"], [int("axis", 1)]),
    // a Gather from the run-time list by run-time indices, and NonZero of a run-time mask
    node("Gather", ["sums", "best_at"], ["again"], [int("axis", 0)]),
    node("Greater", ["sums", "five"], ["big"]),
    node("NonZero", ["big"], ["big_at"]),
  ];
  if (bad === "reshape") nodes.push(node("Reshape", ["nz", "flat"], ["bad"]));
  if (bad === "reduce") nodes.push(node("ReduceMean", ["rows"], ["bad"], [ints("axes", [0])]));
  return opset17Model({
    name: "g",
    node: nodes,
    input: [vi("x", FLOAT, [6]), vi("k", INT64, [1]), vi("m", FLOAT, [2, 3]), vi("c", BOOL, [4])],
    output: [
      vi("top", FLOAT, ["K"]),
      vi("i", INT64, ["K"]),
      vi("nz", INT64, [2, "N"]),
      vi("rows", FLOAT, ["N", 4]),
      vi("sums", FLOAT, ["N"]),
      vi("sel", FLOAT, [3, "C"]),
      vi("best", FLOAT, ["B"]),
      vi("best_at", INT64, ["B"]),
      vi("gnd", FLOAT, ["N", 4]),
      vi("right", FLOAT, ["N", 2]),
      vi("again", FLOAT, ["B"]),
      vi("big_at", INT64, [1, "G"]),
      ...(bad ? [vi("bad", INT64, ["B"])] : []),
    ],
    initializer: [
      { name: "w", dims: [6], dataType: FLOAT, floatData: [0.5, -2, 3, 0.25, 1.5, -1] },
      { name: "one", dims: [], dataType: FLOAT, floatData: [1] },
      { name: "row1", dims: [], dataType: INT64, int64Data: [1] },
      {
        name: "table",
        dims: [3, 4],
        dataType: FLOAT,
        floatData: Array.from({ length: 12 }, (_, j) => j * 0.75),
      },
      { name: "half3", dims: [], dataType: FLOAT, floatData: [1.5] },
      { name: "axis0", dims: [1], dataType: INT64, int64Data: [0] },
      { name: "flat", dims: [1], dataType: INT64, int64Data: [-1] },
      { name: "row0", dims: [], dataType: INT64, int64Data: [0] },
      { name: "three", dims: [], dataType: INT64, int64Data: [3] },
      { name: "one1", dims: [1], dataType: INT64, int64Data: [1] },
      { name: "axis1", dims: [1], dataType: INT64, int64Data: [1] },
      { name: "halves", dims: [2], dataType: INT64, int64Data: [2, 2] },
      { name: "five", dims: [], dataType: FLOAT, floatData: [5] },
    ],
  });
}

/** An opset-17 model of `graph`, encoded. */
// deno-lint-ignore no-explicit-any
const opset17Model = (graph: any): Uint8Array =>
  onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], graph }),
  )
    .finish();

/** A test model written to `${tmp}/${name}.onnx`, compiled, with the runtime and the MIPS image. */
async function prepare(name: string, bytes: Uint8Array) {
  const rt = await runtime;
  const path = `${tmp}/${name}.onnx`;
  Deno.writeFileSync(path, bytes);
  const prog = assemble(compileGraph(decodeModel(bytes, `${name}.onnx`)));
  return { rt, path, prog, image: Deno.readFileSync(rt.mips) };
}

const NAMES = ["top", "i", "nz", "rows", "sums", "sel", "best", "best_at", "gnd", "right", "again", "big_at"];
const f32 = (shape: number[], v: number[]): TensorValue => ({
  dtype: DType.float32,
  shape,
  data: Float32Array.from(v),
});
const inputsOf = (x: number[], k: number, m: number[], c: number[]): TensorValue[] => [
  f32([6], x),
  { dtype: DType.int64, shape: [1], data: BigInt64Array.of(BigInt(k)) },
  f32([2, 3], m),
  { dtype: DType.bool, shape: [4], data: Uint8Array.from(c) },
];
const CASES: TensorValue[][] = [
  inputsOf([0.5, 3, -1, 3, 2.25, 0], 3, [0, 1.5, 0, -2, 0, 0.25], [1, 0, 1, 1]),
  inputsOf([1, 2, 3, 4, 5, 6], 6, [1, 1, 1, 1, 1, 1], [1, 1, 1, 1]),
  inputsOf([-1, 0, 5, 7, -0, 2], 1, [0, -0, 0, 0, 0, NaN], [0, 0, 0, 1]),
  inputsOf([4, 4, 4, 1, 1, 1], 0, [0, 0, 0, 0, 0, 0], [0, 0, 0, 0]), // empty results
];
const modelPath = `${tmp}/model.onnx`;
Deno.writeFileSync(modelPath, model());

Deno.test("NonZero, TopK with a run-time k and Compress on run-time data: as onnxruntime; VM and qemu bytes = native", async () => {
  const rt = await runtime;
  const prog = assemble(compileGraph(decodeModel(model(), "model.onnx")));
  const p = prog.program;
  // bounded at compile time: TopK's k by the axis (6), NonZero by the input's size (6)
  assertEquals(p.tensors[p.outputs[0]].shape, [6]);
  assertEquals(p.tensors[p.outputs[2]].shape, [2, 6]);
  assertEquals(p.tensors[p.outputs[2]].runtimeAxis, 1);
  assertEquals(p.outputs.length, 24, "12 graph outputs and their 12 lengths");
  const image = Deno.readFileSync(rt.mips);
  const lengths = new Set<string>();
  for (const inputs of CASES) {
    const native = await runNative(rt.native, prog, inputs);
    const ref = (await runOrt(modelPath, { x: inputs[0], k: inputs[1], m: inputs[2], c: inputs[3] })).outputs;
    NAMES.forEach((name, j) => {
      const what = `${name} (case ${CASES.indexOf(inputs)})`;
      assertEquals(native.outputs[j].shape, ref[name].shape, what);
      assertEquals(native.outputs[j].dtype, ref[name].dtype, what);
      // the same operations in the same order: the same values (NaN as NaN)
      assertEquals([...native.outputs[j].data], [...ref[name].data], what);
    });
    lengths.add(native.outputs.map((o) => o.shape.join("x")).join(" "));
    // what a task commits: every program output at its bound and the lengths, as phase 1's S_(N+1)
    const { states } = await runNative(rt.native, prog, inputs, { states: true });
    assertEquals(resultState(prog, native.programOutputs), states!.at(-1), "the result state");
    const vm = runVm(image, prog, inputs);
    assertEquals(vm.outputs.length, native.outputs.length, "output count");
    vm.outputs.forEach((o, j) => {
      assertEquals(o.shape, native.outputs[j].shape, `VM output ${j} shape`);
      assertEquals(
        new Uint8Array(o.data.buffer),
        new Uint8Array(native.outputs[j].data.buffer),
        `VM output ${j}`,
      );
    });
    assertEquals(
      [...await qemuImage(rt.mips, prog, inputs, "runtime shapes")],
      [...vm.stdout],
      "qemu-mips output",
    );
  }
  assertEquals(lengths.size, CASES.length, "every case has other run-time lengths");
});

/**
 * The detection chain: sel = NonMaxSuppression(boxes, scores, 2 per class, IOU 0.5, score 0.1);
 * picked = Gather(Squeeze(boxes), sel[:, 2]) decoded as picked * 2 + 0.5; cls = Cast(sel[:, 1]);
 * sel2 = NonMaxSuppression of the run-time number of boxes whose class-0 score is above 0.05,
 * kb_max = ReduceMax of those boxes, ks_min = ReduceMin of their scores (over the run-time axis).
 */
function detectionModel(): Uint8Array {
  return opset17Model({
    name: "g",
    node: [
      node("NonMaxSuppression", ["boxes", "scores", "max", "iou", "thr"], ["sel"]),
      node("Gather", ["sel", "two"], ["box_at"], [int("axis", 1)]),
      node("Squeeze", ["boxes", "axis0"], ["boxes2"]),
      node("Gather", ["boxes2", "box_at"], ["picked"], [int("axis", 0)]),
      node("Mul", ["picked", "scale"], ["scaled"]),
      node("Add", ["scaled", "half"], ["decoded"]),
      node("Gather", ["sel", "one"], ["cls_at"], [int("axis", 1)]),
      node("Cast", ["cls_at"], ["cls"], [int("to", FLOAT)]),
      // NMS of a run-time number of boxes (class 0's above 0.05), and reductions over it
      node("Gather", ["scores", "zero"], ["sc2"], [int("axis", 1)]),
      node("Squeeze", ["sc2", "axis0"], ["sc0"]),
      node("Greater", ["sc0", "low"], ["keep"]),
      node("NonZero", ["keep"], ["keep_nz"]),
      node("Gather", ["keep_nz", "zero"], ["keep_at"], [int("axis", 0)]),
      node("Gather", ["boxes2", "keep_at"], ["kb"], [int("axis", 0)]),
      node("Gather", ["sc0", "keep_at"], ["ks"], [int("axis", 0)]),
      node("Unsqueeze", ["kb", "axis0"], ["kb3"]),
      node("Unsqueeze", ["ks", "axes01"], ["ks3"]),
      node("NonMaxSuppression", ["kb3", "ks3", "max", "iou"], ["sel2"]),
      node("ReduceMax", ["kb"], ["kb_max"], [int("keepdims", 0)]),
      node("ReduceMin", ["ks"], ["ks_min"], [ints("axes", [0]), int("keepdims", 1)]),
    ],
    input: [vi("boxes", FLOAT, [1, 6, 4]), vi("scores", FLOAT, [1, 2, 6])],
    output: [
      vi("sel", INT64, ["S", 3]),
      vi("decoded", FLOAT, ["S", 4]),
      vi("cls", FLOAT, ["S"]),
      vi("sel2", INT64, ["T", 3]),
      vi("kb_max", FLOAT, []),
      vi("ks_min", FLOAT, [1]),
    ],
    initializer: [
      { name: "max", dims: [1], dataType: INT64, int64Data: [2] },
      { name: "iou", dims: [1], dataType: FLOAT, floatData: [0.5] },
      { name: "thr", dims: [1], dataType: FLOAT, floatData: [0.1] },
      { name: "two", dims: [], dataType: INT64, int64Data: [2] },
      { name: "one", dims: [], dataType: INT64, int64Data: [1] },
      { name: "axis0", dims: [1], dataType: INT64, int64Data: [0] },
      { name: "scale", dims: [], dataType: FLOAT, floatData: [2] },
      { name: "half", dims: [], dataType: FLOAT, floatData: [0.5] },
      { name: "zero", dims: [], dataType: INT64, int64Data: [0] },
      { name: "low", dims: [], dataType: FLOAT, floatData: [0.05] },
      { name: "axes01", dims: [2], dataType: INT64, int64Data: [0, 1] },
    ],
  });
}

Deno.test("NonMaxSuppression into Gather and box decoding: as onnxruntime; VM bytes = native", async () => {
  const { rt, path, prog, image } = await prepare("detection", detectionModel());
  const p = prog.program;
  assertEquals(p.tensors[p.outputs[0]].shape, [4, 3], "bound: 1 batch x 2 classes x 2 per class");
  const boxes = f32([1, 6, 4], [
    0,
    0,
    1,
    1,
    0,
    0.1,
    1,
    1.1,
    0,
    -0.1,
    1,
    0.9,
    0,
    10,
    1,
    11,
    0,
    10.1,
    1,
    11.1,
    0,
    100,
    1,
    101,
  ]);
  const cases = [
    [0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.05, 0.2, 0.3, 0.4, 0.5, 0.6],
    [0.05, 0.02, 0.01, 0.09, 0.1, 0.05, 0, 0, 0, 0, 0, 0], // nothing above the threshold
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.05, 0.02, 0.1, 0.01, 0, 0], // ties: the lower index first
  ];
  const counts = new Set<number>();
  for (const sc of cases) {
    const scores = f32([1, 2, 6], sc);
    const native = await runNative(rt.native, prog, [boxes, scores]);
    const ref = (await runOrt(path, { boxes, scores })).outputs;
    ["sel", "decoded", "cls", "sel2", "kb_max", "ks_min"].forEach((name, j) => {
      assertEquals(native.outputs[j].shape, ref[name].shape, name);
      assertEquals([...native.outputs[j].data], [...ref[name].data], name);
    });
    counts.add(native.outputs[0].shape[0]);
    const vm = runVm(image, prog, [boxes, scores]);
    vm.outputs.forEach((o, j) =>
      assertEquals(
        new Uint8Array(o.data.buffer),
        new Uint8Array(native.outputs[j].data.buffer),
        `VM output ${j}`,
      )
    );
  }
  assertEquals(counts.size, cases.length, "each case selects another number of boxes");
});

/** `out` = the nonzero values of the 1-D `m`, in order (NonZero, its row 0, Gather; `zero` = 0). */
const nonzeroValues = (out: string) => [
  node("NonZero", ["m"], [`${out}:nz`]),
  node("Gather", [`${out}:nz`, "zero"], [`${out}:at`], [int("axis", 0)]),
  node("Gather", ["m", `${out}:at`], [out], [int("axis", 0)]),
];

/**
 * Indices counted from a run-time length: v = Gather(values where m != 0, at) and TopK of them
 * with k = kk, for run-time `at` and `kk`.
 */
function lengthModel(): Uint8Array {
  return opset17Model({
    name: "g",
    node: [
      ...nonzeroValues("values"),
      node("Gather", ["values", "at"], ["v"], [int("axis", 0)]),
      node("TopK", ["values", "kk"], ["best", "best_at"], [int("axis", 0)]),
    ],
    input: [vi("m", FLOAT, [5]), vi("at", INT64, [1]), vi("kk", INT64, [1])],
    output: [vi("v", FLOAT, [1]), vi("best", FLOAT, ["K"])],
    initializer: [{ name: "zero", dims: [], dataType: INT64, int64Data: [0] }],
  });
}

Deno.test("indices and k past a run-time length fail the run natively and in the VM, as in onnxruntime", async () => {
  const { rt, path, prog, image } = await prepare("length", lengthModel());
  const m = f32([5], [0, 2.5, 0, -1, 4]); // three values: 2.5, -1, 4
  const i64 = (v: number): TensorValue => ({
    dtype: DType.int64,
    shape: [1],
    data: BigInt64Array.of(BigInt(v)),
  });
  // within the length (a negative index counts from it, not from the bound 5)
  for (const [at, kk] of [[-1, 3], [2, 1], [-3, 0]]) {
    const inputs = [m, i64(at), i64(kk)];
    const native = await runNative(rt.native, prog, inputs);
    const ref = (await runOrt(path, { m, at: inputs[1], kk: inputs[2] })).outputs;
    assertEquals([...native.outputs[0].data], [...ref.v.data], `v at ${at}`);
    assertEquals([...native.outputs[1].data], [...ref.best.data], `best of ${kk}`);
    const vm = runVm(image, prog, inputs);
    assertEquals(vm.stdout.length > 0, true);
    vm.outputs.forEach((o, j) => assertEquals([...o.data], [...native.outputs[j].data], `VM output ${j}`));
  }
  // past it: onnxruntime fails, and so does opml (never the padding's value)
  for (const [at, kk] of [[3, 1], [-4, 1], [0, 4]]) {
    const inputs = [m, i64(at), i64(kk)];
    let ortFailed = false;
    await runOrt(path, { m, at: inputs[1], kk: inputs[2] }).catch(() => ortFailed = true);
    assert(ortFailed, `onnxruntime accepts at ${at}, k ${kk}`);
    const native = await runNative(rt.native, prog, inputs).then(() => "ran", (e) => e);
    assert(native instanceof RuntimeError, `native at ${at}, k ${kk}: ${native}`);
    assert(/node '(v|best)'/.test(native.message), native.message);
    let vmError: unknown;
    try {
      runVm(image, prog, inputs);
    } catch (e) {
      vmError = e;
    }
    assert(vmError instanceof RuntimeError, `VM at ${at}, k ${kk}: ${vmError}`);
  }
});

/**
 * vals = m's nonzero values [n]; y = If(n == 0) then an empty tensor else vals * 2 (a run-time
 * choice of lengths); head = vals[0:2] (a prefix: min(n, 2)); cat = Concat(head) (torch.cat of
 * one tensor); full = ConstantOfShape(Shape(vals), 7) (torch.full_like); packed = Concat(vals, head,
 * [2]) (run-time lengths packed one after the other).
 */
function choiceModel(): Uint8Array {
  return opset17Model({
    name: "g",
    node: [
      ...nonzeroValues("vals"),
      node("Shape", ["vals"], ["s"]),
      node("Gather", ["s", "zero"], ["n"], [int("axis", 0)]),
      node("Equal", ["n", "zero"], ["empty"]),
      node("If", ["empty"], ["y"], [
        {
          name: "then_branch",
          type: 5,
          g: {
            name: "then",
            node: [
              node("Constant", [], ["none"], [{
                name: "value",
                type: 4,
                t: { dims: [0], dataType: FLOAT },
              }]),
            ],
            output: [vi("none", FLOAT, [0])],
          },
        },
        {
          name: "else_branch",
          type: 5,
          g: {
            name: "else",
            node: [node("Mul", ["vals", "two"], ["doubled"])],
            output: [vi("doubled", FLOAT, ["N"])],
          },
        },
      ]),
      node("Slice", ["vals", "zero1", "two1", "zero1"], ["head"]),
      node("Concat", ["head"], ["cat"], [int("axis", 0)]),
      node("Concat", ["vals", "head", "two1f"], ["packed"], [int("axis", 0)]),
      node("ConstantOfShape", ["s"], ["full"], [
        { name: "value", type: 4, t: { dims: [1], dataType: FLOAT, floatData: [7] } },
      ]),
    ],
    input: [vi("m", FLOAT, [5])],
    output: [
      vi("y", FLOAT, ["Y"]),
      vi("cat", FLOAT, ["H"]),
      vi("full", FLOAT, ["N"]),
      vi("packed", FLOAT, ["P"]),
    ],
    initializer: [
      { name: "zero", dims: [], dataType: INT64, int64Data: [0] },
      { name: "two", dims: [], dataType: FLOAT, floatData: [2] },
      { name: "zero1", dims: [1], dataType: INT64, int64Data: [0] },
      { name: "two1", dims: [1], dataType: INT64, int64Data: [2] },
      { name: "two1f", dims: [1], dataType: FLOAT, floatData: [2] },
    ],
  });
}

Deno.test("a run-time If between an empty tensor and a run-time list, a prefix Slice, ConstantOfShape of a run-time shape, Concat of run-time lengths: as onnxruntime; VM = native", async () => {
  const { rt, path, prog, image } = await prepare("choice", choiceModel());
  for (const v of [[0, 0, 0, 0, 0], [0, 3, 0, -1.5, 0], [1, 2, 3, 4, 5], [0, 0, 0, 0, 9]]) {
    const m = f32([5], v);
    const native = await runNative(rt.native, prog, [m]);
    const ref = (await runOrt(path, { m })).outputs;
    ["y", "cat", "full", "packed"].forEach((name, j) => {
      assertEquals(native.outputs[j].shape, ref[name].shape, `${name} of ${v}`);
      assertEquals([...native.outputs[j].data], [...ref[name].data], `${name} of ${v}`);
    });
    const vm = runVm(image, prog, [m]);
    vm.outputs.forEach((o, j) =>
      assertEquals(
        new Uint8Array(o.data.buffer),
        new Uint8Array(native.outputs[j].data.buffer),
        `VM output ${j}`,
      )
    );
  }
});

/**
 * fasterrcnn's MultiScaleRoIAlign on a run-time number of kept rois, as torchvision exports it:
 * rois = boxes where s > 0 [K?, 4]; rois5 = [zeros_like(rois[:, :1]), rois]; the batch index
 * column squeezed by an If on `shape[1] == 1` (known: the dead branch goes); the rois with
 * x2 > 2 pooled by RoiAlign [M?, 2, 2, 2] and scattered into zeros(K, 2, 2, 2) at their
 * positions (ScatterElements of an index reshaped to [-1, 1, 1, 1] and expanded to the pooled
 * shape, the expand's target through the exporter's Where(shape == -1, 1, shape)); then
 * Flatten, Gemm, a view(n, -1, 1), a flat view [-1] (3K rows), the slice [0:n] of the whole
 * batch, and a constant row expanded to the run-time shape (labels.expand_as(scores)).
 */
function roiModel(): Uint8Array {
  const c = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: INT64, int64Data: v });
  return opset17Model({
    name: "g",
    node: [
      node("Greater", ["s", "zerof"], ["pos"]),
      node("NonZero", ["pos"], ["keep"]),
      node("Gather", ["keep", "zero"], ["at"], [int("axis", 0)]),
      node("Gather", ["boxes", "at"], ["rois"], [int("axis", 0)]),
      node("Shape", ["rois"], ["rshape"]),
      node("Gather", ["rshape", "zero"], ["n"], [int("axis", 0)]),
      node("Unsqueeze", ["n", "zero1"], ["n1"]),
      node("Slice", ["rois", "zero1", "one1", "one1"], ["col"]),
      node("Shape", ["col"], ["cshape"]),
      node("ConstantOfShape", ["cshape"], ["zcol"]),
      node("Concat", ["zcol", "rois"], ["rois5"], [int("axis", 1)]),
      node("Gather", ["rois5", "zero1"], ["bcol"], [int("axis", 1)]),
      node("Shape", ["bcol"], ["bshape"]),
      node("Gather", ["bshape", "one"], ["bdim"], [int("axis", 0)]),
      node("Equal", ["bdim", "one"], ["squeezable"]),
      node("If", ["squeezable"], ["bsq"], [
        {
          name: "then_branch",
          type: 5,
          g: {
            name: "then",
            node: [node("Squeeze", ["bcol", "one1"], ["bs"])],
            output: [vi("bs", FLOAT, ["K"])],
          },
        },
        {
          name: "else_branch",
          type: 5,
          g: {
            name: "else",
            node: [node("Identity", ["bcol"], ["bid"])],
            output: [vi("bid", FLOAT, ["K", 1])],
          },
        },
      ]),
      node("Cast", ["bsq"], ["bi"], [int("to", INT64)]),
      node("Gather", ["rois5", "cols4"], ["r4"], [int("axis", 1)]),
      node("Gather", ["r4", "two"], ["x2"], [int("axis", 1)]),
      node("Greater", ["x2", "twof"], ["big"]),
      node("NonZero", ["big"], ["sel"]),
      node("Gather", ["sel", "zero"], ["selat"], [int("axis", 0)]),
      node("Gather", ["r4", "selat"], ["sub_r"], [int("axis", 0)]),
      node("Gather", ["bi", "selat"], ["sub_b"], [int("axis", 0)]),
      node("RoiAlign", ["X", "sub_r", "sub_b"], ["pooled"], [
        int("output_height", 2),
        int("output_width", 2),
        int("sampling_ratio", 2),
        { name: "spatial_scale", type: 1, f: 0.5 },
      ]),
      node("Concat", ["n1", "c222"], ["res_shape"], [int("axis", 0)]),
      node("ConstantOfShape", ["res_shape"], ["res"]),
      node("Reshape", ["selat", "col4"], ["idx"]),
      node("Shape", ["idx"], ["ishape"]),
      node("Gather", ["ishape", "zero"], ["m"], [int("axis", 0)]),
      node("Unsqueeze", ["m", "zero1"], ["m1"]),
      node("Concat", ["m1", "c222"], ["tshape"], [int("axis", 0)]),
      node("Equal", ["tshape", "minus4"], ["isneg"]),
      node("Where", ["isneg", "ones4", "tshape"], ["target"]),
      node("Expand", ["idx", "target"], ["idxe"]),
      node("ScatterElements", ["res", "idxe", "pooled"], ["merged"], [int("axis", 0)]),
      node("Flatten", ["merged"], ["flat"], [int("axis", 1)]),
      node("Gemm", ["flat", "W", "b"], ["y"], [int("transB", 1)]),
      node("Concat", ["n1", "minus1_1"], ["vshape"], [int("axis", 0)]),
      node("Reshape", ["y", "vshape"], ["v"]),
      node("Reshape", ["y", "minus1"], ["f"]),
      node("Add", ["zero1", "n1"], ["end"]),
      node("Slice", ["y", "zero1", "end", "zero1"], ["sl"]),
      node("Shape", ["sl"], ["slshape"]),
      node("Expand", ["row3", "slshape"], ["lab"]),
    ],
    input: [vi("X", FLOAT, [1, 2, 4, 4]), vi("boxes", FLOAT, [5, 4]), vi("s", FLOAT, [5])],
    output: [
      vi("merged", FLOAT, ["K", 2, 2, 2]),
      vi("v", FLOAT, ["K", 3, 1]),
      vi("f", FLOAT, ["F"]),
      vi("sl", FLOAT, ["K", 3]),
      vi("lab", INT64, ["K", 3]),
    ],
    initializer: [
      { name: "zerof", dims: [], dataType: FLOAT, floatData: [0] },
      { name: "twof", dims: [], dataType: FLOAT, floatData: [2] },
      c("zero", [], [0]),
      c("one", [], [1]),
      c("two", [], [2]),
      c("zero1", [1], [0]),
      c("one1", [1], [1]),
      c("cols4", [4], [1, 2, 3, 4]),
      c("c222", [3], [2, 2, 2]),
      c("col4", [4], [-1, 1, 1, 1]),
      c("minus4", [4], [-1, -1, -1, -1]),
      c("ones4", [4], [1, 1, 1, 1]),
      c("minus1_1", [2], [-1, 1]),
      c("minus1", [1], [-1]),
      c("row3", [1, 3], [0, 1, 2]),
      {
        name: "W",
        dims: [3, 8],
        dataType: FLOAT,
        floatData: Array.from({ length: 24 }, (_, j) => ((j * 7) % 11) / 8 - 0.6),
      },
      { name: "b", dims: [3], dataType: FLOAT, floatData: [0.25, -0.5, 1] },
    ],
  });
}

Deno.test("RoiAlign, ScatterElements, Reshape, Flatten, Expand and Gemm on a run-time number of rois (fasterrcnn's MultiScaleRoIAlign), shape arithmetic on a run-time length: as onnxruntime; VM and qemu bytes = native", async () => {
  const { rt, path, prog, image } = await prepare("roi", roiModel());
  const p = prog.program;
  assert(
    !p.nodes.some((n) => /^bsq:(else|out)/.test(n.name)),
    "the If on shape[1] == 1 folds to its then branch",
  );
  const X = f32([1, 2, 4, 4], Array.from({ length: 32 }, (_, j) => Math.sin(j) * 3));
  const boxes = f32([5, 4], [0, 0, 3, 3, 1, 1, 6, 7, 0.5, 2, 1.5, 5, 2, 0, 7, 2.5, 0, 4, 5.5, 8]);
  const names = ["merged", "v", "f", "sl", "lab"];
  const shapes = new Set<string>();
  // kept rois (K) and pooled ones (M): 5 and 4, 3 and 2, 2 and 2, 1 and 1, 1 and 0 (K = 0 is left
  // out: onnxruntime cannot infer the -1 of view(0, -1, 1), where opml gives the empty [0, 3, 1])
  for (
    const sv of [[1, 1, 1, 1, 1], [0.5, -1, 2, 0.1, -3], [-1, 3, -1, -1, 2], [0, 0, 0, 0, 1], [
      -1,
      -1,
      1,
      -1,
      -1,
    ]]
  ) {
    const s = f32([5], sv);
    const native = await runNative(rt.native, prog, [X, boxes, s]);
    const ref = (await runOrt(path, { X, boxes, s })).outputs;
    names.forEach((name, j) => {
      const got = native.outputs[j], want = ref[name];
      assertEquals(got.shape, want.shape, `${name} of s = ${sv}`);
      // RoiAlign's samples and Gemm's sums round in onnxruntime's own order: within 1e-5
      got.data.forEach((g, i) =>
        assert(
          Math.abs(Number(g) - Number(want.data[i])) <= 1e-5,
          `${name}[${i}] of s = ${sv}: ${g}, ${want.data[i]}`,
        )
      );
    });
    shapes.add(native.outputs[0].shape.join("x"));
    const vm = runVm(image, prog, [X, boxes, s]);
    vm.outputs.forEach((o, j) =>
      assertEquals(
        new Uint8Array(o.data.buffer),
        new Uint8Array(native.outputs[j].data.buffer),
        `VM output ${j}`,
      )
    );
    assertEquals(
      [...await qemuImage(rt.mips, prog, [X, boxes, s], "roi")],
      [...vm.stdout],
      "qemu-mips output",
    );
  }
  assertEquals(shapes.size, 4, "the cases keep 5, 3, 2 and 1 rois");
});

Deno.test("a consumer that cannot take a run-time length: one line naming node, operator, opset and input (exit 2)", async () => {
  const message = (bytes: Uint8Array) => {
    try {
      compileGraph(decodeModel(bytes, "m.onnx"));
    } catch (e) {
      assert(e instanceof LoweringError, String(e));
      return e.message;
    }
    throw new Error("compiled");
  };
  assertEquals(
    message(model("reshape")),
    `node 'bad' (Reshape, opset 17): input 'nz' has a run-time length on axis 1 (docs/IR.md, "Run-time shapes"): Reshape takes it on axis 0 only`,
  );
  assertEquals(
    message(model("reduce")),
    `node 'bad' (ReduceMean, opset 17): input 'rows' has a run-time length on axis 0 (docs/IR.md, "Run-time shapes"): ReduceMean over that axis`,
  );
  // a Reshape that does not leave axis 0 to the run-time length
  const regroup = opset17Model({
    name: "g",
    node: [...nonzeroValues("vals"), node("Reshape", ["vals", "two_rows"], ["bad"])],
    input: [vi("m", FLOAT, [6])],
    output: [vi("bad", FLOAT, [2, "H"])],
    initializer: [
      { name: "zero", dims: [], dataType: INT64, int64Data: [0] },
      { name: "two_rows", dims: [2], dataType: INT64, int64Data: [2, -1] },
    ],
  });
  assertEquals(
    message(regroup),
    `node 'bad' (Reshape, opset 17): input 'vals' has a run-time length on axis 0 (docs/IR.md, "Run-time shapes"): Reshape to [2, -1], which does not leave axis 0 to it (-1 or 0 there)`,
  );
  const flatten0 = opset17Model({
    name: "g",
    node: [...nonzeroValues("vals"), node("Flatten", ["vals"], ["bad"], [int("axis", 0)])],
    input: [vi("m", FLOAT, [6])],
    output: [vi("bad", FLOAT, [1, "H"])],
    initializer: [{ name: "zero", dims: [], dataType: INT64, int64Data: [0] }],
  });
  assertEquals(
    message(flatten0),
    `node 'bad' (Flatten, opset 17): input 'vals' has a run-time length on axis 0 (docs/IR.md, "Run-time shapes"): Flatten with axis 0 (it moves the length into axis 1)`,
  );
  const path = `${tmp}/bad.onnx`;
  Deno.writeFileSync(path, model("reshape"));
  assertOneLineError(
    await opml("compile", path, "-o", `${tmp}/bad`, "--no-fidelity"),
    2,
    /^opml: node 'bad' \(Reshape, opset 17\): input 'nz' has a run-time length/,
  );
});

Deno.test({
  name: "dispute: a lie in the run-time NonZero node ends on that node; MIPS.sol accepts the step",
  ignore: !anvilAvailable(),
  async fn() {
    const dir = `${tmp}/dir`;
    await opmlOk("compile", modelPath, "-o", dir, "--no-fidelity");
    const files = ["x", "k", "m", "c"].map((name, j) => {
      const f = `${tmp}/${name}.bin`;
      Deno.writeFileSync(f, new Uint8Array(CASES[0][j].data.buffer));
      return `${name}=${f}`;
    });
    const inputArgs = files.flatMap((f) => ["-i", f]);
    const prog = assemble(compileGraph(decodeModel(model(), "model.onnx")));
    const k = 1 + prog.program.nodes.findIndex((n) => n.opType === "NonZero" && n.name === "nz");
    assert(k > 0, "the run-time NonZero is a node of the program");
    await assertDisputeEndsAt(tmp, dir, inputArgs, k);
  },
});
