/**
 * Run-time shapes at the program's boundary (docs/IR.md, "Run-time shapes"): a graph output
 * whose `runtimeAxis` is set is computed at its bound, and its actual length is an int64 scalar
 * the program also outputs, after the graph outputs (one per such output, in order).
 * @module
 */
import type { Program } from "./types.ts";

/** The graph outputs and, for each one with a run-time axis, the program output holding its length. */
export interface GraphOutputs {
  /** Tensor indices of the graph outputs (the program's first outputs). */
  outputs: number[];
  /** For graph output k with a run-time axis: the position (in `program.outputs`) of its length. */
  lengthAt: Map<number, number>;
}

/**
 * Splits a program's outputs into the graph outputs and their run-time lengths.
 *
 * @example
 * ```ts
 * const { outputs, lengthAt } = graphOutputs(program); // lengthAt.get(0): where output 0's length is
 * ```
 */
export function graphOutputs(p: Pick<Program, "tensors" | "outputs">): GraphOutputs {
  const runtime = (k: number) => p.tensors[p.outputs[k]].runtimeAxis !== undefined;
  let m = 0, dynamic = 0;
  // the first m outputs are the graph's when m plus their run-time axes is the whole list
  while (m + dynamic < p.outputs.length) dynamic += runtime(m++) ? 1 : 0;
  const lengthAt = new Map<number, number>();
  let next = m;
  for (let k = 0; k < m; k++) if (runtime(k)) lengthAt.set(k, next++);
  return { outputs: p.outputs.slice(0, m), lengthAt };
}
