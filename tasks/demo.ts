/**
 * `deno task demo`: the best end-to-end run available so far. The mnist-cnn ONNX model is
 * compiled to a deterministic program; one digit is classified natively, in the fraud-proof VM
 * and under qemu-mips (byte-identical outputs, one data key); then two steps of the VM run are
 * proven on the embedded local chain (anvil): an ordinary instruction and a read of one of the
 * model's weights through the preimage oracle, each executed by the MIPS contract and compared
 * with the TypeScript VM.
 * @module
 */
import { createPublicClient, createWalletClient, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { compileModelFile, loadModelDir } from "../core/compiler/mod.ts";
import { preimageRecords, programPreimages, runNative } from "../core/engine/mod.ts";
import { DType } from "../core/ir/mod.ts";
import {
  keyHex as hex,
  KeyType,
  loadElf,
  MapSource,
  merkleDataKey,
  PreimageOracle,
  Trace,
} from "../core/vm/mod.ts";
import { ANVIL_DEV_KEY, startAnvil } from "../core/chain/anvil.ts";
import { deployVm } from "../core/chain/deploy.ts";
import { callStep, stepCalldata } from "../core/chain/step.ts";
import { loadPart, partLoadFor } from "../core/chain/preimage_load.ts";

const root = new URL("..", import.meta.url).pathname;
import { SHARED_MODELS as MODELS } from "./_data.ts";
const out = `${root}build/demo`;
const t00 = performance.now();

function fail(msg: string): never {
  console.error(`demo: ${msg}`);
  Deno.exit(1);
}
const bytesOf = (v: { data: ArrayBufferView }) =>
  new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

console.log("opml demo: an ONNX model, three executions, two fraud-proof steps on a local chain\n");

// 1. compile
const modelPath = `${MODELS}mnist-cnn/mnist-12.onnx`;
let t0 = performance.now();
const manifest = await compileModelFile(modelPath, `${out}/mnist-cnn`);
const model = loadModelDir(`${out}/mnist-cnn`);
console.log(
  `1. opml compile mnist-cnn: ${manifest.nodes} kernel calls, ${manifest.constants.length} weight tensors (${
    ((performance.now() - t0) / 1000).toFixed(2)
  } s)`,
);
console.log(`   model commitment ${manifest.modelCommitment}`);

// 2. native
const digits = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`);
const labels = Deno.readFileSync(`${MODELS}mnist-digits/labels-1000-u8.bin`);
const pick = 537;
const x = {
  dtype: DType.float32,
  shape: [1, 1, 28, 28],
  data: Float32Array.from(digits.subarray(784 * pick, 784 * (pick + 1)), (v) => v / 255),
};
Deno.writeTextFileSync(
  `${out}/digit.json`,
  JSON.stringify({ Input3: { shape: x.shape, dtype: "float32", data: [...x.data] } }),
);
const [logits] = (await runNative(model.native, model.prog, [x])).outputs;
const scores = logits.data as Float32Array;
const digit = scores.indexOf(Math.max(...scores));
const outKey = merkleDataKey(bytesOf(logits));
console.log(`\n2. native run on held-out digit #${pick} (label ${labels[pick]}): predicts ${digit}`);
console.log(`   output data key ${hex(outKey)}`);

// 3. the VM, with checkpoints, recording a step that reads a weight through the oracle
const source = new MapSource();
for (const [k, d] of programPreimages(model.prog, [x])) source.set(k, d);
const state = loadElf(Deno.readFileSync(model.mips));
let weightReadStep = -1;
/** The oracle, noting the first step that reads the middle of a weight tensor. */
class RecordingOracle extends PreimageOracle {
  override read(key: Uint8Array, offset: number) {
    if (weightReadStep < 0 && key[0] === KeyType.MerkleData && offset >= 4096 && state.step > 1_000_000) {
      weightReadStep = state.step;
    }
    return super.read(key, offset);
  }
}
const recording = new RecordingOracle(source);
const chunks: Uint8Array[] = [];
const trace = new Trace(state, { oracle: recording, output: (fd, d) => fd === 1 && chunks.push(d.slice()) });
t0 = performance.now();
trace.runTo(Infinity);
const vmSecs = (performance.now() - t0) / 1000;
const vmOut = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
chunks.reduce((o, c) => (vmOut.set(c, o), o + c.length), 0);
if (state.exitCode !== 0 || !same(vmOut, bytesOf(logits))) {
  fail("the VM's output differs from the native output");
}
console.log(
  `\n3. fraud-proof VM: byte-identical logits, ${(state.step / 1e6).toFixed(1)} M steps in ${
    vmSecs.toFixed(1)
  } s`,
);
console.log(`   final state hash ${hex(state.hash())} (status 0: exited, valid)`);

// 4. qemu
const q = new Deno.Command("qemu-mips", {
  args: ["-cpu", "24Kc", model.mips],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const w = q.stdin.getWriter();
await w.write(preimageRecords(model.prog, [x]));
await w.close();
const qr = await q.output();
if (qr.code !== 0 || !same(qr.stdout, vmOut)) fail("qemu-mips output differs from the VM's");
console.log("\n4. qemu-mips (an independent MIPS CPU) on the same image and data: byte-identical logits");

// 5. two steps on chain
console.log("\n5. local chain: anvil, PreimageOracle and MIPS deployed");
const anvil = await startAnvil();
try {
  const account = privateKeyToAccount(ANVIL_DEV_KEY);
  const wallet = createWalletClient({ account, chain: foundry, transport: http(anvil.url) });
  const client = createPublicClient({ chain: foundry, transport: http(anvil.url), cacheTime: 0 });
  const vm = await deployVm(wallet);
  const localContext: Hex = `0x${"00".repeat(32)}`;
  const steps = [Math.floor(state.step / 2), weightReadStep];
  for (const at of steps) {
    if (at < 0) fail("no weight read was recorded");
    const wit = trace.witnessAt(at);
    let gasNote = "";
    if (wit.preimage) {
      const load = partLoadFor(wit.preimage);
      const { gasUsed } = await loadPart(wallet, vm.oracle, load, localContext);
      gasNote =
        `; the 32-byte part at offset ${wit.preimage.offset} of a ${wit.preimage.data.length}-byte weight tensor loaded with its Merkle proof (${gasUsed} gas)`;
    }
    const r = await callStep(client, vm.mips, account.address, {
      stateData: wit.stateData,
      proof: wit.proof,
      localContext,
    });
    if (!r.ok) fail(`step ${at} reverted: ${r.error ?? r.data}`);
    if (r.postStateHash !== hex(wit.postStateHash)) {
      fail(`step ${at}: the contract's post-state differs from the TypeScript VM's`);
    }
    const data = stepCalldata({ stateData: wit.stateData, proof: wit.proof, localContext });
    const gas = await client.estimateGas({ account: account.address, to: vm.mips, data });
    console.log(
      `   step ${at} -> ${at + 1}${wit.preimage ? " (preimage read)" : ""}: MIPS.step returned ${
        r.postStateHash.slice(0, 18)
      }..., equal to the TypeScript VM (${gas} gas)${gasNote}`,
    );
  }
} finally {
  await anvil.stop();
}
console.log(
  `\ndone in ${((performance.now() - t00) / 1000).toFixed(1)} s. Try: deno task opml run ${
    out.slice(root.length)
  }/mnist-cnn --input ${out.slice(root.length)}/digit.json --engine vm`,
);
