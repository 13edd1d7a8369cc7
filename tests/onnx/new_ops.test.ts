/**
 * The vision, norm, sequence and spectral operators under bad input: each unsupported node is
 * one LoweringError line naming the node, the operator and the opset (exit code 2), raised
 * before anything is built; and a supported shape the conformance cases do not cover
 * (RMSNormalization's scale of a trailing axis; bidirectional LSTM and GRU with bias) against
 * binary64 references.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph, LoweringError } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType } from "../../core/ir/mod.ts";
import { decodeModel } from "../../core/onnx/mod.ts";
import { EXIT } from "../../core/errors.ts";
import { makeModel, type NodeSpec } from "./_make_model.ts";

function rejection(
  node: NodeSpec,
  inputs: Record<string, number[]>,
  opset: number,
  initializers: Record<string, { shape: number[]; data: number[] }> = {},
): LoweringError {
  const model = makeModel({
    nodes: [node],
    inputs,
    outputs: Object.fromEntries(node.outputs.filter(Boolean).map((o) => [o, [1]])),
    opset,
    initializers,
  });
  try {
    compileGraph(decodeModel(model, "bad.onnx"), {});
  } catch (e) {
    assert(e instanceof LoweringError, `expected a LoweringError, got ${e}`);
    return e;
  }
  throw new Error("the model compiled");
}

const cases: [string, () => LoweringError, string][] = [
  [
    "Resize with scales known only at run time",
    () =>
      rejection({ op: "Resize", inputs: ["x", "", "s"], outputs: ["y"] }, { x: [1, 1, 2, 2], s: [4] }, 19),
    "node 'n0' (Resize, opset 19): input 'scales' must be known at compile time",
  ],
  [
    "Resize whose scales do not match the rank",
    () =>
      rejection({ op: "Resize", inputs: ["x", "", "s"], outputs: ["y"] }, { x: [1, 1, 2, 2] }, 19, {
        s: { shape: [2], data: [2, 2] },
      }),
    "node 'n0' (Resize, opset 19): scales has 2 values, expected 4",
  ],
  [
    "ConvTranspose with a group that does not divide the channels",
    () =>
      rejection({ op: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attrs: { group: 2 } }, {
        x: [1, 3, 4, 4],
        w: [3, 1, 3, 3],
      }, 22),
    "node 'n0' (ConvTranspose, opset 22): group 2 does not fit X [1,3,4,4] and W [3,1,3,3]",
  ],
  [
    "RMSNormalization whose scale broadcasts inside the normalised axes",
    () =>
      rejection({ op: "RMSNormalization", inputs: ["x", "s"], outputs: ["y"], attrs: { axis: 1 } }, {
        x: [2, 3, 4],
        s: [3, 1],
      }, 23),
    "node 'n0' (RMSNormalization, opset 23): scale [3,1] must be the normalised shape [3,4] or a trailing part of it",
  ],
  [
    "LpNormalization with p = 3",
    () =>
      rejection({ op: "LpNormalization", inputs: ["x"], outputs: ["y"], attrs: { p: 3 } }, { x: [2, 3] }, 22),
    "node 'n0' (LpNormalization, opset 22): p 3 must be 1 or 2",
  ],
  [
    "Attention with query heads not a multiple of the key heads",
    () =>
      rejection({ op: "Attention", inputs: ["q", "k", "v"], outputs: ["y"] }, {
        q: [1, 3, 4, 8],
        k: [1, 2, 4, 8],
        v: [1, 2, 4, 8],
      }, 23),
    "node 'n0' (Attention, opset 23): 3 query heads are not a multiple of 2 key/value heads",
  ],
  [
    "LSTM with input_forget",
    () =>
      rejection({
        op: "LSTM",
        inputs: ["x", "w", "r"],
        outputs: ["y"],
        attrs: { hidden_size: 2, input_forget: 1 },
      }, {
        x: [3, 1, 2],
        w: [1, 8, 2],
        r: [1, 8, 2],
      }, 22),
    "node 'n0' (LSTM, opset 22): input_forget=1 is not supported",
  ],
  [
    "a onesided DFT of a complex signal",
    () =>
      rejection({ op: "DFT", inputs: ["x"], outputs: ["y"], attrs: { onesided: 1 } }, { x: [1, 8, 2] }, 19),
    "node 'n0' (DFT, opset 19): a onesided transform needs a real input",
  ],
];

for (const [what, run, message] of cases) {
  Deno.test(`lowering errors: ${what}`, () => {
    const e = run();
    assertEquals(e.message, message);
    assertEquals(e.exitCode, EXIT.usage);
    assert(!e.message.includes("\n"), "one line");
  });
}

Deno.test("RMSNormalization: a scale of the trailing normalised axis only, against a binary64 reference", async () => {
  const x = Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(i + 1) * 3));
  const scale = [0.5, -1.25, 2, 0.75];
  const model = makeModel({
    nodes: [{ op: "RMSNormalization", inputs: ["x", "s"], outputs: ["y"], attrs: { axis: 1 } }],
    inputs: { x: [2, 3, 4] },
    outputs: { y: [2, 3, 4] },
    opset: 23,
    initializers: { s: { shape: [4], data: scale } },
  });
  const prog = assemble(compileGraph(decodeModel(model, "rms.onnx"), {}));
  const rt = await buildRuntime();
  const { outputs } = await runNative(rt.native, prog, [{
    dtype: DType.float32,
    shape: [2, 3, 4],
    data: new Float32Array(x),
  }]);
  for (let row = 0; row < 2; row++) {
    const xs = x.slice(row * 12, row * 12 + 12);
    const r = 1 / Math.sqrt(xs.reduce((a, v) => a + v * v, 0) / 12 + 1e-5);
    xs.forEach((v, k) => {
      const want = v * r * scale[k % 4], got = outputs[0].data[row * 12 + k] as number;
      assert(
        Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-6,
        `y[${row * 12 + k}] ${got}, expected ${want}`,
      );
    });
  }
});

/** Deterministic pseudo-random float32 values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.fround(s / 1073741824 - 1);
  });
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * The ONNX equations of a bidirectional LSTM or GRU (layout 0, zero initial state unless given),
 * in binary64: Y [S, 2, B, H] and Y_h [2, B, H].
 */
