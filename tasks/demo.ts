/**
 * `deno task demo`: the best end-to-end run available so far. One C program (a small float
 * MLP) is built natively and for MIPS from the same source, run natively, under qemu-mips and
 * in the fraud-proof VM (all three must print the same bytes), and one step in the middle of the
 * VM run is turned into a one-step proof whose memory proofs are checked.
 * @module
 */
import { buildMips, buildNative } from "../core/toolchain/mod.ts";
import {
  decodeState,
  keyHex as hex,
  loadElf,
  MapSource,
  MEMORY_PROOF_SIZE,
  PreimageOracle,
  Trace,
  verifyMemoryProof,
} from "../core/vm/mod.ts";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}build/demo`;
const src = `${root}tasks/demo/mlp.c`;
const dec = new TextDecoder();

async function capture(cmd: string, args: string[]): Promise<{ stdout: string; code: number }> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit", stdin: "null" }).output();
  return { stdout: dec.decode(r.stdout), code: r.code };
}

function fail(msg: string): never {
  console.error(`demo: ${msg}`);
  Deno.exit(1);
}

Deno.mkdirSync(out, { recursive: true });
console.log("opml demo: one C program, three executions, one fraud-proof step\n");

console.log(`1. build ${src.slice(root.length)} natively (SSE float) and for MIPS32 (soft-float)`);
const native = await buildNative([src], `${out}/mlp`);
const elf = await buildMips([src], `${out}/mlp.elf`);
console.log(`   ${elf.slice(root.length)}: ${Deno.statSync(elf).size} bytes\n`);

const n = await capture(native, []);
console.log("2. native run:");
console.log(n.stdout.replace(/^/gm, "   ").trimEnd());
const q = await capture("qemu-mips", ["-cpu", "24Kc", elf]);
if (q.stdout !== n.stdout) fail("qemu-mips output differs from the native output");
console.log("\n3. qemu-mips (independent MIPS implementation): identical output");

const state = loadElf(Deno.readFileSync(elf));
let vmOut = "";
const oracle = new PreimageOracle(new MapSource());
const trace = new Trace(state, { oracle, output: (_fd, d) => (vmOut += dec.decode(d)) });
const t0 = performance.now();
trace.runTo(Infinity);
const secs = (performance.now() - t0) / 1000;
if (vmOut !== n.stdout) fail("VM output differs from the native output");
console.log(
  `4. fraud-proof VM: identical output, exit code ${state.exitCode}, ${state.step} steps in ${
    secs.toFixed(2)
  } s`,
);
console.log(`   final state hash ${hex(state.hash())} (status byte ${state.status}: exited 0)\n`);

const at = Math.floor(state.step / 2);
const w = trace.witnessAt(at);
const pre = decodeState(w.stateData);
const insn = verifyMemoryProof(pre.memRoot, pre.pc, w.proof.subarray(0, MEMORY_PROOF_SIZE));
if (insn === undefined) fail("instruction proof does not verify");
if (hex(w.postStateHash) !== hex(trace.stateAt(at + 1).hash())) {
  fail("witness post-state differs from the trace");
}
console.log(`5. one-step proof of step ${at} -> ${at + 1} (what the MIPS contract executes on chain):`);
console.log(
  `   pc 0x${pre.pc.toString(16)}, instruction 0x${insn.toString(16).padStart(8, "0")}, proof verified`,
);
console.log(`   pre-state  ${hex(w.preStateHash)}`);
console.log(`   post-state ${hex(w.postStateHash)}`);
console.log(`   state ${w.stateData.length} bytes + memory proofs ${w.proof.length} bytes`);
console.log(
  "\nreproduce: deno task opml vm run build/demo/mlp.elf --json; deno task opml prove build/demo/mlp.elf --step " +
    at + " --json",
);
