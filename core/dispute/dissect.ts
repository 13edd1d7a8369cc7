/**
 * The dissection game between two commitment sources: asks each side exactly for the interior
 * points of each round, checks every answer (format, consistency with earlier answers, the
 * caller's rules), and hands each committed move to the caller before the next query, so that an
 * interrupted dissection resumes from its moves without asking (or recomputing) anything again.
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
import { checkArity, interiorPoints, type Interval, isFinal, narrow } from "./dissection.ts";

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
 * Runs (or resumes) a k-ary dissection until the two sides' disagreement is between adjacent
 * indices.
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
  checkArity(opts.arity);
  const { ledger } = opts;
  const d: Describe = ledger.describe ?? describeStep;
  let iv = { ...opts.interval };
  const endOf = (side: Side, i: number) => {
    const h = ledger.of(side).get(i);
    if (h === undefined) throw new DisputeError(`${d(side, i)} is not known: the dissection needs both ends`);
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
  const moves: Move[] = [];
  const asked = { ours: 0, theirs: 0 };

  const accept = (side: Side, points: number[], values: readonly unknown[]): Hash[] => {
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
      const why = opts.rule?.(side, p, h, trial.of(side));
      if (why) throw new CounterpartError(side, `${d(side, p)}: ${why}`);
      return h;
    });
    out.forEach((h, k) => ledger.record(side, points[k], h));
    return out;
  };

  for (const [n, m] of (opts.moves ?? []).entries()) {
    if (isFinal(iv)) throw new DisputeError(`recorded move ${n + 1} comes after the dissection ended`);
    const points = interiorPoints(iv, opts.arity);
    if (JSON.stringify(points) !== JSON.stringify(m.points)) {
      throw new DisputeError(
        `recorded move ${n + 1} asks for ${describeIndices(m.points)}, but the dissection asks for ${
          describeIndices(points)
        }`,
      );
    }
    const ours = accept("ours", points, m.ours), theirs = accept("theirs", points, m.theirs);
    iv = narrow(iv, points, points.map((_, k) => ours[k] === theirs[k]));
    moves.push({ points, ours, theirs });
  }

  while (!isFinal(iv)) {
    const points = interiorPoints(iv, opts.arity);
    // theirs first, kept (onTheirs) while ours are computed; the round commits with both
    let theirs: Hash[];
    const pending = opts.pending;
    if (pending && JSON.stringify(pending.points) === JSON.stringify(points)) {
      theirs = accept("theirs", points, pending.theirs);
    } else {
      const raw = await opts.theirs.at(points);
      asked.theirs += points.length;
      theirs = accept("theirs", points, raw);
      await opts.onTheirs?.(points, theirs);
    }
    const oursRaw = await opts.ours.at(points);
    asked.ours += points.length;
    const ours = accept("ours", points, oursRaw);
    const move = { points, ours, theirs };
    iv = narrow(iv, points, points.map((_, k) => ours[k] === theirs[k]));
    moves.push(move);
    await opts.onMove?.(move, iv);
  }
  return { interval: iv, moves, asked };
}
