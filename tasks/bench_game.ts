/**
 * The on-chain game's figures (part of `deno task bench`, docs/BENCHMARKS.md section 5): per
 * model and mode (multi-phase, single-phase), a whole dispute on a fresh local anvil with the
 * agents of `opml serve` / `opml verify` in one process (`runAgent`, dev accounts: requester 1,
 * server 2, verifier 3; default polling) and a requester (`requestTask`):
 * - wall time from postTask to the transaction that resolves the dispute, split into: to the
 *   challenge (both native runs, the result, the challenge), phase 1, phase 2 (the defender's
 *   claim and the bisection, with each party's VM check time), and the step (witness, oracle
 *   loads, MIPS step on chain);
 * - transactions and gas of each party: its dispute transactions from `taskStory` (cross-checked
 *   against the GameClient's own records) plus its result or challenge;
 * - rounds per phase, the disputed node, the check's length and the step executed;
 * - the process's peak RSS (VmHWM, reset per case through /proc/PID/clear_refs by a subprocess:
 *   Deno needs --allow-all to read /proc itself; falls back to sampling Deno.memoryUsage()).
 *
 * Prints a Markdown table and writes build/bench/game.json. Options: `--runs N` (runs of each
 * mnist-cnn case, medians reported; default 3), `--only SUBSTRING` (cases whose id contains it),
 * `--long` (also stories260K single-phase), `--gpt2` (also the synthetic 124 M-parameter GPT-2 of
 * tasks/gen_transformer.ts, its LM head disputed: compiles the model first, about a minute; with
 * `OPML_BENCH_GPT2_DIR=DIR`, the compiled model directory DIR instead, e.g. the 1 B-parameter one).
 * Standalone: `deno run --allow-read --allow-write --allow-run --allow-env --allow-ffi
 * --allow-net=127.0.0.1 tasks/bench_game.ts`.
 * @module
 */
import { type Anvil, startAnvil } from "../core/chain/anvil.ts";
import { devAccount } from "../core/chain/accounts.ts";
import { DEFAULT_GAME_PARAMS } from "../core/chain/config.ts";
import { publicClientFor, walletClientFor } from "../core/chain/connect.ts";
import { deployAll } from "../core/chain/deploy.ts";
import { GameClient, type TxRecord } from "../core/chain/game_client.ts";
import { compileModelFile, loadModelDir, type ModelDir } from "../core/compiler/mod.ts";
import { runNative } from "../core/engine/mod.ts";
import { DType, type TensorValue } from "../core/ir/mod.ts";
import { arrayFromBytes } from "../core/onnx/mod.ts";
import {
  type AgentEvent,
  type AgentSummary,
  gameModel,
  keyOfTensors,
  requestTask,
  runAgent,
  type TaskStory,
  taskStory,
} from "../core/game/mod.ts";
import { SHARED_MODELS as MODELS } from "./_data.ts";
import { DEFAULT_OUT as GPT2_ONNX, genTransformer, GPT2_SMALL } from "./gen_transformer.ts";

const CHAIN_ID = 31337;
const root = new URL("..", import.meta.url).pathname;
const out = `${root}build/bench`;
/** A dispute that takes longer than this is a hang, not a figure. */
const CASE_LIMIT_MS = 60 * 60_000;

