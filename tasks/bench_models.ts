/**
 * Model benchmarks (part of `deno task bench`): per model, native inference compute time
 * against onnxruntime-node with one thread in the same run (ratio), compile time, and VM
 * instructions per inference of the MIPS image. Runs standalone too:
 * `deno run -A tasks/bench_models.ts`.
 * @module
 */
import { assemble, buildRuntime, compileGraph } from "../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../core/engine/mod.ts";
import { decodeModel, decodeTensor } from "../core/onnx/mod.ts";
import { DType, type TensorValue } from "../core/ir/mod.ts";
import { arrayFromBytes } from "../core/onnx/mod.ts";

import { SHARED_MODELS as MODELS } from "./_data.ts";

interface ModelCase {
  name: string;
  file: string;
  shapes: Record<string, number[]>;
  input: () => TensorValue;
  inputName: string;
  /** Measure VM instructions per inference (skipped for models too slow for a bench run). */
  vm: boolean;
}

const f32 = (path: string, shape: number[]): TensorValue => ({
  dtype: DType.float32,
  shape,
  data: arrayFromBytes(DType.float32, Deno.readFileSync(path), shape.reduce((a, b) => a * b, 1)),
});

const CASES: ModelCase[] = [
  {
    name: "mnist-cnn",
    file: "mnist-cnn/mnist-12.onnx",
    shapes: {},
    inputName: "Input3",
    input: () => f32(`${MODELS}mnist-cnn/test_data_set_0/input_Input3.bin`, [1, 1, 28, 28]),
    vm: true,
  },
  {
    name: "mnist-mlp (batch 1)",
    file: "mnist-mlp/mnist-mlp.onnx",
    shapes: { batch: [1] },
    inputName: "input",
    input: () => {
      const x = f32(`${MODELS}mnist-mlp/test_data_set_0/input_input.bin`, [8, 784]);
      return { ...x, shape: [1, 784], data: x.data.slice(0, 784) };
    },
    vm: true,
  },
  {
    name: "stories260K (49 tokens)",
    file: "stories260K-llama/stories260K.onnx",
    shapes: { seq: [49] },
    inputName: "tokens",
    input: () => ({
      dtype: DType.int64,
      shape: [1, 49],
      data: arrayFromBytes(
        DType.int64,
        Deno.readFileSync(`${MODELS}stories260K-llama/test_data_set_0/input_tokens.bin`),
        49,
      ),
    }),
    vm: true,
  },
  {
    name: "shufflenet-v2-int8",
    file: "shufflenet-v2-int8/shufflenet-v2-12-int8.onnx",
    shapes: {},
    inputName: "input",
    input: () => {
      const t = decodeTensor(Deno.readFileSync(`${MODELS}shufflenet-v2-int8/zoo_test_data_set_0/input_0.pb`));
      return { dtype: t.dtype, shape: t.shape, data: t.data };
    },
    vm: true,
  },
];

/** One result row per model. */
export interface ModelBenchRow {
  model: string;
  compileSeconds: number;
  nativeMs: number;
  ortMs: number;
  ratio: number;
  vmSteps?: number;
  vmSeconds?: number;
  error?: string;
}

/** Runs the model benchmarks; `note` receives progress lines. */
export async function benchModels(note: (m: string) => void = console.error): Promise<ModelBenchRow[]> {
  const rt = await buildRuntime();
  const image = Deno.readFileSync(rt.mips);
  const rows: ModelBenchRow[] = [];
  for (const c of CASES) {
    try {
      const t0 = performance.now();
      const prog = assemble(
        compileGraph(decodeModel(Deno.readFileSync(MODELS + c.file), c.file), { shapes: c.shapes }),
      );
      const compileSeconds = (performance.now() - t0) / 1000;
      const x = c.input();
      const repeat = 200;
      const native = await runNative(rt.native, prog, [x], { repeat });
      const ort = await runOrt(MODELS + c.file, { [c.inputName]: x }, { threads: 1, repeat });
      const nativeMs = native.computeNs! / 1e6;
      const row: ModelBenchRow = {
        model: c.name,
        compileSeconds,
        nativeMs,
        ortMs: ort.medianMs!,
        ratio: nativeMs / ort.medianMs!,
      };
      note(
        `${c.name}: compile ${compileSeconds.toFixed(2)} s, native ${nativeMs.toFixed(3)} ms, ort ${
          ort.medianMs!.toFixed(3)
        } ms`,
      );
      if (c.vm) {
        const vm = runVm(image, prog, [x]);
        row.vmSteps = vm.steps;
        row.vmSeconds = vm.seconds;
        note(`${c.name}: VM ${(vm.steps / 1e6).toFixed(1)} M instructions in ${vm.seconds.toFixed(1)} s`);
      }
      rows.push(row);
    } catch (e) {
      note(`${c.name}: ${(e as Error).message}`);
      rows.push({
        model: c.name,
        compileSeconds: NaN,
        nativeMs: NaN,
        ortMs: NaN,
        ratio: NaN,
        error: (e as Error).message,
      });
    }
  }
  return rows;
}

/** The Markdown table of {@link benchModels} rows. */
export function modelTable(rows: ModelBenchRow[]): string {
  return [
    "| model | compile | native compute / inference | onnxruntime (1 thread) | native / ort | VM instructions / inference |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) =>
      r.error
        ? `| ${r.model} | failed: ${r.error} | | | | |`
        : `| ${r.model} | ${r.compileSeconds.toFixed(2)} s | ${r.nativeMs.toFixed(3)} ms | ${
          r.ortMs.toFixed(3)
        } ms | ${r.ratio.toFixed(2)} | ${
          r.vmSteps ? `${(r.vmSteps / 1e6).toFixed(1)} M (${r.vmSeconds!.toFixed(1)} s)` : "-"
        } |`
    ),
  ].join("\n");
}

if (import.meta.main) console.log(modelTable(await benchModels()));
