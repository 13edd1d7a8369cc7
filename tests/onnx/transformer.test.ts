/**
 * The synthetic GPT-2-shaped transformer of tasks/gen_transformer.ts, in a small configuration
 * (2 layers, d_model 64): deterministic generation, `opml compile`, native logits against
 * onnxruntime (the float reference) within the stories260K tolerance (docs/CONFORMANCE.md), the
 * MIPS image in the VM byte-identical to native, and one-line errors for bad options.
 */
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { loadModelDir } from "../../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import {
  genTransformer,
  GPT2_SMALL,
  parseTransformerArgs,
  TransformerConfigError,
  transformerParams,
} from "../../tasks/gen_transformer.ts";
import { compareOutput } from "./_cases.ts";

const root = new URL("../..", import.meta.url).pathname;
const SMALL = { ...GPT2_SMALL, layers: 2, dim: 64, heads: 4, ff: 256, vocab: 500, ctx: 8, seed: 7 };

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

Deno.test("gen_transformer: bad options are one-line errors", () => {
  for (
    const [args, re] of [
      [["--dim", "100", "--heads", "12"], /--dim 100 is not a multiple of --heads 12/],
      [["--layers", "0"], /--layers 0: expected a positive integer/],
      [["--layers", "two"], /--layers two: expected a positive integer/],
      [["--width", "3"], /unknown option --width/],
      [["--ctx"], /--ctx: missing value/],
    ] as [string[], RegExp][]
  ) {
    const e = assertThrows(() => parseTransformerArgs(args), TransformerConfigError);
    assert(re.test(e.message) && !e.message.includes("\n"), e.message);
  }
  assertEquals(parseTransformerArgs(["--layers", "2", "--out", "x.onnx"]).config.layers, 2);
});

Deno.test("synthetic transformer (2 layers, d 64): opml compile, native vs onnxruntime, VM == native", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-transformer-" });
  try {
    const onnxPath = `${tmp}/t.onnx`;
    Deno.writeFileSync(onnxPath, genTransformer(SMALL));
    const r = await new Deno.Command("deno", {
      args: ["run", "-A", `${root}cli/main.ts`, "compile", onnxPath, "-o", `${tmp}/m`, "--no-fidelity"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
    const model = loadModelDir(`${tmp}/m`);
    assertEquals(model.manifest.inputs[0].shape, [1, SMALL.ctx]);
    assertEquals(model.manifest.outputs[0].shape, [1, SMALL.ctx, SMALL.vocab]);

    const ids: TensorValue = {
      dtype: DType.int64,
      shape: [1, SMALL.ctx],
      data: BigInt64Array.from([17, 3, 499, 0, 256, 42, 42, 101].map(BigInt)),
    };
    const [y] = (await runNative(model.native, model.prog, [ids])).outputs;
    const ref = (await runOrt(onnxPath, { input_ids: ids })).outputs.logits;
    const err = compareOutput(y, ref, "logits vs onnxruntime", 1e-3, 1e-3);
    assert(err === undefined, err);
    for (let t = 0; t < SMALL.ctx; t++) {
      assertEquals(
        argmax(y.data as Float32Array, SMALL.vocab * t, SMALL.vocab),
        argmax(ref.data as Float32Array, SMALL.vocab * t, SMALL.vocab),
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
});
