/**
 * Model benchmarks (part of `deno task bench`): per model and thread count, the native runtime's
 * compute time against onnxruntime-node with the same number of intra-op threads, as a ratio;
 * compile time; VM instructions per inference of the MIPS image.
 *
 * The two engines' repetitions are **interleaved**: one native inference (a long-lived
 * `opml-runtime --repeat-stdin` process, timed inside it), then one onnxruntime inference
 * (in-process), then the other order, and so on. Each pair ran within a few milliseconds of each
 * other, so on a shared, loaded machine both see the same load and the ratio of a pair is
 * meaningful even when the absolute times are not; the median of the pairs' ratios and its
 * spread (quartiles) are reported.
 *
 *   deno run -A tasks/bench_models.ts [--threads 1,2] [--reps 100] [--only SUBSTRING] [--gpt2]
 *     [--torch] [--no-vm] [--ort-spin] [--json FILE]
 *   deno run -A tasks/bench_models.ts --states [--threads 1,2] [--reps 100] [--only SUBSTRING] [--gpt2]
 *     [--torch]
 *
 * onnxruntime's idle intra-op threads do not spin (session.intra_op.allow_spinning = 0): spinning,
 * they kept both cores busy during the native runtime's turns. `--ort-spin` keeps its default
 * spinning and takes the pairs in blocks of 5 runs per engine, each block's first run untimed.
 *
 * `--states` times phase-1 states instead: `opml-runtime --states` against a plain inference,
 * both native, in interleaved pairs (the ratio of each pair; issue 14's target is 2x).
 *
 * `--gpt2` adds the synthetic 124 M-parameter GPT-2 (tasks/gen_transformer.ts, 8 tokens; written
 * to build/models/ when missing; about 20 s to compile and 2 GiB of memory). `--torch` adds the
 * PyTorch models of build/torch-models at opset 17 (docs/MODELS.md; `deno task setup` makes them),
 * with fewer pairs for the big ones; in the VM only the small sequence models.
 * @module
 */
import {
  assemble,
  type AssembledProgram,
  buildRuntime,
  compileGraph,
  enableNativeKeys,
} from "../core/compiler/mod.ts";
import { bytesOf, openOrtSession, ortFeeds, runVm } from "../core/engine/mod.ts";
import { arrayFromBytes, decodeModel, decodeTensor } from "../core/onnx/mod.ts";
import { DType, type TensorValue } from "../core/ir/mod.ts";
import { DEFAULT_OUT as GPT2_FILE, genTransformer, GPT2_SMALL } from "./gen_transformer.ts";

import { SHARED_MODELS as MODELS } from "./_data.ts";
import { readTensor, readTorchModels, torchModelsDir } from "./torch_models.ts";

/** A benchmarked model. */
export interface ModelCase {
  name: string;
  file: string;
  shapes: Record<string, number[]>;
  input: () => TensorValue;
  inputName: string;
  /** Measure VM instructions per inference (skipped for models too slow for a bench run). */
  vm: boolean;
  /** Interleaved pairs unless --reps says (default 100). */
  reps?: number;
}

const f32 = (path: string, shape: number[]): TensorValue => ({
  dtype: DType.float32,
  shape,
  data: arrayFromBytes(DType.float32, Deno.readFileSync(path), shape.reduce((a, b) => a * b, 1)),
});

/** The benchmarked models and their inputs. */
export const CASES: ModelCase[] = [
  {
    name: "mnist-cnn",
    file: `${MODELS}mnist-cnn/mnist-12.onnx`,
    shapes: {},
    inputName: "Input3",
    input: () => f32(`${MODELS}mnist-cnn/test_data_set_0/input_Input3.bin`, [1, 1, 28, 28]),
    vm: true,
  },
  {
    name: "mnist-mlp (batch 1)",
    file: `${MODELS}mnist-mlp/mnist-mlp.onnx`,
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
    file: `${MODELS}stories260K-llama/stories260K.onnx`,
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
    file: `${MODELS}shufflenet-v2-int8/shufflenet-v2-12-int8.onnx`,
    shapes: {},
    inputName: "input",
    input: () => {
      const t = decodeTensor(Deno.readFileSync(`${MODELS}shufflenet-v2-int8/zoo_test_data_set_0/input_0.pb`));
      return { dtype: t.dtype, shape: t.shape, data: t.data };
    },
    vm: true,
  },
];

const GPT2_CASE: ModelCase = {
  name: "GPT-2 synthetic 124M (8 tokens)",
  file: GPT2_FILE,
  shapes: {},
  inputName: "input_ids",
  input: () => ({
    dtype: DType.int64,
    shape: [1, GPT2_SMALL.ctx],
    data: BigInt64Array.from({ length: GPT2_SMALL.ctx }, (_, i) => BigInt((i * 7919) % GPT2_SMALL.vocab)),
  }),
  vm: false,
};

