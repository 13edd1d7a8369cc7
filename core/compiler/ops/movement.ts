/**
 * The movement operators (docs/IR.md): lowering, and compile-time folding where it applies.
 * @module
 */
import type { OpDef } from "./types.ts";

/** Every movement operator. */
export const OPS: readonly OpDef[] = [];
