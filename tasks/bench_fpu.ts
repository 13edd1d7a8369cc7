/**
 * The VM's FPU against soft-float, side by side in one run (docs/BENCHMARKS.md, section 2):
 * VM steps per float multiply-accumulate in the MatMul, Gemm and Conv kernels, and VM steps per
 * inference of each model, with the runtime's MIPS image built for the VM's FPU (the default)
 * and with soft-float (`buildRuntime({ softFloat: true })`: every float operation in
 * softfloat.c, as before issue 13). Both images' outputs are checked byte for byte against the native build.
 *
 *   deno run -A tasks/bench_fpu.ts
 *
 * Steps per MAC are differences between two sizes of one operator (so the fixed cost of a run
 * cancels out): (steps(large) - steps(small)) / (MACs(large) - MACs(small)). Growing the shared
 * dimension n grows the weights with the MACs, so those figures include loading the weights
 * through the preimage oracle (a read step fills a 32-byte leaf, fd 7 in the VM's word order:
 * about 1 step per float, once per MAC in a one-row product); growing the rows m keeps the
 * weights and measures the product kernel on data in memory (plus reading the extra row of A).
 * The elementwise math rows are steps per element (the "MAC" column), output I/O included.
 * @module
 */
import { assemble, buildRuntime, compileGraph, type RuntimeBuild } from "../core/compiler/mod.ts";
import { runNative, runVm } from "../core/engine/mod.ts";
import { decodeModel } from "../core/onnx/mod.ts";
import { DType, type TensorValue } from "../core/ir/mod.ts";
import { makeModel } from "../tests/onnx/_make_model.ts";
import { CASES } from "./bench_models.ts";

type Program = ReturnType<typeof assemble>;

function program(onnx: Uint8Array, shapes: Record<string, number[]> = {}): Program {
  return assemble(compileGraph(decodeModel(onnx, "bench"), { shapes }));
}

function floats(shape: number[], seed: number): TensorValue {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    dtype: DType.float32,
    shape,
    data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed)),
  };
}

/** VM steps of one inference; throws unless the VM's outputs equal the native build's. */
async function steps(rt: RuntimeBuild, prog: Program, inputs: TensorValue[], label: string): Promise<number> {
  const native = (await runNative(rt.native, prog, inputs)).outputs;
  const vm = runVm(Deno.readFileSync(rt.mips), prog, inputs);
  vm.outputs.forEach((o, i) => {
    const a = new Uint8Array(o.data.buffer, o.data.byteOffset, o.data.byteLength);
    const b = new Uint8Array(native[i].data.buffer, native[i].data.byteOffset, native[i].data.byteLength);
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) {
      throw new Error(`${label}: VM output ${i} differs from native`);
    }
  });
  return vm.steps;
}

interface OpCase {
  name: string;
  /** the model and inputs of size parameter n, and its MACs */
  make: (n: number) => { onnx: Uint8Array; inputs: TensorValue[]; macs: number };
  sizes: [number, number];
}

const matmul = (m: number, n: number) => ({
  onnx: makeModel({
    nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
    inputs: { a: [m, n], b: [n, 64] },
    outputs: { y: [m, 64] },
  }),
  inputs: [floats([m, n], 1), floats([n, 64], 2)],
  macs: m * n * 64,
});

