/**
 * Long runs with checkpoints: the state at any step T is rebuilt from the nearest earlier
 * checkpoint by re-executing fewer than `interval` steps.
 * @module
 */
import { execute, type VmHost } from "./step.ts";
import type { FrozenState, VmState } from "./state.ts";
import { stepWithWitness, type StepWitness } from "./witness.ts";

/** Options of {@link Trace}. */
export interface TraceOptions {
  /** Steps between checkpoints (default 2^20). */
  interval?: number;
  /**
   * Most checkpoints kept (default: no bound). Past it, every other checkpoint is dropped and
   * the interval doubles, so a very long run (a check of billions of steps over hundreds of MB of
   * memory) keeps bounded memory, at the cost of longer re-execution to reach a state.
   */
  maxCheckpoints?: number;
}

/**
 * A run of one program, keeping checkpoints (frozen states sharing unchanged pages) every
 * `interval` steps.
 *
 * @example
 * ```ts
 * const trace = new Trace(loadElf(elf), { oracle });
 * trace.runTo(50_000_000);
 * const h = trace.stateAt(12_345_678).hash();
 * ```
 */
export class Trace {
  /** Steps between checkpoints (doubles when maxCheckpoints is reached). */
  interval: number;
  /** Checkpoints, by ascending step; the first is the initial state. */
  readonly checkpoints: FrozenState[] = [];
  readonly maxCheckpoints: number;
  #head: VmState;

  constructor(initial: VmState, readonly host: VmHost, opts: TraceOptions = {}) {
    this.interval = opts.interval ?? 1 << 20;
    this.maxCheckpoints = Math.max(2, opts.maxCheckpoints ?? Infinity);
    this.checkpoints.push(initial.freeze());
    this.#head = initial;
  }

  /** The furthest state reached so far (live: do not modify). */
  get head(): VmState {
    return this.#head;
  }

  /** Runs the head up to step `target` (or until it exits), checkpointing on the way. */
  runTo(target: number): VmState {
    const st = this.#head;
    while (!st.exited && st.step < target) {
      const nextCp = (Math.floor(st.step / this.interval) + 1) * this.interval;
      execute(st, this.host, Math.min(target, nextCp) - st.step);
      if (st.step === nextCp && !st.exited) {
        this.checkpoints.push(st.freeze());
        if (this.checkpoints.length > this.maxCheckpoints) this.#thin();
      }
    }
    return st;
  }

  /** Keeps the checkpoints at multiples of twice the interval (the initial one included). */
  #thin(): void {
    this.interval *= 2;
    const kept = this.checkpoints.filter((c, i) => i === 0 || c.step % this.interval === 0);
    this.checkpoints.splice(0, this.checkpoints.length, ...kept);
  }

  /**
   * A new state equal to the run's state after `t` steps (or its final state, if it exited
   * before). Re-executes at most `interval - 1` steps from a checkpoint, output suppressed.
   */
  stateAt(t: number): VmState {
    if (t > this.#head.step && !this.#head.exited) this.runTo(t);
    let lo = 0, hi = this.checkpoints.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.checkpoints[mid].step <= t) lo = mid;
      else hi = mid - 1;
    }
    const st = this.checkpoints[lo].thaw();
    const quiet: VmHost = { oracle: this.host.oracle };
    while (!st.exited && st.step < t) execute(st, quiet, t - st.step);
    return st;
  }

  /** The witness of the step from state `t` to `t + 1`. */
  witnessAt(t: number): StepWitness {
    return stepWithWitness(this.stateAt(t), { oracle: this.host.oracle });
  }
}
