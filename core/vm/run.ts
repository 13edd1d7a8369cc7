/**
 * Running a program to its end with a step budget and diagnostics for runaway guests.
 * @module
 */
import { execute, type VmHost } from "./step.ts";
import type { VmState, VmStatus } from "./state.ts";

/** Why a run stopped. */
export type StopReason = "exited" | "step-limit" | "unmapped-pc";

/** The outcome of {@link runToExit}. */
export interface RunResult {
  reason: StopReason;
  steps: number;
  exited: boolean;
  exitCode: number;
  status: VmStatus;
  seconds: number;
}

/** Options of {@link runToExit}. */
export interface RunOptions {
  /** Stop (reason "step-limit") once the state's step counter reaches this. Default 2^40. */
  maxSteps?: number;
  /** Called between chunks of execution with the current step. */
  onProgress?: (step: number) => void;
}

const CHUNK = 1 << 22;

/**
 * Executes until the guest exits, the step budget is spent, or the pc lands on a page that was
 * never loaded or written (the guest jumped into nowhere: zero words are no-ops and it would
 * slide forever). The state is left exactly at the stopping step.
 *
 * @example
 * ```ts
 * const res = runToExit(loadElf(elf), { oracle }, { maxSteps: 1e9 });
 * if (res.reason !== "exited") console.error(res.reason);
 * ```
 */
export function runToExit(st: VmState, host: VmHost, opts: RunOptions = {}): RunResult {
  const maxSteps = opts.maxSteps ?? 2 ** 40;
  const t0 = performance.now();
  const start = st.step;
  let reason: StopReason = "exited";
  const guarded: VmHost = { ...host, stopOnUnmappedPc: true };
  while (!st.exited) {
    if (st.step >= maxSteps) {
      reason = "step-limit";
      break;
    }
    const want = Math.min(CHUNK, maxSteps - st.step);
    if (execute(st, guarded, want) < want && !st.exited) {
      reason = "unmapped-pc";
      break;
    }
    opts.onProgress?.(st.step);
  }
  return {
    reason,
    steps: st.step - start,
    exited: st.exited,
    exitCode: st.exitCode,
    status: st.status,
    seconds: (performance.now() - t0) / 1000,
  };
}
