/**
 * k-ary dissection, the pure arithmetic: over indices `lo..hi` of two commitment sequences that
 * agree at `lo` and disagree at `hi`, each round asks for `arity - 1` interior points and keeps
 * the first sub-interval whose ends agree and disagree, until `hi = lo + 1`. The same rules serve
 * phase 1 (node states) and phase 2 (VM steps).
 * @module
 */

/** An interval of a dissection: both sides agree at `lo` and disagree at `hi` (`lo < hi`). */
export interface Interval {
  lo: number;
  hi: number;
}

/** The smallest and largest arity a dissection accepts. */
export const MIN_ARITY = 2;
export const MAX_ARITY = 64;

/** Throws a RangeError unless `arity` is an integer in MIN_ARITY..MAX_ARITY. */
export function checkArity(arity: number): void {
  if (!Number.isInteger(arity) || arity < MIN_ARITY || arity > MAX_ARITY) {
    throw new RangeError(`arity must be an integer from ${MIN_ARITY} to ${MAX_ARITY}, got ${arity}`);
  }
}

function checkInterval({ lo, hi }: Interval): void {
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo < 0 || hi <= lo) {
    throw new RangeError(`not a dissection interval: [${lo}, ${hi}]`);
  }
}

/**
 * Whether the dissection of `iv` is over: the two ends are adjacent.
 *
 * @example
 * ```ts
 * isFinal({ lo: 41, hi: 42 }); // true
 * ```
 */
export function isFinal(iv: Interval): boolean {
  checkInterval(iv);
  return iv.hi === iv.lo + 1;
}

/**
 * The interior points of the next round: `min(arity - 1, hi - lo - 1)` distinct indices strictly
 * between `lo` and `hi`, as evenly spaced as integers allow (`lo + floor(i (hi - lo) / parts)`).
 * Empty when the interval is final. The offline dissection's points; the contract's
 * `splitPoints` are the same (the on-chain player checks every round against
 * {@link splitPointsOf}, which this calls).
 *
 * @example
 * ```ts
 * interiorPoints({ lo: 0, hi: 100 }, 4); // [25, 50, 75]
 * interiorPoints({ lo: 7, hi: 9 }, 8); // [8]
 * ```
 */
export function interiorPoints(iv: Interval, arity: number): number[] {
  checkInterval(iv);
  checkArity(arity);
  return splitPointsOf(iv, arity).slice(1, -1);
}

/**
 * OpmlGame's `splitPoints` of an interval: `lo`, the interior points, `hi`, where point j of
 * `count = min(arity, hi - lo)` is `lo + floor(j (hi - lo) / count)`, for any arity the
 * contract accepts (2 .. 1024; the offline dissection takes up to {@link MAX_ARITY}).
 *
 * @example
 * ```ts
 * splitPointsOf({ lo: 0, hi: 100 }, 4); // [0, 25, 50, 75, 100]
 * ```
 */
export function splitPointsOf(iv: Interval, arity: number): number[] {
  checkInterval(iv);
  if (!Number.isInteger(arity) || arity < MIN_ARITY) throw new RangeError(`arity ${arity}`);
  const gap = iv.hi - iv.lo;
  const parts = Math.min(arity, gap);
  const out: number[] = [iv.lo];
  // gap / parts >= 1, so the floors strictly increase and stay inside (lo, hi); gap <= 2^40 and
  // parts <= 1024 keep i * gap exact in a double
  for (let i = 1; i < parts; i++) out.push(iv.lo + Math.floor((i * gap) / parts));
  out.push(iv.hi);
  return out;
}

/**
 * The sub-interval a challenger disputes, from its agreement with the other side's states at the
 * interior points (in order): the first whose end it disputes, that is the index of the first
 * disagreement, or the last sub-interval (`agree.length`, ending at the disputed `hi`) when it
 * agrees at every interior point. The rule of every pick: offline ({@link narrow}) and on chain
 * (`pick(id, index, states)`, core/game/player.ts).
 *
 * @example
 * ```ts
 * disputedPart([true, false, false]); // 1: from the 1st interior point to the 2nd
 * disputedPart([true, true]); // 2: from the last interior point to hi
 * ```
 */
export function disputedPart(agree: readonly boolean[]): number {
  const j = agree.indexOf(false);
  return j < 0 ? agree.length : j;
}

/**
 * The sub-interval `index` of a round (0 .. points.length): from the interior point before it
 * (or `lo`) to the point it ends at (or `hi`). The offline referee's and the contract's rule
 * (`pick(id, index, states)`: `[p_index, p_(index+1)]` of `splitPoints`).
 *
 * @example
 * ```ts
 * subInterval({ lo: 0, hi: 100 }, [25, 50, 75], 1); // { lo: 25, hi: 50 }
 * ```
 */
export function subInterval(iv: Interval, points: readonly number[], index: number): Interval {
  checkInterval(iv);
  let lo = iv.lo;
  for (const p of points) {
    if (!(p > lo && p < iv.hi)) throw new RangeError(`point ${p} is not inside (${lo}, ${iv.hi})`);
    lo = p;
  }
  if (!(Number.isInteger(index) && index >= 0 && index <= points.length)) {
    throw new RangeError(`sub-interval ${index} of ${points.length + 1}`);
  }
  return { lo: index === 0 ? iv.lo : points[index - 1], hi: index < points.length ? points[index] : iv.hi };
}

/**
 * The next interval from agreement at the interior points: the first point where the sides
 * disagree ends it, the point before it (or `lo`) starts it; if they agree at every point, the
 * last point and `hi` ({@link disputedPart}, {@link subInterval}).
 *
 * @example
 * ```ts
 * narrow({ lo: 0, hi: 100 }, [25, 50, 75], [true, false, false]); // { lo: 25, hi: 50 }
 * ```
 */
export function narrow(iv: Interval, points: number[], agree: boolean[]): Interval {
  if (points.length !== agree.length) {
    throw new RangeError(`${points.length} points but ${agree.length} agreement flags`);
  }
  return subInterval(iv, points, disputedPart(agree));
}

/**
 * How many rounds a dissection of `iv` takes at most (each round keeps at most
 * `ceil(gap / parts)` of the gap).
 *
 * @example
 * ```ts
 * maxRounds({ lo: 0, hi: 1 << 20 }, 2); // 20
 * ```
 */
export function maxRounds(iv: Interval, arity: number): number {
  checkInterval(iv);
  checkArity(arity);
  let gap = iv.hi - iv.lo, rounds = 0;
  while (gap > 1) {
    gap = Math.ceil(gap / Math.min(arity, gap));
    rounds++;
  }
  return rounds;
}
