/**
 * The one dispute state machine of a party: a loop over its counterpart's turns (a transport:
 * the offline referee of `challenge.ts` over files or a `--theirs-cmd` peer, the `--serve` side of
 * the line protocol in `line_peer.ts`, the chain through `GameClient` in `core/game/player.ts`)
 * that answers each turn from the party's own computation ({@link Answers}, made from a
 * {@link Party} by {@link partyAnswers}): bisect posts our commitments at the points asked, pick
 * applies the one pick rule (`disputedPart`) to theirs, claim gives our check's end, step gives
 * the witness of the disputed step. The transport holds the interval and the turn (the contract
 * on chain, the session offline) and decides when the game has ended.
 * @module
 */
import { OpmlError } from "../errors.ts";
import type { StepWitness } from "../vm/mod.ts";
import type { CheckEnd, CheckRun } from "./check_run.ts";
import { disputedPart } from "./dissection.ts";
import { type Hash, toHash } from "./hash.ts";
import { type Party, phase1States, transitionCheck } from "./party.ts";

/** The checked transition of phase 2: nodes from+1 .. node, from the agreed S_from, of a claim. */
export interface Transition {
  /** The agreed start (node - 1; 0 in single-phase mode). */
  from: number;
  /** The node whose claimed state is checked (N + 1: the result). */
  node: number;
  /** S_from, agreed. */
  pre: Hash;
  /** The defender's S_node, the claim the check verifies. */
  claim: Hash;
}

/** Which phase a dissection turn is in: 1 over node states, 2 over the VM steps of a check. */
export type DissectionPhase = 1 | 2;

/** What the counterpart asks of us next, or how the dispute ended. */
export type Turn<E> =
  /** Post our commitments at `points` (the defender's move). */
  | { kind: "bisect"; phase: DissectionPhase; points: readonly number[]; transition?: Transition }
  /** Their commitments at `points`: choose the sub-interval we dispute (the challenger's move). */
  | {
    kind: "pick";
    phase: DissectionPhase;
    points: readonly number[];
    theirs: readonly unknown[];
    transition?: Transition;
  }
  /** Claim where our check of the transition ends (the defender's move). */
  | { kind: "claim"; transition: Transition }
  /** Execute the step from `step` (its state `agreed`) to `step + 1` (the challenger's move). */
  | { kind: "step"; transition: Transition; step: number; agreed: Hash }
  | { kind: "ended"; end: E };

/**
 * A counterpart of the dispute: it says whose turn it is and takes our moves. A transport
 * checks what it receives; its moves may throw (a move the referee refuses), ending the loop.
 */
export interface Transport<E> {
  /** The next turn that is ours (waiting for the other party's moves meanwhile), or the end. */
  turn(): Promise<Turn<E>>;
  /** Our commitments at the points of a `bisect` turn, in order. */
  bisect(ours: readonly unknown[]): Promise<void>;
  /** The sub-interval we dispute (0 .. points.length), with our commitments at the points. */
  pick(index: number, ours: readonly unknown[]): Promise<void>;
  /** Where our check ends (and the state it starts from). */
  claim(check: { initial: Hash; end: CheckEnd }): Promise<void>;
  /** The witness of the disputed step. */
  step(witness: StepWitness): Promise<void>;
}

/** Our side's commitments: phase-1 states by index, and runs of the checks of transitions. */
export interface Answers {
  /** Our commitments at `points`: node states in phase 1, VM states of the check in phase 2. */
  at(phase: DissectionPhase, points: readonly number[], transition?: Transition): Promise<readonly unknown[]>;
  /** Our run of the check of a transition. */
  check(transition: Transition): Promise<CheckRun>;
}

/** The party cannot go on (its own computation contradicts the game): it stops, the clock runs. */
export class PlayerStuck extends OpmlError {
  override name = "PlayerStuck";
}

/**
 * Plays a dispute against a transport to its end: the one state machine of both phases.
 *
 * @example
 * ```ts
 * const end = await playParty(chainTransport, partyAnswers(party, { role: "challenger" }));
 * ```
 * @throws {PlayerStuck} when our check cannot prove the step the game reached; whatever the
 *   transport or our answers throw.
 */
