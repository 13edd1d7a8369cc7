/**
 * The movement kernels (core/kernels/movement.c) and their compile-time folding
 * (core/compiler/ops/movement.ts) against onnxruntime-node on seeded random single-node models:
 * every operator, several opset variants, every dtype the ops take. Each case checks
 *  - the kernel path (compiled with folding off, run by the native runtime): bytes equal ORT's;
 *  - the fold path (every input a constant): the folded constant's bytes equal ORT's;
 *  - the MIPS image under qemu-mips and in the project's VM: bytes equal the native run's.
 * Plus run-time index errors, lowering errors, and the op-code table of C against TypeScript.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../../core/engine/mod.ts";
import { qemuImage } from "./_qemu_image.ts";
import { RuntimeError } from "../../core/engine/native.ts";
import { DType, dtypeName, type Program, type TensorValue } from "../../core/ir/mod.ts";
import { bytesOf, decodeModel } from "../../core/onnx/load.ts";
import { MOVEMENT_OPS } from "../../core/compiler/ops/movement.ts";
import {
  type Attr,
  encodeNodeModel,
  i32,
  i64,
  type NodeInput,
  type NodeModel,
  randomTensor,
  Rng,
} from "./movement_model.ts";

const ALL = [
  DType.float32,
  DType.float64,
  DType.int8,
  DType.uint8,
  DType.int16,
  DType.uint16,
  DType.int32,
  DType.uint32,
  DType.int64,
  DType.uint64,
  DType.bool,
]; // deno-fmt-ignore
/** Types onnxruntime's Pad and Gather kernels take (and float32 first, the common one). */
const COMMON = [DType.float32, DType.float64, DType.int8, DType.uint8, DType.int32, DType.int64, DType.bool];
const PAD_TYPES = [
  DType.float32,
  DType.float64,
  DType.int8,
  DType.uint8,
  DType.int32,
  DType.int64,
  DType.uint32,
  DType.uint64,
];

const rng = new Rng(20261127);
const runtime = buildRuntime();
let image: Uint8Array | undefined;

function randShape(rank: number, lo = 1, hi = 4): number[] {
  return Array.from({ length: rank }, () => rng.int(lo, hi));
}
function data(dtype: number, shape: number[], constant = false): NodeInput {
  return { name: "x", value: randomTensor(rng, dtype, shape), constant };
}
function konst(name: string, value: TensorValue): NodeInput {
  return { name, value, constant: true };
}
function node(
  opType: string,
  opset: number,
  inputs: (NodeInput | null)[],
  attrs: Record<string, Attr> = {},
  outputs = 1,
): NodeModel {
  return { opType, opset, inputs, attrs, outputs };
}

