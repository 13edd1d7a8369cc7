/**
 * The native vector paths (AVX2, chosen at run time: core/kernels/simd.h) against the plain C
 * paths of the same kernels, byte for byte: every model runs natively twice, once with
 * `OPML_SIMD=generic` (the plain C loops), once with `OPML_SIMD=avx2` (the AVX2 paths where the
 * host has AVX-512 ones), and once more under qemu-mips (the MIPS image, an
 * independent CPU); and the vector path again in a process's third inference (constant B matrices
 * packed once per process, from their second use). Shapes are chosen for the edges of the vector code: odd K (pairs of int16
 * columns), row counts that are not multiples of 8 or 16, column tails of 1 to 3, quantize runs
 * whose length is not a multiple of 8, float products with partial tiles. Also the real models.
 * Skips the comparison (not the test) on a host without AVX2: both runs then take the plain path.
 */
import { assert, assertSameBytes } from "../_assert.ts";
import { assemble, type AssembledProgram, buildRuntime, compileGraph } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { qemuImage } from "./_qemu_image.ts";
import { DType, shapeSize, type TensorValue } from "../../core/ir/mod.ts";
import { bytesOf, decodeModel } from "../../core/onnx/load.ts";
import { encodeQModel, type QInput, type QModel, randomInts, Rng, tensor } from "./quant_model.ts";
import { SHARED_MODELS } from "../../tasks/_data.ts";
import { makeModel } from "../onnx/_make_model.ts";

const rng = new Rng(20261205);
const runtime = buildRuntime();

const f32 = (shape: number[], scale = 1): TensorValue =>
  tensor(
    DType.float32,
    shape,
    Array.from({ length: shapeSize(shape) }, () => Math.fround((rng.next() * 2 - 1) * scale)),
  );
const inp = (name: string, value: TensorValue, constant = false): QInput => ({ name, value, constant });

function concat(outs: TensorValue[]): Uint8Array {
  const parts = outs.map((o) => bytesOf(o));
  const b = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) b.set(p, at), at += p.length;
  return b;
}

/** Native (vector), native (plain C) and qemu-mips: the same bytes. */
async function same(
  label: string,
  prog: AssembledProgram,
  feeds: TensorValue[],
  withQemu = true,
): Promise<void> {
  const rt = await runtime;
  const vec = concat((await runNative(rt.native, prog, feeds)).outputs);
  const plain = concat((await runNative(rt.native, prog, feeds, { env: { OPML_SIMD: "generic" } })).outputs);
  assert(vec.length > 0, `${label}: no output`);
  assertSameBytes(vec, plain, `${label}: the vector path differs from the plain C path`);
  const avx2 = concat((await runNative(rt.native, prog, feeds, { env: { OPML_SIMD: "avx2" } })).outputs);
  assertSameBytes(avx2, plain, `${label}: the AVX2 path (AVX-512 off) differs from the plain C path`);
  // the third inference of a process: constant B matrices packed at their second use (nn.c)
  const again = concat((await runNative(rt.native, prog, feeds, { repeat: 3 })).outputs);
  assertSameBytes(again, plain, `${label}: a repeated run (packed constant B) differs from the plain C path`);
  if (withQemu) {
    assertSameBytes(await qemuImage(rt.mips, prog, feeds), vec, `${label}: qemu-mips differs from native`);
  }
}

async function sameQ(m: QModel): Promise<void> {
  const prog = assemble(compileGraph(decodeModel(encodeQModel(m))));
  const feeds = m.inputs.filter((i): i is QInput => i !== null && !i.constant).map((i) => i.value);
  const label = `${m.opType} ${m.inputs.map((i) => (i ? `[${i.value.shape}]` : "-")).join(" ")} ${
    JSON.stringify(m.attrs)
  }`;
  await same(label, prog, feeds);
}

Deno.test("simd: QLinearConv (int16 pairs, odd K, row and column tails, depthwise) = plain C = qemu", async () => {
  // [C, M, group, kh, kw, H, W, stride, padded]; unpadded 1x1 convolutions take the pointwise
  // path (positions as vector lanes: AVX2 tiles of 4 channels by 16 positions,
  // VNNI byte tiles by 64 and 16, 8-position tails)
  const cases: number[][] = [
    [3, 5, 1, 1, 1, 5, 5, 1, 1], //  K = 3 (odd), 5 rows: one partial block
    [7, 17, 1, 3, 3, 6, 7, 1, 1], // K = 63, 17 rows: a pair of blocks and a lone partial one
    [16, 24, 1, 1, 1, 3, 3, 1, 1], // 9 columns: 2 tiles of 4 and a lone column
    [8, 8, 1, 1, 1, 2, 3, 1, 1], //  K = 8, one full block, 6 columns
    [2, 33, 1, 1, 1, 1, 7, 1, 1], // K = 2, 33 rows (2 pairs of blocks and 1 row)
    [12, 18, 3, 3, 3, 7, 5, 2, 1], // groups of 4 -> 6, strided
    [9, 9, 9, 3, 3, 9, 8, 2, 1], //  depthwise, strided
    [5, 5, 5, 3, 3, 4, 11, 1, 1], // depthwise
    [6, 6, 6, 3, 3, 5, 20, 1, 1], // depthwise, rows of 16 + 6 widened
    [6, 6, 6, 3, 3, 6, 21, 2, 1], // depthwise, strided, partial last chunk
    [3, 5, 1, 1, 1, 5, 11, 1, 0], // pointwise: K = 3 (odd), 5 channels, 55 positions (16 + 16 + 16 + 7)
    [16, 9, 1, 1, 1, 7, 7, 1, 0], // pointwise: 49 positions, 9 channels
    [12, 18, 3, 1, 1, 4, 7, 1, 0], // pointwise groups of 4 -> 6
    [40, 6, 1, 1, 1, 3, 17, 1, 0], // pointwise: K = 40 (weights widened 16 at a time), 51 positions
    [1, 3, 1, 1, 1, 2, 2, 1, 0], // pointwise: K = 1, 4 positions
  ];
  for (const [C, M, G, kh, kw, H, W, s, padded] of cases) {
    for (
      const [tx, tw] of [[DType.uint8, DType.int8], [DType.int8, DType.int8], [DType.uint8, DType.uint8]]
    ) {
      await sameQ({
        opType: "QLinearConv",
        opset: 10,
        inputs: [
          inp("x", randomInts(rng, tx, [1, C, H, W])),
          inp("xs", tensor(DType.float32, [], [0.02]), true),
          inp("xz", randomInts(rng, tx, [], 0, 40), true),
          inp("w", randomInts(rng, tw, [M, C / G, kh, kw]), true),
          inp(
            "ws",
            tensor(
              DType.float32,
              [M],
              Array.from({ length: M }, () => Math.fround(0.001 + rng.next() * 0.01)),
            ),
            true,
          ),
          inp("wz", tensor(tw, [M], Array(M).fill(tw === DType.uint8 ? 3 : 0)), true),
          inp("ys", tensor(DType.float32, [], [0.05]), true),
          inp("yz", randomInts(rng, tx, [], 0, 40), true),
          inp("b", randomInts(rng, DType.int32, [M], -3000, 3000), true),
        ],
        attrs: {
          group: G,
          kernel_shape: [kh, kw],
          strides: [s, s],
          pads: padded ? [1, 0, 0, 1] : [0, 0, 0, 0],
        },
      });
    }
  }
});

