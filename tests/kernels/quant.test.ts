/**
 * The quantized kernels (core/kernels/quant.c, lowered by core/compiler/ops/quant.ts) on seeded
 * random single-node models, against two independent references:
 *  - onnxruntime-node: QuantizeLinear, DequantizeLinear and MatMulInteger byte for byte;
 *    QLinearMatMul, QLinearConv and QLinearAdd within one unit (onnxruntime rounds the
 *    requantisation product to float32, or uses fixed-point multipliers, first);
 *  - the ONNX reference formulas written out in quant_model.ts: QLinear* exactly.
 * Every model's MIPS image also runs under qemu-mips, and a sample in the project's VM,
 * byte-identical to the native run. Plus the
 * documented NaN behaviour, the lowering errors of unsupported inputs, run-time errors for
 * malformed attributes, and the op-code table of C against TypeScript.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../../core/engine/mod.ts";
import { DType, dtypeName, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import { decodeModel } from "../../core/onnx/load.ts";
import { OPS, QUANT_OPS } from "../../core/compiler/ops/quant.ts";
import {
  type ConvParams,
  convRef,
  encodeQModel,
  matmulRef,
  type QInput,
  type QModel,
  randomInts,
  rangeOf,
  requantRef,
  rint,
  Rng,
  tensor,
} from "./quant_model.ts";
import { qemuImage } from "./_qemu_image.ts";

const rng = new Rng(20261128);
const runtime = buildRuntime();
let image: Uint8Array | undefined;
const tmp = Deno.makeTempDirSync({ prefix: "opml-quant-" });

const f32 = (shape: number[], values: ArrayLike<number>) => tensor(DType.float32, shape, values);
/** Scales that are powers of two make many quantization results exact ties. */
const POW2 = [0.5, 0.25, 0.125, 1, 2, 0.0625];
function randomScale(exactTies: boolean): number {
  return exactTies ? rng.pick(POW2) : Math.fround(0.002 + rng.next() * 0.05);
}

/**
 * Compiles and runs a model natively, and the MIPS image under qemu-mips (an independent CPU):
 * the same bytes. With `vm`, also in the project's VM, for programs of at most one run-time
 * input (the input keys are local data of 32 bytes per input, and the oracle serves at most 32).
 */
async function ours(m: QModel, vm = false): Promise<TensorValue> {
  const rt = await runtime;
  const prog = assemble(compileGraph(decodeModel(encodeQModel(m))));
  const feeds = m.inputs.filter((i): i is QInput => i !== null && !i.constant).map((i) => i.value);
  const [y] = (await runNative(rt.native, prog, feeds)).outputs;
  const qr = await qemuImage(rt.mips, prog, feeds, m.opType);
  assertEquals(qr, bytes(y), `${m.opType}: qemu-mips differs from native`);
  if (vm && feeds.length <= 1) {
    image ??= Deno.readFileSync(rt.mips);
    assertEquals(runVm(image, prog, feeds).stdout, qr, `${m.opType}: VM differs from qemu-mips`);
  }
  return y;
}

/** Runs a model with onnxruntime. */
async function ort(m: QModel): Promise<TensorValue> {
  const path = `${tmp}/${m.opType}.onnx`;
  Deno.writeFileSync(path, encodeQModel(m));
  const feeds: Record<string, TensorValue> = {};
  for (const i of m.inputs) if (i && !i.constant) feeds[i.name] = i.value;
  return (await runOrt(path, feeds)).outputs.y;
}

function bytes(t: TensorValue): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Elementwise |got - want| <= tol; returns the number of differing elements. */
function assertClose(got: TensorValue, want: TensorValue, tol: number, what: string): number {
  assertEquals(dtypeName(got.dtype), dtypeName(want.dtype), `${what}: dtype`);
  assertEquals(got.shape, want.shape, `${what}: shape`);
  let diff = 0;
  for (let i = 0; i < got.data.length; i++) {
    const d = Math.abs(Number(got.data[i]) - Number(want.data[i]));
    assert(d <= tol, `${what}[${i}]: ${got.data[i]}, expected ${want.data[i]}`);
    if (d) diff++;
  }
  return diff;
}

/**
 * Random weights. onnxruntime's uint8 x int8 kernels (x86 without VNNI) add pairs of products in
 * saturating 16 bits, so its quantizer keeps int8 weights to 7 bits ("reduce_range"); the
 * comparisons with it do the same. Full-range weights are checked against the reference.
 */
function weights(tx: number, tw: number, shape: number[], fullRange = false): TensorValue {
  return tx === DType.uint8 && tw === DType.int8 && !fullRange
    ? randomInts(rng, tw, shape, -63, 63)
    : randomInts(rng, tw, shape);
}

function input(name: string, value: TensorValue, constant = false): QInput {
  return { name, value, constant };
}

// ------------------------------------------------------------------ QuantizeLinear