function recurrentReference(
  kind: "LSTM" | "GRU",
  x: number[],
  w: number[],
  r: number[],
  b: number[],
  S: number,
  B: number,
  I: number,
  H: number,
  lbr: boolean,
): { y: number[]; yh: number[] } {
  const G = kind === "LSTM" ? 4 : 3;
  const y = new Array<number>(S * 2 * B * H).fill(0), yh = new Array<number>(2 * B * H).fill(0);
  for (let d = 0; d < 2; d++) {
    for (let bt = 0; bt < B; bt++) {
      let h = new Array<number>(H).fill(0);
      const c = new Array<number>(H).fill(0);
      for (let step = 0; step < S; step++) {
        const t = d === 1 ? S - 1 - step : step;
        const xt = x.slice((t * B + bt) * I, (t * B + bt + 1) * I);
        const gate = (j: number, hv: number[]) => {
          let a = b[d * 2 * G * H + j] + b[d * 2 * G * H + G * H + j];
          for (let i = 0; i < I; i++) a += xt[i] * w[(d * G * H + j) * I + i];
          for (let k = 0; k < H; k++) a += hv[k] * r[(d * G * H + j) * H + k];
          return a;
        };
        const hn = new Array<number>(H);
        for (let k = 0; k < H; k++) {
          if (kind === "LSTM") {
            const i = sigmoid(gate(k, h)), o = sigmoid(gate(H + k, h)), f = sigmoid(gate(2 * H + k, h));
            const cc = Math.tanh(gate(3 * H + k, h));
            c[k] = f * c[k] + i * cc;
            hn[k] = o * Math.tanh(c[k]);
          } else {
            const z = sigmoid(gate(k, h)), rr = sigmoid(gate(H + k, h));
            const j = 2 * H + k, wb = b[d * 2 * G * H + j], rb = b[d * 2 * G * H + G * H + j];
            let xw = 0, hr = 0;
            for (let i = 0; i < I; i++) xw += xt[i] * w[(d * G * H + j) * I + i];
            if (lbr) {
              for (let m = 0; m < H; m++) hr += h[m] * r[(d * G * H + j) * H + m];
              hn[k] = (1 - z) * Math.tanh(xw + rr * (hr + rb) + wb) + z * h[k];
            } else {
              // r is per element of the previous state (the ONNX equation's rt (.) Ht-1)
              const rv = Array.from({ length: H }, (_, m) => sigmoid(gate(H + m, h)));
              for (let m = 0; m < H; m++) hr += rv[m] * h[m] * r[(d * G * H + j) * H + m];
              hn[k] = (1 - z) * Math.tanh(xw + hr + rb + wb) + z * h[k];
            }
          }
        }
        h = hn;
        for (let k = 0; k < H; k++) y[((t * 2 + d) * B + bt) * H + k] = h[k];
      }
      for (let k = 0; k < H; k++) yh[(d * B + bt) * H + k] = h[k];
    }
  }
  return { y, yh };
}