Deno.test("simd: MatMulInteger and QLinearMatMul over odd shapes = plain C = qemu", async () => {
  for (const [M, K, N] of [[5, 9, 13], [4, 1, 8], [9, 33, 17], [16, 2, 3], [2, 7, 5]]) {
    await sameQ({
      opType: "MatMulInteger",
      opset: 10,
      inputs: [
        inp("a", randomInts(rng, DType.uint8, [M, K])),
        inp("b", randomInts(rng, DType.int8, [K, N]), true),
        inp("az", randomInts(rng, DType.uint8, [], 0, 50), true),
      ],
    });
    await sameQ({
      opType: "QLinearMatMul",
      opset: 10,
      inputs: [
        inp("a", randomInts(rng, DType.int8, [M, K])),
        inp("as", tensor(DType.float32, [], [0.03]), true),
        inp("az", randomInts(rng, DType.int8, [], -5, 5), true),
        inp("b", randomInts(rng, DType.int8, [K, N]), true),
        inp("bs", tensor(DType.float32, [], [0.01]), true),
        inp("bz", tensor(DType.int8, [], [0]), true),
        inp("ys", tensor(DType.float32, [], [0.07]), true),
        inp("yz", randomInts(rng, DType.int8, [], -5, 5), true),
      ],
    });
  }
});

/** 8-bit values drawn mostly from the ends of the range (0/255, -128/127 and their neighbours). */
function extremes(dtype: number, shape: number[]): TensorValue {
  const ends = dtype === DType.uint8 ? [0, 255, 1, 254, 128, 127] : [-128, 127, -127, 126, 0, -1];
  const lo = dtype === DType.uint8 ? 0 : -128;
  return tensor(
    dtype,
    shape,
    Array.from(
      { length: shapeSize(shape) },
      () => rng.next() < 0.85 ? ends[rng.int(0, 5)] : rng.int(lo, lo + 255),
    ),
  );
}

Deno.test("simd: integer byte paths (VNNI vpdpbusd: convolutions, MatMulInteger) with extreme operands and zero points = plain C = qemu", async () => {
  // every operand and zero point at the ends of its range, both signednesses on both sides (the
  // byte paths offset int8 activations and uint8 weights), non-zero weight zero points (the
  // per-position correction), K not a multiple of 4, positions / columns around 8, 16 and 64
  const conv: number[][] = [
    // [C, M, group, kh, kw, H, W, stride, pad]
    [5, 6, 1, 1, 1, 9, 9, 1, 0], //    pointwise: K = 5, 81 positions (64 + 16 + 1)
    [17, 9, 1, 1, 1, 4, 6, 1, 0], //   pointwise: K = 17, 24 positions (16 + 8)
    [3, 7, 1, 3, 3, 13, 11, 2, 1], //  patches as byte rows: K = 27, strided, padded
    [4, 5, 1, 3, 3, 9, 10, 1, 1], //   K = 36, stride 1, padded
    [8, 12, 2, 3, 3, 6, 5, 1, 0], //   groups, no padding
    [6, 6, 6, 3, 3, 7, 35, 2, 1], //   depthwise (masked plane rows of 32), strided
    [4, 4, 4, 3, 3, 5, 40, 1, 1], //   depthwise, rows wider than 32
  ];
  const types = [[DType.uint8, DType.int8], [DType.int8, DType.int8], [DType.uint8, DType.uint8], [
    DType.int8,
    DType.uint8,
  ]];
  for (const [C, M, G, kh, kw, H, W, s, pad] of conv) {
    for (const [tx, tw] of types) {
      await sameQ({
        opType: "QLinearConv",
        opset: 10,
        inputs: [
          inp("x", extremes(tx, [1, C, H, W])),
          inp("xs", tensor(DType.float32, [], [0.02]), true),
          inp("xz", extremes(tx, []), true),
          inp("w", extremes(tw, [M, C / G, kh, kw]), true),
          inp(
            "ws",
            tensor(
              DType.float32,
              [M],
              Array.from({ length: M }, () => Math.fround(1e-4 + rng.next() * 1e-3)),
            ),
            true,
          ),
          inp("wz", extremes(tw, [M]), true),
          inp("ys", tensor(DType.float32, [], [0.9]), true),
          inp("yz", extremes(tx, []), true),
          inp("b", randomInts(rng, DType.int32, [M], -2e6, 2e6), true),
        ],
        attrs: { group: G, kernel_shape: [kh, kw], strides: [s, s], pads: [pad, pad, pad, pad] },
      });
    }
  }
  // [M, K, N]: 4-row blocks with tails, an LLM-like 8 x 1024 row block, columns around 16 and 256;
  // up to 3 rows (B unpacked in registers, 64 columns at a time): a decoding step's 1 x 4096
  for (
    const [M, K, N] of [
      [4, 1, 8],
      [5, 7, 17],
      [8, 1024, 40],
      [13, 66, 300],
      [6, 3, 1],
      [1, 4096, 70],
      [3, 9, 130],
      [2, 5, 64],
      [1, 2, 1],
    ]
  ) {
    for (const [ta, tb] of types) {
      await sameQ({
        opType: "MatMulInteger",
        opset: 10,
        inputs: [
          inp("a", extremes(ta, [M, K])),
          inp("b", extremes(tb, [K, N]), true),
          inp("az", extremes(ta, [M]), true),
          inp("bz", extremes(tb, [N]), true),
        ],
      });
    }
  }
});

