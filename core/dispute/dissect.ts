/**
 * The offline referee of one dissection: asks their side exactly for the interior points of each
 * round, hands them to our party as a pick turn (core/dispute/engine.ts), checks every answer of
 * both sides (format, consistency with earlier answers, the caller's rules) and hands each
 * committed move to the caller before the next query, so that an interrupted dissection resumes
 * from its moves without asking (or recomputing) anything again.
 * @module
 */
import {
  type CommitmentSource,
  CounterpartError,
  type Describe,
  describeIndices,
  describeStep,
  DisputeError,
  Ledger,
  type Side,
} from "./counterpart.ts";
import type { Hash } from "./hash.ts";
import { checkArity, interiorPoints, type Interval, isFinal, narrow, subInterval } from "./dissection.ts";
import { type Answers, playParty, type Transport, type Turn } from "./engine.ts";

/** One round: the interior points and both sides' commitments at them. */
export interface Move {
  points: number[];
  ours: Hash[];
  theirs: Hash[];
}

/**
 * A rule on a side's answer beyond its format: returns why `hash` at `index` is impossible given
 * the side's other answers (`known`), or undefined. E.g. a VM state after an exited state.
 */
export type AnswerRule = (
  side: Side,
  index: number,
  hash: Hash,
  known: ReadonlyMap<number, Hash>,
) => string | undefined;

/** Options of {@link dissect}. */
export interface DissectOptions {
  /** The starting interval; the ledger must hold both sides' commitments at its ends. */
  interval: Interval;
  arity: number;
  ours: CommitmentSource;
  theirs: CommitmentSource;
  /**
   * Every answer so far, both ends of `interval` included (recorded by the caller after its
   * own checks). New answers are added to it.
   */
  ledger: Ledger;
  /** Moves already committed (from a session): replayed, nobody is asked again. */
  moves?: readonly Move[];
  /**
   * Their answers to the next round, received before an interruption while ours were being
   * computed (from a session): used instead of asking them again.
   */
  pending?: { points: readonly number[]; theirs: readonly unknown[] };
  /** Called with their checked answers of a round before ours are asked (persist them). */
  onTheirs?: (points: number[], theirs: Hash[]) => void | Promise<void>;
  /** Called with each new move and the interval after it, before the next query (persist it). */
  onMove?: (move: Move, next: Interval) => void | Promise<void>;
  rule?: AnswerRule;
}

/** The outcome of {@link dissect}. */
export interface DissectResult {
  /** Adjacent indices: both sides agree at `lo`, disagree at `hi`. */
  interval: Interval;
  /** Every move, replayed ones first. */
  moves: Move[];
  /** Indices asked of each side in this call (replayed moves not counted). */
  asked: { ours: number; theirs: number };
}

/**
 * An offline referee: a transport whose party is the challenger, so our only move is the pick
 * (the referee asks their side itself; the one-step proof is `opml prove --dispute`'s).
 */
export abstract class OfflineReferee<E> implements Transport<E> {
  abstract turn(): Promise<Turn<E>>;
  abstract pick(index: number, ours: readonly unknown[]): Promise<void>;
  bisect(): Promise<void> {
    throw new DisputeError("the offline challenger does not bisect");
  }
  claim(): Promise<void> {
    throw new DisputeError("the offline challenger does not claim");
  }
  step(): Promise<void> {
    throw new DisputeError("the offline challenger does not execute steps");
  }
}

/**
 * The offline referee of a dissection as a transport of the dispute engine: each turn is a pick
 * on their checked answers of the next round (or the end), and our pick commits the round.
 * Recorded moves are replayed when it is made (nobody asked).
 *
 * @example
 * ```ts
 * const referee = new Dissection({ interval, arity: 4, theirs, ledger });
 * const result = await playParty(referee, answers); // answers.at(phase, points): ours
 * ```
 */
export class Dissection extends OfflineReferee<DissectResult> {
  readonly #opts: Omit<DissectOptions, "ours">;
  readonly #d: Describe;
  #iv: Interval;
  readonly #moves: Move[] = [];
  readonly #asked = { ours: 0, theirs: 0 };
  #round?: { points: number[]; theirs: Hash[] };

