/**
 * Dispute benchmark (part of `deno task bench`; docs/BENCHMARKS.md section 4): for mnist-cnn,
 * stories260K and the synthetic 100 M-parameter transformer (tasks/gen_transformer.ts), the wall
 * time and peak memory of a whole offline dispute, from two differing result claims (an honest
 * party and one with `--tamper node=K`, K a middle node and the most expensive node) to the
 * one-step proof (its post-state the honest one): both parties' phase-1 commitments (`opml
 * roots`, in parallel), then `opml challenge --prove` with the dishonest party answering through
 * `--theirs-cmd` (the challenge writes the step's proof from its own check's checkpoints: no
 * separate `opml prove --dispute` rerun), each as the user runs it. Multi-phase against
 * single-phase (`--single-phase`: the whole model's check).
 *
 * Peak memory is VmHWM (/proc/<pid>/status) of every process involved, polled every 100 ms
 * (the dishonest party's `--serve` process included), and of this process. The VM memory of
 * the most expensive node's check (pages touched) is measured in-process afterwards.
 *
 * The 100 M model's single-phase dispute is not run: its checkpointed check would not fit in
 * memory or in hours. Its exact step count comes from one plain VM run of the whole model's
 * check (no checkpoints), its rate from a fixed budget of a checkpointed run, and the dispute
 * time is extrapolated from them (one full checked run: the challenge's, with the defender's in
 * parallel; the proof comes from its checkpoints); `--quick` skips the exact count.
 *
 *   deno run -A tasks/bench_dispute.ts [--models mnist-cnn,stories260K,gpt2] [--quick] [--costly]
 *
 * `--costly`: only the most expensive node's multi-phase dispute of each model (no middle node,
 * no single-phase, no in-process figures).
 *
 * (-A: Deno grants reading /proc/<pid>/status and /proc/cpuinfo only with all permissions.)
 * @module
 */
import { buildRuntime, loadModelDir, type ModelDir } from "../core/compiler/mod.ts";
import {
  checkerPreimages,
  checkerSource,
  nativeCheckerData,
  parseInputFile,
  runCheck,
  runNative,
} from "../core/engine/mod.ts";
import type { IrNode, Program, TensorValue } from "../core/ir/mod.ts";
import { dtypeSize, shapeSize } from "../core/ir/mod.ts";
import { loadElf, PreimageOracle, Trace } from "../core/vm/mod.ts";
import { DEFAULT_OUT as GPT2_ONNX, genTransformer, GPT2_SMALL } from "./gen_transformer.ts";
import { SHARED_MODELS as MODELS } from "./_data.ts";

const root = new URL("../", import.meta.url).pathname;
const OUT = `${root}build/bench/dispute`;
const DENO_ARGS = ["run", "--allow-read", "--allow-write", "--allow-run", "--allow-env", "--allow-ffi"];
const OPML = ["deno", ...DENO_ARGS, `${root}cli/main.ts`];
const ARITY = 8;

// ---------------------------------------------------------------------------------------------
// peak memory of every process involved

/** Peak resident memory (VmHWM) of each process seen under this one, polled. */
class PeakMemory {
  peaks = new Map<number, { cmd: string; kib: number }>();
  #timer?: ReturnType<typeof setInterval>;

  start(): void {
    this.peaks = new Map();
    this.#timer = setInterval(() => this.poll(), 100);
  }

