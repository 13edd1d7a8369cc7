/**
 * A player's computation of one task: its phase-1 states (a native run) and its run of the
 * transition checker of the transition the game selected (`a -> b` with the defender's claimed
 * S_b), honest, or as a dishonest party when it plays with the testing aid `--tamper node=K`.
 * @module
 */
import type { Hex } from "viem";
import type { ModelDir } from "../compiler/mod.ts";
import { checkerPreimages, checkerSource, nativeCheckerData, runNative } from "../engine/mod.ts";
import type { TensorValue } from "../ir/types.ts";
import { type CheckRun, type CheckRunOptions, honestCheck, tamperedCheck } from "../dispute/check_run.ts";
import { type Hash, hashBytes, toHash } from "../dispute/hash.ts";
import { checkerImage } from "../dispute/party.ts";

/** What a player computes with: a model, a task's inputs, and the testing aid `--tamper`. */
export interface Computation {
  model: ModelDir;
  inputs: TensorValue[];
  /** Lie from node K on (a dishonest server, or a dishonest challenger's view). */
  tamper?: number;
}

/** The player's own S_(a) differs from the state both parties agreed on: it cannot check. */
export class DisagreedPreState extends Error {
  override name = "DisagreedPreState";
}

/**
 * The phase-1 states S_0 .. S_(N+1) of a computation (hex), with its outputs.
 *
 * @example
 * ```ts
 * const { states, outputs } = await phase1States({ model, inputs });
 * ```
 */
export async function phase1States(c: Computation): Promise<{ states: Hex[]; outputs: TensorValue[] }> {
  const r = await runNative(c.model.native, c.model.prog, c.inputs, { states: true, tamper: c.tamper });
  return { states: r.states!.map(toHash) as Hex[], outputs: r.outputs };
}

/** Options of {@link transitionCheck}. */
export interface TransitionCheckOptions extends CheckRunOptions {
  /** Check as the computation's own (possibly tampered) view; default: honestly. */
  asDefender?: boolean;
}

/**
 * The computation's run of the checker of `a -> b` against `claim`, from its own S_a (which must
 * be `pre`, the agreed state). A defender that tampers at a node of the range runs the dishonest
 * check that accepts its tampered S_b; everyone else checks honestly.
 *
 * @example
 * ```ts
 * const run = await transitionCheck(c, d.b - 1, d.b, d.preState, d.claimState);
 * run.end.exitCode; // 1: the claim is wrong
 * ```
 * @throws {DisagreedPreState} when the computation's S_a is not `pre`.
 */
export async function transitionCheck(
  c: Computation,
  a: number,
  b: number,
  pre: Hex,
  claim: Hex,
  opts: TransitionCheckOptions = {},
): Promise<CheckRun> {
  const { prog, native } = c.model;
  const n = prog.program.nodes.length;
  const data = a === 0
    ? undefined
    : await nativeCheckerData(native, prog, c.inputs, a, b, { tamper: c.tamper });
  const pres = checkerPreimages(prog, c.inputs, a, b, data);
  if (toHash(pres.sa) !== pre.toLowerCase()) {
    throw new DisagreedPreState(`our S_${a} is ${toHash(pres.sa)}, the agreed one is ${pre}`);
  }
  const image = await checkerImage(c.model);
  const source = checkerSource(pres, hashBytes(claim.toLowerCase() as Hash));
  // a lying defender's node is inside the range: its check flips that node's output
  if (opts.asDefender && c.tamper !== undefined && c.tamper > a && c.tamper <= Math.min(b, n)) {
    return tamperedCheck(image, source, prog.program, c.tamper, opts);
  }
  return honestCheck(image, source, opts);
}
