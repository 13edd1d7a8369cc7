/**
 * Single-phase mode of the offline dispute (`opml roots --phase 2 --single-phase`, `opml
 * challenge --single-phase`, `opml prove --dispute`), the baseline of docs/MULTIPHASE.md: no node
 * bisection, the VM steps of the whole model's check (S_0 -> S_(N+1)) bisected. On mnist-mlp
 * with a dishonest party tampering a middle node (so the defender's check must flip its bit at
 * the third of five add_node calls): the dispute is about the whole range, a VM step where the
 * two checks diverge is found, and the proof's post-state is the honest one. A session of one
 * mode is refused by the other.
 *
 * Run: deno test -A tests/dispute/single_phase.test.ts
 */
import { assert, assertEquals } from "../_assert.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";
import { opml, OPML_COMMAND } from "../_cli.ts";

async function json(...args: string[]) {
  const r = await opml(...args, "--json");
  assertEquals(r.code, 0, `opml ${args.join(" ")}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

Deno.test("single-phase dispute on mnist-mlp: the whole model's check, tamper at a middle node", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "opml-single-phase-" });
  try {
    const dir = `${tmp}/mlp`;
    await json(
      "compile",
      `${MODELS}mnist-mlp/mnist-mlp.onnx`,
      "-o",
      dir,
      "--no-fidelity",
      "--shape",
      "batch=1",
    );
    // digit 25: a flip at node 3 reaches the result (tests/cli/dispute_cli.test.ts)
    const px = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(
      784 * 25,
      784 * 26,
    );
    const x = `${tmp}/x.bin`;
    Deno.writeFileSync(x, new Uint8Array(Float32Array.from(px, (v) => v / 255).buffer));
    const K = 3;
    await json("roots", dir, "-i", x, "-o", `${tmp}/h.json`);
    await json("roots", dir, "-i", x, "--tamper", `node=${K}`, "-o", `${tmp}/t.json`);
    const h = JSON.parse(Deno.readTextFileSync(`${tmp}/h.json`));
    const n: number = h.nodes;
    const theirsCmd =
      `${OPML_COMMAND} roots ${dir} -i ${x} --tamper node=${K} --phase 2 --single-phase --serve`;
    const c = await json(
      "challenge",
      "--ours",
      `${tmp}/h.json`,
      "--theirs",
      `${tmp}/t.json`,
      "--theirs-cmd",
      theirsCmd,
      "--single-phase",
      "--arity",
      "8",
      "-o",
      `${tmp}/d.json`,
    );
    assertEquals(c.dispute, true);
    assertEquals([c.from, c.node], [0, n + 1], "the whole model is disputed");
    assertEquals(c.pre, h.states[0], "from S_0");
    assertEquals(c.stats.rounds.phase1, 0, "no node bisection");
    assert(c.stats.rounds.phase2 > 0);
    const d = JSON.parse(Deno.readTextFileSync(`${tmp}/d.json`));
    assertEquals(d.from, 0);

    // their check: the honest one up to node K, so the steps before differ nowhere
    const at = await json(
      "roots",
      dir,
      "-i",
      x,
      "--tamper",
      `node=${K}`,
      "--phase",
      "2",
      "--single-phase",
      "--at",
      `${c.step},${c.step + 1}`,
    );
    assertEquals([at.node, at.from], [n + 1, 0]);
    assertEquals(at.states.map((s: { hash: string }) => s.hash), [c.preState, c.theirsPost]);

    const proof = await json("prove", "--dispute", `${tmp}/d.json`);
    assertEquals(proof.preStateHash, c.preState);
    assertEquals(proof.postStateHash, c.oursPost, "the proof's post-state is the honest one");
    assert(proof.postStateHash !== c.theirsPost);

    // a session is bound to its mode
    const multi = await opml(
      "challenge",
      "--ours",
      `${tmp}/h.json`,
      "--theirs",
      `${tmp}/t.json`,
      "--theirs-cmd",
      theirsCmd,
      "--arity",
      "8",
    );
    assertEquals(multi.code, 1, multi.stderr);
    assert(/another dispute \(mode single-phase, not undefined\)/.test(multi.stderr), multi.stderr);
    assertEquals(multi.stderr.trim().split("\n").length, 1, multi.stderr);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("--single-phase: usage errors", async () => {
  for (
    const [args, re] of [
      [["roots", "x", "--single-phase"], /need --phase 2/],
      [["roots", "x", "--phase", "2", "--single-phase", "--node", "2"], /no --node/],
    ] as [string[], RegExp][]
  ) {
    const r = await opml(...args);
    assertEquals(r.code, 2, r.stderr);
    assert(re.test(r.stderr), r.stderr);
  }
});
