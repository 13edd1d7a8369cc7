/**
 * Fidelity: how far the deterministic program is from standard ONNX semantics, measured
 * against onnxruntime (the float reference) on sample inputs.
 * @module
 */
import type { TensorValue } from "../ir/types.ts";
import { numericValues } from "../ir/small_floats.ts";
import { OrtError, runOrt } from "../engine/ort.ts";
import { runNative } from "../engine/native.ts";
import type { AssembledProgram } from "./artifacts.ts";

/** Worst errors over all samples and outputs. */
export interface Fidelity {
  samples: number;
  /** max |ours - ort| */
  maxAbsError: number;
  /** max |ours - ort| / max(|ort|, 1e-3) (the floor keeps near-zero outputs meaningful) */
  maxRelError: number;
  /** Outputs compared (elements). */
  elements: number;
}

/**
 * Runs every sample natively and with onnxruntime and reports the worst differences.
 *
 * @example
 * ```ts
 * const f = await measureFidelity("m.onnx", rt.native, prog, [sampleInputs(prog)]);
 * ```
 */
export async function measureFidelity(
  modelPath: string,
  native: string,
  prog: AssembledProgram,
  samples: TensorValue[][],
): Promise<Fidelity> {
  const p = prog.program;
  let maxAbsError = 0, maxRelError = 0, elements = 0;
  for (const inputs of samples) {
    const ours = (await runNative(native, prog, inputs)).outputs;
    const feeds = Object.fromEntries(inputs.map((v, i) => [p.tensors[p.inputs[i]].name, v]));
    const ref = (await runOrt(modelPath, feeds)).outputs;
    ours.forEach((o, k) => {
      const name = p.tensors[p.outputs[k]].name;
      const r = ref[name];
      if (!r || r.data.length !== o.data.length) {
        throw new OrtError(
          `fidelity: onnxruntime gives ${
            r ? `${r.data.length} elements` : "nothing"
          } for output '${name}', the program ${o.data.length}`,
        );
      }
      const ov = numericValues(o.dtype, o.data), rv = numericValues(r.dtype, r.data);
      for (let i = 0; i < o.data.length; i++) {
        const a = Number(ov[i]), b = Number(rv[i]);
        if (Number.isNaN(a) && Number.isNaN(b)) continue;
        const d = a === b ? 0 : Math.abs(a - b);
        maxAbsError = Math.max(maxAbsError, d);
        maxRelError = Math.max(maxRelError, d / Math.max(Math.abs(b), 1e-3));
        elements++;
      }
    });
  }
  return { samples: samples.length, maxAbsError, maxRelError, elements };
}
