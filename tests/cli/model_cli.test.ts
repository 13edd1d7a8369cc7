/**
 * `opml compile` and `opml run` as a user runs them: outputs and commitments, the same result
 * from the native and VM engines, and one-line errors with the documented exit codes for bad
 * input (missing or malformed files, unsupported operators, wrong inputs).
 */
import { assert, assertEquals } from "../_assert.ts";
import { makeModel } from "../onnx/_make_model.ts";
import { assertOneLineError, opml } from "../_cli.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-cli-" });

// y = relu(x @ W + b): a real model of supported operators (Gemm, Relu)
const W = Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) - 2);
const mlp = makeModel({
  nodes: [
    { op: "Gemm", inputs: ["x", "W", "b"], outputs: ["h"] },
    { op: "Relu", inputs: ["h"], outputs: ["y"] },
  ],
  inputs: { x: ["batch", 4] },
  outputs: { y: ["batch", 3] },
  initializers: { W: { shape: [4, 3], data: W }, b: { shape: [3], data: [0.5, -1, 0.25] } },
});
Deno.writeFileSync(`${tmp}/mlp.onnx`, mlp);

Deno.test("compile then run: native and VM engines agree on outputs and data keys; ort is close", async () => {
  const c = await opml("compile", `${tmp}/mlp.onnx`, "-o", `${tmp}/mlp`, "--shape", "batch=2", "--json");
  assertEquals(c.code, 0, c.stderr);
  const summary = JSON.parse(c.stdout);
  assert(/^0x03[0-9a-f]{62}$/.test(summary.modelCommitment), summary.modelCommitment);
  assert(summary.fidelity.maxAbsError < 1e-5, JSON.stringify(summary.fidelity));
  const x = [[1, 2, 3, 4], [-1, 0.5, 0, 2]];
  Deno.writeTextFileSync(
    `${tmp}/x.json`,
    JSON.stringify({ x: { shape: [2, 4], dtype: "float32", data: x } }),
  );
  const results: Record<string, { outputs: { y: { data: number[]; key?: string } } }> = {};
  for (const engine of ["native", "vm", "ort"]) {
    const r = await opml("run", `${tmp}/mlp`, "--input", `${tmp}/x.json`, "--engine", engine, "--json");
    assertEquals(r.code, 0, r.stderr);
    results[engine] = JSON.parse(r.stdout);
  }
  // independent reference: the same arithmetic in TypeScript (float64; exact here)
  const want = x.flatMap((row) =>
    [0, 1, 2].map((j) => Math.max(0, row.reduce((s, v, k) => s + v * W[3 * k + j], 0) + [0.5, -1, 0.25][j]))
  );
  assertEquals(results.native.outputs.y.data, want);
  assertEquals(results.vm.outputs.y, results.native.outputs.y);
  assertEquals(results.ort.outputs.y.data, want);
  assertEquals(results.ort.outputs.y.key, undefined, "onnxruntime results carry no commitment");
});

Deno.test("compile: missing file, non-ONNX file, dynamic dimension, unsupported operator", async () => {
  assertOneLineError(
    await opml("compile", `${tmp}/nope.onnx`, "-o", `${tmp}/x`),
    1,
    /nope\.onnx: no such file/,
  );
  Deno.writeTextFileSync(`${tmp}/junk.onnx`, "this is not a model at all \u0000\u0001\u0002");
  assertOneLineError(
    await opml("compile", `${tmp}/junk.onnx`, "-o", `${tmp}/x`),
    1,
    /junk\.onnx: not an ONNX model/,
  );
  assertOneLineError(
    await opml("compile", `${tmp}/mlp.onnx`, "-o", `${tmp}/x`),
    2,
    /dynamic dimension 'batch'.*--shape batch=N/,
  );
  Deno.writeFileSync(
    `${tmp}/bernoulli.onnx`,
    makeModel({
      nodes: [{ op: "Bernoulli", inputs: ["x"], outputs: ["y"] }],
      inputs: { x: [2, 3] },
      outputs: { y: [2, 3] },
    }),
  );
  assertOneLineError(
    await opml("compile", `${tmp}/bernoulli.onnx`, "-o", `${tmp}/x`),
    2,
    /unsupported operator Bernoulli \(node 'n0', opset 17\): its output is random by definition/,
  );
  assertOneLineError(
    await opml("compile", `${tmp}/mlp.onnx`, "-o", `${tmp}/x`, "--shape", "batch"),
    2,
    /--shape batch: expected NAME=DIMS/,
  );
});

Deno.test("run: missing directory, tampered weights, bad inputs", async () => {
  const c = await opml(
    "compile",
    `${tmp}/mlp.onnx`,
    "-o",
    `${tmp}/mlp2`,
    "--shape",
    "batch=1",
    "--no-fidelity",
  );
  assertEquals(c.code, 0, c.stderr);
  assertOneLineError(
    await opml("run", `${tmp}/nothing`, "--input", `${tmp}/x.json`),
    1,
    /manifest\.json: no such file/,
  );
  Deno.writeTextFileSync(`${tmp}/bad.json`, "{ not json");
  assertOneLineError(
    await opml("run", `${tmp}/mlp2`, "--input", `${tmp}/bad.json`),
    1,
    /bad\.json: not valid JSON/,
  );
  Deno.writeTextFileSync(
    `${tmp}/wrong.json`,
    JSON.stringify({ x: { shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] } }),
  );
  assertOneLineError(
    await opml("run", `${tmp}/mlp2`, "--input", `${tmp}/wrong.json`),
    1,
    /input 'x': shape \[2,4\], but the model was compiled for \[1,4\]/,
  );
  Deno.writeTextFileSync(`${tmp}/other.json`, JSON.stringify({ z: { shape: [1, 4], data: [1, 2, 3, 4] } }));
  assertOneLineError(await opml("run", `${tmp}/mlp2`, "--input", `${tmp}/other.json`), 1, /no input 'z'/);
  assertOneLineError(await opml("run", `${tmp}/mlp2`), 2, /no value for input 'x'/);
  Deno.writeFileSync(`${tmp}/x.bin`, new Uint8Array(15));
  assertOneLineError(
    await opml("run", `${tmp}/mlp2`, "--input", `x=${tmp}/x.bin`),
    1,
    /x\.bin: 15 bytes, but float\[1x4\] takes 16/,
  );
  // a flipped weight byte no longer matches the manifest's commitments
  const w = Deno.readFileSync(`${tmp}/mlp2/weights.bin`);
  w[3] ^= 1;
  Deno.writeFileSync(`${tmp}/mlp2/weights.bin`, w);
  assertOneLineError(
    await opml("run", `${tmp}/mlp2`, "--input", `${tmp}/x.json`),
    1,
    /weights\.bin: constant 'W' does not match its data key/,
  );
});
