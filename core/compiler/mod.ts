/**
 * The model compiler: ONNX graph to the deterministic program, its commitments and the
 * model-independent runtime builds.
 * @module
 */
export * from "./compile.ts";
export * from "./artifacts.ts";
export * from "./runtime_build.ts";
export * from "./model_dir.ts";
export * from "./fidelity.ts";
export * from "./native_keys.ts";
export { LoweringError } from "./ops/mod.ts";