/** The PyTorch models of build/torch-models at opset 17 (docs/MODELS.md), when generated. */
function torchCases(): ModelCase[] {
  const dir = torchModelsDir();
  return (readTorchModels(dir)?.models ?? []).filter((m) => m.files["17"]).map((m) => ({
    name: `torch ${m.name}`,
    file: dir + m.files["17"],
    shapes: {},
    inputName: m.inputs[0].name,
    input: () => readTensor(dir, m.inputs[0]),
    vm: m.kind === "sequence",
    reps: m.params > 20e6 ? 5 : 20,
  }));
}

/** One result row per model and thread count. */
export interface ModelBenchRow {
  model: string;
  threads: number;
  compileSeconds: number;
  /** Interleaved pairs measured. */
  reps: number;
  /** Medians of each engine's times (ms). */
  nativeMs: number;
  ortMs: number;
  /** Median of the pairs' ratios native / onnxruntime, and its quartiles. */
  ratio: number;
  ratioQ1: number;
  ratioQ3: number;
  vmSteps?: number;
  vmSeconds?: number;
  error?: string;
}

/** A long-lived `opml-runtime --repeat-stdin`: one timed inference per request. */
class NativeRepeater {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  #dir: string;

  constructor(
    runtime: string,
    prog: AssembledProgram,
    inputs: TensorValue[],
    threads: number,
    states = false,
  ) {
    this.#dir = Deno.makeTempDirSync({ prefix: "opml-bench-" });
    Deno.writeFileSync(`${this.#dir}/p.opir`, prog.bytes);
    Deno.writeFileSync(`${this.#dir}/w.bin`, prog.weights);
    const ins = inputs.map((x, i) => {
      Deno.writeFileSync(`${this.#dir}/in${i}.bin`, bytesOf(x));
      return `${this.#dir}/in${i}.bin`;
    });
    const args = [
      `${this.#dir}/p.opir`,
      `${this.#dir}/w.bin`,
      `${this.#dir}/out.bin`,
      ...ins,
      "--repeat-stdin",
    ];
    // always explicit: the runtime's default is every core, which made the 1-thread rows 2 threads
    args.push("--threads", String(threads));
    if (states) args.push("--states", `${this.#dir}/states.bin`);
    this.#child = new Deno.Command(runtime, { args, stdin: "piped", stdout: "piped", stderr: "inherit" })
      .spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** One inference's compute time in ms (measured inside the runtime, loading excluded). */
  async once(): Promise<number> {
    await this.#writer.write(new Uint8Array([10]));
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        const m = /^compute_ns (\d+)$/.exec(line);
        if (!m) throw new Error(`opml-runtime: unexpected output '${line}'`);
        return Number(m[1]) / 1e6;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("opml-runtime stopped");
      this.#buf += value;
    }
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#reader.cancel();
    await this.#child.status;
    Deno.removeSync(this.#dir, { recursive: true });
  }
}

function quantile(sorted: number[], q: number): number {
  const x = q * (sorted.length - 1), i = Math.floor(x);
  return i + 1 < sorted.length ? sorted[i] + (sorted[i + 1] - sorted[i]) * (x - i) : sorted[i];
}
const median = (v: number[]) => quantile([...v].sort((a, b) => a - b), 0.5);

/**
 * Times `reps` interleaved pairs (native, onnxruntime; the order alternates) after a warm-up of
 * each engine, with `threads` threads on both sides.
 */
async function interleaved(
  runtime: string,
  prog: AssembledProgram,
  c: ModelCase,
  x: TensorValue,
  threads: number,
  reps: number,
  spin = false,
): Promise<{ native: number[]; ort: number[] }> {
  const native = new NativeRepeater(runtime, prog, [x], threads);
  const { ort, session } = await openOrtSession(c.file, threads, { spin });
  try {
    const feeds = ortFeeds(ort, { [c.inputName]: x });
    const ortOnce = async () => {
      const t0 = performance.now();
      await session.run(feeds);
      return performance.now() - t0;
    };
    for (let i = 0; i < 3; i++) await native.once(), await ortOnce();
    const n: number[] = [], o: number[] = [];
    // with onnxruntime spinning (--ort-spin): blocks of 5 pairs' runs, each block's first run
    // untimed (the other engine's idle threads may still spin on the cores)
    const block = spin ? 5 : 1;
    for (let i = 0; i < reps; i += block) {
      const k = Math.min(block, reps - i);
      const nativeRuns = async () => {
        if (spin) await native.once();
        for (let j = 0; j < k; j++) n.push(await native.once());
      };
      const ortRuns = async () => {
        if (spin) await ortOnce();
        for (let j = 0; j < k; j++) o.push(await ortOnce());
      };
      if ((i / block) % 2) await ortRuns(), await nativeRuns();
      else await nativeRuns(), await ortRuns();
    }
    return { native: n, ort: o };
  } finally {
    await session.release();
    await native.close();
  }
}

/**
 * Phase-1 states against a plain inference (issue 14: at most 2x): two runtimes, one with
 * `--states`, timed in interleaved pairs like {@link interleaved} (the states file is written
 * at exit, so the timed runs are the inference with its hashing).
 */
async function statesPairs(
  runtime: string,
  prog: AssembledProgram,
  x: TensorValue,
  threads: number,
  reps: number,
): Promise<{ plain: number[]; states: number[] }> {
  const plain = new NativeRepeater(runtime, prog, [x], threads);
  const states = new NativeRepeater(runtime, prog, [x], threads, true);
  try {
    for (let i = 0; i < 3; i++) await plain.once(), await states.once();
    const p: number[] = [], s: number[] = [];
    for (let i = 0; i < reps; i++) {
      if (i % 2) s.push(await states.once()), p.push(await plain.once());
      else p.push(await plain.once()), s.push(await states.once());
    }
    return { plain: p, states: s };
  } finally {
    await plain.close();
    await states.close();
  }
}

/** One row of the `--states` benchmark. */
export interface StatesBenchRow {
  model: string;
  threads: number;
  reps: number;
  plainMs: number;
  statesMs: number;
  /** Median of the pairs' ratios states / plain, and its quartiles. */
  ratio: number;
  ratioQ1: number;
  ratioQ3: number;
}

/** Runs the `--states` benchmark on the models (same options as {@link benchModels}). */
export async function benchStates(opts: ModelBenchOptions = {}): Promise<StatesBenchRow[]> {
  const note = opts.note ?? console.error;
  const rt = await buildRuntime();
  enableNativeKeys();
  const rows: StatesBenchRow[] = [];
  for (const c of selectCases(opts, note)) {
    const prog = assemble(compileGraph(decodeModel(Deno.readFileSync(c.file), c.file), { shapes: c.shapes }));
    const reps = opts.reps ?? c.reps ?? (c === GPT2_CASE ? 15 : 100);
    for (const threads of opts.threads ?? [1]) {
      const t = await statesPairs(rt.native, prog, c.input(), threads, reps);
      const ratios = t.states.map((v, i) => v / t.plain[i]).sort((a, b) => a - b);
      const row: StatesBenchRow = {
        model: c.name,
        threads,
        reps,
        plainMs: median(t.plain),
        statesMs: median(t.states),
        ratio: quantile(ratios, 0.5),
        ratioQ1: quantile(ratios, 0.25),
        ratioQ3: quantile(ratios, 0.75),
      };
      note(
        `${c.name}, ${threads} thread(s): --states ${row.statesMs.toFixed(3)} ms, plain ${
          row.plainMs.toFixed(3)
        } ms`,
      );
      rows.push(row);
    }
  }
  return rows;
}

/** The Markdown table of {@link benchStates} rows. */
export function statesTable(rows: StatesBenchRow[]): string {
  return [
    "| model | threads | plain (median) | --states (median) | states / plain: median [quartiles] of pairs |",
    "|---|---:|---:|---:|---|",
    ...rows.map((r) =>
      `| ${r.model} | ${r.threads} | ${r.plainMs.toFixed(3)} ms | ${r.statesMs.toFixed(3)} ms | **${
        r.ratio.toFixed(2)
      }** [${r.ratioQ1.toFixed(2)}, ${r.ratioQ3.toFixed(2)}] |`
    ),
  ].join("\n");
}

/** Options of {@link benchModels}. */
export interface ModelBenchOptions {
  threads?: number[];
  reps?: number;
  only?: string;
  gpt2?: boolean;
  /** Add the PyTorch models of build/torch-models. */
  torch?: boolean;
  vm?: boolean;
  /** onnxruntime's idle threads spin (its default), the pairs then taken in blocks. */
  ortSpin?: boolean;
  note?: (m: string) => void;
}

/** The cases the options select (the GPT-2 model written to build/models when missing). */
function selectCases(opts: ModelBenchOptions, note: (m: string) => void): ModelCase[] {
  const cases = [...CASES, ...(opts.gpt2 ? [GPT2_CASE] : []), ...(opts.torch ? torchCases() : [])].filter((
    c,
  ) => !opts.only || c.name.includes(opts.only));
  if (cases.includes(GPT2_CASE)) {
    try {
      Deno.statSync(GPT2_FILE);
    } catch {
      note(`writing ${GPT2_FILE}`);
      Deno.mkdirSync(new URL(".", `file://${GPT2_FILE}`).pathname, { recursive: true });
      Deno.writeFileSync(GPT2_FILE, genTransformer(GPT2_SMALL));
    }
  }
  return cases;
}

/** Runs the model benchmarks. */
export async function benchModels(opts: ModelBenchOptions = {}): Promise<ModelBenchRow[]> {
  const note = opts.note ?? console.error;
  const rt = await buildRuntime();
  const image = Deno.readFileSync(rt.mips);
  const rows: ModelBenchRow[] = [];
  enableNativeKeys(); // the weights' data keys in C, as opml compile does
  for (const c of selectCases(opts, note)) {
    let prog: AssembledProgram, compileSeconds: number;
    const x = c.input();
    const reps = opts.reps ?? c.reps ?? (c === GPT2_CASE ? 15 : 100);
    try {
      const t0 = performance.now();
      prog = assemble(compileGraph(decodeModel(Deno.readFileSync(c.file), c.file), { shapes: c.shapes }));
      compileSeconds = (performance.now() - t0) / 1000;
    } catch (e) {
      note(`${c.name}: ${(e as Error).message}`);
      continue;
    }
    let vmSteps: number | undefined, vmSeconds: number | undefined;
    if (c.vm && opts.vm !== false) {
      const vm = runVm(image, prog, [x]);
      vmSteps = vm.steps, vmSeconds = vm.seconds;
      note(`${c.name}: VM ${(vm.steps / 1e6).toFixed(1)} M instructions in ${vm.seconds.toFixed(1)} s`);
    }
    for (const threads of opts.threads ?? [1]) {
      try {
        const t = await interleaved(rt.native, prog, c, x, threads, reps, opts.ortSpin);
        const ratios = t.native.map((v, i) => v / t.ort[i]).sort((a, b) => a - b);
        const row: ModelBenchRow = {
          model: c.name,
          threads,
          compileSeconds,
          reps,
          nativeMs: median(t.native),
          ortMs: median(t.ort),
          ratio: quantile(ratios, 0.5),
          ratioQ1: quantile(ratios, 0.25),
          ratioQ3: quantile(ratios, 0.75),
          vmSteps,
          vmSeconds,
        };
        note(
          `${c.name}, ${threads} thread(s): native ${row.nativeMs.toFixed(3)} ms, ort ${
            row.ortMs.toFixed(3)
          } ms, ` +
            `ratio ${row.ratio.toFixed(2)} [${row.ratioQ1.toFixed(2)}, ${row.ratioQ3.toFixed(2)}]`,
        );
        rows.push(row);
      } catch (e) {
        note(`${c.name}: ${(e as Error).message}`);
        rows.push({
          model: c.name,
          threads,
          compileSeconds,
          reps,
          nativeMs: NaN,
          ortMs: NaN,
          ratio: NaN,
          ratioQ1: NaN,
          ratioQ3: NaN,
          error: (e as Error).message,
        });
      }
    }
  }
  return rows;
}

/** The Markdown table of {@link benchModels} rows. */
export function modelTable(rows: ModelBenchRow[]): string {
  return [
    "| model | threads | compile | native (median) | onnxruntime (median) | native / ort: median [quartiles] of pairs | VM instructions / inference |",
    "|---|---:|---:|---:|---:|---|---:|",
    ...rows.map((r) =>
      r.error
        ? `| ${r.model} | ${r.threads} | failed: ${r.error} | | | | |`
        : `| ${r.model} | ${r.threads} | ${r.compileSeconds.toFixed(2)} s | ${r.nativeMs.toFixed(3)} ms | ${
          r.ortMs.toFixed(3)
        } ms | **${r.ratio.toFixed(2)}** [${r.ratioQ1.toFixed(2)}, ${r.ratioQ3.toFixed(2)}] | ${
          r.vmSteps ? `${(r.vmSteps / 1e6).toFixed(1)} M` : "-"
        } |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const args = [...Deno.args];
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const threads = (opt("--threads") ?? "1").split(",").map(Number);
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error("--threads: a list like 1,2");
  const reps = opt("--reps") ? Number(opt("--reps")) : undefined;
  if (args.includes("--states")) {
    console.log(statesTable(
      await benchStates({
        threads,
        reps,
        only: opt("--only"),
        gpt2: args.includes("--gpt2"),
        torch: args.includes("--torch"),
      }),
    ));
    Deno.exit(0);
  }
  const rows = await benchModels({
    threads,
    reps,
    only: opt("--only"),
    gpt2: args.includes("--gpt2"),
    torch: args.includes("--torch"),
    vm: !args.includes("--no-vm"),
    ortSpin: args.includes("--ort-spin"),
  });
  console.log(modelTable(rows));
  const json = opt("--json");
  if (json) Deno.writeTextFileSync(json, JSON.stringify(rows, null, 2));
}
