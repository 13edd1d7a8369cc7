/**
 * Inference engines: native runtime, MIPS image in the VM, onnxruntime as float reference; the
 * multi-phase commitments (phase-1 states, the transition checker).
 * @module
 */
export * from "./tensors.ts";
export * from "./native.ts";
export * from "./vm.ts";
export * from "./phase.ts";
export * from "./ort.ts";
export * from "./inputs.ts";
export * from "./session.ts";
