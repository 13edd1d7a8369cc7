/**
 * The native engine: runs a program with the native runtime (`opml-runtime`).
 * @module
 */
import { OpmlError } from "../errors.ts";
import type { AssembledProgram } from "../compiler/artifacts.ts";
import type { TensorValue } from "../ir/types.ts";
import { bytesOf, checkInput, programOutputs } from "./tensors.ts";

/** The native runtime failed: its one-line message. */
export class RuntimeError extends OpmlError {
  override name = "RuntimeError";
}

/** Options of {@link runNative}. */
export interface NativeRunOptions {
  /** Run the inference this many times and report the median compute time. */
  repeat?: number;
  /** Also compute the phase-1 states S_0 .. S_(N+1) (docs/MULTIPHASE.md). */
  states?: boolean;
  /**
   * Testing aid, a dishonest server: flip the lowest bit of the first element of node
   * `tamper`'s first output (1-based) right after it runs, so every state from S_tamper on
   * differs (and usually the outputs).
   */
  tamper?: number;
  /**
   * Threads of the kernels (`--threads`; default: the runtime's, the machine's cores). Results
   * are the same bytes for any count.
   */
  threads?: number;
  /** Extra environment of the runtime process (tests: `OPML_SIMD=generic`, docs/IR.md). */
  env?: Record<string, string>;
}

/** Outputs of a native run, and the measured compute time and states when asked. */
export interface NativeRunResult {
  /** The graph outputs (run-time axes cut to their lengths: docs/IR.md, "Run-time shapes"). */
  outputs: TensorValue[];
  /** Every program output at its stored shape, run-time lengths included: what a task commits. */
  programOutputs: TensorValue[];
  computeNs?: number;
  /** With `states: true`: S_0 .. S_(N+1), 32 bytes each (N = node count). */
  states?: Uint8Array[];
}

/** What the transition checker of a -> b needs from a native run (see {@link nativeCheckerData}). */
export interface CheckerData {
  /** table_a: 32 bytes per tensor, the data key of each tensor existing after node a. */
  table: Uint8Array;
  /**
   * Little-endian bytes of every activation that exists after node a and is read by a node in
   * a+1 .. min(b, N), by tensor index.
   */
  tensors: Map<number, Uint8Array>;
}

/**
 * Checks a run's inputs (in program input order) against the program: their count, then each
 * one's dtype and shape ({@link checkInput}).
 *
 * @example
 * ```ts
 * checkProgramInputs(assembled, [input]); // throws a RuntimeError or an InputError
 * ```
 */
export function checkProgramInputs(prog: AssembledProgram, inputs: TensorValue[]): void {
  const p = prog.program;
  if (inputs.length !== p.inputs.length) {
    throw new RuntimeError(`the model has ${p.inputs.length} inputs, ${inputs.length} given`);
  }
  inputs.forEach((v, i) => checkInput(p.tensors[p.inputs[i]].name, p.tensors[p.inputs[i]], v));
}

/** The error of a runtime that could not be started (`e`: what spawning it threw). */
export function cannotRun(runtime: string, e: unknown): RuntimeError {
  const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message.split(": ")[0];
  return new RuntimeError(`${runtime}: cannot run the native runner (${why}); compile the model again`);
}

/** Runs the native runtime in a temporary folder; `collect` reads its files before cleanup. */
async function execRuntime<T>(
  runtime: string,
  prog: AssembledProgram,
  inputs: TensorValue[],
  extra: (dir: string) => string[],
  collect: (dir: string, stderr: string) => T,
  files?: { program: string; weights: string },
  env?: Record<string, string>,
): Promise<T> {
  checkProgramInputs(prog, inputs);
  const dir = Deno.makeTempDirSync({ prefix: "opml-run-" });
  files ??= prog.files;
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
    const args = [programFile, weightsFile, `${dir}/out.bin`, ...inFiles, ...extra(dir)];
    let r: Deno.CommandOutput;
    try {
      r = await new Deno.Command(runtime, { args, env, stdout: "null", stderr: "piped", stdin: "null" })
        .output();
    } catch (e) {
      throw cannotRun(runtime, e);
    }
    const err = new TextDecoder().decode(r.stderr);
    if (r.code !== 0) {
      throw new RuntimeError(err.trim().split("\n").pop() || `opml-runtime exited with code ${r.code}`);
    }
    return collect(dir, err);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * Runs an assembled program natively on the given inputs (in program input order).
 *
 * @example
 * ```ts
 * const { outputs } = await runNative(rt.native, assembled, [input]);
 * ```
 */
export function runNative(
  runtime: string,
  prog: AssembledProgram,
  inputs: TensorValue[],
  opts: NativeRunOptions = {},
  files?: { program: string; weights: string },
): Promise<NativeRunResult> {
  const p = prog.program;
  const extra = (dir: string) => [
    ...(opts.repeat ? ["--repeat", String(opts.repeat)] : []),
    ...(opts.states ? ["--states", `${dir}/states.bin`] : []),
    ...(opts.tamper !== undefined ? ["--tamper", String(opts.tamper)] : []),
    ...(opts.threads !== undefined ? ["--threads", String(opts.threads)] : []),
  ];
  return execRuntime(
    runtime,
    prog,
    inputs,
    extra,
    (dir, err) => {
      const m = /compute_ns (\d+)/.exec(err);
      const { graph, program } = programOutputs(p, Deno.readFileSync(`${dir}/out.bin`));
      const res: NativeRunResult = {
        outputs: graph,
        programOutputs: program,
        computeNs: m ? Number(m[1]) : undefined,
      };
      if (opts.states) {
        const b = Deno.readFileSync(`${dir}/states.bin`);
        res.states = Array.from({ length: b.length / 32 }, (_, i) => b.slice(32 * i, 32 * i + 32));
      }
      return res;
    },
    files,
    opts.env,
  );
}

/**
 * Runs nodes 1..a natively and returns what the transition checker of a -> b needs besides the
 * program, the constants and the inputs: table_a and the activations the nodes a+1 .. min(b, N)
 * read from before the range (`opml-runtime ... --checker-data A B DIR`). `tamper` runs as the
 * dishonest server of {@link NativeRunOptions.tamper}.
 *
 * @example
 * ```ts
 * const { table, tensors } = await nativeCheckerData(rt.native, assembled, [input], k - 1, k);
 * ```
 */
export function nativeCheckerData(
  runtime: string,
  prog: AssembledProgram,
  inputs: TensorValue[],
  a: number,
  b: number,
  opts: { tamper?: number } = {},
): Promise<CheckerData> {
  const extra = (dir: string) => {
    Deno.mkdirSync(`${dir}/data`);
    const tamper = opts.tamper !== undefined ? ["--tamper", String(opts.tamper)] : [];
    return ["--checker-data", String(a), String(b), `${dir}/data`, ...tamper];
  };
  return execRuntime(runtime, prog, inputs, extra, (dir) => {
    const tensors = new Map<number, Uint8Array>();
    for (const e of Deno.readDirSync(`${dir}/data`)) {
      const m = /^(\d+)\.bin$/.exec(e.name);
      if (m) tensors.set(Number(m[1]), Deno.readFileSync(`${dir}/data/${e.name}`));
    }
    return { table: Deno.readFileSync(`${dir}/data/table.bin`), tensors };
  });
}
