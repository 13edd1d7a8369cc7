/**
 * The commitments files of `opml roots` (format `opml-roots/1`): a party's phase-1 states, or
 * the VM state hashes of its check of one node at chosen steps; and the dispute file of
 * `opml challenge` (format `opml-dispute/1`) that `opml prove` turns into a one-step proof.
 * Every document names the model directory, the input files and the party's behaviour
 * (`liesFrom`, the `--tamper` setting; `tamper` in older files) that produced it, so that the commitments can be recomputed on demand.
 * @module
 */
import { OpmlError } from "../errors.ts";
import { type Hash, isHash, statusOf } from "./hash.ts";

/** Which computation produced a file: the model, the inputs, and the party's behaviour. */
export interface RunSpec {
  model: { dir: string; commitment: Hash };
  /** `--input` arguments (`FILE` or `NAME=FILE`), paths absolute. */
  inputs: string[];
  /**
   * The party lies from node K on (`--tamper node=K`: a dishonest server). Files written before
   * the rename say `tamper`: read as `liesFrom`.
   */
  liesFrom?: number;
}

/** Phase-1 commitments: S_0 .. S_(N+1). */
export interface Phase1Roots extends RunSpec {
  format: "opml-roots/1";
  phase: 1;
  nodes: number;
  states: Hash[];
}

/** Phase-2 commitments: the VM states of the check of node K (from S_(K-1) to the claimed S_K). */
export interface Phase2Roots extends RunSpec {
  format: "opml-roots/1";
  phase: 2;
  node: number;
  /**
   * Single-phase mode: the check runs nodes from+1 .. K from S_from (from = 0, K = N + 1: the
   * whole model). Absent: from = K - 1, one node's check.
   */
  from?: number;
  /** S_(K-1) (S_from in single-phase mode). */
  pre: Hash;
  /** S_K, the claim the check verifies. */
  claim: Hash;
  /** The check's initial VM state hash (names the checker image). */
  initial: Hash;
  /** Where the check ends: its exited state. */
  final: { step: number; hash: Hash };
  /** State hashes at the requested steps, ascending. */
  states: { step: number; hash: Hash }[];
}

/** Either commitments file. */
export type RootsFile = Phase1Roots | Phase2Roots;

/** The dispute `opml challenge` found: what `opml prove --dispute` needs. */
export interface DisputeFile extends RunSpec {
  format: "opml-dispute/1";
  node: number;
  /** Single-phase mode: the check starts after node `from` (0); absent: K - 1. */
  from?: number;
  /** S_(K-1), agreed (S_from in single-phase mode). */
  pre: Hash;
  /** Their S_K: the claim whose check is disputed. */
  claim: Hash;
  /** Our S_K. */
  ours: Hash;
  /** The checker's initial state hash. */
  initial: Hash;
  /** Their claimed end of the check. */
  final: { step: number; hash: Hash };
  /** The disputed step: from state `step` (agreed) to `step + 1`. */
  step: number;
  preState: Hash;
  oursPost: Hash;
  theirsPost: Hash;
}

/** A commitments or dispute file that cannot be used: the message names the file and the field. */
export class RootsFileError extends OpmlError {
  override name = "RootsFileError";
}

