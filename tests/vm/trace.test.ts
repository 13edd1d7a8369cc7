/**
 * Checkpointed traces and one-step witnesses on a real compiled program: the state at any step
 * equals a straight run to that step, and every witness carries proofs that verify against its
 * pre-state and lead to its post-state.
 */
import { assert, assertEquals, hexOf } from "../_assert.ts";
import {
  decodeState,
  execute,
  hashPair,
  loadElf,
  MapSource,
  MEMORY_PROOF_SIZE,
  PreimageOracle,
  Trace,
  verifyMemoryProof,
} from "../../core/vm/mod.ts";
import { BUILD, mipsGcc, rng } from "./_mips.ts";

const here = new URL(".", import.meta.url).pathname;
const host = () => ({ oracle: new PreimageOracle(new MapSource()) });

async function program(): Promise<Uint8Array> {
  Deno.mkdirSync(BUILD, { recursive: true });
  return Deno.readFileSync(
    await mipsGcc([`${here}singlestep_start.S`, `${here}singlestep.c`], `${BUILD}/trace_prog.elf`, [
      "-O2",
      "-Wl,-e,_start",
    ]),
  );
}

/** The root obtained by putting `word` at `addr` into a proof's leaf and hashing up its siblings. */
function rootWithWord(proof: Uint8Array, addr: number, word: number): Uint8Array {
  let node: Uint8Array = proof.slice(0, 32);
  new DataView(node.buffer).setUint32(addr & 0x1c, word);
  let index = addr >>> 5;
  for (let h = 0; h < 27; h++, index >>>= 1) {
    const sib = proof.subarray(32 * (h + 1), 32 * (h + 2));
    node = index & 1 ? hashPair(sib, node) : hashPair(node, sib);
  }
  return node;
}

Deno.test("state at any step from checkpoints equals a straight run", async () => {
  const elf = await program();
  const trace = new Trace(loadElf(elf), host(), { interval: 5000 });
  trace.runTo(Infinity);
  const total = trace.head.step;
  assert(total > 50_000);
  assertEquals(
    trace.checkpoints.map((c) => c.step),
    Array.from({ length: trace.checkpoints.length }, (_, i) => i * 5000),
  );
  const r = rng(3);
  const targets = [
    0,
    1,
    4999,
    5000,
    5001,
    total - 1,
    total,
    total + 10,
    ...Array.from({ length: 12 }, () => r() % total),
  ];
  for (const t of targets) {
    const straight = loadElf(elf);
    execute(straight, host(), t);
    assertEquals(hexOf(trace.stateAt(t).hash()), hexOf(straight.hash()), `step ${t}`);
  }
});

Deno.test("witnesses: proofs verify against the pre-state and rebuild the post-state root", async () => {
  const elf = await program();
  const trace = new Trace(loadElf(elf), host(), { interval: 10_000 });
  trace.runTo(Infinity);
  const total = trace.head.step;
  const r = rng(11);
  let stores = 0, loads = 0;
  for (let i = 0; i < 400; i++) {
    const t = r() % total;
    const w = trace.witnessAt(t);
    const pre = decodeState(w.stateData);
    assertEquals(Number(pre.step), t);
    assertEquals(hexOf(w.preStateHash), hexOf(trace.stateAt(t).hash()));
    const post = trace.stateAt(t + 1);
    assertEquals(hexOf(w.postStateHash), hexOf(post.hash()));
    const insnProof = w.proof.subarray(0, MEMORY_PROOF_SIZE);
    const insn = verifyMemoryProof(pre.memRoot, pre.pc, insnProof);
    assert(insn !== undefined, `instruction proof at step ${t}`);
    const op = insn >>> 26;
    if (op >= 0x20 && op !== 0x33) {
      const addr = (pre.registers[(insn >>> 21) & 31] + ((insn << 16) >> 16)) & ~3;
      const dataProof = w.proof.subarray(MEMORY_PROOF_SIZE);
      assert(verifyMemoryProof(pre.memRoot, addr >>> 0, dataProof) !== undefined, `data proof at step ${t}`);
      if (op >= 0x28) {
        stores++;
        const word = post.memory.readWord(addr >>> 0);
        assertEquals(
          hexOf(rootWithWord(dataProof, addr >>> 0, word)),
          hexOf(post.memory.root()),
          `store root at ${t}`,
        );
      } else loads++;
    } else {
      assert(w.proof.subarray(MEMORY_PROOF_SIZE).every((b) => b === 0), "no data access, zero data proof");
    }
  }
  assert(stores > 10 && loads > 10, `sampled ${stores} stores and ${loads} loads`);
});
