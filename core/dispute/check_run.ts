/**
 * Runs of the transition checker (phase 2) that answer "the state hash at step t" on demand from
 * checkpoints: the honest run, and the run of a dishonest defender (`--tamper node=K`), which
 * follows the honest run until node K's first output is complete, flips the same bit the
 * native `--tamper` flips, and then executes honestly on the flipped memory: its check accepts
 * the tampered S_K and its trace departs from the honest one at exactly one step.
 * @module
 */
import { OpmlError } from "../errors.ts";
import type { Program } from "../ir/types.ts";
import { dtypeSize, shapeSize } from "../ir/types.ts";
import {
  execute,
  FAULT_EXIT_CODE,
  type FrozenState,
  loadElf,
  PreimageOracle,
  type PreimageSource,
  Reg,
  stepWithWitness,
  type StepWitness,
  Trace,
  type VmState,
} from "../vm/mod.ts";
import { elfSymbols } from "./elf_symbols.ts";
import { type Hash, toHash } from "./hash.ts";

/** The end of a check run. */
export interface CheckEnd {
  /** The step at which it exited. */
  step: number;
  /** Its exited state hash. */
  hash: Hash;
  exitCode: number;
}

/** A check run: state hashes at any step, computed on demand. */
export interface CheckRun {
  /** The hash of the state before the first step. */
  readonly initial: Hash;
  /** How the run ends. */
  readonly end: CheckEnd;
  /** The state hash after `t` steps (the exited state from `end.step` on). */
  hashAt(t: number): Hash;
  /** The witness of the step from `t` to `t + 1`: only honest runs can prove their steps. */
  witnessAt?(t: number): StepWitness;
}

/** A check run could not be made (no exit within the bound, an image without the symbols). */
export class CheckRunError extends OpmlError {
  override name = "CheckRunError";
}

/** Options of the check runs. */
export interface CheckRunOptions {
  /** Step bound of a check (default 2^36). */
  maxSteps?: number;
  /** Steps between checkpoints (default 2^18: ~30 ms to any state). */
  interval?: number;
  /** Called during the long run with the steps done. */
  onProgress?: (step: number) => void;
}

const DEFAULT_MAX_STEPS = 2 ** 36;
const DEFAULT_INTERVAL = 1 << 18;
/**
 * Checkpoints kept per run: a check of billions of steps (the 100 M-parameter model's LM head:
 * 39 G steps over 150 MB of memory) would otherwise hold 150,000 snapshots of a 38,000-page
 * table. Past it the interval doubles (core/vm/trace.ts): any state is then at most
 * steps / 256 steps away (the interval is a power-of-two multiple of 2^18), a fraction of a second at the VM's speed.
 */
const MAX_CHECKPOINTS = 512;

/**
 * Steps per page of memory between checkpoints, at least: a checkpoint costs the pages written
 * since the previous one (they share the rest), but restoring one for a state rebuilds the
 * flat page table, one entry per page; with this a state is re-executed from a checkpoint at
 * least as many steps as that costs. The LM head check of the 124 M model (38,000 pages, 3.3 G
 * steps): 1,024 gave 100 checkpoints 2^26 steps apart, 0.6 s per state; 64 gives 390 checkpoints
 * 2^23 apart, 0.2 s per state, for 4% more checkpoint memory (483 MiB against 463 MiB).
 */
const STEPS_PER_PAGE = 64;

/** The checkpoint interval for a memory of `pages` pages: a power of two, never below `min`. */
function intervalFor(pages: number, min: number): number {
  let i = min;
  while (i < pages * STEPS_PER_PAGE) i *= 2;
  return i;
}

/** Runs a trace to its exit in chunks of at most 2^24 steps, pausing (yield) after each. */
function* runChunks(trace: Trace, opts: CheckRunOptions): Generator<void, CheckEnd> {
  const max = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  let reported = trace.head.step;
  while (!trace.head.exited && trace.head.step < max) {
    trace.interval = intervalFor(trace.head.memory.pageCount, trace.interval);
    trace.runTo(Math.min(max, trace.head.step + Math.min(1 << 24, 8 * trace.interval)));
    if (trace.head.step - reported >= 1 << 24 || trace.head.exited) {
      opts.onProgress?.(trace.head.step);
      reported = trace.head.step;
    }
    yield;
  }
  const st = trace.head;
  if (!st.exited) throw new CheckRunError(`the check did not exit within ${max} steps`);
  return { step: st.step, hash: toHash(st.hash()), exitCode: st.exitCode };
}

