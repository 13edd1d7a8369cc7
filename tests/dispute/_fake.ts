/**
 * Synthetic commitment sequences for the dispute tests: random phase-1 states and VM-like traces
 * (running states, then an exited state repeated), with a seeded generator.
 */
import type { Hash } from "../../core/dispute/mod.ts";
import { assert } from "../_assert.ts";

/** xorshift32 in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
    return s / 4294967296;
  };
}

/** A random hash whose first byte is `first`. */
export function randomHash(r: () => number, first: number): Hash {
  let s = "0x" + first.toString(16).padStart(2, "0");
  for (let i = 0; i < 31; i++) s += Math.floor(r() * 256).toString(16).padStart(2, "0");
  return s as Hash;
}

/** Phase-1 states S_0 .. S_(n+1) (keccak keys, first byte 2). */
export function nodeStates(r: () => number, n: number): Hash[] {
  return Array.from({ length: n + 2 }, () => randomHash(r, 2));
}

/** A copy of `honest` that differs from index `from` on (a party wrong from node `from`). */
export function tamperFrom(r: () => number, honest: readonly Hash[], from: number): Hash[] {
  return honest.map((h, i) => (i < from ? h : randomHash(r, 2)));
}

/**
 * A VM trace as a function of the step, cheap at any step: running states (status 3) until
 * `exitStep`, then one exited state with status `status`.
 */
export function lazyTrace(seed: number, exitStep: number, status: number): (t: number) => Hash {
  return (
    t,
  ) => (t >= exitStep
    ? randomHash(rng(seed * 7919 + exitStep), status)
    : randomHash(rng(seed * 7919 + t + 1e9), 3));
}

/** A VM trace of `exitStep` steps: running states (status 3), then the exited state (status `status`). */
export function vmTrace(r: () => number, exitStep: number, status: number): Hash[] {
  return Array.from({ length: exitStep + 1 }, (_, t) => randomHash(r, t === exitStep ? status : 3));
}

/** The trace's state at step t (its final state past its end). */
export function at(trace: readonly Hash[], t: number): Hash {
  return trace[Math.min(t, trace.length - 1)];
}

/** `fn` rejects with an instance of `cls` whose message matches `re`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  cls: new (...a: never[]) => Error,
  re: RegExp,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    assert(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert(re.test((e as Error).message), `message: ${(e as Error).message}`);
    return e as Error;
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}
