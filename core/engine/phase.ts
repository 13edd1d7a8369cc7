/**
 * Multi-phase commitments (docs/MULTIPHASE.md) on the TypeScript side: phase-1 state hashes
 * from keys, the preimages and local data of the transition checker (phase 2), and running the
 * checker in the VM.
 *
 * A dispute over node k, for the honest party:
 * ```ts
 * const rt = await buildRuntime();
 * const { states } = await runNative(rt.native, prog, inputs, { states: true }); // S_0 .. S_(N+1)
 * // ... bisection finds k: S_(k-1) agreed, the other party claims S_k ...
 * const data = await nativeCheckerData(rt.native, prog, inputs, k - 1, k);
 * const pre = checkerPreimages(prog, inputs, k - 1, k, data);    // pre.sa equals states[k-1]
 * const res = runCheck(Deno.readFileSync(rt.check), pre, claimedSk);
 * // res.exitCode: 0 iff claimedSk is the honest S_k; res.computed is the honest S_k
 * ```
 * For phase-2 bisection and one-step proofs, the VM starts from `loadElf(check image)` (the same
 * initial state for every dispute) and reads its oracle data from `checkerSource(pre, claimedSk)`.
 * @module
 */
import type { AssembledProgram } from "../compiler/artifacts.ts";
import type { TensorValue } from "../ir/types.ts";
import { loadElf } from "../vm/elf.ts";
import { keccakKey, localKey, MapSource, merkleDataKey, PreimageOracle } from "../vm/oracle.ts";
import { runToExit } from "../vm/run.ts";
import { PAGE_SIZE } from "../vm/memory.ts";
import { RuntimeError } from "./native.ts";
import type { CheckerData } from "./native.ts";
import { bytesOf, checkInput } from "./tensors.ts";

/** A preimage: its oracle key and data. */
export type Preimage = [key: Uint8Array, data: Uint8Array];

/** The local keys of the checker (docs/MULTIPHASE.md). */
export const CHECK_LOCAL = { startState: 1, claimedState: 2, end: 3 } as const;

/** The 68-byte state preimage `programKey || u32be(index) || key`. */
export function statePreimage(programKey: Uint8Array, index: number, key: Uint8Array): Uint8Array {
  const pre = new Uint8Array(68);
  pre.set(programKey, 0);
  new DataView(pre.buffer).setUint32(32, index);
  pre.set(key, 36);
  return pre;
}

/** A phase-1 state: H(statePreimage(...)), the keccak key of the preimage. */
export function stateHash(programKey: Uint8Array, index: number, key: Uint8Array): Uint8Array {
  return keccakKey(statePreimage(programKey, index, key));
}

/** `K(key_0 || key_1 || ...)`: the input key of a task, the output key of a result. */
export function keyOfKeys(keys: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(32 * keys.length);
  keys.forEach((k, i) => all.set(k, 32 * i));
  return merkleDataKey(all);
}

/** The data key of a tensor value: K(its little-endian bytes). */
export function tensorKey(v: TensorValue): Uint8Array {
  return merkleDataKey(bytesOf(v));
}

/** S_0 of a task: H(programKey || 0 || inputKey). */
export function taskState(prog: AssembledProgram, inputs: TensorValue[]): Uint8Array {
  return stateHash(prog.key, 0, keyOfKeys(inputs.map(tensorKey)));
}

/** S_(N+1) of a result: H(programKey || N+1 || outputKey). */
export function resultState(prog: AssembledProgram, outputs: TensorValue[]): Uint8Array {
  return stateHash(prog.key, prog.program.nodes.length + 1, keyOfKeys(outputs.map(tensorKey)));
}

/** The preimages the checker of a -> b reads by key (its local data apart). */
export interface CheckerPreimages {
  /** S_a as computed from the data (compare it with the agreed state). */
  sa: Uint8Array;
  a: number;
  b: number;
  /** Every keyed preimage the checker reads: S_a's preimage, program, table or input keys, tensors. */
  preimages: Preimage[];
}

/**
 * The keyed preimages the transition checker of a -> b reads: the preimage of S_a, the
 * program, table_a (a > 0) or the inputs' keys (a = 0), and every tensor that nodes
 * a+1 .. min(b, N) read from before the range: constants from the program, inputs from
 * `inputs`, activations from `data` (a native run's {@link CheckerData}; for a = 0 it needs no
 * table and may be omitted). `sa` is computed from these, so a caller can compare it with the
 * agreed state before running anything.
 *
 * @example
 * ```ts
 * const pre = checkerPreimages(prog, inputs, 0, prog.program.nodes.length + 1); // single phase
 * ```
 */
