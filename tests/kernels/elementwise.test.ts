/**
 * The elementwise family (core/kernels/elementwise.c, core/compiler/ops/elementwise.ts):
 * - hand-computed results for the integer and conversion rules ONNX leaves open (wrapping,
 *   truncating division, x / 0, INT_MIN / -1, int64 to float rounding, Clip with min > max);
 * - every dtype of every op, broadcast (same shape, [3,1,5] with [4,1], scalar), on data full of
 *   edge values (extremes, -1, 0, NaN, infinities, -0, subnormals): the MIPS image under
 *   qemu-mips writes exactly the native runtime's bytes, and wherever the compiler folds the
 *   node (elementwise_fold.ts) the folded constant has exactly the kernel's bytes.
 *
 * Run: deno test --allow-read --allow-write --allow-run --allow-env tests/kernels/elementwise.test.ts
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph } from "../../core/compiler/mod.ts";
import { bytesOf, runNative } from "../../core/engine/mod.ts";
import { DType, dtypeName, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import type { AttributeValue, OnnxModel } from "../../core/onnx/load.ts";
import { allocArray } from "../../core/onnx/load.ts";
import { qemuImage } from "./_qemu_image.ts";

const runtime = buildRuntime();

interface NodeSpec {
  op: string;
  inputs: string[];
  attrs?: Record<string, number | string>;
}

/** A decoded ONNX model of single-output nodes `o0, o1, ...` over the named inputs. */
function model(inputs: Record<string, TensorValue>, nodes: NodeSpec[], opset = 17): OnnxModel {
  const attrs = (a: Record<string, number | string> = {}) =>
    new Map<string, AttributeValue>(
      Object.entries(a).map(([k, v]) => [
        k,
        typeof v === "string"
          ? { kind: "string", value: v }
          : Number.isInteger(v) && k !== "alpha" && k !== "min" && k !== "max"
          ? { kind: "int", value: v }
          : { kind: "float", value: v },
      ]),
    );
  return {
    irVersion: 8,
    opsets: new Map([["", opset]]),
    inputs: Object.entries(inputs).map(([name, v]) => ({ name, dtype: v.dtype, shape: v.shape })),
    outputs: nodes.map((_, i) => ({ name: `o${i}`, dtype: 0, shape: [] })),
    initializers: new Map(),
    nodes: nodes.map((n, i) => ({
      name: `n${i}_${n.op}`,
      opType: n.op,
      domain: "",
      inputs: n.inputs,
      outputs: [`o${i}`],
      attributes: attrs(n.attrs),
    })),
  };
}

function tensor(dtype: number, shape: number[], values: (number | bigint)[]): TensorValue {
  const data = allocArray(dtype, shapeSize(shape));
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  for (let i = 0; i < data.length; i++) {
    const v = values[i % values.length];
    (data as unknown as (number | bigint)[])[i] = big ? BigInt.asUintN(64, BigInt(v)) : Number(v);
    if (data instanceof BigInt64Array) data[i] = BigInt.asIntN(64, BigInt(v));
  }
  return { dtype, shape, data };
}

/** Runs a model natively; returns its outputs. */
async function native(m: OnnxModel, inputs: Record<string, TensorValue>): Promise<TensorValue[]> {
  const program = compileGraph(m);
  const prog = assemble(program);
  const ins = program.inputs.map((t) => inputs[program.tensors[t].name]);
  return (await runNative((await runtime).native, prog, ins)).outputs;
}

/** Runs a model natively and under qemu-mips; asserts equal bytes; checks folds; returns outputs. */
async function check(
  m: OnnxModel,
  inputs: Record<string, TensorValue>,
  label: string,
): Promise<TensorValue[]> {
  const rt = await runtime;
  const program = compileGraph(m);
  const prog = assemble(program);
  const ins = program.inputs.map((t) => inputs[program.tensors[t].name]);
  const { outputs } = await runNative(rt.native, prog, ins);
  const qr = await qemuImage(rt.mips, prog, ins, label);
  let off = 0;
  outputs.forEach((o, i) => {
    const b = bytesOf(o);
    const mips = qr.subarray(off, off + b.length);
    off += b.length;
    if (!b.every((x, j) => x === mips[j])) {
      assert(false, `${label}: ${m.nodes[i].name} (${dtypeName(o.dtype)}): MIPS bytes differ from native`);
    }
  });
  assertEquals(off, qr.length, `${label}: MIPS output length`);

  // Folding: the same graph with every input known; each folded output must equal the kernel's.
  const folded = compileGraph(m, { consts: inputs });
  m.nodes.forEach((n, i) => {
    const t = folded.tensors[folded.outputs[i]];
    if (t.kind !== "constant") return;
    foldCount++;
    const b = bytesOf(outputs[i]);
    assert(
      t.data!.length === b.length && t.data!.every((x, j) => x === b[j]),
      `${label}: ${n.name} (${dtypeName(outputs[i].dtype)}): folded value differs from the kernel's`,
    );
  });
  return outputs;
}
let foldCount = 0;

