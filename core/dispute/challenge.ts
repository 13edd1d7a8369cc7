/**
 * The two-phase challenge, offline: phase 1 dissects the node states S_0 .. S_(N+1) down to the
 * first node K whose state the sides dispute; phase 2 dissects the VM steps of the check of their
 * S_K (from the agreed S_(K-1)) down to one step. Progress lives in a session file written
 * atomically after every committed move: an interrupted challenge resumes where it stopped,
 * asking nobody again for what it already has, and a session refuses to resume another dispute.
 * The challenge is the dispute engine (engine.ts) played against the offline referee
 * (`OfflineChallenge`, a transport like the chain's): our answers are the engine's moves.
 * @module
 */
import {
  type CommitmentSource,
  CounterpartError,
  describeNodeState,
  describeStep,
  DisputeError,
  Ledger,
  UnavailableError,
} from "./counterpart.ts";
import { type AnswerRule, Dissection, type Move, OfflineReferee } from "./dissect.ts";
import { type Answers, playParty, type Transition, type Turn } from "./engine.ts";
import { checkArity } from "./dissection.ts";
import { type Hash, isHash, statusOf } from "./hash.ts";
import { readJsonIfExists, writeJsonAtomic } from "./json_file.ts";
import { sha256 } from "@noble/hashes/sha2.js";

/** A VM state hash's status byte: exited with code 0. */
export const STATUS_VALID = 0;
/** A VM state hash's status byte: not exited. */
export const STATUS_UNFINISHED = 3;

/** The phase-2 counterpart: its states of the check by step, and its claimed final state. */
export interface CheckSource extends CommitmentSource {
  /** `{ step, hash }`: the step where their check ends and its (exited-valid) state hash. */
  final(): unknown | Promise<unknown>;
}

/** What phase 2 needs, made by the caller once phase 1 has found node K. */
export interface Phase2Sources {
  /** The checker's initial VM state hash (the same for both sides by construction). */
  initial: Hash;
  /** Our states of the check of their S_K (computed on demand). */
  ours: CommitmentSource;
  theirs: CheckSource;
}

/** The disputed node, as phase 2 receives it. */
export interface DisputedNode {
  node: number;
  /**
   * Single-phase mode: the check runs nodes from+1 .. K from S_from (0 and N + 1: the whole
   * model in the VM). Absent: from = K - 1 (multi-phase, one node).
   */
  from?: number;
  /** S_(K-1), agreed (S_from in single-phase mode). */
  pre: Hash;
  /** Their S_K, the claim the check verifies. */
  claim: Hash;
  /** Our S_K. */
  ours: Hash;
}

/** Their claimed end of the check. */
export interface FinalClaim {
  step: number;
  hash: Hash;
}

/** The result of a challenge. */
export type ChallengeOutcome =
  | { dispute: false; reason: "same-result"; nodes: number }
  | { dispute: false; reason: "claim-holds"; node: DisputedNode; final: FinalClaim }
  | {
    dispute: true;
    node: DisputedNode;
    final: FinalClaim;
    /** The disputed VM step: the transition from state `step` (agreed) to `step + 1`. */
    step: number;
    preState: Hash;
    oursPost: Hash;
    theirsPost: Hash;
  };

/** Counts of a challenge, over all its runs (a resumed session adds to them). */
export interface ChallengeStats {
  rounds: { phase1: number; phase2: number };
  /** Commitments asked of each side, phase 1 from files included. */
  asked: { ours: number; theirs: number };
}

/** The session file's document. */
export interface ChallengeSession {
  format: "opml-challenge/1";
  /** Their answers to the round in progress (ours not yet computed). */
  pending?: { points: number[]; theirs: Hash[] };
  /** What identifies the dispute: a session resumes only with the same parameters. */
  params: ChallengeParams;
  phase1: { moves: Move[]; node?: number };
  phase2?: {
    node: DisputedNode;
    initial: Hash;
    final: FinalClaim;
    /** Our state at their final step. */
    oursEnd?: Hash;
    moves: Move[];
    step?: number;
  };
  stats: ChallengeStats;
  outcome?: ChallengeOutcome;
}

/** The parameters a session is bound to. */
export interface ChallengeParams {
  arity: number;
  nodes: number;
  ours: { first: Hash; last: Hash };
  theirs: { last: Hash };
  /** Anything else that names the dispute (model commitment, ...), compared as given. */
  context: Record<string, string | number>;
  /**
   * Digests (sha256 of the JSON list) of both sides' phase-1 states: the commitments the
   * session was made from. A session resumes only with the same files.
   */
  files?: { ours: string; theirs: string };
}

