/**
 * Inference engines: native runtime, MIPS image in the VM, onnxruntime as float reference.
 * @module
 */
export * from "./tensors.ts";
export * from "./native.ts";
export * from "./vm.ts";
export * from "./ort.ts";
export * from "./inputs.ts";
