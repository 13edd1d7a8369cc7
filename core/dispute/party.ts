/**
 * The one party of a dispute: a compiled model, a task's inputs, and how it behaves: honest, or
 * lying from node K on (the testing aid `--tamper node=K`: its native run flips node K's first
 * output, and its check of node K accepts the flipped state). Gives its outputs and phase-1
 * states (native run) and its check of a transition (VM run) to both dispute transports: the
 * offline challenge (`opml challenge --dispute`, a {@link FileParty} loaded from files) and the
 * on-chain player (`core/game/player.ts`, the party of an agent's task). The behaviour is decided
 * here only: the rest of core asks a party, it does not thread `--tamper` itself.
 * @module
 */
import { EXIT, OpmlError } from "../errors.ts";
import { buildRuntime, loadModelDir, type ModelDir } from "../compiler/mod.ts";
import {
  checkerPreimages,
  checkerSource,
  nativeCheckerData,
  type NativeSession,
  parseInputFile,
  runNative,
} from "../engine/mod.ts";
import type { TensorValue } from "../ir/types.ts";
import { keyHex } from "../vm/oracle.ts";
import { loadElf } from "../vm/elf.ts";
import {
  type CheckAtStep,
  type CheckRun,
  type CheckRunOptions,
  honestCheckAt,
  honestCheckYielding,
  tamperedCheck,
} from "./check_run.ts";
import { type Hash, hashBytes, toHash } from "./hash.ts";
import type { RunSpec } from "./roots_file.ts";

/** A party's inputs or model do not fit its commitments. */
export class PartyError extends OpmlError {
  override name = "PartyError";
}

/** The agreed pre-state of a check is not the party's own: it cannot check that transition. */
export class DisagreedPreState extends PartyError {
  override name = "DisagreedPreState";
}

/** A party: a model, a task's inputs, and its behaviour (honest unless `liesFrom`). */
export interface Party {
  model: ModelDir;
  inputs: TensorValue[];
  /** Lies from node K on (`--tamper node=K`: a dishonest server, or a dishonest challenger's view). */
  liesFrom?: number;
}

/** A party of the offline challenge: also the files it was loaded from, which its documents record. */
export interface FileParty extends Party {
  spec: RunSpec;
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/** `--input` arguments with absolute paths (`NAME=FILE` keeps its name). */
export function absoluteInputs(specs: readonly string[]): string[] {
  return specs.map((s) => {
    const eq = s.indexOf("=");
    const named = eq > 0 && !s.slice(0, eq).includes("/");
    return named ? `${s.slice(0, eq)}=${absolute(s.slice(eq + 1))}` : absolute(s);
  });
}

function readFile(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new PartyError(`input ${path}: no such file`);
    throw new PartyError(`input ${path}: ${(e as Error).message}`);
  }
}

/**
 * The input values of `--input` arguments (`FILE` or `NAME=FILE`) in the model's input order.
 *
 * @example
 * ```ts
 * const inputs = readInputs(["x.json"], model);
 * ```
 * @throws {PartyError} for a missing input; `InputError` for a malformed file.
 */
export function readInputs(specs: readonly string[], model: ModelDir): TensorValue[] {
  const p = model.prog.program;
  const wanted = p.inputs.map((i) => ({ ...p.tensors[i], name: p.tensors[i].name }));
  const values: Record<string, TensorValue> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const name = eq > 0 && !spec.slice(0, eq).includes("/") ? spec.slice(0, eq) : undefined;
    const file = name ? spec.slice(eq + 1) : spec;
    Object.assign(values, parseInputFile(file, readFile(file), wanted, { name }));
  }
  return wanted.map((t) => {
    const v = values[t.name];
    if (!v) throw new PartyError(`no value for input '${t.name}': give --input ${t.name}=FILE`);
    return v;
  });
}

/**
 * A party of a model and inputs, honest or lying from node `liesFrom` on.
 *
 * @example
 * ```ts
 * const liar = partyOf(model, inputs, 10); // liar.liesFrom === 10
 * ```
 * @throws {PartyError} for a `liesFrom` outside the model's nodes (exit code 2, usage).
 */