/**
 * Float inputs around the quantization grid: exact ties, saturating values, zeros. `huge` adds
 * values beyond the int32 range (onnxruntime's blocked path does not saturate those).
 */
function quantizeInput(shape: number[], scale: number, huge: boolean): TensorValue {
  const special = [0, -0, 70000 * scale, -70000 * scale, ...(huge ? [1e30, -1e30] : [])];
  return f32(
    shape,
    Array.from({ length: shapeSize(shape) }, () => {
      const r = rng.next();
      if (r < 0.3) return (rng.int(-300, 300) + 0.5) * scale; // a tie
      if (r < 0.4) return rng.pick(special);
      return (rng.next() - 0.5) * 600 * scale;
    }),
  );
}

Deno.test("QuantizeLinear: per-tensor, per-axis and blocked, 8 and 16 bits, equals onnxruntime", async () => {
  const cases: {
    shape: number[];
    dtype: number;
    mode: "tensor" | "axis" | "block";
    axis?: number;
    block?: number;
    zp: boolean;
    opset: number;
  }[] = [
    { shape: [64], dtype: DType.uint8, mode: "tensor", zp: true, opset: 13 },
    { shape: [3, 40], dtype: DType.int8, mode: "tensor", zp: true, opset: 10 },
    { shape: [2, 5, 7], dtype: DType.uint8, mode: "tensor", zp: false, opset: 13 },
    { shape: [2, 5, 7], dtype: DType.int8, mode: "axis", axis: 1, zp: true, opset: 13 },
    { shape: [4, 3, 6], dtype: DType.uint8, mode: "axis", axis: -1, zp: true, opset: 19 },
    { shape: [6, 9], dtype: DType.int8, mode: "block", axis: 1, block: 4, zp: true, opset: 21 },
    { shape: [5, 4, 3], dtype: DType.uint8, mode: "block", axis: 0, block: 2, zp: true, opset: 21 },
    { shape: [50], dtype: DType.int16, mode: "tensor", zp: true, opset: 21 },
    { shape: [4, 10], dtype: DType.uint16, mode: "axis", axis: 0, zp: true, opset: 21 },
  ]; // deno-fmt-ignore
  for (const [ci, c] of cases.entries()) {
    const rank = c.shape.length, axis = ((c.axis ?? 1) + rank) % rank;
    const sshape = c.mode === "tensor" ? [] : c.mode === "axis" ? [c.shape[axis]] : c.shape.map((d, i) => (i === axis ? Math.ceil(d / c.block!) : d));
    const scale = f32(sshape, Array.from({ length: shapeSize(sshape) }, () => randomScale(ci % 2 === 0)));
    const [lo, hi] = rangeOf(c.dtype);
    const zp = randomInts(rng, c.dtype, sshape, Math.max(lo, -20), Math.min(hi, 40));
    const x = quantizeInput(c.shape, scale.data[0] as number, c.mode !== "block");
    const attrs: Record<string, number> = {};
    if (c.mode !== "tensor") attrs.axis = c.axis!;
    if (c.block) attrs.block_size = c.block;
    if (!c.zp && c.dtype !== DType.uint8) attrs.output_dtype = c.dtype;
    const m: QModel = {
      opType: "QuantizeLinear",
      opset: c.opset,
      inputs: [input("x", x), input("s", scale, ci % 3 === 0), c.zp ? input("z", zp, ci % 3 === 1) : null],
      attrs,
    };
    const got = await ours(m, ci < 3 || c.mode === "block");
    const want = await ort(m);
    assertEquals(got.shape, want.shape, `case ${ci}: shape`);
    assertEquals(bytes(got), bytes(want), `case ${ci} (${JSON.stringify(c)})`);
  }
});

/** Floats at and a few ulps around every rounding boundary (k - z - 1/2) * s of one scale, then specials. */
function boundaryValues(s: number, z: number, dtype: number, n: number): number[] {
  const [lo, hi] = rangeOf(dtype);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const out: number[] = [];
  while (out.length < n - 8) {
    f[0] = (rng.int(lo, hi + 1) - z - 0.5) * s;
    const r = rng.next();
    if (r < 0.6) u[0] += rng.int(-3, 3); // a few ulps either side (or exactly the tie)
    else if (r < 0.8) f[0] = (rng.next() - 0.5) * 400 * Math.abs(s);
    out.push(f[0]);
  }
  return [...out, 0, -0, Infinity, -Infinity, 1e30, -1e30, 3e-40, -3e-40];
}

