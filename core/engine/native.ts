/**
 * The native engine: runs a program with the native runtime (`opml-runtime`).
 * @module
 */
import type { AssembledProgram } from "../compiler/artifacts.ts";
import type { TensorValue } from "../ir/types.ts";
import { bytesOf, checkInput, splitOutputs } from "./tensors.ts";

/** The native runtime failed: its one-line message. */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}

/** Options of {@link runNative}. */
export interface NativeRunOptions {
  /** Run the inference this many times and report the median compute time. */
  repeat?: number;
}

/** Outputs of a native run, and the measured compute time when asked. */
export interface NativeRunResult {
  outputs: TensorValue[];
  computeNs?: number;
}

/**
 * Runs an assembled program natively on the given inputs (in program input order).
 *
 * @example
 * ```ts
 * const { outputs } = await runNative(rt.native, assembled, [input]);
 * ```
 */
export async function runNative(
  runtime: string,
  prog: AssembledProgram,
  inputs: TensorValue[],
  opts: NativeRunOptions = {},
  files?: { program: string; weights: string },
): Promise<NativeRunResult> {
  const p = prog.program;
  if (inputs.length !== p.inputs.length) {
    throw new RuntimeError(`the model has ${p.inputs.length} inputs, ${inputs.length} given`);
  }
  inputs.forEach((v, i) => checkInput(p.tensors[p.inputs[i]].name, p.tensors[p.inputs[i]], v));
  const dir = Deno.makeTempDirSync({ prefix: "opml-run-" });
  try {
    const programFile = files?.program ?? `${dir}/program.opir`;
    const weightsFile = files?.weights ?? `${dir}/weights.bin`;
    if (!files) {
      Deno.writeFileSync(programFile, prog.bytes);
      Deno.writeFileSync(weightsFile, prog.weights);
    }
    const inFiles = inputs.map((v, i) => {
      const f = `${dir}/input${i}.bin`;
      Deno.writeFileSync(f, bytesOf(v));
      return f;
    });
    const args = [programFile, weightsFile, `${dir}/out.bin`, ...inFiles];
    if (opts.repeat) args.push("--repeat", String(opts.repeat));
    const r = await new Deno.Command(runtime, { args, stdout: "null", stderr: "piped", stdin: "null" }).output();
    const err = new TextDecoder().decode(r.stderr);
    if (r.code !== 0) {
      throw new RuntimeError(err.trim().split("\n").pop() || `opml-runtime exited with code ${r.code}`);
    }
    const m = /compute_ns (\d+)/.exec(err);
    const outputs = splitOutputs(Deno.readFileSync(`${dir}/out.bin`), p.outputs.map((i) => p.tensors[i]));
    return { outputs, computeNs: m ? Number(m[1]) : undefined };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