  stop(): void {
    this.poll();
    clearInterval(this.#timer);
  }

  /** Largest peak among processes whose command line matches `re` (MiB). */
  max(re: RegExp = /./): number {
    let m = 0;
    for (const p of this.peaks.values()) if (re.test(p.cmd)) m = Math.max(m, p.kib);
    return m / 1024;
  }

  poll(): void {
    const parent = new Map<number, number>();
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
        parent.set(Number(e.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch { /* exited */ }
    }
    const mine = (pid: number) => {
      for (let p = pid, n = 0; p > 1 && n < 64; p = parent.get(p) ?? 0, n++) if (p === Deno.pid) return true;
      return false;
    };
    for (const pid of parent.keys()) {
      if (pid === Deno.pid || !mine(pid)) continue;
      try {
        const m = /VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
        if (!m) continue;
        const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
        const prev = this.peaks.get(pid);
        if (!prev || Number(m[1]) > prev.kib) this.peaks.set(pid, { cmd, kib: Number(m[1]) });
      } catch { /* exited */ }
    }
  }
}

function selfPeakMiB(): number {
  const m = /VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) / 1024 : 0;
}

// ---------------------------------------------------------------------------------------------
// running opml

async function opml(args: string[], what: string): Promise<{ stdout: string; seconds: number }> {
  const t0 = performance.now();
  const r = await new Deno.Command(OPML[0], {
    args: [...OPML.slice(1), ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const seconds = (performance.now() - t0) / 1000;
  const dec = new TextDecoder();
  if (r.code !== 0) {
    throw new Error(`${what}: opml ${args.join(" ")} exited ${r.code}: ${dec.decode(r.stderr).trim()}`);
  }
  return { stdout: dec.decode(r.stdout), seconds };
}

const shell = (args: string[]) => args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");

// ---------------------------------------------------------------------------------------------
// models

interface BenchModel {
  name: string;
  dir: string;
  input: string;
  compileSeconds: number;
  compilePeakMiB: number;
  weightsBytes: number;
  /** Inputs for in-process runs. */
  values: TensorValue[];
  model: ModelDir;
}

async function compile(
  name: string,
  onnx: string,
  extra: string[],
  input: string,
  mem: PeakMemory,
): Promise<BenchModel> {
  const dir = `${OUT}/${name}`;
  mem.start();
  const { seconds } = await opml(["compile", onnx, "-o", dir, "--no-fidelity", ...extra], `compile ${name}`);
  mem.stop();
  const model = loadModelDir(dir);
  const p = model.prog.program;
  const wanted = p.inputs.map((i) => p.tensors[i]);
  const values = Object.values(parseInputFile(input, Deno.readFileSync(input), wanted, {}));
  return {
    name,
    dir,
    input,
    compileSeconds: seconds,
    compilePeakMiB: mem.max(),
    weightsBytes: model.prog.weights.length,
    values,
    model,
  };
}

/** Multiply-accumulates (or elements touched) of a node: picks the most expensive node. */
function nodeCost(p: Program, nd: IrNode): number {
  const n = (i: number) => Number(nd.ints[i] ?? 0n);
  const out = shapeSize(p.tensors[nd.outputs[0]].shape);
  switch (nd.op) {
    case 100: { // MatMul: [M, N, K, nb, dims...]
      let batch = 1;
      for (let i = 0; i < n(3); i++) batch *= n(4 + i);
      return n(0) * n(1) * n(2) * batch;
    }
    case 101: // Gemm: [M, N, K, ...]
      return n(0) * n(1) * n(2);
    case 102: // Conv: output elements x C/group x kernel
      return out * (n(1) / n(3)) * n(10) * n(11) * n(12);
    default:
      return out +
        nd.inputs.reduce<number>((s, i) => s + (i === null ? 0 : shapeSize(p.tensors[i].shape)), 0);
  }
}

function tensorBytes(p: Program, i: number): number {
  return shapeSize(p.tensors[i].shape) * dtypeSize(p.tensors[i].dtype);
}

function readValues(m: BenchModel, input: string): TensorValue[] {
  const p = m.model.prog.program;
  const wanted = p.inputs.map((i) => p.tensors[i]);
  return Object.values(parseInputFile(input, Deno.readFileSync(input), wanted, {}));
}

/** Whether `--tamper node=k` changes the result on an input. */
async function changesResult(m: BenchModel, k: number, values: TensorValue[]): Promise<boolean> {
  const files = { program: `${m.dir}/program.opir`, weights: `${m.dir}/weights.bin` };
  const honest = await runNative(m.model.native, m.model.prog, values, { states: true }, files);
  const liar = await runNative(m.model.native, m.model.prog, values, { states: true, tamper: k }, files);
  const a = honest.states!.at(-1)!, b = liar.states!.at(-1)!;
  return a.some((x, i) => x !== b[i]);
}

/**
 * A model with the first of its candidate inputs on which `--tamper node=k` reaches the result
 * (a one-bit flip is often rounded away: then there is nothing to dispute).
 */
async function withReachingInput(
  m: BenchModel,
  k: number,
  candidates: string[],
): Promise<{ m: BenchModel; k: number }> {
  // node k itself if some input lets its flip through, else the nearest node that does (a flip
  // of a ReLU's or pooling's first element can be absorbed whatever the input)
  const n = m.model.prog.program.nodes.length;
  for (let d = 0; d <= 4; d++) {
    for (const c of d ? [k + d, k - d] : [k]) {
      if (c < 1 || c > n) continue;
      for (const input of [m.input, ...candidates]) {
        const values = readValues(m, input);
        if (await changesResult(m, c, values)) return { m: { ...m, input, values }, k: c };
      }
    }
  }
  throw new Error(`${m.name}: no candidate input on which --tamper near node ${k} changes the result`);
}

/** Deterministic random 28x28 images, values in [-scale / 2, 3 scale / 2) (as tests/cli does). */
function craftedImages(count: number): string[] {
  const out: string[] = [];
  for (let seed = 1; seed <= count; seed++) {
    const scale = seed % 2 ? 3 : 10;
    let s = seed >>> 0;
    const rnd = () => {
      s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
      return s / 4294967296;
    };
    for (let i = 0; i < 32; i++) rnd();
    const path = `${OUT}/crafted-${seed}.bin`;
    Deno.writeFileSync(
      path,
      new Uint8Array(Float32Array.from({ length: 784 }, () => (rnd() * 2 - 0.5) * scale).buffer),
    );
    out.push(path);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// one dispute

interface DisputeRow {
  model: string;
  /** The input file (a candidate on which the tamper reaches the result). */
  input: string;
  node: number;
  nodes: number;
  op: string;
  mode: "multi" | "single";
  /** `challenge` includes writing the step's proof (`--prove`). */
  seconds: { roots: number; challenge: number; total: number };
  rounds: { phase1: number; phase2: number };
  checkSteps: number;
  disputedStep: number;
  peakMiB: { roots: number; challenge: number; defender: number; max: number };
}

async function dispute(
  m: BenchModel,
  k: number,
  mode: "multi" | "single",
  mem: PeakMemory,
): Promise<DisputeRow> {
  const dir = Deno.makeTempDirSync({ dir: OUT, prefix: `${m.name}-${k}-${mode}-` });
  const single = mode === "single" ? ["--single-phase"] : [];
  const p = m.model.prog.program;
  const theirsCmd = shell([
    ...OPML,
    "roots",
    m.dir,
    "-i",
    m.input,
    "--tamper",
    `node=${k}`,
    "--phase",
    "2",
    ...(mode === "single" ? ["--single-phase"] : ["--node", "{node}"]),
    "--serve",
  ]);
  mem.start();
  const t0 = performance.now();
  const [h, t] = await Promise.all([
    opml(["roots", m.dir, "-i", m.input, "-o", `${dir}/honest.json`], "honest roots"),
    opml(
      ["roots", m.dir, "-i", m.input, "--tamper", `node=${k}`, "-o", `${dir}/liar.json`],
      "dishonest roots",
    ),
  ]);
  const rootsSeconds = (performance.now() - t0) / 1000;
  const rootsPeak = mem.max();
  const c = await opml([
    "challenge",
    "--ours",
    `${dir}/honest.json`,
    "--theirs",
    `${dir}/liar.json`,
    "--theirs-cmd",
    theirsCmd,
    "--arity",
    String(ARITY),
    ...single,
    "-o",
    `${dir}/dispute.json`,
    "--prove",
    `${dir}/proof.json`,
    "--json",
  ], "challenge");
  const outcome = JSON.parse(c.stdout);
  if (!outcome.dispute) throw new Error(`${m.name} node ${k} ${mode}: no dispute (${outcome.reason})`);
  const challengePeak = mem.max(/ challenge /), defenderPeak = mem.max(/ --serve/);
  const total = (performance.now() - t0) / 1000;
  mem.stop();
  const proof = JSON.parse(Deno.readTextFileSync(`${dir}/proof.json`));
  if (proof.postStateHash !== outcome.oursPost || proof.postStateHash === outcome.theirsPost) {
    throw new Error(`${m.name} node ${k} ${mode}: the proof's post-state is not the honest one`);
  }
  Deno.removeSync(dir, { recursive: true });
  const row: DisputeRow = {
    model: m.name,
    input: m.input.slice(m.input.lastIndexOf("/") + 1),
    node: k,
    nodes: p.nodes.length,
    op: p.nodes[k - 1].opType,
    mode,
    seconds: { roots: rootsSeconds, challenge: c.seconds, total },
    rounds: outcome.stats.rounds,
    checkSteps: outcome.final.step,
    disputedStep: outcome.step,
    peakMiB: {
      roots: rootsPeak,
      challenge: challengePeak,
      defender: defenderPeak,
      max: mem.max(),
    },
  };
  void h, void t;
  console.error(
    `${m.name} node ${k} (${row.op}) ${mode}: ${total.toFixed(1)} s (roots ${
      rootsSeconds.toFixed(1)
    }, challenge with the proof ${
      c.seconds.toFixed(1)
    }), check ${outcome.final.step} steps, rounds ${row.rounds.phase1}+${row.rounds.phase2}, peak ${
      row.peakMiB.max.toFixed(0)
    } MiB`,
  );
  return row;
}

// ---------------------------------------------------------------------------------------------
// VM figures of one check, in-process

interface CheckFigures {
  model: string;
  node: number;
  op: string;
  steps: number;
  seconds: number;
  memoryKiB: number;
  /** The node's tensors: inputs and outputs, bytes. */
  inputBytes: number[];
  outputBytes: number[];
}

/** VM steps of the honest check of node k. */
async function checkSteps(m: BenchModel, k: number): Promise<number> {
  const prog = m.model.prog;
  const data = await nativeCheckerData(m.model.native, prog, m.values, k - 1, k);
  const pre = checkerPreimages(prog, m.values, k - 1, k, data);
  return runCheck(Deno.readFileSync(m.model.check), pre, new Uint8Array(32)).steps;
}

async function checkFigures(m: BenchModel, k: number): Promise<CheckFigures> {
  const prog = m.model.prog;
  const data = await nativeCheckerData(m.model.native, prog, m.values, k - 1, k);
  const pre = checkerPreimages(prog, m.values, k - 1, k, data);
  const honest = await runNative(m.model.native, prog, m.values, { states: true }, {
    program: `${m.dir}/program.opir`,
    weights: `${m.dir}/weights.bin`,
  });
  const r = runCheck(Deno.readFileSync(m.model.check), pre, honest.states![k]);
  if (r.exitCode !== 0) throw new Error(`${m.name}: the honest check of node ${k} exits ${r.exitCode}`);
  const nd = prog.program.nodes[k - 1];
  return {
    model: m.name,
    node: k,
    op: nd.opType,
    steps: r.steps,
    seconds: r.seconds,
    memoryKiB: r.memoryBytes / 1024,
    inputBytes: nd.inputs.flatMap((i) => (i === null ? [] : [tensorBytes(prog.program, i)])),
    outputBytes: nd.outputs.map((i) => tensorBytes(prog.program, i)),
  };
}

/** The whole model's check (single-phase) of the big model: exact steps, plain and checkpointed rates. */
interface SinglePhaseEstimate {
  model: string;
  /** Exact steps of the whole model's check (one plain run), or undefined with --quick. */
  steps?: number;
  plainSeconds?: number;
  memoryKiB?: number;
  /** A checkpointed run (as the challenge makes) for a fixed budget. */
  budgetSteps: number;
  budgetSeconds: number;
  budgetCheckpoints: number;
  budgetPeakMiB: number;
}

async function singlePhaseEstimate(
  m: BenchModel,
  quick: boolean,
  budget: number,
): Promise<SinglePhaseEstimate> {
  const prog = m.model.prog;
  const n = prog.program.nodes.length;
  const data = await nativeCheckerData(m.model.native, prog, m.values, 0, n + 1);
  const pre = checkerPreimages(prog, m.values, 0, n + 1, data);
  const honest = await runNative(m.model.native, prog, m.values, { states: true }, {
    program: `${m.dir}/program.opir`,
    weights: `${m.dir}/weights.bin`,
  });
  const image = Deno.readFileSync(m.model.check);
  const claim = honest.states![n + 1];
  const before = selfPeakMiB();
  const trace = new Trace(loadElf(image), { oracle: new PreimageOracle(checkerSource(pre, claim)) }, {
    interval: 1 << 18,
  });
  const t0 = performance.now();
  trace.runTo(budget);
  const est: SinglePhaseEstimate = {
    model: m.name,
    budgetSteps: trace.head.step,
    budgetSeconds: (performance.now() - t0) / 1000,
    budgetCheckpoints: trace.checkpoints.length,
    budgetPeakMiB: selfPeakMiB() - before,
  };
  console.error(
    `${m.name} single-phase: checkpointed ${est.budgetSteps} steps in ${est.budgetSeconds.toFixed(1)} s`,
  );
  if (!quick) {
    const r = runCheck(image, pre, claim);
    if (r.exitCode !== 0) throw new Error(`${m.name}: the honest single-phase check exits ${r.exitCode}`);
    est.steps = r.steps;
    est.plainSeconds = r.seconds;
    est.memoryKiB = r.memoryBytes / 1024;
    console.error(`${m.name} single-phase: ${r.steps} steps in ${r.seconds.toFixed(1)} s (plain run)`);
  }
  return est;
}

// ---------------------------------------------------------------------------------------------

function machine(): { nproc: number; cpu: string } {
  const cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "unknown";
  return { nproc: navigator.hardwareConcurrency, cpu };
}

function parseArgs(args: string[]): { models: string[]; quick: boolean; costly: boolean } {
  let models = ["mnist-cnn", "stories260K", "gpt2"];
  let quick = false, costly = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--models" && i + 1 < args.length) models = args[++i].split(",");
    else if (args[i] === "--quick") quick = true;
    else if (args[i] === "--costly") costly = true;
    else throw new Error(`bench_dispute: unknown option ${args[i]} (--models a,b,c, --quick, --costly)`);
  }
  for (const m of models) {
    if (!["mnist-cnn", "stories260K", "gpt2"].includes(m)) {
      throw new Error(`bench_dispute: unknown model ${m} (mnist-cnn, stories260K, gpt2)`);
    }
  }
  return { models, quick, costly };
}

const fmt = (x: number, d = 1) => x.toFixed(d);
const mib = (b: number) => `${(b / 1048576).toFixed(b < 1048576 ? 2 : 1)} MiB`;

if (import.meta.main) {
  const { models, quick, costly: onlyCostly } = parseArgs(Deno.args);
  Deno.mkdirSync(OUT, { recursive: true });
  const mem = new PeakMemory();
  await buildRuntime(); // built (and cached) before compile times are taken
  const m = machine();
  console.error(`machine: ${m.nproc} cores, ${m.cpu}`);
  const prepared: BenchModel[] = [];
  for (const name of models) {
    if (name === "mnist-cnn") {
      const x = `${MODELS}mnist-cnn/test_data_set_0/input_Input3.bin`;
      prepared.push(await compile(name, `${MODELS}mnist-cnn/mnist-12.onnx`, [], x, mem));
    } else if (name === "stories260K") {
      const x = `${MODELS}stories260K-llama/test_data_set_0/input_tokens.bin`;
      prepared.push(
        await compile(name, `${MODELS}stories260K-llama/stories260K.onnx`, ["--shape", "seq=49"], x, mem),
      );
    } else {
      try {
        Deno.statSync(GPT2_ONNX);
      } catch {
        console.error(`generating ${GPT2_ONNX}`);
        Deno.mkdirSync(GPT2_ONNX.slice(0, GPT2_ONNX.lastIndexOf("/")), { recursive: true });
        Deno.writeFileSync(GPT2_ONNX, genTransformer(GPT2_SMALL));
      }
      const ids = `${OUT}/gpt2-ids.bin`;
      const tokens = [464, 5898, 318, 257, 1332, 13, 632, 1110].slice(0, GPT2_SMALL.ctx);
      Deno.writeFileSync(ids, new Uint8Array(BigInt64Array.from(tokens.map(BigInt)).buffer));
      prepared.push(await compile("gpt2", GPT2_ONNX, [], ids, mem));
    }
    const b = prepared.at(-1)!;
    console.error(`${b.name}: compiled in ${fmt(b.compileSeconds)} s, peak ${fmt(b.compilePeakMiB, 0)} MiB`);
  }

  const rows: DisputeRow[] = [];
  const checks: CheckFigures[] = [];
  let single: SinglePhaseEstimate | undefined;
  for (const b of prepared) {
    const p = b.model.prog.program;
    // the most expensive node: by its check's VM steps (measured) for the small models, by
    // multiply-accumulates for the big one (its LM head has 20x the MACs of any other node)
    const costs = p.nodes.map((nd) => nodeCost(p, nd));
    if (b.weightsBytes < 16 << 20) {
      for (let k = 1; k <= p.nodes.length; k++) costs[k - 1] = await checkSteps(b, k);
    }
    const costly = costs.indexOf(Math.max(...costs)) + 1;
    const middle = Math.ceil(p.nodes.length / 2);
    const candidates = b.name === "mnist-cnn"
      ? [1, 2].map((i) => `${MODELS}mnist-cnn/test_data_set_${i}/input_Input3.bin`).concat(craftedImages(60))
      : [];
    for (const target of [...new Set(onlyCostly ? [costly] : [middle, costly])]) {
      const { m: bk, k } = await withReachingInput(b, target, candidates);
      rows.push(await dispute(bk, k, "multi", mem));
      if (b.name !== "gpt2" && !onlyCostly) rows.push(await dispute(bk, k, "single", mem));
    }
    if (!onlyCostly) checks.push(await checkFigures(b, costly));
  }
  const benchPeakDisputes = selfPeakMiB();
  const big = prepared.find((b) => b.name === "gpt2");
  if (big && !onlyCostly) single = await singlePhaseEstimate(big, quick, 2 ** 31);

  // ---- tables ----
  const lines: string[] = [];
  lines.push(`machine: ${m.nproc} cores (nproc), ${m.cpu}; arity ${ARITY}`);
  lines.push("");
  lines.push("| model | weights | compile | compile peak RSS |");
  lines.push("|---|---:|---:|---:|");
  for (const b of prepared) {
    lines.push(
      `| ${b.name} | ${mib(b.weightsBytes)} | ${fmt(b.compileSeconds)} s | ${fmt(b.compilePeakMiB, 0)} MiB |`,
    );
  }
  lines.push("");
  lines.push(
    "| model | tampered node (input) | mode | check steps | rounds (1 + 2) | roots | challenge with the proof | total | peak RSS (roots / challenge / defender) |",
  );
  lines.push("|---|---|---|---:|---:|---:|---:|---:|---|");
  for (const r of rows) {
    lines.push(
      `| ${r.model} | ${r.node} of ${r.nodes} (${r.op}; ${r.input}) | ${r.mode} | ${
        (r.checkSteps / 1e6).toFixed(1)
      } M | ${r.rounds.phase1} + ${r.rounds.phase2} | ${fmt(r.seconds.roots)} s | ${
        fmt(r.seconds.challenge)
      } s | ${fmt(r.seconds.total)} s | ${
        [r.peakMiB.roots, r.peakMiB.challenge, r.peakMiB.defender].map((x) => fmt(x, 0))
          .join(" / ")
      } MiB |`,
    );
  }
  lines.push("");
  lines.push("| model | node | single / multi (wall) |");
  lines.push("|---|---|---:|");
  for (const r of rows.filter((r) => r.mode === "single")) {
    const multi = rows.find((x) => x.model === r.model && x.node === r.node && x.mode === "multi")!;
    lines.push(`| ${r.model} | ${r.node} (${r.op}) | ${fmt(r.seconds.total / multi.seconds.total, 2)} |`);
  }
  lines.push("");
  lines.push(
    "| model | most expensive node | its check (VM steps) | VM memory touched | node inputs | node outputs |",
  );
  lines.push("|---|---|---:|---:|---|---|");
  for (const c of checks) {
    lines.push(
      `| ${c.model} | ${c.node} (${c.op}) | ${(c.steps / 1e6).toFixed(1)} M in ${fmt(c.seconds)} s | ${
        fmt(c.memoryKiB / 1024, 1)
      } MiB | ${c.inputBytes.map(mib).join(", ")} | ${c.outputBytes.map(mib).join(", ")} |`,
    );
  }
  if (single) {
    lines.push("");
    const rate = single.budgetSteps / single.budgetSeconds;
    lines.push(
      `${single.model} single-phase: a checkpointed run (2^18-step checkpoints) did ${
        (single.budgetSteps / 1e6).toFixed(0)
      } M steps in ${fmt(single.budgetSeconds)} s (${
        fmt(rate / 1e6, 0)
      } M steps/s, ${single.budgetCheckpoints} checkpoints, +${fmt(single.budgetPeakMiB, 0)} MiB)` +
        (single.steps !== undefined
          ? `; the whole check is ${(single.steps / 1e9).toFixed(2)} G steps (one plain run: ${
            fmt(single.plainSeconds!)
          } s, ${
            fmt(single.memoryKiB! / 1024, 1)
          } MiB touched); extrapolated dispute: one checked run (the defender's in parallel), ${
            fmt(single.steps / rate / 60, 0)
          } min, with ${Math.ceil(single.steps / (1 << 18))} checkpoints per run`
          : ""),
    );
  }
  lines.push("");
  lines.push(`bench process peak RSS during the disputes: ${fmt(benchPeakDisputes, 0)} MiB`);
  console.log(lines.join("\n"));
  Deno.writeTextFileSync(
    `${root}build/bench/dispute.json`,
    JSON.stringify(
      {
        machine: m,
        prepared: prepared.map(({ model: _m, values: _v, ...b }) => b),
        rows,
        checks,
        single,
      },
      null,
      2,
    ) + "\n",
  );
}