function bytes(v: TensorValue): Uint8Array {
  return v.dtype === DType.bool ? Uint8Array.from(v.data as Uint8Array, Number) : bytesOf(v).slice();
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

function same(got: TensorValue, want: TensorValue, what: string): void {
  assertEquals(dtypeName(got.dtype), dtypeName(want.dtype), `${what}: dtype`);
  assertEquals(got.shape, want.shape, `${what}: shape`);
  assertEquals(bytes(got), bytes(want), `${what}: bytes`);
}

/** Runs one model through ORT, the kernel path, the fold path and the VM. Returns VM steps. */
async function check(m: NodeModel): Promise<number> {
  const rt = await runtime;
  const label = `${m.opType}-${m.opset} ${
    JSON.stringify(m.attrs, (_, v) => (typeof v === "bigint" ? `${v}` : v))
  }`;
  const file = Deno.makeTempFileSync({ suffix: ".onnx" });
  try {
    const modelBytes = encodeNodeModel(m);
    Deno.writeFileSync(file, modelBytes);
    const feeds: Record<string, TensorValue> = {};
    for (const i of m.inputs) if (i && !i.constant) feeds[i.name] = i.value;
    const ref = (await runOrt(file, feeds)).outputs;
    const want = Array.from({ length: m.outputs ?? 1 }, (_, i) => ref[`y${i}`]);

    // kernel path: folding off, so the kernel runs even on constants
    const prog = assemble(compileGraph(decodeModel(modelBytes), { foldLimit: 0 }));
    // (empty outputs are folded even so)
    if (want.some((w) => w.data.length > 0)) {
      assertEquals(prog.program.nodes.length, 1, `${label}: one kernel call`);
    }
    const inputs = prog.program.inputs.map((t) => feeds[prog.program.tensors[t].name]);
    const { outputs } = await runNative(rt.native, prog, inputs);
    outputs.forEach((o, i) => same(o, want[i], `${label} native output ${i}`));

    // fold path: every input known
    const all = { ...m, inputs: m.inputs.map((i) => i && { ...i, constant: true }) };
    const folded = compileGraph(decodeModel(encodeNodeModel(all)));
    assertEquals(folded.nodes.length, 0, `${label}: folded away`);
    folded.outputs.forEach((t, i) => {
      const ft = folded.tensors[t];
      const v = { dtype: ft.dtype, shape: ft.shape, data: ft.data! } as unknown as TensorValue;
      assertEquals(ft.shape, want[i].shape, `${label} folded output ${i}: shape`);
      assertEquals(ft.data, bytes(want[i]), `${label} folded output ${i}: bytes (${dtypeName(v.dtype)})`);
    });

    // the MIPS image under qemu-mips, an independent CPU: the native bytes
    const qemu = await qemuImage(rt.mips, prog, inputs, label);
    assertEquals(qemu, concatBytes(outputs.map(bytes)), `${label}: qemu-mips output`);
    // and in the project's VM. Only for programs with at most one run-time input: the input keys
    // are local data of 32 bytes per input, and the oracle takes at most 32 bytes of local data.
    if (inputs.length > 1) return 0;
    image ??= Deno.readFileSync(rt.mips);
    const vm = runVm(image, prog, inputs);
    assertEquals(vm.stdout, qemu, `${label}: VM output`);
    return vm.steps;
  } finally {
    Deno.removeSync(file);
  }
}

async function checkAll(cases: NodeModel[]): Promise<void> {
  for (const c of cases) await check(c);
}

Deno.test("movement: Identity, every dtype", async () => {
  await checkAll(ALL.map((dt) => node("Identity", rng.pick([13, 16]), [data(dt, randShape(rng.int(0, 3)))])));
});

Deno.test("movement: Reshape with 0, -1 and allowzero", async () => {
  const specs = [[4, -1], [0, 0, -1], [-1], [2, 0, 2, 2], [24], [1, -1, 1], [0, 12]];
  const cases = specs.map((s) =>
    node("Reshape", rng.pick([7, 13, 14]), [data(rng.pick(ALL), [2, 3, 4]), konst("s", i64(s))])
  );
  cases.push(
    node("Reshape", 14, [data(DType.float32, [0, 3, 4]), konst("s", i64([3, 4, 0]))], { allowzero: 1 }),
  );
  cases.push(node("Reshape", 14, [data(DType.int64, [2, 3, 4]), konst("s", i64([3, 8]))], { allowzero: 1 }));
  await checkAll(cases);
});

Deno.test("movement: Flatten at every axis", async () => {
  const cases: NodeModel[] = [];
  for (let r = 1; r <= 4; r++) {
    for (let a = -r; a <= r; a++) {
      cases.push(node("Flatten", 13, [data(rng.pick(ALL), randShape(r))], { axis: a }));
    }
  }
  cases.push(node("Flatten", 9, [data(DType.float32, [2, 3, 4])]));
  await checkAll(cases);
});

Deno.test("movement: Squeeze and Unsqueeze, axes as attribute (opset 11) and input (13)", async () => {
  const cases: NodeModel[] = [];
  for (let k = 0; k < 6; k++) {
    const shape = randShape(rng.int(1, 5)).map((d) => (rng.next() < 0.4 ? 1 : d));
    const ones = shape.flatMap((d, i) => (d === 1 ? [rng.next() < 0.5 ? i - shape.length : i] : []));
    const axes = rng.shuffle(ones).slice(0, rng.int(1, Math.max(1, ones.length)));
    const x = data(rng.pick(ALL), shape);
    if (k % 3 === 0) cases.push(node("Squeeze", 13, [x])); // every 1
    else if (ones.length && k % 2) cases.push(node("Squeeze", 11, [x], { axes }));
    else if (ones.length) cases.push(node("Squeeze", 13, [x, konst("a", i64(axes))]));
  }
  for (let k = 0; k < 6; k++) {
    const shape = randShape(rng.int(0, 3));
    const outRank = shape.length + rng.int(1, 3);
    const axes = rng.shuffle([...Array(outRank).keys()]).slice(0, outRank - shape.length)
      .map((a) => (rng.next() < 0.5 ? a - outRank : a));
    const x = data(rng.pick(ALL), shape);
    cases.push(
      k % 2 ? node("Unsqueeze", 11, [x], { axes }) : node("Unsqueeze", 13, [x, konst("a", i64(axes))]),
    );
  }
  await checkAll(cases);
});

Deno.test("movement: Transpose, random permutations of rank 1-5", async () => {
  const cases: NodeModel[] = [];
  for (let k = 0; k < 12; k++) {
    const r = rng.int(1, 5);
    const perm = rng.shuffle([...Array(r).keys()]);
    const attrs: Record<string, Attr> = k % 4 === 0 ? {} : { perm };
    cases.push(node("Transpose", 13, [data(rng.pick(ALL), randShape(r, 1, 5))], attrs));
  }
  cases.push(node("Transpose", 13, [data(DType.float32, [3, 0, 2])], { perm: [2, 0, 1] }));
  await checkAll(cases);
});

Deno.test("movement: Concat of 1-4 inputs, run-time and constant, empty parts", async () => {
  const cases: NodeModel[] = [];
  for (let k = 0; k < 10; k++) {
    const r = rng.int(1, 4), axis = rng.int(-r, r - 1), a = axis < 0 ? axis + r : axis;
    const base = randShape(r), dt = rng.pick(ALL);
    const n = rng.int(1, 4);
    const inputs = Array.from({ length: n }, (_, i) => {
      const s = [...base];
      s[a] = rng.int(i === 0 ? 1 : 0, 3);
      return { name: `x${i}`, value: randomTensor(rng, dt, s), constant: rng.next() < 0.3 };
    });
    cases.push(node("Concat", rng.pick([11, 13]), inputs, { axis }));
  }
  await checkAll(cases);
});

Deno.test("movement: Gather with int32/int64, negative and run-time indices", async () => {
  const cases: NodeModel[] = [];
  for (let k = 0; k < 12; k++) {
    const r = rng.int(1, 4), shape = randShape(r, 1, 5), axis = rng.int(-r, r - 1);
    const n = shape[axis < 0 ? axis + r : axis];
    const ishape = randShape(rng.int(0, 2), 1, 4);
    const vals = Array.from({ length: ishape.reduce((a, b) => a * b, 1) }, () => rng.int(-n, n - 1));
    const ind = k % 2 ? i64(vals, ishape) : i32(vals, ishape);
    cases.push(
      node("Gather", rng.pick([11, 13]), [data(rng.pick(COMMON), shape), {
        name: "i",
        value: ind,
        constant: k % 3 === 0,
      }], { axis }),
    );
  }
  await checkAll(cases);
});

Deno.test("movement: Slice, inputs (opset 13) and attributes (opset 9), clamping, negative steps", async () => {
  const BIG = [9223372036854775807n, -9223372036854775808n];
  const cases: NodeModel[] = [];
  for (let k = 0; k < 14; k++) {
    const r = rng.int(1, 4), shape = randShape(r, 1, 6);
    const m = rng.int(1, r);
    const axes = rng.shuffle([...Array(r).keys()]).slice(0, m);
    const starts: bigint[] = [], ends: bigint[] = [], steps: bigint[] = [];
    for (const a of axes) {
      const d = shape[a];
      const p = k % 3 === 2 ? 1 : rng.pick([1, 2, 3, -1, -2]);
      steps.push(BigInt(p));
      starts.push(rng.next() < 0.15 ? (p > 0 ? BIG[1] : BIG[0]) : BigInt(rng.int(-d - 2, d + 2)));
      ends.push(rng.next() < 0.3 ? (p > 0 ? BIG[0] : BIG[1]) : BigInt(rng.int(-d - 2, d + 2)));
    }
    const x = data(rng.pick(ALL), shape);
    const signed = axes.map((a) => (rng.next() < 0.5 ? a - r : a));
    if (k % 3 === 2) {
      cases.push(node("Slice", 9, [x], { starts, ends, axes }));
    } else {
      cases.push(
        node("Slice", 13, [
          x,
          konst("s", i64(starts)),
          konst("e", i64(ends)),
          konst("a", i64(signed)),
          konst("p", i64(steps)),
        ]),
      );
    }
  }
  cases.push(node("Slice", 13, [data(DType.float32, [4, 5]), konst("s", i64([1])), konst("e", i64([3]))])); // default axes
  await checkAll(cases);
});

Deno.test("movement: Split by sizes, equal parts and num_outputs (opsets 11, 13, 18)", async () => {
  const cases: NodeModel[] = [];
  for (let k = 0; k < 10; k++) {
    const r = rng.int(1, 3), shape = randShape(r, 1, 5), axis = rng.int(-r, r - 1);
    const a = axis < 0 ? axis + r : axis;
    const x = data(rng.pick(ALL), shape);
    switch (k % 4) {
      case 0: { // sizes
        const n = rng.int(1, 3);
        const sizes = Array.from({ length: n }, () => rng.int(0, 3));
        shape[a] = sizes.reduce((s, v) => s + v, 0) || 1;
        if (!sizes.some((s) => s)) sizes[0] = 1;
        x.value = randomTensor(rng, x.value.dtype, shape);
        cases.push(node("Split", rng.pick([13, 18]), [x, konst("s", i64(sizes))], { axis }, n));
        break;
      }
      case 1: { // equal parts
        const n = rng.int(1, 3);
        shape[a] = n * rng.int(1, 3);
        x.value = randomTensor(rng, x.value.dtype, shape);
        cases.push(node("Split", rng.pick([11, 13]), [x], { axis }, n));
        break;
      }
      case 2: { // attribute sizes
        shape[a] = 5;
        x.value = randomTensor(rng, x.value.dtype, shape);
        cases.push(node("Split", 11, [x], { axis, split: [1, 4] }, 2));
        break;
      }
      default: { // num_outputs, uneven last chunk
        const n = rng.int(2, 4);
        shape[a] = rng.int(n, 3 * n);
        const chunk = Math.ceil(shape[a] / n);
        if (chunk * (n - 1) >= shape[a]) shape[a] = chunk * (n - 1) + 1;
        x.value = randomTensor(rng, x.value.dtype, shape);
        cases.push(node("Split", 18, [x], { axis, num_outputs: n }, n));
      }
    }
  }
  await checkAll(cases);
});

Deno.test("movement: Pad constant/reflect/edge/wrap, attributes (opset 10) and inputs (11, 18, 19)", async () => {
  const cases: NodeModel[] = [];
  const modes = ["constant", "reflect", "edge", "wrap"];
  for (let k = 0; k < 16; k++) {
    const mode = modes[k % 4];
    const r = rng.int(1, 4), shape = randShape(r, 2, 4);
    const axes = rng.next() < 0.3 ? rng.shuffle([...Array(r).keys()]).slice(0, rng.int(1, r)) : undefined;
    const along = axes ?? [...Array(r).keys()];
    // reflect needs pads < dim; cropping (negative pads) only where the mode allows it
    const lim = (a: number) => (mode === "reflect" ? shape[a] - 1 : mode === "wrap" ? shape[a] : 3);
    const pads = [...along, ...along].map((a) => rng.int(mode === "constant" ? -1 : 0, lim(a)));
    const dt = k < 4 ? DType.float32 : rng.pick(PAD_TYPES);
    const x = data(dt, shape);
    if (k % 8 === 1 && mode !== "wrap" && !axes) {
      cases.push(
        node("Pad", 10, [{ ...x, value: randomTensor(rng, DType.float32, shape) }], {
          mode,
          pads,
          value: { float: 2.5 },
        }),
      );
      continue;
    }
    const cv = mode === "constant" && rng.next() < 0.7
      ? { name: "c", value: randomTensor(rng, dt, []), constant: rng.next() < 0.5 }
      : null;
    const opset = mode === "wrap" ? 19 : axes ? 18 : rng.pick([11, 13, 18]);
    const inputs: (NodeInput | null)[] = [x, konst("p", i64(pads)), cv];
    if (axes) inputs.push(konst("a", i64(axes.map((a) => (rng.next() < 0.5 ? a - r : a)))));
    cases.push(node("Pad", opset, inputs, { mode }));
  }
  await checkAll(cases);
});

Deno.test("movement: Expand, bidirectional broadcast", async () => {
  const cases: NodeModel[] = [];
  for (let k = 0; k < 10; k++) {
    const r = rng.int(0, 3), shape = randShape(r, 1, 3).map((d) => (rng.next() < 0.5 ? 1 : d));
    const extra = rng.int(0, 2);
    const target = [...randShape(extra), ...shape.map((d) => (d === 1 ? rng.int(1, 4) : rng.pick([1, d])))];
    cases.push(node("Expand", rng.pick([8, 13]), [data(rng.pick(ALL), shape), konst("s", i64(target))]));
  }
  await checkAll(cases);
});

Deno.test("movement: Shape with start/end (opset 15) and ConstantOfShape", async () => {
  const cases: NodeModel[] = [];
  for (let k = 0; k < 8; k++) {
    const r = rng.int(0, 4);
    const attrs: Record<string, Attr> = {};
    if (k % 2) attrs.start = rng.int(-r - 1, r + 1);
    if (k % 3) attrs.end = rng.int(-r - 1, r + 1);
    cases.push(node("Shape", k < 2 ? 13 : 15, [data(rng.pick(ALL), randShape(r))], k < 2 ? {} : attrs));
  }
  for (
    const dt of [DType.float32, DType.int32, DType.int64, DType.uint8, DType.bool, DType.float64, DType.int8]
  ) {
    const value = randomTensor(rng, dt, [1]);
    cases.push(node("ConstantOfShape", 20, [konst("s", i64(randShape(rng.int(0, 3), 0, 4)))], { value }));
  }
  cases.push(node("ConstantOfShape", 9, [konst("s", i64([2, 3]))]));
  await checkAll(cases);
});

Deno.test("movement: Gather rejects out-of-range run-time indices, natively and in the VM", async () => {
  const rt = await runtime;
  const m = node("Gather", 13, [data(DType.float32, [3, 2], true), { name: "i", value: i64([0, 3]) }], {
    axis: 0,
  });
  const prog = assemble(compileGraph(decodeModel(encodeNodeModel(m))));
  const inputs = prog.program.inputs.map((t) =>
    m.inputs.find((i) => i?.name === prog.program.tensors[t].name)!.value
  );
  let err: unknown;
  try {
    await runNative(rt.native, prog, inputs);
  } catch (e) {
    err = e;
  }
  assert(err instanceof RuntimeError, `native: expected a RuntimeError, got ${err}`);
  assert(/node 'n' \(Gather\): invalid value/.test(err.message), err.message);
  image ??= Deno.readFileSync(rt.mips);
  assertThrows(() => runVm(image!, prog, inputs), RuntimeError, /node 'n' \(Gather\): invalid value/);
  // in range (-3 is the first row) runs
  const { outputs } = await runNative(rt.native, prog, [i64([-3, 2])]);
  const x = m.inputs[0]!.value.data as Float32Array;
  assertEquals(bytes(outputs[0]), new Uint8Array(Float32Array.of(x[0], x[1], x[4], x[5]).buffer));
});

Deno.test("movement: lowering errors name the node, operator and opset", () => {
  const fails = (m: NodeModel, re: RegExp) =>
    assertThrows(() => compileGraph(decodeModel(encodeNodeModel(m))), LoweringError, re);
  const x = data(DType.float32, [2, 3]);
  fails(
    node("Reshape", 13, [x, { name: "s", value: i64([3, 2]) }]),
    /node 'n' \(Reshape, opset 13\): input 'shape' must be known at compile time/,
  );
  fails(node("Reshape", 13, [x, konst("s", i64([4, -1]))]), /Reshape.*cannot infer/);
  fails(
    node("Squeeze", 13, [x, konst("a", i64([0]))]),
    /Squeeze, opset 13\): cannot squeeze axis 0 of size 2/,
  );
  fails(node("Split", 13, [x], { axis: 1 }, 2), /does not split into 2 equal parts/);
  fails(
    node("Pad", 13, [data(DType.float32, [0, 2]), konst("p", i64([1, 0, 0, 0]))], { mode: "edge" }),
    /cannot pad the empty axis 0/,
  );
  fails(
    node("Pad", 13, [x, konst("p", i64([0, 0, 0, 0]))], { mode: "wrap" }),
    /Pad, opset 13\): mode 'wrap' is not supported/,
  );
  fails(node("Transpose", 13, [x], { perm: [0, 0] }), /not a permutation/);
  fails(
    node("Gather", 13, [x, konst("i", i64([2]))], { axis: 0 }),
    /index 2 is out of range for axis 0 of size 2/,
  );
  fails(node("Expand", 13, [x, konst("s", i64([4]))]), /cannot broadcast \[2, 3\] to \[4\]/);
  fails(
    node("Slice", 13, [
      x,
      konst("s", i64([0])),
      konst("e", i64([1])),
      konst("a", i64([0])),
      konst("p", i64([0])),
    ]),
    /step of axis 0 is 0/,
  );
});