Deno.test("simd: DynamicQuantizeLinear (AVX-512 range and quantisation, tails, NaN, infinities, -0) = plain C = qemu", async () => {
  for (const [n, special] of [[1031, true], [16, false], [15, true], [4096, false], [33, true]] as const) {
    const x = f32([1, n], 7);
    const d = x.data as Float32Array;
    if (special) {
      d[n - 1] = -0, d[2] = NaN, d[n - 2] = 6.5; // NaN is ignored by the range, quantises to 0
      if (n > 100) d[40] = Infinity, d[41] = -Infinity; // scale inf: x / scale 0 or NaN
    }
    await sameQ({
      opType: "DynamicQuantizeLinear",
      opset: 11,
      inputs: [inp("x", x)],
      outputs: ["y", "s", "z"],
    });
  }
  // ties: x / scale with scale = 1 / 255 exactly when the range is [0, 1]... rounding of halves
  const t = f32([1, 64]);
  const td = t.data as Float32Array;
  for (let i = 0; i < 64; i++) td[i] = Math.fround(((i % 9) + 0.5) / 8); // range [0, 1.0625]
  await sameQ({
    opType: "DynamicQuantizeLinear",
    opset: 11,
    inputs: [inp("x", t)],
    outputs: ["y", "s", "z"],
  });
});

Deno.test("simd: QuantizeLinear runs with tails, ties, NaN and saturation = plain C = qemu", async () => {
  for (
    const [n, scale, ty] of [[1031, 0.05, DType.uint8], [2053, 0.25, DType.int8], [
      4096,
      1,
      DType.uint8,
    ]] as const
  ) {
    const x = f32([1, n], 40);
    const d = x.data as Float32Array;
    // ties (x / s = k + 1/2 exactly with power-of-two scales), NaN, infinities, out of range
    for (let i = 0; i < n; i += 7) d[i] = scale === 0.05 ? d[i] : (Math.round(d[i] / scale) + 0.5) * scale;
    d[3] = NaN, d[10] = Infinity, d[11] = -Infinity, d[12] = 1e9, d[n - 1] = -0;
    await sameQ({
      opType: "QuantizeLinear",
      opset: 13,
      inputs: [
        inp("x", x),
        inp("s", tensor(DType.float32, [], [scale]), true),
        inp("z", randomInts(rng, ty, [], 0, 30), true),
      ],
    });
  }
});

Deno.test("simd: float MatMul and Gemm (8/4/1 x 32 and x 16 AVX-512 tiles, packed panels, 8 x 8 AVX2 tiles, row and column tails, epilogues) = plain C = qemu", async () => {
  // column counts around the 16- and 32-lane tiles (1, 15-17, 31-33, 63); row counts with 8-, 4-
  // and 1-row tails, below and above the 16 rows that pack B
  const shapes = [
    [13, 29, 37],
    [8, 5, 16],
    [21, 300, 48],
    [7, 3, 33],
    [17, 64, 15],
    [35, 19, 63],
    [1, 40, 31],
    [
      16,
      7,
      1,
    ],
    [40, 33, 17],
    [19, 8, 64],
    [30, 12, 32],
  ];
  for (const [M, K, N] of shapes) {
    const a = f32([M, K]);
    const mm = { opType: "MatMul", opset: 13, inputs: [inp("a", a), inp("b", f32([K, N]), true)] };
    await same(`MatMul ${M}x${K}x${N}`, assemble(compileGraph(decodeModel(encodeQModel(mm)))), [a]);
    const gemms: [string, QInput[], Record<string, number>][] = [
      ["transB, C [N]", [inp("b", f32([N, K]), true), inp("c", f32([N]), true)], { transB: 1 }],
      ["C [N] (a contiguous bias row)", [inp("b", f32([K, N]), true), inp("c", f32([N]), true)], {}],
      ["C [M, 1] (a bias per row)", [inp("b", f32([K, N]), true), inp("c", f32([M, 1]), true)], {}],
      ["alpha, beta, C [M, N]", [inp("b", f32([K, N]), true), inp("c", f32([M, N]), true)], {
        alpha: 0.5,
        beta: 3.5,
      }],
      ["alpha, no C", [inp("b", f32([K, N]), true)], { alpha: -2.5 }],
    ];
    for (const [what, rest, attrs] of gemms) {
      const gemm = { opType: "Gemm", opset: 13, inputs: [inp("a", a), ...rest], attrs };
      await same(`Gemm ${what} ${M}x${K}x${N}`, assemble(compileGraph(decodeModel(encodeQModel(gemm)))), [a]);
    }
  }
});