  /**
   * @throws {DisputeError} when the ends are not agree/disagree or a replayed move does not
   *   follow from the dissection; {@link CounterpartError} for a recorded answer that is not.
   */
  constructor(opts: Omit<DissectOptions, "ours">, readonly phase: 1 | 2 = 1) {
    super();
    checkArity(opts.arity);
    this.#opts = opts;
    const { ledger } = opts;
    const d = this.#d = ledger.describe ?? describeStep;
    this.#iv = { ...opts.interval };
    const iv = this.#iv;
    const endOf = (side: Side, i: number) => {
      const h = ledger.of(side).get(i);
      if (h === undefined) {
        throw new DisputeError(`${d(side, i)} is not known: the dissection needs both ends`);
      }
      return h;
    };
    if (endOf("ours", iv.lo) !== endOf("theirs", iv.lo)) {
      throw new DisputeError(
        `${d("ours", iv.lo)} and ${
          d("theirs", iv.lo)
        } differ: the dissection must start where both sides agree`,
      );
    }
    if (endOf("ours", iv.hi) === endOf("theirs", iv.hi)) {
      throw new DisputeError(`${d("ours", iv.hi)} equals ${d("theirs", iv.hi)}: nothing to dissect`);
    }
    for (const [n, m] of (opts.moves ?? []).entries()) {
      if (isFinal(this.#iv)) {
        throw new DisputeError(`recorded move ${n + 1} comes after the dissection ended`);
      }
      const points = interiorPoints(this.#iv, opts.arity);
      if (JSON.stringify(points) !== JSON.stringify(m.points)) {
        throw new DisputeError(
          `recorded move ${n + 1} asks for ${describeIndices(m.points)}, but the dissection asks for ${
            describeIndices(points)
          }`,
        );
      }
      const ours = this.#accept("ours", points, m.ours), theirs = this.#accept("theirs", points, m.theirs);
      this.#iv = narrow(this.#iv, points, points.map((_, k) => ours[k] === theirs[k]));
      this.#moves.push({ points, ours, theirs });
    }
  }

  #accept(side: Side, points: number[], values: readonly unknown[]): Hash[] {
    const { ledger } = this.#opts;
    const d = this.#d;
    if (!Array.isArray(values) || values.length !== points.length) {
      const got = Array.isArray(values) ? `${values.length} answers` : `no list of answers`;
      throw new CounterpartError(
        side,
        `${side === "ours" ? "our" : "their"} source gave ${got} for ${points.length} steps (${
          describeIndices(points)
        })`,
      );
    }
    // validate all before recording any: a rejected answer leaves the ledger as it was
    const trial = new Ledger(d);
    for (const [i, m] of ledger.of(side)) trial.of(side).set(i, m);
    const out = points.map((p, k) => {
      const h = trial.record(side, p, values[k]);
      const why = this.#opts.rule?.(side, p, h, trial.of(side));
      if (why) throw new CounterpartError(side, `${d(side, p)}: ${why}`);
      return h;
    });
    out.forEach((h, k) => ledger.record(side, points[k], h));
    return out;
  }

  /** Their checked answers of the next round (a pick turn), or the end of the dissection. */
  async turn(): Promise<Turn<DissectResult>> {
    if (isFinal(this.#iv)) {
      return { kind: "ended", end: { interval: this.#iv, moves: this.#moves, asked: this.#asked } };
    }
    const points = interiorPoints(this.#iv, this.#opts.arity);
    // theirs first, kept (onTheirs) while ours are computed; the round commits with both
    let theirs: Hash[];
    const pending = this.#opts.pending;
    if (pending && JSON.stringify(pending.points) === JSON.stringify(points)) {
      theirs = this.#accept("theirs", points, pending.theirs);
    } else {
      const raw = await this.#opts.theirs.at(points);
      this.#asked.theirs += points.length;
      theirs = this.#accept("theirs", points, raw);
      await this.#opts.onTheirs?.(points, theirs);
    }
    this.#round = { points, theirs };
    return { kind: "pick", phase: this.phase, points, theirs };
  }

  /** Commits the round: our answers, checked, and the sub-interval we dispute. */
  async pick(index: number, oursRaw: readonly unknown[]): Promise<void> {
    const round = this.#round;
    if (!round) throw new DisputeError("no round to pick in");
    this.#round = undefined;
    this.#asked.ours += round.points.length;
    const ours = this.#accept("ours", round.points, oursRaw);
    const move = { points: round.points, ours, theirs: round.theirs };
    this.#iv = subInterval(this.#iv, round.points, index);
    this.#moves.push(move);
    await this.#opts.onMove?.(move, this.#iv);
  }
}

/**
 * Runs (or resumes) a k-ary dissection until the two sides' disagreement is between adjacent
 * indices: the {@link Dissection} referee played by the dispute engine with `ours` as our
 * answers.
 *
 * @example
 * ```ts
 * const ledger = new Ledger(describeNodeState);
 * ledger.record("ours", 0, s0); ledger.record("theirs", 0, s0);
 * ledger.record("ours", n + 1, ourOut); ledger.record("theirs", n + 1, theirOut);
 * const { interval } = await dissect({ interval: { lo: 0, hi: n + 1 }, arity: 4, ours, theirs, ledger });
 * // S_(interval.lo) agreed, S_(interval.hi) disputed
 * ```
 * @throws {CounterpartError} for a malformed, contradictory or impossible answer (nothing is
 *   committed for that round); {@link DisputeError} when the ends are not agree/disagree or a
 *   replayed move does not follow from the dissection.
 */
export async function dissect(opts: DissectOptions): Promise<DissectResult> {
  return await playParty(new Dissection(opts), sourceAnswers(opts.ours));
}

/** Answers from one commitment source (any phase): a side given as a list, a file, a function. */
export function sourceAnswers(ours: CommitmentSource): Answers {
  return {
    at: async (_phase, points) => await ours.at(points),
    check: () => Promise.reject(new DisputeError("a commitment source has no check runs")),
  };
}