for (const [kind, lbr] of [["LSTM", false], ["GRU", false], ["GRU", true]] as const) {
  Deno.test(`${kind}${lbr ? " (linear_before_reset)" : ""}: bidirectional with bias against a binary64 reference`, async () => {
    const S = 4, B = 2, I = 3, H = 3, G = kind === "LSTM" ? 4 : 3;
    const x = values(S * B * I, 1), w = values(2 * G * H * I, 2), r = values(2 * G * H * H, 3);
    const b = values(2 * 2 * G * H, 4);
    const model = makeModel({
      nodes: [{
        op: kind,
        inputs: ["x", "w", "r", "b"],
        outputs: ["y", "yh"],
        attrs: { hidden_size: H, direction: "bidirectional", ...(lbr ? { linear_before_reset: 1 } : {}) },
      }],
      inputs: { x: [S, B, I] },
      outputs: { y: [S, 2, B, H], yh: [2, B, H] },
      opset: 22,
      initializers: {
        w: { shape: [2, G * H, I], data: w },
        r: { shape: [2, G * H, H], data: r },
        b: { shape: [2, 2 * G * H], data: b },
      },
    });
    const prog = assemble(compileGraph(decodeModel(model, "rnn.onnx"), {}));
    const rt = await buildRuntime();
    const { outputs } = await runNative(rt.native, prog, [
      { dtype: DType.float32, shape: [S, B, I], data: new Float32Array(x) },
    ]);
    const want = recurrentReference(kind, x, w, r, b, S, B, I, H, lbr);
    for (const [got, exp, what] of [[outputs[0], want.y, "Y"], [outputs[1], want.yh, "Y_h"]] as const) {
      exp.forEach((e, i) => {
        const g = got.data[i] as number;
        assert(Math.abs(g - e) <= 1e-5 * Math.abs(e) + 1e-5, `${what}[${i}] ${g}, expected ${e}`);
      });
    }
  });
}

Deno.test("GlobalLpPool (p = 3, no conformance case) against a binary64 reference", async () => {
  const x = values(2 * 3 * 4 * 5, 9);
  const model = makeModel({
    nodes: [{ op: "GlobalLpPool", inputs: ["x"], outputs: ["y"], attrs: { p: 3 } }],
    inputs: { x: [2, 3, 4, 5] },
    outputs: { y: [2, 3, 1, 1] },
    opset: 22,
  });
  const prog = assemble(compileGraph(decodeModel(model, "glp.onnx"), {}));
  const rt = await buildRuntime();
  const { outputs } = await runNative(rt.native, prog, [
    { dtype: DType.float32, shape: [2, 3, 4, 5], data: new Float32Array(x) },
  ]);
  assertEquals(outputs[0].shape, [2, 3, 1, 1]);
  for (let c = 0; c < 6; c++) {
    const want = Math.cbrt(x.slice(c * 20, c * 20 + 20).reduce((a, v) => a + Math.abs(v) ** 3, 0));
    const got = outputs[0].data[c] as number;
    assert(Math.abs(got - want) <= 1e-5 * want, `y[${c}] ${got}, expected ${want}`);
  }
});