const gemm = (m: number, n: number) => ({
  onnx: makeModel({
    nodes: [{ op: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"] }],
    inputs: { a: [m, n], b: [n, 32], c: [32] },
    outputs: { y: [m, 32] },
  }),
  inputs: [floats([m, n], 3), floats([n, 32], 4), floats([32], 5)],
  macs: m * n * 32,
});

const OPS: OpCase[] = [
  {
    name: "MatMul [1 x n] x [n x 64], n = 64 -> 256 (with loading B)",
    sizes: [64, 256],
    make: (n) => matmul(1, n),
  },
  {
    name: "MatMul [m x 256] x [256 x 64], m = 1 -> 2 (B in memory)",
    sizes: [1, 2],
    make: (m) => matmul(m, 256),
  },
  {
    name: "Gemm [8 x n] x [n x 32] + bias, n = 64 -> 256 (with loading B)",
    sizes: [64, 256],
    make: (n) => gemm(8, n),
  },
  {
    name: "Gemm [m x 256] x [256 x 32] + bias, m = 6 -> 12 (B in memory)",
    sizes: [6, 12],
    make: (m) => gemm(m, 256),
  },
  {
    name: "Conv 3x3, n = 4 -> 16 input channels, 8 output channels, 12x12",
    sizes: [4, 16],
    make: (n) => ({
      onnx: makeModel({
        nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"], attrs: { kernel_shape: [3, 3] } }],
        inputs: { x: [1, n, 12, 12], w: [8, n, 3, 3] },
        outputs: { y: [1, 8, 10, 10] },
      }),
      inputs: [floats([1, n, 12, 12], 6), floats([8, n, 3, 3], 7)],
      macs: 8 * 10 * 10 * n * 9,
    }),
  },
  {
    // the kernel grows, the output (and its I/O) does not
    name: "depthwise Conv k x k, k = 3 -> 5, 32 channels, 28x28, same padding",
    sizes: [3, 5],
    make: (k) => ({
      onnx: makeModel({
        nodes: [{
          op: "Conv",
          inputs: ["x", "w"],
          outputs: ["y"],
          attrs: { kernel_shape: [k, k], group: 32, pads: Array(4).fill((k - 1) / 2) },
        }],
        inputs: { x: [1, 32, 28, 28], w: [32, 1, k, k] },
        outputs: { y: [1, 32, 28, 28] },
      }),
      inputs: [floats([1, 32, 28, 28], 8), floats([32, 1, k, k], 9)],
      macs: 32 * 28 * 28 * k * k,
    }),
  },
];

/** Elementwise math (per element; the output's I/O, about 47 steps per float, included). */
const UNARY = ["Relu", "Exp", "Sigmoid", "Tanh", "Erf", "Log"].map((op): OpCase => ({
  name: `${op} [n x 28 x 28], n = 8 -> 32 (per element, with its I/O)`,
  sizes: [8, 32],
  make: (n) => ({
    onnx: makeModel({
      nodes: [{ op, inputs: ["x"], outputs: ["y"] }],
      inputs: { x: [n, 28, 28] },
      outputs: { y: [n, 28, 28] },
    }),
    inputs: [floats([n, 28, 28], 10)],
    macs: n * 28 * 28,
  }),
}));

const fmt = (x: number, d = 1) =>
  x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const mega = (x: number) => `${fmt(x / 1e6)} M`;

async function main(): Promise<void> {
  const hard = await buildRuntime();
  const soft = await buildRuntime({ softFloat: true });
  const lines: string[] = [];
  lines.push(
    "| kernel | VM steps per float MAC, soft-float | with the FPU | ratio |",
    "|---|---:|---:|---:|",
  );
  for (const op of [...OPS, ...UNARY]) {
    const [s, l] = op.sizes.map((n) => op.make(n));
    const per = async (rt: RuntimeBuild) => {
      const a = await steps(rt, program(s.onnx), s.inputs, op.name);
      const b = await steps(rt, program(l.onnx), l.inputs, op.name);
      return (b - a) / (l.macs - s.macs);
    };
    const ps = await per(soft), ph = await per(hard);
    lines.push(`| ${op.name} | ${fmt(ps)} | ${fmt(ph)} | ${fmt(ps / ph)}x |`);
    console.error(`bench_fpu: ${op.name}: ${fmt(ps)} -> ${fmt(ph)} steps per MAC`);
  }
  lines.push(
    "",
    "| model | VM steps / inference, soft-float | with the FPU | ratio |",
    "|---|---:|---:|---:|",
  );
  for (const c of CASES) {
    const prog = program(
      Deno.readFileSync(c.file),
      c.shapes,
    );
    const x = c.input();
    const ss = await steps(soft, prog, [x], c.name), sh = await steps(hard, prog, [x], c.name);
    lines.push(`| ${c.name} | ${mega(ss)} | ${mega(sh)} | ${fmt(ss / sh)}x |`);
    console.error(`bench_fpu: ${c.name}: ${mega(ss)} -> ${mega(sh)} steps`);
  }
  console.log(lines.join("\n"));
}

if (import.meta.main) await main();