Deno.test("movement: malformed attributes give a run-time error, never an out-of-bounds access", async () => {
  const rt = await runtime;
  const F = DType.float32;
  const tensor = (name: string, shape: number[], kind: "input" | "activation") => ({
    name,
    dtype: F,
    shape,
    kind,
  });
  const run = async (op: number, ints: bigint[], inShapes: number[][], outShapes: number[][]) => {
    const tensors = [
      ...inShapes.map((s, i) => tensor(`x${i}`, s, "input" as const)),
      ...outShapes.map((s, i) => tensor(`y${i}`, s, "activation" as const)),
    ];
    const n = inShapes.length;
    const program: Program = {
      tensors,
      nodes: [{
        name: "bad",
        opType: "Test",
        op,
        inputs: inShapes.map((_, i) => i),
        outputs: outShapes.map((_, i) => n + i),
        ints,
        floats: [],
      }],
      inputs: inShapes.map((_, i) => i),
      outputs: outShapes.map((_, i) => n + i),
    };
    const inputs = inShapes.map((s) => randomTensor(rng, F, s));
    let err: unknown;
    try {
      await runNative(rt.native, assemble(program), inputs);
    } catch (e) {
      err = e;
    }
    assert(err instanceof RuntimeError, `op ${op} ${ints}: expected a RuntimeError, got ${err}`);
    assert(/node 'bad' \(Test\): malformed attributes/.test(err.message), err.message);
  };
  const M = MOVEMENT_OPS;
  await run(M.Transpose, [0n, 3n, 1n], [[2, 3]], [[3, 2]]); // reaches past the input
  await run(M.Slice, [5n, 1n], [[6]], [[2]]); // offset + stride runs off the end
  await run(M.Expand, [-1n, 0n], [[4]], [[2]]); // negative offset
  await run(M.Transpose, [0n, 1n << 62n, 1n], [[2, 3]], [[2, 3]]); // overflowing stride
  await run(M.Transpose, [0n], [[2, 3]], [[3, 2]]); // too few ints
  await run(M.Concat, [1n], [[2, 2], [3, 2]], [[2, 4]]); // off-axis dims differ
  await run(M.Split, [0n], [[4, 2]], [[2, 2], [3, 2]]); // sizes do not add up
  await run(M.Gather, [0n], [[3]], [[1]]); // missing indices
  await run(M.Pad, [7n, 0n, 1n], [[2]], [[4]]); // unknown mode
  await run(M.Copy, [], [[2, 3]], [[7]]); // element counts differ
});