function note(msg: string) {
  console.error(`bench_game: ${msg}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ models and cases

interface BenchModel {
  name: string;
  dir: ModelDir;
  input: TensorValue;
}

/** One dispute configuration. */
interface Case {
  id: string;
  model: "mnist-cnn" | "stories260K" | "gpt2";
  singlePhase: boolean;
  /** The node the liar flips (`--tamper node=K`). */
  tamper: number;
  /** Who lies: a dishonest server against an honest verifier, or the other way round. */
  liar: "server" | "verifier";
  arity: number;
  runs: number;
  /** Long (docs/BENCHMARKS.md section 5): only with `--long`. */
  long?: boolean;
  /** The 124 M-parameter model: only with `--gpt2`. */
  gpt2?: boolean;
  /** Extra anvil arguments. */
  anvilArgs?: string[];
}

function parseArgs(
  args: string[],
): { runs: number; only?: string; long: boolean; gpt2: boolean; child?: string; result?: string } {
  let runs = 3, long = false, gpt2 = false;
  let only: string | undefined, child: string | undefined, result: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--runs") runs = Number(args[++i]);
    else if (args[i] === "--only") only = args[++i];
    else if (args[i] === "--long") long = true;
    else if (args[i] === "--gpt2") gpt2 = true;
    else if (args[i] === "--child") child = args[++i]; // internal: one run of a case
    else if (args[i] === "--result") result = args[++i];
    else throw new Error(`unknown option ${args[i]} (--runs N, --only SUBSTRING, --long, --gpt2)`);
  }
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  return { runs, only, long, gpt2, child, result };
}

/** mnist-cnn: digit 537 of the shared set (pixels / 255, float32 [1, 1, 28, 28]). */
const DIGIT = 537;
/** Nodes whose one-bit flip reaches the output (checked before the runs). */
const MNIST_TAMPER = 10;
const STORIES_MIDDLE = 177;

/** The synthetic GPT-2's input: 8 token ids. */
const GPT2_TOKENS = [464, 5898, 318, 257, 1332, 13, 632, 1110];

function cases(runs: number, storiesNodes: number, gpt2Head: number): Case[] {
  const cnn = (id: string, o: Partial<Case>): Case => ({
    id,
    model: "mnist-cnn",
    singlePhase: false,
    tamper: MNIST_TAMPER,
    liar: "server",
    arity: 16,
    runs,
    ...o,
  });
  const st = (id: string, o: Partial<Case>): Case => ({
    id,
    model: "stories260K",
    singlePhase: false,
    tamper: STORIES_MIDDLE,
    liar: "server",
    arity: 16,
    runs: 1,
    ...o,
  });
  return [
    cnn("mnist-cnn/multi", {}),
    cnn("mnist-cnn/single", { singlePhase: true }),
    cnn("mnist-cnn/multi/liar-verifier", { liar: "verifier" }),
    cnn("mnist-cnn/multi/arity-2", { arity: 2 }),
    cnn("mnist-cnn/multi/arity-4", { arity: 4 }),
    st("stories260K/multi/middle", {}),
    st("stories260K/multi/last", { tamper: storiesNodes }),
    st("stories260K/single", { singlePhase: true, long: true }),
    {
      ...st("gpt2/multi/lm-head", {
        tamper: gpt2Head,
        gpt2: true,
        // its result reveals 1.6 MB of logits: a 64 M-gas transaction at the EIP-7623 floor, over
        // any chain's block gas limit, in a request over anvil's 2 MB default (docs/BENCHMARKS.md section 5)
        anvilArgs: ["--gas-limit", "1000000000", "--no-request-size-limit"],
      }),
      model: "gpt2",
    },
  ];
}

// ------------------------------------------------------------------ peak memory

/**
 * The process's peak RSS in bytes: VmHWM from /proc (read by a subprocess: Deno needs
 * --allow-all to read /proc itself), else the largest Deno.memoryUsage().rss sampled every
 * 200 ms (which misses peaks inside synchronous VM runs: the event loop is busy).
 */
class PeakMemory {
  #sampled = Deno.memoryUsage().rss;
  #timer = setInterval(() => this.#sampled = Math.max(this.#sampled, Deno.memoryUsage().rss), 200);

  async read(): Promise<{ bytes: number; how: "VmHWM" | "sampled rss" }> {
    clearInterval(this.#timer);
    this.#sampled = Math.max(this.#sampled, Deno.memoryUsage().rss);
    try {
      const r = await new Deno.Command("grep", {
        args: ["VmHWM", `/proc/${Deno.pid}/status`],
        stdout: "piped",
        stderr: "null",
      }).output();
      const m = /VmHWM:\s*(\d+)\s*kB/.exec(new TextDecoder().decode(r.stdout));
      if (r.code === 0 && m) return { bytes: Number(m[1]) * 1024, how: "VmHWM" };
    } catch {
      // no grep or no /proc: the samples
    }
    return { bytes: this.#sampled, how: "sampled rss" };
  }
}

// ------------------------------------------------------------------ one dispute

/** A transaction with the wall time its receipt arrived (ms from the task's post). */
interface TimedTx extends TxRecord {
  t: number;
}

/** A party's cost. */
interface PartyFigures {
  /** Transactions of the dispute (story: game moves and oracle loads). */
  disputeTxs: number;
  disputeGas: number;
  /** The same plus its result (server) or challenge is already in; plus commitResult and revealResult. */
  totalTxs: number;
  totalGas: number;
  /** Seconds of its VM check (phase 2), from the player's log. */
  checkSeconds?: number;
  checkSteps?: number;
  checkExit?: number;
}

/** The figures of one dispute. */
interface RunFigures {
  taskId: string;
  outcome: string;
  rounds: { phase1: number; phase2: number };
  node: number;
  checkSteps: number;
  step: number;
  /** Seconds from postTask: total and the split. */
  wall: number;
  toChallenge: number;
  phase1: number;
  phase2: number;
  step_: number;
  server: PartyFigures;
  verifier: PartyFigures;
  peakRssBytes: number;
  peakRssHow: string;
  /** Disagreements between the story and the clients' own records (empty when they agree). */
  crossCheck: string[];
  /** Every transaction of the task: who, what, seconds from postTask, gas. */
  timeline: { who: string; fn: string; t: number; gas: number }[];
}

const DISPUTE_TX = /^(game\.(challenge|bisect|pick|claimCheck|step|timeout)|oracle\.)/;
const CHECK_LINE = /our check exits (\d+) after ([\d,]+) steps \(([\d.]+) s\)/;

async function runDispute(c: Case, m: BenchModel): Promise<RunFigures> {
  const mem = new PeakMemory();
  const anvil: Anvil = await startAnvil({ args: c.anvilArgs });
  const ctl = new AbortController();
  let done: Promise<AgentSummary>[] = [];
  try {
    const params = { ...DEFAULT_GAME_PARAMS, arity: c.arity, clockBudget: 3600 };
    const pub = publicClientFor(anvil.url, CHAIN_ID, true);
    const dep = await deployAll(walletClientFor(anvil.url, CHAIN_ID, devAccount(0), true), params);
    const deployBlock = BigInt(dep.deployBlock);
    let t0 = performance.now();
    const timed: Record<"requester" | "server" | "verifier", TimedTx[]> = {
      requester: [],
      server: [],
      verifier: [],
    };
    const client = (i: number, who: keyof typeof timed) =>
      new GameClient(
        pub,
        walletClientFor(anvil.url, CHAIN_ID, devAccount(i), true),
        dep.game,
        (tx) => timed[who].push({ ...tx, t: performance.now() - t0 }),
      );
    const requester = client(1, "requester"), sg = client(2, "server"), vg = client(3, "verifier");
    await gameModel(requester, m.dir); // registered before the clock starts
    timed.requester.length = 0;
    const sessions = Deno.makeTempDirSync({ prefix: "opml-bench-game-" });
    const logs: Record<"server" | "verifier", string[]> = { server: [], verifier: [] };
    const events: Record<"server" | "verifier", AgentEvent[]> = { server: [], verifier: [] };
    const agent = (role: "server" | "verifier", game: GameClient) =>
      runAgent({
        role,
        game,
        chainId: CHAIN_ID,
        models: [m.dir],
        liesFrom: c.liar === role ? c.tamper : undefined,
        sessionPath: `${sessions}/${role}.json`,
        startBlock: deployBlock,
        signal: ctl.signal,
        log: (l) => {
          logs[role].push(l);
          // the long parts, as progress
          if (/running our check|our check exits/.test(l)) note(`${c.id}: ${role}: ${l}`);
        },
        onEvent: (e) => events[role].push(e),
      });
    done = [agent("server", sg), agent("verifier", vg)];
    for (const d of done) d.catch(() => {});
    await sleep(1000); // both agents read the chain before the task appears

    t0 = performance.now();
    const { taskId } = await requestTask(requester, m.dir, [m.input], { singlePhase: c.singlePhase });
    const ended = (role: "server" | "verifier") => events[role].some((e) => e.kind === "dispute-end");
    const deadline = Date.now() + CASE_LIMIT_MS;
    let failure: unknown;
    for (const d of done) d.catch((e) => failure ??= e);
    while (!(ended("server") && ended("verifier"))) {
      const err = [...events.server, ...events.verifier].find((e) =>
        e.kind === "dispute-error" || e.kind === "skipped" || e.kind === "agreed"
      );
      if (err || failure || Date.now() > deadline) {
        const tail = (r: "server" | "verifier") => logs[r].slice(-15).join("\n    ");
        throw new Error(
          `${c.id}: ${
            err
              ? JSON.stringify(err, (_, v) => typeof v === "bigint" ? `${v}` : v)
              : failure ?? "no end in time"
          }\n  server:\n    ${tail("server")}\n  verifier:\n    ${tail("verifier")}`,
        );
      }
      await sleep(100);
    }
    ctl.abort();
    await Promise.allSettled(done);
    Deno.removeSync(sessions, { recursive: true });

    const story = await taskStory(requester, taskId, deployBlock);
    const figures = measure(c, story, timed, logs);
    const peak = await mem.read();
    figures.peakRssBytes = peak.bytes;
    figures.peakRssHow = peak.how;
    return figures;
  } finally {
    ctl.abort();
    await Promise.allSettled(done);
    await anvil.stop();
  }
}

function measure(
  c: Case,
  story: TaskStory,
  timed: Record<"requester" | "server" | "verifier", TimedTx[]>,
  logs: Record<"server" | "verifier", string[]>,
): RunFigures {
  const d = story.disputes[0];
  if (!d?.outcome) throw new Error(`${c.id}: no resolved dispute in the story of task ${story.taskId}`);
  const defenderWon = d.outcome.defenderWon;
  if (defenderWon !== (c.liar === "verifier")) {
    throw new Error(
      `${c.id}: the ${defenderWon ? "lying server" : "honest server"} lost: ${d.outcome.reason}`,
    );
  }
  const at = (who: "server" | "verifier" | "requester", fn: string) => timed[who].filter((t) => t.fn === fn);
  const one = (who: "server" | "verifier" | "requester", fn: string) => {
    const t = at(who, fn)[0];
    if (!t) throw new Error(`${c.id}: no ${fn} by the ${who}`);
    return t.t;
  };
  const challenged = one("verifier", "game.challenge");
  const claimed = one("server", "game.claimCheck");
  const picks = at("verifier", "game.pick");
  const phase1End = c.singlePhase
    ? challenged
    : Math.max(...picks.filter((p) => p.t < claimed).map((p) => p.t));
  const steps = [...at("verifier", "game.step"), ...at("server", "game.step")];
  if (steps.length !== 1) throw new Error(`${c.id}: ${steps.length} step transactions`);
  const resolved = steps[0].t;
  const phase2End = Math.max(...picks.filter((p) => p.t > claimed && p.t < resolved).map((p) => p.t));

  const crossCheck: string[] = [];
  const party = (who: "server" | "verifier", cost: typeof d.defender): PartyFigures => {
    const txs = timed[who].filter((t) => t.t <= resolved);
    const inDispute = txs.filter((t) => DISPUTE_TX.test(t.fn));
    const sum = (xs: TxRecord[]) => xs.reduce((s, t) => s + t.gasUsed, 0n);
    if (inDispute.length !== cost.txs || sum(inDispute) !== cost.gas) {
      crossCheck.push(
        `${who}: story ${cost.txs} txs / ${cost.gas} gas, client ${inDispute.length} / ${sum(inDispute)}`,
      );
    }
    const task = txs.filter((t) => /^game\.(commit|reveal)Result$/.test(t.fn) || DISPUTE_TX.test(t.fn));
    const f: PartyFigures = {
      disputeTxs: cost.txs,
      disputeGas: Number(cost.gas),
      totalTxs: task.length,
      totalGas: Number(sum(task)),
    };
    const line = logs[who].map((l) => CHECK_LINE.exec(l)).find((x) => x);
    if (line) {
      f.checkExit = Number(line[1]);
      f.checkSteps = Number(line[2].replaceAll(",", ""));
      f.checkSeconds = Number(line[3]);
    }
    return f;
  };
  const s = (ms: number) => ms / 1000;
  return {
    taskId: story.taskId.toString(),
    outcome: `${defenderWon ? "defender" : "challenger"} won (${d.outcome.reason})`,
    rounds: d.rounds,
    node: d.node!,
    checkSteps: Number(d.checkSteps),
    step: Number(d.step),
    wall: s(resolved),
    toChallenge: s(challenged),
    phase1: s(phase1End - challenged),
    phase2: s(phase2End - phase1End),
    step_: s(resolved - phase2End),
    server: party("server", d.defender),
    verifier: party("verifier", d.challengerCost),
    peakRssBytes: 0,
    peakRssHow: "",
    crossCheck,
    timeline: (["requester", "server", "verifier"] as const)
      .flatMap((who) =>
        timed[who].filter((t) => t.t >= 0).map((t) => ({ who, fn: t.fn, t: s(t.t), gas: Number(t.gasUsed) }))
      )
      .sort((a, b) => a.t - b.t),
  };
}

// ------------------------------------------------------------------ summary

/** The case's figures: medians of the wall times over its runs, the rest from the first run. */
interface CaseFigures extends Case {
  runsDone: number;
  first: RunFigures;
  median: { wall: number; toChallenge: number; phase1: number; phase2: number; step: number };
  medianCheckSeconds: { server?: number; verifier?: number };
  wallRuns: number[];
  /** Median gas of each party's transactions (the clocks' storage writes vary by a few k). */
  medianGas: { server: number; verifier: number };
  peakRssBytes: number;
  /** Figures that differ between runs (gas, rounds: they should not). */
  unstable: string[];
}

function summarize(c: Case, runs: RunFigures[]): CaseFigures {
  const med = (f: (r: RunFigures) => number) => median(runs.map(f));
  const first = runs[0];
  const unstable: string[] = [];
  for (const r of runs.slice(1)) {
    for (
      const [k, a, b] of [
        ["rounds", JSON.stringify(first.rounds), JSON.stringify(r.rounds)],
        ["server gas", first.server.totalGas, r.server.totalGas],
        ["verifier gas", first.verifier.totalGas, r.verifier.totalGas],
        ["step", first.step, r.step],
      ] as const
    ) {
      if (a !== b) unstable.push(`${k}: ${a} vs ${b}`);
    }
  }
  const checks = (who: "server" | "verifier") => {
    const xs = runs.map((r) => r[who].checkSeconds).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  return {
    ...c,
    runsDone: runs.length,
    first,
    median: {
      wall: med((r) => r.wall),
      toChallenge: med((r) => r.toChallenge),
      phase1: med((r) => r.phase1),
      phase2: med((r) => r.phase2),
      step: med((r) => r.step_),
    },
    medianCheckSeconds: { server: checks("server"), verifier: checks("verifier") },
    wallRuns: runs.map((r) => r.wall),
    medianGas: { server: med((r) => r.server.totalGas), verifier: med((r) => r.verifier.totalGas) },
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    unstable,
  };
}

const num = (n: number) => n.toLocaleString("en-US");
const sec = (x: number) => x < 10 ? x.toFixed(2) : x.toFixed(1);
const mgas = (g: number) => `${(g / 1e6).toFixed(2)} M`;

/** The Markdown table of the cases. */
export function gameTable(rows: CaseFigures[]): string {
  return [
    "| model | mode, arity | liar (tamper node) | rounds phase 1 + 2 | disputed node: check steps | wall (runs) | to challenge | phase 1 | phase 2 (VM checks: server / verifier) | step | server: txs, gas | verifier: txs, gas | peak RSS |",
    "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => {
      const f = r.first;
      const ck = (x?: number) => x === undefined ? "-" : `${sec(x)} s`;
      return `| ${r.model} | ${
        r.singlePhase ? "single" : "multi"
      }, ${r.arity} | ${r.liar} (${r.tamper}) | ${f.rounds.phase1} + ${f.rounds.phase2} | ${
        r.singlePhase ? "whole model" : `node ${f.node}`
      }: ${num(f.checkSteps)} | ${sec(r.median.wall)} s (${r.runsDone}) | ${sec(r.median.toChallenge)} s | ${
        sec(r.median.phase1)
      } s | ${sec(r.median.phase2)} s (${ck(r.medianCheckSeconds.server)} / ${
        ck(r.medianCheckSeconds.verifier)
      }) | ${sec(r.median.step)} s | ${f.server.totalTxs}, ${
        mgas(r.medianGas.server)
      } | ${f.verifier.totalTxs}, ${mgas(r.medianGas.verifier)} | ${
        (r.peakRssBytes / 2 ** 20).toFixed(0)
      } MiB |`;
    }),
  ].join("\n");
}

// ------------------------------------------------------------------ main

const modelsDir = `${out}/game`;

/**
 * A compiled model directory disputed by the `--gpt2` case instead of the 124 M GPT-2 (the
 * 1 B-parameter transformer of docs/BENCHMARKS.md section 4, compiled beforehand).
 */
const GPT2_DIR = Deno.env.get("OPML_BENCH_GPT2_DIR");

async function compileModels(gpt2: boolean): Promise<void> {
  const t0 = performance.now();
  if (gpt2 && !GPT2_DIR) {
    try {
      Deno.statSync(GPT2_ONNX);
    } catch {
      note(`generating ${GPT2_ONNX}`);
      Deno.mkdirSync(GPT2_ONNX.slice(0, GPT2_ONNX.lastIndexOf("/")), { recursive: true });
      Deno.writeFileSync(GPT2_ONNX, genTransformer(GPT2_SMALL));
    }
    await compileModelFile(GPT2_ONNX, `${modelsDir}/gpt2`);
  }
  await compileModelFile(`${MODELS}mnist-cnn/mnist-12.onnx`, `${modelsDir}/mnist-cnn`);
  await compileModelFile(`${MODELS}stories260K-llama/stories260K.onnx`, `${modelsDir}/stories260K`, {
    shapes: { seq: [49] },
  });
  note(
    `compiled mnist-cnn and stories260K into build/bench/game/ (${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s)`,
  );
}

function loadModels(gpt2: boolean): Record<Case["model"], BenchModel> {
  const dir = modelsDir;
  const digits = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`);
  const gpt2Model: BenchModel | undefined = gpt2
    ? {
      name: "gpt2",
      dir: loadModelDir(GPT2_DIR ?? `${dir}/gpt2`),
      input: {
        dtype: DType.int64,
        shape: [1, GPT2_TOKENS.length],
        data: BigInt64Array.from(GPT2_TOKENS.map(BigInt)),
      },
    }
    : undefined;
  return {
    // only loaded with --gpt2 (its cases are filtered out otherwise)
    gpt2: gpt2Model as BenchModel,
    "mnist-cnn": {
      name: "mnist-cnn",
      dir: loadModelDir(`${dir}/mnist-cnn`),
      input: {
        dtype: DType.float32,
        shape: [1, 1, 28, 28],
        data: Float32Array.from(digits.subarray(784 * DIGIT, 784 * (DIGIT + 1)), (v) => v / 255),
      },
    },
    stories260K: {
      name: "stories260K",
      dir: loadModelDir(`${dir}/stories260K`),
      input: {
        dtype: DType.int64,
        shape: [1, 49],
        data: arrayFromBytes(
          DType.int64,
          Deno.readFileSync(`${MODELS}stories260K-llama/test_data_set_0/input_tokens.bin`),
          49,
        ),
      },
    },
  };
}

/** The synthetic GPT-2's LM head (its last Gemm, the most expensive node), or 0 if not loaded. */
function lmHead(m: BenchModel | undefined): number {
  // the GPT-2 graph's LM head is a Gemm, the int8 LLaMA graph's (gen_transformer.ts --llama) a MatMulInteger
  return m
    ? m.dir.prog.program.nodes.findLastIndex((n) => n.opType === "Gemm" || n.opType === "MatMulInteger") + 1
    : 0;
}

/** Fails when a case's flip is rounded away before the output (the dispute would not happen). */
async function checkTamper(m: BenchModel, node: number): Promise<void> {
  const run = (tamper?: number) => runNative(m.dir.native, m.dir.prog, [m.input], { tamper });
  const honest = keyOfTensors((await run()).outputs);
  if (keyOfTensors((await run(node)).outputs) === honest) {
    throw new Error(`${m.name}: the flip of node ${node} does not change the output: pick another node`);
  }
}

/** The permissions of `deno task bench` (a run is a subprocess: its peak memory is its own). */
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-ffi",
  "--allow-net=127.0.0.1",
];