Deno.test("QuantizeLinear: long runs (threshold search) equal onnxruntime at every rounding boundary", async () => {
  const scales = [Math.fround(0.0123), 0.5, Math.fround(-0.037), Math.fround(3.7e-39), Math.fround(1.5e7)];
  for (const [ci, s] of scales.entries()) {
    for (const dtype of [DType.uint8, DType.int8]) {
      const z = rng.int(dtype === DType.uint8 ? 0 : -128, dtype === DType.uint8 ? 255 : 127);
      const x = f32([3000], boundaryValues(s, z, dtype, 3000));
      const m: QModel = {
        opType: "QuantizeLinear",
        opset: 13,
        inputs: [input("x", x), input("s", f32([], [s]), true), input("z", tensor(dtype, [], [z]), true)],
      };
      assertEquals(
        bytes(await ours(m, ci === 0)),
        bytes(await ort(m)),
        `scale ${s}, ${dtypeName(dtype)} zero point ${z}`,
      );
    }
  }
  // per-axis: one run per channel, each around its own boundaries
  const sc = [Math.fround(0.02), Math.fround(0.3), Math.fround(0.0051)], zc = [3, -7, 100];
  const x = f32(
    [2, 3, 1100],
    Array.from({ length: 2 }, () => sc.flatMap((s, c) => boundaryValues(s, zc[c], DType.int8, 1100))).flat(),
  );
  const m: QModel = {
    opType: "QuantizeLinear",
    opset: 13,
    inputs: [input("x", x), input("s", f32([3], sc)), input("z", tensor(DType.int8, [3], zc))],
  };
  assertEquals(bytes(await ours(m)), bytes(await ort(m)), "per-axis");
});

Deno.test("QuantizeLinear: NaN quantizes to the zero point; ties round to even", async () => {
  const x = f32([8], [NaN, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5]);
  const y = await ours({
    opType: "QuantizeLinear",
    opset: 13,
    inputs: [input("x", x), input("s", f32([], [1]), true), input("z", tensor(DType.int8, [], [3]), true)],
  }, true);
  assertEquals([...y.data], [3, 3, 5, 5, 3, 1, 1, 127]);
});

// ------------------------------------------------------------------ DequantizeLinear

Deno.test("DequantizeLinear: every input type, per-tensor, per-axis and blocked, equals onnxruntime", async () => {
  const cases: {
    shape: number[];
    dtype: number;
    mode: "tensor" | "axis" | "block";
    axis?: number;
    block?: number;
    opset: number;
  }[] = [
    { shape: [300], dtype: DType.uint8, mode: "tensor", opset: 13 },
    { shape: [2, 300], dtype: DType.int8, mode: "tensor", opset: 10 },
    { shape: [3, 4, 5], dtype: DType.int8, mode: "axis", axis: 1, opset: 13 },
    { shape: [3, 4, 300], dtype: DType.uint8, mode: "axis", axis: 0, opset: 13 },
    { shape: [6, 9], dtype: DType.uint8, mode: "block", axis: 1, block: 4, opset: 21 },
    { shape: [40], dtype: DType.int16, mode: "tensor", opset: 21 },
    { shape: [4, 10], dtype: DType.uint16, mode: "axis", axis: -2, opset: 21 },
    { shape: [30], dtype: DType.int32, mode: "tensor", opset: 13 },
  ]; // deno-fmt-ignore
  for (const [ci, c] of cases.entries()) {
    const rank = c.shape.length, axis = ((c.axis ?? 1) + rank) % rank;
    const sshape = c.mode === "tensor" ? [] : c.mode === "axis" ? [c.shape[axis]] : c.shape.map((d, i) => (i === axis ? Math.ceil(d / c.block!) : d));
    const scale = f32(sshape, Array.from({ length: shapeSize(sshape) }, () => randomScale(false)));
    const int32 = c.dtype === DType.int32;
    const x = int32 ? randomInts(rng, c.dtype, c.shape, -(2 ** 30), 2 ** 30) : randomInts(rng, c.dtype, c.shape);
    const zp = randomInts(rng, c.dtype, sshape, 0, 30);
    const attrs: Record<string, number> = {};
    if (c.mode !== "tensor") attrs.axis = c.axis!;
    if (c.block) attrs.block_size = c.block;
    const m: QModel = {
      opType: "DequantizeLinear",
      opset: c.opset,
      inputs: [input("x", x), input("s", scale, ci % 2 === 0), int32 ? null : input("z", zp, ci % 3 === 0)],
      attrs,
    };
    const got = await ours(m, ci < 2 || c.mode === "block");
    const want = await ort(m);
    assertEquals(got.shape, want.shape, `case ${ci}: shape`);
    assertEquals(bytes(got), bytes(want), `case ${ci} (${JSON.stringify(c)})`);
  }
});

// ------------------------------------------------------------------ MatMulInteger

const MATMUL_SHAPES: [number[], number[]][] = [
  [[4, 3], [3, 2]],
  [[7, 13], [13, 9]],
  [[2, 5, 6], [6, 7]],
  [[6], [6, 5]],
  [[3, 6], [6]],
  [[2, 1, 3, 8], [1, 4, 8, 5]],
  [[1, 33], [33, 1000]],
  [[3, 200], [200, 40]],
];

