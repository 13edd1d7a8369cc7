/**
 * `opml challenge` sessions and `opml prove --dispute` under edited files (issue 11), as a user
 * runs them with the task's permissions, on mnist-mlp with a dishonest defender at node 5: a
 * session is bound to the commitments it was made from and every recorded answer is re-checked
 * on resume, a finished session's outcome must follow from its moves, and prove checks the
 * dispute file against our own run. Each refusal is one line (exit 1) and leaves the session
 * file as it was.
 *
 * Run: deno test -A tests/cli/dispute_bad_input.test.ts
 */
import { assert, assertEquals } from "../_assert.ts";
import { SHARED_MODELS as MODELS } from "../../tasks/_data.ts";
import { assertOneLineError, opml, OPML_COMMAND, opmlOk } from "../_cli.ts";

const tmp = Deno.makeTempDirSync({ prefix: "opml-dispute-bad-" });
const dir = `${tmp}/mlp`;
const K = 5;

const readJson = (path: string) => JSON.parse(Deno.readTextFileSync(path));
const writeJson = (
  path: string,
  v: unknown,
) => (Deno.writeTextFileSync(path, JSON.stringify(v, null, 2)), path);

/** MNIST digit 0 as float32 [1, 784], pixels / 255 (the tamper at node 5 reaches the result). */
function digit0(): string {
  const px = Deno.readFileSync(`${MODELS}mnist-digits/images-1000x28x28-u8.bin`).subarray(0, 784);
  const path = `${tmp}/digit0.bin`;
  Deno.writeFileSync(path, new Uint8Array(Float32Array.from(px, (x) => x / 255).buffer));
  return path;
}

/** Both sides' commitments and a finished offline challenge: its session and dispute file. */
const setup = (async () => {
  await opmlOk(
    "compile",
    `${MODELS}mnist-mlp/mnist-mlp.onnx`,
    "-o",
    dir,
    "--shape",
    "batch=1",
    "--no-fidelity",
  );
  const x = digit0();
  const honest = `${tmp}/honest.json`, liar = `${tmp}/liar.json`;
  await opmlOk("roots", dir, "-i", x, "-o", honest);
  await opmlOk("roots", dir, "-i", x, "--tamper", `node=${K}`, "-o", liar);
  // a live counterpart first, to learn which of their steps the dissection asks for
  const live = `${tmp}/live.session.json`;
  const cmd = `${OPML_COMMAND} roots ${dir} -i ${x} --tamper node=${K} ` +
    `--phase 2 --node {node} --serve`;
  await opmlOk(
    "challenge",
    "--ours",
    honest,
    "--theirs",
    liar,
    "--theirs-cmd",
    cmd,
    "--arity",
    "2",
    "--session",
    live,
  );
  const steps = readJson(live).phase2.moves.flatMap((m: { points: number[] }) => m.points);
  // their file with exactly those steps: the offline challenge finishes in one run
  const theirP2 = `${tmp}/their-p2.json`;
  await opmlOk(
    "roots",
    dir,
    "-i",
    x,
    "--tamper",
    `node=${K}`,
    "--phase",
    "2",
    "--node",
    String(K),
    "--at",
    steps.join(","),
    "-o",
    theirP2,
  );
  const session = `${tmp}/offline.session.json`, dispute = `${tmp}/dispute.json`;
  const args = ["challenge", "--ours", honest, "--theirs", liar, "--theirs", theirP2, "--arity", "2"];
  const first = JSON.parse(
    (await opmlOk(...args, "--session", session, "-o", dispute, "--json")).stdout,
  );
  assertEquals(first.dispute, true);
  assertEquals(first.node, K);
  return { x, honest, liar, theirP2, session, dispute, args, live, cmd, first };
})();

/** Runs the challenge on an edited copy of the session; the copy must stay as it was. */
async function resumeEdited(
  // deno-lint-ignore no-explicit-any
  edit: (s: Record<string, any>) => void,
  re: RegExp,
  extra: { theirs?: string } = {},
) {
  const s = await setup;
  const doc = readJson(s.session);
  edit(doc);
  const path = writeJson(`${tmp}/edited-${crypto.randomUUID().slice(0, 8)}.session.json`, doc);
  const text = Deno.readTextFileSync(path);
  const args = extra.theirs ? s.args.map((a) => (a === s.liar ? extra.theirs! : a)) : s.args;
  assertOneLineError(await opml(...args, "--session", path), 1, re);
  assertEquals(Deno.readTextFileSync(path), text, "the session file is unchanged");
}

