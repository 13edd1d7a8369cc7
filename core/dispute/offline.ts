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
import { type CommitmentSource, UnavailableError } from "./counterpart.ts";
import type { CheckRun } from "./check_run.ts";
import { partyAnswers } from "./engine.ts";
import { type Hash, toHash } from "./hash.ts";
import { readJson, writeJsonAtomic } from "./json_file.ts";
import type { LinePeer } from "./line_peer.ts";
import { checkerImage, type FileParty, openParty } from "./party.ts";
import { type DisputeFile, parseRoots, type Phase1Roots, type Phase2Roots } from "./roots_file.ts";
import { theirCheckSource, theirFileStates } from "./their_check.ts";
import { type DisputeProof, disputeProof, proveDispute } from "./prove_dispute.ts";

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

/** The commitments files of an offline challenge cannot be used together (exit code 1, or 2). */
export class ChallengeFilesError extends OpmlError {
  override name = "ChallengeFilesError";
}

/** A commitments file, read and checked. */
export function loadRoots(path: string): ReturnType<typeof parseRoots> {
  return parseRoots(readJson(path, "commitments file"), path);
}

/**
 * The commitments files of `opml challenge --ours FILE --theirs FILE...`, read and sorted: our
 * phase-1 file, their one phase-1 file, and their phase-2 files.
 *
 * @example
 * ```ts
 * const { ours, theirs, theirChecks } = loadChallengeFiles("ours.json", ["theirs.json"]);
 * ```
 * @throws {ChallengeFilesError} for a phase-2 file as ours (exit 1), or not exactly one phase-1
 *   file of theirs (usage, exit 2); `RootsFileError` for a malformed file.
 */
export function loadChallengeFiles(
  oursPath: string,
  theirPaths: readonly string[],
): { ours: Phase1Roots; theirs: Phase1Roots; theirChecks: Phase2Roots[] } {
  const ours = loadRoots(oursPath);
  if (ours.phase !== 1) {
    throw new ChallengeFilesError(
      `--ours ${oursPath}: phase-${ours.phase} commitments; give our phase-1 file (opml roots DIR -i X)`,
    );
  }
  const docs = theirPaths.map(loadRoots);
  const p1 = docs.filter((d) => d.phase === 1);
  if (p1.length !== 1) {
    throw new ChallengeFilesError(
      `--theirs: give exactly one phase-1 commitments file (got ${p1.length})`,
      EXIT.usage,
    );
  }
  return {
    ours,
    theirs: p1[0] as Phase1Roots,
    theirChecks: docs.filter((d) => d.phase === 2) as Phase2Roots[],
  };
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
  /**
   * Also write the disputed step's proof here (what `opml prove --dispute` writes), from our
   * check of this run: its checkpoints make the step's witness a short re-execution instead of a
   * second run of the whole check.
   */
  proofOut?: string;
  onProgress?: (message: string) => void;
}

/** The outcome of {@link challengeFiles}: the report, and the dispute document if any. */
export interface ChallengeFilesResult {
  report: ChallengeReport;
  dispute?: DisputeFile;
  /** The disputed step's proof, with `proofOut`. */
  proof?: DisputeProof;
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
  let ourCheck: (() => Promise<CheckRun>) | undefined;
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
        // our answers: the party's honest check of their claim (the engine's, as on chain)
        const answers = partyAnswers(party, {
          role: "challenger",
          states: ours.states,
          image,
          maxSteps: opts.maxSteps,
          log: (line) => progress(`node ${d.node}: ${line}`),
        });
        const transition = { from: d.from ?? d.node - 1, node: d.node, pre: d.pre, claim: d.claim };
        ourCheck = () => answers.check(transition);
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
          await answers.check(transition);
        }
        const oursSrc: CommitmentSource = { at: (ix) => answers.at(2, ix, transition) };
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
    ...(ours.liesFrom !== undefined ? { liesFrom: ours.liesFrom } : {}),
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
  if (opts.proofOut === undefined) return { report, dispute };
  const label = opts.out ?? opts.proofOut;
  // a session replayed to its end ran no check in this process: then a plain rerun, as prove's
  const proof = ourCheck
    ? disputeProof(dispute, witnessOf(await ourCheck(), dispute.step), label)
    : await proveDispute(dispute, label);
  writeJsonAtomic(opts.proofOut, proof);
  return { report, dispute, proof };
}

function witnessOf(run: CheckRun, step: number) {
  if (!run.witnessAt) throw new OpmlError(`our check run cannot prove its steps`);
  return run.witnessAt(step);
}