Deno.test("NaN pass: Relu, MaxPool, Clip and Sigmoid of a graph input or a constant come out canonical (natively the pass is skipped only after activations)", async () => {
  // natively these selections of an activation's (canonical) values skip the NaN pass; a graph
  // input's or a constant's NaNs are not canonical, so there the pass must still run
  const rt = await runtime;
  const bits = Uint32Array.from([0xffc00000, 0x7f800001, 0x7fc00001, 0xffffffff, 0x3f800000, 0x7fc00000]);
  const x: TensorValue = { dtype: DType.float32, shape: [1, 1, 2, 3], data: new Float32Array(bits.buffer) };
  const want = [0x7fc00000, 0x7fc00000, 0x7fc00000, 0x7fc00000, 0x3f800000, 0x7fc00000];
  const six = konst("hi", { dtype: DType.float32, shape: [], data: Float32Array.of(6) });
  const zero = konst("lo", { dtype: DType.float32, shape: [], data: Float32Array.of(0) });
  for (const constant of [false, true]) {
    const xi: NodeInput = { name: "x", value: x, constant };
    for (
      const m of [
        node("Relu", 14, [xi]),
        node("MaxPool", 12, [xi], { kernel_shape: [1, 1] }),
        node("Clip", 13, [xi, zero, six]),
        node("Sigmoid", 13, [xi]),
      ]
    ) {
      const prog = assemble(compileGraph(decodeModel(encodeNodeModel(m)), { foldLimit: 0 }));
      const [y] = (await runNative(rt.native, prog, constant ? [] : [x])).outputs;
      const got = Array.from(new Uint32Array((y.data as Float32Array).slice().buffer));
      // (Sigmoid(1) is not 1)
      const expect = m.opType === "Sigmoid" ? [...want.slice(0, 4), got[4], want[5]] : want;
      assertEquals(got, expect, `${m.opType} of ${constant ? "a constant" : "a graph input"}: output bits`);
    }
  }
});

