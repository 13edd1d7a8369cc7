/**
 * What `opml roots` computes: a party's phase-1 commitments, its check of one transition and the
 * phase-2 commitments of that check at chosen steps, or the check served to a challenger over
 * the line protocol (the party defends its claim through the dispute engine). The CLI parses the
 * options and prints the documents.
 * @module
 */
import { EXIT, OpmlError } from "../errors.ts";
import type { CheckRun } from "./check_run.ts";
import { type Answers, partyAnswers, type Transition } from "./engine.ts";
import type { Hash } from "./hash.ts";
import { servePeer } from "./line_peer.ts";
import { type FileParty, phase1States } from "./party.ts";
import type { Phase1Roots, Phase2Roots } from "./roots_file.ts";
import { phase2Header } from "./their_check.ts";

/** A request `opml roots` cannot serve (a node or step outside the check): usage, exit 2. */
export class RootsRequestError extends OpmlError {
  override name = "RootsRequestError";
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/**
 * A party's phase-1 commitments document (S_0 .. S_(N+1), from a native run).
 *
 * @example
 * ```ts
 * const doc = await phase1Roots(newParty("out/mnist", ["x.json"]));
 * ```
 */
export async function phase1Roots(party: FileParty): Promise<Phase1Roots> {
  const { states } = await phase1States(party);
  return { format: "opml-roots/1", phase: 1, ...party.spec, nodes: states.length - 2, states };
}

/** Options of {@link phase2Check}. */
export interface Phase2CheckOptions {
  /** The node whose check to run; absent with `singlePhase`: the whole model (node N + 1). */
  node?: number;
  singlePhase?: boolean;
  /** The S_K to check (default: the party's own: it defends its claim, as it behaves). */
  claim?: Hash;
  maxSteps: number;
  /** Our phase-1 states, if known. */
  states?: readonly Hash[];
  onProgress?: (message: string) => void;
}

/** A party's check of one transition: its answers, the transition, and (once run) the run. */
export interface Phase2Check {
  answers: Answers;
  transition: Transition;
  /** Builds the phase-2 header of the run (the document without states). */
  header(run: { initial: Hash; end: CheckRun["end"] }): Phase2Roots;
}

/**
 * The check a party runs for `opml roots --phase 2`: of its own S_K (it defends it, lying at its
 * node if it lies) or of a given claim (checked honestly).
 *
 * @example
 * ```ts
 * const check = await phase2Check(party, { node: 3, maxSteps: 2 ** 36 });
 * const run = await check.answers.check(check.transition);
 * ```
 * @throws {RootsRequestError} for a node outside 1 .. N + 1.
 */
export async function phase2Check(party: FileParty, opts: Phase2CheckOptions): Promise<Phase2Check> {
  const states = opts.states ?? (await phase1States(party)).states;
  const n = states.length - 2;
  const node = opts.singlePhase ? n + 1 : opts.node!;
  const from = opts.singlePhase ? 0 : node - 1;
  if (!(Number.isSafeInteger(node) && node >= 1 && node <= n + 1)) {
    throw new RootsRequestError(`--node ${node}: the checks are of nodes 1 .. ${n + 1}`);
  }
  const claim = opts.claim ?? states[node];
  const transition: Transition = { from, node, pre: states[from], claim };
  const progress = opts.onProgress ?? (() => {});
  const answers = partyAnswers(party, {
    role: claim === states[node] ? "defender" : "challenger",
    states,
    maxSteps: opts.maxSteps,
    log: (line) => progress(`check of node ${node}: ${line}`),
  });
  return {
    answers,
    transition,
    header: (run) => phase2Header(party, node, states[from], claim, run, from),
  };
}

/**
 * The steps of a phase-2 document: `at` as given (checked against the end of the check), or
 * every `stride` steps (default: 64 states over the check) and the final step.
 *
 * @example
 * ```ts
 * checkSteps(1000, { stride: 300 }); // [0, 300, 600, 900, 1000]
 * ```
 * @throws {RootsRequestError} for a step past the end, or a stride below 1.
 */
export function checkSteps(end: number, opts: { at?: readonly number[]; stride?: number }): number[] {
  if (opts.at !== undefined) {
    const past = opts.at.find((t) => t > end);
    if (past !== undefined) throw new RootsRequestError(`--at ${past}: the check ends at step ${end}`);
    return [...opts.at];
  }
  const stride = opts.stride ?? Math.max(1, Math.ceil(end / 64));
  if (stride < 1) throw new RootsRequestError("--stride must be at least 1");
  const steps: number[] = [];
  for (let t = 0; t < end; t += stride) steps.push(t);
  steps.push(end);
  return steps;
}

/**
 * The phase-2 commitments document of a check at `steps`.
 *
 * @example
 * ```ts
 * const doc = phase2Roots(check, run, checkSteps(run.end.step, {}));
 * ```
 */
export function phase2Roots(check: Phase2Check, run: CheckRun, steps: readonly number[]): Phase2Roots {
  return { ...check.header(run), states: steps.map((step) => ({ step, hash: run.hashAt(step) })) };
}

/**
 * Serves a check over the line protocol (`opml roots --phase 2 --serve`): the party defends its
 * claim through the dispute engine (the header, then our states at each query's steps).
 *
 * @example
 * ```ts
 * await serveCheck(check, Deno.stdin.readable, (line) => Deno.stdout.writeSync(encode(line)));
 * ```
 */
export async function serveCheck(
  check: Phase2Check,
  input: ReadableStream<Uint8Array>,
  write: (line: string) => void,
): Promise<void> {
  await servePeer(check.answers, check.transition, check.header, input, write);
}