const INT_EDGES: Record<number, (number | bigint)[]> = {
  [DType.int8]: [-128, 127, -1, 0, 1, 2, -7, 100, -100, 3],
  [DType.uint8]: [255, 0, 1, 2, 128, 7, 200, 100, 3, 254],
  [DType.int16]: [-32768, 32767, -1, 0, 1, 2, -7, 300, -1000, 3],
  [DType.uint16]: [65535, 0, 1, 2, 32768, 7, 60000, 300, 3, 65534],
  [DType.int32]: [-2147483648, 2147483647, -1, 0, 1, 2, -7, 65537, -123456789, 3],
  [DType.uint32]: [4294967295, 0, 1, 2, 2147483648, 7, 3000000000, 65537, 3, 123456789],
  [DType.int64]: [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, 1n, 2n, -7n, 2n ** 40n + 3n, -(2n ** 53n) - 1n, 3n],
  [DType.uint64]: [2n ** 64n - 1n, 0n, 1n, 2n, 2n ** 63n, 7n, 2n ** 53n + 1n, 2n ** 40n + 3n, 3n, 12345n],
};
const F32 = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0];
const FLOAT_EDGES = [
  NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  1,
  -1,
  0.5,
  -2.5,
  3.75,
  1e30,
  -1e-30,
  F32(1),
  F32(0x807fffff),
  65504.5,
  2147483520,
  -2147483648,
  3e9,
  255.9,
  -129.5,
  1e20,
  -7,
  7,
  16777217,
]; // deno-fmt-ignore
const edges = (dt: number): (number | bigint)[] => INT_EDGES[dt] ?? (dt === DType.bool ? [1, 0, 0, 1, 1] : FLOAT_EDGES);
/** The edge values in a different order, so pairs meet (x, y) combinations. */
const shuffled = (v: (number | bigint)[]) => v.map((_, i) => v[(i * 7 + 3) % v.length]);

const NUMERIC = [
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
]; // deno-fmt-ignore

Deno.test("elementwise: integer rules, hand-computed", async () => {
  const i32 = (v: number[]) => tensor(DType.int32, [v.length], v);
  let [o] = await native(
    model({ a: i32([-7, 7, -7, -2147483648, 5, 0]), b: i32([2, -2, -2, -1, 0, 0]) }, [{ op: "Div", inputs: ["a", "b"] }]),
    { a: i32([-7, 7, -7, -2147483648, 5, 0]), b: i32([2, -2, -2, -1, 0, 0]) },
  );
  assertEquals(Array.from(o.data as Int32Array), [-3, -3, 3, -2147483648, 0, 0]);

  const u8 = (v: number[]) => tensor(DType.uint8, [v.length], v);
  const ins = { a: u8([200, 3, 0]), b: u8([100, 5, 1]) };
  const r = await native(model(ins, [{ op: "Add", inputs: ["a", "b"] }, { op: "Sub", inputs: ["a", "b"] }, {
    op: "Mul",
    inputs: ["a", "b"],
  }]), ins);
  assertEquals(r.map((t) => Array.from(t.data as Uint8Array)), [[44, 8, 1], [100, 254, 255], [32, 15, 0]]);

  const i64 = tensor(DType.int64, [4], [2n ** 53n + 1n, 16777217n, 16777219n, -(2n ** 63n)]);
  [o] = await native(model({ x: i64 }, [{ op: "Cast", inputs: ["x"], attrs: { to: DType.float32 } }]), { x: i64 });
  assertEquals(Array.from(o.data as Float32Array), [2 ** 53, 16777216, 16777220, -(2 ** 63)]);

  const f = tensor(DType.float32, [5], [2.9, -2.9, 0.5, -0.5, 1e10]);
  [o] = await native(model({ x: f }, [{ op: "Cast", inputs: ["x"], attrs: { to: DType.int32 } }]), { x: f });
  assertEquals(Array.from(o.data as Int32Array), [2, -2, 0, 0, -2147483648]); // out of range: x86's value

  const base = i32([2, 2, -1, -1, 3, 0]), ex = i32([-1, 10, -3, 4, 21, 3]);
  [o] = await native(model({ a: base, b: ex }, [{ op: "Pow", inputs: ["a", "b"] }], 15), { a: base, b: ex });
  assertEquals(Array.from(o.data as Int32Array), [0, 1024, -1, 1, 10460353203 - 2 * 2 ** 32, 0]);

  const x = tensor(DType.float32, [3], [-2, 0, 6]), lo = tensor(DType.float32, [], [2]), hi = tensor(DType.float32, [], [1]);
  [o] = await native(model({ x, lo, hi }, [{ op: "Clip", inputs: ["x", "lo", "hi"] }], 13), { x, lo, hi });
  assertEquals(Array.from(o.data as Float32Array), [1, 1, 1]);
});