export function checkerPreimages(
  prog: AssembledProgram,
  inputs: TensorValue[],
  a: number,
  b: number,
  data?: CheckerData,
): CheckerPreimages {
  const p = prog.program;
  const n = p.nodes.length;
  if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a < b && b <= n + 1)) {
    throw new RangeError(`transition ${a} -> ${b}: need 0 <= a < b <= ${n + 1} (the node count + 1)`);
  }
  if (inputs.length !== p.inputs.length) {
    throw new RuntimeError(`the model has ${p.inputs.length} inputs, ${inputs.length} given`);
  }
  inputs.forEach((v, i) => checkInput(p.tensors[p.inputs[i]].name, p.tensors[p.inputs[i]], v));
  const preimages: Preimage[] = [[prog.key, prog.bytes]];
  const inputBytes = inputs.map(bytesOf);
  const inputKeys = inputBytes.map((d) => merkleDataKey(d));
  let stateKey: Uint8Array;
  if (a === 0) {
    const all = new Uint8Array(32 * inputKeys.length);
    inputKeys.forEach((k, i) => all.set(k, 32 * i));
    stateKey = merkleDataKey(all);
    preimages.push([stateKey, all]);
  } else {
    if (!data) throw new RangeError(`transition ${a} -> ${b} needs table_${a} from a native run`);
    if (data.table.length !== 32 * p.tensors.length) {
      throw new RangeError(`table_${a} has ${data.table.length} bytes, expected ${32 * p.tensors.length}`);
    }
    stateKey = merkleDataKey(data.table);
    preimages.push([stateKey, data.table]);
  }
  const pre = statePreimage(prog.key, a, stateKey);
  const sa = keccakKey(pre);
  preimages.push([sa, pre]);
  // tensors read in the range that no node of the range produced before
  const produced = new Set<number>();
  const added = new Set<number>();
  for (let i = a; i < Math.min(b, n); i++) {
    for (const t of p.nodes[i].inputs) {
      if (t === null || produced.has(t) || added.has(t)) continue;
      added.add(t);
      const tensor = p.tensors[t];
      let bytes: Uint8Array | undefined;
      if (tensor.kind === "constant") bytes = tensor.data!;
      else if (tensor.kind === "input") bytes = inputBytes[p.inputs.indexOf(t)];
      else bytes = data?.tensors.get(t);
      if (!bytes) throw new RangeError(`transition ${a} -> ${b}: no data for tensor ${t} ('${tensor.name}')`);
      preimages.push([merkleDataKey(bytes), bytes]);
    }
    for (const t of p.nodes[i].outputs) produced.add(t);
  }
  return { sa, a, b, preimages };
}

/** The checker's local data: S_a, the claimed S_b and u32be(b) under local keys 1, 2, 3. */
export function checkerLocals(sa: Uint8Array, b: number, claimedSb: Uint8Array): Preimage[] {
  const end = new Uint8Array(4);
  new DataView(end.buffer).setUint32(0, b);
  return [
    [localKey(CHECK_LOCAL.startState), sa],
    [localKey(CHECK_LOCAL.claimedState), claimedSb],
    [localKey(CHECK_LOCAL.end), end],
  ];
}

/**
 * Everything the checker of `pre.a -> pre.b` reads, local data included, as one preimage source
 * for the VM's oracle (also what a one-step proof of the check draws its oracle data from).
 */
export function checkerSource(pre: CheckerPreimages, claimedSb: Uint8Array): MapSource {
  const src = new MapSource();
  for (const [k, d] of [...pre.preimages, ...checkerLocals(pre.sa, pre.b, claimedSb)]) src.set(k, d);
  return src;
}

/** Preimages as the `key[32] u64be length data` records the MIPS images read under qemu-mips. */
export function encodeRecords(preimages: Preimage[]): Uint8Array {
  const size = preimages.reduce((s, [, d]) => s + 40 + d.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [key, data] of preimages) {
    out.set(key, o);
    v.setBigUint64(o + 32, BigInt(data.length));
    out.set(data, o + 40);
    o += 40 + data.length;
  }
  return out;
}

/** The outcome of {@link runCheck}. */
export interface CheckResult {
  /** 0: the claim is the computed S_b; 1: it is not (or a node failed); 2: malformed data. */
  exitCode: number;
  /** The S_b the checker computed (undefined if it stopped before). */
  computed?: Uint8Array;
  steps: number;
  /** State hash of the final (exited) VM state: what phase-2 bisection ends on. */
  finalStateHash: Uint8Array;
  /** VM memory touched (pages of 4 KiB ever written or loaded, the image included), in bytes. */
  memoryBytes: number;
  /** The checker's last line on stderr, if any. */
  message: string;
  seconds: number;
}

/**
 * Runs the transition checker image (`RuntimeBuild.check`) in the VM on transition
 * `pre.a -> pre.b`, claiming `claimedSb`, with `pre.sa` as the start state. Throws RuntimeError if the
 * VM stops without the image exiting (step limit, jump into unmapped memory).
 *
 * @example
 * ```ts
 * const res = runCheck(Deno.readFileSync(rt.check), pre, states[k]);
 * ```
 */
export function runCheck(
  image: Uint8Array,
  pre: CheckerPreimages,
  claimedSb: Uint8Array,
  opts: { maxSteps?: number } = {},
): CheckResult {
  const st = loadElf(image);
  const chunks: Uint8Array[] = [];
  let errText = "";
  const res = runToExit(st, {
    oracle: new PreimageOracle(checkerSource(pre, claimedSb)),
    output: (fd, data) => {
      if (fd === 1) chunks.push(data.slice());
      else errText += new TextDecoder().decode(data);
    },
  }, { maxSteps: opts.maxSteps ?? 1e12 });
  const message = errText.trim().split("\n").pop() ?? "";
  if (res.reason !== "exited") {
    throw new RuntimeError(
      `checker stopped after ${res.steps} steps: ${res.reason}${message ? `: ${message}` : ""}`,
    );
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) (out.set(c, o), o += c.length);
  return {
    exitCode: st.exitCode,
    computed: out.length === 32 ? out : undefined,
    steps: res.steps,
    finalStateHash: st.hash(),
    memoryBytes: st.memory.pageCount * PAGE_SIZE,
    message,
    seconds: res.seconds,
  };
}