Deno.test("simd: float Conv (pointwise, depthwise chunks, im2col panels, skipped padding taps) = plain C = qemu", async () => {
  // [C, OC, group, kernel, H, W, stride, dilation, pads (begin = end), bias]; 3-D and 1-D below
  const cases: number[][] = [
    [5, 5, 5, 3, 13, 19, 1, 1, 1, 1], //   depthwise: 19 columns (8 + 8 + 3), 13 rows (4 x 3 + 1)
    [3, 3, 3, 5, 17, 23, 2, 1, 2, 1], //   depthwise 5x5, stride 2 (deinterleaved lanes)
    [6, 6, 6, 3, 9, 67, 2, 1, 1, 1], //    depthwise, stride 2, 34 columns (AVX-512: 16 + 16 + 2)
    [2, 2, 2, 3, 6, 40, 1, 1, 1, 0], //    depthwise, 40 columns (AVX-512: 16 + 16 + 8), no bias
    [4, 8, 4, 3, 11, 10, 3, 2, 2, 0], //   depthwise, channel multiplier 2, stride 3, dilation 2
    [6, 8, 2, 3, 9, 11, 1, 5, 5, 1], //    grouped, dilation 5 > the map: taps wholly in the padding
    [4, 20, 1, 3, 15, 17, 2, 1, 1, 1], //  strided 3x3: panels of 8 / 16 positions over rows, 20 rows
    [3, 9, 1, 3, 7, 7, 1, 3, 3, 0], //     dilated, no bias, 9 output channels (8 + 1)
    [5, 12, 1, 3, 6, 45, 1, 1, 1, 1], //   3x3 over 45 columns: AVX-512 panel runs of 32, 13 + 19, ...
    [4, 10, 1, 5, 9, 7, 1, 1, 2, 0], //    5x5 over 7 columns: 5 runs per panel, taps past both edges
    [12, 20, 1, 1, 5, 7, 1, 1, 0, 1], //   pointwise: channels x positions product
    [12, 18, 3, 1, 4, 7, 1, 1, 0, 0], //   pointwise, groups
    [6, 10, 1, 1, 9, 9, 2, 1, 0, 1], //    1x1 strided: the panel path
    [24, 40, 1, 1, 7, 7, 1, 1, 0, 1], //   pointwise, 49 positions (32 + 17), 40 rows: packed panels
    [16, 19, 1, 1, 9, 9, 1, 1, 0, 0], //   pointwise, 81 positions (32 + 32 + 17), 19 rows (8 + 8 + 1 + 1 + 1)
    // from a process's second inference, positions as rows (W^T packed once, transposed stores):
    [16, 64, 1, 1, 7, 7, 1, 1, 0, 1], //   pointwise, 49 positions (6 x 8 + 1), a bias per column
    [6, 60, 2, 1, 13, 15, 1, 1, 0, 1], //  pointwise, groups of 30 columns, 195 positions (24 x 8 + 3)
    [8, 64, 1, 3, 7, 7, 1, 1, 1, 1], //    3x3 over 49 positions: one panel of every tap, rows
    [4, 40, 1, 3, 13, 15, 1, 2, 2, 0], //  dilated 3x3, 195 positions, 40 columns (32 + 8)
    [3, 16, 1, 7, 21, 37, 2, 1, 3, 1], //  7x7 stride 2 (rows split by parity natively), odd width
    [8, 64, 1, 3, 14, 13, 2, 1, 1, 1], //  3x3 stride 2 over 49 positions: rows, from split rows
    [5, 7, 1, 2, 9, 70, 2, 3, 2, 0], //    2x2 stride 2 dilation 3: runs of 32 lanes, odd offsets
    [8, 16, 1, 3, 20, 33, 1, 1, 1, 1], //  3x3 stride 1 to 16 channels: the padded grid (22 blocks)
  ];
  for (const [C, OC, G, k, H, W, s, d, p, bias] of cases) {
    for (const finite of [true, false]) {
      const w = f32([OC, C / G, k, k]);
      // an infinite and a NaN weight: padding taps then add 0 * w = NaN (none skipped)
      if (!finite) (w.data as Float32Array)[1] = Infinity, (w.data as Float32Array)[w.data.length - 1] = NaN;
      const x = f32([1, C, H, W]);
      await sameQ({
        opType: "Conv",
        opset: 13,
        inputs: [inp("x", x), inp("w", w, true), ...(bias ? [inp("b", f32([OC]), true)] : [])],
        attrs: { group: G, kernel_shape: [k, k], strides: [s, s], dilations: [d, d], pads: [p, p, p, p] },
      });
    }
  }
  await sameQ({ // 3-D, depthwise and not
    opType: "Conv",
    opset: 13,
    inputs: [inp("x", f32([1, 2, 4, 5, 9])), inp("w", f32([4, 1, 2, 3, 3]), true)],
    attrs: { group: 2, pads: [1, 1, 1, 1, 1, 1], dilations: [2, 1, 2] },
  });
  await sameQ({
    opType: "Conv",
    opset: 13,
    inputs: [inp("x", f32([2, 3, 4, 5, 6])), inp("w", f32([5, 3, 2, 3, 3]), true), inp("b", f32([5]), true)],
    attrs: { pads: [1, 0, 1, 0, 2, 1], strides: [1, 2, 1] },
  });
  await sameQ({ // two images through the padded grid
    opType: "Conv",
    opset: 13,
    inputs: [inp("x", f32([2, 4, 9, 10])), inp("w", f32([8, 4, 3, 3]), true), inp("b", f32([8]), true)],
    attrs: { pads: [1, 1, 1, 1] },
  });
  await sameQ({ // 1-D, depthwise with 8-lane chunks and tails
    opType: "Conv",
    opset: 13,
    inputs: [inp("x", f32([1, 3, 21])), inp("w", f32([3, 1, 4]), true)],
    attrs: { group: 3, pads: [2, 1] },
  });
});

Deno.test("simd: Conv with its Relu, Clip or HardSwish fused into the stores natively (every Conv path, NaN from infinite weights, bounds) = plain C = qemu", async () => {
  // qemu's image never fuses (the VM runs every node): it is the unfused reference. [C, OC, group,
  // kernel, H, W, stride, pads, then]: one case per path of k_conv (see the Conv test above)
  const relu = { opType: "Relu" }, hswish = { opType: "HardSwish" };
  const clip = (lo: number, hi: number) => ({
    opType: "Clip",
    inputs: [
      inp("lo", tensor(DType.float32, [], [lo]), true),
      inp("hi", tensor(DType.float32, [], [hi]), true),
    ],
  });
  const cases: [number[], { opType: string; inputs?: QInput[]; keepY?: boolean }][] = [
    [[5, 5, 5, 3, 13, 19, 1, 1], clip(0, 6)], //    depthwise 3x3, AVX-512 chunks and tails
    [[6, 6, 6, 3, 9, 67, 2, 1], relu], //           depthwise, stride 2
    [[4, 8, 4, 3, 11, 7, 3, 2], clip(-1, 1)], //    depthwise, 8-lane chunks, stride 3
    [[4, 20, 1, 3, 15, 17, 2, 1], clip(0, 6)], //   panels (stride 2)
    [[5, 12, 1, 3, 6, 45, 1, 1], relu], //          panels, stride 1
    [[12, 20, 1, 1, 5, 7, 1, 0], clip(-0, 0)], //   pointwise, -0 bounds
    [[12, 18, 3, 1, 4, 7, 1, 0], clip(3, -3)], //   pointwise, groups, lo > hi
    [[24, 40, 1, 1, 7, 7, 1, 0], clip(NaN, 2)], //  pointwise, packed panels, a NaN bound
    [[16, 64, 1, 1, 7, 7, 1, 0], relu], //          positions as rows (transposed stores)
    [[8, 64, 1, 3, 7, 7, 1, 1], clip(0, 6)], //     3x3 with positions as rows
    [[8, 16, 1, 3, 20, 33, 1, 1], relu], //         the padded grid
    [[8, 16, 1, 3, 20, 33, 1, 1], { ...clip(0, 6), keepY: true }], // y read twice: not fused
    // HardSwish (mobilenet_v3's): -inf * 0 gives x86's default NaN after it too
    [[5, 5, 5, 3, 13, 19, 1, 1], hswish], //      depthwise
    [[6, 6, 6, 3, 9, 67, 2, 1], hswish], //       depthwise, stride 2
    [[4, 20, 1, 3, 15, 17, 2, 1], hswish], //     panels
    [[24, 40, 1, 1, 7, 7, 1, 0], hswish], //      pointwise, packed panels
    [[16, 64, 1, 1, 7, 7, 1, 0], hswish], //      positions as rows
    [[8, 16, 1, 3, 20, 33, 1, 1], hswish], //     the padded grid
  ];
  for (const [[C, OC, G, k, H, W, s, p], then] of cases) {
    const w = f32([OC, C / G, k, k]); // an infinite and a NaN weight: x86's default NaN (not the canonical one) where 0 * inf

    (w.data as Float32Array)[1] = Infinity, (w.data as Float32Array)[w.data.length - 1] = NaN;
    const x = f32([1, C, H, W], 8);
    const m: QModel = {
      opType: "Conv",
      opset: 14, // (HardSwish)
      inputs: [inp("x", x), inp("w", w, true), inp("b", f32([OC]), true)],
      attrs: { group: G, kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] },
      then,
    };
    // (same() also runs a third inference: constant B packed, positions as rows)
    const prog = assemble(compileGraph(decodeModel(encodeQModel(m))));
    await same(`Conv [${C} ${OC} ${G} ${k} ${H}x${W} s${s} p${p}] + ${then.opType}`, prog, [x]);
  }
});