Deno.test("elementwise: every dtype, broadcast, native = MIPS = fold", async () => {
  foldCount = 0;
  for (const dt of NUMERIC) {
    const e = edges(dt);
    const inputs = {
      a: tensor(dt, [3, 1, 5], e),
      b: tensor(dt, [4, 1], shuffled(e)),
      c: tensor(dt, [3, 1, 5], shuffled(shuffled(e))),
      s: tensor(dt, [], [e[6]]),
      t: tensor(dt, [1], [e[7]]),
      cond: tensor(DType.bool, [4, 5], [1, 0, 0, 1, 1, 0, 1]),
    };
    const nodes: NodeSpec[] = [];
    for (const op of ["Add", "Sub", "Mul", "Div", "Equal"]) {
      for (const [x, y] of [["a", "b"], ["a", "c"], ["s", "a"], ["a", "s"]]) {
        nodes.push({ op, inputs: [x, y] });
      }
    }
    nodes.push({ op: "Where", inputs: ["cond", "a", "b"] }, { op: "Where", inputs: ["cond", "s", "c"] });
    if (dt !== DType.float64) {
      nodes.push({ op: "Clip", inputs: ["a", "s", "t"] }, { op: "Clip", inputs: ["c", "s"] }, {
        op: "Clip",
        inputs: ["c", "", "s"],
      });
    }
    if (
      ([DType.float32, DType.float64, DType.int8, DType.int16, DType.int32, DType.int64] as number[])
        .includes(dt)
    ) {
      nodes.push({ op: "Relu", inputs: ["a"] });
    }
    await check(model(inputs, nodes), inputs, dtypeName(dt));
  }
  const bools = { p: tensor(DType.bool, [2, 3], [1, 0, 1, 1, 0, 0]), q: tensor(DType.bool, [3], [1, 0, 0]) };
  await check(
    model(bools, [{ op: "Equal", inputs: ["p", "q"] }, { op: "Where", inputs: ["p", "q", "p"] }]),
    bools,
    "bool",
  );
  assert(foldCount >= 200, `only ${foldCount} folded outputs compared`);
});

Deno.test("elementwise: Cast between every pair of dtypes, native = MIPS = fold", async () => {
  foldCount = 0;
  const all = [...NUMERIC, DType.bool];
  for (const src of all) {
    const inputs = { x: tensor(src, [edges(src).length], edges(src)) };
    await check(
      model(inputs, all.map((to) => ({ op: "Cast", inputs: ["x"], attrs: { to } }))),
      inputs,
      `from ${dtypeName(src)}`,
    );
    // in-range values, which fold also from floats
    const small = { x: tensor(src, [6], [0, 1, 2, 100, 7, 1]) };
    await check(
      model(small, all.map((to) => ({ op: "Cast", inputs: ["x"], attrs: { to } }))),
      small,
      `from ${dtypeName(src)}`,
    );
  }
  assert(foldCount >= 200, `only ${foldCount} folded outputs compared`);
});

Deno.test("elementwise: Pow and the float ops, native = MIPS", async () => {
  const f = (v: number[], shape = [v.length]) => tensor(DType.float32, shape, v);
  const xs = [...FLOAT_EDGES, -3, 0.1, 2, 10, -0.7, 88.7, -104, 0.044715, 4.5, -5.5, 1e-40];
  const inputs: Record<string, TensorValue> = {
    x: f(xs),
    fb: f([2, -2, 0.5, 0, -0, Infinity, -Infinity, NaN, 1, -1, 1.0001, 3], [12, 1]),
    fe: f([2, -3, 0.5, 0, Infinity, -Infinity, NaN, 1e10], [8]),
    ib: tensor(DType.int32, [6, 1], [2, -3, 0, 1, -1, 7]),
    lb: tensor(DType.int64, [6, 1], [2n, -3n, 0n, 1n, -1n, 2n ** 40n]),
    ie: tensor(DType.int64, [5], [0n, 1n, 3n, -2n, 62n]),
    ue: tensor(DType.uint8, [4], [0, 2, 5, 255]),
    fi: f([0, 2, 0.5, -1.5, 3], [5]),
  };
  const nodes: NodeSpec[] = [
    ...["Sigmoid", "Tanh", "Exp", "Erf", "Sqrt", "Relu"].map((op) => ({ op, inputs: ["x"] })),
    { op: "Gelu", inputs: ["x"] },
    { op: "Gelu", inputs: ["x"], attrs: { approximate: "tanh" } },
    { op: "LeakyRelu", inputs: ["x"], attrs: { alpha: 0.1 } },
    { op: "Pow", inputs: ["fb", "fe"] },
    { op: "Pow", inputs: ["fb", "ie"] },
    { op: "Pow", inputs: ["fb", "ue"] },
    { op: "Pow", inputs: ["ib", "ie"] },
    { op: "Pow", inputs: ["lb", "ie"] },
    { op: "Pow", inputs: ["ib", "fi"] },
    { op: "Pow", inputs: ["lb", "fi"] },
  ];
  await check(model(inputs, nodes, 20), inputs, "float ops");
  const old = { x: f(xs) };
  await check(model(old, [{ op: "Clip", inputs: ["x"], attrs: { min: -1, max: 2.5 } }], 6), old, "Clip-6");
});
