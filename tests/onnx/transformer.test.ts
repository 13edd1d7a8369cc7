/**
 * The synthetic GPT-2-shaped transformer of tasks/gen_transformer.ts, in a small configuration
 * (2 layers, d_model 64): deterministic generation, `opml compile`, native logits against
 * onnxruntime (the float reference) within the stories260K tolerance (docs/CONFORMANCE.md), the
 * MIPS image in the VM byte-identical to native, and one-line errors for bad options; the same
 * for the int8 LLaMA-shaped graph (`--llama`: DynamicQuantizeLinear, MatMulInteger, RMSNorm,
 * rotary embeddings, SwiGLU) in a small configuration.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { loadModelDir } from "../../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import {
  genTransformer,
  GPT2_SMALL,
  LLAMA_7B,
  parseTransformerArgs,
  TransformerConfigError,
  transformerParams,
  transformerWeightBytes,
} from "../../tasks/gen_transformer.ts";
import { compareOutput } from "./_cases.ts";

const root = new URL("../..", import.meta.url).pathname;
const SMALL = { ...GPT2_SMALL, layers: 2, dim: 64, heads: 4, ff: 256, vocab: 500, ctx: 8, seed: 7 };
const SMALL_LLAMA = { ...LLAMA_7B, layers: 2, dim: 64, heads: 4, ff: 176, vocab: 500, ctx: 8, seed: 7 };

function argmax(a: Float32Array, from: number, n: number): number {
  let best = from;
  for (let i = from; i < from + n; i++) if (a[i] > a[best]) best = i;
  return best - from;
}

Deno.test("gen_transformer: deterministic bytes, GPT-2 small's parameter count", () => {
  const a = genTransformer(SMALL), b = genTransformer(SMALL);
  assertEquals(a, b, "same configuration and seed, same bytes");
  assert(genTransformer({ ...SMALL, seed: 8 }).some((x, i) => x !== a[i]), "another seed, other weights");
  const p = transformerParams(GPT2_SMALL);
  assert(p > 100e6 && p < 125e6, `GPT-2 small has about 124 M parameters, got ${p}`);
});

Deno.test("gen_transformer --llama: deterministic bytes, LLaMA-7B's parameter count, int8 weights", () => {
  const a = genTransformer(SMALL_LLAMA);
  assertEquals(a, genTransformer(SMALL_LLAMA), "same configuration and seed, same bytes");
  assert(
    genTransformer({ ...SMALL_LLAMA, seed: 8 }).some((x, i) => x !== a[i]),
    "another seed, other weights",
  );
  const p = transformerParams(LLAMA_7B);
  assertEquals(p, 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008 + 2 * 4096) + 2 * 32000 * 4096 + 4096);
  const bytes = transformerWeightBytes(LLAMA_7B);
  assert(bytes > p && bytes < p * 1.001, `int8 weights plus float scales: ${bytes} bytes for ${p}`);
  // The model holds every weight once, as int8: its size is the int8 weights plus the graph.
  const small = transformerWeightBytes(SMALL_LLAMA);
  assert(a.length > small && a.length < small + 64 * 1024, `${a.length} bytes for ${small} of weights`);
  const args = parseTransformerArgs(["--layers", "2", "--llama"]);
  assertEquals(args.config, { ...LLAMA_7B, layers: 2 });
  assert(args.out.endsWith("llama-int8-synthetic.onnx"), args.out);
});

Deno.test("gen_transformer: bad options are one-line errors", () => {
  for (
    const [args, re] of [
      [["--dim", "100", "--heads", "12"], /--dim 100 is not a multiple of --heads 12/],
      [["--layers", "0"], /--layers 0: expected a positive integer/],
      [["--layers", "two"], /--layers two: expected a positive integer/],
      [["--width", "3"], /unknown option --width/],
      [["--ctx"], /--ctx: missing value/],
      [["--llama", "--dim", "96", "--heads", "32"], /--dim 96 \/ --heads 32 is odd: rotary/],
    ] as [string[], RegExp][]
  ) {
    const e = assertThrows(() => parseTransformerArgs(args), TransformerConfigError);
    assert(re.test(e.message) && !e.message.includes("\n"), e.message);
  }
  assertEquals(parseTransformerArgs(["--layers", "2", "--out", "x.onnx"]).config.layers, 2);
});

/**
 * Compiles `config` with `opml compile`, checks its native logits against onnxruntime (and the
 * next token at every position) and the VM's logits byte for byte against native.
 */
async function compileAndCompare(config: typeof SMALL, tol: number): Promise<void> {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-transformer-" });
  try {
    const onnxPath = `${tmp}/t.onnx`;
    Deno.writeFileSync(onnxPath, genTransformer(config));
    const r = await new Deno.Command("deno", {
      args: ["run", "-A", `${root}cli/main.ts`, "compile", onnxPath, "-o", `${tmp}/m`, "--no-fidelity"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
    const model = loadModelDir(`${tmp}/m`);
    assertEquals(model.manifest.inputs[0].shape, [1, config.ctx]);
    assertEquals(model.manifest.outputs[0].shape, [1, config.ctx, config.vocab]);

    const ids: TensorValue = {
      dtype: DType.int64,
      shape: [1, config.ctx],
      data: BigInt64Array.from([17, 3, 499, 0, 256, 42, 42, 101].map(BigInt)),
    };
    const [y] = (await runNative(model.native, model.prog, [ids])).outputs;
    const ref = (await runOrt(onnxPath, { input_ids: ids })).outputs.logits;
    const err = compareOutput(y, ref, "logits vs onnxruntime", tol, tol);
    assert(err === undefined, err);
    for (let t = 0; t < config.ctx; t++) {
      assertEquals(
        argmax(y.data as Float32Array, config.vocab * t, config.vocab),
        argmax(ref.data as Float32Array, config.vocab * t, config.vocab),
        `next token at ${t}`,
      );
    }

    const vm = runVm(Deno.readFileSync(model.mips), model.prog, [ids]);
    assertEquals(
      new Uint8Array(vm.outputs[0].data.buffer),
      new Uint8Array(y.data.buffer),
      "VM logits differ from native",
    );
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

Deno.test("synthetic transformer (2 layers, d 64): opml compile, native vs onnxruntime, VM == native", async () => {
  await compileAndCompare(SMALL, 1e-3);
});

// MatMulInteger is exact in both engines and DynamicQuantizeLinear follows the same formula, so
// the int8 graph matches onnxruntime as closely as the float one (1.8e-7 measured).
Deno.test("synthetic int8 LLaMA (2 layers, d 64): opml compile, native vs onnxruntime, VM == native", async () => {
  await compileAndCompare(SMALL_LLAMA, 1e-3);
});