Deno.test("simd: elementwise chains run chunk by chunk natively (SiLU, Gelu's decomposition, a residual Add and Relu, intermediates read after the chain, scalars, NaN, infinities) = plain C = qemu", async () => {
  // qemu's image runs node by node: the unfused reference. 3 x 50 x 71 = 10650 elements: 3
  // chunks, the last one partial; 12 nodes: a chain of 8, then one of 4
  const shape = [3, 50, 71], n = 3 * 50 * 71;
  const x = f32(shape, 6);
  const xs = x.data as Float32Array;
  xs[5] = NaN, xs[4100] = Infinity, xs[8200] = -Infinity, xs[9000] = -0;
  const scalar = (v: number) => ({ shape: [], data: [v] });
  const bytes = makeModel({
    inputs: { x: shape },
    outputs: { m: shape, y: shape, z: shape },
    initializers: {
      sq2: scalar(1.4142135),
      one: scalar(1),
      half: scalar(0.5),
      three: scalar(3),
      lo: scalar(-2),
      hi: scalar(2),
      w: { shape, data: Array.from(f32(shape, 3).data as Float32Array) },
    },
    nodes: [
      { op: "Sigmoid", inputs: ["x"], outputs: ["s"] },
      { op: "Mul", inputs: ["x", "s"], outputs: ["m"] }, // SiLU; m is a graph output too
      { op: "Div", inputs: ["m", "sq2"], outputs: ["d"] },
      { op: "Erf", inputs: ["d"], outputs: ["e"] },
      { op: "Add", inputs: ["e", "one"], outputs: ["a"] },
      { op: "Mul", inputs: ["m", "a"], outputs: ["g"] },
      { op: "Mul", inputs: ["g", "half"], outputs: ["h"] },
      { op: "Add", inputs: ["h", "w"], outputs: ["r"] }, // a constant of the full size
      { op: "Relu", inputs: ["r"], outputs: ["y"] }, // (a new chain: 8 nodes at most)
      { op: "Pow", inputs: ["r", "three"], outputs: ["p"] },
      { op: "HardSwish", inputs: ["p"], outputs: ["q"] },
      { op: "Clip", inputs: ["q", "lo", "hi"], outputs: ["z"] },
    ],
  });
  const prog = assemble(compileGraph(decodeModel(bytes)));
  assert(n > 8192, "the chains need 8192 elements or more");
  await same("elementwise chains", prog, [x]);
  const rt = await runtime;
  const one = concat((await runNative(rt.native, prog, [x], { threads: 1 })).outputs);
  for (const threads of [2, 3]) {
    const t = concat((await runNative(rt.native, prog, [x], { threads })).outputs);
    assertSameBytes(t, one, `elementwise chains: ${threads} threads differ from 1`);
  }
});

/** Float bit patterns spread over the whole range (every `step`-th), plus the edges of exp and sigmoid. */
function floatSweep(step: number): Float32Array {
  const u = new Uint32Array(Math.ceil(2 ** 32 / step) + 64);
  let n = 0;
  for (let b = 0; b < 2 ** 32; b += step) u[n++] = b >>> 0;
  const f = new Float32Array(u.buffer, 0, u.length);
  const edges = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    40,
    -40,
    110,
    -110,
    88.72,
    88.73,
    -87.33,
    -103.97,
    -104,
    1e-45,
    -1e-45,
  ];
  for (const e of edges) {
    f[n++] = e, f[n++] = Math.fround(e * (1 + 2 ** -23)), f[n++] = Math.fround(e * (1 - 2 ** -23));
  }
  return f.subarray(0, n);
}

Deno.test("simd: Exp, Sigmoid, Tanh, Erf, Gelu and Softmax (vector exp, tanh, erf) = plain C over a sweep of every float range", async () => {
  const ops: [string, number, Record<string, string>][] = [
    ["Exp", 13, {}],
    ["Sigmoid", 13, {}],
    ["Tanh", 13, {}],
    ["Erf", 13, {}],
    ["Gelu", 20, {}], // runs of 256 through erf's and tanh's array forms
    ["Gelu", 20, { approximate: "tanh" }],
  ];
  for (const [op, opset, attrs] of ops) {
    // natively over 2^22 spread patterns; qemu (soft-float) over a sparser sweep
    for (const [step, withQemu] of [[1021, false], [65521, true]] as const) {
      const x = floatSweep(step);
      const v = tensor(DType.float32, [x.length], x);
      const prog = assemble(
        compileGraph(decodeModel(encodeQModel({ opType: op, opset, inputs: [inp("x", v)], attrs }))),
      );
      await same(`${op} ${JSON.stringify(attrs)} sweep /${step}`, prog, [v], withQemu);
    }
  }
  // random values: lanes of one vector in different ranges of erf and tanh (every mix of them)
  for (const [op, opset, attrs] of ops.slice(2)) {
    const v = f32([4099], 5);
    const prog = assemble(
      compileGraph(decodeModel(encodeQModel({ opType: op, opset, inputs: [inp("x", v)], attrs }))),
    );
    await same(`${op} ${JSON.stringify(attrs)} of values in (-5, 5)`, prog, [v]);
  }
  for (const D of [1, 7, 8, 13, 64, 1001]) {
    // 19 rows: two groups of 8 rows interleaved natively, and 3 rows alone; rows with -inf, a
    // leading NaN, a NaN inside, +inf, all -inf, -0 and +0 as the maximum
    const x = f32([19, D], 30), d = x.data as Float32Array;
    d[D - 1] = -Infinity;
    d[2 * D] = NaN;
    d[3 * D + (D >> 1)] = NaN;
    d[4 * D + D - 1] = Infinity;
    d.fill(-Infinity, 5 * D, 6 * D);
    d.fill(-0, 9 * D, 10 * D), d[9 * D + (D >> 1)] = 0;
    const prog = assemble(
      compileGraph(decodeModel(encodeQModel({ opType: "Softmax", opset: 13, inputs: [inp("x", x)] }))),
    );
    await same(`Softmax [19, ${D}]`, prog, [x]);
  }
});