Deno.test("MatMulInteger: broadcasting, 1-D operands, every type pair, zero points; equals onnxruntime", async () => {
  const pairs = [[DType.uint8, DType.uint8], [DType.uint8, DType.int8], [DType.int8, DType.int8], [
    DType.int8,
    DType.uint8,
  ]];
  for (const [ci, [sa, sb]] of MATMUL_SHAPES.entries()) {
    const [ta, tb] = pairs[ci % pairs.length];
    const a = randomInts(rng, ta, sa), b = randomInts(rng, tb, sb);
    const N = sb.length > 1 ? sb[sb.length - 1] : 1;
    const azp = randomInts(rng, ta, [], 0, 100);
    const bzp = ci % 2 ? randomInts(rng, tb, [N], 0, 100) : randomInts(rng, tb, [], 0, 100);
    const m: QModel = {
      opType: "MatMulInteger",
      opset: 10,
      inputs: [
        input("a", a),
        input("b", b, ci % 2 === 0),
        input("az", azp, ci % 2 === 0),
        ci === 3 ? null : input("bz", bzp, true),
      ],
    };
    const got = await ours(m, ci === 0 || ci === 6); // the packed and the row path
    const ref = matmulRef(a, b, azp, ci === 3 ? undefined : bzp);
    assertEquals(got.shape, ref.shape, `case ${ci}: shape`);
    assertEquals([...got.data], ref.acc, `case ${ci}: vs the reference`);
    // onnxruntime has no int8 x uint8 kernel, and gets some columns wrong with per-column b zero
    // points (uint8 x int8, 7x13 by 13x9: 20 of 63 outputs differ from the formula)
    if ((ta === DType.int8 && tb === DType.uint8) || ci % 2) continue;
    assertEquals(bytes(got), bytes(await ort(m)), `case ${ci}: vs onnxruntime`);
  }
});

Deno.test("MatMulInteger: per-row a_zero_point equals the reference", async () => {
  const a = randomInts(rng, DType.uint8, [5, 7]), b = randomInts(rng, DType.int8, [7, 3]);
  const azp = randomInts(rng, DType.uint8, [5]);
  const got = await ours({
    opType: "MatMulInteger",
    opset: 10,
    inputs: [input("a", a), input("b", b), input("az", azp)],
  });
  assertEquals([...got.data], matmulRef(a, b, azp).acc);
});

// ------------------------------------------------------------------ QLinearMatMul

Deno.test("QLinearMatMul: exact requantisation; onnxruntime within one unit", async () => {
  let diffs = 0, total = 0;
  for (const [ci, [sa, sb]] of MATMUL_SHAPES.entries()) {
    const ta = ci % 2 ? DType.int8 : DType.uint8, tb = ci % 3 === 0 ? DType.uint8 : DType.int8;
    const ty = ta; // onnxruntime's kernels take y of a's type
    // tie cases: values near the zero points and multipliers 2^-2..2^-4, so that many products
    // end in .5 exactly; the others: full-range values and arbitrary scales
    const ties = ci % 2 === 0;
    const N = sb.length > 1 ? sb[sb.length - 1] : 1;
    const perColumn = ci === 2 || ci === 6;
    const azp = randomInts(rng, ta, [], 0, 60),
      bzp = perColumn ? randomInts(rng, tb, [N], 0, 60) : randomInts(rng, tb, [], 0, 60);
    const near = (t: number, shape: number[], z: (i: number) => number, n: number) =>
      tensor(t, shape, Array.from({ length: shapeSize(shape) }, (_, i) => z(i % n) + rng.int(-6, 6)));
    const a = ties ? near(ta, sa, () => Number(azp.data[0]), 1) : randomInts(rng, ta, sa);
    const b = ties
      ? near(tb, sb, (n) => Number(bzp.data[bzp.data.length === 1 ? 0 : n]), N)
      : weights(ta, tb, sb);
    const small = [0.5, 0.25];
    const as = f32([], [ties ? rng.pick(small) : randomScale(false)]),
      ys = f32([], [ties ? 2 : Math.fround(0.5 + rng.next() * 4)]);
    const bs = f32(
      perColumn ? [N] : [],
      Array.from({ length: perColumn ? N : 1 }, () => (ties ? rng.pick(small) : randomScale(false))),
    );
    const yzp = randomInts(rng, ty, [], 0, 60);
    const m: QModel = {
      opType: "QLinearMatMul",
      opset: ta === DType.int8 ? 21 : 10, // onnxruntime's opset-10 kernel takes uint8 a only
      inputs: [
        input("a", a),
        input("as", as, true),
        input("az", azp, true),
        input("b", b, ci % 2 === 0),
        input("bs", bs, true),
        input("bz", bzp, true),
        input("ys", ys, ci % 2 === 0),
        input("yz", yzp, ci % 2 === 0),
      ],
    };
    const got = await ours(m, ci === 0 || ci === 2 || ci === 6);
    const ref = matmulRef(a, b, azp, bzp);
    const want = ref.acc.map((acc, i) =>
      requantRef(
        acc,
        as.data[0] as number,
        bs.data[bs.data.length === 1 ? 0 : i % N] as number,
        ys.data[0] as number,
        Number(yzp.data[0]),
        ty,
      )
    );
    assertEquals(got.shape, ref.shape, `case ${ci}: shape`);
    assertEquals([...got.data], want, `case ${ci}: vs the reference`);
    if (ta === DType.int8 && tb === DType.uint8) continue; // no onnxruntime kernel
    if (perColumn && ta === DType.int8) continue;
    // onnxruntime rounds before adding the zero point: ties may differ; elsewhere rarely
    const d = assertClose(got, await ort(m), 1, `case ${ci} vs onnxruntime`);
    if (!ties) (diffs += d, total += got.data.length);
  }
  assert(diffs <= total / 100, `${diffs} of ${total} outputs differ from onnxruntime by one`);
});

