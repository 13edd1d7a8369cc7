/**
 * The persistent native runtime (`opml-runtime PROGRAM WEIGHTS --session`, core/engine/session.ts):
 * a session's outputs are runNative's bytes (a fresh process per inference) on real models, over
 * several inputs and repeated runs (from a process's third inference the constant matrices are
 * packed panels: core/kernels/nn.c), with 1 and 2 threads; a bad request answers the one-shot
 * run's one-line error and the session answers the next; a killed process is a RuntimeError.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { assemble, type AssembledProgram, buildRuntime, compileGraph } from "../../core/compiler/mod.ts";
import { InputError, NativeSession, runNative, RuntimeError } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { bytesOf, decodeModel } from "../../core/onnx/load.ts";
import { Rng } from "../kernels/quant_model.ts";
import { SHARED_MODELS } from "../../tasks/_data.ts";

const rng = new Rng(20261207);
const runtime = buildRuntime();
const load = (file: string, shapes: Record<string, number[]> = {}): AssembledProgram =>
  assemble(compileGraph(decodeModel(Deno.readFileSync(SHARED_MODELS + file), file), { shapes }));
const image = (): TensorValue => ({
  dtype: DType.float32,
  shape: [1, 1, 28, 28],
  data: Float32Array.from({ length: 784 }, () => Math.fround(rng.next() * 2 - 1)),
});
const tokens = (): TensorValue => ({
  dtype: DType.int64,
  shape: [1, 49],
  data: BigInt64Array.from({ length: 49 }, () => BigInt(rng.int(0, 511))),
});
/** `f()` rejects with an instance of `cls` whose message includes `part`. */
async function assertRejects(f: () => Promise<unknown>, cls: new (...a: never[]) => Error, part: string) {
  try {
    await f();
  } catch (e) {
    assert(e instanceof cls, `expected ${cls.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    assertStringIncludes(e.message, part);
    return;
  }
  throw new Error(`expected ${cls.name}: ${part}`);
}
const bytes = (vs: TensorValue[]) => vs.map((v) => bytesOf(v).slice());

Deno.test("session: runNative's bytes on real models, inputs after inputs, with 1 and 2 threads", async () => {
  const rt = await runtime;
  const cases: [string, AssembledProgram, () => TensorValue][] = [
    ["mnist-cnn", load("mnist-cnn/mnist-12.onnx"), image],
    ["stories260K", load("stories260K-llama/stories260K.onnx", { seq: [49] }), tokens],
  ];
  for (const [label, prog, input] of cases) {
    const inputs = Array.from({ length: 4 }, input);
    const want = [];
    for (const x of inputs) {
      const r = await runNative(rt.native, prog, [x]);
      want.push({ outputs: bytes(r.outputs), program: bytes(r.programOutputs) });
    }
    assert(new Set(want.map((w) => w.program.join())).size > 1, `${label}: the inputs give one output`);
    for (const threads of [1, 2]) {
      const s = NativeSession.open(rt.native, prog, undefined, { threads });
      try {
        // each input twice, in two rounds: runs 3 .. 8 of the process use the packed panels
        for (let run = 0; run < 2 * inputs.length; run++) {
          const i = run % inputs.length;
          const r = await s.run([inputs[i]]);
          assert(r.computeNs! > 0, `${label}: no compute time`);
          assertEquals(
            { outputs: bytes(r.outputs), program: bytes(r.programOutputs) },
            want[i],
            `${label}: ${threads} threads, run ${run + 1} (input ${i}) differs from runNative`,
          );
        }
      } finally {
        await s.close();
      }
    }
  }
});

Deno.test("session: a bad request answers the one-line error, the next one is answered", async () => {
  const rt = await runtime;
  const prog = load("mnist-cnn/mnist-12.onnx");
  const dir = Deno.makeTempDirSync({ prefix: "opml-session-test-" });
  const x = image();
  const want = bytes((await runNative(rt.native, prog, [x])).programOutputs);
  Deno.writeFileSync(`${dir}/p.opir`, prog.bytes);
  Deno.writeFileSync(`${dir}/w.bin`, prog.weights);
  Deno.writeFileSync(`${dir}/x.bin`, bytesOf(x));
  Deno.writeFileSync(`${dir}/short.bin`, bytesOf(x).slice(4));
  const child = new Deno.Command(rt.native, {
    args: [`${dir}/p.opir`, `${dir}/w.bin`, "--session", "--threads", "2"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const requests = [
    [`${dir}/o.bin`, `${dir}/short.bin`],
    [`${dir}/o.bin`, `${dir}/missing.bin`],
    [`${dir}/o.bin`, `${dir}/x.bin`, `${dir}/x.bin`],
    [`${dir}/o.bin`],
    ["", `${dir}/x.bin`],
    [`${dir}/no/such/dir/o.bin`, `${dir}/x.bin`],
    [`${dir}/o.bin`, `${dir}/x.bin`],
  ];
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(requests.map((r) => r.join("\t") + "\n").join("")));
  await w.close();
  const out = await child.output();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  const inputName = prog.program.tensors[prog.program.inputs[0]].name;
  try {
    assertEquals(out.code, 0, "end of input exits 0");
    assertEquals(lines.slice(0, 6), [
      `error ${dir}/short.bin: input 0 ('${inputName}') has 3132 bytes, expected 3136`,
      `error cannot open: ${dir}/missing.bin`,
      "error the program has 1 inputs, 2 given",
      "error the program has 1 inputs, 0 given",
      "error a request is OUT.bin<TAB>INPUT.bin...: no output file",
      `error cannot write: ${dir}/no/such/dir/o.bin`,
    ]);
    assert(/^ok \d+$/.test(lines[6]), lines[6]);
    assertEquals(lines.length, 8, "one answer per request");
    assertEquals([Deno.readFileSync(`${dir}/o.bin`)], want, "the good request's outputs");
    // the one-shot run's messages are the same (one code path), on stderr with exit 3
    for (const k of [0, 1, 2, 5]) {
      const r = await new Deno.Command(rt.native, {
        args: [`${dir}/p.opir`, `${dir}/w.bin`, ...requests[k]],
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(
        [r.code, new TextDecoder().decode(r.stderr)],
        [3, `opml-runtime: ${lines[k].slice("error ".length)}\n`],
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("session: bad inputs are refused before the runtime, a killed process is a RuntimeError", async () => {
  const rt = await runtime;
  const prog = load("mnist-cnn/mnist-12.onnx");
  const x = image();
  const want = bytes((await runNative(rt.native, prog, [x])).programOutputs);
  const s = NativeSession.open(rt.native, prog, undefined, { threads: 1 });
  try {
    await assertRejects(() => s.run([tokens()]), InputError, "dtype");
    await assertRejects(() => s.run([]), RuntimeError, "the model has 1 inputs, 0 given");
    assertEquals(bytes((await s.run([x])).programOutputs), want);
    const pid = s.pid!;
    Deno.kill(pid, "SIGKILL");
    await assertRejects(
      () => s.run([x]),
      RuntimeError,
      `${rt.native}: the session's process was killed by SIGKILL`,
    );
    // the next run starts a new process
    assertEquals(bytes((await s.run([x])).programOutputs), want);
    assert(s.pid !== pid, "a new process");
  } finally {
    await s.close();
  }
  await assertRejects(() => s.run([x]), RuntimeError, "the session is closed");
  // a runtime that fails at loading: its message
  const bad = NativeSession.open(rt.native, prog, {
    program: "/nonexistent/p.opir",
    weights: "/nonexistent/w",
  });
  try {
    await assertRejects(
      () => bad.run([x]),
      RuntimeError,
      "exited with code 3 (opml-runtime: cannot open: /nonexistent/p.opir)",
    );
  } finally {
    await bad.close();
  }
});
