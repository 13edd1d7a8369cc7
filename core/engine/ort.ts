/**
 * The onnxruntime-node engine: the float reference (never a committed result).
 * @module
 */
import type * as OrtModule from "onnxruntime-node";
import { OpmlError } from "../errors.ts";
import { DType, dtypeName, type TensorValue } from "../ir/types.ts";

/** onnxruntime could not load or run the model: its message, first line. */
export class OrtError extends OpmlError {
  override name = "OrtError";
}

function ortFailure(modelPath: string, what: string, e: unknown): OrtError {
  if (e instanceof OpmlError) return e;
  const msg = String((e as Error)?.message ?? e).split("\n")[0]
    // onnxruntime prefixes the C++ source location: keep the reason
    .replace(/\/onnxruntime_src\/\S+ (\S+ )*?[\w:<>~]+\([^)]*\)( const)? /, "");
  return new OrtError(`onnxruntime cannot ${what} ${modelPath}: ${msg}`);
}

const ORT_TYPES: Record<number, string> = {
  [DType.float32]: "float32",
  [DType.float64]: "float64",
  [DType.int8]: "int8",
  [DType.uint8]: "uint8",
  [DType.int16]: "int16",
  [DType.uint16]: "uint16",
  [DType.int32]: "int32",
  [DType.uint32]: "uint32",
  [DType.int64]: "int64",
  [DType.uint64]: "uint64",
  [DType.bool]: "bool",
};
const FROM_ORT = Object.fromEntries(Object.entries(ORT_TYPES).map(([k, v]) => [v, Number(k)]));

/** Options of {@link runOrt}. */
export interface OrtOptions {
  /** Intra-op threads (default 1, the benchmark's reference setting). */
  threads?: number;
  /** Run this many times and report the median time per inference. */
  repeat?: number;
}

/**
 * An onnxruntime-node session of a model file with `threads` intra-op threads (sequential
 * execution, its own logging silenced, idle threads not spinning unless `opts.spin`); the caller
 * releases it.
 *
 * @example
 * ```ts
 * const { session } = await openOrtSession("mnist.onnx", 1);
 * await session.release();
 * ```
 */
export async function openOrtSession(
  modelPath: string,
  threads: number,
  opts: { spin?: boolean } = {},
): Promise<{ ort: typeof OrtModule; session: OrtModule.InferenceSession }> {
  // loaded on first use: the native addon needs --allow-ffi, which only this engine requires
  const ort: typeof OrtModule = await import("onnxruntime-node");
  // onnxruntime's own log lines (coloured warnings on stderr) would break one-line errors and
  // --json consumers: only fatal ones, and failures come back as OrtError
  ort.env.logLevel = "fatal";
  try {
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      logSeverityLevel: 4,
      // unless `spin` (onnxruntime's default), no spinning once a run is over: the idle threads
      // otherwise keep the cores busy and take them from the next process (the native runtime,
      // in the benchmarks' interleaved pairs: resnet18 on 2 threads took 19.9 instead of 12.6 ms;
      // onnxruntime itself 9.0 instead of 8.7)
      ...(opts.spin
        ? {}
        : { extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } } }),
    });
    return { ort, session };
  } catch (e) {
    throw ortFailure(modelPath, "load", e);
  }
}

/**
 * Named inputs as onnxruntime tensors.
 *
 * @example
 * ```ts
 * const out = await session.run(ortFeeds(ort, { Input3: x }));
 * ```
 */
export function ortFeeds(
  ort: typeof OrtModule,
  inputs: Record<string, TensorValue>,
): Record<string, OrtModule.Tensor> {
  const feeds: Record<string, OrtModule.Tensor> = {};
  for (const [name, v] of Object.entries(inputs)) {
    const type = ORT_TYPES[v.dtype];
    if (!type) {
      throw new OrtError(`input '${name}': the onnxruntime engine does not take ${dtypeName(v.dtype)}`);
    }
    const data = v.dtype === DType.bool ? Uint8Array.from(v.data as Uint8Array) : v.data;
    // deno-lint-ignore no-explicit-any
    feeds[name] = new ort.Tensor(type as any, data as any, v.shape);
  }
  return feeds;
}

/**
 * Runs a model file with onnxruntime-node (CPU) on named inputs.
 *
 * @example
 * ```ts
 * const { outputs } = await runOrt("mnist.onnx", { Input3: x });
 * ```
 */
export async function runOrt(
  modelPath: string,
  inputs: Record<string, TensorValue>,
  opts: OrtOptions = {},
): Promise<{ outputs: Record<string, TensorValue>; medianMs?: number }> {
  const { ort, session } = await openOrtSession(modelPath, opts.threads ?? 1);
  try {
    const feeds = ortFeeds(ort, inputs);
    let result: OrtModule.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds, { logSeverityLevel: 4 });
    } catch (e) {
      throw ortFailure(modelPath, "run", e);
    }
    let medianMs: number | undefined;
    if (opts.repeat) {
      const times: number[] = [];
      for (let i = 0; i < opts.repeat; i++) {
        const t0 = performance.now();
        result = await session.run(feeds);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      medianMs = times[times.length >> 1];
    }
    const outputs: Record<string, TensorValue> = {};
    for (const [name, t] of Object.entries(result)) {
      const dtype = FROM_ORT[t.type];
      if (!dtype) {
        throw new OrtError(`output '${name}': onnxruntime returned ${t.type}, which opml does not read`);
      }
      // deno-lint-ignore no-explicit-any
      outputs[name] = { dtype, shape: [...t.dims], data: (t.data as any).slice() };
    }
    return { outputs, medianMs };
  } finally {
    await session.release();
  }
}