// ------------------------------------------------------------------ QLinearConv

interface ConvCase {
  x: number[];
  w: number[];
  attrs: Record<string, number | number[] | string>;
  tx: number;
  tw: number;
  bias?: boolean;
  perChannel?: boolean;
  vm?: boolean;
  /** Full-range int8 weights with uint8 x: checked against the reference only. */
  fullRange?: boolean;
}

/** Pads, strides and dilations of a case as the reference wants them (auto_pad resolved). */
function convParams(c: ConvCase): { p: ConvParams; x: number[]; w: number[] } {
  const one = c.x.length === 3;
  const x = one ? [c.x[0], c.x[1], 1, c.x[2]] : c.x, w = one ? [c.w[0], c.w[1], 1, c.w[2]] : c.w;
  const sp = one ? 1 : 2;
  const get = (k: string, d: number[]) => (c.attrs[k] as number[] | undefined) ?? d;
  let strides = get("strides", Array(sp).fill(1)), dil = get("dilations", Array(sp).fill(1));
  let pads = get("pads", Array(2 * sp).fill(0));
  const auto = c.attrs.auto_pad as string | undefined;
  if (auto && auto !== "NOTSET") {
    pads = Array(2 * sp).fill(0);
    if (auto !== "VALID") {
      for (let i = 0; i < sp; i++) {
        const inSize = c.x[2 + i], k = c.w[2 + i], out = Math.ceil(inSize / strides[i]);
        const total = Math.max(0, (out - 1) * strides[i] + (k - 1) * dil[i] + 1 - inSize);
        const small = Math.floor(total / 2);
        [pads[i], pads[i + sp]] = auto === "SAME_UPPER" ? [small, total - small] : [total - small, small];
      }
    }
  }
  if (one) {
    strides = [1, strides[0]];
    dil = [1, dil[0]];
    pads = [0, pads[0], 0, pads[1]];
  }
  return {
    p: {
      group: (c.attrs.group as number) ?? 1,
      pads: pads as [number, number, number, number],
      strides: strides as [number, number],
      dilations: dil as [number, number],
    },
    x,
    w,
  };
}