export function partyOf(model: ModelDir, inputs: TensorValue[], liesFrom?: number): Party {
  const n = model.prog.program.nodes.length;
  if (liesFrom !== undefined && !(Number.isSafeInteger(liesFrom) && liesFrom >= 1 && liesFrom <= n)) {
    // bad usage, as in every command that takes --tamper (the same mistake, the same exit code)
    throw new PartyError(`--tamper node=${liesFrom}: the nodes of ${model.dir} are 1 .. ${n}`, EXIT.usage);
  }
  return liesFrom === undefined ? { model, inputs } : { model, inputs, liesFrom };
}

/**
 * A new party: the model directory, `--input` arguments and `--tamper` of a command line (paths
 * made absolute, the commitment taken from the model).
 *
 * @example
 * ```ts
 * const party = newParty("out/mnist", ["x.json"]);
 * ```
 */
export function newParty(dir: string, inputs: readonly string[], tamper?: number): FileParty {
  const model = loadModelDir(dir);
  const spec: RunSpec = {
    model: { dir: absolute(dir), commitment: keyHex(model.prog.key) as Hash },
    inputs: absoluteInputs(inputs),
  };
  if (tamper !== undefined) spec.liesFrom = tamper;
  return fileParty(spec, model);
}

function fileParty(spec: RunSpec, model: ModelDir): FileParty {
  const liesFrom = spec.liesFrom;
  // the behaviour is checked before the inputs are read: a bad --tamper is a usage error
  partyOf(model, [], liesFrom);
  return { ...partyOf(model, readInputs(spec.inputs, model), liesFrom), spec };
}

/**
 * Loads a party from a recorded spec (a commitments or dispute file): the model directory must
 * still have the commitment the spec names.
 *
 * @example
 * ```ts
 * const party = openParty(parseRoots(doc, "ours.json"));
 * ```
 */
export function openParty(spec: RunSpec): FileParty {
  const model = loadModelDir(spec.model.dir);
  if (keyHex(model.prog.key) !== spec.model.commitment) {
    throw new PartyError(
      `${spec.model.dir}: model commitment ${
        keyHex(model.prog.key)
      }, not ${spec.model.commitment} as recorded`,
    );
  }
  const clean: RunSpec = { model: { ...spec.model }, inputs: [...spec.inputs] };
  if (spec.liesFrom !== undefined) clean.liesFrom = spec.liesFrom;
  return fileParty(clean, model);
}

/**
 * The outputs of a party: a native run, wrong from node `liesFrom` on if it lies; every program
 * output at its stored shape (what a task commits, run-time lengths included: docs/IR.md). An
 * honest party runs in `sessionOf(model)` when given (a runtime kept loaded between tasks:
 * core/engine/session.ts, the same bytes); a lying one always in a process of its own.
 *
 * @example
 * ```ts
 * const outputs = await partyOutputs(partyOf(model, inputs));
 * ```
 */
export async function partyOutputs(
  p: Party,
  sessionOf?: (model: ModelDir) => NativeSession,
): Promise<TensorValue[]> {
  if (p.liesFrom === undefined && sessionOf) return (await sessionOf(p.model).run(p.inputs)).programOutputs;
  return (await runNative(p.model.native, p.model.prog, p.inputs, { tamper: p.liesFrom })).programOutputs;
}

/**
 * The phase-1 states S_0 .. S_(N+1) of a party, from a native run (wrong from node `liesFrom`
 * on if it lies), with its outputs.
 *
 * @example
 * ```ts
 * const { states, outputs } = await phase1States(partyOf(model, inputs));
 * states.length; // nodes + 2
 * ```
 */
export async function phase1States(p: Party): Promise<{ states: Hash[]; outputs: TensorValue[] }> {
  const r = await runNative(p.model.native, p.model.prog, p.inputs, { states: true, tamper: p.liesFrom });
  return { states: r.states!.map(toHash), outputs: r.programOutputs };
}

/**
 * The transition checker image of a model directory (`check.elf`, checked against the
 * manifest's `checkerInitialStateHash`); for a directory compiled before checkers were part of
 * it, the runtime build's (built and cached on first use).
 *
 * @example
 * ```ts
 * const image = await checkerImage(party.model);
 * ```
 */