function runToEnd(trace: Trace, opts: CheckRunOptions): CheckEnd {
  const run = runChunks(trace, opts);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link runToEnd} that lets the event loop run between chunks (a second or less each): a
 * process playing several disputes answers their cheap moves while one check runs.
 */
async function runToEndYielding(trace: Trace, opts: CheckRunOptions): Promise<CheckEnd> {
  const run = runChunks(trace, opts);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/**
 * The honest run of the checker `image` with the preimages (local data included) of `source`.
 * Runs once to its end; then any state is at most `interval` steps of re-execution away. The
 * witness of a step at or after the end is that of the exited state (a fixed point).
 *
 * @example
 * ```ts
 * const run = honestCheck(image, checkerSource(pre, claim));
 * run.end.exitCode; // 1: the claim is wrong
 * run.hashAt(12_345);
 * ```
 */
export function honestCheck(image: Uint8Array, source: PreimageSource, opts: CheckRunOptions = {}): CheckRun {
  const { trace, initial } = honestTrace(image, source, opts);
  return honestRun(trace, initial, runToEnd(trace, opts));
}

/**
 * {@link honestCheck} that lets the event loop run between chunks of the run (the on-chain player
 * and the offline challenge: other disputes' moves and a peer's answers are not held up).
 *
 * @example
 * ```ts
 * const run = await honestCheckYielding(image, checkerSource(pre, claim));
 * ```
 */
export async function honestCheckYielding(
  image: Uint8Array,
  source: PreimageSource,
  opts: CheckRunOptions = {},
): Promise<CheckRun> {
  const { trace, initial } = honestTrace(image, source, opts);
  return honestRun(trace, initial, await runToEndYielding(trace, opts));
}

/** The trace of an honest check before its run, and its initial state hash. */
function honestTrace(image: Uint8Array, source: PreimageSource, opts: CheckRunOptions) {
  const trace = new Trace(loadElf(image), { oracle: new PreimageOracle(source) }, {
    interval: opts.interval ?? DEFAULT_INTERVAL,
    maxCheckpoints: MAX_CHECKPOINTS,
  });
  return { trace, initial: toHash(trace.checkpoints[0].hash()) };
}

function honestRun(trace: Trace, initial: Hash, end: CheckEnd): CheckRun {
  return {
    initial,
    end,
    hashAt: (t) => toHash(trace.stateAt(t).hash()),
    witnessAt: (t) => {
      // from the exited state on, a step is the identity (the game's traces extend that way)
      if (!Number.isSafeInteger(t) || t < 0) throw new RangeError(`step ${t} is not a step of the check`);
      return trace.witnessAt(t);
    },
  };
}

/** The honest check's states around one step, from a plain run: what a one-step proof needs. */
export interface CheckAtStep {
  initial: Hash;
  /** The state hash after `step` steps. */
  pre: Hash;
  /** The witness of the step from `step` to `step + 1`. */
  witness: StepWitness;
}

/**
 * Runs the honest check to `step` without checkpoints (no state kept but the head: a fraction
 * of the cost of {@link honestCheck} on a check of billions of steps) and records the witness of
 * that step. For `opml prove --dispute`, which needs nothing else.
 *
 * @example
 * ```ts
 * const { pre, witness } = honestCheckAt(image, checkerSource(pre, claim), 12_345);
 * ```
 * @throws {CheckRunError} when the check exits at or before `step`.
 */
export function honestCheckAt(
  image: Uint8Array,
  source: PreimageSource,
  step: number,
  opts: CheckRunOptions = {},
): CheckAtStep {
  const host = { oracle: new PreimageOracle(source) };
  const st = loadElf(image);
  const initial = toHash(st.hash());
  while (!st.exited && st.step < step) {
    execute(st, host, Math.min(1 << 24, step - st.step));
    opts.onProgress?.(st.step);
  }
  if (st.exited) throw new CheckRunError(`step ${step} is past our check's end (step ${st.step})`);
  const pre = toHash(st.hash());
  return { initial, pre, witness: stepWithWitness(st, host) };
}

/** MIPS o32 layout of the interpreter's structs (core/runtime/interp.h, kernel.h). */
const LAYOUT = {
  program: { nTensors: 0, nNodes: 4, tensors: 20, nodes: 24 },
  pnodeSize: 48,
  pnode: { outIds: 8 },
  ptensorSize: 68,
  tensor: { dtype: 0, rank: 1, dims: 4, size: 36, data: 40 },
} as const;

/** `break`: faults when fetched, which stops the run exactly at that pc. */
const BREAK = 0x0000000d;

/** Honest checkpoints taken on the way to node K (see {@link runUntilNode}). */
interface Checkpoints {
  states: FrozenState[];
  interval: number;
}

/**
 * Runs `st` until its pc reaches `pc` with register a2 = `a2` (the checker's add_node for node
 * a2 + 1: a check of several nodes calls it once per node), the state before that instruction
 * executes: a faulting instruction is put there and each fault undone, so the state is the
 * honest one. On the way it keeps honest checkpoints (clones with the instruction restored:
 * the same memory, the same hashes) every `cps.interval` steps, thinned as a Trace thins them,
 * so the honest run before the lie needs no second execution.
 */
function runUntilNode(
  st: VmState,
  oracle: PreimageOracle,
  pc: number,
  a2: number,
  max: number,
  cps: Checkpoints,
): void {
  const word = st.memory.readWord(pc);
  const fault = () => {
    if (!st.exited) {
      throw new CheckRunError(`the check did not reach the end of its node within ${max} steps`);
    }
    if (st.exitCode !== FAULT_EXIT_CODE || st.pc !== pc) {
      throw new CheckRunError(`the check exited (code ${st.exitCode}) before the end of its node`);
    }
    st.exited = false;
    st.exitCode = 0;
    st.step -= 1;
  };
  st.memory.writeWord(pc, BREAK);
  try {
    for (;;) {
      while (!st.exited && st.step < max) {
        cps.interval = intervalFor(st.memory.pageCount, cps.interval);
        const next = (Math.floor(st.step / cps.interval) + 1) * cps.interval;
        execute(st, { oracle }, Math.min(next, max) - st.step);
        if (!st.exited && st.step === next) {
          // the honest memory frozen (pages shared), then the break again: one page copied, where
          // a clone would copy the whole page table
          st.memory.writeWord(pc, word);
          cps.states.push(st.freeze());
          st.memory.writeWord(pc, BREAK);
          if (cps.states.length > MAX_CHECKPOINTS) {
            cps.interval *= 2;
            const kept = cps.states.filter((x, i) => i === 0 || x.step % cps.interval === 0);
            cps.states.splice(0, cps.states.length, ...kept);
          }
        }
      }
      fault();
      if (st.regs[Reg.a2] >= a2) return;
      // an earlier node's add_node: execute it honestly, then stop at the next one
      st.memory.writeWord(pc, word);
      execute(st, { oracle }, 1);
      st.memory.writeWord(pc, BREAK);
    }
  } finally {
    st.memory.writeWord(pc, word);
  }
}

/**
 * The run of a dishonest defender whose S_K comes from `--tamper node=K`: the honest run until
 * the checker's `add_node` (node K done, outputs not yet hashed), then the lowest bit of the
 * first element of node K's first output flipped (as the native runtime's `--tamper` does), then
 * honest execution. Its check exits 0 on the tampered S_K; its states differ from the honest
 * run's from step `lieStep` on.
 *
 * @example
 * ```ts
 * const liar = tamperedCheck(image, checkerSource(pre, theirSk), prog.program, k);
 * liar.end.exitCode; // 0
 * ```
 * @throws {CheckRunError} when the image lacks the symbols, its memory does not hold node K as
 *   expected, or the tampered check does not exit 0.
 */
export function tamperedCheck(
  image: Uint8Array,
  source: PreimageSource,
  program: Program,
  node: number,
  opts: CheckRunOptions = {},
): CheckRun & { lieStep: number } {
  const syms = elfSymbols(image);
  const addNode = syms.get("add_node"), progAddr = syms.get("prog");
  if (addNode === undefined || progAddr === undefined) {
    throw new CheckRunError(
      "the checker image has no symbols add_node and prog (stripped?): cannot simulate --tamper",
    );
  }
  const max = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const oracle = new PreimageOracle(source);
  const st = loadElf(image);
  const initial = toHash(st.hash());
  const cps: Checkpoints = { states: [st.freeze()], interval: opts.interval ?? DEFAULT_INTERVAL };
  // the add_node of node K: the first one in a one-node check, a later one in a whole-model check
  runUntilNode(st, oracle, addNode, node - 1, max, cps);
  if (st.regs[Reg.a2] !== node - 1) {
    throw new CheckRunError(
      `the check reached node ${st.regs[Reg.a2] + 1} without node ${node}: it is not in the checked range`,
    );
  }
  // node K's first output in the checker's memory, every field checked against the program
  const m = st.memory;
  const p = progAddr;
  const bad = (what: string): never => {
    throw new CheckRunError(`the checker's memory does not hold node ${node} as expected (${what})`);
  };
  if (m.readWord(p + LAYOUT.program.nTensors) !== program.tensors.length) bad("tensor count");
  if (m.readWord(p + LAYOUT.program.nNodes) !== program.nodes.length) bad("node count");
  const nodeAddr = m.readWord(p + LAYOUT.program.nodes) + (node - 1) * LAYOUT.pnodeSize;
  const outId = program.nodes[node - 1].outputs[0];
  if (m.readWord(m.readWord(nodeAddr + LAYOUT.pnode.outIds)) !== outId) bad("first output index");
  const t = m.readWord(p + LAYOUT.program.tensors) + outId * LAYOUT.ptensorSize;
  const want = program.tensors[outId];
  const byte = (a: number) => m.readBytes(a, 1)[0];
  if (byte(t + LAYOUT.tensor.dtype) !== want.dtype || byte(t + LAYOUT.tensor.rank) !== want.shape.length) {
    bad("dtype or rank");
  }
  want.shape.forEach((d, i) => m.readWord(t + LAYOUT.tensor.dims + 4 * i) !== d && bad(`dimension ${i}`));
  if (m.readWord(t + LAYOUT.tensor.size) !== shapeSize(want.shape) || shapeSize(want.shape) === 0) {
    bad("element count");
  }
  const data = m.readWord(t + LAYOUT.tensor.data);
  if (data === 0 || !m.isMapped(data)) bad("data pointer");
  // the honest run up to the lie: its checkpoints from the way here, its head the state here
  const honest = new Trace(st.clone(), { oracle: new PreimageOracle(source) }, {
    interval: cps.interval,
    maxCheckpoints: MAX_CHECKPOINTS,
  });
  honest.checkpoints.splice(0, honest.checkpoints.length, ...cps.states, honest.checkpoints[0]);
  const lieStep = st.step;
  // the host holds tensors big-endian: the lowest bit of the first element is in its last byte
  const at = data + dtypeSize(want.dtype) - 1;
  m.writeBytes(at, Uint8Array.of(byte(at) ^ 1));
  const after = new Trace(st, { oracle }, {
    interval: opts.interval ?? DEFAULT_INTERVAL,
    maxCheckpoints: MAX_CHECKPOINTS,
  });
  const end = runToEnd(after, opts);
  if (end.exitCode !== 0) {
    throw new CheckRunError(
      `the tampered check of node ${node} exits ${end.exitCode}, not 0: the claim is not the --tamper result`,
    );
  }
  return {
    initial,
    end,
    lieStep,
    hashAt: (t) => toHash((t < lieStep ? honest.stateAt(t) : after.stateAt(t)).hash()),
  };
}
