/**
 * The one-step proof of a dispute file (`opml prove --dispute`): our check of their claim rerun
 * plainly to the disputed step, checked against everything the file records, and the proof of
 * that step in the contracts' ABI.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { CheckRunError } from "./check_run.ts";
import type { StepWitness } from "../vm/mod.ts";
import { type Hash, toHash } from "./hash.ts";
import { openParty, phase1States, transitionCheckAt } from "./party.ts";
import { disputeContext, type OneStepProof, oneStepProof } from "./proof.ts";
import type { DisputeFile } from "./roots_file.ts";

/** A dispute file that does not match our own recomputation. */
export class DisputeMismatch extends OpmlError {
  override name = "DisputeMismatch";
}

/** The proof document `opml prove --dispute` writes (`opml-proof/1`). */
export type DisputeProof = { format: "opml-proof/1"; node: number; theirPostStateHash: Hash } & OneStepProof;

/**
 * Recomputes our side of a dispute file up to its disputed step and proves that step.
 *
 * @example
 * ```ts
 * const proof = await proveDispute(parseDispute(doc, "d.json"), "d.json");
 * proof.stepCalldata; // MIPS.step(...)
 * ```
 * @throws {DisputeMismatch} naming `path` when the file does not match our recomputation.
 */
export async function proveDispute(d: DisputeFile, path: string): Promise<DisputeProof> {
  const party = await openParty(d);
  // a plain run to the disputed step: no checkpoints, nothing past it (a check can be billions
  // of steps)
  let run;
  try {
    run = await transitionCheckAt(party, d.node, d.claim, d.step, {
      honest: true,
      expectPre: d.pre,
      from: d.from,
    });
  } catch (e) {
    if (e instanceof CheckRunError) throw new DisputeMismatch(`${path}: ${e.message}`);
    throw e;
  }
  // the dispute's phase-1 states must be our own (S_(K-1) was checked by the run)
  const { states } = await phase1States(party);
  mismatch(path, `our S_${d.node}`, states[d.node], d.ours);
  if (d.claim === d.ours) {
    throw new DisputeMismatch(`${path}: their S_${d.node} equals ours: nothing is disputed`);
  }
  mismatch(path, "the checker's initial state", run.initial, d.initial);
  return disputeProof(d, run.witness, path);
}

/**
 * The proof document of a dispute's step from our check's witness of it, checked against the
 * pre- and post-states the dispute records: shared by `opml prove --dispute` (a plain rerun) and
 * `opml challenge --prove` (the challenge's own check, from its nearest checkpoint).
 *
 * @example
 * ```ts
 * const doc = disputeProof(dispute, run.witnessAt!(dispute.step), "d.json");
 * ```
 * @throws {DisputeMismatch} naming `path` when the witness is not of the dispute's step.
 */
export function disputeProof(d: DisputeFile, witness: StepWitness, path: string): DisputeProof {
  mismatch(path, `the state at step ${d.step}`, toHash(witness.preStateHash), d.preState);
  const proof = oneStepProof(witness, disputeContext(d.pre, d.claim, d.node));
  mismatch(path, `our state at step ${d.step + 1}`, proof.postStateHash, d.oursPost);
  return { format: "opml-proof/1", node: d.node, theirPostStateHash: d.theirsPost, ...proof };
}

function mismatch(path: string, what: string, got: Hash, want: Hash): void {
  if (got !== want) {
    throw new DisputeMismatch(`${path}: ${what} is ${want}, but our recomputation gives ${got}`);
  }
}