Deno.test("simd: Where (AVX-512 rows against rows or one value, tails) and short word runs (Concat, Gather, Transpose) = plain C = qemu", async () => {
  const bool = (shape: number[]): TensorValue => ({
    dtype: DType.bool,
    shape,
    data: Uint8Array.from({ length: shapeSize(shape) }, () => (rng.next() < 0.5 ? 1 : 0)),
  });
  const i32 = (shape: number[]) => randomInts(rng, DType.int32, shape);
  const where: [number[], TensorValue, TensorValue][] = [
    [[7, 49], f32([3, 7, 49]), f32([])], // rows against one value, 343 lanes: a tail of 7
    [[5, 17], i32([]), i32([2, 5, 17])], // one value against rows
    [[2, 3, 21], i32([2, 3, 21]), i32([2, 3, 21])], // rows against rows
    [[16], f32([4, 16]), f32([4, 16])], // whole vectors, no tail
    [[21, 1], f32([21, 13]), f32([])], // the condition broadcast along the row: the plain loop
  ];
  for (const [cshape, x, y] of where) {
    const c = bool(cshape);
    const prog = assemble(compileGraph(decodeModel(encodeQModel({
      opType: "Where",
      opset: 16,
      inputs: [inp("c", c), inp("a", x), inp("b", y)],
    }))));
    await same(`Where [${cshape}] [${x.shape}] [${y.shape}]`, prog, [c, x, y]);
  }
  const concats: [number[][], number][] = [[[[5, 3, 1], [5, 3, 1]], 2], [[[4, 3], [4, 5]], 1], [[[2, 9], [
    2,
    9,
  ]], 1]];
  for (const [shapes, axis] of concats) {
    const xs = shapes.map((sh) => i32(sh));
    const prog = assemble(compileGraph(decodeModel(encodeQModel({
      opType: "Concat",
      opset: 13,
      inputs: xs.map((x, i) => inp(`x${i}`, x)),
      attrs: { axis },
    }))));
    await same(`Concat ${JSON.stringify(shapes)} axis ${axis}`, prog, xs);
  }
  for (const [shape, idx] of [[[6, 5, 2], [1]], [[4, 7], [-1, 0, 3]]] as const) {
    const x = i32([...shape]);
    const ind: TensorValue = idx.length === 1
      ? { dtype: DType.int64, shape: [], data: BigInt64Array.of(BigInt(idx[0])) }
      : { dtype: DType.int64, shape: [idx.length], data: BigInt64Array.from(idx, BigInt) };
    const prog = assemble(compileGraph(decodeModel(encodeQModel({
      opType: "Gather",
      opset: 13,
      inputs: [inp("x", x), inp("i", ind)],
      attrs: { axis: shape.length - 1 },
    }))));
    await same(`Gather [${shape}] by [${idx}] on the last axis`, prog, [x, ind]);
  }
  const t = i32([3, 5, 7]);
  const tp = assemble(compileGraph(decodeModel(encodeQModel({
    opType: "Transpose",
    opset: 13,
    inputs: [inp("x", t)],
    attrs: { perm: [1, 0, 2] },
  }))));
  await same("Transpose [3,5,7] perm [1,0,2] (runs of 7 words)", tp, [t]);
});

Deno.test("simd: NonMaxSuppression (16 kept boxes per AVX-512 step: overlaps, ties, zero-area and NaN boxes, both box formats) = plain C = qemu", async () => {
  const rt = await runtime;
  const n = 300;
  for (const center of [0, 1]) {
    // clustered boxes (many overlaps), a few zero-area ones and a few with a NaN coordinate
    const coords: number[] = [];
    for (let i = 0; i < n; i++) {
      const cx = (i % 7) * 10 + rng.next() * 4, cy = (i % 5) * 10 + rng.next() * 4;
      const w = i % 23 === 0 ? 0 : 3 + rng.next() * 8, h = 3 + rng.next() * 8;
      const box = center ? [cx, cy, w, h] : [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2];
      if (i % 37 === 5) box[rng.int(0, 3)] = NaN;
      coords.push(...box);
    }
    const boxes = tensor(DType.float32, [1, n, 4], coords.map(Math.fround));
    const scores = tensor(
      DType.float32,
      [1, 3, n],
      Array.from({ length: 3 * n }, (_, i) => (i % 11 === 0 ? 0.5 : rng.next())),
    );
    const scalar = (name: string, dtype: number, v: number): QInput =>
      inp(
        name,
        dtype === DType.int64
          ? { dtype, shape: [1], data: BigInt64Array.of(BigInt(v)) }
          : tensor(dtype, [1], [v]),
        true,
      );
    const prog = assemble(compileGraph(decodeModel(encodeQModel({
      opType: "NonMaxSuppression",
      opset: 11,
      inputs: [
        inp("bx", boxes),
        inp("sc", scores),
        scalar("mx", DType.int64, 200),
        scalar("io", DType.float32, 0.45),
        scalar("st", DType.float32, 0.05),
      ],
      attrs: { center_point_box: center },
    }))));
    const run = async (env?: Record<string, string>) =>
      concat((await runNative(rt.native, prog, [boxes, scores], env ? { env } : {})).programOutputs);
    const vec = await run(),
      plain = await run({ OPML_SIMD: "generic" }),
      avx2 = await run({ OPML_SIMD: "avx2" });
    const label = `NonMaxSuppression center_point_box ${center}`;
    assert(
      new BigInt64Array(vec.slice().buffer).at(-1)! > 20n,
      `${label}: too few boxes kept to test anything`,
    );
    assertSameBytes(vec, plain, `${label}: the vector path differs from the plain C path`);
    assertSameBytes(avx2, plain, `${label}: AVX2 (no AVX-512 path) differs from the plain C path`);
    assertSameBytes(
      await qemuImage(rt.mips, prog, [boxes, scores]),
      vec,
      `${label}: qemu-mips differs from native`,
    );
  }
});