Deno.test("movement: NaNs of a graph input come out canonical (the interpreter skips the pass only after activations)", async () => {
  // Copies and moves of activations skip the interpreter's NaN pass (their NaNs are already
  // canonical); a graph input's are not, so a move of an input must still canonicalise them.
  const rt = await runtime;
  const bits = Uint32Array.from([0xffc00000, 0x7f800001, 0x7fc00001, 0xffffffff, 0x3f800000, 0x7fc00000]);
  const x: TensorValue = { dtype: DType.float32, shape: [2, 3], data: new Float32Array(bits.buffer) };
  for (
    const m of [
      node("Transpose", 13, [{ name: "x", value: x }]),
      node("Identity", 13, [{ name: "x", value: x }]),
    ]
  ) {
    const prog = assemble(compileGraph(decodeModel(encodeNodeModel(m)), { foldLimit: 0 }));
    const [y] = (await runNative(rt.native, prog, [x])).outputs;
    const got = Array.from(new Uint32Array((y.data as Float32Array).slice().buffer));
    const want = m.opType === "Transpose"
      ? [0x7fc00000, 0x7fc00000, 0x7fc00000, 0x3f800000, 0x7fc00000, 0x7fc00000]
      : [0x7fc00000, 0x7fc00000, 0x7fc00000, 0x7fc00000, 0x3f800000, 0x7fc00000];
    assertEquals(got, want, `${m.opType}: output bits`);
  }
});
