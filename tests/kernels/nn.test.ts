/**
 * The nn kernels (core/kernels/nn.c) and their lowering (core/compiler/ops/nn.ts) against
 * onnxruntime-node on seeded random single-node models: every operator, the attribute
 * variants and opset semantics, and shapes chosen to reach every path of the kernels (SIMD
 * tiles of 8, 4 and 1 rows, partial and lone columns, transposed operands, batch broadcasting,
 * padded and strided convolutions, groups). Each case checks
 *  - the native runtime's outputs against onnxruntime's (a tolerance: float sums in another order);
 *  - the MIPS image under qemu-mips (soft-float, an independent CPU): bytes equal to native.
 * Plus lowering errors and the op-code table of C against TypeScript.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative, runOrt } from "../../core/engine/mod.ts";
import { qemuImage } from "./_qemu_image.ts";
import { DType, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import { bytesOf, decodeModel } from "../../core/onnx/load.ts";
import { type Attr, encodeNodeModel, i64, type NodeInput, type NodeModel, Rng } from "./movement_model.ts";

const rng = new Rng(20261128);
const runtime = buildRuntime();

/** Uniform floats in [-1, 1) (finite: the comparison is with another summation order). */
function floats(shape: number[], scale = 1): TensorValue {
  const data = new Float32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = (rng.next() * 2 - 1) * scale;
  return { dtype: DType.float32, shape, data };
}
function ints8(dtype: number, shape: number[]): TensorValue {
  const n = shapeSize(shape);
  const data = dtype === DType.uint8 ? new Uint8Array(n) : new Int8Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.int(-128, 255);
  return { dtype, shape, data };
}
const input = (name: string, value: TensorValue, constant = false): NodeInput => ({ name, value, constant });

function node(
  opType: string,
  opset: number,
  inputs: (NodeInput | null)[],
  attrs: Record<string, Attr> = {},
  outputs = 1,
): NodeModel {
  // trailing absent inputs are left out (onnxruntime crashes on a trailing "" for some ops)
  while (inputs.length && inputs[inputs.length - 1] === null) inputs = inputs.slice(0, -1);
  return { opType, opset, inputs, attrs, outputs };
}

/** Largest |got - want| / (atol + rtol |want|) over the elements; NaN positions must agree. */
function closeness(got: TensorValue, want: TensorValue, rtol: number, atol: number): number {
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const g = Number(got.data[i]), w = Number(want.data[i]);
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) return Infinity;
      continue;
    }
    if (g === w) continue;
    worst = Math.max(worst, Math.abs(g - w) / (atol + rtol * Math.abs(w)));
  }
  return worst;
}

/** Compiles and runs one model natively, against ORT; then the MIPS image under qemu, bytewise. */
async function check(m: NodeModel, rtol = 1e-4, atol = 1e-5): Promise<void> {
  const rt = await runtime;
  const label = `${m.opType}-${m.opset} ${m.inputs.map((i) => (i ? `[${i.value.shape}]` : "-")).join(" ")} ${
    JSON.stringify(m.attrs, (_, v) => (typeof v === "bigint" ? `${v}` : v))
  }`;
  const file = Deno.makeTempFileSync({ suffix: ".onnx" });
  try {
    const modelBytes = encodeNodeModel(m);
    Deno.writeFileSync(file, modelBytes);
    const feeds: Record<string, TensorValue> = {};
    for (const i of m.inputs) if (i && !i.constant) feeds[i.name] = i.value;
    const ref = (await runOrt(file, feeds)).outputs;
    const prog = assemble(compileGraph(decodeModel(modelBytes), { foldLimit: 0 }));
    assertEquals(prog.program.nodes.length, 1, `${label}: one kernel call`);
    const inputs = prog.program.inputs.map((t) => feeds[prog.program.tensors[t].name]);
    const { outputs } = await runNative(rt.native, prog, inputs);
    outputs.forEach((o, i) => {
      const want = ref[`y${i}`];
      assertEquals(o.shape, want.shape, `${label}: output ${i} shape`);
      assertEquals(o.dtype, want.dtype, `${label}: output ${i} dtype`);
      const err = closeness(o, want, rtol, atol);
      assert(err <= 1, `${label}: output ${i} differs from onnxruntime (${err.toFixed(2)} x tolerance)`);
    });
    // bit-exactness: the MIPS image under qemu gives the native bytes
    const qemu = await qemuImage(rt.mips, prog, inputs, label);
    const native = new Uint8Array(outputs.reduce((s, o) => s + o.data.byteLength, 0));
    let at = 0;
    for (const o of outputs) native.set(bytesOf(o), at), at += o.data.byteLength;
    assert(
      qemu.length === native.length && qemu.every((b, i) => b === native[i]),
      `${label}: MIPS output differs from native`,
    );
  } finally {
    Deno.removeSync(file);
  }
}