export async function playParty<E>(transport: Transport<E>, answers: Answers): Promise<E> {
  for (;;) {
    const t = await transport.turn();
    switch (t.kind) {
      case "ended":
        return t.end;
      case "bisect":
        await transport.bisect(await answers.at(t.phase, t.points, t.transition));
        break;
      case "pick": {
        // the one pick rule: the first sub-interval whose end we dispute
        const ours = await answers.at(t.phase, t.points, t.transition);
        await transport.pick(disputedPart(ours.map((h, k) => h === t.theirs[k])), ours);
        break;
      }
      case "claim": {
        const run = await answers.check(t.transition);
        await transport.claim({ initial: run.initial, end: run.end });
        break;
      }
      case "step": {
        const run = await answers.check(t.transition);
        if (!run.witnessAt) throw new PlayerStuck(`our check run cannot prove its steps`);
        const w = run.witnessAt(t.step);
        if (toHash(w.preStateHash) !== t.agreed.toLowerCase()) {
          throw new PlayerStuck(`our state at step ${t.step} is not the agreed ${t.agreed}`);
        }
        await transport.step(w);
        break;
      }
    }
  }
}

/**
 * Check runs by transition, claim and behaviour (a lying defender's run differs from the honest
 * one): shared by the players of one task, so that disputes reaching the same transition with
 * the same claim cost one check.
 */
export type CheckRuns = Map<string, Promise<CheckRun>>;

/** Options of {@link partyAnswers}. */
export interface PartyAnswersOptions {
  /**
   * A defender checks its own claim as it behaves (a liar's check accepts its lie at its node);
   * a challenger checks honestly.
   */
  role: "defender" | "challenger";
  /** Our phase-1 states when already known (a commitments file); else computed once. */
  states?: readonly Hash[];
  /** Shared check runs (default: this party's own). */
  checks?: CheckRuns;
  /** The step bound of the checks. */
  maxSteps?: number;
  /** The checker image (default: the model's). */
  image?: Uint8Array;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * The answers of a party: its phase-1 states (native run) and its check of a transition (VM,
 * by checkpoints), each computed once.
 *
 * @example
 * ```ts
 * const answers = partyAnswers(partyOf(model, inputs), { role: "challenger" });
 * await answers.at(1, [3, 6]); // our S_3 and S_6
 * ```
 */
export function partyAnswers(party: Party, opts: PartyAnswersOptions): Answers {
  const log = opts.log ?? (() => {});
  const checks: CheckRuns = opts.checks ?? new Map();
  let states: Promise<readonly Hash[]> | undefined = opts.states ? Promise.resolve(opts.states) : undefined;
  const nodeStates = () =>
    states ??= (async () => {
      log(`computing our phase-1 states (${party.model.prog.program.nodes.length + 2})`);
      return (await phase1States(party)).states;
    })();
  const check = (t: Transition): Promise<CheckRun> => {
    const name = `${t.from}:${t.node}:${t.pre.toLowerCase()}:${t.claim.toLowerCase()}:${opts.role}`;
    let run = checks.get(name);
    if (run) return run;
    run = (async () => {
      log(`running our check of transition ${t.from} -> ${t.node} in the VM`);
      const t0 = performance.now();
      const r = await transitionCheck(party, t.node, t.claim, {
        from: t.from,
        expectPre: t.pre,
        honest: opts.role === "challenger",
        maxSteps: opts.maxSteps,
        image: opts.image,
        onProgress: (s) => log(`check at step ${s.toLocaleString("en-US")}`),
      });
      log(
        `our check exits ${r.end.exitCode} after ${r.end.step.toLocaleString("en-US")} steps (${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s)`,
      );
      return r;
    })();
    // a failed run is not kept: the next move runs it again
    run.catch(() => checks.delete(name));
    checks.set(name, run);
    return run;
  };
  return {
    async at(phase, points, transition) {
      if (phase === 1) {
        const s = await nodeStates();
        return points.map((p) => s[p]);
      }
      if (!transition) throw new RangeError("a phase-2 commitment needs its transition");
      const run = await check(transition);
      return points.map((p) => run.hashAt(p));
    },
    check,
  };
}
