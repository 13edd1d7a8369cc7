/**
 * The offline challenge from commitments files (`opml challenge --ours --theirs`): our phase-1
 * file names the party whose check we run on demand; their phase-1 file, their phase-2 files or a
 * `--theirs-cmd` peer are their side; the outcome becomes the dispute document (`opml prove
 * --dispute`). The CLI only parses options and prints what this returns.
 * @module
 */
import { EXIT, OpmlError } from "../errors.ts";
import { loadElf } from "../vm/mod.ts";
import { challenge, type ChallengeReport } from "./challenge.ts";
import type { CheckRun } from "./check_run.ts";
import { type CommitmentSource, functionSource, UnavailableError } from "./counterpart.ts";
import { type Hash, toHash } from "./hash.ts";
import { readJson, writeJsonAtomic } from "./json_file.ts";
import type { LinePeer } from "./line_peer.ts";
import { checkerImage, type FileParty, openParty, transitionCheck } from "./party.ts";
import { type DisputeFile, type Phase1Roots, type Phase2Roots } from "./roots_file.ts";
import { theirCheckSource, theirFileStates } from "./their_check.ts";

/** The challenge waits for commitments the counterpart has not given yet (exit `EXIT.waiting`). */
export class ChallengeWaiting extends OpmlError {
  override name = "ChallengeWaiting";
  constructor(
    message: string,
    /** The disputed node whose check is needed, the steps asked (none: its final state first). */
    readonly node: number | undefined,
    readonly steps: readonly number[],
    /** The session file that keeps the progress. */
    readonly session: string,
  ) {
    super(message, EXIT.waiting);
  }
}

/** Options of {@link challengeFiles}. */
export interface ChallengeFilesOptions {
  arity: number;
  /** Our phase-1 commitments. */
  ours: Phase1Roots;
  /** Their phase-1 commitments. */
  theirs: Phase1Roots;
  /** Their phase-2 commitments files (any nodes). */
  theirChecks: Phase2Roots[];
  /** A command answering their phase-2 queries over the line protocol (`{node}` replaced). */
  theirsCmd?: string;
  sessionPath: string;
  maxSteps: number;
  singlePhase?: boolean;
  /** Write the dispute document here (when there is a dispute). */
  out?: string;
  onProgress?: (message: string) => void;
}

/** The outcome of {@link challengeFiles}: the report, and the dispute document if any. */
export interface ChallengeFilesResult {
  report: ChallengeReport;
  dispute?: DisputeFile;
}

/**
 * Runs (or resumes) the offline challenge of our commitments against theirs.
 *
 * @example
 * ```ts
 * const { report, dispute } = await challengeFiles({
 *   arity: 4, ours, theirs, theirChecks: [], theirsCmd: "opml roots ... --node {node} --serve",
 *   sessionPath: "ours.session.json", maxSteps: 2 ** 36,
 * });
 * ```
 * @throws {ChallengeWaiting} when their commitments needed next are not in their files (the
 *   progress is kept in the session); {@link CounterpartError}, {@link DisputeError} as
 *   {@link challenge}.
 */
export async function challengeFiles(opts: ChallengeFilesOptions): Promise<ChallengeFilesResult> {
  const { ours, theirChecks: p2, sessionPath: session } = opts;
  const progress = opts.onProgress ?? (() => {});
  const peers: LinePeer[] = [];
  let party: FileParty | undefined;
  let disputedNode: number | undefined;
  let waitingFor: UnavailableError | undefined;
  let image: Uint8Array | undefined;
  let report: ChallengeReport;
  try {
    report = await challenge({
      arity: opts.arity,
      ours: ours.states,
      theirs: opts.theirs.states,
      context: { model: ours.model.commitment },
      sessionPath: session,
      maxCheckSteps: opts.maxSteps,
      onProgress: progress,
      singlePhase: opts.singlePhase === true,
      // a session's answers of theirs are re-checked against their files (not a live command's)
      theirRecorded: opts.theirsCmd === undefined
        ? (d) => theirFileStates(p2, d.node, d.from ?? d.node - 1)
        : undefined,
      phase2: async (d) => {
        disputedNode = d.node;
        party ??= openParty(ours);
        image ??= await checkerImage(party.model);
        const initial = toHash(loadElf(image).hash());
        let run: Promise<CheckRun> | undefined;
        const ourRun = () =>
          run ??= transitionCheck(party!, d.node, d.claim, {
            honest: true,
            expectPre: d.pre,
            from: d.from,
            image,
            maxSteps: opts.maxSteps,
            onProgress: (s) => progress(`our check of node ${d.node}: step ${s}`),
          });
        const theirs = theirCheckSource(
          p2,
          opts.theirsCmd,
          d.node,
          d.pre,
          d.claim,
          initial,
          peers,
          d.from ?? d.node - 1,
        );
        if (opts.theirsCmd !== undefined) {
          // their process starts computing now, in parallel with ours
          Promise.resolve(theirs.final()).catch(() => {});
          await ourRun();
        }
        const oursSrc: CommitmentSource = functionSource(async (t) => (await ourRun()).hashAt(t));
        return { initial, ours: oursSrc, theirs };
      },
    }).catch((e) => {
      if (e instanceof UnavailableError) waitingFor = e;
      throw e;
    });
  } catch (e) {
    if (e instanceof UnavailableError) {
      const steps = waitingFor?.indices ?? [];
      throw new ChallengeWaiting(
        `waiting for ${e.message}: add their file (opml roots ... --phase 2 --node ${disputedNode} ${
          steps.length ? `--at ${steps.join(",")}` : "--at 0"
        }) with --theirs, or use --theirs-cmd; progress is kept in ${session}`,
        disputedNode,
        steps,
        session,
      );
    }
    throw e;
  } finally {
    for (const p of peers) await p.close();
  }
  const o = report.outcome;
  if (!o.dispute) return { report };
  const dispute: DisputeFile = {
    format: "opml-dispute/1",
    model: ours.model,
    inputs: ours.inputs,
    ...(ours.tamper !== undefined ? { tamper: ours.tamper } : {}),
    node: o.node.node,
    ...(o.node.from !== undefined ? { from: o.node.from } : {}),
    pre: o.node.pre,
    claim: o.node.claim,
    ours: o.node.ours,
    initial: (readJson(session, "session file") as { phase2: { initial: Hash } }).phase2.initial,
    final: o.final,
    step: o.step,
    preState: o.preState,
    oursPost: o.oursPost,
    theirsPost: o.theirsPost,
  };
  if (opts.out) writeJsonAtomic(opts.out, dispute);
  return { report, dispute };
}