async function checkAll(cases: NodeModel[], rtol?: number, atol?: number): Promise<void> {
  for (const c of cases) await check(c, rtol, atol);
}

Deno.test("nn: MatMul, 2-D and batched shapes through every tile path", async () => {
  const cases: NodeModel[] = [];
  // M and N around the tile sizes (8, 4, 1 rows; 8-wide and lone columns), K from 1
  for (
    const [M, N, K] of [[1, 1, 1], [3, 5, 2], [8, 8, 8], [13, 17, 9], [49, 64, 64], [20, 1, 33], [9, 3, 70]]
  ) {
    cases.push(
      node("MatMul", 13, [input("a", floats([M, K])), input("b", floats([K, N]), rng.next() < 0.5)]),
    );
  }
  // batches: broadcast either side, 1-D operands, B shared (rows merged)
  const shapes: [number[], number[]][] = [
    [[2, 3, 12, 5], [2, 3, 5, 9]],
    [[3, 1, 6, 4], [1, 2, 4, 10]],
    [[1, 17, 16], [16, 24]],
    [[2, 7, 16], [16, 9]],
    [[5], [2, 5, 11]],
    [[2, 9, 6], [6]],
    [[7], [7]],
    [[4, 1, 9, 8], [8, 1]],
  ];
  for (const [a, b] of shapes) {
    cases.push(node("MatMul", rng.pick([9, 13]), [input("a", floats(a)), input("b", floats(b))]));
  }
  await checkAll(cases);
});

Deno.test("nn: Gemm, transposes, alpha/beta and every C broadcast", async () => {
  const cases: NodeModel[] = [];
  for (let t = 0; t < 14; t++) {
    const M = rng.pick([1, 2, 8, 11]), N = rng.pick([1, 7, 16, 21]), K = rng.pick([1, 5, 40]);
    const transA = rng.int(0, 1), transB = rng.int(0, 1);
    const cShape = rng.pick([null, [], [1], [N], [1, N], [M, 1], [M, N]]);
    const attrs: Record<string, Attr> = { transA, transB };
    if (rng.next() < 0.5) attrs.alpha = { float: rng.pick([0.5, -1.25, 2]) };
    if (rng.next() < 0.5) attrs.beta = { float: rng.pick([0, 0.35, -3]) };
    cases.push(node("Gemm", rng.pick([11, 13]), [
      input("a", floats(transA ? [K, M] : [M, K])),
      input("b", floats(transB ? [N, K] : [K, N]), true),
      cShape ? input("c", floats(cShape), true) : null,
    ], attrs));
  }
  // the batch-1 dense layer (transB, a lone output column after transposition) and batch 8
  for (const M of [1, 8]) {
    cases.push(
      node("Gemm", 13, [
        input("a", floats([M, 300])),
        input("w", floats([40, 300]), true),
        input("c", floats([40]), true),
      ], { transB: 1 }),
    );
  }
  await checkAll(cases);
});

