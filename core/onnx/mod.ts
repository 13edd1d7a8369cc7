/**
 * The ONNX front end: model and tensor decoding.
 * @module
 */
export * from "./load.ts";
