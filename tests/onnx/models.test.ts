/**
 * The real models of ../shared/onnx/models: each compiles, runs natively, and matches the stored
 * reference outputs and onnxruntime within the tolerances documented in docs/CONFORMANCE.md;
 * the MNIST models classify the 1,000 held-out digits exactly as well as onnxruntime; and the
 * MIPS image gives byte-identical outputs in the VM and under qemu-mips.
 */
import { assert, assertEquals } from "../_assert.ts";
import { assemble, buildRuntime, compileGraph } from "../../core/compiler/mod.ts";
import { runNative, runOrt, runVm } from "../../core/engine/mod.ts";
import { qemuImage } from "../kernels/_qemu_image.ts";
import { arrayFromBytes, decodeModel, decodeTensor } from "../../core/onnx/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { compareOutput, SHARED } from "./_cases.ts";

const MODELS = `${SHARED}models`;
const runtime = buildRuntime();

function f32(path: string, shape: number[]): TensorValue {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: DType.float32, shape, data: arrayFromBytes(DType.float32, Deno.readFileSync(path), n) };
}

function argmax(a: ArrayLike<number>, from = 0, n = a.length): number {
  let best = from;
  for (let i = from; i < from + n; i++) if (a[i] > a[best]) best = i;
  return best - from;
}

function compile(file: string, shapes: Record<string, number[]> = {}) {
  return assemble(compileGraph(decodeModel(Deno.readFileSync(`${MODELS}/${file}`), file), { shapes }));
}

/** Native == VM == qemu, byte for byte. */
async function assertBitExact(prog: ReturnType<typeof compile>, inputs: TensorValue[]) {
  const rt = await runtime;
  const native = (await runNative(rt.native, prog, inputs)).outputs;
  const vm = runVm(Deno.readFileSync(rt.mips), prog, inputs);
  vm.outputs.forEach((o, i) => {
    assertEquals(
      new Uint8Array(o.data.buffer),
      new Uint8Array(native[i].data.buffer),
      `VM output ${i} differs from native`,
    );
  });
  assertEquals(
    await qemuImage(rt.mips, prog, inputs),
    vm.stdout,
    "qemu-mips differs from the VM",
  );
  return vm.steps;
}

const digits = Deno.readFileSync(`${MODELS}/mnist-digits/images-1000x28x28-u8.bin`);
const labels = Deno.readFileSync(`${MODELS}/mnist-digits/labels-1000-u8.bin`);

Deno.test("mnist-cnn: reference outputs, onnxruntime, 1,000-digit accuracy, bit-exact VM", async () => {
  const rt = await runtime;
  const prog = compile("mnist-cnn/mnist-12.onnx");
  for (const set of [0, 1, 2]) {
    const dir = `${MODELS}/mnist-cnn/test_data_set_${set}`;
    const x = f32(`${dir}/input_Input3.bin`, [1, 1, 28, 28]);
    const [y] = (await runNative(rt.native, prog, [x])).outputs;
    const err = compareOutput(
      y,
      f32(`${dir}/output_Plus214_Output_0.bin`, [1, 10]),
      `set ${set}`,
      1e-4,
      1e-4,
    );
    assert(err === undefined, err);
  }
  let ours = 0, theirs = 0;
  for (let i = 0; i < 1000; i++) {
    const x = {
      dtype: DType.float32,
      shape: [1, 1, 28, 28],
      data: Float32Array.from(digits.subarray(784 * i, 784 * (i + 1)), (v) => v / 255),
    };
    const [y] = (await runNative(rt.native, prog, [x])).outputs;
    const r = (await runOrt(`${MODELS}/mnist-cnn/mnist-12.onnx`, { Input3: x })).outputs.Plus214_Output_0;
    if (argmax(y.data as Float32Array) === labels[i]) ours++;
    if (argmax(r.data as Float32Array) === labels[i]) theirs++;
  }
  assertEquals(ours, theirs, "accuracy differs from onnxruntime's");
  assert(ours >= 990, `accuracy ${ours}/1000`);
  await assertBitExact(prog, [f32(`${MODELS}/mnist-cnn/test_data_set_0/input_Input3.bin`, [1, 1, 28, 28])]);
});