const CONV_CASES: ConvCase[] = [
  {
    x: [1, 3, 9, 9],
    w: [5, 3, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    tx: DType.uint8,
    tw: DType.int8,
    bias: true,
    perChannel: true,
    vm: true,
  },
  {
    x: [2, 4, 11, 10],
    w: [6, 4, 3, 2],
    attrs: { strides: [2, 1], dilations: [2, 1], pads: [0, 1, 2, 1] },
    tx: DType.uint8,
    tw: DType.uint8,
    bias: true,
  },
  {
    x: [1, 6, 7, 7],
    w: [4, 3, 3, 3],
    attrs: { group: 2, pads: [1, 0, 1, 2] },
    tx: DType.int8,
    tw: DType.int8,
    perChannel: true,
    vm: true,
  },
  {
    x: [1, 8, 12, 12],
    w: [8, 1, 3, 3],
    attrs: { group: 8, strides: [2, 2], pads: [1, 1, 1, 1] },
    tx: DType.uint8,
    tw: DType.int8,
    bias: true,
    perChannel: true,
    vm: true,
  },
  {
    x: [2, 5, 9, 8],
    w: [5, 1, 3, 3],
    attrs: { group: 5, dilations: [2, 2], pads: [2, 0, 0, 3] },
    tx: DType.int8,
    tw: DType.int8,
    bias: true,
  },
  {
    x: [1, 4, 10, 9],
    w: [4, 1, 3, 3],
    attrs: { group: 4, strides: [3, 3] },
    tx: DType.uint8,
    tw: DType.int8,
  },
  {
    x: [1, 3, 8, 7],
    w: [6, 3, 3, 3],
    attrs: { auto_pad: "SAME_UPPER", strides: [2, 2] },
    tx: DType.uint8,
    tw: DType.int8,
    perChannel: true,
  },
  { x: [1, 3, 8, 7], w: [6, 3, 2, 2], attrs: { auto_pad: "SAME_LOWER" }, tx: DType.uint8, tw: DType.int8 },
  { x: [1, 3, 8, 7], w: [6, 3, 3, 3], attrs: { auto_pad: "VALID" }, tx: DType.int8, tw: DType.int8 },
  {
    x: [2, 16, 6, 6],
    w: [10, 16, 1, 1],
    attrs: {},
    tx: DType.uint8,
    tw: DType.int8,
    bias: true,
    perChannel: true,
  },
  {
    x: [1, 3, 20],
    w: [4, 3, 5],
    attrs: { strides: [2], pads: [2, 1] },
    tx: DType.uint8,
    tw: DType.int8,
    bias: true,
    vm: true,
  },
  {
    x: [1, 2, 5, 5],
    w: [3, 2, 5, 5],
    attrs: { pads: [2, 2, 2, 2], kernel_shape: [5, 5] },
    tx: DType.uint8,
    tw: DType.uint8,
  },
  {
    x: [1, 32, 6, 6],
    w: [8, 32, 3, 3],
    attrs: { pads: [1, 1, 1, 1] },
    tx: DType.uint8,
    tw: DType.int8,
    bias: true,
    fullRange: true,
  },
  {
    x: [1, 6, 8, 8],
    w: [6, 1, 3, 3],
    attrs: { group: 6, pads: [1, 1, 1, 1] },
    tx: DType.uint8,
    tw: DType.int8,
    fullRange: true,
    vm: true,
  },
]; // deno-fmt-ignore

Deno.test("QLinearConv: groups, depthwise, pads, strides, dilations, auto_pad, 1-D; exact, onnxruntime within one", async () => {
  let diffs = 0, total = 0;
  for (const [ci, c] of CONV_CASES.entries()) {
    const ty = c.tx; // onnxruntime's kernels take y of x's type
    // tie cases as in QLinearMatMul: values near the zero points, multipliers 2^-2..2^-4
    const ties = ci % 2 === 0;
    const M = c.w[0];
    const xz = randomInts(rng, c.tx, [], 0, 50), yz = randomInts(rng, ty, [], 0, 50);
    // onnxruntime takes per-channel w zero points only when they are all 0 for int8 weights
    const wz = c.perChannel ? tensor(c.tw, [M], Array(M).fill(c.tw === DType.uint8 ? 3 : 0)) : randomInts(rng, c.tw, [], 0, 20);
    const near = (t: number, shape: number[], z: number) => tensor(t, shape, Array.from({ length: shapeSize(shape) }, () => z + rng.int(-3, 3)));
    const x = ties ? near(c.tx, c.x, Number(xz.data[0])) : randomInts(rng, c.tx, c.x);
    const w = ties ? near(c.tw, c.w, Number(wz.data[0])) : weights(c.tx, c.tw, c.w, c.fullRange);
    const small = [0.5, 0.25];
    const xs = f32([], [ties ? rng.pick(small) : randomScale(false)]), ys = f32([], [ties ? 1 : Math.fround(0.2 + rng.next() * 2)]);
    const ws = f32(c.perChannel ? [M] : [], Array.from({ length: c.perChannel ? M : 1 }, () => (ties ? rng.pick(small) : randomScale(false))));
    const bias = c.bias ? randomInts(rng, DType.int32, [M], -3000, 3000) : undefined;
    const m: QModel = {
      opType: "QLinearConv",
      opset: 10,
      inputs: [
        input("x", x), input("xs", xs, true), input("xz", xz, true),
        input("w", w, true), input("ws", ws, true), input("wz", wz, true),
        input("ys", ys, c.vm || ci % 2 === 1), input("yz", yz, true), bias ? input("b", bias, true) : null,
      ],
      attrs: c.attrs,
    }; // deno-fmt-ignore
    const got = await ours(m, c.vm);
    const cp = convParams(c);
    const ref = convRef(
      { ...x, shape: cp.x },
      { ...w, shape: cp.w },
      Number(xz.data[0]),
      (mm) => Number(wz.data[wz.data.length === 1 ? 0 : mm]),
      bias,
      cp.p,
    );
    const P = ref.acc.length / (ref.shape[0] * M);
    const want = ref.acc.map((acc, i) => requantRef(acc, xs.data[0] as number, ws.data[ws.data.length === 1 ? 0 : Math.floor(i / P) % M] as number, ys.data[0] as number, Number(yz.data[0]), ty));
    const shape = c.x.length === 3 ? [ref.shape[0], ref.shape[1], ref.shape[3]] : ref.shape;
    assertEquals(got.shape, shape, `case ${ci}: shape`);
    assertEquals([...got.data], want, `case ${ci}: vs the reference`);
    if ((c.tx === DType.int8 && c.tw === DType.uint8) || c.fullRange) continue;
    // onnxruntime rounds before adding the zero point: ties may differ; elsewhere rarely
    const d = assertClose(got, await ort(m), 1, `case ${ci} vs onnxruntime`);
    if (!ties) (diffs += d, total += got.data.length);
  }
  assert(diffs <= total / 100, `${diffs} of ${total} outputs differ from onnxruntime by one`);
});

// ------------------------------------------------------------------ QLinearAdd

/** The documented QLinearAdd formula in float32 (Math.fround at every operation). */
function qlinearAddRef(
  a: number,
  b: number,
  p: { as: number; az: number; bs: number; bz: number; cs: number; cz: number },
  dtype: number,
): number {
  const ra = Math.fround(p.as / p.cs), rb = Math.fround(p.bs / p.cs);
  const v = Math.fround(Math.fround(ra * (a - p.az)) + Math.fround(rb * (b - p.bz)));
  const [lo, hi] = rangeOf(dtype);
  return Math.min(hi, Math.max(lo, rint(v + p.cz)));
}

Deno.test("com.microsoft::QLinearAdd: broadcasting, uint8 and int8; the float formula exactly, onnxruntime within one", async () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [2, 3, 4]],
    [[2, 3, 4], [3, 1]],
    [[4], [2, 3, 4]],
    [[1, 1000], [1000]],
    [[5, 1, 3], [1, 4, 1]],
    [[4, 256, 256], [256, 1]], // 2^18 outputs: the 256 x 256 result table
    [[2, 512, 256], [2, 512, 256]],
  ];
  let diffs = 0, total = 0;
  for (const [ci, [sa, sb]] of shapes.entries()) {
    const dt = ci % 2 ? DType.int8 : DType.uint8;
    const a = randomInts(rng, dt, sa), b = randomInts(rng, dt, sb);
    // the large cases: power-of-two scales (many exact ties) and an odd output zero point
    const ties = ci >= 5;
    const p = {
      as: ties ? 0.5 : randomScale(false),
      az: rng.int(0, 100),
      bs: ties ? 0.25 : randomScale(false),
      bz: rng.int(0, 100),
      cs: ties ? 4 : Math.fround(0.01 + rng.next() * 0.05),
      cz: ties ? 2 * rng.int(0, 50) + 1 : rng.int(0, 100),
    };
    const z = (v: number) => tensor(dt, [], [v]);
    const m: QModel = {
      opType: "QLinearAdd",
      domain: "com.microsoft",
      opset: 1,
      inputs: [
        input("a", a),
        input("as", f32([], [p.as]), true),
        input("az", z(p.az), true),
        input("b", b, ci >= 3),
        input("bs", f32([], [p.bs]), true),
        input("bz", z(p.bz), true),
        input("cs", f32([], [p.cs]), true),
        input("cz", z(p.cz), true),
      ],
    }; // deno-fmt-ignore
    const got = await ours(m, ci === 4);
    const want = await ort(m);
    assertEquals(got.shape, want.shape, `case ${ci}: shape`);
    // the reference over the broadcast index
    const R = got.shape.length;
    const pad = (s: number[]) => [...Array(R - s.length).fill(1), ...s];
    const pa = pad(sa), pb = pad(sb);
    for (let e = 0; e < got.data.length; e++) {
      let rest = e, ia = 0, ib = 0, ma = 1, mb = 1;
      for (let d = R - 1; d >= 0; d--) {
        const i = rest % got.shape[d];
        rest = Math.floor(rest / got.shape[d]);
        ia += (pa[d] === 1 ? 0 : i) * ma;
        ib += (pb[d] === 1 ? 0 : i) * mb;
        ma *= pa[d];
        mb *= pb[d];
      }
      assertEquals(
        Number(got.data[e]),
        qlinearAddRef(Number(a.data[ia]), Number(b.data[ib]), p, dt),
        `case ${ci}[${e}]`,
      );
    }
    diffs += assertClose(got, want, 1, `case ${ci} vs onnxruntime`);
    total += got.data.length;
  }
  assert(diffs <= total / 10, `${diffs} of ${total} outputs differ from onnxruntime by one`);
});

