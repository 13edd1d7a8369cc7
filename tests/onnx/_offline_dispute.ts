/**
 * An offline dispute over a model directory where the other party lies in one node (`--tamper
 * node=K`): `opml roots` of both, `opml challenge` must end on node K, and MIPS.sol (on anvil)
 * must accept the step `opml prove --dispute` gives, with the honest post-state.
 * @module
 */
import { assert, assertEquals } from "../_assert.ts";
import { startJudge } from "../dispute/_chain.ts";
import { OPML_COMMAND, opmlOk } from "../_cli.ts";

/** The phase-1 roots file of `opml roots`. */
export interface RootsFile {
  nodes: number;
  states: string[];
}

/**
 * Runs the dispute in `tmp` and returns both parties' roots.
 *
 * @example
 * ```ts
 * const { honest } = await assertDisputeEndsAt(tmp, dir, ["-i", "x.bin"], 7);
 * ```
 */
export async function assertDisputeEndsAt(
  tmp: string,
  dir: string,
  inputArgs: string[],
  k: number,
): Promise<{ honest: RootsFile; liar: RootsFile }> {
  const json = async (...args: string[]) => JSON.parse((await opmlOk(...args, "--json")).stdout);
  const honestFile = `${tmp}/honest.json`, liarFile = `${tmp}/liar.json`;
  await opmlOk("roots", dir, ...inputArgs, "-o", honestFile);
  await opmlOk("roots", dir, ...inputArgs, "--tamper", `node=${k}`, "-o", liarFile);
  const h: RootsFile = JSON.parse(Deno.readTextFileSync(honestFile));
  const l: RootsFile = JSON.parse(Deno.readTextFileSync(liarFile));
  assert(h.states[h.nodes + 1] !== l.states[h.nodes + 1], "the lie reaches the result");
  assertEquals(h.states.slice(0, k), l.states.slice(0, k), "the states before the lie agree");
  const c = await json(
    "challenge",
    "--ours",
    honestFile,
    "--theirs",
    liarFile,
    "--theirs-cmd",
    `${OPML_COMMAND} roots ${dir} ${inputArgs.join(" ")} --tamper node=${k} --phase 2 --node {node} --serve`,
    "--session",
    `${tmp}/session.json`,
    "-o",
    `${tmp}/dispute.json`,
  );
  assertEquals(c.node, k, "the challenge ends on the lying node");
  const proof = await json("prove", "--dispute", `${tmp}/dispute.json`);
  assertEquals(proof.node, k);
  const judge = await startJudge();
  try {
    const verdict = await judge.judge(proof);
    assert(verdict.ok, `step reverted: ${JSON.stringify(verdict)}`);
    assertEquals(verdict.postStateHash, c.oursPost, "MIPS.step returns the honest post-state");
  } finally {
    await judge.stop();
  }
  return { honest: h, liar: l };
}
