/**
 * The nn operators (docs/IR.md): lowering, and compile-time folding where it applies.
 * @module
 */
import type { OpDef } from "./types.ts";

/** Every nn operator. */
export const OPS: readonly OpDef[] = [];