// ------------------------------------------------------------------ lowering errors

Deno.test("quantized operators: unsupported inputs are precise lowering errors", () => {
  const u8 = (shape: number[]) => randomInts(rng, DType.uint8, shape);
  const s = f32([], [0.5]);
  const expect = (m: QModel, message: string) => {
    let msg = "";
    try {
      compileGraph(decodeModel(encodeQModel(m)));
    } catch (e) {
      assert(e instanceof LoweringError, `${m.opType}: ${e}`);
      msg = e.message;
    }
    assert(msg.includes(message), `${m.opType}: expected "${message}", got "${msg || "success"}"`);
    assert(msg.includes(m.opType) && msg.includes("opset"), `${msg} names the operator and opset`);
  };
  expect({
    opType: "QuantizeLinear",
    opset: 21,
    inputs: [input("x", f32([2], [1, 2])), input("s", s)],
    attrs: { output_dtype: 6 }, // int32: not a quantized type in any opset
  }, "QuantizeLinear to int32 is not supported");
  expect(
    { opType: "DequantizeLinear", opset: 13, inputs: [input("x", f32([2], [1, 2])), input("s", s)] },
    "DequantizeLinear from float is not supported",
  );
  expect({
    opType: "QuantizeLinear",
    opset: 13,
    inputs: [input("x", f32([2, 3], [1, 2, 3, 4, 5, 6])), input("s", f32([2], [1, 2]))],
  }, "per-axis y_scale must have shape [3] (axis 1)");
  expect({
    opType: "QLinearMatMul",
    opset: 10,
    inputs: [
      input("a", u8([2, 3])),
      input("as", f32([2], [1, 1])),
      input("az", u8([2])),
      input("b", u8([3, 2])),
      input("bs", s),
      input("bz", u8([])),
      input("ys", s),
      input("yz", u8([])),
    ],
  }, "a_scale of shape [2] is not supported (only per-tensor, one value)");
  expect({
    opType: "QLinearConv",
    opset: 10,
    inputs: [
      input("x", u8([1, 1, 3, 3, 3])),
      input("xs", s),
      input("xz", u8([])),
      input("w", u8([1, 1, 1, 1, 1])),
      input("ws", s),
      input("wz", u8([])),
      input("ys", s),
      input("yz", u8([])),
    ],
  }, "input of rank 5 is not supported (1-D and 2-D convolutions only)");
  expect({
    opType: "QLinearConv",
    opset: 10,
    inputs: [
      input("x", u8([1, 1, 3, 3])),
      input("xs", s),
      input("xz", randomInts(rng, DType.int8, [])),
      input("w", u8([1, 1, 1, 1])),
      input("ws", s),
      input("wz", u8([])),
      input("ys", s),
      input("yz", u8([])),
    ],
  }, "x_zero_point has type int8, but its tensor has type uint8");
  expect({
    opType: "MatMulInteger",
    opset: 10,
    inputs: [input("a", randomInts(rng, DType.int16, [2, 2])), input("b", u8([2, 2]))],
  }, "A of type int16 is not supported (uint8 or int8)");
});