Deno.test("simd: float Clip (ReLU6 bounds, -0, NaN bounds, lo > hi) = plain C = qemu over a float sweep", async () => {
  const x = floatSweep(65521);
  const v = tensor(DType.float32, [x.length], x);
  for (const [lo, hi] of [[0, 6], [-0, 0], [-1.5, Infinity], [3, -3], [NaN, 1], [-Infinity, NaN]]) {
    const bound = (name: string, b: number) => inp(name, tensor(DType.float32, [], [b]), true);
    const prog = assemble(compileGraph(decodeModel(encodeQModel({
      opType: "Clip",
      opset: 13,
      inputs: [inp("x", v), bound("lo", lo), bound("hi", hi)],
    }))));
    await same(`Clip [${lo}, ${hi}] sweep (${x.length} values)`, prog, [v]);
  }
});

Deno.test("simd: HardSigmoid, HardSwish, Neg, Abs, Reciprocal, Sign, Softsign, ThresholdedRelu (16 lanes natively) = plain C = qemu over a float sweep", async () => {
  const x = floatSweep(65521);
  const v = tensor(DType.float32, [x.length], x);
  const ops: [string, number, Record<string, number>][] = [
    ["HardSigmoid", 6, { alpha: 0.3, beta: 0.45 }],
    ["HardSwish", 14, {}],
    ["Neg", 13, {}],
    ["Abs", 13, {}],
    ["Reciprocal", 13, {}],
    ["Sign", 13, {}],
    ["Softsign", 13, {}],
    ["ThresholdedRelu", 10, { alpha: 1.5 }],
  ];
  for (const [opType, opset, attrs] of ops) {
    const prog = assemble(
      compileGraph(decodeModel(encodeQModel({ opType, opset, inputs: [inp("x", v)], attrs }))),
    );
    await same(`${opType} sweep (${x.length} values)`, prog, [v]);
  }
});

Deno.test("simd: weighted Resize (16 output lanes: permuted loads when upsampling, gathers when not, row ends, extrapolation, antialias) = plain C = qemu", async () => {
  const i64 = (v: number[]): TensorValue => ({
    dtype: DType.int64,
    shape: [v.length],
    data: BigInt64Array.from(v, BigInt),
  });
  // [input shape, output sizes, attributes, opset]
  const cases: [number[], number[], Record<string, number | string>, number][] = [
    [[1, 3, 9, 13], [1, 3, 37, 50], { mode: "linear" }, 13], //            upsampling: permutes, row ends
    [[1, 2, 8, 70], [1, 2, 5, 17], { mode: "linear" }, 13], //             downsampling by 4: gathers
    [[1, 2, 6, 7], [1, 2, 11, 33], { mode: "cubic", cubic_coeff_a: -0.5 }, 13], // 4 taps per axis
    [[1, 2, 12, 40], [1, 2, 5, 18], { mode: "linear", antialias: 1 }, 18], //     many taps
    [[2, 33], [2, 100], { mode: "linear", coordinate_transformation_mode: "align_corners" }, 13],
    [[1, 1, 5, 9], [1, 1, 8, 23], {
      mode: "linear",
      coordinate_transformation_mode: "tf_crop_and_resize",
      extrapolation_value: 7.5,
    }, 13],
  ];
  for (const [shape, sizes, attrs, opset] of cases) {
    const x = f32(shape, 4);
    const xs = x.data as Float32Array;
    xs[3] = NaN, xs[xs.length - 2] = Infinity, xs[xs.length >> 1] = -Infinity;
    const roi = attrs.coordinate_transformation_mode === "tf_crop_and_resize"
      ? inp("roi", tensor(DType.float32, [8], [0, 0, 0.1, -0.3, 1, 1, 0.9, 1.2]), true)
      : null;
    await sameQ({
      opType: "Resize",
      opset,
      inputs: [inp("x", x), roi, null, inp("sizes", i64(sizes), true)],
      attrs,
    });
  }
});

Deno.test("simd: RNN, GRU, LSTM (gates as lanes: 64-gate blocks, tails, both directions, lengths, peepholes, clip) = plain C = qemu", async () => {
  // [op, S, B, I, H, bidirectional, layout, linear_before_reset, bias/initial state/peepholes, clip]
  // G H gates per direction: 68 = a block of 64 and a tail of 4, 72 = 64 + 8 (AVX2: 2 x 32 + 8),
  // 12 and 33 only tails
  const cases: [string, number, number, number, number, boolean, number, number, boolean, number][] = [
    ["LSTM", 5, 3, 7, 17, true, 0, 0, true, 2.5],
    ["LSTM", 4, 2, 3, 3, false, 1, 0, false, 0],
    ["GRU", 5, 3, 7, 17, true, 0, 0, true, 0],
    ["GRU", 6, 1, 5, 24, false, 0, 1, true, 1.5],
    ["GRU", 3, 2, 4, 4, true, 1, 1, false, 0],
    ["RNN", 5, 2, 9, 33, true, 0, 0, true, 3],
  ];
  for (const [op, S, B, I, H, bidi, layout, lbr, full, clip] of cases) {
    const G = op === "LSTM" ? 4 : op === "GRU" ? 3 : 1, D = bidi ? 2 : 1;
    const x = f32(layout ? [B, S, I] : [S, B, I], 2);
    const lens = tensor(
      DType.int32,
      [B],
      Array.from({ length: B }, (_, b) => (b === 1 ? Math.max(1, S - 2) : S)),
    );
    const state = layout ? [B, D, H] : [D, B, H];
    const inputs = [
      inp("x", x),
      inp("w", f32([D, G * H, I]), true),
      inp("r", f32([D, G * H, H]), true),
      full ? inp("b", f32([D, 2 * G * H]), true) : null,
      full ? inp("lens", lens) : null,
      full ? inp("h0", f32(state)) : null,
      ...(op === "LSTM"
        ? [full ? inp("c0", f32(state)) : null, full ? inp("p", f32([D, 3 * H]), true) : null]
        : []),
    ];
    const attrs: Record<string, number | string> = { hidden_size: H, layout };
    if (bidi) attrs.direction = "bidirectional";
    if (op === "GRU") attrs.linear_before_reset = lbr;
    if (clip) attrs.clip = clip + 0.001; // a float attribute
    const outputs = op === "LSTM" ? ["y", "yh", "yc"] : ["y", "yh"];
    const prog = assemble(
      compileGraph(decodeModel(encodeQModel({ opType: op, opset: 14, inputs, attrs, outputs }))),
    );
    const feeds = inputs.filter((i): i is QInput => i !== null && !i.constant).map((i) => i.value);
    await same(`${op} S ${S} B ${B} I ${I} H ${H} ${JSON.stringify(attrs)}`, prog, feeds);
  }
});

