/**
 * Tensor values at the engines' boundary: little-endian bytes in and out of the runtimes.
 * @module
 */
import { arrayFromBytes, bytesOf } from "../onnx/load.ts";
import { InputError } from "./inputs.ts";
import { dtypeName, dtypeSize, shapeSize, type TensorType, type TensorValue } from "../ir/types.ts";

export { bytesOf };

/** Splits the runtime's concatenated output bytes into values of the given types. */
export function splitOutputs(bytes: Uint8Array, types: TensorType[]): TensorValue[] {
  const out: TensorValue[] = [];
  let off = 0;
  for (const t of types) {
    const n = shapeSize(t.shape) * dtypeSize(t.dtype);
    if (off + n > bytes.length) throw new Error(`runtime output is ${bytes.length} bytes, expected more`);
    out.push({
      dtype: t.dtype,
      shape: [...t.shape],
      data: arrayFromBytes(t.dtype, bytes.subarray(off, off + n), shapeSize(t.shape)),
    });
    off += n;
  }
  if (off !== bytes.length) throw new Error(`runtime output is ${bytes.length} bytes, expected ${off}`);
  return out;
}

/** Checks that a value fits an input of the program (dtype and shape); throws a one-line message. */
export function checkInput(name: string, want: TensorType, got: TensorType): void {
  if (want.dtype !== got.dtype) {
    throw new InputError(
      `input '${name}': dtype ${dtypeName(got.dtype)}, but the model expects ${dtypeName(want.dtype)}`,
    );
  }
  if (want.shape.length !== got.shape.length || want.shape.some((d, i) => d !== got.shape[i])) {
    throw new InputError(
      `input '${name}': shape [${got.shape}], but the model was compiled for [${want.shape}]`,
    );
  }
}
