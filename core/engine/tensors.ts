/**
 * Tensor values at the engines' boundary: little-endian bytes in and out of the runtimes.
 * @module
 */
import { arrayFromBytes, bytesOf } from "../onnx/load.ts";
import { InputError } from "./inputs.ts";
import { dtypeName, dtypeSize, shapeSize, type TensorType, type TensorValue } from "../ir/types.ts";
import { graphOutputs } from "../ir/runtime_shapes.ts";
import type { Program } from "../ir/types.ts";

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

/**
 * A run's outputs from the runtime's output bytes: `program`, every program output at its
 * stored shape (what a task commits: docs/IR.md, "Run-time shapes"), and `graph`, the graph
 * outputs with each run-time axis cut to its length ({@link graphValues}).
 *
 * @example
 * ```ts
 * const { graph, program } = programOutputs(p, Deno.readFileSync("out.bin"));
 * ```
 */
export function programOutputs(
  p: Pick<Program, "tensors" | "outputs">,
  bytes: Uint8Array,
): { graph: TensorValue[]; program: TensorValue[] } {
  const program = splitOutputs(bytes, p.outputs.map((i) => p.tensors[i]));
  return { graph: graphValues(p, program), program };
}

/**
 * The graph outputs among a program's output values: each one with a run-time axis cut to the
 * length the program output for it, which must lie within the bound.
 *
 * @example
 * ```ts
 * const shown = graphValues(program, decodeTensors(prog, "output", data, key));
 * ```
 */
export function graphValues(p: Pick<Program, "tensors" | "outputs">, all: TensorValue[]): TensorValue[] {
  const { outputs, lengthAt } = graphOutputs(p);
  return outputs.map((ti, k) => {
    const at = lengthAt.get(k);
    if (at === undefined) return all[k];
    const axis = p.tensors[ti].runtimeAxis!, v = all[k];
    const n = Number(all[at].data[0]), bound = v.shape[axis];
    if (!(n >= 0 && n <= bound)) {
      throw new Error(`output ${k}: run-time length ${n} is outside [0, ${bound}]`);
    }
    const outer = shapeSize(v.shape.slice(0, axis)), inner = shapeSize(v.shape.slice(axis + 1));
    const shape = v.shape.map((d, i) => (i === axis ? n : d));
    const data = v.data.constructor as { new (n: number): typeof v.data };
    const out = new data(outer * n * inner);
    for (let o = 0; o < outer; o++) {
      (out as Uint8Array).set(
        (v.data as Uint8Array).subarray(o * bound * inner, (o * bound + n) * inner),
        o * n * inner,
      );
    }
    return { dtype: v.dtype, shape, data: out };
  });
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