Deno.test("mnist-mlp: reference outputs, onnxruntime, 1,000-digit accuracy, bit-exact VM", async () => {
  const rt = await runtime;
  const dir = `${MODELS}/mnist-mlp/test_data_set_0`;
  const prog8 = compile("mnist-mlp/mnist-mlp.onnx", { batch: [8] });
  const x8 = f32(`${dir}/input_input.bin`, [8, 784]);
  const [y8] = (await runNative(rt.native, prog8, [x8])).outputs;
  const err = compareOutput(y8, f32(`${dir}/output_logits.bin`, [8, 10]), "logits", 1e-4, 1e-4);
  assert(err === undefined, err);
  const prog = compile("mnist-mlp/mnist-mlp.onnx", { batch: [1000] });
  const x = { dtype: DType.float32, shape: [1000, 784], data: Float32Array.from(digits, (v) => v / 255) };
  const [y] = (await runNative(rt.native, prog, [x])).outputs;
  const r = (await runOrt(`${MODELS}/mnist-mlp/mnist-mlp.onnx`, { input: x })).outputs.logits;
  let ours = 0, theirs = 0;
  for (let i = 0; i < 1000; i++) {
    if (argmax(y.data as Float32Array, 10 * i, 10) === labels[i]) ours++;
    if (argmax(r.data as Float32Array, 10 * i, 10) === labels[i]) theirs++;
  }
  assertEquals(ours, theirs, "accuracy differs from onnxruntime's");
  assert(ours >= 900, `accuracy ${ours}/1000`);
  await assertBitExact(prog8, [x8]);
});

Deno.test("stories260K-llama: 49-token logits match the reference and onnxruntime; same greedy tokens", async () => {
  const rt = await runtime;
  const dir = `${MODELS}/stories260K-llama/test_data_set_0`;
  const prog = compile("stories260K-llama/stories260K.onnx", { seq: [49] });
  const tokens = {
    dtype: DType.int64,
    shape: [1, 49],
    data: arrayFromBytes(DType.int64, Deno.readFileSync(`${dir}/input_tokens.bin`), 49),
  };
  const [y] = (await runNative(rt.native, prog, [tokens])).outputs;
  const ref = f32(`${dir}/output_logits.bin`, [1, 49, 512]);
  const err = compareOutput(y, ref, "logits", 1e-3, 1e-3);
  assert(err === undefined, err);
  const r = (await runOrt(`${MODELS}/stories260K-llama/stories260K.onnx`, { tokens })).outputs.logits;
  const err2 = compareOutput(y, r, "logits vs onnxruntime", 1e-3, 1e-3);
  assert(err2 === undefined, err2);
  for (let t = 0; t < 49; t++) {
    assertEquals(
      argmax(y.data as Float32Array, 512 * t, 512),
      argmax(ref.data as Float32Array, 512 * t, 512),
      `next token at ${t}`,
    );
  }
});

Deno.test("shufflenet-v2-int8: top-1 equals the reference on its sample", async () => {
  const rt = await runtime;
  const dir = `${MODELS}/shufflenet-v2-int8/zoo_test_data_set_0`;
  const prog = compile("shufflenet-v2-int8/shufflenet-v2-12-int8.onnx");
  const x = decodeTensor(Deno.readFileSync(`${dir}/input_0.pb`));
  const [y] = (await runNative(rt.native, prog, [{ dtype: x.dtype, shape: x.shape, data: x.data }])).outputs;
  const ort = f32(`${dir}/output_ort_1.30.bin`, [1, 1000]);
  assertEquals(argmax(y.data as Float32Array), 556, "top-1 class");
  assertEquals(argmax(y.data as Float32Array), argmax(ort.data as Float32Array), "top-1 vs onnxruntime");
});