Deno.test("challenge: a finished session resumes only if it matches the files it was made from", async () => {
  const s = await setup;
  // untouched, it answers the same again
  const again = JSON.parse((await opmlOk(...s.args, "--session", s.session, "--json")).stdout);
  assertEquals(again.resumed, true);
  for (const k of ["node", "step", "preState", "oursPost", "theirsPost"]) {
    assertEquals(again[k], s.first[k], k);
  }
  // an edited answer of theirs in phase 2 (what made prove prove the wrong step)
  await resumeEdited(
    (d) => {
      const m = d.phase2.moves[0];
      m.theirs[0] = m.ours[0] === m.theirs[0] ? m.theirs[m.theirs.length - 1] : m.ours[0];
      if (
        m.theirs[0] === readJson(s.theirP2).states.find((e: { step: number }) => e.step === m.points[0]).hash
      ) {
        m.theirs[0] = "0x03" + "ab".repeat(31);
      }
    },
    /session file \S+: it records their state at step \d+ as 0x\w+, but their file has 0x\w+; use another --session file or delete it/,
  );
  // an edited outcome
  await resumeEdited(
    (d) => (d.outcome.step += 1),
    /session file \S+: its outcome does not follow from its recorded moves/,
  );
  // an edited answer of ours in phase 1
  await resumeEdited((d) => {
    const m = d.phase1.moves[0];
    m.ours[0] = m.ours[0] === m.theirs[0] ? "0x02" + "cd".repeat(31) : m.theirs[0];
  }, /session file \S+: move 1 records our S_\d+ as 0x02\w+, but our file has 0x02\w+/);
  // their phase-1 file changed at a state no move asked for
  const asked = new Set(readJson(s.session).phase1.moves.flatMap((m: { points: number[] }) => m.points));
  const liar = readJson(s.liar);
  const j = [...liar.states.keys()].find((i) => i > 0 && i <= liar.nodes && !asked.has(i))!;
  assert(j !== undefined, "a state no move asked for");
  liar.states[j] = "0x02" + "ef".repeat(31);
  await resumeEdited(
    () => {},
    /session file \S+: it was made from other phase-1 commitments of theirs \(their file changed since the session began\)/,
    { theirs: writeJson(`${tmp}/liar-edited.json`, liar) },
  );
  // a live counterpart's session: an edited answer no longer replays to its outcome
  const live = readJson(s.live);
  const m = live.phase2.moves[0];
  const i = m.ours.findIndex((h: string, k: number) => h === m.theirs[k]);
  m.theirs[i >= 0 ? i : 0] = i >= 0 ? "0x03" + "ab".repeat(31) : m.ours[0];
  const livePath = writeJson(`${tmp}/live-edited.session.json`, live);
  const text = Deno.readTextFileSync(livePath);
  assertOneLineError(
    await opml(
      "challenge",
      "--ours",
      s.honest,
      "--theirs",
      s.liar,
      "--theirs-cmd",
      s.cmd,
      "--arity",
      "2",
      "--session",
      livePath,
    ),
    1,
    /recorded move \d+ asks for|its outcome does not follow from its recorded moves/,
  );
  assertEquals(Deno.readTextFileSync(livePath), text);
});

Deno.test("prove --dispute: a dispute file that does not match our own run is refused", async () => {
  const s = await setup;
  const d = readJson(s.dispute);
  const proof = JSON.parse((await opmlOk("prove", "--dispute", s.dispute, "--json")).stdout);
  assertEquals([proof.step, proof.preStateHash, proof.postStateHash], [d.step, d.preState, d.oursPost]);
  // -o into a folder that does not exist: refused before any computation
  for (
    const args of [["prove", "--dispute", s.dispute], ["roots", dir, "-i", s.x], [
      ...s.args,
      "--session",
      `${tmp}/o.session.json`,
    ]]
  ) {
    assertOneLineError(
      await opml(...args, "-o", `${tmp}/nowhere/out.json`),
      1,
      /-o \S+\/nowhere\/out\.json: no such directory \S+\/nowhere$/,
    );
  }
  assertOneLineError(
    await opml(...s.args, "--session", `${tmp}/p.session.json`, "--prove", `${tmp}/nowhere/p.json`),
    1,
    /--prove \S+\/nowhere\/p\.json: no such directory \S+\/nowhere$/,
  );
  const edited = (name: string, edit: (x: typeof d) => void) => {
    const copy = structuredClone(d);
    edit(copy);
    return writeJson(`${tmp}/${name}.dispute.json`, copy);
  };
  assertOneLineError(
    await opml("prove", "--dispute", edited("ours", (x) => (x.ours = "0x02" + "12".repeat(31)))),
    1,
    new RegExp(`our S_${K} is 0x0212\\w+, but our recomputation gives 0x02\\w+`),
  );
  assertOneLineError(
    await opml("prove", "--dispute", edited("claim", (x) => (x.claim = x.ours))),
    1,
    new RegExp(`their S_${K} equals ours: nothing is disputed`),
  );
  assertOneLineError(
    await opml("prove", "--dispute", edited("step", (x) => (x.step += 1))),
    1,
    /the state at step \d+ is 0x03\w+, but our recomputation gives 0x03\w+/,
  );
});