function checker(doc: unknown, path: string, what: string) {
  const fail = (why: string): never => {
    throw new RootsFileError(`${what} ${path}: ${why}`);
  };
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) fail("not a JSON object");
  const d = doc as Record<string, unknown>;
  const hash = (
    v: unknown,
    field: string,
  ): Hash => (isHash(v)
    ? v
    : fail(`${field} must be a 32-byte hex hash, got ${JSON.stringify(v)?.slice(0, 80)}`));
  const count = (v: unknown, field: string, min = 0): number =>
    Number.isSafeInteger(v) && (v as number) >= min
      ? (v as number)
      : fail(`${field} must be an integer >= ${min}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  const spec = (): RunSpec => {
    const m = d.model as Record<string, unknown> | undefined;
    if (!m || typeof m !== "object" || typeof m.dir !== "string") fail("model.dir missing");
    const inputs = d.inputs;
    if (!Array.isArray(inputs) || !inputs.every((s) => typeof s === "string")) {
      fail("inputs must be a list of strings");
    }
    const out: RunSpec = {
      model: { dir: m!.dir as string, commitment: hash(m!.commitment, "model.commitment") },
      inputs: inputs as string[],
    };
    // `tamper`: the field's name before it was `liesFrom` (still read)
    if (d.liesFrom !== undefined && d.tamper !== undefined) fail("both liesFrom and tamper (its old name)");
    if (d.liesFrom !== undefined) out.liesFrom = count(d.liesFrom, "liesFrom", 1);
    else if (d.tamper !== undefined) out.liesFrom = count(d.tamper, "tamper", 1);
    return out;
  };
  return { d, fail, hash, count, spec };
}

/**
 * Checks a parsed commitments file. Phase-1 states must be keccak keys (first byte 2) and one
 * more than the node count plus one; phase-2 states must be VM state hashes at distinct
 * ascending steps within the check, consistent with its final state.
 *
 * @example
 * ```ts
 * const roots = parseRoots(readJson("theirs.json", "commitments file"), "theirs.json");
 * ```
 * @throws {RootsFileError} naming the file and the first problem.
 */
export function parseRoots(doc: unknown, path: string): RootsFile {
  const { d, fail, hash, count, spec } = checker(doc, path, "commitments file");
  if (d.format !== "opml-roots/1") {
    fail(`not an opml commitments file (format ${JSON.stringify(d.format)}, expected "opml-roots/1")`);
  }
  const base = spec();
  if (d.phase === 1) {
    const nodes = count(d.nodes, "nodes");
    if (!Array.isArray(d.states)) fail("states must be a list");
    const states = (d.states as unknown[]).map((s, i) => hash(s, `S_${i}`));
    if (states.length !== nodes + 2) {
      fail(`${states.length} states for ${nodes} nodes (S_0 .. S_${nodes + 1} is ${nodes + 2})`);
    }
    states.forEach((s, i) =>
      s.startsWith("0x02") || fail(`S_${i} is not a phase-1 state (a keccak key, first byte 0x02)`)
    );
    return { format: "opml-roots/1", phase: 1, ...base, nodes, states };
  }
  if (d.phase === 2) {
    const node = count(d.node, "node", 1);
    const f = d.final as Record<string, unknown> | undefined;
    if (!f || typeof f !== "object") fail("final missing");
    const final = { step: count(f!.step, "final.step", 1), hash: hash(f!.hash, "final.hash") };
    if (statusOf(final.hash) > 2) fail(`final.hash is not an exited state (status ${statusOf(final.hash)})`);
    if (!Array.isArray(d.states)) fail("states must be a list");
    let last = -1;
    const states = (d.states as unknown[]).map((e, i) => {
      const r = e as Record<string, unknown>;
      if (!r || typeof r !== "object") fail(`states[${i}] must be {step, hash}`);
      const step = count(r.step, `states[${i}].step`);
      if (step <= last) fail(`states[${i}]: steps must be distinct and ascending (${step} after ${last})`);
      if (step > final.step) fail(`states[${i}]: step ${step} is past the final step ${final.step}`);
      last = step;
      const h = hash(r.hash, `states[${i}].hash`);
      if (step === final.step && h !== final.hash) {
        fail(`states[${i}]: the state at the final step ${step} differs from final.hash`);
      }
      if (step < final.step && statusOf(h) !== 3) {
        fail(
          `states[${i}]: step ${step} is before the final step, yet its status is ${statusOf(h)} (exited)`,
        );
      }
      return { step, hash: h };
    });
    return {
      format: "opml-roots/1",
      phase: 2,
      ...base,
      node,
      ...fromField(d.from, node, count, fail),
      pre: hash(d.pre, "pre"),
      claim: hash(d.claim, "claim"),
      initial: hash(d.initial, "initial"),
      final,
      states,
    };
  }
  return fail(`phase must be 1 or 2, got ${JSON.stringify(d.phase)}`);
}

/** The optional `from` of a single-phase check: below `node`, and absent when it is node - 1. */
function fromField(
  v: unknown,
  node: number,
  count: (v: unknown, what: string, min?: number) => number,
  fail: (why: string) => never,
): { from?: number } {
  if (v === undefined) return {};
  const from = count(v, "from");
  if (from >= node) fail(`from ${from} must be below node ${node}`);
  return from === node - 1 ? {} : { from };
}

/**
 * Checks a parsed dispute file (`opml challenge -o`).
 *
 * @example
 * ```ts
 * const dispute = parseDispute(readJson("dispute.json", "dispute file"), "dispute.json");
 * ```
 * @throws {RootsFileError} naming the file and the first problem.
 */
export function parseDispute(doc: unknown, path: string): DisputeFile {
  const { d, fail, hash, count, spec } = checker(doc, path, "dispute file");
  if (d.format !== "opml-dispute/1") {
    fail(`not an opml dispute file (format ${JSON.stringify(d.format)}, expected "opml-dispute/1")`);
  }
  const f = d.final as Record<string, unknown> | undefined;
  if (!f || typeof f !== "object") fail("final missing");
  const out: DisputeFile = {
    format: "opml-dispute/1",
    ...spec(),
    node: count(d.node, "node", 1),
    ...fromField(d.from, count(d.node, "node", 1), count, fail),
    pre: hash(d.pre, "pre"),
    claim: hash(d.claim, "claim"),
    ours: hash(d.ours, "ours"),
    initial: hash(d.initial, "initial"),
    final: { step: count(f!.step, "final.step", 1), hash: hash(f!.hash, "final.hash") },
    step: count(d.step, "step"),
    preState: hash(d.preState, "preState"),
    oursPost: hash(d.oursPost, "oursPost"),
    theirsPost: hash(d.theirsPost, "theirsPost"),
  };
  if (out.step >= out.final.step) fail(`step ${out.step} is not before the final step ${out.final.step}`);
  if (out.oursPost === out.theirsPost) fail("oursPost equals theirsPost: nothing is disputed");
  return out;
}
