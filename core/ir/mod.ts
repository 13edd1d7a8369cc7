/**
 * The deterministic program (IR): types and the binary encoding (docs/IR.md).
 * @module
 */
export * from "./types.ts";
export * from "./encode.ts";
export * from "./small_floats.ts";
export * from "./runtime_shapes.ts";
