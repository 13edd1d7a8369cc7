/**
 * The elementwise operators (docs/IR.md): lowering, and compile-time folding where it applies.
 * @module
 */
import type { OpDef } from "./types.ts";

/** Every elementwise operator. */
export const OPS: readonly OpDef[] = [];