Deno.test("nn: Conv 1-D, 2-D and 3-D: pads, auto_pad, strides, dilations, groups, bias", async () => {
  const cases: NodeModel[] = [];
  for (let t = 0; t < 24; t++) {
    const S = rng.pick([1, 2, 2, 2, 3]);
    const group = rng.pick([1, 1, 2, 3]);
    const C = group * rng.int(1, 3), OC = group * rng.pick([1, 2, 4, 5]);
    const kernel = Array.from({ length: S }, () => rng.int(1, 3));
    const strides = Array.from({ length: S }, () => rng.pick([1, 1, 2]));
    const dil = Array.from({ length: S }, () => rng.pick([1, 1, 2]));
    const spatial = Array.from({ length: S }, () => rng.int(S === 3 ? 3 : 5, S === 3 ? 6 : 12));
    const attrs: Record<string, Attr> = { kernel_shape: kernel, strides, dilations: dil };
    if (group > 1) attrs.group = group;
    // (onnxruntime rejects dilations with SAME_*: no reference for that combination)
    const pad = rng.pick(
      dil.some((d) => d > 1) ? ["explicit", "VALID"] : ["explicit", "SAME_UPPER", "SAME_LOWER", "VALID"],
    );
    if (pad === "explicit") attrs.pads = Array.from({ length: 2 * S }, () => rng.int(0, 2));
    else attrs.auto_pad = pad;
    // every window must fit (ORT and ONNX reject empty outputs)
    if (spatial.some((n, i) => n < (kernel[i] - 1) * dil[i] + 1)) continue;
    cases.push(node("Conv", rng.pick([11, 22]), [
      input("x", floats([rng.int(1, 2), C, ...spatial])),
      input("w", floats([OC, C / group, ...kernel]), true),
      rng.next() < 0.6 ? input("b", floats([OC]), true) : null,
    ], attrs));
  }
  // the mnist-cnn layers (5x5 SAME_UPPER, 8 and 16 channels) and a depthwise and a 1x1 conv
  cases.push(node("Conv", 12, [input("x", floats([1, 1, 28, 28])), input("w", floats([8, 1, 5, 5]), true)], {
    kernel_shape: [5, 5],
    auto_pad: "SAME_UPPER",
  }));
  cases.push(node("Conv", 12, [input("x", floats([1, 8, 14, 14])), input("w", floats([16, 8, 5, 5]), true)], {
    kernel_shape: [5, 5],
    auto_pad: "SAME_UPPER",
  }));
  cases.push(
    node("Conv", 13, [
      input("x", floats([1, 6, 9, 9])),
      input("w", floats([6, 1, 3, 3]), true),
      input("b", floats([6]), true),
    ], {
      group: 6,
      pads: [1, 1, 1, 1],
    }),
  );
  cases.push(
    node("Conv", 13, [input("x", floats([2, 12, 5, 7])), input("w", floats([20, 12, 1, 1]), true)], {}),
  );
  await checkAll(cases);
});