Deno.test("simd: the real models (mnist-cnn, stories260K, shufflenet-v2-int8): vector = plain C", async () => {
  const models: [string, Record<string, number[]>, () => TensorValue][] = [
    ["mnist-cnn/mnist-12.onnx", {}, () => f32([1, 1, 28, 28])],
    ["stories260K-llama/stories260K.onnx", { seq: [49] }, () => ({
      dtype: DType.int64,
      shape: [1, 49],
      data: BigInt64Array.from({ length: 49 }, () => BigInt(rng.int(0, 511))),
    })],
    ["shufflenet-v2-int8/shufflenet-v2-12-int8.onnx", {}, () => f32([1, 3, 224, 224], 2)],
  ];
  for (const [file, shapes, x] of models) {
    const prog = assemble(
      compileGraph(decodeModel(Deno.readFileSync(SHARED_MODELS + file), file), { shapes }),
    );
    // qemu is covered by tests/onnx for these (and would take minutes for shufflenet)
    await same(file, prog, [x()], false);
  }
});

Deno.test("simd: ReduceMean over trailing axes (8 interleaved chains natively) = plain C = qemu", async () => {
  // 8 + 8 + 5 outputs of 35 terms; NaN, infinities and -0 in some of them; other axes as a check
  const x = f32([3, 7, 5, 7], 100);
  const d = x.data as Float32Array;
  d[3] = NaN, d[40] = Infinity, d[41] = -Infinity, d[77] = Infinity, d[300] = -0;
  for (const d0 of [0, 36, 71]) for (let i = 0; i < 35; i++) if (i % 2) d[d0 * 7 + i] = -0;
  for (const axes of [[2, 3], [1, 2, 3], [3], [1], [0, 1, 2, 3]]) {
    const prog = assemble(compileGraph(decodeModel(encodeQModel({
      opType: "ReduceMean",
      opset: 13,
      inputs: [inp("x", x)],
      attrs: { axes, keepdims: 1 },
    }))));
    await same(`ReduceMean axes ${axes}`, prog, [x]);
  }
});

Deno.test("simd: float Add, Sub, Mul, Div (AVX-512 loops, broadcasts, tails, special values) = plain C = qemu", async () => {
  const x = f32([2, 3, 5, 17], 4);
  const d = x.data as Float32Array;
  d.set([NaN, Infinity, -Infinity, -0, 1e-40, -1e-42, 3e38, 0], 20);
  for (const yShape of [[2, 3, 5, 17], [1, 3, 1, 1], [17], [1], [2, 1, 5, 1]]) {
    const y = f32(yShape, 3);
    if (y.data.length > 2) (y.data as Float32Array).set([0, -0, Infinity], 0);
    for (const opType of ["Add", "Sub", "Mul", "Div"]) {
      await sameQ({ opType, opset: 14, inputs: [inp("x", x), inp("b", y)] });
    }
  }
});

Deno.test("simd: MaxPool rows (16 lanes, strides 1 and 2, tails, NaN, -0; uint8 and int8) = plain C = qemu", async () => {
  // [H, W, kernel, stride, pad, dilation, ceil]
  const cases: number[][] = [
    [9, 40, 3, 1, 1, 1, 0], // 40 columns: 16 + 16 + 8 (last chunk masked at the plane's end)
    [14, 14, 3, 1, 1, 1, 0], // googlenet's inception pools
    [11, 37, 3, 2, 1, 1, 1], // stride 2, ceil mode, odd width
    [7, 7, 3, 2, 0, 1, 1],
    [12, 50, 2, 2, 0, 2, 0], // dilation 2
    [8, 30, 5, 1, 2, 1, 0], // 5x5 pad 2: two edge lanes per side skip taps
    [13, 21, 3, 2, 1, 2, 1], // stride 2, dilation 2, pad 1, ceil mode
  ];
  for (const [H, W, k, s, p, d, ceil] of cases) {
    const x = f32([2, 3, H, W], 10);
    const v = x.data as Float32Array;
    // NaN or -0, then +0 (equal to -0: the first of equal maxima stays), zeros around some
    for (let i = 0; i + 2 < v.length; i += 37) {
      v[i] = i % 2 ? NaN : -0, v[i + 1] = 0, v[i + 2] = i % 3 ? -0 : 0;
    }
    for (let i = 5; i < v.length; i += 101) v.fill(-5, i, i + 20);
    const attrs = {
      kernel_shape: [k, k],
      strides: [s, s],
      pads: [p, p, p, p],
      dilations: [d, d],
      ceil_mode: ceil,
    };
    await sameQ({ opType: "MaxPool", opset: 12, inputs: [inp("x", x)], attrs });
    // bytes (16 lanes of 32 bits natively): the whole range of each type, extremes in runs
    for (const dt of [DType.uint8, DType.int8]) {
      const b = randomInts(rng, dt, [2, 3, H, W]);
      const [lo, hi] = dt === DType.uint8 ? [0, 255] : [-128, 127];
      const bv = b.data as Uint8Array | Int8Array;
      for (let i = 3; i < bv.length; i += 53) bv.fill(i % 2 ? hi : lo, i, i + 7);
      await sameQ({ opType: "MaxPool", opset: 12, inputs: [inp("x", b)], attrs });
    }
  }
});

Deno.test("simd: float Relu (16 lanes natively; -0, NaN) = plain C = qemu over a float sweep", async () => {
  const x = floatSweep(65521);
  const v = tensor(DType.float32, [x.length], x);
  await same(
    `Relu sweep (${x.length} values)`,
    assemble(compileGraph(decodeModel(encodeQModel({
      opType: "Relu",
      opset: 14,
      inputs: [inp("x", v)],
    })))),
    [v],
  );
});

Deno.test("simd: BatchNormalization (inference: 16 lanes natively; tails, special values) = plain C = qemu", async () => {
  const x = f32([2, 5, 7, 9], 10);
  (x.data as Float32Array).set([NaN, Infinity, -Infinity, -0, 0, 1e-40], 30);
  const c = (scale: number, lo = 0) =>
    tensor(DType.float32, [5], Array.from({ length: 5 }, () => Math.fround(lo + rng.next() * scale)));
  const prog = assemble(compileGraph(decodeModel(encodeQModel({
    opType: "BatchNormalization",
    opset: 15,
    inputs: [
      inp("x", x),
      inp("s", c(2, -1), true),
      inp("b", c(2, -1), true),
      inp("m", c(1), true),
      inp("v", c(2, 0.1), true),
    ],
  }))));
  await same("BatchNormalization [2, 5, 7, 9]", prog, [x]);
});
