/**
 * The ONNX front end: model and tensor decoding, declared value types, sequence/optional values.
 * @module
 */
export * from "./load.ts";
export * from "./value_types.ts";
export * from "./values.ts";