Deno.test("quantized kernels: attributes that disagree with the tensors are runtime errors, not crashes", async () => {
  const rt = await runtime;
  const u8 = (shape: number[]) => randomInts(rng, DType.uint8, shape);
  const s = f32([], [0.5]);
  const models: [QModel, number, number][] = [
    [
      {
        opType: "QuantizeLinear",
        opset: 13,
        inputs: [input("x", f32([4], [1, 2, 3, 4])), input("s", s), input("z", u8([]))],
      },
      0,
      8,
    ],
    [{ opType: "MatMulInteger", opset: 10, inputs: [input("a", u8([3, 4])), input("b", u8([4, 2]))] }, 1, 40],
    [
      {
        opType: "QLinearConv",
        opset: 10,
        inputs: [
          input("x", u8([1, 1, 4, 4])),
          input("xs", s),
          input("xz", u8([])),
          input("w", u8([2, 1, 3, 3])),
          input("ws", s),
          input("wz", u8([])),
          input("ys", s),
          input("yz", u8([])),
        ],
      },
      5,
      9,
    ],
    [
      {
        opType: "QLinearAdd",
        domain: "com.microsoft",
        opset: 1,
        inputs: [
          input("a", u8([2, 3])),
          input("as", s),
          input("az", u8([])),
          input("b", u8([3])),
          input("bs", s),
          input("bz", u8([])),
          input("cs", s),
          input("cz", u8([])),
        ],
      },
      5,
      7,
    ],
  ]; // deno-fmt-ignore
  for (const [m, at, value] of models) {
    const program = compileGraph(decodeModel(encodeQModel(m)));
    program.nodes[0].ints[at] = BigInt(value); // a size the tensors do not have
    const prog = assemble(program);
    const feeds = m.inputs.filter((i): i is QInput => i !== null && !i.constant).map((i) => i.value);
    let msg = "";
    try {
      await runNative(rt.native, prog, feeds);
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(/malformed|attribute/i.test(msg), `${m.opType}: expected a runtime error, got "${msg || "success"}"`);
  }
});

Deno.test("quantized operators: every operator has its schema op code in 300-399", () => {
  assertEquals(OPS.map((d) => d.opType).sort(), Object.keys(QUANT_OPS).sort());
  for (const code of Object.values(QUANT_OPS)) {
    assert(code >= 300 && code <= 399, `op code ${code} outside 300-399`);
  }
});