/** The digest of a list of phase-1 states that binds a session to a commitments file. */
function statesDigest(states: readonly unknown[]): string {
  const d = sha256(new TextEncoder().encode(JSON.stringify(states)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A session file that cannot be used: wrong format, or another dispute's. */
export class SessionError extends DisputeError {
  override name = "SessionError";
}

/** Options of {@link challenge}. */
export interface ChallengeOptions {
  arity: number;
  /** Our phase-1 states S_0 .. S_(N+1). */
  ours: readonly Hash[];
  /** Their phase-1 states as their file gives them (checked here). */
  theirs: readonly unknown[];
  context?: Record<string, string | number>;
  /** The session file; without it the challenge keeps its progress in memory only. */
  sessionPath?: string;
  /**
   * Opens phase 2 for the disputed node (called again when a session resumes in phase 2;
   * not for a finished session, which is replayed from its moves without asking anyone).
   */
  phase2(node: DisputedNode): Phase2Sources | Promise<Phase2Sources>;
  /**
   * Their phase-2 commitments known locally for the disputed node (their files), by step: on
   * resume, every recorded answer of theirs must be there and equal (a session does not match
   * the commitments it was made from otherwise). Absent (a live counterpart): not re-checked.
   */
  theirRecorded?: (node: DisputedNode) => ReadonlyMap<number, unknown> | undefined;
  /** The step bound of a check: their final step must not exceed it. */
  maxCheckSteps?: number;
  /** Progress for humans (stderr). */
  onProgress?: (message: string) => void;
  /**
   * Single-phase mode, the baseline the multi-phase game must beat: no dissection of node
   * states; phase 2 dissects the check of the whole model (S_0 to their S_(N+1)). Recorded in
   * the session's parameters (a session resumes only in its own mode).
   */
  singlePhase?: boolean;
}

/** The outcome of {@link challenge} with its counts. */
export interface ChallengeReport {
  outcome: ChallengeOutcome;
  stats: ChallengeStats;
  /** Whether this call resumed a session. */
  resumed: boolean;
}

/**
 * The rules of VM state hashes by step: status bytes 0..3, and an exited state (status 0, 1, 2)
 * never changes again, so every later step has the same hash.
 */
export const vmTraceRule: AnswerRule = (_side, index, hash, known) => {
  const s = statusOf(hash);
  if (s > STATUS_UNFINISHED) return `status byte ${s} is not a VM status (0-3)`;
  for (const [j, h] of known) {
    if (j < index && statusOf(h) !== STATUS_UNFINISHED && h !== hash) {
      return `the state at step ${j} has exited (status ${statusOf(h)}), so every later state must equal it`;
    }
    if (j > index && s !== STATUS_UNFINISHED && h !== hash) {
      return `it has exited (status ${s}), yet the state at step ${j} differs`;
    }
  }
  return undefined;
};

/** Phase-1 states are keccak preimage keys: first byte 2. */
const nodeStateRule: AnswerRule = (_side, _i, hash) =>
  hash.startsWith("0x02") ? undefined : "a phase-1 state is a keccak key (first byte 0x02)";

function sameParams(a: ChallengeParams, b: ChallengeParams): string | undefined {
  if (a.arity !== b.arity) return `arity ${a.arity}, not ${b.arity}`;
  if (a.nodes !== b.nodes) return `${a.nodes} nodes, not ${b.nodes}`;
  if (a.ours.first !== b.ours.first) return `our S_0 ${a.ours.first}, not ${b.ours.first}`;
  if (a.ours.last !== b.ours.last) return `our result state ${a.ours.last}, not ${b.ours.last}`;
  if (a.theirs.last !== b.theirs.last) return `their result state ${a.theirs.last}, not ${b.theirs.last}`;
  const keys = new Set([...Object.keys(a.context), ...Object.keys(b.context)]);
  for (const k of keys) if (a.context[k] !== b.context[k]) return `${k} ${a.context[k]}, not ${b.context[k]}`;
  return undefined;
}

/** Checks a session document's shape (enough to resume from it without crashing). */
function parseSession(doc: unknown, path: string): ChallengeSession {
  const bad = (why: string): never => {
    throw new SessionError(`session file ${path}: ${why} (delete it to start over)`);
  };
  const s = doc as ChallengeSession;
  if (!s || typeof s !== "object" || s.format !== "opml-challenge/1") bad("not an opml challenge session");
  const isMoves = (m: unknown) =>
    Array.isArray(m) && m.every((x) =>
      x && Array.isArray(x.points) && x.points.every(Number.isSafeInteger) &&
      Array.isArray(x.ours) && x.ours.every(isHash) && Array.isArray(x.theirs) && x.theirs.every(isHash)
    );
  if (
    !s.params || typeof s.params !== "object" || !s.params.ours || !s.params.theirs ||
    typeof s.params.context !== "object"
  ) bad("no parameters");
  if (!s.phase1 || !isMoves(s.phase1.moves)) bad("malformed phase-1 moves");
  if (
    s.phase2 &&
    (!isMoves(s.phase2.moves) || !s.phase2.node || !isHash(s.phase2.initial) || !s.phase2.final ||
      !isHash(s.phase2.final.hash))
  ) {
    bad("malformed phase-2 record");
  }
  if (
    s.pending &&
    (!isMoves([{ ...s.pending, ours: [] }]) || s.pending.points.length !== s.pending.theirs.length)
  ) {
    bad("malformed pending round");
  }
  if (!s.stats?.rounds || !s.stats?.asked) bad("no statistics");
  return s;
}

/**
 * Runs or resumes a challenge of their phase-1 states against ours.
 *
 * @example
 * ```ts
 * const report = await challenge({
 *   arity: 4, ours: ourStates, theirs: theirStates, sessionPath: "c.session.json",
 *   phase2: (d) => checkSources(d), // our check trace and their answers for node d.node
 * });
 * if (report.outcome.dispute) console.log(report.outcome.node.node, report.outcome.step);
 * ```
 * @throws {CounterpartError} for impossible or changed answers; {@link SessionError} for a
 *   session of another dispute; {@link UnavailableError} when their source cannot answer yet
 *   (the session keeps every committed move).
 */
export async function challenge(opts: ChallengeOptions): Promise<ChallengeReport> {
  checkArity(opts.arity);
  const ours = opts.ours;
  const n = ours.length - 2;
  if (n < 0) {
    throw new DisputeError(`our commitments have ${ours.length} states; a program of N nodes has N + 2`);
  }
  ours.forEach((h, i) => {
    if (!isHash(h) || nodeStateRule("ours", i, h, new Map())) {
      throw new CounterpartError("ours", `our S_${i} is not a phase-1 state: ${h}`);
    }
  });
  const theirs = opts.theirs;
  if (theirs.length !== ours.length) {
    throw new CounterpartError(
      "theirs",
      `their commitments have ${theirs.length} states, ours ${ours.length}: not the same program (N + 2 states for N nodes)`,
    );
  }
  const p1 = new Ledger(describeNodeState);
  for (const i of [0, n + 1]) {
    p1.record("ours", i, ours[i]);
    p1.record("theirs", i, theirs[i]);
    const why = nodeStateRule("theirs", i, p1.theirs.get(i)!, p1.theirs);
    if (why) throw new CounterpartError("theirs", `their S_${i}: ${why}`);
  }
  if (p1.theirs.get(0) !== ours[0]) {
    throw new CounterpartError(
      "theirs",
      `their S_0 ${p1.theirs.get(0)} differs from ours ${
        ours[0]
      }: S_0 is the task (model and input), so this is not a dispute about the same task`,
    );
  }
  const params: ChallengeParams = {
    arity: opts.arity,
    nodes: n,
    ours: { first: ours[0], last: ours[n + 1] },
    theirs: { last: p1.theirs.get(n + 1)! },
    context: { ...(opts.context ?? {}), ...(opts.singlePhase ? { mode: "single-phase" } : {}) },
    files: { ours: statesDigest(ours), theirs: statesDigest(theirs) },
  };

  let session: ChallengeSession;
  let resumed = false;
  const existing = opts.sessionPath ? readJsonIfExists(opts.sessionPath, "session file") : undefined;
  if (existing !== undefined) {
    session = parseSession(existing, opts.sessionPath!);
    const diff = sameParams(session.params, params);
    if (diff) {
      throw new SessionError(
        `session file ${opts.sessionPath} is for another dispute (${diff}); use another --session file`,
      );
    }
    resumed = true;
  } else {
    session = {
      format: "opml-challenge/1",
      params,
      phase1: { moves: [] },
      stats: { rounds: { phase1: 0, phase2: 0 }, asked: { ours: 0, theirs: 0 } },
    };
  }
  const save = () => {
    if (opts.sessionPath) writeJsonAtomic(opts.sessionPath, session);
  };
  // A finished session is replayed from its moves (asking nobody); its outcome must follow.
  const finished = session.outcome;
  function sessionError(why: string): never {
    throw new SessionError(
      `session file ${opts.sessionPath}: ${why}; use another --session file or delete it`,
    );
  }
  const finish = (outcome: ChallengeOutcome): ChallengeReport => {
    if (finished) {
      if (JSON.stringify(outcome) !== JSON.stringify(finished)) {
        sessionError("its outcome does not follow from its recorded moves (edited?)");
      }
      return { outcome: finished, stats: session.stats, resumed };
    }
    session.outcome = outcome;
    save();
    return { outcome, stats: session.stats, resumed };
  };
  if (!resumed) save();

  if (resumed) {
    // bound to the commitments it was made from: every recorded answer must be in the files
    const files = session.params.files;
    const theirFileChanged = files !== undefined && files.theirs !== params.files!.theirs;
    for (const [i, m] of session.phase1.moves.entries()) {
      m.points.forEach((p, k) => {
        const now = theirs[p];
        if (now === m.theirs[k]) return;
        if (theirFileChanged) {
          throw new CounterpartError(
            "theirs",
            `their S_${p} changed since the session began: ${m.theirs[k]}, now ${String(now)}`,
          );
        }
        sessionError(
          `move ${i + 1} records their S_${p} as ${m.theirs[k]}, but their file has ${String(now)}`,
        );
      });
      m.points.forEach((p, k) => {
        if (ours[p] !== m.ours[k]) {
          sessionError(`move ${i + 1} records our S_${p} as ${m.ours[k]}, but our file has ${ours[p]}`);
        }
      });
    }
    if (files === undefined) {
      sessionError("it is not bound to the commitments files it was made from (an older session)");
    }
    if (files.ours !== params.files!.ours) {
      sessionError(
        "it was made from other phase-1 commitments of ours (--ours changed since the session began)",
      );
    }
    if (theirFileChanged) {
      sessionError(
        "it was made from other phase-1 commitments of theirs (their file changed since the session began)",
      );
    }
  }

  const referee = new OfflineChallenge(opts, session, p1, save, sessionError, finished);
  if (params.ours.last === params.theirs.last) {
    return finish({ dispute: false, reason: "same-result", nodes: n });
  }
  return finish(await playParty(referee, referee.answers(ours)));
}

/** Where the offline referee stands. */
type Stage = "phase1" | "final" | "phase2" | "holds";

/**
 * The offline referee of a challenge as a transport of the dispute engine (engine.ts): phase 1
 * over the node states (a {@link Dissection}), their final claim against our state at its step,
 * phase 2 over the VM steps of the check (another {@link Dissection}); every committed move goes
 * to the session. Our side answers its pick turns (their commitments: we pick).
 */
class OfflineChallenge extends OfflineReferee<ChallengeOutcome> {
  #stage: Stage = "phase1";
  #p1?: Dissection;
  #p2?: Dissection;
  #p2ledger = new Ledger(describeStep);
  #disputed?: DisputedNode;
  #transition?: Transition;
  #sources?: Phase2Sources;
  readonly #progress: (message: string) => void;

  constructor(
    readonly opts: ChallengeOptions,
    readonly session: ChallengeSession,
    readonly p1: Ledger,
    readonly save: () => void,
    readonly sessionError: (why: string) => never,
    readonly finished: ChallengeOutcome | undefined,
  ) {
    super();
    this.#progress = opts.onProgress ?? (() => {});
  }

  /** Our answers: the phase-1 states given, and the phase-2 source of the disputed check. */
  answers(ours: readonly Hash[]): Answers {
    return {
      at: async (phase, points) => {
        if (phase === 1) return points.map((i) => ours[i]);
        if (!this.#sources) throw new DisputeError("no phase 2 yet");
        return await this.#sources.ours.at(points);
      },
      check: () => Promise.reject(new DisputeError("the offline challenger runs no check of its own")),
    };
  }

  async turn(): Promise<Turn<ChallengeOutcome>> {
    const { opts, session } = this;
    const n = session.params.nodes;
    if (this.#stage === "phase1") {
      // ---- phase 1: node states (none in single-phase mode: the whole model is disputed) ----
      let k = n + 1;
      if (!opts.singlePhase) {
        this.#p1 ??= new Dissection({
          interval: { lo: 0, hi: n + 1 },
          arity: opts.arity,
          theirs: { at: (ix) => ix.map((i) => opts.theirs[i]) },
          ledger: this.p1,
          moves: session.phase1.moves,
          rule: nodeStateRule,
          onMove: (move, iv) => {
            session.phase1.moves.push(move);
            session.stats.rounds.phase1++;
            session.stats.asked.ours += move.points.length;
            session.stats.asked.theirs += move.points.length;
            this.save();
            this.#progress(
              `phase 1 round ${session.phase1.moves.length}: S_${iv.lo} agreed, S_${iv.hi} disputed`,
            );
          },
        }, 1);
        const t = await this.#p1.turn();
        if (t.kind !== "ended") return t;
        k = t.end.interval.hi;
      }
      await this.#openPhase2(k);
    }
    if (this.#stage === "holds") {
      return {
        kind: "ended",
        end: { dispute: false, reason: "claim-holds", node: this.#disputed!, final: session.phase2!.final },
      };
    }
    if (this.#stage === "phase2") {
      const t = await this.#p2!.turn();
      if (t.kind === "pick") return { ...t, transition: this.#transition };
      if (t.kind !== "ended") return t;
      const tt = t.end.interval.lo;
      const rec = session.phase2!;
      rec.step = tt;
      const p2 = this.#p2ledger;
      return {
        kind: "ended",
        end: {
          dispute: true,
          node: this.#disputed!,
          final: rec.final,
          step: tt,
          preState: p2.ours.get(tt)!,
          oursPost: p2.ours.get(tt + 1)!,
          theirsPost: p2.theirs.get(tt + 1)!,
        },
      };
    }
    // the final claim: our state at their final step, asked as a pick of one point
    const rec = session.phase2!;
    return {
      kind: "pick",
      phase: 2,
      points: [rec.final.step],
      theirs: [rec.final.hash],
      transition: this.#transition,
    };
  }

  async pick(index: number, ours: readonly unknown[]): Promise<void> {
    if (this.#stage === "phase1") return await this.#p1!.pick(index, ours);
    if (this.#stage === "phase2") return await this.#p2!.pick(index, ours);
    // the final claim: our state at their final step, computed once, then kept in the session
    const { session } = this;
    const rec = session.phase2!;
    const p2 = this.#p2ledger;
    const hi = rec.final.step;
    if (!Array.isArray(ours) || ours.length !== 1) {
      throw new CounterpartError("ours", `our source gave no state for step ${hi}`);
    }
    rec.oursEnd = p2.record("ours", hi, ours[0]);
    const why = vmTraceRule("ours", hi, rec.oursEnd, p2.ours);
    if (why) throw new CounterpartError("ours", `our state at step ${hi}: ${why}`);
    session.stats.asked.ours++;
    this.save();
    this.#afterFinal();
  }

  /** After the final claim is judged: the claim holds (the end), or phase 2's dissection. */
  #afterFinal(): void {
    const rec = this.session.phase2!;
    this.#p2ledger.record("ours", rec.final.step, rec.oursEnd);
    if (rec.oursEnd === rec.final.hash) {
      this.#stage = "holds";
      return;
    }
    const { session, opts } = this;
    this.#stage = "phase2";
    this.#p2 = new Dissection({
      interval: { lo: 0, hi: rec.final.step },
      arity: opts.arity,
      theirs: this.#sources!.theirs,
      ledger: this.#p2ledger,
      moves: rec.moves,
      rule: vmTraceRule,
      pending: session.pending,
      onTheirs: (points, theirs) => {
        session.pending = { points, theirs };
        session.stats.asked.theirs += points.length;
        this.save();
      },
      onMove: (move, next) => {
        rec.moves.push(move);
        delete session.pending;
        session.stats.rounds.phase2++;
        session.stats.asked.ours += move.points.length;
        this.save();
        this.#progress(`phase 2 round ${rec.moves.length}: step ${next.lo} agreed, step ${next.hi} disputed`);
      },
    }, 2);
  }

  /**
   * Phase 2 of the check of their S_k: their final claim checked and recorded, the session's
   * record checked on resume; sets the stage that follows.
   */
  async #openPhase2(k: number): Promise<void> {
    const { opts, session, finished, p1 } = this;
    const sessionError = this.sessionError;
    const from = opts.singlePhase ? 0 : k - 1;
    const disputed: DisputedNode = {
      node: k,
      ...(opts.singlePhase ? { from } : {}),
      pre: p1.ours.get(from)!,
      claim: p1.theirs.get(k)!,
      ours: p1.ours.get(k)!,
    };
    this.#disputed = disputed;
    this.#transition = { from, node: k, pre: disputed.pre, claim: disputed.claim };
    if (session.phase1.node === undefined && !finished) {
      session.phase1.node = k;
      this.save();
    }
    this.#progress(
      opts.singlePhase
        ? `single-phase: the check of the whole model (S_0 -> S_${k}) is disputed`
        : `phase 1 done: node ${k} disputed (${session.phase1.moves.length} rounds)`,
    );

    // ---- phase 2: VM steps of the check of their S_K ----
    if (finished && finished.dispute !== false && !session.phase2) sessionError("its outcome has no phase 2");
    if (finished && !finished.dispute && finished.reason === "same-result") {
      sessionError("its outcome does not follow from its parameters");
    }
    const replayOnly = (): never => sessionError("its recorded moves do not reach its outcome");
    const sources: Phase2Sources = this.#sources = finished
      ? {
        initial: session.phase2!.initial,
        ours: { at: replayOnly },
        theirs: { at: replayOnly, final: () => session.phase2!.final },
      }
      : await opts.phase2(disputed);
    const resumedPhase2 = session.phase2 !== undefined;
    if (!session.phase2) {
      const rawFinal = await sources.theirs.final();
      const f = rawFinal as { step?: unknown; hash?: unknown };
      if (
        !f || typeof f !== "object" || !Number.isSafeInteger(f.step) || (f.step as number) < 1 ||
        !isHash(f.hash)
      ) {
        throw new CounterpartError(
          "theirs",
          `their final claim must be {step >= 1, hash}, got ${JSON.stringify(rawFinal)?.slice(0, 120)}`,
        );
      }
      const final = { step: f.step as number, hash: f.hash as Hash };
      if (opts.maxCheckSteps !== undefined && final.step > opts.maxCheckSteps) {
        throw new CounterpartError(
          "theirs",
          `their check of S_${k} ends at step ${final.step}, past the bound of ${opts.maxCheckSteps} steps`,
        );
      }
      if (statusOf(final.hash) !== STATUS_VALID) {
        throw new CounterpartError(
          "theirs",
          `their check of S_${k} ends at step ${final.step} with status ${
            statusOf(final.hash)
          }, not exited-valid (0): their own check rejects their S_${k}`,
        );
      }
      session.phase2 = { node: disputed, initial: sources.initial, final, moves: [] };
      this.save();
    }
    const rec = session.phase2;
    if (rec.node.node !== k || rec.node.claim !== disputed.claim || rec.node.pre !== disputed.pre) {
      throw new SessionError(
        `session file ${opts.sessionPath}: its phase 2 is about node ${rec.node.node}, phase 1 found node ${k}`,
      );
    }
    if (rec.initial !== sources.initial) {
      throw new SessionError(
        `session file ${opts.sessionPath}: the checker's initial state changed (${rec.initial}, now ${sources.initial}): another checker image`,
      );
    }
    if (resumedPhase2) {
      // their recorded answers against their files, when they came from files
      const known = opts.theirRecorded?.(disputed);
      const recorded = [...rec.moves, ...(session.pending ? [session.pending] : [])];
      if (known) {
        for (const m of recorded) {
          m.points.forEach((p, k) => {
            const v = known.get(p);
            if (v === undefined) {
              sessionError(
                `it records their state at step ${p}, which none of their phase-2 files given has (give all their files)`,
              );
            }
            if (v !== m.theirs[k]) {
              sessionError(
                `it records their state at step ${p} as ${m.theirs[k]}, but their file has ${String(v)}`,
              );
            }
          });
        }
      }
    }
    if (resumedPhase2 && !finished) {
      // their final claim, if their source gives it now, must be the one recorded
      let now: unknown;
      try {
        now = await sources.theirs.final();
      } catch (e) {
        if (!(e instanceof UnavailableError)) throw e;
      }
      const f = now as { step?: unknown; hash?: unknown } | undefined;
      if (f !== undefined && (f?.step !== rec.final.step || f?.hash !== rec.final.hash)) {
        throw new CounterpartError(
          "theirs",
          `their final claim changed between queries: step ${rec.final.step} ${rec.final.hash}, now ${
            JSON.stringify(now)?.slice(0, 120)
          }`,
        );
      }
    }
    const p2 = this.#p2ledger;
    p2.record("ours", 0, rec.initial);
    p2.record("theirs", 0, rec.initial);
    p2.record("theirs", rec.final.step, rec.final.hash);
    if (rec.oursEnd === undefined) this.#stage = "final";
    else this.#afterFinal();
  }
}