/** One run of a case in a fresh process; its figures come back through a file. */
async function runInChild(c: Case): Promise<RunFigures> {
  const result = Deno.makeTempFileSync({ prefix: "opml-bench-game-", suffix: ".json" });
  try {
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMISSIONS, new URL(import.meta.url).pathname, "--child", c.id, "--result", result],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) throw new Error(`${c.id}: the run exited with code ${code}`);
    return JSON.parse(Deno.readTextFileSync(result));
  } finally {
    Deno.removeSync(result);
  }
}

if (import.meta.main) {
  const opts = parseArgs(Deno.args);
  Deno.mkdirSync(out, { recursive: true });
  if (opts.child) {
    const models = loadModels(opts.child.startsWith("gpt2"));
    const c = cases(1, models.stories260K.dir.prog.program.nodes.length, lmHead(models.gpt2)).find((c) =>
      c.id === opts.child
    );
    if (!c) throw new Error(`no case ${opts.child}`);
    const r = await runDispute(c, models[c.model]);
    Deno.writeTextFileSync(opts.result!, JSON.stringify(r));
    Deno.exit(0);
  }
  await compileModels(opts.gpt2);
  const models = loadModels(opts.gpt2);
  const all = cases(opts.runs, models.stories260K.dir.prog.program.nodes.length, lmHead(models.gpt2))
    .filter((c) =>
      (opts.long || !c.long) && (opts.gpt2 || !c.gpt2) && (!opts.only || c.id.includes(opts.only))
    );
  for (const c of all) await checkTamper(models[c.model], c.tamper);
  const rows: CaseFigures[] = [];
  for (const c of all) {
    const runs: RunFigures[] = [];
    for (let i = 0; i < c.runs; i++) {
      const r = await runInChild(c);
      note(
        `${c.id} run ${
          i + 1
        }/${c.runs}: ${r.outcome}, rounds ${r.rounds.phase1} + ${r.rounds.phase2}, node ${r.node}, ` +
          `step ${num(r.step)} of ${num(r.checkSteps)}, wall ${sec(r.wall)} s (challenge ${
            sec(r.toChallenge)
          }, ` +
          `phase 1 ${sec(r.phase1)}, phase 2 ${sec(r.phase2)}, step ${sec(r.step_)}), gas server ${
            num(r.server.totalGas)
          } verifier ${num(r.verifier.totalGas)}, peak ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB` +
          (r.crossCheck.length ? `; story vs clients: ${r.crossCheck.join("; ")}` : ""),
      );
      runs.push(r);
    }
    rows.push(summarize(c, runs));
  }
  const lscpu = new TextDecoder().decode(
    (await new Deno.Command("lscpu", { stdout: "piped" }).output()).stdout,
  );
  const cpu = (lscpu.match(/Model name:\s*(.*)/) ?? [])[1]?.trim() ?? "unknown CPU";
  const machine = `${cpu}, ${navigator.hardwareConcurrency} cores; Deno ${Deno.version.deno}; ${
    new Date().toISOString().slice(0, 10)
  }`;
  Deno.writeTextFileSync(`${out}/game.json`, JSON.stringify({ machine, cases: rows }, null, 2));
  console.log(`Machine: ${machine}\n\n${gameTable(rows)}`);
}