Deno.test("nn: MaxPool and AveragePool: ceil_mode, pads, dilations, auto_pad, indices, 8-bit", async () => {
  const cases: NodeModel[] = [];
  for (let t = 0; t < 30; t++) {
    const max = t % 2 === 0;
    const S = rng.pick([1, 2, 2, 3]);
    const kernel = Array.from({ length: S }, () => rng.int(1, 3));
    const strides = Array.from({ length: S }, () => rng.int(1, 3));
    const dil = Array.from({ length: S }, () => rng.pick([1, 1, 2]));
    const spatial = Array.from({ length: S }, () => rng.int(S === 3 ? 4 : 5, S === 3 ? 7 : 11));
    const attrs: Record<string, Attr> = { kernel_shape: kernel, strides };
    const opset = max ? rng.pick([12, 22]) : 22;
    if (dil.some((d) => d > 1)) attrs.dilations = dil;
    // (onnxruntime computes negative SAME_* pads when a stride exceeds the window: no reference)
    const same = dil.every((d) => d === 1) && strides.every((s, i) => s <= kernel[i]);
    const pad = rng.pick(
      same ? ["explicit", "explicit", "SAME_UPPER", "SAME_LOWER", "VALID"] : ["explicit", "VALID"],
    );
    if (pad === "explicit") {
      // ONNX: each pad smaller than the kernel's span
      attrs.pads = Array.from({ length: 2 * S }, (_, i) => rng.int(0, kernel[i % S] - 1));
      if (rng.next() < 0.5) attrs.ceil_mode = 1;
    } else attrs.auto_pad = pad;
    if (!max && rng.next() < 0.5) attrs.count_include_pad = 1;
    const dtype = max ? rng.pick([DType.float32, DType.float32, DType.uint8, DType.int8]) : DType.float32;
    const withIndices = max && dtype === DType.float32 && S === 2 && rng.next() < 0.5;
    if (withIndices) attrs.storage_order = rng.int(0, 1);
    const shape = [rng.int(1, 2), rng.int(1, 3), ...spatial];
    cases.push(node(
      max ? "MaxPool" : "AveragePool",
      opset,
      [input("x", dtype === DType.float32 ? floats(shape) : ints8(dtype, shape))],
      attrs,
      withIndices ? 2 : 1,
    ));
  }
  await checkAll(cases, 1e-5, 1e-6);
});

Deno.test("nn: GlobalAveragePool and ReduceMean (axes attribute and input, keepdims, noop)", async () => {
  const cases: NodeModel[] = [];
  for (const shape of [[2, 3, 5], [1, 4, 6, 7], [2, 2, 3, 3, 4]]) {
    cases.push(node("GlobalAveragePool", 13, [input("x", floats(shape))]));
  }
  for (let t = 0; t < 14; t++) {
    const rank = rng.int(1, 4);
    const shape = Array.from({ length: rank }, () => rng.int(1, 6));
    const axes = rng.shuffle([...shape.keys()]).slice(0, rng.int(0, rank)).map((
      a,
    ) => (rng.next() < 0.3 ? a - rank : a));
    const keepdims = rng.int(0, 1);
    if (t % 2) {
      cases.push(
        node("ReduceMean", 13, [input("x", floats(shape))], axes.length ? { axes, keepdims } : { keepdims }),
      );
    } else {
      const noop = axes.length === 0 ? rng.int(0, 1) : 0;
      cases.push(
        node("ReduceMean", 18, [
          input("x", floats(shape)),
          axes.length || rng.next() < 0.5 ? input("axes", i64(axes), true) : null,
        ], {
          keepdims,
          noop_with_empty_axes: noop,
        }),
      );
    }
  }
  // the RMSNorm reduction of stories260K
  cases.push(node("ReduceMean", 13, [input("x", floats([1, 49, 64]))], { axes: [-1], keepdims: 1 }));
  await checkAll(cases);
});

Deno.test("nn: Softmax and LogSoftmax, coerced 2-D (opset < 13) and single-axis (13)", async () => {
  const cases: NodeModel[] = [];
  for (let t = 0; t < 16; t++) {
    const rank = rng.int(1, 4);
    const shape = Array.from({ length: rank }, () => rng.int(1, 7));
    const opset = rng.pick([11, 13]);
    // (the default axis of opset 11 is 1, which needs rank >= 2)
    const attrs: Record<string, Attr> = rng.next() < 0.7 || (opset < 13 && rank < 2)
      ? { axis: rng.int(-rank, rank - 1) }
      : {};
    cases.push(node(t % 2 ? "Softmax" : "LogSoftmax", opset, [input("x", floats(shape, 20))], attrs));
  }
  cases.push(node("Softmax", 13, [input("x", floats([1, 8, 49, 49], 8))], { axis: -1 }));
  await checkAll(cases);
});

