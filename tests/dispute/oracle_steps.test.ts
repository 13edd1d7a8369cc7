/**
 * One-step proofs of the checker's oracle reads, judged by the contracts on a local anvil: a
 * step reading local data, a keccak preimage and Merkle data (at the length prefix, inside one
 * leaf, across two leaves, through fd 7) reverts `PartNotLoaded` until the proof's oracle call is sent, then
 * returns the honest post-state. And a counterpart that lies exactly at such a read loses: the
 * challenge lands on that step and the contract sides with us.
 *
 * Run: deno test -A tests/dispute/oracle_steps.test.ts
 */
import { assert, assertEquals } from "../_assert.ts";
import { compileModelFile } from "../../core/compiler/mod.ts";
import { checkerPreimages, checkerSource, nativeCheckerData } from "../../core/engine/mod.ts";
import { execute, Fd, loadElf, PreimageOracle, Reg, Syscall } from "../../core/vm/mod.ts";
import { challenge, functionSource, type Hash, hashBytes } from "../../core/dispute/mod.ts";
import { honestCheck } from "../../core/dispute/check_run.ts";
import { newParty, phase1States } from "../../core/dispute/party.ts";
import { disputeContext, oneStepProof } from "../../core/dispute/proof.ts";
import { anvilAvailable, startJudge } from "./_chain.ts";
import { randomHash, rng } from "./_fake.ts";

import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";

/** A step that reads the oracle: its number, key type, stream offset and the key's data length. */
interface Read {
  step: number;
  type: number;
  offset: number;
  length: number;
  /** The fd read: 5, or 7 (each word little-endian). */
  fd: number;
}

Deno.test({
  name: "oracle reads of the checker: proven on chain part by part; a lie at a read loses",
  ignore: !anvilAvailable(),
  async fn() {
    const tmp = Deno.makeTempDirSync({ prefix: "opml-oracle-steps-" });
    await compileModelFile(`${MODELS}mnist-mlp/mnist-mlp.onnx`, `${tmp}/mlp`, { shapes: { batch: [1] } });
    const px = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(0, 784);
    Deno.writeFileSync(`${tmp}/x.bin`, new Uint8Array(Float32Array.from(px, (v) => v / 255).buffer));
    const ours = newParty(`${tmp}/mlp`, [`${tmp}/x.bin`]);
    const theirs = newParty(`${tmp}/mlp`, [`${tmp}/x.bin`], 5);
    const os = (await phase1States(ours)).states, ts = (await phase1States(theirs)).states;
    const k = 5, claim = ts[k];
    assert(os[k] !== claim && os[k - 1] === ts[k - 1]);
    const data = await nativeCheckerData(ours.model.native, ours.model.prog, ours.inputs, k - 1, k);
    const source = checkerSource(
      checkerPreimages(ours.model.prog, ours.inputs, k - 1, k, data),
      hashBytes(claim),
    );
    const image = Deno.readFileSync(ours.model.check);
    const run = honestCheck(image, source);
    assertEquals(run.end.exitCode, 1, "our check rejects their claim");

    // the reads of the check, step by step
    const st = loadElf(image);
    const oracle = new PreimageOracle(source);
    const reads: Read[] = [];
    while (!st.exited) {
      const insn = st.memory.readWord(st.pc);
      if (
        insn === 0x0c && st.regs[Reg.v0] === Syscall.read &&
        (st.regs[Reg.a0] === Fd.preimageRead || st.regs[Reg.a0] === Fd.preimageReadLe) &&
        st.regs[Reg.a2] !== 0
      ) {
        reads.push({
          step: st.step,
          type: st.preimageKey[0],
          offset: st.preimageOffset,
          length: oracle.stream(st.preimageKey).length - 8,
          fd: st.regs[Reg.a0],
        });
      }
      execute(st, { oracle }, 1);
    }
    const pick = (what: string, f: (r: Read) => boolean): Read => {
      const r = reads.find(f);
      assert(r, `no ${what} read in the check`);
      return r;
    };
    const chosen: [string, Read][] = [
      ["local data", pick("local", (r) => r.type === 1)],
      ["local data, inside", pick("local inside", (r) => r.type === 1 && r.offset > 8)],
      ["keccak preimage", pick("keccak", (r) => r.type === 2)],
      ["keccak preimage, inside", pick("keccak inside", (r) => r.type === 2 && r.offset > 8)],
      ["Merkle data, length prefix", pick("merkle prefix", (r) => r.type === 3 && r.offset < 8)],
      [
        "Merkle data, two leaves",
        pick(
          "merkle two leaves",
          (r) => r.type === 3 && r.offset > 8 && (r.offset - 8) % 32 !== 0 && r.offset + 24 < r.length + 8,
        ),
      ],
      [
        "Merkle data, last part",
        pick("merkle last", (r) => r.type === 3 && r.length > 64 && r.offset + 32 > r.length + 8),
      ],
      [
        "Merkle data, little-endian words (fd 7)",
        pick("fd 7", (r) => r.fd === Fd.preimageReadLe && r.offset > 8),
      ],
    ];
    const ctx = disputeContext(os[k - 1], claim, k);
    const judge = await startJudge();
    try {
      for (const [what, r] of chosen) {
        const proof = oneStepProof(run.witnessAt!(r.step), ctx);
        assertEquals(proof.preimage?.offset, r.offset, what);
        assertEquals(proof.oracle.length, 1, what);
        const fn = { 1: "loadLocalData", 2: "loadKeccak256PreimagePart", 3: "loadMerkleDataPart" }[r.type];
        assertEquals(proof.oracle[0].function, fn, what);
        const before = await judge.judge({ ...proof, oracle: [] });
        assert(
          !before.ok && before.error === "PartNotLoaded",
          `${what}: step ${r.step} before loading: ${JSON.stringify(before)}`,
        );
        const after = await judge.judge(proof);
        assert(after.ok, `${what}: ${JSON.stringify(after)}`);
        assertEquals(after.postStateHash, run.hashAt(r.step + 1), `${what}: the contract's post-state`);
        assertEquals(after.postStateHash, proof.postStateHash);
      }
      // a counterpart lying right after a read: the challenge lands there, the contract sides with us
      for (const [what, r] of [chosen[0], chosen[5]]) {
        const rand = rng(r.step);
        const fake = new Map<number, Hash>();
        const theirHash = (t: number): Hash => {
          if (t <= r.step) return run.hashAt(t);
          if (t >= run.end.step) return ("0x00" + run.end.hash.slice(4)) as Hash;
          if (!fake.has(t)) fake.set(t, randomHash(rand, 3));
          return fake.get(t)!;
        };
        const report = await challenge({
          arity: 4,
          ours: os,
          theirs: ts,
          phase2: () => ({
            initial: run.initial,
            ours: functionSource((t) => run.hashAt(t)),
            theirs: {
              ...functionSource(theirHash),
              final: () => ({ step: run.end.step, hash: theirHash(run.end.step) }),
            },
          }),
        });
        const o = report.outcome;
        assert(o.dispute, what);
        assertEquals([o.node.node, o.step], [k, r.step], `${what}: the disputed step`);
        const verdict = await judge.judge(oneStepProof(run.witnessAt!(o.step), ctx));
        assert(verdict.ok && verdict.postStateHash === o.oursPost && o.oursPost !== o.theirsPost, what);
      }
    } finally {
      await judge.stop();
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
