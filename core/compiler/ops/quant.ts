/**
 * The quant operators (docs/IR.md): lowering, and compile-time folding where it applies.
 * @module
 */
import type { OpDef } from "./types.ts";

/** Every quant operator. */
export const OPS: readonly OpDef[] = [];