Deno.test("nn: BatchNormalization (inference, training mode) and LayerNormalization", async () => {
  const cases: NodeModel[] = [];
  for (let t = 0; t < 6; t++) {
    const C = rng.int(1, 5);
    const shape = [rng.int(1, 3), C, ...Array.from({ length: rng.int(0, 2) }, () => rng.int(1, 6))];
    const training = t >= 4 ? 1 : 0;
    const opset = training ? 15 : rng.pick([9, 15]);
    const attrs: Record<string, Attr> = { epsilon: { float: rng.pick([1e-5, 0.01]) } };
    if (training) attrs.training_mode = 1, attrs.momentum = { float: 0.8 };
    const v = floats([C]);
    v.data = (v.data as Float32Array).map((x) => Math.abs(x) + 0.1);
    cases.push(node(
      "BatchNormalization",
      opset,
      [
        input("x", floats(shape)),
        input("s", floats([C]), true),
        input("b", floats([C]), true),
        input("m", floats([C]), true),
        input("v", v, true),
      ],
      attrs,
      training ? 3 : 1,
    ));
  }
  for (let t = 0; t < 10; t++) {
    const rank = rng.int(1, 4);
    const shape = Array.from({ length: rank }, () => rng.int(1, 6));
    const axis = rng.int(-rank, rank - 1);
    const norm = shape.slice(axis < 0 ? axis + rank : axis);
    const attrs: Record<string, Attr> = { axis };
    if (rng.next() < 0.5) attrs.epsilon = { float: 0.1 };
    cases.push(node(
      "LayerNormalization",
      17,
      [
        input("x", floats(shape, 3)),
        input("s", floats(norm), true),
        rng.next() < 0.6 ? input("b", floats(norm), true) : null,
      ],
      attrs,
      rng.int(1, 3),
    ));
  }
  await checkAll(cases);
});

Deno.test("nn: unsupported inputs are clear lowering errors", () => {
  const lower = (m: NodeModel) => compileGraph(decodeModel(encodeNodeModel(m)));
  const f = (s: number[]) => input("x", floats(s));
  const cases: [NodeModel, RegExp][] = [
    [
      node("MatMul", 13, [f([2, 3]), input("b", floats([4, 5]))]),
      /'n' \(MatMul, opset 13\): inner dimensions differ/,
    ],
    [
      node("Conv", 13, [f([1, 1, 2, 2, 2, 2]), input("w", floats([1, 1, 1, 1, 1, 1]), true)]),
      /only 1-D, 2-D and 3-D/,
    ],
    [
      node("Conv", 13, [f([1, 3, 5, 5]), input("w", floats([2, 2, 3, 3]), true)], { group: 2 }),
      /group 2 does not fit/,
    ],
    [node("MaxPool", 13, [f([1, 1, 5, 5])], { kernel_shape: [2, 2], pads: [-1, 0, 0, 0] }), /negative pads/],
    [
      node("LayerNormalization", 17, [f([2, 4]), input("s", floats([4]), true)], { stash_type: 11 }),
      /stash_type double/,
    ],
    [
      node("Gemm", 13, [f([2, 3]), input("b", floats([3, 4]), true), input("c", floats([3, 4]), true)]),
      /C \[3,4\] does not broadcast/,
    ],
    [node("ReduceMean", 18, [f([2, 3]), input("axes", i64([1]))]), /'axes' must be known at compile time/],
    [
      node(
        "BatchNormalization",
        9,
        [f([2, 3]), ...["s", "b", "m", "v"].map((n) => input(n, floats([3]), true))],
        {},
        3,
      ),
      /training-mode outputs/,
    ],
    [
      node("Softmax", 13, [input("x", { dtype: DType.int32, shape: [3], data: new Int32Array(3) })]),
      /only float is supported/,
    ],
  ];
  for (const [m, re] of cases) assertThrows(() => lower(m), LoweringError, re);
});