export async function checkerImage(model: ModelDir): Promise<Uint8Array> {
  const m = model.manifest as { runtime: { check?: string }; checkerInitialStateHash?: string };
  if (m.runtime.check === undefined) return Deno.readFileSync((await buildRuntime()).check);
  let image: Uint8Array;
  try {
    image = Deno.readFileSync(model.check);
  } catch (e) {
    throw new PartyError(
      `${model.check}: ${
        e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message
      } (the checker image)`,
    );
  }
  let initial: string;
  try {
    initial = keyHex(loadElf(image).hash());
  } catch (e) {
    throw new PartyError(`${model.check}: not a MIPS image the VM loads (${(e as Error).message})`);
  }
  if (m.checkerInitialStateHash !== undefined && initial !== m.checkerInitialStateHash) {
    throw new PartyError(
      `${model.check}: initial VM state ${initial}, not the manifest's ${m.checkerInitialStateHash}`,
    );
  }
  return image;
}

/** Options of {@link transitionCheck} and {@link transitionCheckAt}. */
export interface PartyCheckOptions extends CheckRunOptions {
  /** The agreed S_(K-1) (S_from): the party's own recomputation must equal it. */
  expectPre?: Hash;
  /** Check honestly even if the party lies at this node (a challenger checks honestly). */
  honest?: boolean;
  /**
   * Single-phase mode: check nodes from+1 .. node from S_from (0: the whole model with node =
   * N + 1). Default node - 1.
   */
  from?: number;
  image?: Uint8Array;
}

/**
 * A party's run of the check of the transition to node `node` (from `opts.from`, default
 * `node - 1`) against `claim`: from its own S_from, honestly, or as the dishonest defender when
 * it lies at a node of the range (unless `opts.honest`: a challenger checks honestly). The
 * check both transports run: the offline challenge's phase 2 and the on-chain player's claim.
 *
 * @example
 * ```ts
 * const run = await transitionCheck(c, d.b, d.claimState, { expectPre: d.preState, honest: true });
 * run.end.exitCode; // 1: the claim is wrong
 * ```
 * @throws {DisagreedPreState} when the computation's S_from is not `opts.expectPre`.
 */
export async function transitionCheck(
  p: Party,
  node: number,
  claim: Hash,
  opts: PartyCheckOptions = {},
): Promise<CheckRun> {
  const { image, source } = await checkInputs(p, node, claim, opts);
  const n = p.model.prog.program.nodes.length, k = p.liesFrom;
  const from = opts.from ?? node - 1;
  // the dishonest defender flips its bit when the check computes node k
  if (!opts.honest && k !== undefined && k > from && k <= Math.min(node, n)) {
    return tamperedCheck(image, source, p.model.prog.program, k, opts);
  }
  return honestCheckYielding(image, source, opts);
}

/**
 * A party's honest check of node `node` against `claim`, run plainly to `step`: the states
 * and witness a one-step proof of that step needs (`opml prove --dispute`).
 *
 * @example
 * ```ts
 * const { pre, witness } = await transitionCheckAt(ours, k, theirClaim, step, { expectPre: agreedPre });
 * ```
 */
export async function transitionCheckAt(
  p: Party,
  node: number,
  claim: Hash,
  step: number,
  opts: PartyCheckOptions = {},
): Promise<CheckAtStep> {
  const { image, source } = await checkInputs(p, node, claim, opts);
  return honestCheckAt(image, source, step, opts);
}

/** The checker image and its preimage source for the check of `node` (from `opts.from`). */
async function checkInputs(p: Party, node: number, claim: Hash, opts: PartyCheckOptions) {
  const { prog, native } = p.model;
  const n = prog.program.nodes.length;
  if (!(Number.isSafeInteger(node) && node >= 1 && node <= n + 1)) {
    throw new PartyError(`node ${node}: the checks are of nodes 1 .. ${n + 1} (${n + 1}: the result)`);
  }
  const from = opts.from ?? node - 1;
  if (!(Number.isSafeInteger(from) && from >= 0 && from < node)) {
    throw new PartyError(`from ${from}: a check starts after a node below ${node}`);
  }
  // from S_0 the checker reads only the inputs and constants: no native run needed
  const data = from === 0
    ? undefined
    : await nativeCheckerData(native, prog, p.inputs, from, node, { tamper: p.liesFrom });
  const pre = checkerPreimages(prog, p.inputs, from, node, data);
  const expected = opts.expectPre?.toLowerCase();
  if (expected !== undefined && toHash(pre.sa) !== expected) {
    throw new DisagreedPreState(
      `S_${from} recomputed from the model and inputs is ${toHash(pre.sa)}, not ${opts.expectPre}`,
    );
  }
  const image = opts.image ?? await checkerImage(p.model);
  return { image, source: checkerSource(pre, hashBytes(claim.toLowerCase() as Hash)) };
}
