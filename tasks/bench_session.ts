/**
 * Serving benchmark (docs/BENCHMARKS.md, section 2): the native time of one task as `opml serve`
 * sees it (the await of a task's outputs: input files written, the inference, the outputs read)
 * with a kept session (core/engine/session.ts, `opml-runtime --session`) against a fresh
 * `opml-runtime` process per task (runNative), on compiled model directories.
 *
 * The two are **interleaved**: task i runs once in the session and once in a fresh process, in
 * alternating order, on its own input (int64 inputs: tokens in 0 .. 255; floats in [-1, 1]);
 * the two outputs must be the same bytes. Reported: the session's first task (it pays the
 * loading), then medians and quartiles over tasks 2 .. N of wall time and in-runtime compute time.
 *
 *   deno run -A tasks/bench_session.ts [--tasks 20] [--threads N] MODEL_DIR...
 * @module
 */
import { loadModelDir } from "../core/compiler/mod.ts";
import { NativeSession, runNative } from "../core/engine/mod.ts";
import { DType, shapeSize, type TensorType, type TensorValue } from "../core/ir/mod.ts";
import { bytesOf } from "../core/onnx/load.ts";

function inputOf(t: TensorType, seed: number): TensorValue {
  let s = seed * 2654435761 >>> 0;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const n = shapeSize([...t.shape]);
  if (t.dtype === DType.int64) {
    return {
      dtype: t.dtype,
      shape: [...t.shape],
      data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(next() * 256))),
    };
  }
  if (t.dtype === DType.float32) {
    return {
      dtype: t.dtype,
      shape: [...t.shape],
      data: Float32Array.from({ length: n }, () => next() * 2 - 1),
    };
  }
  throw new Error(`input dtype ${t.dtype}: not generated here`);
}

const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))];
const ms = (x: number) => (x / 1e6).toFixed(1);
const spread = (xs: number[]) => `${ms(q(xs, 0.5))} ms (${ms(q(xs, 0.25))} .. ${ms(q(xs, 0.75))})`;
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

const args = [...Deno.args];
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : Number(args.splice(i, 2)[1]);
};
const tasks = flag("--tasks") ?? 20;
const threads = flag("--threads");
console.log(
  `${new Date().toISOString()}, load ${load()}, ${tasks} tasks per model, threads ${threads ?? "default"}`,
);
for (const dir of args) {
  const m = loadModelDir(dir);
  const p = m.prog.program;
  const session = NativeSession.open(m.native, m.prog, undefined, { threads });
  const wall = { session: [] as number[], fresh: [] as number[] };
  const compute = { session: [] as number[], fresh: [] as number[] };
  try {
    for (let i = 0; i < tasks; i++) {
      const inputs = p.inputs.map((id, k) => inputOf(p.tensors[id], 1000 * i + k + 1));
      const runs = {
        session: () => session.run(inputs),
        fresh: () => runNative(m.native, m.prog, inputs, { repeat: 1, threads }),
      };
      const order = (i % 2 ? ["fresh", "session"] : ["session", "fresh"]) as (keyof typeof runs)[];
      const out: Record<string, Uint8Array[]> = {};
      for (const k of order) {
        const t0 = performance.now();
        const r = await runs[k]();
        wall[k].push((performance.now() - t0) * 1e6);
        compute[k].push(r.computeNs!);
        out[k] = r.programOutputs.map((v) => bytesOf(v));
      }
      if (out.session.some((b, j) => b.join() !== out.fresh[j].join())) {
        throw new Error(`${dir}: task ${i}: outputs differ`);
      }
    }
  } finally {
    await session.close();
  }
  console.log(
    `${dir}: session's first task ${ms(wall.session[0])} ms wall, ${ms(compute.session[0])} ms compute`,
  );
  for (const k of ["session", "fresh"] as const) {
    console.log(
      `  ${k.padEnd(7)} tasks 2..${tasks}: wall ${spread(wall[k].slice(1))}, compute ${
        spread(compute[k].slice(1))
      }`,
    );
  }
}
console.log(`load at the end ${load()}`);
