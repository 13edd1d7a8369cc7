/**
 * The two sides of a dissection as sources of commitments (a file's list, a function, a process
 * answering queries), and the ledger that holds every answer a side gave so that an answer that
 * contradicts an earlier one is caught.
 * @module
 */
import { EXIT, OpmlError } from "../errors.ts";
import { type Hash, isHash } from "./hash.ts";

/** Which side of a dispute: we (who run the command) or our counterpart. */
export type Side = "ours" | "theirs";

/** A side's commitments, by index (phase-1 state number or VM step). */
export interface CommitmentSource {
  /**
   * The commitments at `indices`, in the same order. Answers are checked by the caller: any
   * value may come back (a lying or broken counterpart), never trusted before validation.
   * Throw {@link UnavailableError} when the source cannot answer yet (e.g. a file without those
   * steps): the dissection stops with its progress kept.
   */
  at(indices: readonly number[]): Promise<readonly unknown[]> | readonly unknown[];
}

/** A dispute cannot go on: a side gave an impossible or contradictory answer, or none. */
export class DisputeError extends OpmlError {
  override name = "DisputeError";
}

/** A side's answer is malformed or contradicts its other answers or the rules of the game. */
export class CounterpartError extends DisputeError {
  override name = "CounterpartError";
  constructor(readonly side: Side, message: string) {
    super(message);
  }
}

/** A source cannot answer these indices now (their file lacks them); asking later may work. */
export class UnavailableError extends DisputeError {
  override name = "UnavailableError";
  constructor(readonly indices: readonly number[], message?: string) {
    super(message ?? `no commitments for ${describeIndices(indices)}`, EXIT.waiting);
  }
}

/** `3, 17 and 40` for messages. */
export function describeIndices(ix: readonly number[]): string {
  return ix.length <= 1 ? String(ix[0] ?? "") : `${ix.slice(0, -1).join(", ")} and ${ix[ix.length - 1]}`;
}

/**
 * A source over a complete list of commitments (index `i` is `list[i]`).
 *
 * @example
 * ```ts
 * const ours = listSource(roots.states); // phase-1 states S_0 .. S_(N+1)
 * ```
 */
export function listSource(list: readonly unknown[]): CommitmentSource {
  return {
    at(indices) {
      const missing = indices.filter((i) => !(i >= 0 && i < list.length));
      if (missing.length) {
        throw new UnavailableError(
          missing,
          `no commitment at index ${describeIndices(missing)} (${list.length} given)`,
        );
      }
      return indices.map((i) => list[i]);
    },
  };
}

/**
 * A source over some indices only (e.g. a phase-2 roots file at chosen steps); asking for any
 * other index throws {@link UnavailableError} naming them all.
 *
 * @example
 * ```ts
 * const theirs = sparseSource(new Map([[0, h0], [1000, h1000]]));
 * ```
 */
export function sparseSource(map: ReadonlyMap<number, unknown>): CommitmentSource {
  return {
    at(indices) {
      const missing = indices.filter((i) => !map.has(i));
      if (missing.length) throw new UnavailableError(missing);
      return indices.map((i) => map.get(i));
    },
  };
}

/**
 * A source computed by a function of one index (e.g. a checkpointed VM trace).
 *
 * @example
 * ```ts
 * const ours = functionSource((t) => toHash(trace.stateAt(t).hash()));
 * ```
 */
export function functionSource(fn: (index: number) => unknown | Promise<unknown>): CommitmentSource {
  return { at: (indices) => Promise.all(indices.map((i) => fn(i))) };
}

/** How to name a side's commitment at an index in messages, e.g. `their state at step 12`. */
export type Describe = (side: Side, index: number) => string;

/** `our S_3` / `their S_3`. */
export const describeNodeState: Describe = (side, i) => `${side === "ours" ? "our" : "their"} S_${i}`;

/** `our state at step 12` / `their state at step 12`. */
export const describeStep: Describe = (side, i) => `${side === "ours" ? "our" : "their"} state at step ${i}`;

/**
 * Every commitment each side has given, by index. Recording an index again with a different
 * value throws a {@link CounterpartError}: a side that changes its answer between queries.
 *
 * @example
 * ```ts
 * const ledger = new Ledger(describeStep);
 * ledger.record("theirs", 10, h);
 * ledger.record("theirs", 10, other); // throws: their state at step 10 changed
 * ```
 */
export class Ledger {
  readonly ours = new Map<number, Hash>();
  readonly theirs = new Map<number, Hash>();

  constructor(readonly describe: Describe = describeStep) {}

  /** The commitments of one side. */
  of(side: Side): Map<number, Hash> {
    return side === "ours" ? this.ours : this.theirs;
  }

  /** Checks the shape of `value` and records it; throws on a malformed or changed answer. */
  record(side: Side, index: number, value: unknown): Hash {
    if (!isHash(value)) {
      const shown = typeof value === "string"
        ? `'${value.slice(0, 70)}'`
        : JSON.stringify(value)?.slice(0, 70) ?? String(value);
      throw new CounterpartError(side, `${this.describe(side, index)} is not a 32-byte hex hash: ${shown}`);
    }
    const map = this.of(side);
    const before = map.get(index);
    if (before !== undefined && before !== value) {
      throw new CounterpartError(
        side,
        `${this.describe(side, index)} changed between queries: ${before}, now ${value}`,
      );
    }
    map.set(index, value);
    return value;
  }
}
