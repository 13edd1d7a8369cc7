/**
 * A party of a dispute as a computation: a compiled model directory, its inputs and the testing
 * aid `--tamper node=K`. Gives its phase-1 states (native run) and its check of a transition (VM
 * run): the one computation of both dispute transports, the offline challenge (`opml challenge
 * --dispute`, a {@link Party} loaded from files) and the on-chain player (`core/game/player.ts`,
 * a {@link Computation} of an agent's task).
 * @module
 */
import { OpmlError } from "../errors.ts";
import { buildRuntime, loadModelDir, type ModelDir } from "../compiler/mod.ts";
import {
  checkerPreimages,
  checkerSource,
  nativeCheckerData,
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

/** What a party computes with: a model, a task's inputs, and the testing aid `--tamper`. */
export interface Computation {
  model: ModelDir;
  inputs: TensorValue[];
  /** Lie from node K on (a dishonest server, or a dishonest challenger's view). */
  tamper?: number;
}

/** A loaded party: its spec, model and input values. */
export interface Party {
  spec: RunSpec;
  model: ModelDir;
  inputs: TensorValue[];
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

function checkTamper(model: ModelDir, tamper: number | undefined): void {
  const n = model.prog.program.nodes.length;
  if (tamper !== undefined && !(tamper >= 1 && tamper <= n)) {
    throw new PartyError(`--tamper node=${tamper}: the model's nodes are 1 .. ${n}`);
  }
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
export function newParty(dir: string, inputs: readonly string[], tamper?: number): Party {
  const model = loadModelDir(dir);
  checkTamper(model, tamper);
  const spec: RunSpec = {
    model: { dir: absolute(dir), commitment: keyHex(model.prog.key) as Hash },
    inputs: absoluteInputs(inputs),
  };
  if (tamper !== undefined) spec.tamper = tamper;
  return { spec, model, inputs: readInputs(spec.inputs, model) };
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
export function openParty(spec: RunSpec): Party {
  const model = loadModelDir(spec.model.dir);
  if (keyHex(model.prog.key) !== spec.model.commitment) {
    throw new PartyError(
      `${spec.model.dir}: model commitment ${
        keyHex(model.prog.key)
      }, not ${spec.model.commitment} as recorded`,
    );
  }
  checkTamper(model, spec.tamper);
  const clean: RunSpec = { model: { ...spec.model }, inputs: [...spec.inputs] };
  if (spec.tamper !== undefined) clean.tamper = spec.tamper;
  return { spec: clean, model, inputs: readInputs(spec.inputs, model) };
}

/**
 * The computation of a loaded party.
 *
 * @example
 * ```ts
 * const c = computationOf(newParty("out/mnist", ["x.json"], 10)); // c.tamper === 10
 * ```
 */
export function computationOf(party: Party): Computation {
  const c: Computation = { model: party.model, inputs: party.inputs };
  if (party.spec.tamper !== undefined) c.tamper = party.spec.tamper;
  return c;
}

/**
 * The phase-1 states S_0 .. S_(N+1) of a computation, from a native run (tampered if it lies),
 * with its outputs.
 *
 * @example
 * ```ts
 * const { states, outputs } = await phase1States({ model, inputs });
 * ```
 */
export async function phase1States(c: Computation): Promise<{ states: Hash[]; outputs: TensorValue[] }> {
  const r = await runNative(c.model.native, c.model.prog, c.inputs, { states: true, tamper: c.tamper });
  return { states: r.states!.map(toHash), outputs: r.outputs };
}

/**
 * The party's phase-1 states S_0 .. S_(N+1), from a native run (tampered if the spec says so).
 *
 * @example
 * ```ts
 * const states = await partyStates(party); // states.length === nodes + 2
 * ```
 */
export async function partyStates(party: Party): Promise<Hash[]> {
  return (await phase1States(computationOf(party))).states;
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

/** Options of {@link transitionCheck} and {@link partyCheck}. */
export interface PartyCheckOptions extends CheckRunOptions {
  /** The agreed S_(K-1) (S_from): the party's own recomputation must equal it. */
  expectPre?: Hash;
  /** Check honestly even if the party tampers at this node (a challenger checks honestly). */
  honest?: boolean;
  /**
   * Single-phase mode: check nodes from+1 .. node from S_from (0: the whole model with node =
   * N + 1). Default node - 1.
   */
  from?: number;
  image?: Uint8Array;
}

/**
 * The party's run of the check of node `node` against `claim` (S_K): from its own S_(K-1)
 * (table and activations from a native run), honestly, or as the dishonest defender when the
 * party tampers at this node.
 *
 * @example
 * ```ts
 * const run = await partyCheck(ours, k, theirClaim, { honest: true, expectPre: agreedPre });
 * run.end.exitCode; // 1: their claim is wrong
 * ```
 * @throws {PartyError} when the party's S_(K-1) is not the expected one.
 */
export function partyCheck(
  party: Party,
  node: number,
  claim: Hash,
  opts: PartyCheckOptions = {},
): Promise<CheckRun> {
  return transitionCheck(computationOf(party), node, claim, opts);
}

/**
 * A computation's run of the check of the transition to node `node` (from `opts.from`, default
 * `node - 1`) against `claim`: from its own S_from, honestly, or as the dishonest defender when
 * it tampers at a node of the range (unless `opts.honest`: a challenger checks honestly). The
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
  c: Computation,
  node: number,
  claim: Hash,
  opts: PartyCheckOptions = {},
): Promise<CheckRun> {
  const { image, source } = await checkInputs(c, node, claim, opts);
  const n = c.model.prog.program.nodes.length, tamper = c.tamper;
  const from = opts.from ?? node - 1;
  // the dishonest defender flips its bit when the check computes node `tamper`
  if (!opts.honest && tamper !== undefined && tamper > from && tamper <= Math.min(node, n)) {
    return tamperedCheck(image, source, c.model.prog.program, tamper, opts);
  }
  return honestCheckYielding(image, source, opts);
}

/**
 * The party's honest check of node `node` against `claim`, run plainly to `step`: the states
 * and witness a one-step proof of that step needs (`opml prove --dispute`).
 *
 * @example
 * ```ts
 * const { pre, witness } = await partyCheckAt(ours, k, theirClaim, step, { expectPre: agreedPre });
 * ```
 */
export async function partyCheckAt(
  party: Party,
  node: number,
  claim: Hash,
  step: number,
  opts: PartyCheckOptions = {},
): Promise<CheckAtStep> {
  const { image, source } = await checkInputs(computationOf(party), node, claim, opts);
  return honestCheckAt(image, source, step, opts);
}

/** The checker image and its preimage source for the check of `node` (from `opts.from`). */
async function checkInputs(c: Computation, node: number, claim: Hash, opts: PartyCheckOptions) {
  const { prog, native } = c.model;
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
    : await nativeCheckerData(native, prog, c.inputs, from, node, { tamper: c.tamper });
  const pre = checkerPreimages(prog, c.inputs, from, node, data);
  const expected = opts.expectPre?.toLowerCase();
  if (expected !== undefined && toHash(pre.sa) !== expected) {
    throw new DisagreedPreState(
      `S_${from} recomputed from the model and inputs is ${toHash(pre.sa)}, not ${opts.expectPre}`,
    );
  }
  const image = opts.image ?? await checkerImage(c.model);
  return { image, source: checkerSource(pre, hashBytes(claim.toLowerCase() as Hash)) };
}
