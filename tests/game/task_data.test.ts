/**
 * Task and result data as they travel on chain (core/game/task_data.ts): encode/decode round trip
 * of inputs and outputs (float32 and int64), and the errors that name the problem (empty data,
 * wrong length, data of another key, a key of other data). keyOfTensors is cross-checked against
 * an independent path: the native runtime (C) commits to the task in S_0 = H(programKey ||
 * u32be(0) || inputKey) and to the result in S_(N+1) = H(programKey || u32be(N+1) || outputKey),
 * H = keccak256 with its first byte set to 2, recomputed here with viem's keccak256.
 *
 * Run: deno test -A tests/game/task_data.test.ts
 */
import { concat, type Hex, keccak256, numberToHex } from "viem";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { compileModelFile, loadModelDir, type ModelDir } from "../../core/compiler/mod.ts";
import { runNative } from "../../core/engine/mod.ts";
import { DType, type TensorValue } from "../../core/ir/mod.ts";
import { arrayFromBytes } from "../../core/onnx/mod.ts";
import { keyHex } from "../../core/vm/oracle.ts";
import { decodeTensors, encodeTensors, keyOfTensors, TaskDataError } from "../../core/game/mod.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-task-data-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
await compileModelFile(`${MODELS}mnist-cnn/mnist-12.onnx`, `${tmp}/cnn`);
await compileModelFile(`${MODELS}stories260K-llama/stories260K.onnx`, `${tmp}/stories`, {
  shapes: { seq: [49] },
});
const cnn = loadModelDir(`${tmp}/cnn`);
const stories = loadModelDir(`${tmp}/stories`);

const digit: TensorValue = {
  dtype: DType.float32,
  shape: [1, 1, 28, 28],
  data: Float32Array.from(
    Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(784 * 537, 784 * 538),
    (v) => v / 255,
  ),
};
const tokens: TensorValue = {
  dtype: DType.int64,
  shape: [1, 49],
  data: arrayFromBytes(
    DType.int64,
    Deno.readFileSync(`${MODELS}stories260K-llama/test_data_set_0/input_tokens.bin`),
    49,
  ),
};

const bytes = (t: TensorValue) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** H(programKey || u32be(i) || key), first byte 2: the phase-1 state, computed independently. */
function phase1State(model: ModelDir, i: number, key: Hex): string {
  const h = keccak256(concat([keyHex(model.prog.key) as Hex, numberToHex(i, { size: 4 }), key]));
  return `0x02${h.slice(4)}`;
}

for (const [name, model, x] of [["mnist-cnn", cnn, digit], ["stories260K", stories, tokens]] as const) {
  Deno.test(`${name}: inputs and outputs round trip through the on-chain encoding, keys as the runtime commits`, async () => {
    const inputKey = keyOfTensors([x]);
    const data = encodeTensors([x]);
    assertEquals((data.length - 2) / 2, x.data.byteLength, "the encoding is the raw bytes");
    const [back] = decodeTensors(model.prog, "input", data, inputKey);
    assertEquals([back.dtype, back.shape], [x.dtype, x.shape]);
    assertEquals(bytes(back), bytes(x));

    const run = await runNative(model.native, model.prog, [x], { states: true });
    const outputKey = keyOfTensors(run.outputs);
    const outs = decodeTensors(model.prog, "output", encodeTensors(run.outputs), outputKey);
    assertEquals(outs.map(bytes), run.outputs.map(bytes));
    assertEquals(outs.map((t) => t.shape), model.manifest.outputs.map((o) => o.shape));

    // the native runtime's own S_0 and S_(N+1) commit to exactly these keys
    const n = model.prog.program.nodes.length;
    const states = run.states!.map((s) => keyHex(s));
    assertEquals(states.length, n + 2);
    assertEquals(states[0], phase1State(model, 0, inputKey), "S_0 commits to keyOfTensors(inputs)");
    assertEquals(
      states[n + 1],
      phase1State(model, n + 1, outputKey),
      "S_(N+1) commits to keyOfTensors(outputs)",
    );
  });
}

Deno.test("decodeTensors: empty data, wrong length, another key: errors that name the problem", async () => {
  const key = keyOfTensors([digit]);
  const data = encodeTensors([digit]);
  assertThrows(() => decodeTensors(cnn.prog, "input", "0x", key), TaskDataError, /^no input data on chain/);
  assertThrows(
    () => decodeTensors(cnn.prog, "input", data.slice(0, -8) as Hex, key),
    TaskDataError,
    /^input data is 3132 bytes, the model's inputs take 3136$/,
  );
  assertThrows(
    () => decodeTensors(cnn.prog, "input", `${data}00` as Hex, key),
    TaskDataError,
    /^input data is 3137 bytes, the model's inputs take 3136$/,
  );
  // one bit of the data changed: its key is not the committed one
  const flipped = `${data.slice(0, -1)}${(parseInt(data.slice(-1), 16) ^ 1).toString(16)}` as Hex;
  const e = assertThrows(
    () => decodeTensors(cnn.prog, "input", flipped, key),
    TaskDataError,
    /^input data has key 0x[0-9a-f]{64}, not 0x[0-9a-f]{64} as committed$/,
  );
  assert(e.message.endsWith(`not ${key} as committed`), e.message);
  // the right data against another key (e.g. a result posted with a lying output key)
  const { outputs } = await runNative(cnn.native, cnn.prog, [digit]);
  assertThrows(
    () => decodeTensors(cnn.prog, "output", encodeTensors(outputs), key),
    TaskDataError,
    /^output data has key .* not .* as committed$/,
  );
  // another model's input (int64 tokens) for mnist: the length says so
  assertThrows(
    () => decodeTensors(cnn.prog, "input", encodeTensors([tokens]), keyOfTensors([tokens])),
    TaskDataError,
    /^input data is 392 bytes, the model's inputs take 3136$/,
  );
  // keys depend on every byte and on the split into tensors
  assert(keyOfTensors([digit]) !== keyOfTensors([digit, digit]));
  assertEquals(encodeTensors([]), "0x");
});
